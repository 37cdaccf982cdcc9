#include "disagg/sim/workload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <vector>

namespace disagg::sim {
namespace {

// Every request of a finite source; fails the test on an Error.
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

std::vector<RequestSpec> Generate(const OpenLoopOptions& o,
                                  std::unique_ptr<LengthSampler> lengths) {
  auto source = OpenLoop(o, std::move(lengths));
  return Drain(*source);
}

struct GapStats {
  double mean = 0, cv = 0, frac_above_mean = 0;
};

GapStats Gaps(const std::vector<RequestSpec>& r) {
  std::vector<double> gaps;
  for (size_t i = 1; i < r.size(); ++i) gaps.push_back(r[i].arrival - r[i - 1].arrival);
  GapStats s;
  for (double g : gaps) s.mean += g;
  s.mean /= gaps.size();
  double var = 0;
  int above = 0;
  for (double g : gaps) {
    var += (g - s.mean) * (g - s.mean);
    above += g > s.mean;
  }
  var /= gaps.size() - 1;
  s.cv = std::sqrt(var) / s.mean;
  s.frac_above_mean = static_cast<double>(above) / gaps.size();
  return s;
}

TEST(Lengths, FixedIsConstant) {
  auto l = FixedLengths(1024, 128);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(l->Sample(rng), (std::pair<int64_t, int64_t>{1024, 128}));
  EXPECT_EQ(l->MeanIsl(), 1024);
  EXPECT_EQ(l->MeanOsl(), 128);
}

TEST(Lengths, UniformCoversTheRangeEvenly) {
  // isl in [10, 14] (5 values), osl in [1, 2].
  auto l = UniformLengths(10, 14, 1, 2);
  EXPECT_EQ(l->MeanIsl(), 12);
  EXPECT_EQ(l->MeanOsl(), 1.5);
  std::mt19937_64 rng(2);
  std::map<int64_t, int> isl_count, osl_count;
  const int n = 50000;
  for (int i = 0; i < n; ++i) {
    auto [isl, osl] = l->Sample(rng);
    ++isl_count[isl];
    ++osl_count[osl];
  }
  ASSERT_EQ(isl_count.size(), 5u);
  EXPECT_EQ(isl_count.begin()->first, 10);
  EXPECT_EQ(isl_count.rbegin()->first, 14);
  // Each isl value has probability 1/5: 10,000 expected, sd ~89.
  for (auto [v, c] : isl_count) EXPECT_NEAR(c, n / 5, 500) << v;
  ASSERT_EQ(osl_count.size(), 2u);
  EXPECT_NEAR(osl_count[1], n / 2, 600);
}

TEST(Lengths, UniformWithEqualBoundsIsFixed) {
  auto l = UniformLengths(7, 7, 3, 3);
  std::mt19937_64 rng(3);
  EXPECT_EQ(l->Sample(rng), (std::pair<int64_t, int64_t>{7, 3}));
}

TEST(Lengths, EmpiricalDrawsTheSamplePairsEvenly) {
  std::vector<std::pair<int64_t, int64_t>> sample = {{100, 10}, {200, 20}, {400, 40}, {800, 80}};
  auto l = EmpiricalLengths(sample);
  EXPECT_EQ(l->MeanIsl(), 375);  // (100 + 200 + 400 + 800) / 4
  EXPECT_EQ(l->MeanOsl(), 37.5);
  std::mt19937_64 rng(4);
  std::map<int64_t, int> count;
  const int n = 40000;
  double isl_sum = 0;
  for (int i = 0; i < n; ++i) {
    auto [isl, osl] = l->Sample(rng);
    EXPECT_EQ(osl * 10, isl);  // pairs stay together
    ++count[isl];
    isl_sum += isl;
  }
  ASSERT_EQ(count.size(), 4u);
  for (auto [v, c] : count) EXPECT_NEAR(c, n / 4, 500) << v;
  EXPECT_NEAR(isl_sum / n, 375, 375 * 0.02);
}

TEST(Lengths, DeterministicGivenTheRng) {
  auto a = UniformLengths(1, 1000000, 1, 1000);
  auto b = UniformLengths(1, 1000000, 1, 1000);
  std::mt19937_64 r1(99), r2(99);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a->Sample(r1), b->Sample(r2));
}

TEST(Lengths, OutOfContractArgumentsStillGiveLengthsOfAtLeastOne) {
  std::mt19937_64 rng(5);
  EXPECT_EQ(FixedLengths(0, -3)->Sample(rng), (std::pair<int64_t, int64_t>{1, 1}));
  auto u = UniformLengths(-5, 0, 4, 2)->Sample(rng);
  EXPECT_EQ(u, (std::pair<int64_t, int64_t>{1, 4}));
  EXPECT_EQ(EmpiricalLengths({})->Sample(rng), (std::pair<int64_t, int64_t>{1, 1}));
}

TEST(OpenLoop, PoissonRateAndExponentialGaps) {
  OpenLoopOptions o;
  o.rate = 8;
  o.max_requests = 100000;
  auto r = Generate(o, FixedLengths(10, 5));
  ASSERT_EQ(r.size(), 100000u);
  EXPECT_EQ(r[0].arrival, 0);
  // 99,999 gaps after the first request at 0; the sum of n exponential gaps
  // has relative sd 1/sqrt(n) = 0.3%.
  double rate = (r.size() - 1) / r.back().arrival;
  EXPECT_NEAR(rate, 8, 8 * 0.02);
  GapStats g = Gaps(r);
  EXPECT_NEAR(g.mean, 1.0 / 8, 0.125 * 0.02);
  EXPECT_NEAR(g.cv, 1, 0.03);  // exponential: sd = mean
  // P(gap > mean) = e^-1 for an exponential.
  EXPECT_NEAR(g.frac_above_mean, std::exp(-1.0), 0.01);
}

TEST(OpenLoop, GammaHasTheRequestedCv) {
  for (double cv : {0.5, 2.0}) {
    OpenLoopOptions o;
    o.process = ArrivalProcess::kGamma;
    o.rate = 20;
    o.gamma_cv = cv;
    o.max_requests = 100000;
    o.seed = 7;
    auto r = Generate(o, FixedLengths(1, 1));
    GapStats g = Gaps(r);
    EXPECT_NEAR(g.mean, 1.0 / 20, 0.05 * 0.03) << cv;
    EXPECT_NEAR(g.cv, cv, cv * 0.05) << cv;
  }
}

TEST(OpenLoop, GammaWithCvOneIsExponential) {
  OpenLoopOptions o;
  o.process = ArrivalProcess::kGamma;
  o.gamma_cv = 1;
  o.rate = 1;
  o.max_requests = 50000;
  GapStats g = Gaps(Generate(o, FixedLengths(1, 1)));
  EXPECT_NEAR(g.cv, 1, 0.03);
  EXPECT_NEAR(g.frac_above_mean, std::exp(-1.0), 0.01);
}

TEST(OpenLoop, UniformGapsAreConstant) {
  OpenLoopOptions o;
  o.process = ArrivalProcess::kUniform;
  o.rate = 4;
  o.max_requests = 9;
  auto r = Generate(o, FixedLengths(1, 1));
  ASSERT_EQ(r.size(), 9u);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].id, static_cast<int64_t>(i));
    EXPECT_EQ(r[i].arrival, i * 0.25);  // k / 4 is exact in binary
  }
}

