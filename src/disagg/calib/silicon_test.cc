// The reader of the serving-measurement format (silicon_calibration.csv):
// usable rows become deployments, unusable ones are skipped with a counted
// reason and a detail naming the column and value (or, strict, an error
// naming the file and line), and a broken file is an error.
#include "disagg/calib/silicon.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "disagg/calib/validate.h"
#include "disagg/testing/silicon_csv.h"

namespace disagg::calib {
namespace {

using disagg::DType;

using testing::kSiliconHeader;

// One agg row: (id, backend, model, system, isl, batch, tp, source).
std::string Agg(const std::string& id, const std::string& backend, const std::string& model,
                const std::string& system, const std::string& tp,
                const std::string& source = "silicon_concurrency=8") {
  return id + "," + source + "," + backend + ",1.0," + model + "," + system +
         ",fp8,agg,1024,128,fp8,,8," + tp + ",1,1,1,1,,,,,,,,,,,,,,,52.5,9.75\n";
}

class SiliconReader : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    path_ = (std::filesystem::temp_directory_path() /
             ("silicon_test_" + std::to_string(::getpid()) + ".csv"))
                .string();
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(SiliconReader, UsableRowsAndCountedSkips) {
  const std::string llama = "meta-llama/Llama-3.1-8B-Instruct";
  std::string text = kSiliconHeader;
  text += Agg("good", "trtllm", llama, "h100_sxm", "1");               // line 2
  text += Agg("model", "trtllm", "acme/Unknown-7B", "h100_sxm", "1");  // line 3
  text += Agg("system", "trtllm", llama, "tpu_v5", "1");               // line 4
  text += Agg("number", "trtllm", llama, "h100_sxm", "abc");           // line 5
  text += Agg("mapping", "trtllm", llama, "h100_sxm", "3");            // line 6
  text += Agg("backend", "tgi", llama, "h100_sxm", "1");               // line 7
  // Neither silicon_concurrency= nor a batch_size to fall back on.       line 8
  text += "conc,no concurrency here,trtllm,1.0," + llama +
          ",h100_sxm,fp8,agg,1024,128,fp8,,,1,1,1,1,1,,,,,,,,,,,,,,,52.5,9.75\n";
  // A disaggregated row without worker counts: read, marked not fully described.
  text += "disagg,silicon_concurrency=16,sglang,1.0," + llama +
          ",h200_sxm,fp8,disagg,1024,128,fp8,,,,,,,,,,1,1,1,1,1,,,2,1,1,1,1,80.0,12.0\n";
  auto data = ReadSilicon(Write(text));
  ASSERT_TRUE(data.has_value()) << data.error().message;
  EXPECT_EQ(data->rows_read, 8);
  ASSERT_EQ(data->rows.size(), 2u);
  const SiliconRow& good = data->rows[0];
  EXPECT_EQ(good.model, "llama-3.1-8b");
  EXPECT_EQ(good.concurrency, 8);
  // Milliseconds in the file, seconds inside.
  EXPECT_DOUBLE_EQ(good.ttft, 0.0525);
  EXPECT_DOUBLE_EQ(good.tpot, 0.00975);
  EXPECT_TRUE(good.fully_described);
  const SiliconRow& dis = data->rows[1];
  EXPECT_TRUE(dis.disaggregated);
  EXPECT_FALSE(dis.fully_described);
  EXPECT_EQ(dis.decode.mapping.tp, 2);
  // One of each skip reason, each row with its line and what was wrong.
  EXPECT_EQ(data->skipped.at("unsupported model"), 1);
  EXPECT_EQ(data->skipped.at("unknown system"), 1);
  EXPECT_EQ(data->skipped.at("unparsable number"), 1);
  EXPECT_EQ(data->skipped.at("impossible mapping"), 1);
  EXPECT_EQ(data->skipped.at("unknown backend"), 1);
  EXPECT_EQ(data->skipped.at("missing value"), 1);
  ASSERT_EQ(data->skipped_rows.size(), 6u);
  EXPECT_EQ(data->skipped_rows[2].line, 5);
  EXPECT_NE(data->skipped_rows[2].detail.find("tp_size"), std::string::npos);
  EXPECT_NE(data->skipped_rows[2].detail.find("abc"), std::string::npos);
  EXPECT_NE(data->skipped_rows[3].detail.find("not divisible by tp 3"), std::string::npos);
}

// FP4 weights on a GPU without FP4 tensor cores (Hopper) run weight-only
// with BF16 math, the engines' w4a16 path for gpt-oss-120b's MXFP4 experts
// (TensorRT-LLM's MoE support matrix: BF16 activations on Hopper); on
// Blackwell they compute in FP4. Both keep FP4 weights, so the bytes a
// decode step streams do not change.
TEST_F(SiliconReader, Fp4OnHopperRunsWeightOnlyWithBf16Math) {
  const std::string oss = "openai/gpt-oss-120b";
  std::string text = kSiliconHeader;
  for (const char* system : {"h200_sxm", "b200_sxm"}) {
    text += fmt::format(
        "oss-{0},silicon_concurrency=4,vllm,0.18.0,{1},{0},fp4,agg,1024,1024,nvfp4,nvfp4,4,1,1,"
        "1,1,1,,,,,,,,,,,,,,,46.0,6.3\n",
        system, oss);
  }
  auto data = ReadSilicon(Write(text));
  ASSERT_TRUE(data.has_value()) << data.error().message;
  ASSERT_EQ(data->rows.size(), 2u)
      << (data->skipped_rows.empty() ? "" : data->skipped_rows[0].detail);
  for (const SiliconRow& r : data->rows) {
    const bool hopper = r.system == "h200_sxm";
    for (const perf::QuantMode& q : {r.precision.gemm, r.precision.moe}) {
      EXPECT_EQ(q.weight, DType::kNvfp4) << r.system;
      EXPECT_EQ(q.compute, hopper ? DType::kBf16 : DType::kNvfp4) << r.system;
    }
  }
}

// What the file does not record, read the stated way: the KV-cache format
// of quantised runs, and wide TP on NVL72 for MoE models as attention DP.
TEST_F(SiliconReader, UnrecordedDeploymentDetails) {
  const std::string llama = "meta-llama/Llama-3.1-8B-Instruct";
  const std::string r1 = "deepseek-ai/DeepSeek-R1";
  std::string text = kSiliconHeader;
  text += Agg("vllm-fp8", "vllm", llama, "h100_sxm", "1");
  // The same on bf16 weights (precision, gemm_quant_mode columns).
  text += "vllm-bf16,silicon_concurrency=8,vllm,1.0," + llama +
          ",h100_sxm,bf16,agg,1024,128,bf16,,8,1,1,1,1,1,,,,,,,,,,,,,,,52.5,9.75\n";
  // DeepSeek-R1 on gb200 at tp 32, batch 64, no attention DP stated.
  text += "r1-wide,silicon_concurrency=64,trtllm,1.0," + r1 +
          ",gb200,fp4,agg,1024,128,nvfp4,nvfp4,64,32,1,1,32,1,,,,,,,,,,,,,,,300,9.0\n";
  // The same model at tp 8 on an 8-GPU system: read as stated.
  text += "r1-tp8,silicon_concurrency=64,trtllm,1.0," + r1 +
          ",b200_sxm,fp4,agg,1024,128,nvfp4,nvfp4,64,8,1,1,8,1,,,,,,,,,,,,,,,300,9.0\n";
  auto data = ReadSilicon(Write(text));
  ASSERT_TRUE(data.has_value()) << data.error().message;
  ASSERT_EQ(data->rows.size(), 4u)
      << (data->skipped_rows.empty() ? "" : data->skipped_rows[0].detail);
  // fp8 weights: an fp8 cache on vLLM too; bf16 weights: a bf16 cache.
  EXPECT_EQ(data->rows[0].precision.kv, DType::kFp8);
  EXPECT_EQ(data->rows[1].precision.kv, DType::kBf16);
  const SiliconRow& wide = data->rows[2];
  EXPECT_TRUE(wide.dep_assumed);
  EXPECT_EQ(wide.agg.mapping.tp, 1);
  EXPECT_EQ(wide.agg.mapping.dp, 32);
  EXPECT_EQ(wide.agg.mapping.moe_ep, 32);
  EXPECT_EQ(wide.agg.mapping.moe_tp, 1);
  EXPECT_EQ(wide.agg.batch, 2);  // 64 sequences over 32 attention ranks
  EXPECT_FALSE(Headline(wide));
  EXPECT_EQ(GroupValue(wide, "mode"), "dep-assumed");
  const SiliconRow& tp8 = data->rows[3];
  EXPECT_FALSE(tp8.dep_assumed);
  EXPECT_EQ(tp8.agg.mapping.tp, 8);
  EXPECT_EQ(tp8.agg.mapping.dp, 1);
  EXPECT_TRUE(Headline(tp8));
}

// Runs a public sweep definition pins to MTP speculative decoding by their
// image (TensorRT-LLM 1.2.0rc6.post3 for DeepSeek-R1) carry that speculation:
// depth 3, or 1 with attention DP (the sweep's scripts), the catalog's
// acceptance; they form their own group, out of headline errors and fits. The
// same model on the plain image, and another model on that version, do not.
TEST_F(SiliconReader, SpeculativeDecodingRunsCarryTheirSpeculation) {
  const std::string r1 = "deepseek-ai/DeepSeek-R1";
  // (id, version, model, tp, attention dp)
  auto row = [&](const std::string& id, const std::string& version, const std::string& model,
                 const std::string& tp, const std::string& dp) {
    return id + ",silicon_concurrency=4,trtllm," + version + "," + model +
           ",b200_sxm,fp4,agg,1024,1024,nvfp4,nvfp4,4," + tp + ",1," + dp +
           ",1,8,,,,,,,,,,,,,,,195,3.6\n";
  };
  std::string text = kSiliconHeader;
  text += row("mtp", "1.2.0rc6.post3", r1, "8", "1");
  text += row("mtp-dep", "1.2.0rc6.post3", r1, "1", "8");
  text += row("plain", "1.2.0rc6.post2", r1, "8", "1");
  text += row("other", "1.2.0rc6.post3", "openai/gpt-oss-120b", "8", "1");
  auto data = ReadSilicon(Write(text));
  ASSERT_TRUE(data.has_value()) << data.error().message;
  ASSERT_EQ(data->rows.size(), 4u)
      << (data->skipped_rows.empty() ? "" : data->skipped_rows[0].detail);
  const auto& mtp = data->rows[0];
  EXPECT_EQ(mtp.speculation.depth, 3);
  EXPECT_DOUBLE_EQ(mtp.speculation.acceptance, perf::kMtpAcceptance);
  EXPECT_EQ(GroupValue(mtp, "mode"), "mtp-assumed");
  EXPECT_FALSE(Headline(mtp));
  EXPECT_EQ(data->rows[1].speculation.depth, 1);  // attention DP: MTP=1
  for (int i : {2, 3}) {
    EXPECT_EQ(data->rows[i].speculation.depth, 0) << data->rows[i].id;
    EXPECT_TRUE(Headline(data->rows[i])) << data->rows[i].id;
  }
}

TEST_F(SiliconReader, LaunchSettingsComeFromTheSweepScripts) {
  // (id, source, backend, model, system, precision, concurrency, tp, dp)
  auto row = [](const std::string& id, const std::string& source, const std::string& backend,
                const std::string& model, const std::string& system, const std::string& precision,
                int conc, int tp, int dp) {
    const std::string q = precision == "fp4" ? "nvfp4" : precision;
    return fmt::format(
        "{},{}; "
        "silicon_concurrency={},{},,{},{},{},agg,1024,1024,{},{},{},{},1,{},1,{},,,,,,,,,,,,,,"
        ",195,3.6\n",
        id, source, conc, backend, model, system, precision, q, q, conc / dp, tp, dp, tp * dp);
  };
  const std::string ix = "source_file=2026-04-06.csv",
                    aic = "source_file=/x/aic-auto-gap-analysis/a.csv";
  const std::string r1 = "deepseek-ai/DeepSeek-R1", oss = "openai/gpt-oss-120b";
  std::string text = kSiliconHeader;
  text += row("sg-c64", ix, "sglang", r1, "b200_sxm", "fp8", 64, 8, 1);
  text += row("sg-c4", ix, "sglang", r1, "b200_sxm", "fp8", 4, 8, 1);
  text += row("sg-tp4", ix, "sglang", r1, "b200_sxm", "fp8", 64, 4, 1);
  text += row("sg-h200", ix, "sglang", r1, "h200_sxm", "fp8", 64, 8, 1);
  text += row("sg-aic", aic, "sglang", r1, "b200_sxm", "fp8", 64, 8, 1);
  std::string sg051 = row("sg-aic-051", aic, "sglang", r1, "b200_sxm", "fp8", 64, 8, 1);
  sg051.replace(sg051.find(",sglang,,"), 9, ",sglang,0.5.1.post1,");
  text += sg051;
  text += row("trt-r1-dp", ix, "trtllm", r1, "b200_sxm", "fp4", 64, 1, 8);
  text += row("trt-oss-dp", ix, "trtllm", oss, "b200_sxm", "fp4", 64, 1, 4);
  text += row("trt-oss-h200", ix, "trtllm", oss, "h200_sxm", "fp4", 64, 1, 4);
  text += row("trt-r1-tp", ix, "trtllm", r1, "b200_sxm", "fp4", 64, 8, 1);
  text += row("wide", ix, "trtllm", r1, "b200_sxm", "fp4", 64, 1, 16);
  const std::string llama = "meta-llama/Llama-3.1-70B";
  text += row("trt-llama-tp2", ix, "trtllm", llama, "b200_sxm", "fp8", 4, 2, 1);
  text += row("trt-llama-tp8", ix, "trtllm", llama, "b200_sxm", "fp8", 4, 8, 1);
  text += row("trt-r1-fp8-c64", ix, "trtllm", r1, "b200_sxm", "fp8", 64, 8, 1);
  text += row("trt-r1-fp8-c32", ix, "trtllm", r1, "b200_sxm", "fp8", 32, 8, 1);
  text += row("trt-llama-aic", aic, "trtllm", llama, "b200_sxm", "fp8", 4, 2, 1);
  std::string rc3 = row("trt-aic-rc3", aic, "trtllm", llama, "h100_sxm", "fp8", 4, 2, 1);
  rc3.replace(rc3.find(",trtllm,,"), 9, ",trtllm,1.0.0rc3,");
  text += rc3;
  const std::string minimax = "MiniMaxAI/MiniMax-M2.5", kimi = "moonshotai/Kimi-K2.5";
  text += row("vllm-minimax", ix, "vllm", minimax, "b200_sxm", "fp8", 64, 4, 1);
  text += row("vllm-minimax-h200", ix, "vllm", minimax, "h200_sxm", "fp8", 64, 4, 1);
  text += row("vllm-kimi-fp4", ix, "vllm", kimi, "b200_sxm", "fp4", 64, 8, 1);
  text += row("vllm-minimax-aic", aic, "vllm", minimax, "b200_sxm", "fp8", 64, 4, 1);
  auto data = ReadSilicon(Write(text));
  ASSERT_TRUE(data.has_value()) << data.error().message;
  ASSERT_EQ(data->rows.size(), 21u)
      << (data->skipped_rows.empty() ? "" : data->skipped_rows[0].detail);
  std::map<std::string, const SiliconRow*> by;
  for (const auto& r : data->rows) by[r.id] = &r;
  // SGLang --scheduler-recv-interval: 30 from concurrency 16, else 10; 10 for
  // DeepSeek-R1 fp8 at TP4; not set on H200 or by the other harness.
  EXPECT_EQ(by["sg-c64"]->recv_interval, 30);
  EXPECT_EQ(by["sg-c4"]->recv_interval, 10);
  EXPECT_EQ(by["sg-tp4"]->recv_interval, 10);
  EXPECT_EQ(by["sg-h200"]->recv_interval, 1);
  EXPECT_EQ(by["sg-aic"]->recv_interval, 1);
  // SGLang --mem-fraction-static from the same scripts: DeepSeek-R1 fp8 0.82
  // at TP8 and 0.95 at TP4; the engine's default rule (0) elsewhere.
  EXPECT_EQ(by["sg-c64"]->mem_fraction, 0.82);
  EXPECT_EQ(by["sg-c4"]->mem_fraction, 0.82);
  EXPECT_EQ(by["sg-tp4"]->mem_fraction, 0.95);
  EXPECT_EQ(by["sg-h200"]->mem_fraction, 0);
  EXPECT_EQ(by["sg-aic"]->mem_fraction, 0);
  EXPECT_EQ(by["trt-r1-tp"]->mem_fraction, 0);
  // TensorRT-LLM attention_dp_config, with attention DP only.
  EXPECT_EQ(by["trt-r1-dp"]->adp_balance.timeout_iters, 60);
  EXPECT_EQ(by["trt-r1-dp"]->adp_balance.batching_wait_iters, 0);
  EXPECT_EQ(by["trt-oss-dp"]->adp_balance.timeout_iters, 50);
  EXPECT_EQ(by["trt-oss-dp"]->adp_balance.batching_wait_iters, 10);
  EXPECT_FALSE(by["trt-oss-h200"]->adp_balance.on());
  EXPECT_FALSE(by["trt-r1-tp"]->adp_balance.on());
  // TensorRT-LLM batch waiting at 1k/1k: Llama-3.1-70B below TP8, 20
  // iterations, 0.9 x max_num_tokens = 0.9 x (1024 + 1024) = 1843.2;
  // DeepSeek-R1 fp8 on b200 from concurrency 64, 40 iterations, 0.8 x
  // max(8192, 64 + 1024 + 64) = 6553.6. Never under attention DP, on other
  // precisions or by the other harness.
  EXPECT_EQ(by["trt-llama-tp2"]->batch_wait.timeout_iters, 20);
  EXPECT_DOUBLE_EQ(by["trt-llama-tp2"]->batch_wait.threshold_tokens, 1843.2);
  EXPECT_FALSE(by["trt-llama-tp8"]->batch_wait.on());
  EXPECT_EQ(by["trt-r1-fp8-c64"]->batch_wait.timeout_iters, 40);
  EXPECT_DOUBLE_EQ(by["trt-r1-fp8-c64"]->batch_wait.threshold_tokens, 6553.6);
  EXPECT_FALSE(by["trt-r1-fp8-c32"]->batch_wait.on());
  EXPECT_FALSE(by["trt-r1-tp"]->batch_wait.on());  // fp4
  EXPECT_FALSE(by["trt-r1-dp"]->batch_wait.on());
  EXPECT_FALSE(by["trt-llama-aic"]->batch_wait.on());
  // The InferenceX client spreads lengths over [0.8 L, L]; the other
  // harness does not.
  EXPECT_DOUBLE_EQ(by["sg-c64"]->length_ratio, 0.8);
  EXPECT_DOUBLE_EQ(by["sg-aic"]->length_ratio, 1.0);
  // ... and the harness each row is grouped by (validate --by harness).
  EXPECT_EQ(by["sg-c64"]->harness, "inferencex");
  EXPECT_EQ(by["sg-aic"]->harness, "aiconfigurator");
  EXPECT_EQ(GroupValue(*by["trt-llama-aic"], "harness"), "aiconfigurator");
  // The aiconfigurator generator's co-located budget: ISL + 1500 = 2524
  // prompt tokens per step, and SGLang with mixed chunks; the InferenceX rows
  // keep the replay's defaults (0: 8192 tokens; -1: the backend's own).
  EXPECT_EQ(by["sg-aic"]->chunk, 2524);
  EXPECT_EQ(by["sg-aic"]->prefill_first, 0);
  // The generator's SGLang 0.5.1.post1 template reads the mixed-chunk switch
  // under a key the rules never set: those runs were prefill first.
  EXPECT_EQ(by["sg-aic-051"]->chunk, 2524);
  EXPECT_EQ(by["sg-aic-051"]->prefill_first, 1);
  EXPECT_EQ(by["trt-llama-aic"]->chunk, 2524);
  EXPECT_EQ(by["trt-llama-aic"]->prefill_first, -1);
  // The generator's TensorRT-LLM 1.0.0rc3 template turns chunked prefill
  // off; no other template or script is known to.
  EXPECT_TRUE(by["trt-aic-rc3"]->whole_prompts);
  EXPECT_EQ(by["trt-aic-rc3"]->chunk, 2524);
  EXPECT_FALSE(by["trt-llama-aic"]->whole_prompts);
  EXPECT_FALSE(by["sg-aic"]->whole_prompts);
  EXPECT_FALSE(by["trt-llama-tp2"]->whole_prompts);
  EXPECT_EQ(by["sg-c64"]->chunk, 0);
  EXPECT_EQ(by["sg-c64"]->prefill_first, -1);
  EXPECT_EQ(by["trt-llama-tp2"]->chunk, 0);
  // InferenceX vLLM on b200, MiniMax-M2.5 and Kimi-K2.5 fp4:
  // --max-num-batched-tokens 2 x ISL = 2048; not on h200; the aiconfigurator
  // budget wins for that harness's rows.
  EXPECT_EQ(by["vllm-minimax"]->chunk, 2048);
  EXPECT_EQ(by["vllm-kimi-fp4"]->chunk, 2048);
  EXPECT_EQ(by["vllm-minimax-h200"]->chunk, 0);
  EXPECT_EQ(by["vllm-minimax-aic"]->chunk, 2524);
  // 16 GPUs in one co-located instance on an 8-GPU NVLink domain: suspect.
  EXPECT_TRUE(by["wide"]->beyond_nvlink_domain);
  EXPECT_FALSE(Headline(*by["wide"]));
  EXPECT_FALSE(by["wide"]->adp_balance.on());
  EXPECT_TRUE(Headline(*by["trt-r1-dp"]));
}

TEST_F(SiliconReader, StrictStopsAtTheFirstUnusableRow) {
  std::string text = kSiliconHeader;
  text += Agg("good", "trtllm", "meta-llama/Llama-3.1-8B-Instruct", "h100_sxm", "1");
  text += Agg("model", "trtllm", "acme/Unknown-7B", "h100_sxm", "1");
  SiliconOptions o;
  o.strict = true;
  auto data = ReadSilicon(Write(text), o);
  ASSERT_FALSE(data.has_value());
  EXPECT_NE(data.error().message.find(path_ + ":3"), std::string::npos) << data.error().message;
  EXPECT_NE(data.error().message.find("unsupported model"), std::string::npos);
}

TEST_F(SiliconReader, BrokenFilesAreErrors) {
  auto missing = ReadSilicon("/nonexistent/silicon.csv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/silicon.csv"), std::string::npos);
  auto no_column = ReadSilicon(Write("id,backend\nx,trtllm\n"));
  ASSERT_FALSE(no_column.has_value());
  EXPECT_NE(no_column.error().message.find("missing column"), std::string::npos);
  auto empty = ReadSilicon(Write(""));
  ASSERT_FALSE(empty.has_value());
}

}  // namespace
}  // namespace disagg::calib
