// The elastic planner: estimator and capacity arithmetic by hand, and the
// directions the issue asks for, on simulated runs: dynamic rate matching at
// least as good as the best static split across seeds, the GPU budget never
// exceeded, a static planner identical to a plain run, and a longer
// reconfiguration delay never helping.
#include "disagg/sim/planner.h"

#include <gtest/gtest.h>

#include <cmath>

#include "disagg/serving/phase.h"
#include "disagg/sim/phased_workload.h"
#include "disagg/sim/simulator.h"
#include "disagg/testing/fixtures.h"

namespace disagg::sim {
namespace {

using testing::CatalogModel;
using testing::CatalogSystem;
using testing::Preset;

TEST(TrafficEstimator, WindowAndEwma) {
  TrafficEstimator e({0, 1000});
  // Interval 1: 4 arrivals in 2 s, ISL 500, 500, 1500, 2500: rate 2/s, mean
  // ISL 1250; ISL <= 1000: 2 of 4 with mean 500. Two finish with OSL 100, 300.
  for (int64_t isl : {500, 500, 1500, 2500}) e.OnArrival(isl);
  e.OnFinish(100);
  e.OnFinish(300);
  TrafficEstimate prior;
  prior.mean_osl = 999;
  auto seen = e.Close(2, 0.25, prior);
  EXPECT_DOUBLE_EQ(seen.rate, 2);
  EXPECT_DOUBLE_EQ(seen.mean_isl, 1250);
  EXPECT_DOUBLE_EQ(seen.mean_osl, 200);
  EXPECT_DOUBLE_EQ(seen.share_at_most[1], 0.5);
  EXPECT_DOUBLE_EQ(seen.mean_isl_at_most[1], 500);
  EXPECT_DOUBLE_EQ(e.prediction().rate, 2);
  // Interval 2: 12 arrivals in 2 s (6/s), nothing finished. EWMA rate
  // 0.25 x 6 + 0.75 x 2 = 3; the prediction scales up on the window: 6.
  // OSL: no completion, so the running estimate (200) stands.
  for (int k = 0; k < 12; ++k) e.OnArrival(100);
  seen = e.Close(2, 0.25, prior);
  EXPECT_DOUBLE_EQ(seen.rate, 6);
  EXPECT_DOUBLE_EQ(e.prediction().rate, 6);
  EXPECT_DOUBLE_EQ(e.prediction().mean_osl, 200);
  // Interval 3: quiet (0/s). EWMA 0.25 x 0 + 0.75 x 3 = 2.25: scale down
  // on the smoothed rate, not to zero.
  seen = e.Close(2, 0.25, prior);
  EXPECT_DOUBLE_EQ(seen.rate, 0);
  EXPECT_DOUBLE_EQ(e.prediction().rate, 2.25);
}

TEST(PlannerPolicy, Names) {
  EXPECT_EQ(ParsePolicy("static")->policy, PlannerPolicy::kStatic);
  EXPECT_EQ(ParsePolicy("static-best")->policy, PlannerPolicy::kStaticBest);
  auto d = ParsePolicy("dynamic+local");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->policy, PlannerPolicy::kDynamic);
  EXPECT_TRUE(d->local);
  auto s = ParsePolicy("static:3:1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->prefill, 3);
  EXPECT_EQ(s->decode, 1);
  EXPECT_FALSE(ParsePolicy("static:3").has_value());
  EXPECT_FALSE(ParsePolicy("static:0:1").has_value());
  auto bad = ParsePolicy("elastic");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("elastic"), std::string::npos);
}

SimConfig Base() {
  SimConfig c;
  c.model = CatalogModel("llama-3.1-8b");
  c.system = CatalogSystem("h200_sxm");
  c.precision = Preset("fp8");
  c.deployment.disaggregated = true;
  c.deployment.prefill = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 1, 1, 0};
  c.deployment.decode = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 1, 128, 0};
  c.prompt_hint = 4096;
  return c;
}

TEST(FleetPlanner, CapacityFromTheStepModel) {
  SimConfig c = Base();
  auto pools = BuildPools(c.model, c.system, c.precision, c.backend, c.deployment, 4096);
  ASSERT_TRUE(pools.has_value());
  PlannerOptions o;
  o.gpu_budget = 8;
  FleetPlanner relaxed(o, (*pools)[0], (*pools)[1]);
  // The prefill rate is the analytic one of a batch-1 instance.
  EXPECT_DOUBLE_EQ(relaxed.PrefillRate(4096, 128),
                   serving::EvaluatePrefill(*(*pools)[0].model, 1, {4096, 128}).requests_per_s);
  // Without a TTL limit the batch is the pool's 128 (the cache holds more).
  EXPECT_EQ(relaxed.DecodeBatch(1024, 1024), 128);
  // A TTL limit shrinks it, a tighter one more; the chosen batch's step at
  // the longest mean context (ISL + OSL = 2048, which is EvaluateDecode's
  // ISL + OSL / 2 with ISL 1536) is within 95% of the limit and one more
  // sequence's would not be.
  int last = 128;
  for (double ttl : {0.02, 0.01, 0.006}) {
    o.ttl_max = ttl;
    FleetPlanner p(o, (*pools)[0], (*pools)[1]);
    int b = p.DecodeBatch(1024, 1024);
    EXPECT_LE(b, last) << ttl;
    last = b;
    if (b > 1 && b < 128) {
      auto at = [&](int n) {
        return serving::EvaluateDecode(*(*pools)[1].model, n, {1536, 1024}).ttl;
      };
      EXPECT_LE(at(b), 0.95 * ttl);
      EXPECT_GT(at(b + 1), 0.95 * ttl);
    }
  }
  EXPECT_LT(last, 128);
}

