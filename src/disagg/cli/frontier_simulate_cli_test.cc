// End-to-end tests of `disagg frontier` and `disagg simulate`: bad input
// (exit 2, a message naming the flag or file, no stdout, no partial files)
// and the JSON shapes scripts rely on.
#include <gtest/gtest.h>

#include "disagg/testing/cli_runner.h"

namespace disagg::cli {
namespace {

using testing::CliTest;
using testing::Json;
using testing::RunResult;

// A small, fast frontier: Llama-3.1-8B on H100.
std::vector<std::string> SmallFrontier() {
  return {"frontier", "--model", "llama-3.1-8b",        "--system", "h100_sxm", "--isl", "1024",
          "--osl",    "128",     "--max-instance-gpus", "8"};
}

RunResult RunWith(CliTest& t, std::vector<std::string> args,
                  std::initializer_list<std::string> more) {
  for (const auto& m : more) args.push_back(m);
  return t.RunArgs(args);
}

TEST_F(CliTest, FrontierJsonShape) {
  RunResult r = RunWith(*this, SmallFrontier(), {"--json", "--ttl-max", "20ms"});
  ASSERT_EQ(r.status, 0) << r;
  Json j = Json::parse(r.out);
  for (const char* key :
       {"points_evaluated", "points_feasible", "infeasible_by_reason", "elapsed_s"}) {
    EXPECT_TRUE(j["summary"].contains(key)) << key;
  }
  ASSERT_FALSE(j["colocated"].empty());
  ASSERT_FALSE(j["disaggregated"].empty());
  double last = 0;
  for (const auto& p : j["disaggregated"]) {
    for (const char* key :
         {"tokens_per_s_per_user", "tokens_per_s_per_gpu", "ftl_s", "ttl_s", "gpus", "prefill",
          "decode", "prefill_instances", "decode_instances", "ctx_gen_ratio",
          "kv_egress_bytes_per_s_per_gpu", "kv_ingress_bytes_per_s_per_gpu"}) {
      EXPECT_TRUE(p.contains(key)) << key;
    }
    for (const char* key : {"tp", "pp", "ep", "dp_attn", "batch"}) {
      EXPECT_TRUE(p["prefill"].contains(key)) << key;
      EXPECT_TRUE(p["decode"].contains(key)) << key;
    }
    // Ordered by interactivity.
    EXPECT_GT(p["tokens_per_s_per_user"].get<double>(), last);
    last = p["tokens_per_s_per_user"].get<double>();
    // GPUs add up: x g_p + y g_d.
    EXPECT_EQ(p["gpus"].get<int>(),
              p["prefill_instances"].get<int>() * p["prefill"]["gpus"].get<int>() +
                  p["decode_instances"].get<int>() * p["decode"]["gpus"].get<int>());
  }
  for (const auto& p : j["colocated"]) {
    for (const char* key : {"tp", "pp", "ep", "dp_attn", "batch"}) {
      EXPECT_TRUE(p["mapping"].contains(key)) << key;
    }
  }
  ASSERT_TRUE(j.contains("best_under_sla"));
  EXPECT_LE(j["best_under_sla"]["disaggregated"]["ttl_s"].get<double>(), 0.020);
}

TEST_F(CliTest, FrontierWritesPlotAndCsv) {
  std::string svg = (dir_ / "f.svg").string(), csv = (dir_ / "f.csv").string();
  RunResult r = RunWith(*this, SmallFrontier(), {"--plot", svg, "--csv", csv, "--log"});
  ASSERT_EQ(r.status, 0) << r;
  std::ifstream s(svg), c(csv);
  std::stringstream sv, cv;
  sv << s.rdbuf();
  cv << c.rdbuf();
  EXPECT_NE(sv.str().find("<svg"), std::string::npos);
  EXPECT_NE(sv.str().find("interactivity (tokens/s/user"), std::string::npos);
  EXPECT_NE(sv.str().find("throughput (output tokens/s/GPU)"), std::string::npos);
  EXPECT_EQ(cv.str().rfind("mode,policy,tokens_per_s_per_user", 0), 0u);
  EXPECT_NE(cv.str().find("\ndisaggregated,"), std::string::npos);
}

TEST_F(CliTest, FrontierBadInput) {
  ExpectUsageError(RunWith(*this,
                           {"frontier", "--model", "llama-3.1-8b", "--system", "h100_sxm", "--isl",
                            "0", "--osl", "10"},
                           {}),
                   {"--isl"});
  ExpectUsageError(RunWith(*this, SmallFrontier(), {"--ftl-max", "1ms"}),
                   {"--ftl-max", "no prefill configuration meets FTL", "fastest is"});
  ExpectUsageError(RunWith(*this,
                           {"frontier", "--model", "llama-3.1-405b", "--system", "h100_sxm",
                            "--isl", "1024", "--osl", "128", "--gpus", "2"},
                           {}),
                   {"--gpus 2", "too small"});
  std::string missing = (dir_ / "no/such/dir/f.csv").string();
  ExpectUsageError(RunWith(*this, SmallFrontier(), {"--csv", missing}), {"--csv", missing});
  ExpectUsageError(RunWith(*this, SmallFrontier(), {"--ftl-max", "ten seconds"}), {"--ftl-max"});
}

std::vector<std::string> SimBase() {
  return {"simulate", "--model", "llama-3.1-8b", "--system", "h100_sxm"};
}

// `simulate --json` of SimBase() with `flags` then `extra`; an empty object
// (and a failure) unless it exits 0.
Json SimJson(CliTest& t, std::vector<std::string> flags, const std::vector<std::string>& extra) {
  std::vector<std::string> args = SimBase();
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("--json");
  RunResult r = t.RunArgs(args);
  EXPECT_EQ(r.status, 0) << r;
  return r.status == 0 ? Json::parse(r.out) : Json::object();
}

TEST_F(CliTest, SimulateJsonShape) {
  RunResult r = RunWith(*this, SimBase(),
                        {"--mode", "disagg", "--prefill", "instances=1,tp=1,batch=2", "--decode",
                         "instances=1,tp=1,batch=64", "--rate", "4", "--isl", "1000", "--osl",
                         "100", "--requests", "300", "--ttl-max", "50ms", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  Json j = Json::parse(r.out);
  for (const char* key : {"requests_completed", "requests_unfinished", "tokens_per_s_per_gpu",
                          "goodput_rps", "preemptions", "elapsed_wall_s"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* d : {"ftl_s", "ttl_s", "e2e_s"}) {
    for (const char* key : {"mean", "p50", "p90", "p99"}) EXPECT_TRUE(j[d].contains(key)) << d;
  }
  EXPECT_EQ(j["requests_completed"].get<int>(), 300);
}

TEST_F(CliTest, SimulateFromFrontierPoint) {
  RunResult f = RunWith(*this, SmallFrontier(), {"--json"});
  ASSERT_EQ(f.status, 0) << f;
  std::string path = Write("frontier.json", f.out);
  RunResult r = Run({"simulate", "--from-frontier", path, "--point", "0", "--concurrency", "16",
                     "--requests", "200", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["model"], "llama-3.1-8b");
  EXPECT_EQ(j["requests_completed"].get<int>(), 200);
  // A co-located point is simulated with the step composition it was costed
  // with.
  Json points = Json::parse(f.out)["colocated"];
  ASSERT_FALSE(points.empty());
  for (int i : {0, static_cast<int>(points.size()) - 1}) {
    RunResult c =
        Run({"simulate", "--from-frontier", path, "--frontier-mode", "colocated", "--point",
             std::to_string(i), "--concurrency", "8", "--requests", "50", "--json"});
    ASSERT_EQ(c.status, 0) << c;
    const std::string want = points[i]["policy"] == "prefill-first" ? ", prefill first" : ", mixed";
    EXPECT_NE(Json::parse(c.out)["deployment"].get<std::string>().find(want), std::string::npos)
        << points[i].dump();
  }
  ExpectUsageError(
      Run({"simulate", "--from-frontier", path, "--point", "9999", "--concurrency", "4"}),
      {"--point 9999"});
}

// A frontier searched with speculative decoding records it, and a point
// simulated from it runs with it; the co-located chunk the report gives is
// the engine's budget per engine step.
TEST_F(CliTest, SpeculativeFrontierPointSimulatesWithItsSpeculation) {
  RunResult f = Run({"frontier", "--model", "deepseek-r1", "--system", "b200_sxm", "--precision",
                     "fp4", "--isl", "1024", "--osl", "256", "--max-instance-gpus", "8", "--mtp",
                     "2", "--mtp-acceptance", "0.5", "--json"});
  ASSERT_EQ(f.status, 0) << f;
  Json doc = Json::parse(f.out);
  EXPECT_EQ(doc["inputs"]["mtp"], 2);
  EXPECT_DOUBLE_EQ(doc["inputs"]["mtp_acceptance"].get<double>(), 0.5);
  std::string path = Write("frontier.json", f.out);
  RunResult r = Run({"simulate", "--from-frontier", path, "--point", "0", "--concurrency", "8",
                     "--requests", "40", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  // 1 + 0.5 + 0.25 = 1.75 tokens per step.
  EXPECT_TRUE(testing::Contains(Json::parse(r.out)["deployment"].get<std::string>(),
                                "MTP depth 2 (1.75 tokens/step)"))
      << r.out;
}

TEST_F(CliTest, SimulateWritesRequestsAndTimeline) {
  std::string rows = (dir_ / "rows.csv").string(), tl = (dir_ / "tl.csv").string();
  RunResult r = RunWith(*this, SimBase(),
                        {"--mode", "colocated", "--tp", "1", "--rate", "5", "--isl", "500", "--osl",
                         "50", "--requests", "100", "--requests-out", rows, "--timeline-out", tl});
  ASSERT_EQ(r.status, 0) << r;
  std::ifstream a(rows), b(tl);
  std::string line;
  int n = 0;
  while (std::getline(a, line)) ++n;
  EXPECT_EQ(n, 101);  // header + 100 requests
  std::getline(b, line);
  EXPECT_EQ(line.rfind("time_s,arrivals,completed", 0), 0u);
}

// Co-located step composition: SGLang prefills first by default, --schedule
// overrides it, and the deployment line says which ran. Prefill-first stalls
// the decodes for every prompt, so its time per output token is the larger.
TEST_F(CliTest, SimulateSchedule) {
  auto run = [&](const std::vector<std::string>& extra) {
    return SimJson(*this,
                   {"--mode", "colocated", "--tp", "1", "--backend", "sglang", "--rate", "4",
                    "--isl", "2000", "--osl", "200", "--requests", "300"},
                   extra);
  };
  Json dflt = run({}), mixed = run({"--schedule", "mixed"}),
       pf = run({"--schedule", "prefill-first"});
  EXPECT_NE(dflt["deployment"].get<std::string>().find("co-located"), std::string::npos);
  EXPECT_NE(mixed["deployment"].get<std::string>().find(", mixed"), std::string::npos);
  EXPECT_NE(pf["deployment"].get<std::string>().find(", prefill first"), std::string::npos);
  EXPECT_DOUBLE_EQ(dflt["ttl_s"]["mean"].get<double>(), pf["ttl_s"]["mean"].get<double>());
  EXPECT_GT(pf["ttl_s"]["mean"].get<double>(), mixed["ttl_s"]["mean"].get<double>());
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--schedule", "sideways", "--rate", "1", "--isl",
                            "10", "--osl", "10"}),
                   {"--schedule", "sideways", "mixed or prefill-first"});
  ExpectUsageError(
      RunWith(*this, SimBase(),
              {"--mode", "disagg", "--schedule", "mixed", "--prefill", "instances=1,tp=1",
               "--decode", "instances=1,tp=1", "--rate", "1", "--isl", "10", "--osl", "10"}),
      {"--schedule", "only with --mode colocated"});
}

// Whole prompts (no chunked prefill): with a 1,024-token budget, 1,500-token
// prompts arriving 0.5 s apart are each taken whole in one step instead of a
// 1,024-token chunk and a 476-token one, so the first token waits for one
// step's fixed costs (weights read, launches, step overhead), not two: a
// lower first-token latency. The deployment line says so; the flag is
// co-located only.
TEST_F(CliTest, SimulateWholePrompts) {
  auto run = [&](const std::vector<std::string>& extra) {
    return SimJson(*this,
                   {"--mode", "colocated", "--tp", "1", "--chunk", "1024", "--rate", "2",
                    "--arrival", "uniform", "--isl", "1500", "--osl", "20", "--requests", "50"},
                   extra);
  };
  Json chunked = run({}), whole = run({"--whole-prompts"});
  EXPECT_NE(whole["deployment"].get<std::string>().find(", whole prompts"), std::string::npos);
  EXPECT_EQ(chunked["deployment"].get<std::string>().find("whole"), std::string::npos);
  EXPECT_LT(whole["ftl_s"]["mean"].get<double>(), chunked["ftl_s"]["mean"].get<double>());
  ExpectUsageError(
      RunWith(*this, SimBase(),
              {"--mode", "disagg", "--whole-prompts", "--prefill", "instances=1,tp=1", "--decode",
               "instances=1,tp=1", "--rate", "1", "--isl", "10", "--osl", "10"}),
      {"--whole-prompts", "only with --mode colocated"});
}

// Engine scheduler settings: SGLang's request polling delays first tokens,
// TensorRT-LLM's attention-DP balancing and batch waiting hold prompts; bad
// values are usage
// errors naming the flag and value.
TEST_F(CliTest, SimulateSchedulerSettings) {
  auto run = [&](const std::vector<std::string>& extra) {
    return SimJson(*this,
                   {"--mode", "colocated", "--backend", "sglang", "--tp", "1", "--rate", "2",
                    "--isl", "1000", "--osl", "400", "--requests", "300"},
                   extra);
  };
  auto ftl = [](const Json& j) { return j["ftl_s"]["mean"].get<double>(); };
  Json every = run({}), polled = run({"--recv-interval", "30"});
  EXPECT_GT(ftl(polled), ftl(every));
  // SGLang's static share of the GPU: at 0.15 of 80 GiB, 12 GiB less about
  // 9 GB of fp8 weights leaves cache for about a dozen requests of 3,000
  // tokens (64 kB each in fp8), where 4 requests/s of some 7 s each keep
  // about 28 in flight; at 0.9 all of them fit.
  auto share = [&](const std::string& f) {
    return SimJson(*this,
                   {"--mode", "colocated", "--backend", "sglang", "--tp", "1", "--rate", "4",
                    "--isl", "2000", "--osl", "1000", "--requests", "300"},
                   {"--mem-fraction", f});
  };
  Json narrow = share("0.15"), wide = share("0.9");
  EXPECT_GT(ftl(narrow), 2 * ftl(wide));
  // TensorRT-LLM's batch waiting at a light load: prompts wait out the
  // 20-iteration timeout, so the first token comes about 20 decode steps
  // later.
  auto trt = [&](const std::vector<std::string>& extra) {
    return SimJson(*this,
                   {"--mode", "colocated", "--backend", "trtllm", "--tp", "1", "--rate", "2",
                    "--isl", "1000", "--osl", "400", "--requests", "300"},
                   extra);
  };
  Json eager = trt({}), waiting = trt({"--batch-wait-iters", "20", "--batch-wait-tokens", "14745"});
  EXPECT_GT(ftl(waiting), ftl(eager) + 10 * waiting["ttl_s"]["mean"].get<double>());
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--recv-interval", "0", "--rate", "1", "--isl",
                            "10", "--osl", "10"}),
                   {"--recv-interval", "at least 1", "0"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--adp-balance-timeout", "-3", "--rate", "1",
                            "--isl", "10", "--osl", "10"}),
                   {"--adp-balance-timeout", "-3"});
  // SGLang's --mem-fraction-static: a share of the GPU, SGLang only.
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--backend", "sglang", "--mem-fraction", "1.5",
                            "--rate", "1", "--isl", "10", "--osl", "10"}),
                   {"--mem-fraction", "1.5"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--backend", "trtllm", "--mem-fraction", "0.8",
                            "--rate", "1", "--isl", "10", "--osl", "10"}),
                   {"--mem-fraction", "--backend sglang"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--batch-wait-iters", "-2", "--rate", "1",
                            "--isl", "10", "--osl", "10"}),
                   {"--batch-wait-iters", "-2"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--batch-wait-iters", "20", "--rate", "1",
                            "--isl", "10", "--osl", "10"}),
                   {"--batch-wait-tokens", "give both"});
  ExpectUsageError(
      RunWith(*this, SimBase(),
              {"--mode", "disagg", "--recv-interval", "30", "--prefill", "instances=1,tp=1",
               "--decode", "instances=1,tp=1", "--rate", "1", "--isl", "10", "--osl", "10"}),
      {"--recv-interval", "only with --mode colocated"});
}

