#include "disagg/sim/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace disagg::sim {
namespace {

// The nearest-rank sample quantile: the smallest value with at least q * n
// values at or below it (rank ceil(q * n), at least 1).
double ExactQuantile(std::vector<double> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<size_t>(std::max(1.0, std::ceil(q * n - 1e-9)));
  return sorted[rank - 1];
}

void ExpectQuantilesWithinOnePercent(const std::vector<double>& values) {
  Histogram h;
  for (double v : values) h.Add(v);
  for (double q : {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    double exact = ExactQuantile(values, q);
    EXPECT_NEAR(h.Quantile(q), exact, 0.01 * std::abs(exact)) << "q = " << q;
  }
}

TEST(Histogram, EmptyIsAllZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.Quantile(0.5), 0);
  Distribution d = Summarize(h);
  EXPECT_EQ(d.count, 0);
  EXPECT_EQ(d.p99, 0);
  EXPECT_EQ(d.max, 0);
}

TEST(Histogram, ExactCountSumMinMax) {
  Histogram h;
  for (double v : {0.25, 4.0, 1.0, 2.75}) h.Add(v);
  EXPECT_EQ(h.count(), 4);
  EXPECT_DOUBLE_EQ(h.mean(), 8.0 / 4);
  EXPECT_EQ(h.min(), 0.25);
  EXPECT_EQ(h.max(), 4.0);
  // Rank 1 and rank n are the exact min and max.
  EXPECT_EQ(h.Quantile(0), 0.25);
  EXPECT_EQ(h.Quantile(0.25), 0.25);
  EXPECT_EQ(h.Quantile(1), 4.0);
  // Rank ceil(0.5 * 4) = 2 -> 1.0; rank ceil(0.6 * 4) = 3 -> 2.75.
  EXPECT_NEAR(h.Quantile(0.5), 1.0, 0.01);
  EXPECT_NEAR(h.Quantile(0.6), 2.75, 0.0275);
}

TEST(Histogram, SingleValueIsExact) {
  Histogram h;
  for (int i = 0; i < 10; ++i) h.Add(0.0123);
  EXPECT_EQ(h.Quantile(0.5), 0.0123);  // clamped to [min, max] = the value
  EXPECT_EQ(h.Quantile(0.99), 0.0123);
}

TEST(Histogram, QuantilesOfUniformSamples) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.001, 10);
  std::vector<double> v(100000);
  for (double& x : v) x = u(rng);
  ExpectQuantilesWithinOnePercent(v);
}

TEST(Histogram, QuantilesOfLogNormalSamplesOverManyDecades) {
  // Latencies from 1e-6 s to 1e4 s or so.
  std::mt19937_64 rng(12);
  std::lognormal_distribution<double> d(-2, 3);
  std::vector<double> v(200000);
  for (double& x : v) x = std::clamp(d(rng), 1e-7, 1e7);
  ExpectQuantilesWithinOnePercent(v);
}

TEST(Histogram, QuantilesOfIntegers) {
  // Token counts: repeated small integers, where bucket edges matter.
  std::mt19937_64 rng(13);
  std::geometric_distribution<int> d(0.01);
  std::vector<double> v(50000);
  for (double& x : v) x = 1 + d(rng);
  ExpectQuantilesWithinOnePercent(v);
}

TEST(Histogram, ZerosStayZero) {
  // Single-token outputs have a TTL of exactly 0.
  Histogram h;
  for (int i = 0; i < 60; ++i) h.Add(0);
  for (int i = 0; i < 40; ++i) h.Add(0.05);
  EXPECT_EQ(h.Quantile(0.5), 0);  // rank 50 is a zero
  EXPECT_EQ(h.Quantile(0.6), 0);  // rank 60 too
  EXPECT_NEAR(h.Quantile(0.61), 0.05, 0.0005);
  EXPECT_EQ(h.min(), 0);
  EXPECT_DOUBLE_EQ(h.mean(), 40 * 0.05 / 100);
}

TEST(Histogram, OutOfRangeValuesAreClampedButCountedExactly) {
  Histogram h;
  h.Add(-3);
  h.Add(1e-9);
  h.Add(1);
  h.Add(5e8);
  h.Add(2e9);
  EXPECT_EQ(h.count(), 5);
  EXPECT_EQ(h.min(), -3);
  EXPECT_EQ(h.max(), 2e9);
  EXPECT_DOUBLE_EQ(h.mean(), (-3 + 1e-9 + 1 + 5e8 + 2e9) / 5);
  EXPECT_EQ(h.Quantile(0), -3);
  EXPECT_EQ(h.Quantile(1), 2e9);
  EXPECT_NEAR(h.Quantile(0.6), 1, 0.01);  // rank 3
}

TEST(Histogram, MergeEqualsOneHistogramOfEverything) {
  std::mt19937_64 rng(14);
  std::exponential_distribution<double> d(3);
  Histogram all, a, b;
  std::vector<double> v;
  for (int i = 0; i < 30000; ++i) {
    double x = d(rng);
    v.push_back(x);
    all.Add(x);
    (i % 3 == 0 ? a : b).Add(x);
  }
  Histogram merged;
  merged.Merge(a);  // into an empty histogram
  merged.Merge(b);
  merged.Merge(Histogram());  // an empty one changes nothing
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_NEAR(merged.mean(), all.mean(), 1e-12);
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 1.0}) {
    EXPECT_EQ(merged.Quantile(q), all.Quantile(q)) << q;
    double exact = ExactQuantile(v, q);
    EXPECT_NEAR(merged.Quantile(q), exact, 0.01 * exact) << q;
  }
}

TEST(Summarize, ReportsTheQuantiles) {
  // 1, 2, ..., 1000: p50 = 500, p90 = 900, p99 = 990 (nearest rank).
  Histogram h;
  for (int i = 1; i <= 1000; ++i) h.Add(i);
  Distribution d = Summarize(h);
  EXPECT_EQ(d.count, 1000);
  EXPECT_DOUBLE_EQ(d.mean, 500.5);
  EXPECT_NEAR(d.p50, 500, 5);
  EXPECT_NEAR(d.p90, 900, 9);
  EXPECT_NEAR(d.p99, 990, 9.9);
  EXPECT_EQ(d.max, 1000);
}

}  // namespace
}  // namespace disagg::sim