constexpr const char* kShift = R"({"name": "shift", "phases": [
  {"duration": "8m", "rate": 32, "isl": 4096, "osl": 128},
  {"duration": "8m", "rate": 32, "isl": 256, "osl": 1024, "ramp": "1m"},
  {"duration": "8m", "rate": 32, "isl": 4096, "osl": 128, "ramp": "1m"}]})";

SimResult RunPolicy(const PhasedWorkload& w, PlannerPolicy policy, uint64_t seed, double delay = 30,
                    int budget = 4) {
  SimConfig c = Base();
  c.ftl_max = 2;
  c.ttl_max = 0.025;
  PlannerOptions o;
  o.policy = policy;
  o.gpu_budget = budget;
  o.reconfig_delay = delay;
  // Both pools run tp1, so a role flip finds its weights loaded; make every
  // change pay the delay (a fresh weight load) to see its effect.
  o.role_flip_delay = delay;
  o.SizeFor(w.Average());
  o.ftl_max = c.ftl_max;
  o.ttl_max = c.ttl_max;
  c.planner = o;
  auto source = w.NewSource(seed);
  c.source = source.get();
  auto r = Simulate(c);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  return r.has_value() ? *r : SimResult{};
}

TEST(Planner, DynamicAtLeastAsGoodAsTheBestStaticSplitAcrossSeeds) {
  auto w = ParseWorkload(kShift, "shift");
  ASSERT_TRUE(w.has_value()) << w.error().message;
  for (uint64_t seed : {1, 2, 3}) {
    SimResult best = RunPolicy(**w, PlannerPolicy::kStaticBest, seed);
    SimResult even = RunPolicy(**w, PlannerPolicy::kStatic, seed);
    SimResult dyn = RunPolicy(**w, PlannerPolicy::kDynamic, seed);
    const double best_static = std::max(best.sla_attainment, even.sla_attainment);
    EXPECT_GE(dyn.sla_attainment, best_static - 0.02) << "seed " << seed;
    EXPECT_GE(dyn.goodput_rps, std::max(best.goodput_rps, even.goodput_rps) * 0.98) << seed;
    EXPECT_GT(dyn.reconfigurations, 0);
    EXPECT_EQ(best.reconfigurations, 0);
    // Conservation of GPUs: never above the budget, at any moment.
    for (const SimResult* r : {&best, &even, &dyn}) {
      EXPECT_LE(r->max_gpus_held, 4);
      for (const auto& s : r->planner_timeline) EXPECT_LE(s.gpus, 4);
      // Conservation of requests.
      EXPECT_EQ(r->requests_arrived,
                r->requests_completed + r->requests_unfinished + r->requests_rejected);
    }
    // GPU-hours never exceed the budget over the run.
    EXPECT_LE(dyn.gpu_hours, 4 * dyn.end / 3600 + 1e-9);
  }
}

TEST(Planner, LongerReconfigurationDelayNeverHelps) {
  auto w = ParseWorkload(kShift, "shift");
  ASSERT_TRUE(w.has_value());
  SimResult fast = RunPolicy(**w, PlannerPolicy::kDynamic, 1, 0);
  SimResult slow = RunPolicy(**w, PlannerPolicy::kDynamic, 1, 30);
  EXPECT_GE(fast.sla_attainment, slow.sla_attainment);
  EXPECT_GE(fast.goodput_rps, slow.goodput_rps);
  EXPECT_GT(fast.sla_attainment - slow.sla_attainment, 0.01);
}