TEST_F(CliTest, SimulateBadDeployments) {
  ExpectUsageError(
      RunWith(*this, SimBase(),
              {"--mode", "disagg", "--prefill", "instances=1,tp=1,colour=2", "--decode",
               "instances=1,tp=1", "--rate", "1", "--isl", "10", "--osl", "10"}),
      {"--prefill", "unknown key 'colour'"});
  ExpectUsageError(
      RunWith(*this,
              {"simulate", "--model", "llama-3.1-405b", "--system", "h100_sxm", "--mode",
               "colocated", "--tp", "2", "--rate", "1", "--isl", "10", "--osl", "10"},
              {}),
      {"does not fit", "weights"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "sideways", "--rate", "1", "--isl", "10", "--osl", "10"}),
                   {"--mode"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--rate", "1", "--isl", "-5", "--osl", "10"}),
                   {"--isl"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--rate", "1", "--concurrency", "3", "--isl",
                            "5", "--osl", "10"}),
                   {"exactly one workload"});
}

TEST_F(CliTest, SimulateLengthDistributions) {
  RunResult r = RunWith(*this, SimBase(),
                        {"--mode", "colocated", "--rate", "5", "--isl", "100-3000", "--osl",
                         "10-200", "--requests", "200", "--json"});
  ASSERT_EQ(r.status, 0) << r;
  EXPECT_EQ(Json::parse(r.out)["requests_completed"].get<int>(), 200);
  // An empirical sample from a (hand-written) trace: every request is one of
  // its two shapes, so the mean end-to-end time lies between theirs.
  std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  std::string trace = Write("lengths.csv", header + "2023-11-16 18:15:46.0000000,100,10\n" +
                                               "2023-11-16 18:15:47.0000000,2000,50\n");
  r = RunWith(*this, SimBase(),
              {"--mode", "colocated", "--rate", "2", "--lengths-from", trace, "--requests", "100",
               "--json"});
  ASSERT_EQ(r.status, 0) << r;
  ExpectUsageError(
      RunWith(*this, SimBase(),
              {"--mode", "colocated", "--rate", "2", "--isl", "3000-100", "--osl", "10"}),
      {"--isl", "3000-100"});
  ExpectUsageError(RunWith(*this, SimBase(),
                           {"--mode", "colocated", "--rate", "2", "--isl", "0", "--osl", "10"}),
                   {"--isl", "at least 1"});
}

