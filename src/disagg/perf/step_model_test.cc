#include "disagg/perf/step_model.h"

#include <gtest/gtest.h>

#include "disagg/parallel/mapping_check.h"
#include "disagg/perf/pipeline.h"
#include "disagg/perf/sharding.h"
#include "disagg/testing/fixtures.h"

namespace disagg::perf {
namespace {

using testing::CatalogModel;
using testing::CatalogSystem;
using testing::IdealSystem;
using testing::MakeStep;
using testing::Preset;

TEST(StepModel, SmallBatchDecodeIsWeightBandwidthBound) {
  auto m = CatalogModel("llama-3.1-70b");
  StepModel step = MakeStep(m, IdealSystem(), "bf16", Mapping{});
  BatchShape b = step.NewBatch();
  b.AddDecode(1, 100);
  // Every weight except the input embedding is streamed once per step:
  // 70,552,387,584 - 128,256 x 8192 (1,050,673,152) = 69,501,714,432
  // parameters x 2 bytes = 139.0 GB at 1 TB/s = 139.0 ms. KV (101 tokens x
  // 327,680 B = 33 MB), activations and norms add well under 1%.
  double expected = 69501714432.0 * 2 / 1e12;
  double t = step.Evaluate(b).latency;
  EXPECT_GT(t, expected);
  EXPECT_LT(t, expected * 1.01);
}

TEST(StepModel, LargePrefillIsComputeBound) {
  auto m = CatalogModel("llama-3.1-70b");
  StepModel step = MakeStep(m, IdealSystem(), "bf16", Mapping{});
  BatchShape b = step.NewBatch();
  b.AddPrefill(1, 8192, 0);
  // Linear layers: 2 FLOP per parameter per token over the 69.45e9 layer
  // parameters (80 x 855,638,016 = 68,451,041,280): 2 x 68.45e9 x 8192 =
  // 1.1215e15 FLOP -> 1.1215 s at 1 PFLOP/s. Causal attention:
  // 4 x (8192 x 8193 / 2) pairs x 128 x 64 heads x 80 layers = 8.80e13 FLOP
  // -> 88.0 ms. LM head for one logit row is memory bound: 2.1 GB -> 2.1 ms.
  // Elementwise kernels (norms, residuals, RoPE): 5 read+write passes of
  // 8192 x 8192 bf16 per layer = 80 x 10 x 8192^2 x 2 B = 107.4 GB -> 107.4 ms
  // (large here because this ideal GPU has 1000 FLOP per byte; an H100 has 295).
  // Sum 1.319 s.
  double linear = 2.0 * 68451041280.0 * 8192 / 1e15;
  double attention = 4.0 * (8192.0 * 8193 / 2) * 128 * 64 * 80 / 1e15;
  double lm_head = 128256.0 * 8192 * 2 / 1e12;
  double elementwise = 80.0 * 10 * 8192 * 8192 * 2 / 1e12;
  double expected = linear + attention + lm_head + elementwise;
  double t = step.Evaluate(b).latency;
  EXPECT_GT(t, expected * 0.999);
  EXPECT_LT(t, expected * 1.01);
}

TEST(StepModel, TensorParallelAddsTwoAllReducesPerLayer) {
  auto m = CatalogModel("llama-3.1-8b");
  auto sys = IdealSystem();
  StepModel tp1 = MakeStep(m, sys, "bf16", Mapping{1, 1, 1, 1, 1});
  StepModel tp4 = MakeStep(m, sys, "bf16", Mapping{4, 1, 1, 1, 1});
  BatchShape b = tp4.NewBatch();
  b.AddDecode(16, 1000);
  // Communication at tp4: 2 all-reduces per layer x 32 layers of 16 tokens x
  // 4096 x 2 bytes = 131,072 B: a ring takes 2 x 3/4 x 131,072 / 1e11 +
  // 2 x 3 x 1 us = 7.97 us, the one-shot kernel 3 x 131,072 / 1e11 + 1 us =
  // 4.93 us, which wins; x 64 = 315.6 us.
  double per = 3.0 * 131072 / 100e9 + 1e-6;
  EXPECT_NEAR(tp4.Evaluate(b).breakdown.comm, 64 * per, 1e-9);
  EXPECT_EQ(tp1.Evaluate(b).breakdown.comm, 0);
}

TEST(StepModel, LongerContextNeverSpeedsADecodeStep) {
  for (const char* name :
       {"llama-3.1-70b", "deepseek-r1", "gpt-oss-120b", "qwen3.5-397b-a17b", "glm-5"}) {
    auto m = CatalogModel(name);
    auto sys = CatalogSystem("h200_sxm");
    Mapping map{8, 1, 1, 1, 1};
    if (m.is_moe()) map.moe_ep = 8;
    StepModel step = MakeStep(m, sys, "fp8", map);
    for (double batch : {1.0, 32.0, 256.0}) {
      double previous = 0;
      for (double ctx = 0; ctx <= 131072; ctx = ctx * 2 + 64) {
        BatchShape b = step.NewBatch();
        b.AddDecode(batch, ctx);
        double t = step.Evaluate(b).latency;
        EXPECT_GE(t, previous) << name << " batch " << batch << " context " << ctx;
        previous = t;
      }
    }
  }
}

TEST(StepModel, LargerBatchNeverLowersStepTime) {
  for (const char* name : {"llama-3.1-8b", "mixtral-8x7b", "deepseek-v3", "qwen3-235b-a22b"}) {
    auto m = CatalogModel(name);
    auto sys = CatalogSystem("b200_sxm");
    for (Mapping map : {Mapping{1, 1, 1, 1, 1}, Mapping{4, 1, 1, 1, 4}, Mapping{1, 1, 8, 1, 8},
                        Mapping{2, 2, 1, 2, 1}}) {
      if (!parallel::CheckMapping(m, sys, map).ok()) continue;
      StepModel step = MakeStep(m, sys, "fp8", map);
      double prev_decode = 0, prev_prefill = 0;
      for (double batch = 1; batch <= 1024; batch *= 2) {
        BatchShape d = step.NewBatch();
        d.AddDecode(batch, 2048);
        BatchShape p = step.NewBatch();
        p.AddPrefill(batch, 512, 0);
        double td = step.Evaluate(d).latency, tp = step.Evaluate(p).latency;
        EXPECT_GE(td, prev_decode) << name << " " << map.Label() << " batch " << batch;
        EXPECT_GE(tp, prev_prefill) << name << " " << map.Label() << " batch " << batch;
        prev_decode = td;
        prev_prefill = tp;
      }
    }
  }
}

TEST(StepModel, HostOverheadIsPerStepPlusPerSequenceOfTheBusiestRank) {
  auto m = CatalogModel("llama-3.1-8b");
  hardware::SystemSpec sys = IdealSystem();
  Mapping map;
  map.tp = 1;
  StepModel bare = MakeStep(m, sys, "bf16", map);
  // TensorRT-LLM: 400 us per step plus 20 us per running sequence.
  sys.calibration.step_overhead[static_cast<int>(hardware::Backend::kTrtllm)] = 400e-6;
  sys.calibration.seq_overhead[static_cast<int>(hardware::Backend::kTrtllm)] = 20e-6;
  StepModel host = MakeStep(m, sys, "bf16", map);
  BatchShape b = bare.NewBatch();
  b.AddDecode(60, 1000);
  b.AddPrefill(4, 512, 0);
  // 64 sequences in the step: 400 + 64 x 20 = 1,680 us on top of the GPU time.
  EXPECT_NEAR(host.Evaluate(b).latency - bare.Evaluate(b).latency, 1680e-6, 1e-9);
  EXPECT_NEAR(host.StepOverhead(b), 1680e-6, 1e-12);
}

// A block-scaled FP8 checkpoint's FP8 GEMMs each pay the backend's block
// overhead: Llama-3.1-8B has four per layer (QKV, O, gate+up, down; the LM
// head stays bf16), so 32 layers x 4 x 10 us = 1.28 ms per step.
TEST(StepModel, BlockScaledFp8CheckpointPaysPerGemm) {
  auto m = CatalogModel("llama-3.1-8b");
  hardware::SystemSpec sys = IdealSystem();
  sys.calibration.block_fp8_overhead[static_cast<int>(hardware::Backend::kTrtllm)] = 10e-6;
  StepModel tensor = MakeStep(m, sys, "fp8", Mapping{});
  m.fp8_block_checkpoint = true;
  StepModel block = MakeStep(m, sys, "fp8", Mapping{});
  BatchShape b = tensor.NewBatch();
  b.AddDecode(16, 2000);
  EXPECT_NEAR(block.Evaluate(b).latency - tensor.Evaluate(b).latency, 32 * 4 * 10e-6, 1e-9);
  // bf16 runs of the same checkpoint have no FP8 GEMMs to scale.
  EXPECT_NEAR(MakeStep(m, sys, "bf16", Mapping{}).Evaluate(b).latency,
              MakeStep(CatalogModel("llama-3.1-8b"), sys, "bf16", Mapping{}).Evaluate(b).latency,
              1e-12);
}

// Under attention DP the expert group processes the tokens the ranks actually
// hold: one 8,192-token prompt on 8 ranks is one rank's worth of expert work,
// eight prompts (one per rank) eight times as much. Both batches have the same
// busiest rank, so only the expert layers tell them apart.
TEST(StepModel, AttentionDpExpertLoadIsTheWholeBatchNotRanksTimesTheBusiest) {
  auto m = CatalogModel("deepseek-v3");
  Mapping map;
  map.tp = 1;
  map.dp = 8;
  map.moe_ep = 8;
  hardware::SystemSpec b200 = CatalogSystem("b200_sxm");
  b200.calibration.moe_imbalance = 1.0;  // no persistent skew, as the arithmetic below assumes
  StepModel step = MakeStep(m, b200, "fp8", map);
  BatchShape one = step.NewBatch(), eight = step.NewBatch();
  one.AddPrefill(1, 8192, 0);
  eight.AddPrefill(8, 8192, 0);
  const double moe1 = step.Evaluate(one).breakdown.moe;
  const double moe8 = step.Evaluate(eight).breakdown.moe;
  // One prompt: 8,192 x 8 routed rows over 8 ranks, 8,192 on the busiest plus
  // the random excess sqrt(2 ln 8 x 8192) = 184, over its 32 local experts:
  // 262 rows each, padded to three 128-row tiles (384). Eight prompts: 65,536
  // + sqrt(2 ln 8 x 65536) = 522 rows, 2,064 per expert, 17 tiles (2,176).
  // Compute-bound, so the ratio is about 2176 / 384 = 5.7, not the 1 of a
  // model that charged ranks x the busiest rank's share.
  EXPECT_GT(moe8, 5.0 * moe1);
  EXPECT_LT(moe8, 8.0 * moe1);
  // The attention of the busiest rank is the same.
  EXPECT_DOUBLE_EQ(step.Evaluate(one).breakdown.attention,
                   step.Evaluate(eight).breakdown.attention);
}

TEST(StepModel, RandomRoutingExcessIsTheExpectedMaximumOfTheRankLoads) {
  // DeepSeek-R1 in bf16 on the ideal GPU (1 PFLOP/s, 1 TB/s), tp8 ep8 (32
  // local experts per GPU), no persistent skew. A 131,072-token prompt routes
  // 131,072 x 8 / 8 = 131,072 rows to each rank on average; random routing
  // adds the expected maximum excess of 8 near-Poisson loads,
  // sqrt(2 ln 8 x 131,072) = 738.3 rows, so the busiest rank's experts get
  // (131,072 + 738.3) / 32 = 4,119.1 rows each, padded to 16-row tiles:
  // 4,128 against 4,096 when routing is balanced (single-kernel benchmarks).
  // Both expert GEMMs are compute-bound there (down projection: 3.88 ms of
  // math against 3.37 ms of traffic), so the expert time scales by
  // 4,128 / 4,096.
  auto m = CatalogModel("deepseek-r1");
  const Mapping map{8, 1, 1, 1, 8};
  auto random = IdealSystem();
  auto balanced = IdealSystem();
  balanced.calibration.standalone_kernels = true;
  StepModel r = MakeStep(m, random, "bf16", map), b = MakeStep(m, balanced, "bf16", map);
  BatchShape prompt = r.NewBatch();
  prompt.AddPrefill(1, 131072, 0);
  EXPECT_NEAR(r.Evaluate(prompt).breakdown.moe / b.Evaluate(prompt).breakdown.moe, 4128.0 / 4096.0,
              1e-9);
}

TEST(StepModel, SlidingWindowCapsAttentionWork) {
  auto m = CatalogModel("gpt-oss-120b");
  StepModel step = MakeStep(m, IdealSystem(), "bf16", Mapping{});
  // Half the layers slide over 128 tokens: going from 64K to 128K context
  // adds attention work only in the 18 full layers.
  BatchShape a = step.NewBatch(), b = step.NewBatch();
  a.AddDecode(64, 65536);
  b.AddDecode(64, 131072);
  double ta = step.Evaluate(a).breakdown.attention, tb = step.Evaluate(b).breakdown.attention;
  // Decode attention reads (ctx + 1) x 8 heads x 64 x 2 x 2 B per layer per
  // sequence: the full layers double, the sliding layers stay at 128 keys.
  double full_a = 18 * 64 * 65537.0 * 2048, full_b = 18 * 64 * 131073.0 * 2048;
  double slide = 18 * 64 * 128.0 * 2048;
  EXPECT_NEAR(tb / ta, (full_b + slide) / (full_a + slide), 1e-3);
}

TEST(Sharding, MoreTensorParallelismNeverRaisesWeightBytesPerGpu) {
  for (const char* name : {"llama-3.1-405b", "qwen3-32b", "deepseek-r1", "mixtral-8x7b"}) {
    auto m = CatalogModel(name);
    auto sys = CatalogSystem("gb200");
    double previous = 1e300;
    for (int tp = 1; tp <= 64; tp *= 2) {
      Mapping map{tp, 1, 1, 1, 1};
      if (m.is_moe()) map.moe_ep = tp;
      if (!parallel::CheckMapping(m, sys, map).ok()) continue;
      double w = MaxWeightBytesPerGpu(m, Preset("fp8"), map);
      EXPECT_LE(w, previous) << name << " tp " << tp;
      previous = w;
    }
  }
}

TEST(Sharding, ExpertParallelismDividesExpertMemory) {
  auto m = CatalogModel("deepseek-r1");
  auto p = Preset("fp8");
  // Routed experts of one MoE layer: 256 x 44,040,192 parameters x 1 byte.
  double ep1 = WeightBytesPerGpu(m, p, Mapping{1, 1, 8, 8, 1}, 0).experts;
  double ep8 = WeightBytesPerGpu(m, p, Mapping{1, 1, 8, 1, 8}, 0).experts;
  double routed = 58 * 256 * 44040192.0;
  double rest = 58 * (44040192.0 + 2 * 7168.0 * 256);  // shared expert (fp8) + bf16 router
  EXPECT_NEAR(ep1, routed / 8 + rest, 1);              // moe_tp 8 slices every expert
  EXPECT_NEAR(ep8, routed / 8 + rest, 1);              // ep 8 holds 32 whole experts per GPU
  double ep64 = WeightBytesPerGpu(m, p, Mapping{1, 1, 64, 1, 64}, 0).experts;
  EXPECT_NEAR(ep64, routed / 64 + rest, 1);
}

TEST(Sharding, AnExpertParallelismThatDoesNotDivideTheExpertsHoldsWholeSlots) {
  auto m = CatalogModel("deepseek-r1");
  auto p = Preset("fp8");
  // 256 experts on EP 48: ceil(256 / 48) = 6 slots per GPU (288 slots, 32 of
  // them replicas); on EP 72: ceil(3.56) = 4 (288 slots). Each slot is one
  // whole expert, 44,040,192 parameters x 1 byte, in each of 58 MoE layers.
  double rest = 58 * (44040192.0 + 2 * 7168.0 * 256);  // shared expert + bf16 router
  double ep48 = WeightBytesPerGpu(m, p, Mapping{1, 1, 48, 1, 48}, 0).experts;
  double ep72 = WeightBytesPerGpu(m, p, Mapping{1, 1, 72, 1, 72}, 0).experts;
  EXPECT_NEAR(ep48, 58 * 6 * 44040192.0 + rest, 1);
  EXPECT_NEAR(ep72, 58 * 4 * 44040192.0 + rest, 1);
  EXPECT_EQ(ExpertSlotsPerRank(256, Mapping{1, 1, 8, 1, 8}), 32);  // divides: no replicas
  EXPECT_EQ(ExpertSlotsPerRank(256, Mapping{1, 1, 48, 1, 48}), 6);
}

TEST(Pipeline, UnchunkedPrefillMatchesOneStep) {
  auto m = CatalogModel("llama-3.1-70b");
  auto sys = CatalogSystem("h100_sxm");
  StepModel step = MakeStep(m, sys, "fp8", Mapping{2, 4, 1, 1, 1});
  BatchShape b = step.NewBatch();
  b.AddPrefill(2, 4096, 0);
  auto timing = PipelinedPrefill(step, 2, 4096, 0);
  EXPECT_NEAR(timing.latency, step.Evaluate(b).latency, 1e-9);
  EXPECT_EQ(timing.chunks, 1);
}

TEST(Pipeline, ChunkedPrefillWithoutPipelineIsSequential) {
  auto m = CatalogModel("llama-3.1-8b");
  StepModel step = MakeStep(m, CatalogSystem("h100_sxm"), "fp8", Mapping{});
  double sum = 0;
  for (int j = 0; j < 4; ++j) {
    BatchShape b = step.NewBatch();
    b.AddPrefill(1, 1024, 1024.0 * j, j == 3);
    sum += step.Evaluate(b).latency;
  }
  EXPECT_NEAR(PipelinedPrefill(step, 1, 4096, 1024).latency, sum, 1e-9);
}

TEST(Pipeline, EqualStagesFollowThePipelineFormula) {
  // With context-free stage costs the recurrence reduces to
  // (chunks + stages - 1) x stage time. Attention grows with context, so use
  // a model whose attention is negligible against its weights at short
  // chunks: stage times then differ by < 1% and so must the formula.
  auto m = CatalogModel("llama-3.1-70b");
  StepModel step = MakeStep(m, IdealSystem(), "bf16", Mapping{1, 4, 1, 1, 1});
  auto t = PipelinedPrefill(step, 1, 64, 8);  // 8 chunks of 8 tokens
  BatchShape one = step.NewBatch();
  one.AddPrefill(1, 8, 0, false);
  std::vector<double> stages(4);
  step.StageTimes(one, stages);
  double stage = stages[1];  // a middle stage (no LM head)
  EXPECT_NEAR(t.latency / ((8 + 4 - 1) * stage), 1.0, 0.05);
}

TEST(Pipeline, ChunkedPipelineCutsLongPromptLatency) {
  auto m = CatalogModel("deepseek-r1");
  auto sys = CatalogSystem("gb200");
  auto p = Preset("fp4");
  auto make = [&](int pp) { return MakeStep(m, sys, "fp4", Mapping{1, pp, 8, 1, 8}); };
  (void)p;
  StepModel pp1 = make(1), pp8 = make(8);
  auto a = PipelinedPrefill(pp1, 1, 65536, 0);
  auto b = PipelinedPrefill(pp8, 1, 65536, 8192);
  EXPECT_LT(b.latency, a.latency / 3);
  // Throughput per GPU (requests per busy second per GPU) stays comparable.
  double tput_a = 1 / (a.busy * pp1.mapping().gpus());
  double tput_b = 1 / (b.busy * pp8.mapping().gpus());
  EXPECT_GT(tput_b / tput_a, 0.7);
}

}  // namespace
}  // namespace disagg::perf
