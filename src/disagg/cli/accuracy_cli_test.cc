// The measured-accuracy citation end to end: `calibrate --accuracy-out`
// writes the record, and estimate, frontier and simulate cite it from the
// catalog (or refuse a broken one with exit status 2 and no output).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "disagg/base/files.h"
#include "disagg/testing/cli_runner.h"
#include "disagg/testing/scoped_env.h"
#include "disagg/testing/silicon_csv.h"

namespace disagg::cli {
namespace {

namespace fs = std::filesystem;
using testing::CliTest;
using testing::Contains;
using testing::RunResult;

// Four runs of Llama-3.1-8B on H100 at 4 clients (two folds need rows on
// both sides of the split).
std::string FourRuns() {
  std::string text = testing::kSiliconHeader;
  int i = 0;
  for (const char* tp : {"1", "2", "4", "8"}) {
    text += fmt::format(
        "run_{}_c4,silicon_concurrency=4,trtllm,1.0,meta-llama/Llama-3.1-8B-Instruct,h100_sxm,fp8,"
        "agg,1024,64,fp8,,4,{},1,1,1,1,,,,,,,,,,,,,,,60,8\n",
        i++, tp);
  }
  return text;
}

// A catalog folder with the real models and systems and `record` as its
// accuracy record; DISAGG_DATA_DIR points the binary at it while alive.
class RecordedCatalog {
 public:
  RecordedCatalog(const fs::path& dir, const std::string& record) : dir_(dir / "data") {
    const fs::path real = DataDir();
    fs::create_directories(dir_ / "validation");
    fs::copy(real / "models", dir_ / "models", fs::copy_options::recursive);
    fs::copy(real / "hardware", dir_ / "hardware", fs::copy_options::recursive);
    fs::copy(real / "model_aliases.json", dir_ / "model_aliases.json");
    std::ofstream(dir_ / "validation" / "accuracy.json") << record;
    env_.emplace("DISAGG_DATA_DIR", dir_.string());  // after DataDir() was read
  }
  std::string record_path() const { return (dir_ / "validation" / "accuracy.json").string(); }

