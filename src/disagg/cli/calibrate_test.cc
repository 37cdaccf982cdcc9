// End-to-end tests of `disagg calibrate`: exit status, stdout, stderr and the
// written system JSON. Bad input exits with status 2, explains itself on
// stderr and leaves no output file behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "disagg/hardware/system_spec.h"
#include "disagg/testing/cli_runner.h"

namespace disagg::cli {
namespace {

namespace fs = std::filesystem;
using testing::Json;

// A few H100 kernel rows of public_measurements.csv (one of them on a GPU
// without kernel tables, one with a non-numeric value).
constexpr const char* kRows =
    "category,source,model,hardware,precision,parallelism,isl,osl,concurrency_or_rate,metric,"
    "value,notes\n"
    "KERNEL-GEMM,[S17] a,GEMM m=1 n=8192 k=8192,H100-SXM-80GB,bfloat16 (TRT-LLM torch_flow "
    "GEMM),1 GPU,-,-,m=1,latency (us),49.18,\n"
    "KERNEL-GEMM,[S17] a,GEMM m=512 n=8192 k=8192,H100-SXM-80GB,bfloat16 (TRT-LLM torch_flow "
    "GEMM),1 GPU,-,-,m=512,latency (us),89.77,\n"
    "KERNEL-GEMM,[S17] a,GEMM m=8192 n=8192 k=8192,H100-SXM-80GB,bfloat16 (TRT-LLM torch_flow "
    "GEMM),1 GPU,-,-,m=8192,latency (us),1404.78,\n"
    "KERNEL-GEMM,[S17] a,GEMM m=1 n=4096 k=4096,H100-SXM-80GB,bfloat16 (TRT-LLM torch_flow "
    "GEMM),1 GPU,-,-,m=1,latency (us),16.56,\n"
    "KERNEL-GEMM,[S17] a,GEMM m=2048 n=4096 k=4096,H100-SXM-80GB,bfloat16 (TRT-LLM torch_flow "
    "GEMM),1 GPU,-,-,m=2048,latency (us),87.96,\n"
    "KERNEL-COMM,[S44] b,TRT-LLM AllReduce (custom/auto strategy) 8192 bf16 elements,"
    "H100-SXM-80GB,bf16,2 GPUs,-,-,x,latency (us),2.85,\n"
    "KERNEL-COMM,[S44] b,TRT-LLM AllReduce (custom/auto strategy) 4194304 bf16 elements,"
    "H100-SXM-80GB,bf16,8 GPUs,-,-,x,latency (us),79.43,\n"
    "KERNEL-COMM,[S44] b,TRT-LLM AllReduce (custom/auto strategy) 33554432 bf16 elements,"
    "H100-SXM-80GB,bf16,4 GPUs,-,-,x,latency (us),329.23,\n"
    "KERNEL-HBM,[S13] c,STREAM (GPU),H100-SXM-80GB,-,1 GPU,-,-,-,HBM bandwidth TB/s "
    "Copy/Mul/Add/Triad/Dot,2.9/2.9/2.97/2.97/3.18,\n"
    "KERNEL-GEMM,[S12] d,GEMM m x n x k = 1024x1024x1024,A100-SXM4-80GB,FP16 (cuBLASLt),1 GPU,"
    "-,-,-,TFLOPS,119.4,\n"
    "KERNEL,[S49] e,routing top-k,B200,-,-,-,-,-,kernel time (us),252 -> 15,\n";

using testing::RunResult;

// `disagg calibrate` runs with the kernel rows above in the test's folder.
class CalibrateTest : public testing::CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    rows_ = Write("kernels.csv", kRows);
  }

  RunResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), "calibrate");
    return RunArgs(args);
  }

  std::string rows_;
};

