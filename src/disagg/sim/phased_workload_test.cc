#include "disagg/sim/phased_workload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

namespace disagg::sim {
namespace {

std::unique_ptr<PhasedWorkload> Parse(const std::string& text) {
  auto w = ParseWorkload(text, "wl.json");
  EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().message);
  return w ? std::move(*w) : nullptr;
}

std::vector<RequestSpec> Drain(RequestSource& source) {
  std::vector<RequestSpec> out;
  while (true) {
    auto next = source.Next();
    EXPECT_TRUE(next.has_value()) << (next ? "" : next.error().message);
    if (!next || !*next) break;
    out.push_back(**next);
  }
  return out;
}

std::vector<RequestSpec> Generate(const std::string& text, std::optional<uint64_t> seed = {}) {
  auto w = Parse(text);
  if (!w) return {};
  auto source = seed ? w->NewSource(*seed) : w->NewSource();
  return Drain(*source);
}

int64_t CountIn(const std::vector<RequestSpec>& r, double t0, double t1) {
  int64_t n = 0;
  for (const auto& x : r) n += x.arrival >= t0 && x.arrival < t1;
  return n;
}

// A Poisson count with mean m lies within 3 standard deviations.
void ExpectPoisson(int64_t count, double mean) {
  EXPECT_NEAR(static_cast<double>(count), mean, 3 * std::sqrt(mean)) << "mean " << mean;
}

// Every arrival is in [0, duration), in order, with ids 0, 1, 2, ...
void ExpectWellFormed(const std::vector<RequestSpec>& r, double duration) {
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].id, static_cast<int64_t>(i));
    EXPECT_GE(r[i].arrival, 0);
    EXPECT_LT(r[i].arrival, duration);
    if (i > 0) {
      EXPECT_GE(r[i].arrival, r[i - 1].arrival);
    }
    EXPECT_GE(r[i].isl, 1);
    EXPECT_GE(r[i].osl, 1);
  }
}

constexpr const char* kConstant = R"({"name": "c", "phases": [
  {"duration": "10000s", "rate": 10, "isl": 100, "osl": 10}]})";

TEST(PhasedWorkload, RateScaleMultipliesEveryRate) {
  auto w = Parse(R"({"name": "s", "phases": [
      {"duration": "10m", "rate": {"from": 2, "to": 6}, "isl": 100, "osl": 10},
      {"duration": "10m", "rate": 1, "isl": 100, "osl": 10, "ramp": "2m"}]})");
  PhasedWorkload k = w->WithRateScale(2.5);
  for (double t : {0.0, 100.0, 599.0, 650.0, 1000.0}) {
    EXPECT_NEAR(k.Rate(t), 2.5 * w->Rate(t), 1e-12 * w->Rate(t)) << t;
  }
  // Expected arrivals over the whole run scale the same way: the first
  // phase averages 4/s, the second 1/s (ramp from 6 to 1 over 2 min: mean
  // 3.5/s for 120 s, then 1/s for 480 s): 2400 + 420 + 480 = 3300, times
  // 2.5 = 8250.
  EXPECT_NEAR(w->ExpectedArrivals(0, 1200), 3300, 1e-6);
  EXPECT_NEAR(k.ExpectedArrivals(0, 1200), 8250, 1e-6);
  EXPECT_NEAR(k.Average().rate, 2.5 * w->Average().rate, 1e-9);
  // A diurnal pattern scales too.
  auto d = Parse(R"({"name": "d", "phases": [{"duration": "1h", "rate": 3, "isl": 9, "osl": 9}],
      "diurnal": {"period": "10m", "amplitude": 0.5}})");
  PhasedWorkload dk = d->WithRateScale(0.5);
  for (double t : {0.0, 150.0, 300.0, 1234.0}) EXPECT_NEAR(dk.Rate(t), 0.5 * d->Rate(t), 1e-12);
}

TEST(PhasedWorkload, ConstantPoissonCountMatchesRateTimesDuration) {
  auto r = Generate(kConstant);
  ExpectWellFormed(r, 10000);
  ExpectPoisson(static_cast<int64_t>(r.size()), 10 * 10000);  // 100000 +- 949
  // Halves are independent Poisson counts too.
  ExpectPoisson(CountIn(r, 0, 5000), 50000);
  for (const auto& x : r) ASSERT_EQ(x.isl, 100);
}