 private:
  fs::path dir_;
  std::optional<testing::ScopedEnv> env_;
};

testing::Json Group(const char* system, const char* backend, const char* mode, int rows,
                    double ttft, double tpot, const char* model = "*") {
  return {{"system", system},
          {"backend", backend},
          {"mode", mode},
          {"model", model},
          {"rows", rows},
          {"ttft_mape", ttft},
          {"tpot_mape", tpot},
          {"ttft_median_ape", 0.1},
          {"tpot_median_ape", 0.05},
          {"ttft_median_signed_error", -0.05},
          {"tpot_median_signed_error", 0.0}};
}

// h100 measured co-located only (30 rows, TTFT 25%, TPOT 10%; 22 of them
// Llama-3.1-8B's, 15% and 5%); disaggregated rows on other systems (40 rows,
// TTFT 40%); b200 and gb200 left out once.
testing::Json HandRecord() {
  testing::Json loo{{"b200_sxm", Group("", "", "", 100, 0.31, 0.18)},
                    {"gb200", Group("", "", "", 50, 0.52, 0.16)}};
  for (auto& [name, g] : loo.items()) {
    g.erase("system");
    g.erase("backend");
    g.erase("mode");
    g.erase("model");
  }
  return {
      {"csv", "m.csv"},
      {"replay", "r"},
      {"fit", "f"},
      {"folds", 5},
      {"groups",
       {Group("h100_sxm", "trtllm", "agg", 30, 0.25, 0.10),
        Group("h100_sxm", "trtllm", "*", 30, 0.25, 0.10),
        Group("h100_sxm", "*", "agg", 30, 0.25, 0.10), Group("h100_sxm", "*", "*", 30, 0.25, 0.10),
        Group("b200_sxm", "sglang", "disagg", 40, 0.40, 0.12),
        Group("*", "*", "agg", 30, 0.25, 0.10), Group("*", "*", "disagg", 40, 0.40, 0.12),
        Group("*", "*", "*", 70, 0.34, 0.11),
        Group("h100_sxm", "*", "agg", 22, 0.15, 0.05, "llama-3.1-8b"),
        Group("*", "*", "agg", 22, 0.15, 0.05, "llama-3.1-8b")}},
      {"leave_one_gpu_out", loo}};
}

TEST_F(CliTest, CalibrateAccuracyOutRecordsTheCrossValidation) {
  const std::string csv = Write("m.csv", FourRuns());
  const std::string out = (dir_ / "accuracy.json").string();
  RunResult r = Run({"calibrate", "--csv", csv, "--folds", "2", "--max-evals", "6",
                     "--accuracy-out", out, "--json"});
  ASSERT_EQ(r.status, 0) << r;
  const auto j = testing::Json::parse(r.out);
  std::ifstream in(out);
  const auto rec = testing::Json::parse(in);
  EXPECT_EQ(rec["folds"], 2);
  EXPECT_EQ(rec["csv"], "m.csv");
  // Every held-out row lands in its own group and in each wildcard group:
  // h100/trtllm/agg/llama-3.1-8b, with "*" for any of the four fields, 16
  // groups of the same rows, whose figures are the cross-validation's
  // overall ones.
  const auto& overall = j["cross_validation"]["overall"];
  ASSERT_EQ(rec["groups"].size(), 16u) << rec.dump(1);
  for (const auto& g : rec["groups"]) {
    EXPECT_EQ(g["rows"], overall["rows"]);
    EXPECT_DOUBLE_EQ(g["ttft_mape"].get<double>(), overall["ttft_mape"].get<double>());
  }
  EXPECT_TRUE(rec["leave_one_gpu_out"].empty());
}

TEST_F(CliTest, CalibrateAccuracyOutBadInput) {
  const std::string csv = Write("m.csv", FourRuns());
  const std::string out = (dir_ / "accuracy.json").string();
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--folds", "0", "--accuracy-out", out}),
                   {"--accuracy-out", "--folds"});
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--system", "h100_sxm", "--accuracy-out", out}),
                   {"--accuracy-out", "--system"});
  const std::string nowhere = (dir_ / "no" / "such" / "dir" / "a.json").string();
  ExpectUsageError(Run({"calibrate", "--csv", csv, "--accuracy-out", nowhere}),
                   {"--accuracy-out", nowhere});
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliTest, AnswersCiteTheCatalogsAccuracyRecord) {
  RecordedCatalog catalog(dir_, HandRecord().dump(2));
  // estimate: h100 under TensorRT-LLM in either mode, the 30-row group.
  RunResult e = Run({"estimate", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--isl", "1024",
                     "--osl", "128", "--json"});
  ASSERT_EQ(e.status, 0) << e;
  const auto ej = testing::Json::parse(e.out)["measured_accuracy"];
  EXPECT_EQ(ej["deployment"]["evidence"], "group");
  EXPECT_DOUBLE_EQ(ej["deployment"]["errors"]["ttft_mape"].get<double>(), 0.25);
  // The model's own rows exist co-located only; estimate speaks for both
  // modes, where 22 rows are not recorded: not cited.
  EXPECT_EQ(ej["model"]["evidence"], "none");
  RunResult et = Run({"estimate", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--isl",
                      "1024", "--osl", "128"});
  EXPECT_TRUE(Contains(et.out, "TTFT 25% / TPOT 10% mean absolute error")) << et;

  // frontier: co-located from h100's own rows; h100 never ran
  // disaggregated, so that side cites the other systems' disaggregated rows.
  RunResult f = Run({"frontier", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--isl", "1024",
                     "--osl", "128", "--max-instance-gpus", "2", "--json"});
  ASSERT_EQ(f.status, 0) << f;
  const auto fj = testing::Json::parse(f.out)["measured_accuracy"];
  EXPECT_EQ(fj["colocated"]["deployment"]["evidence"], "group");
  EXPECT_EQ(fj["disaggregated"]["deployment"]["evidence"], "other_systems");
  EXPECT_DOUBLE_EQ(fj["disaggregated"]["deployment"]["errors"]["ttft_mape"].get<double>(), 0.40);
  // Co-located, the model's own 22 rows on h100 (every backend).
  EXPECT_EQ(fj["colocated"]["model"]["evidence"], "coarser_group");
  EXPECT_DOUBLE_EQ(fj["colocated"]["model"]["errors"]["ttft_mape"].get<double>(), 0.15);
  EXPECT_EQ(fj["disaggregated"]["model"]["evidence"], "none");

  // A GPU the record never measured: the leave-one-GPU-out range.
  RunResult s = Run({"estimate", "--model", "llama-3.1-8b", "--system", "b300_sxm", "--isl", "1024",
                     "--osl", "128"});
  ASSERT_EQ(s.status, 0) << s;
  EXPECT_TRUE(Contains(s.out, "b300_sxm was never measured")) << s;
  EXPECT_TRUE(Contains(s.out, "TTFT 31% (b200_sxm) to 52% (gb200), TPOT 16% to 18%")) << s;

  // simulate: the deployment's mode.
  RunResult m = Run({"simulate", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--mode",
                     "colocated", "--batch", "16", "--concurrency", "4", "--isl", "512", "--osl",
                     "32", "--requests", "20"});
  ASSERT_EQ(m.status, 0) << m;
  EXPECT_TRUE(Contains(m.out, "Measured accuracy: TTFT 25%")) << m;
  EXPECT_TRUE(Contains(m.out, "this model: TTFT 15% / TPOT 5%")) << m;
}

TEST_F(CliTest, ABrokenAccuracyRecordIsRefused) {
  auto record = HandRecord();
  record["groups"][0]["ttft_mape"] = "a quarter";
  RecordedCatalog catalog(dir_, record.dump());
  ExpectUsageError(Run({"estimate", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--isl",
                        "1024", "--osl", "128"}),
                   {catalog.record_path(), "groups[0].ttft_mape", "a quarter"});
  ExpectUsageError(Run({"frontier", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--isl",
                        "1024", "--osl", "128"}),
                   {catalog.record_path()});
}

TEST_F(CliTest, ATruncatedAccuracyRecordIsRefused) {
  RecordedCatalog catalog(dir_, HandRecord().dump().substr(0, 120));
  ExpectUsageError(Run({"estimate", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--isl",
                        "1024", "--osl", "128"}),
                   {catalog.record_path(), "malformed JSON"});
}

}  // namespace
}  // namespace disagg::cli