TEST_F(CliTest, SimulateBadTraces) {
  auto sim = [&](const std::string& trace, std::initializer_list<std::string> more = {}) {
    std::vector<std::string> args = SimBase();
    for (const char* a : {"--mode", "colocated", "--trace"}) args.push_back(a);
    args.push_back(trace);
    for (const auto& m : more) args.push_back(m);
    return RunArgs(args);
  };
  std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  ExpectUsageError(sim(Write("empty.csv", header)), {"empty.csv", "no requests"});
  ExpectUsageError(sim(Write("neg.csv", header + "2023-11-16 18:15:46.0000000,-3,10\n")),
                   {"neg.csv", "2"});
  std::string back =
      header + "2023-11-16 18:15:46.0000000,30,10\n" + "2023-11-16 18:15:45.0000000,30,10\n";
  ExpectUsageError(sim(Write("back.csv", back)), {"back.csv", "backwards", "3"});
  std::string bad = header + "2023-11-16 18:15:46.0000000,30,10\n" + "garbage line\n" +
                    "2023-11-16 18:15:47.0000000,30,10\n";
  ExpectUsageError(sim(Write("bad.csv", bad)), {"bad.csv", "3"});
  RunResult ok = sim(Write("bad2.csv", bad), {"--skip-bad-lines", "--json"});
  ASSERT_EQ(ok.status, 0) << ok;
  Json j = Json::parse(ok.out);
  EXPECT_EQ(j["skipped_lines"].get<int>(), 1);
  EXPECT_EQ(j["requests_completed"].get<int>(), 2);
  ExpectUsageError(sim((dir_ / "missing.csv").string()), {"missing.csv"});
  // No partial output file is left behind when the run fails.
  std::string rows = (dir_ / "rows.csv").string();
  ExpectUsageError(sim(Write("back2.csv", back), {"--requests-out", rows}), {"backwards"});
  EXPECT_FALSE(std::filesystem::exists(rows));
}

}  // namespace
}  // namespace disagg::cli