TEST(PhasedWorkload, GammaKeepsTheRateAndHasTheRequestedCv) {
  auto r = Generate(R"({"name": "g", "phases": [{"duration": 20000, "rate": 10,
      "arrival": "gamma", "cv": 2, "isl": 1, "osl": 1}]})");
  // A renewal count has variance ~ mean x cv^2: 200000 +- 3 x 894.
  EXPECT_NEAR(static_cast<double>(r.size()), 200000, 3 * std::sqrt(200000.0) * 2);
  double sum = 0, sum2 = 0;
  for (size_t i = 1; i < r.size(); ++i) {
    double g = r[i].arrival - r[i - 1].arrival;
    sum += g;
    sum2 += g * g;
  }
  double n = static_cast<double>(r.size() - 1), mean = sum / n;
  EXPECT_NEAR(mean, 0.1, 0.003);
  EXPECT_NEAR(std::sqrt(sum2 / n - mean * mean) / mean, 2.0, 0.1);
}

TEST(PhasedWorkload, UniformArrivalsAreEvenlySpaced) {
  auto r = Generate(R"({"name": "u", "phases": [{"duration": "100s", "rate": 5,
      "arrival": "uniform", "isl": 1, "osl": 1}]})");
  // One gap of 0.2 s after t = 0, then every 0.2 s: 0.2, ..., 99.8 and
  // perhaps 100 - rounding.
  ASSERT_GE(r.size(), 499u);
  ASSERT_LE(r.size(), 500u);
  for (size_t i = 0; i < r.size(); ++i) EXPECT_NEAR(r[i].arrival, 0.2 * (i + 1), 1e-9);
}

TEST(PhasedWorkload, ArrivalsAreUnitStepsOfTheRescaledClock) {
  // Uniform arrivals sit at Lambda(t) = 1, 2, 3, ...: checks the inversion
  // through a linear ramp, a quadratic cross-fade and the diurnal cosine.
  auto w = Parse(R"({"name": "x", "phases": [
      {"duration": 600, "rate": {"from": 2, "to": 10}, "arrival": "uniform", "isl": 1, "osl": 1},
      {"duration": 900, "rate": {"from": 10, "to": 4}, "arrival": "uniform", "isl": 2, "osl": 2,
       "ramp": 200}],
      "diurnal": {"period": "20m", "amplitude": 0.5, "peak": "10m"}})");
  ASSERT_TRUE(w);
  auto r = Drain(*w->NewSource());
  double total = w->ExpectedArrivals(0, 1500);
  ASSERT_NEAR(static_cast<double>(r.size()), total, 1);
  for (size_t i = 0; i < r.size(); ++i) {
    ASSERT_NEAR(w->ExpectedArrivals(0, r[i].arrival), static_cast<double>(i + 1), 1e-6) << i;
  }
}

constexpr const char* kRamp = R"({"name": "r", "phases": [
  {"duration": "1h", "rate": {"from": 5, "to": 45}, "isl": 3000, "osl": 300}]})";

TEST(PhasedWorkload, LinearRampGivesTheMeanRateAndTheRampedDensity) {
  auto w = Parse(kRamp);
  ASSERT_TRUE(w);
  // (5 + 45) / 2 x 3600 = 90000; first tenth: 5 x 360 + 40/3600 x 360^2 / 2
  // = 2520; last tenth: 45 x 360 - 720 = 15480.
  EXPECT_NEAR(w->ExpectedArrivals(0, 3600), 90000, 1e-6);
  EXPECT_NEAR(w->ExpectedArrivals(0, 360), 2520, 1e-8);
  EXPECT_NEAR(w->ExpectedArrivals(3240, 3600), 15480, 1e-8);
  EXPECT_DOUBLE_EQ(w->Rate(0), 5);
  EXPECT_DOUBLE_EQ(w->Rate(1800), 25);
  EXPECT_EQ(w->Rate(3600), 0);  // outside
  EXPECT_EQ(w->Rate(-1), 0);
  auto r = Drain(*w->NewSource());
  ExpectWellFormed(r, 3600);
  ExpectPoisson(static_cast<int64_t>(r.size()), 90000);
  ExpectPoisson(CountIn(r, 0, 360), 2520);
  ExpectPoisson(CountIn(r, 3240, 3600), 15480);
}

