// Speculative decoding with an MTP module: the mean tokens per step, the cost
// of the drafts by hand on an ideal GPU, and the properties any speculation
// model must have (no effect without decoding, no gain without acceptance,
// less gain when the step is compute-bound).
#include <gtest/gtest.h>

#include "disagg/parallel/memory.h"
#include "disagg/perf/sharding.h"
#include "disagg/perf/step_model.h"
#include "disagg/testing/fixtures.h"

namespace disagg::perf {
namespace {

using testing::CatalogModel;
using testing::CatalogSystem;
using testing::IdealSystem;
using testing::MakeStep;
using testing::Preset;

// Llama-3.1-8B given one MTP module (a decoder layer like its last, dense):
// a model whose weights are easy to count by hand.
model::ModelSpec LlamaWithMtp() {
  auto m = CatalogModel("llama-3.1-8b");
  m.num_mtp_layers = 1;
  return m;
}

TEST(Speculation, TokensPerStepIsTheExpectedAcceptedPrefixPlusOne) {
  // 1 + a + a^2 + a^3 at a = 0.5: 1 + 0.5 + 0.25 + 0.125 = 1.875.
  EXPECT_DOUBLE_EQ((Speculation{3, 0.5}.TokensPerStep()), 1.875);
  // Depth 1 at the DeepSeek-V3 midpoint: 1 + 0.875.
  EXPECT_DOUBLE_EQ((Speculation{1, 0.875}.TokensPerStep()), 1.875);
  EXPECT_DOUBLE_EQ((Speculation{0, 0.9}.TokensPerStep()), 1.0);
  EXPECT_DOUBLE_EQ((Speculation{4, 1.0}.TokensPerStep()), 5.0);
}

TEST(Speculation, DraftCostIsTheMtpLayerMergeAndLmHeadStreamedPerPass) {
  // Ideal GPU (1 TB/s, 1 PFLOP/s bf16), one sequence: every pass is weight
  // bound. Per draft pass the MTP module streams, in bf16:
  //   its decoder layer: attention 4096 x 4096 (q) + 2 x 4096 x 1024 (k, v)
  //     + 4096 x 4096 (o) = 41,943,040 and FFN 3 x 4096 x 14,336 =
  //     176,160,768 parameters;
  //   the merge projection 2 x 4096 x 4096 = 33,554,432;
  //   the shared LM head 128,256 x 4,096 = 525,336,576;
  //   776,994,816 parameters x 2 B = 1,553,989,632 B -> 1.554 ms.
  // Verifying one drafted token beside the sequence's own reads the same
  // weights (2 rows instead of 1: 16 GFLOP more, 16 us at 1 PFLOP/s), so an
  // engine step is the plain step + 1.554 ms (+ ~1%), and a step per token
  // is that divided by 1 + a.
  const auto m = LlamaWithMtp();
  const StepModel plain = MakeStep(m, IdealSystem(), "bf16", Mapping{});
  const Speculation spec{1, 0.6};
  const StepModel mtp = MakeStep(m, IdealSystem(), "bf16", Mapping{}, spec);
  BatchShape b = plain.NewBatch();
  b.AddDecode(1, 100);
  const double draft = 776994816.0 * 2 / 1e12;
  const double engine_step = mtp.Evaluate(b).latency * 1.6;
  const double extra = engine_step - plain.Evaluate(b).latency;
  EXPECT_GT(extra, draft);
  EXPECT_LT(extra, draft * 1.03);
  EXPECT_DOUBLE_EQ(mtp.tokens_per_step(), 1.6);
}

TEST(Speculation, MtpWeightsAreOneDecoderLayerAndTheMergeProjection) {
  // (41,943,040 + 176,160,768 + 33,554,432) parameters x 2 B (bf16, tp1).
  const auto m = LlamaWithMtp();
  EXPECT_DOUBLE_EQ(MtpWeightBytesPerGpu(m, Preset("bf16"), Mapping{}), 503316480.0);
  EXPECT_DOUBLE_EQ(MtpWeightBytesPerGpu(CatalogModel("llama-3.1-8b"), Preset("bf16"), Mapping{}),
                   0.0);
  // FitMemory counts them with the weights.
  auto s = IdealSystem();
  auto without =
      parallel::FitMemory(m, s, Preset("bf16"), Mapping{}, hardware::Backend::kTrtllm, 64, 8);
  auto with = parallel::FitMemory(m, s, Preset("bf16"), Mapping{}, hardware::Backend::kTrtllm, 64,
                                  8, 503316480.0);
  EXPECT_DOUBLE_EQ(with.weights - without.weights, 503316480.0);
  EXPECT_LT(with.kv_budget, without.kv_budget);
}

TEST(Speculation, StepsWithoutDecodingAreUnchanged) {
  const auto m = CatalogModel("deepseek-r1");
  const auto s = CatalogSystem("b200_sxm");
  const Mapping map{8, 1, 1, 1, 8};
  const StepModel plain = MakeStep(m, s, "fp4", map);
  const StepModel mtp = MakeStep(m, s, "fp4", map, {3, kMtpAcceptance});
  BatchShape b = plain.NewBatch();
  b.AddPrefill(2, 4096, 0);
  EXPECT_DOUBLE_EQ(mtp.Evaluate(b).latency, plain.Evaluate(b).latency);
}

TEST(Speculation, NoAcceptanceNeverBeatsPlainDecoding) {
  // With nothing accepted a step still yields one token and pays for the
  // verification and the drafts.
  const auto m = CatalogModel("deepseek-r1");
  const auto s = CatalogSystem("b200_sxm");
  const Mapping map{8, 1, 1, 1, 8};
  const StepModel plain = MakeStep(m, s, "fp4", map);
  const StepModel mtp = MakeStep(m, s, "fp4", map, {3, 0.0});
  for (double batch : {1.0, 8.0, 64.0, 512.0}) {
    BatchShape b = plain.NewBatch();
    b.AddDecode(batch, 2000);
    EXPECT_GT(mtp.Evaluate(b).latency, plain.Evaluate(b).latency) << "batch " << batch;
  }
}

TEST(Speculation, GainShrinksAsTheStepTurnsComputeBound) {
  // A dense model streams its weights once per step whatever the rows, so at
  // small batches verifying drafts is nearly free; large batches pay for
  // every verified row. (Below ~64 sequences the fixed cost of the draft
  // passes still shrinks against the growing step, and a sparse MoE model
  // is not monotone there either: verified rows route to experts the batch
  // would not otherwise touch.)
  const auto m = LlamaWithMtp();
  const auto s = CatalogSystem("b200_sxm");
  const StepModel plain = MakeStep(m, s, "fp8", Mapping{});
  const StepModel mtp = MakeStep(m, s, "fp8", Mapping{}, {3, kMtpAcceptance});
  double previous = 0;
  for (double batch : {64.0, 512.0, 4096.0}) {
    BatchShape b = plain.NewBatch();
    b.AddDecode(batch, 1000);
    double ratio = mtp.Evaluate(b).latency / plain.Evaluate(b).latency;
    EXPECT_GT(ratio, previous) << "batch " << batch;
    previous = ratio;
  }
  BatchShape one = plain.NewBatch();
  one.AddDecode(1, 1000);
  EXPECT_LT(mtp.Evaluate(one).latency, plain.Evaluate(one).latency);  // a light batch gains
  // DeepSeek-R1 on 8 GPUs with attention DP: at a batch far past the point
  // where every expert is touched, speculation gains less than at 64.
  const auto r1 = CatalogModel("deepseek-r1");
  const Mapping dep{1, 1, 8, 1, 8};
  const StepModel r1_plain = MakeStep(r1, s, "fp4", dep);
  const StepModel r1_mtp = MakeStep(r1, s, "fp4", dep, {3, kMtpAcceptance});
  auto ratio = [&](double batch) {
    BatchShape b = r1_plain.NewBatch();
    b.AddDecode(batch, 2000);
    return r1_mtp.Evaluate(b).latency / r1_plain.Evaluate(b).latency;
  };
  EXPECT_LT(ratio(64), ratio(4096));
}

TEST(Speculation, CreateRejectsWhatCannotBeModelled) {
  const auto s = CatalogSystem("b200_sxm");
  auto create = [&](const model::ModelSpec& m, Mapping map, Speculation spec) {
    return StepModel::Create(m, s, Preset("fp8"), map, hardware::Backend::kTrtllm, spec);
  };
  auto llama = create(CatalogModel("llama-3.1-8b"), Mapping{}, {2, 0.8});
  ASSERT_FALSE(llama.has_value());
  EXPECT_NE(llama.error().message.find("multi-token-prediction"), std::string::npos);
  const auto r1 = CatalogModel("deepseek-r1");
  EXPECT_FALSE(create(r1, Mapping{8, 1, 1, 1, 8}, {kMaxSpeculationDepth + 1, 0.8}).has_value());
  EXPECT_FALSE(create(r1, Mapping{8, 1, 1, 1, 8}, {2, 1.5}).has_value());
  EXPECT_TRUE(create(r1, Mapping{8, 1, 1, 1, 8}, {2, 0.8}).has_value());
}

}  // namespace
}  // namespace disagg::perf