TEST(OpenLoop, DurationStopsBeforeTheFirstArrivalAtOrAfterIt) {
  OpenLoopOptions o;
  o.process = ArrivalProcess::kUniform;
  o.rate = 10;
  o.duration = 1;
  // Arrivals 0, 0.1, ..., 0.9; the one at 1.0 is not inside [0, 1).
  auto r = Generate(o, FixedLengths(1, 1));
  ASSERT_EQ(r.size(), 10u);
  EXPECT_NEAR(r.back().arrival, 0.9, 1e-12);

  o.process = ArrivalProcess::kPoisson;
  o.rate = 100;
  o.duration = 50;
  r = Generate(o, FixedLengths(1, 1));
  // 5,000 expected, Poisson sd ~71.
  EXPECT_NEAR(static_cast<double>(r.size()), 5000, 300);
  EXPECT_LT(r.back().arrival, 50);
}

TEST(OpenLoop, MaxRequestsWinsOverDuration) {
  OpenLoopOptions o;
  o.rate = 100;
  o.duration = 100;
  o.max_requests = 17;
  auto source = OpenLoop(o, FixedLengths(1, 1));
  auto r = Drain(*source);
  EXPECT_EQ(r.size(), 17u);
  auto after = source->Next();  // stays at the end
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->has_value());
}

TEST(OpenLoop, IdsCountUpAndArrivalsNeverDecrease) {
  OpenLoopOptions o;
  o.process = ArrivalProcess::kGamma;
  o.gamma_cv = 3;
  o.max_requests = 5000;
  auto r = Generate(o, UniformLengths(1, 100, 1, 100));
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].id, static_cast<int64_t>(i));
    if (i > 0) {
      EXPECT_GE(r[i].arrival, r[i - 1].arrival);
    }
    EXPECT_GE(r[i].isl, 1);
    EXPECT_LE(r[i].isl, 100);
  }
}

TEST(OpenLoop, DeterministicBySeed) {
  OpenLoopOptions o;
  o.max_requests = 1000;
  o.seed = 42;
  auto a = Generate(o, UniformLengths(1, 4096, 1, 512));
  auto b = Generate(o, UniformLengths(1, 4096, 1, 512));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].arrival, b[i].arrival);
    EXPECT_EQ(a[i].isl, b[i].isl);
    EXPECT_EQ(a[i].osl, b[i].osl);
  }
  o.seed = 43;
  auto c = Generate(o, UniformLengths(1, 4096, 1, 512));
  EXPECT_NE(a[1].arrival, c[1].arrival);
  EXPECT_NE(a[1].isl, c[1].isl);
}

TEST(OpenLoop, ArrivalTimesDoNotDependOnTheLengthDistribution) {
  OpenLoopOptions o;
  o.max_requests = 100;
  auto a = Generate(o, FixedLengths(1, 1));
  auto b = Generate(o, UniformLengths(1, 100, 1, 100));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].arrival, b[i].arrival);
}

TEST(OpenLoop, InvalidOptionsAreErrorsFromNext) {
  auto expect_error = [](OpenLoopOptions o, const char* word) {
    auto source = OpenLoop(o, FixedLengths(1, 1));
    auto next = source->Next();
    ASSERT_FALSE(next.has_value()) << word;
    EXPECT_NE(next.error().message.find(word), std::string::npos) << next.error().message;
  };
  OpenLoopOptions o;
  o.rate = 0;
  expect_error(o, "rate is 0");
  o = {};
  o.rate = -2;
  expect_error(o, "rate is -2");
  o = {};
  o.process = ArrivalProcess::kGamma;
  o.gamma_cv = 0;
  expect_error(o, "gamma_cv is 0");
  o = {};
  o.max_requests = -1;
  expect_error(o, "max_requests is -1");
  o = {};
  o.duration = -5;
  expect_error(o, "duration is -5");
  auto none = OpenLoop(OpenLoopOptions{}, nullptr);
  EXPECT_FALSE(none->Next().has_value());
}

}  // namespace
}  // namespace disagg::sim