TEST(PhasedWorkload, DiurnalModulatesTheRate) {
  auto w = Parse(R"({"name": "d", "phases": [{"duration": "1h", "rate": 10, "isl": 1, "osl": 1}],
      "diurnal": {"period": "1h", "amplitude": 0.5}})");
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(w->Rate(0), 15);  // peak at 0
  EXPECT_NEAR(w->Rate(900), 10, 1e-12);
  EXPECT_DOUBLE_EQ(w->Rate(1800), 5);
  // Over a whole period the cosine integrates to 0.
  EXPECT_NEAR(w->ExpectedArrivals(0, 3600), 36000, 1e-6);
  // [0, 900]: 9000 + 5 x 3600 / (2 pi) x sin(pi / 2).
  double near_peak = 9000 + 5 * 3600 / (2 * std::numbers::pi);
  // [1350, 2250]: 9000 - 5 x 3600 x sqrt(2) / (2 pi).
  double near_trough = 9000 - 5 * 3600 * std::numbers::sqrt2 / (2 * std::numbers::pi);
  EXPECT_NEAR(w->ExpectedArrivals(0, 900), near_peak, 1e-6);
  EXPECT_NEAR(w->ExpectedArrivals(1350, 2250), near_trough, 1e-6);
  auto r = Drain(*w->NewSource());
  ExpectWellFormed(r, 3600);
  ExpectPoisson(static_cast<int64_t>(r.size()), 36000);
  ExpectPoisson(CountIn(r, 0, 900), near_peak);
  ExpectPoisson(CountIn(r, 1350, 2250), near_trough);
}

TEST(PhasedWorkload, DiurnalPeakIsWhereTheRateIsHighest) {
  auto w = Parse(R"({"name": "d", "phases": [{"duration": "24h", "rate": 2, "isl": 1, "osl": 1}],
      "diurnal": {"period": "24h", "amplitude": 0.25, "peak": "14h"}})");
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(w->Rate(14 * 3600), 2.5);
  EXPECT_DOUBLE_EQ(w->Rate(2 * 3600), 1.5);
  EXPECT_LT(w->Rate(13 * 3600), w->Rate(14 * 3600));
  EXPECT_LT(w->Rate(15 * 3600), w->Rate(14 * 3600));
  EXPECT_NEAR(w->Average().rate, 2, 1e-9);
}

// Phase 1: 10 req/s, ISL 1000 / OSL 100, 600 s. Phase 2: 30 req/s, ISL 100 /
// OSL 1000, 600 s, cross-fading over its first 300 s.
constexpr const char* kFade = R"({"name": "f", "phases": [
  {"duration": "10m", "rate": 10, "isl": 1000, "osl": 100},
  {"duration": "10m", "rate": 30, "isl": 100, "osl": 1000, "ramp": "5m"}]})";

TEST(PhasedWorkload, CrossFadeRampsTheRateAndTheLengths) {
  auto w = Parse(kFade);
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(w->Rate(599.999), 10);
  EXPECT_DOUBLE_EQ(w->Rate(600), 10);  // continuous at the boundary
  EXPECT_DOUBLE_EQ(w->Rate(750), 20);
  EXPECT_DOUBLE_EQ(w->Rate(900), 30);
  EXPECT_DOUBLE_EQ(w->MeanIsl(600), 1000);
  EXPECT_DOUBLE_EQ(w->MeanIsl(750), 550);
  EXPECT_DOUBLE_EQ(w->MeanOsl(750), 550);
  EXPECT_DOUBLE_EQ(w->MeanIsl(900), 100);
  EXPECT_DOUBLE_EQ(w->MeanIsl(1e9), 100);
  // Over the ramp: integral of 10 + 20 u / 300 = 6000 requests.
  EXPECT_NEAR(w->ExpectedArrivals(600, 900), 6000, 1e-8);
  auto r = Drain(*w->NewSource());
  ExpectWellFormed(r, 1200);
  ExpectPoisson(CountIn(r, 600, 900), 6000);
  // Requests of the new population (ISL 100, OSL 1000, together) during the
  // ramp: integral of rate x w / 300 = (1500 + 2000) = 3500 of 6000.
  int64_t new_pop = 0;
  for (const auto& x : r) {
    if (x.arrival < 600) {
      EXPECT_EQ(x.isl, 1000);
    }
    if (x.arrival >= 900) {
      EXPECT_EQ(x.isl, 100);
    }
    if (x.arrival >= 600 && x.arrival < 900) {
      EXPECT_TRUE((x.isl == 100 && x.osl == 1000) || (x.isl == 1000 && x.osl == 100));
      new_pop += x.isl == 100;
    }
  }
  ExpectPoisson(new_pop, 3500);
}

