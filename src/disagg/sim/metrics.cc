#include "disagg/sim/metrics.h"

#include <algorithm>
#include <cmath>

namespace disagg::sim {
namespace {

// Bucket layout: bucket 0 holds values below kLow (zero, negatives, NaN);
// buckets 1..kFinite hold [kLow * kGrowth^(i-1), kLow * kGrowth^i); bucket
// kFinite + 1 holds values above the top of the last finite bucket (>= 1e7).
constexpr double kLow = 1e-7;
constexpr double kHigh = 1e7;
constexpr double kGrowth = 1.01;

const double kLogGrowth = std::log(kGrowth);
// ceil(log(1e14) / log(1.01)) = 3240 buckets of 1% cover [1e-7, 1e7].
const int kFinite = static_cast<int>(std::ceil(std::log(kHigh / kLow) / kLogGrowth));
const int kBuckets = kFinite + 2;

int BucketOf(double v) {
  if (!(v >= kLow)) return 0;
  double i = std::floor(std::log(v / kLow) / kLogGrowth);
  if (i >= kFinite) return kFinite + 1;
  return 1 + static_cast<int>(i);
}

}  // namespace

Histogram::Histogram() : buckets_(kBuckets, 0) {}

void Histogram::Add(double value) {
  ++buckets_[BucketOf(value)];
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
}

double Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest sample with at least q * count samples at or
  // below it. The epsilon keeps q * count from rounding up past an integer.
  auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(count_) - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, count_);
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  int64_t seen = 0;
  int b = 0;
  for (; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) break;
  }
  // The under- and overflow buckets have no width to take a middle of: their
  // values lie within 1e-7 of min (below) or between 1e7 and max (above).
  if (b == 0) return min_;
  if (b >= kFinite + 1) return max_;
  // The geometric middle of a 1% bucket is within 0.5% of every value in it.
  double mid = kLow * std::exp((b - 1 + 0.5) * kLogGrowth);
  return std::clamp(mid, min_, max_);
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
}

Distribution Summarize(const Histogram& h) {
  Distribution d;
  d.count = h.count();
  d.mean = h.mean();
  d.p50 = h.Quantile(0.5);
  d.p90 = h.Quantile(0.9);
  d.p99 = h.Quantile(0.99);
  d.max = h.max();
  return d;
}

}  // namespace disagg::sim
