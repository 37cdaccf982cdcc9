// End-to-end tests of `disagg simulate` with a planner: the --compare JSON
// shape, the timeline CSV and SVG, and bad input (exit 2, the flag and value
// named, no stdout, no partial files).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "disagg/testing/cli_runner.h"

namespace disagg::cli {
namespace {

using testing::CliTest;
using testing::Json;
using testing::RunResult;

constexpr const char* kWorkload = R"({"name": "short-shift", "phases": [
  {"duration": "4m", "rate": 24, "isl": 4096, "osl": 128},
  {"duration": "4m", "rate": 24, "isl": 256, "osl": 1024, "ramp": "30s"}]})";

std::vector<std::string> Planned(const std::string& workload) {
  return {"simulate",     "--model",  "llama-3.1-8b",   "--system", "h200_sxm",
          "--workload",   workload,   "--mode",         "disagg",   "--prefill",
          "tp=1,batch=1", "--decode", "tp=1,batch=128", "--gpus",   "4",
          "--ftl-max",    "2s",       "--ttl-max",      "25ms"};
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(CliTest, PlannerCompareJsonTimelineAndPlot) {
  auto args = Planned(Write("w.json", kWorkload));
  const std::string csv = (dir_ / "timeline.csv").string(), svg = (dir_ / "plan.svg").string();
  for (const std::string& a :
       {std::string("--compare"), std::string("static,static-best,dynamic"), std::string("--json"),
        std::string("--timeline-out"), csv, std::string("--plot"), svg}) {
    args.push_back(a);
  }
  RunResult r = RunArgs(args);
  ASSERT_EQ(r.status, 0) << r;
  Json j = Json::parse(r.out);
  ASSERT_TRUE(j.contains("policies"));
  for (const char* p : {"static", "static-best", "dynamic"}) {
    ASSERT_TRUE(j["policies"].contains(p)) << p;
    for (const char* key : {"goodput_rps", "sla_attainment", "gpu_hours", "reconfigurations"}) {
      EXPECT_TRUE(j["policies"][p].contains(key)) << p << " " << key;
    }
    EXPECT_LE(j["policies"][p]["max_gpus_held"].get<int>(), 4);
  }
  EXPECT_EQ(j["gpu_budget"], 4);
  // A planned fleet is disaggregated: the citation is of disaggregated rows.
  EXPECT_EQ(j["measured_accuracy"]["deployment"]["group"]["mode"], "disagg")
      << j["measured_accuracy"];
  // 8 minutes in 30-s intervals: at least 16 rows per policy plus a header.
  std::string timeline = Slurp(csv);
  EXPECT_EQ(timeline.rfind("policy,time_s,arrival_rps", 0), 0u);
  size_t rows = std::count(timeline.begin(), timeline.end(), '\n');
  EXPECT_GE(rows, 1 + 3 * 16u);
  std::string plot = Slurp(svg);
  EXPECT_EQ(plot.rfind("<svg", 0), 0u);
  EXPECT_NE(plot.find("SLA attainment"), std::string::npos);
}

TEST_F(CliTest, PlannerSinglePolicyText) {
  auto args = Planned(Write("w.json", kWorkload));
  args.push_back("--planner");
  args.push_back("dynamic");
  RunResult r = RunArgs(args);
  ASSERT_EQ(r.status, 0) << r;
  EXPECT_NE(r.out.find("GPU-hours"), std::string::npos) << r;
  EXPECT_NE(r.out.find("dynamic planner, 4 GPUs"), std::string::npos) << r;
  EXPECT_NE(r.out.find("Measured accuracy: "), std::string::npos) << r;
}

TEST_F(CliTest, PlannerBadInput) {
  const std::string w = Write("w.json", kWorkload);
  auto with = [&](std::initializer_list<std::string> more, bool planner = true) {
    auto args = Planned(w);
    if (planner) {
      args.push_back("--planner");
      args.push_back("dynamic");
    }
    for (const auto& m : more) args.push_back(m);
    return RunArgs(args);
  };
  ExpectUsageError(with({"--compare", "static,elastic"}, false), {"--compare", "elastic"});
  ExpectUsageError(with({"--compare", "static:9:9"}, false), {"static:9:9", "budget"});
  ExpectUsageError(with({"--gpus", "1"}), {"--gpus", "1"});
  ExpectUsageError(with({"--plan-interval", "-5s"}), {"--plan-interval"});
  ExpectUsageError(with({"--local-prefill", "short"}), {"--local-prefill", "short"});
  ExpectUsageError(with({"--headroom", "0.5"}), {"--headroom"});
  ExpectUsageError(with({"--compare", "dynamic"}), {"--planner", "--compare"});
  // Co-located deployments are not planned.
  ExpectUsageError(
      Run({"simulate", "--model", "llama-3.1-8b", "--system", "h200_sxm", "--workload", w, "--mode",
           "colocated", "--tp", "1", "--planner", "dynamic", "--gpus", "4"}),
      {"disagg"});
  // A workload file with an unknown key names the file and key.
  const std::string bad = Write("bad.json", R"({"name": "x", "phases": [{"duration": "1m",
      "rate": 1, "isl": 10, "osl": 10, "rat": 2}]})");
  ExpectUsageError(RunArgs({"simulate", "--model", "llama-3.1-8b", "--system", "h200_sxm",
                            "--workload", bad, "--mode", "disagg", "--prefill", "tp=1", "--decode",
                            "tp=1", "--planner", "dynamic", "--gpus", "4"}),
                   {"bad.json", "rat"});
  // No partial output files on a bad run.
  const std::string csv = (dir_ / "never.csv").string();
  ExpectUsageError(with({"--gpus", "1", "--timeline-out", csv}), {"--gpus"});
  EXPECT_FALSE(std::filesystem::exists(csv));
}

}  // namespace
}  // namespace disagg::cli