TEST(PhasedWorkload, CrossFadeIntoARampedPhase) {
  // Previous final rate 20; phase 2 ramps 10 -> 40 over 600 s with a 300 s
  // cross-fade: integral over the fade of 20 (1 - w) + w (10 + u / 20) = 6000.
  auto w = Parse(R"({"name": "f", "phases": [
      {"duration": 600, "rate": 20, "isl": 1, "osl": 1},
      {"duration": 600, "rate": {"from": 10, "to": 40}, "isl": 1, "osl": 1, "ramp": 300}]})");
  ASSERT_TRUE(w);
  EXPECT_NEAR(w->ExpectedArrivals(600, 900), 6000, 1e-8);
  EXPECT_DOUBLE_EQ(w->Rate(900), 25);
  EXPECT_NEAR(w->Rate(1199.999), 40, 1e-3);
  EXPECT_NEAR(w->ExpectedArrivals(900, 1200), 300 * 32.5, 1e-8);
  auto r = Drain(*w->NewSource(3));
  ExpectPoisson(CountIn(r, 600, 900), 6000);
  ExpectPoisson(CountIn(r, 900, 1200), 9750);
}

TEST(PhasedWorkload, PhaseBoundariesAndZeroRatePhases) {
  auto w = Parse(R"({"name": "b", "phases": [
      {"name": "on", "duration": "10m", "rate": 10, "isl": 1, "osl": 1},
      {"name": "off", "duration": "20m", "rate": 0, "isl": 1, "osl": 1},
      {"duration": "30s", "rate": 10, "arrival": "gamma", "cv": 0.5, "isl": 1, "osl": 1}]})");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->PhaseBoundaries(), (std::vector<double>{0, 600, 1800, 1830}));
  EXPECT_EQ(w->duration(), 1830);
  EXPECT_EQ(w->phases()[0].name, "on");
  EXPECT_EQ(w->phases()[2].name, "");
  EXPECT_EQ(w->PhaseAt(-1), 0u);
  EXPECT_EQ(w->PhaseAt(599.9), 0u);
  EXPECT_EQ(w->PhaseAt(600), 1u);
  EXPECT_EQ(w->PhaseAt(1800), 2u);
  EXPECT_EQ(w->PhaseAt(1e9), 2u);
  auto r = Drain(*w->NewSource());
  ExpectWellFormed(r, 1830);
  EXPECT_EQ(CountIn(r, 600, 1800), 0);
  ExpectPoisson(CountIn(r, 0, 600), 6000);
  EXPECT_GT(CountIn(r, 1800, 1830), 250);  // 300 expected, cv 0.5
  EXPECT_LT(CountIn(r, 1800, 1830), 350);
}

TEST(PhasedWorkload, AverageTrafficIsArrivalWeighted) {
  auto w = Parse(R"({"name": "a", "phases": [
      {"duration": 100, "rate": 10, "isl": 1000, "osl": {"min": 10, "max": 30}},
      {"duration": 100, "rate": 30, "isl": {"mean": 100, "sigma": 0.5}, "osl": 40}]})");
  ASSERT_TRUE(w);
  AverageTraffic a = w->Average();
  EXPECT_NEAR(a.rate, 20, 1e-12);
  EXPECT_NEAR(a.mean_isl, (1000 * 1000 + 3000 * 100) / 4000.0, 1e-9);  // 325
  EXPECT_NEAR(a.mean_osl, (1000 * 20 + 3000 * 40) / 4000.0, 1e-9);     // 35
}

