// End-to-end tests of the `disagg` binary: exit status, stdout and stderr.
//
// Every bad input must exit with status 2, explain itself on stderr (naming
// the flag, file or value) and print nothing on stdout.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "disagg/hardware/system_spec.h"
#include "disagg/model/hf_config.h"
#include "disagg/testing/cli_runner.h"

namespace disagg::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using testing::CliTest;
using testing::Contains;
using testing::RunResult;

// ---- Bad spec files ----

TEST_F(CliTest, MalformedModelJson) {
  // Line 2 `  "hidden_size": @`: '@' at column 2 + 13 + 2 + 1 = 18.
  std::string path = Write("broken.json", "{\n  \"hidden_size\": @\n}\n");
  RunResult r =
      Run({"estimate", "--model", path, "--system", "h100_sxm", "--isl", "100", "--osl", "10"});
  ExpectUsageError(r, {path + ":2:18:", "malformed JSON"});
}

TEST_F(CliTest, UnknownKeyInSystemJson) {
  Json j = H100();
  j["gpu"]["peak_tflops"]["fp9"] = 1;
  std::string path = Write("sys.json", j.dump(2));
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", path, "--isl", "100",
                     "--osl", "10", "--tp", "8"});
  ExpectUsageError(r, {path, "gpu.peak_tflops.fp9", "unknown key"});
}

TEST_F(CliTest, MissingRequiredFieldInSystemJson) {
  Json j = H100();
  j.erase("nvlink_domain");
  std::string path = Write("sys.json", j.dump(2));
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", path, "--isl", "100",
                     "--osl", "10", "--tp", "8"});
  ExpectUsageError(r, {path, "nvlink_domain", "missing"});
}

TEST_F(CliTest, NegativeBandwidthInSystemJson) {
  Json j = H100();
  j["gpu"]["hbm_tb_per_s"] = -3.35;
  std::string path = Write("sys.json", j.dump(2));
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", path, "--isl", "100",
                     "--osl", "10", "--tp", "8"});
  ExpectUsageError(r, {path, "gpu.hbm_tb_per_s", "-3.35"});
}

TEST_F(CliTest, MissingRequiredFieldInModelJson) {
  Json j = Llama70B();
  j.erase("hidden_size");
  std::string path = Write("model.json", j.dump(2));
  RunResult r = Run({"estimate", "--model", path, "--system", "h100_sxm", "--isl", "100", "--osl",
                     "10", "--tp", "8"});
  ExpectUsageError(r, {path, "hidden_size", "missing"});
}

TEST_F(CliTest, UnsupportedModelType) {
  Json j = Llama70B();
  j["model_type"] = "mamba2";
  std::string path = Write("model.json", j.dump(2));
  RunResult r = Run({"estimate", "--model", path, "--system", "h100_sxm", "--isl", "100", "--osl",
                     "10", "--tp", "8"});
  ExpectUsageError(r, {path, "mamba2", "not supported"});
}

TEST_F(CliTest, NonexistentModelFile) {
  std::string path = (dir_ / "nowhere" / "config.json").string();
  RunResult r =
      Run({"estimate", "--model", path, "--system", "h100_sxm", "--isl", "100", "--osl", "10"});
  ExpectUsageError(r, {"--model", path});
}

TEST_F(CliTest, UnknownModelName) {
  RunResult r = Run(
      {"estimate", "--model", "llama-9-1t", "--system", "h100_sxm", "--isl", "100", "--osl", "10"});
  ExpectUsageError(r, {"--model", "llama-9-1t"});
}

TEST_F(CliTest, UnknownSystemName) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h999_sxm", "--isl", "100",
                     "--osl", "10"});
  ExpectUsageError(r, {"--system", "h999_sxm"});
}

// ---- Bad flags ----

TEST_F(CliTest, ImpossibleMapping) {
  // Llama-3.1-70B has 64 attention heads; 64 / 3 is not whole.
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "3"});
  ExpectUsageError(r, {"tp 3", "64"});
}

TEST_F(CliTest, TensorParallelismBeyondTheNvlinkDomain) {
  // h100_sxm has 8 GPUs per NVLink domain: TP 16 runs (measured deployments
  // use it), over the scale-out network, with a warning.
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "16"});
  EXPECT_EQ(r.status, 0) << r;
  EXPECT_TRUE(Contains(r.err, "spans NVLink domains")) << r;
  // TP 3 does not divide the 64 heads.
  ExpectUsageError(Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl",
                        "100", "--osl", "10", "--tp", "3"}),
                   {"--tp 3", "64 attention heads"});
}

TEST_F(CliTest, ZeroTensorParallelism) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "0"});
  ExpectUsageError(r, {"--tp", "0"});
}