TEST_F(CalibrateTest, FitsAndWritesTheSystemJson) {
  std::string out = (dir_ / "h100_fitted.json").string();
  RunResult r = Run({"--kernels", rows_, "--system", "h100_sxm", "-o", out});
  ASSERT_EQ(r.status, 0) << r;
  for (const char* part : {"h100_sxm", "GEMM bf16", "all-reduce TRT-LLM", "HBM STREAM",
                           "gemm_eff_bf16", "kernel_launch_us", "comm_bw_eff", "fitted", "STREAM",
                           "A100-SXM4-80GB", "not one number", "wrote"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r;
  }
  auto system = hardware::LoadSystem(out);
  ASSERT_TRUE(system.has_value()) << system.error().message;
  const auto& c = system->calibration;
  EXPECT_NEAR(c.mem_eff, 0.8866, 1e-4);  // 2.97 / 3.35, from the STREAM row
  EXPECT_NE(c.sources.at("gemm_eff_bf16").find("disagg calibrate --kernels kernels.csv"),
            std::string::npos);
  EXPECT_NE(c.sources.at("comm_bw_eff").find("[S44]"), std::string::npos);
  // Parameters without rows keep their catalog values and sources.
  auto catalog = hardware::LoadSystem("h100_sxm");
  ASSERT_TRUE(catalog.has_value());
  EXPECT_EQ(c.attn_decode_eff, catalog->calibration.attn_decode_eff);
  EXPECT_EQ(c.sources.at("attn_decode_eff"), catalog->calibration.sources.at("attn_decode_eff"));
  EXPECT_EQ(c.kv_cache_fraction, catalog->calibration.kv_cache_fraction);
  for (int i = 0; i < hardware::kNumBackends; ++i) {
    EXPECT_NEAR(c.step_overhead[i], catalog->calibration.step_overhead[i], 1e-12);
  }
  EXPECT_EQ(system->gpu.hbm_bw, catalog->gpu.hbm_bw);
}

TEST_F(CalibrateTest, JsonOutputIsDeterministic) {
  RunResult a = Run({"--kernels", rows_, "--json"});
  RunResult b = Run({"--kernels", rows_, "--json"});
  ASSERT_EQ(a.status, 0) << a;
  EXPECT_EQ(a.out, b.out);
  Json j = Json::parse(a.out);
  ASSERT_EQ(j["systems"].size(), 1u);
  EXPECT_EQ(j["systems"][0]["system"], "h100_sxm");
  EXPECT_EQ(j["kernel_rows"], 9);
  EXPECT_EQ(j["rows_read"], 11);
  bool saw_gemm = false;
  for (const auto& f : j["systems"][0]["families"]) {
    if (f["family"] == "GEMM bf16") {
      saw_gemm = true;
      EXPECT_EQ(f["rows"], 5);
      EXPECT_TRUE(f["fitted"].get<bool>());
      EXPECT_LT(f["after"]["median_factor"].get<double>(), 1.5);
    }
  }
  EXPECT_TRUE(saw_gemm);
}

TEST_F(CalibrateTest, BadInputExitsWithTwoAndWritesNothing) {
  std::string out = (dir_ / "out.json").string();
  ExpectUsageError(Run({"--system", "h100_sxm"}), {"--kernels"});
  ExpectUsageError(Run({"--kernels", (dir_ / "missing.csv").string(), "-o", out}), {"missing.csv"});
  std::string few = Write("few.csv", "category,source,model,value\nKERNEL-GEMM,[S1],x,1\n");
  ExpectUsageError(Run({"--kernels", few, "-o", out}), {"few.csv", "hardware", "metric"});
  ExpectUsageError(Run({"--kernels", rows_, "--system", "h900_sxm", "-o", out}), {"h900_sxm"});
  ExpectUsageError(Run({"--kernels", rows_, "--system", "a100_sxm", "-o", out}),
                   {"a100_sxm", "no kernel rows", "h100_sxm"});
  ExpectUsageError(Run({"--kernels", rows_, "-o", (dir_ / "nodir" / "x.json").string()}),
                   {"-o", "nodir"});
  std::string other =
      Write("none.csv", std::string(kRows).substr(0, std::string(kRows).find("\n") + 1));
  ExpectUsageError(Run({"--kernels", other}), {"no kernel rows"});
  ExpectUsageError(Run({"--kernels", rows_, "--starts", "0"}), {"--starts"});
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CalibrateTest, OutputNeedsOneSystem) {
  std::string two = Write(
      "two.csv", std::string(kRows) +
                     "KERNEL-GEMM,[S19] f,GEMM m=1 n=8192 k=8192,B200-SXM-180GB,bfloat16 (TRT-LLM "
                     "torch_flow GEMM),1 GPU,-,-,m=1,latency (us),27.4,\n");
  std::string out = (dir_ / "out.json").string();
  ExpectUsageError(Run({"--kernels", two, "-o", out}), {"-o", "--system", "b200_sxm, h100_sxm"});
  EXPECT_FALSE(fs::exists(out));
  RunResult ok = Run({"--kernels", two, "--system", "b200_sxm", "-o", out});
  EXPECT_EQ(ok.status, 0) << ok;
  EXPECT_TRUE(fs::exists(out));
}

}  // namespace
}  // namespace disagg::cli