TEST(PhasedWorkload, LengthDistributions) {
  auto r = Generate(R"({"name": "l", "phases": [{"duration": 2000, "rate": 10,
      "isl": {"mean": 1000, "sigma": 0.5}, "osl": {"min": 10, "max": 14}}]})");
  ASSERT_GT(r.size(), 19000u);
  double isl = 0, osl = 0;
  int64_t osl_min = 100, osl_max = 0;
  for (const auto& x : r) {
    isl += static_cast<double>(x.isl);
    osl += static_cast<double>(x.osl);
    osl_min = std::min(osl_min, x.osl);
    osl_max = std::max(osl_max, x.osl);
  }
  double n = static_cast<double>(r.size());
  // Lognormal sd = 1000 sqrt(e^0.25 - 1) = 533; standard error ~3.8.
  EXPECT_NEAR(isl / n, 1000, 12);
  EXPECT_NEAR(osl / n, 12, 0.05);
  EXPECT_EQ(osl_min, 10);
  EXPECT_EQ(osl_max, 14);
}

TEST(PhasedWorkload, DeterministicBySeed) {
  auto w = Parse(kFade);
  ASSERT_TRUE(w);
  auto a = Drain(*w->NewSource());
  auto b = Drain(*w->NewSource());
  auto c = Drain(*w->NewSource(w->seed() + 1));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].arrival, b[i].arrival);
    EXPECT_EQ(a[i].isl, b[i].isl);
  }
  bool differs = a.size() != c.size();
  for (size_t i = 0; !differs && i < a.size(); ++i) differs = a[i].arrival != c[i].arrival;
  EXPECT_TRUE(differs);
  // The file's seed is the default; arrival times do not depend on lengths.
  auto seeded = Generate(R"({"name": "s", "seed": 9, "phases": [
      {"duration": 100, "rate": 10, "isl": 5, "osl": 5}]})");
  auto other_lengths = Generate(R"({"name": "s", "phases": [
      {"duration": 100, "rate": 10, "isl": {"min": 1, "max": 9}, "osl": 5}]})",
                                9);
  ASSERT_EQ(seeded.size(), other_lengths.size());
  for (size_t i = 0; i < seeded.size(); ++i) {
    EXPECT_EQ(seeded[i].arrival, other_lengths[i].arrival);
  }
}

TEST(PhasedWorkload, SourceOutlivesTheWorkloadAndStaysFinished) {
  auto w = Parse(kConstant);
  ASSERT_TRUE(w);
  auto source = w->NewSource();
  w.reset();
  auto r = Drain(*source);
  EXPECT_GT(r.size(), 90000u);
  auto again = source->Next();
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());
}

// ------------------------------------------------------------ bad input

// The error for `text`, which must mention every string of `parts`.
void ExpectError(const std::string& text, std::vector<std::string> parts) {
  auto w = ParseWorkload(text, "wl.json");
  ASSERT_FALSE(w.has_value()) << text;
  const std::string& m = w.error().message;
  EXPECT_TRUE(m.starts_with("wl.json:")) << m;
  for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' in " << m;
}

std::string OnePhase(const std::string& phase, const std::string& extra = "") {
  return R"({"name": "x", "phases": [)" + phase + "]" + extra + "}";
}

TEST(PhasedWorkloadBadInput, UnknownKeysNameTheirPath) {
  ExpectError(R"({"name": "x", "phases": [{"duration": 1, "rate": 1, "isl": 1, "osl": 1},
      {"duration": 1, "rat": 1, "rate": 1, "isl": 1, "osl": 1}]})",
              {"phases[1].rat", "unknown key"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": {"min": 1, "max": 2, "avg": 3},
      "osl": 1})"),
              {"phases[0].isl.avg", "unknown key"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": {"from": 1, "to": 2, "by": 3}, "isl": 1,
      "osl": 1})"),
              {"phases[0].rate.by", "unknown key"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": 1, "osl": 1})",
                       R"(, "diurnal": {"period": "1h", "amplitude": 0.5, "phase": "2h"})"),
              {"diurnal.phase", "unknown key"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": 1, "osl": 1})", R"(, "sed": 3)"),
              {"sed", "unknown key"});
}

