// End-to-end tests of `disagg validate`: the JSON summary shape scripts rely
// on, per-row output including the rows the reader skipped (with why), and
// bad input (exit 2, the file named, no stdout, no partial files).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "disagg/testing/cli_runner.h"
#include "disagg/testing/silicon_csv.h"

namespace disagg::cli {
namespace {

using testing::CliTest;
using testing::Json;
using testing::RunResult;

using testing::kSiliconHeader;

std::string Row(const std::string& id, const std::string& model, const std::string& tp) {
  return id + ",silicon_concurrency=4,trtllm,1.0," + model + ",h100_sxm,fp8,agg,1024,64,fp8,,4," +
         tp + ",1,1,1,1,,,,,,,,,,,,,,,60,8\n";
}

std::string Csv() {
  std::string text = kSiliconHeader;
  text += Row("run_a_c4_1", "meta-llama/Llama-3.1-8B-Instruct", "1");
  text += Row("run_b_c4_2", "meta-llama/Llama-3.1-8B-Instruct", "2");
  text += Row("run_c_c4_3", "acme/Unknown-7B", "1");
  return text;
}

TEST_F(CliTest, ValidateJsonShapeAndRowsOut) {
  const std::string csv = Write("m.csv", Csv());
  const std::string rows = (dir_ / "rows.csv").string();
  RunResult r =
      Run({"validate", "--csv", csv, "--json", "--by", "system,version", "--rows-out", rows});
  ASSERT_EQ(r.status, 0) << r;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["rows_read"], 3);
  EXPECT_EQ(j["rows_predicted"], 2);
  EXPECT_EQ(j["skipped_by_reason"]["unsupported model"], 1);
  for (const char* key :
       {"ttft_mape", "tpot_mape", "ttft_median_ape", "tpot_median_ape", "groups", "coverage"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  // Fractions, not percentages, and finite.
  EXPECT_GE(j["tpot_mape"].get<double>(), 0);
  EXPECT_FALSE(j["groups"].empty());
  // --by version groups by backend and its version (column backend_version).
  EXPECT_TRUE(j["groups"].contains("h100_sxm / trtllm 1.0")) << j["groups"].dump();
  // The two predicted rows differ in tp: no description is repeated, so the
  // measurement floor is 0 over both rows.
  EXPECT_EQ(j["measurement_floor"]["rows"], 2);
  EXPECT_EQ(j["measurement_floor"]["repeated_rows"], 0);
  EXPECT_EQ(j["measurement_floor"]["ttft_mape"].get<double>(), 0.0);
  std::ifstream in(rows);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string out = ss.str();
  EXPECT_EQ(out.rfind("id,line,system", 0), 0u);
  EXPECT_NE(out.find("run_a_c4_1"), std::string::npos);
  EXPECT_NE(out.find("skipped: unsupported model"), std::string::npos) << out;
  EXPECT_NE(out.find("acme/Unknown-7B"), std::string::npos) << out;
}

TEST_F(CliTest, ValidateGroupsByConcurrencyInReadingOrder) {
  // Three rows at concurrency 4, 8 and 20: bands c1-4, c5-16 and c17-64,
  // listed by their lower bound although "c17-64" < "c5-16" as text.
  std::string text = kSiliconHeader;
  for (int c : {20, 4, 8}) {
    text += fmt::format(
        "run_{}_c{},silicon_concurrency={},trtllm,1.0,meta-llama/Llama-3.1-8B-Instruct,h100_sxm,"
        "fp8,agg,1024,64,fp8,,{},1,1,1,1,1,,,,,,,,,,,,,,,60,8\n",
        c, c, c, c);
  }
  const std::string csv = Write("c.csv", text);
  RunResult r = Run({"validate", "--csv", csv, "--by", "concurrency,harness"});
  ASSERT_EQ(r.status, 0) << r;
  const size_t a = r.out.find("c1-4 / inferencex"), b = r.out.find("c5-16 / inferencex"),
               c = r.out.find("c17-64 / inferencex");
  ASSERT_NE(a, std::string::npos) << r.out;
  ASSERT_NE(b, std::string::npos) << r.out;
  ASSERT_NE(c, std::string::npos) << r.out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  RunResult j = Run({"validate", "--csv", csv, "--json", "--by", "concurrency"});
  ASSERT_EQ(j.status, 0) << j;
  Json groups = Json::parse(j.out)["groups"];
  EXPECT_EQ(groups.size(), 3u) << groups.dump();
  EXPECT_EQ(groups["c5-16"]["rows"], 1);
}

TEST_F(CliTest, ValidateBadInput) {
  ExpectUsageError(Run({"validate", "--csv", (dir_ / "absent.csv").string()}), {"absent.csv"});
  const std::string csv = Write("m.csv", Csv());
  const std::string rows = (dir_ / "never.csv").string();
  ExpectUsageError(Run({"validate", "--csv", csv, "--strict", "--rows-out", rows}),
                   {"m.csv:4", "unsupported model"});
  EXPECT_FALSE(std::filesystem::exists(rows));
  ExpectUsageError(Run({"validate", "--csv", Write("h.csv", "id,backend\nx,trtllm\n")}),
                   {"h.csv", "missing column"});
  ExpectUsageError(Run({"validate", "--csv", csv, "--by", "colour"}), {"--by", "colour"});
  ExpectUsageError(Run({"validate", "--csv", csv, "--benchmark-requests", "0"}),
                   {"--benchmark-requests"});
  ExpectUsageError(Run({"validate", "--csv", csv, "--mtp-acceptance", "-0.2"}),
                   {"--mtp-acceptance", "-0.2"});
}

TEST_F(CliTest, CalibrateEndToEndWritesAFittedSystem) {
  const std::string csv = Write("m.csv", Csv());
  const std::string out = (dir_ / "h100.json").string();
  RunResult r = Run({"calibrate", "--csv", csv, "--system", "h100_sxm", "--folds", "0",
                     "--max-evals", "12", "-o", out, "--json"});
  ASSERT_EQ(r.status, 0) << r;
  Json j = Json::parse(r.out);
  ASSERT_TRUE(j.contains("systems")) << r.out;
  ASSERT_TRUE(j["systems"].contains("h100_sxm"));
  EXPECT_EQ(j["systems"]["h100_sxm"]["rows"], 2);
  EXPECT_FALSE(j["systems"]["h100_sxm"]["parameters"].empty());
  // The engines' GEMM rate is fitted for the dtype the rows compute in (fp8)
  // and left alone for the others.
  std::set<std::string> keys;
  for (const auto& p : j["systems"]["h100_sxm"]["parameters"]) keys.insert(p["key"]);
  EXPECT_TRUE(keys.contains("engine_gemm_fp8"));
  EXPECT_FALSE(keys.contains("engine_gemm_bf16"));
  EXPECT_FALSE(keys.contains("engine_gemm_fp4"));
  // The written system loads and says how it was fitted.
  std::ifstream in(out);
  Json sys = Json::parse(in);
  EXPECT_EQ(sys["name"], "h100_sxm");
  EXPECT_NE(sys["calibration"]["kernel_overhead_us"]["source"].get<std::string>().find(
                "disagg calibrate --csv m.csv"),
            std::string::npos);
  // ... and what the fit minimised: the targets' measure by default.
  EXPECT_NE(sys["calibration"]["kernel_overhead_us"]["source"].get<std::string>().find(
                "mean absolute percentage error"),
            std::string::npos);
}

TEST_F(CliTest, CalibrateEndToEndBadInput) {
  ExpectUsageError(Run({"calibrate", "--csv", (dir_ / "absent.csv").string()}), {"absent.csv"});
  const std::string csv = Write("m.csv", Csv());
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--system", "tpu_v5"}), {"tpu_v5"});
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--folds", "1"}), {"--folds"});
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--benchmark-requests", "0"}),
                   {"--benchmark-requests"});
  // The fit's loss and sample: a knee of 0, a negative row count or weight.
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--huber", "0"}), {"--huber", "0"});
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--loss", "mse"}), {"--loss", "mse"});
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--fit-rows", "-5"}), {"--fit-rows", "-5"});
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--fit-rounds", "0"}), {"--fit-rounds", "0"});
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--ttft-weight", "-1"}),
                   {"--ttft-weight", "-1"});
}

}  // namespace
}  // namespace disagg::cli