// The study's fixed-ratio experiment (examples/workloads/fixed-ratio.json):
// under a relaxed TTL limit a prefill-heavy split wins and a decode-heavy one
// loses; under a tight limit the reverse; dynamic rate matching is within
// noise of the best fixed split in both.
TEST(Planner, FixedRatioRightInOneRegimeIsWrongInTheOther) {
  constexpr const char* kChat = R"({"name": "chat", "phases": [{"duration": "20m", "rate": 24,
      "isl": {"mean": 2048, "sigma": 0.5}, "osl": {"mean": 512, "sigma": 0.5}}]})";
  auto w = ParseWorkload(kChat, "chat");
  ASSERT_TRUE(w.has_value()) << w.error().message;
  struct Regime {
    double ftl, ttl, scale;
  };
  auto run = [&](const Regime& g, PlannerPolicy policy, int x, int y) {
    SimConfig c;
    c.model = CatalogModel("llama-3.1-70b");
    c.system = CatalogSystem("h200_sxm");
    c.precision = Preset("fp8");
    c.deployment.disaggregated = true;
    c.deployment.prefill = PoolSpec{perf::Mapping{4, 1, 1, 1, 1}, 1, 1, 0};
    c.deployment.decode = PoolSpec{perf::Mapping{4, 1, 1, 1, 1}, 1, 256, 0};
    c.prompt_hint = 8192;
    c.ftl_max = g.ftl;
    c.ttl_max = g.ttl;
    PhasedWorkload scaled = (*w)->WithRateScale(g.scale);
    PlannerOptions o;
    o.policy = policy;
    o.gpu_budget = 32;
    o.static_prefill = x;
    o.static_decode = y;
    o.SizeFor(scaled.Average());
    o.ftl_max = g.ftl;
    o.ttl_max = g.ttl;
    c.planner = o;
    auto source = scaled.NewSource(1);
    c.source = source.get();
    auto r = Simulate(c);
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? r->sla_attainment : 0.0;
  };
  // Relaxed: TTL <= 50 ms at 33.6 requests/s; tight: TTL <= 14 ms at 16.8
  // (about 2 ms above the step floor of a tp4 70B decode instance).
  const Regime relaxed{10, 0.050, 1.4}, tight{2, 0.014, 0.7};
  const double prefill_heavy_relaxed = run(relaxed, PlannerPolicy::kStatic, 5, 3);
  const double decode_heavy_relaxed = run(relaxed, PlannerPolicy::kStatic, 2, 6);
  const double prefill_heavy_tight = run(tight, PlannerPolicy::kStatic, 5, 3);
  const double decode_heavy_tight = run(tight, PlannerPolicy::kStatic, 2, 6);
  EXPECT_GT(prefill_heavy_relaxed, decode_heavy_relaxed + 0.5);
  EXPECT_GT(decode_heavy_tight, prefill_heavy_tight + 0.5);
  // Dynamic is right in both: far above the split that is wrong there, and
  // near the one that is right. Near: within 5 points, since its decode
  // pool is sized with 1.2x headroom for the SLA, not for the most
  // attainment (at tight latency it keeps 3:5, 99% with the current h200
  // catalog and 95% with the previous one, against 2:6's 99-100%).
  const double dynamic_relaxed = run(relaxed, PlannerPolicy::kDynamic, 0, 0);
  const double dynamic_tight = run(tight, PlannerPolicy::kDynamic, 0, 0);
  EXPECT_GT(dynamic_relaxed, decode_heavy_relaxed + 0.5);
  EXPECT_GT(dynamic_tight, prefill_heavy_tight + 0.5);
  EXPECT_GE(dynamic_relaxed, std::max(prefill_heavy_relaxed, decode_heavy_relaxed) - 0.05);
  EXPECT_GE(dynamic_tight, std::max(prefill_heavy_tight, decode_heavy_tight) - 0.05);
}

TEST(Planner, StaticPlannerEqualsAPlainRun) {
  // A static planner with the deployment's counts runs exactly the same fleet.
  auto w = ParseWorkload(R"({"name": "flat", "phases": [
    {"duration": "3m", "rate": 6, "isl": {"min": 500, "max": 3000}, "osl": {"min": 50, "max": 400}}]})",
                         "flat");
  ASSERT_TRUE(w.has_value());
  SimConfig plain = Base();
  plain.deployment.prefill.instances = 1;
  plain.deployment.decode.instances = 2;
  plain.ftl_max = 1;
  auto s1 = (*w)->NewSource(5);
  plain.source = s1.get();
  auto a = Simulate(plain);
  ASSERT_TRUE(a.has_value());
  SimConfig planned = plain;
  PlannerOptions o;
  o.policy = PlannerPolicy::kStatic;
  o.gpu_budget = 6;
  o.static_prefill = 1;
  o.static_decode = 2;
  o.average_rate = 6;
  o.average_isl = 1750;
  o.average_osl = 225;
  planned.planner = o;
  auto s2 = (*w)->NewSource(5);
  planned.source = s2.get();
  auto b = Simulate(planned);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->requests_completed, b->requests_completed);
  EXPECT_EQ(a->ftl.mean, b->ftl.mean);
  EXPECT_EQ(a->ttl.mean, b->ttl.mean);
  EXPECT_EQ(a->goodput_rps, b->goodput_rps);
  EXPECT_EQ(b->reconfigurations, 0);
  EXPECT_EQ(b->max_gpus_held, 3);
  // 3 GPUs held from t = 0 to the last request's end.
  EXPECT_NEAR(b->gpu_hours, 3 * b->end / 3600, 1e-9);
}

TEST(Planner, NeedsADisaggregatedDeployment) {
  SimConfig c = Base();
  c.deployment.disaggregated = false;
  c.deployment.colocated = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 1, 64, 512};
  c.planner = PlannerOptions{};
  c.planner->gpu_budget = 4;
  auto w = ParseWorkload(kShift, "shift");
  auto s = (*w)->NewSource(1);
  c.source = s.get();
  auto r = Simulate(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("disaggregated"), std::string::npos);
}

}  // namespace
}  // namespace disagg::sim