TEST(PhasedWorkloadBadInput, Durations) {
  ExpectError(OnePhase(R"({"duration": "-5m", "rate": 1, "isl": 1, "osl": 1})"),
              {"phases[0].duration", "-5m", "negative"});
  ExpectError(OnePhase(R"({"duration": -300, "rate": 1, "isl": 1, "osl": 1})"),
              {"phases[0].duration", "-300"});
  ExpectError(OnePhase(R"({"duration": "0s", "rate": 1, "isl": 1, "osl": 1})"),
              {"phases[0].duration", "\"0s\"", "> 0"});
  ExpectError(OnePhase(R"({"duration": "5 parsecs", "rate": 1, "isl": 1, "osl": 1})"),
              {"phases[0].duration", "5 parsecs"});
  ExpectError(OnePhase(R"({"duration": true, "rate": 1, "isl": 1, "osl": 1})"),
              {"phases[0].duration", "true"});
  ExpectError(OnePhase(R"({"rate": 1, "isl": 1, "osl": 1})"), {"phases[0].duration", "missing"});
  ExpectError(R"({"name": "x", "phases": [{"duration": 1, "rate": 1, "isl": 1, "osl": 1},
      {"duration": 60, "rate": 1, "isl": 1, "osl": 1, "ramp": "2m"}]})",
              {"phases[1].ramp", "120", "longer than", "60"});
  ExpectError(OnePhase(R"({"duration": 60, "rate": 1, "isl": 1, "osl": 1, "ramp": 10})"),
              {"phases[0].ramp", "first phase"});
  ExpectError(OnePhase(R"({"duration": "100000h", "rate": 1, "isl": 1, "osl": 1})"),
              {"phases[0].duration", "100000h"});
}

TEST(PhasedWorkloadBadInput, Rates) {
  ExpectError(OnePhase(R"({"duration": 1, "rate": -1, "isl": 1, "osl": 1})"),
              {"phases[0].rate", "-1"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": {"from": -2, "to": 3}, "isl": 1, "osl": 1})"),
              {"phases[0].rate.from", "-2"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": {"from": 2}, "isl": 1, "osl": 1})"),
              {"phases[0].rate.to", "missing"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": "fast", "isl": 1, "osl": 1})"),
              {"phases[0].rate", "\"fast\""});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 0, "isl": 1, "osl": 1})"),
              {"phases", "every rate is 0"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "arrival": "bursty", "isl": 1, "osl": 1})"),
              {"phases[0].arrival", "bursty"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "cv": 2, "isl": 1, "osl": 1})"),
              {"phases[0].cv", "2", "gamma"});
  ExpectError(
      OnePhase(R"({"duration": 1, "rate": 1, "arrival": "gamma", "cv": 0, "isl": 1, "osl": 1})"),
      {"phases[0].cv", "0"});
}

TEST(PhasedWorkloadBadInput, Phases) {
  ExpectError(R"({"name": "x", "phases": []})", {"phases", "[]", "non-empty"});
  ExpectError(R"({"name": "x"})", {"phases", "nothing"});
  ExpectError(R"({"name": "x", "phases": {"duration": 1}})", {"phases", "non-empty list"});
  ExpectError(R"({"name": "x", "phases": [5]})", {"phases[0]", "expected a JSON object", "5"});
  ExpectError(R"({"phases": [{"duration": 1, "rate": 1, "isl": 1, "osl": 1}]})",
              {"name", "missing"});
  ExpectError(R"({"name": "", "phases": [{"duration": 1, "rate": 1, "isl": 1, "osl": 1}]})",
              {"name", "empty"});
  ExpectError(R"([1, 2])", {"expected a JSON object"});
}

TEST(PhasedWorkloadBadInput, Lengths) {
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": {"min": 10, "max": 5}, "osl": 1})"),
              {"phases[0].isl.min", "min 10 > max 5"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": 0, "osl": 1})"),
              {"phases[0].isl", "0", "out of range"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": 2.5, "osl": 1})"),
              {"phases[0].isl", "2.5", "integer"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": 1})"), {"phases[0].osl", "missing"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": 1,
      "osl": {"mean": 100, "sigma": 50}})"),
              {"phases[0].osl.sigma", "50"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": 1,
      "osl": {"mean": 100, "max": 200}})"),
              {"phases[0].osl", "mixes"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": {"mean": 0.5, "sigma": 1},
      "osl": 1})"),
              {"phases[0].isl.mean", "0.5"});
  ExpectError(OnePhase(R"({"duration": 1, "rate": 1, "isl": "long", "osl": 1})"),
              {"phases[0].isl", "\"long\""});
}