TEST_F(CliTest, HugeDegreesDoNotOverflow) {
  // 8 x 268,435,456 = 2^31 GPUs would overflow an int.
  RunResult r = Run({"estimate", "--model", "deepseek-v3", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "8", "--dp-attn", "268435456"});
  ExpectUsageError(r, {"--dp-attn 268435456"});
  r = Run({"estimate", "--model", "deepseek-v3", "--system", "h100_sxm", "--isl", "100", "--osl",
           "10", "--tp", "8", "--ep", "99999999999"});
  ExpectUsageError(r, {"--ep", "99999999999"});
}

TEST_F(CliTest, ZeroIsl) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "0",
                     "--osl", "10", "--tp", "8"});
  ExpectUsageError(r, {"--isl", "0"});
}

TEST_F(CliTest, NegativeOsl) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "-5", "--tp", "8"});
  ExpectUsageError(r, {"--osl", "-5"});
}

TEST_F(CliTest, NonNumericIsl) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "abc",
                     "--osl", "10", "--tp", "8"});
  ExpectUsageError(r, {"--isl", "abc"});
}

TEST_F(CliTest, UnknownPhase) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "8", "--phase", "sideways"});
  ExpectUsageError(r, {"--phase", "sideways"});
}

TEST_F(CliTest, BatchTooLargeForMemory) {
  // Llama-3.1-70B caches 80 layers x 2 x 8 KV heads x 128 = 163,840 elements
  // per token, 1 byte each in fp8: 163,840 B/token over 8 GPUs. One sequence
  // of 1000 + 100 tokens holds 180,224,000 B; 100,000 of them 1.8e13 B, far
  // more than 8 x 79.65 GiB = 6.8e11 B of HBM.
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl",
                     "1000", "--osl", "100", "--tp", "8", "--batch", "100000"});
  ExpectUsageError(r, {"--batch", "100000"});
}

TEST_F(CliTest, Fp4OnHopper) {
  // H100 has no FP4 tensor cores (data/hardware/h100_sxm.json: bf16 and fp8);
  // the message says how to run FP4 weights weight-only.
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "8", "--precision", "fp4"});
  ExpectUsageError(r, {"--precision", "fp4", "h100_sxm", "fp4_wo"});
}

// gpt-oss-120b's MXFP4 experts on H100, the way the engines run them there:
// FP4 weights, BF16 math (fp4_wo).
TEST_F(CliTest, Fp4WeightOnlyOnHopper) {
  auto run = [&](const char* moe) {
    RunResult r = Run({"estimate", "--model", "gpt-oss-120b", "--system", "h100_sxm", "--isl",
                       "8192", "--osl", "1024", "--precision", "bf16", "--moe-quant", moe,
                       "--phase", "prefill", "--json"});
    EXPECT_EQ(r.status, 0) << r;
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  };
  Json fp4 = run("fp4_wo"), int4 = run("int4_wo");
  ASSERT_TRUE(fp4.contains("memory_bytes") && int4.contains("memory_bytes"));
  // Weights on one GPU (gpt-oss-120b config.json: 36 layers, hidden 2880,
  // 128 experts of width 2880, 64 query and 8 KV heads of 64, vocabulary
  // 201,088, untied embeddings):
  //   experts 36 x 128 x 3 x 2880 x 2880 = 114,661,785,600 params x 0.53125 B
  //     (the checkpoint's MXFP4: 4 bits + one 8-bit scale per 32)
  //                                                      = 60,914,073,600 B
  //   attention 36 x (2880 x (4096 + 2 x 512) + 4096 x 2880) x 2 B
  //                                                      =  1,911,029,760 B
  //   routers 36 x 128 x 2880 x 2 B                      =     26,542,080 B
  //   embedding and LM head 2 x 201,088 x 2880 x 2 B     =  2,316,533,760 B
  //   total                                              = 65,168,179,200 B
  EXPECT_NEAR(fp4["memory_bytes"]["weights"].get<double>(), 65168179200.0, 1.0);
  // An 8,192-token prefill is compute-bound in the experts: FP4 and INT4
  // weights expanded to BF16 cost the same math, whatever their bytes.
  EXPECT_NEAR(fp4["breakdown_s"]["moe"].get<double>(), int4["breakdown_s"]["moe"].get<double>(),
              1e-9);
}