TEST(PhasedWorkloadBadInput, Diurnal) {
  const std::string phase = R"({"duration": 1, "rate": 1, "isl": 1, "osl": 1})";
  ExpectError(OnePhase(phase, R"(, "diurnal": {"period": "1h", "amplitude": 1})"),
              {"diurnal.amplitude", "1", "< 1"});
  ExpectError(OnePhase(phase, R"(, "diurnal": {"period": "1h", "amplitude": -0.1})"),
              {"diurnal.amplitude", "-0.1"});
  ExpectError(OnePhase(phase, R"(, "diurnal": {"period": "1h"})"),
              {"diurnal.amplitude", "missing"});
  ExpectError(OnePhase(phase, R"(, "diurnal": {"period": "10s", "amplitude": 0.5})"),
              {"diurnal.period", "10"});
  ExpectError(OnePhase(phase, R"(, "diurnal": {"period": "1h", "amplitude": 0.5, "peak": "14h"})"),
              {"diurnal.peak", "50400", "3600"});
  ExpectError(OnePhase(phase, R"(, "diurnal": 3)"), {"diurnal", "3"});
}

TEST(PhasedWorkloadBadInput, MalformedJsonAndFiles) {
  ExpectError(R"({"name": "x", "phases": [})", {"wl.json:1:", "malformed JSON"});
  auto missing = LoadWorkloadFile("/nonexistent/wl.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/wl.json"), std::string::npos);
  EXPECT_NE(missing.error().message.find("cannot open"), std::string::npos);
  auto dir = LoadWorkloadFile(testing::TempDir());
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error().message.find("directory"), std::string::npos);
  // A file on disk: errors name it.
  std::string path = testing::TempDir() + "/phased_workload_test_bad.json";
  std::ofstream(path) << OnePhase(R"({"duration": 1, "rate": 1, "isl": 1, "osl": 1, "x": 0})");
  auto bad = LoadWorkloadFile(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, path + ": phases[0].x: unknown key");
}

TEST(PhasedWorkloadExamples, AllParseAndMeanWhatTheySay) {
  for (const char* name : {"mix-shift", "ramp", "fixed-ratio", "diurnal"}) {
    std::string path = std::string(DISAGG_SOURCE_DIR "/examples/workloads/") + name + ".json";
    auto w = LoadWorkloadFile(path);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    EXPECT_EQ((*w)->name(), name);
    EXPECT_FALSE((*w)->description().empty()) << name;
    EXPECT_GT((*w)->Average().rate, 0) << name;
  }
  auto mix = LoadWorkloadFile(DISAGG_SOURCE_DIR "/examples/workloads/mix-shift.json");
  ASSERT_TRUE(mix.has_value());
  const auto& phases = (*mix)->phases();
  ASSERT_EQ(phases.size(), 3u);
  EXPECT_EQ(phases[0].isl.Mean(), 8192);
  EXPECT_EQ(phases[0].osl.Mean(), 256);
  EXPECT_EQ(phases[1].isl.Mean(), 512);
  EXPECT_EQ(phases[1].osl.Mean(), 2048);
  EXPECT_EQ(phases[2].isl.Mean(), 8192);
  auto ramp = LoadWorkloadFile(DISAGG_SOURCE_DIR "/examples/workloads/ramp.json");
  ASSERT_TRUE(ramp.has_value());
  EXPECT_DOUBLE_EQ((*ramp)->Rate(0), 5);
  EXPECT_NEAR((*ramp)->Rate((*ramp)->duration() - 1e-6), 45, 1e-3);
  EXPECT_DOUBLE_EQ((*ramp)->MeanIsl(0), 3000);
  EXPECT_DOUBLE_EQ((*ramp)->MeanOsl(0), 300);
}

}  // namespace
}  // namespace disagg::sim