// DeepSeek-R1 on 48 and 64 attention-DP ranks with EP 48 and 64: 256 experts
// make 6 and 4 slots per GPU (the EP-48 layout holds 32 replicas). Everything
// else on a GPU is the same, so the weights differ by two experts per MoE
// layer: 2 x 58 x 44,040,192 parameters x 1 byte (fp8) = 5,108,662,272 B.
TEST_F(CliTest, WideExpertParallelismWithReplicaSlots) {
  auto weights = [&](const char* ranks) {
    RunResult r = Run({"estimate", "--model", "deepseek-r1", "--system", "gb200", "--precision",
                       "fp8", "--dp-attn", ranks, "--ep", ranks, "--isl", "1024", "--osl", "1024",
                       "--batch", ranks, "--json"});
    EXPECT_EQ(r.status, 0) << r;
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j.is_discarded() ? 0.0 : j["memory_bytes"]["weights"].get<double>();
  };
  EXPECT_NEAR(weights("48") - weights("64"), 5108662272.0, 1.0);
  // More expert ranks than experts is still an error naming the flag.
  RunResult r = Run({"estimate", "--model", "mixtral-8x7b", "--system", "gb200", "--dp-attn", "16",
                     "--ep", "16", "--isl", "100", "--osl", "10"});
  ExpectUsageError(r, {"ep 16", "8 experts"});
}

TEST_F(CliTest, ExpertParallelismOnADenseModel) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "8", "--ep", "8"});
  ExpectUsageError(r, {"--ep", "llama-3.1-70b", "dense"});
}

TEST_F(CliTest, UnknownPrecisionAndBackend) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100",
                     "--osl", "10", "--tp", "8", "--precision", "fp9"});
  ExpectUsageError(r, {"--precision", "fp9"});
  r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100", "--osl",
           "10", "--tp", "8", "--backend", "tgi"});
  ExpectUsageError(r, {"--backend", "tgi"});
}

TEST_F(CliTest, SpeculativeDecodingFlags) {
  auto run = [&](std::initializer_list<std::string> extra, const char* model = "deepseek-r1") {
    std::vector<std::string> args = {"estimate", "--model",     model,   "--system", "b200_sxm",
                                     "--isl",    "1024",        "--osl", "1024",     "--tp",
                                     "8",        "--precision", "fp4"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunArgs(args);
  };
  // A model without an MTP module, a depth out of range, an acceptance that
  // is not a probability: exit 2, the flag and value named.
  ExpectUsageError(run({"--mtp", "2"}, "llama-3.1-70b"),
                   {"--mtp 2", "llama-3.1-70b", "multi-token-prediction"});
  ExpectUsageError(run({"--mtp", "9"}), {"--mtp", "9"});
  ExpectUsageError(run({"--mtp", "-1"}), {"--mtp", "-1"});
  ExpectUsageError(run({"--mtp", "3", "--mtp-acceptance", "1.5"}), {"--mtp-acceptance", "1.5"});
  // Working: per-token decode time falls, and the JSON says what was assumed.
  RunResult plain = run({"--batch", "4", "--json"});
  RunResult mtp = run({"--batch", "4", "--json", "--mtp", "1", "--mtp-acceptance", "0.5"});
  ASSERT_EQ(plain.status, 0) << plain;
  ASSERT_EQ(mtp.status, 0) << mtp;
  Json p = Json::parse(plain.out), m = Json::parse(mtp.out);
  EXPECT_EQ(m["mtp"]["depth"], 1);
  EXPECT_DOUBLE_EQ(m["mtp"]["tokens_per_step"].get<double>(), 1.5);  // 1 + 0.5
  EXPECT_LT(m["ttl_s"].get<double>(), p["ttl_s"].get<double>());
  // The MTP module's weights are loaded.
  EXPECT_GT(m["memory_bytes"]["weights"].get<double>(), p["memory_bytes"]["weights"].get<double>());
}

TEST_F(CliTest, MissingRequiredFlagAndUnknownFlag) {
  RunResult r =
      Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--osl", "10"});
  ExpectUsageError(r, {"--isl"});
  r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl", "100", "--osl",
           "10", "--colour", "red"});
  ExpectUsageError(r, {"--colour"});
}

TEST_F(CliTest, MissingOrUnknownSubcommand) {
  ExpectUsageError(Run({}), {"subcommand"});
  ExpectUsageError(Run({"frobnicate"}), {"frobnicate", "estimate"});
  ExpectUsageError(Run({"estimate", "extra", "--model", "llama-3.1-70b", "--system", "h100_sxm",
                        "--isl", "100", "--osl", "10"}),
                   {"extra"});
}

// ---- Working commands ----

TEST_F(CliTest, Help) {
  RunResult r = Run({"--help"});
  EXPECT_EQ(r.status, 0) << r;
  EXPECT_TRUE(Contains(r.out, "estimate")) << r;
  EXPECT_TRUE(Contains(r.out, "models")) << r;
  EXPECT_TRUE(Contains(r.out, "systems")) << r;
  r = Run({"estimate", "--help"});
  EXPECT_EQ(r.status, 0) << r;
  EXPECT_TRUE(Contains(r.out, "--isl")) << r;
}

TEST_F(CliTest, EstimateDecodeJson) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl",
                     "1000", "--osl", "100", "--tp", "8", "--batch", "16", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  EXPECT_EQ(r.err, "");
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  for (const char* key : {"ttl_s", "tokens_per_s_per_gpu", "memory_bytes", "breakdown_s"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_FALSE(j.contains("ftl_s"));
  double ttl = j["ttl_s"].get<double>();
  ASSERT_GT(ttl, 0);
  // Decode throughput = B / (TTL x GPUs) = 16 / (TTL x 8).
  EXPECT_NEAR(j["tokens_per_s_per_gpu"].get<double>(), 16 / (ttl * 8), 1e-9 * 16 / (ttl * 8));
  EXPECT_NEAR(j["tokens_per_s_per_user"].get<double>(), 1 / ttl, 1e-9 / ttl);
  // One decode step is the TTL; the breakdown covers the whole step.
  double sum = 0;
  for (const auto& [part, seconds] : j["breakdown_s"].items()) {
    EXPECT_GE(seconds.get<double>(), 0) << part;
    sum += seconds.get<double>();
  }
  EXPECT_NEAR(sum, ttl, 1e-9 * ttl);
  // h100_sxm: 79.65 GiB = 85,523,536,281.6 bytes of HBM per GPU.
  EXPECT_NEAR(j["memory_bytes"]["hbm"].get<double>(), 85523536281.6, 1.0);
  EXPECT_EQ(j["mapping"]["gpus"], 8);
  EXPECT_EQ(j["phase"], "decode");
}

TEST_F(CliTest, EstimatePrefillJson) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl",
                     "1000", "--osl", "100", "--tp", "8", "--phase", "prefill", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  EXPECT_EQ(r.err, "");
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  for (const char* key : {"ftl_s", "tokens_per_s_per_gpu", "memory_bytes", "breakdown_s"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_FALSE(j.contains("ttl_s"));
  EXPECT_GT(j["ftl_s"].get<double>(), 0);
  // Output tokens per prefilled request: OSL = 100.
  EXPECT_NEAR(j["tokens_per_s_per_gpu"].get<double>(),
              j["requests_per_s_per_gpu"].get<double>() * 100,
              1e-9 * j["tokens_per_s_per_gpu"].get<double>());
  // A request's KV cache: 1000 tokens x 163,840 B/token (fp8, whole model).
  EXPECT_NEAR(j["kv_bytes_per_request"].get<double>(), 1000 * 163840.0, 1.0);
}

TEST_F(CliTest, EstimateText) {
  RunResult r = Run({"estimate", "--model", "llama-3.1-70b", "--system", "h100_sxm", "--isl",
                     "1000", "--osl", "100", "--tp", "8"});
  ASSERT_EQ(r.status, 0) << r;
  EXPECT_TRUE(Contains(r.out, "TTL")) << r;
  EXPECT_TRUE(Contains(r.out, "llama-3.1-70b")) << r;
}

TEST_F(CliTest, ModelsJsonListsTheCatalog) {
  RunResult r = Run({"models", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  EXPECT_EQ(r.err, "");
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_array()) << r.out;
  std::vector<std::string> names;
  for (const auto& m : j) names.push_back(m["name"].get<std::string>());
  EXPECT_EQ(names, model::CatalogModelNames());
  bool found = false;
  for (const auto& m : j) {
    if (m["name"] == "llama-3.1-70b") {
      found = true;
      // meta-llama/Llama-3.1-70B config.json: 80 layers, hidden 8192.
      EXPECT_EQ(m["layers"], 80);
      EXPECT_EQ(m["hidden_size"], 8192);
      EXPECT_EQ(m["model_type"], "llama");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(CliTest, SystemsJsonListsTheCatalog) {
  RunResult r = Run({"systems", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  EXPECT_EQ(r.err, "");
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_array()) << r.out;
  std::vector<std::string> names;
  for (const auto& s : j) names.push_back(s["name"].get<std::string>());
  EXPECT_EQ(names, hardware::CatalogSystemNames());
  bool found = false;
  for (const auto& s : j) {
    if (s["name"] == "h100_sxm") {
      found = true;
      // Dense BF16 989.4 TFLOPS, 450 GB/s NVLink per direction, no FP4.
      EXPECT_DOUBLE_EQ(s["peak_flops"]["bf16"].get<double>(), 989.4e12);
      EXPECT_DOUBLE_EQ(s["peak_flops"]["fp4"].get<double>(), 0);
      EXPECT_DOUBLE_EQ(s["nvlink_bytes_per_s"].get<double>(), 450e9);
      EXPECT_EQ(s["nvlink_domain"], 8);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(CliTest, CatalogTables) {
  RunResult r = Run({"models"});
  EXPECT_EQ(r.status, 0) << r;
  EXPECT_TRUE(Contains(r.out, "deepseek-v3")) << r;
  r = Run({"systems"});
  EXPECT_EQ(r.status, 0) << r;
  EXPECT_TRUE(Contains(r.out, "gb200")) << r;
}

}  // namespace
}  // namespace disagg::cli
