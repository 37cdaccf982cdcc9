// Streaming statistics for the simulator's outputs.
//
// Contract: Histogram keeps O(1) memory whatever the number of samples:
// log-spaced buckets with a relative width of 1% from 1e-7 to 1e7 (values
// outside are clamped into the end buckets; exact min, max, mean and count
// are kept alongside). Quantile(q) returns a value within 1% of the true
// sample quantile (nearest-rank definition). Not thread-safe.
#ifndef DISAGG_SIM_METRICS_H_
#define DISAGG_SIM_METRICS_H_

#include <cstdint>
#include <vector>

namespace disagg::sim {

class Histogram {
 public:
  Histogram();
  void Add(double value);
  int64_t count() const { return count_; }
  double mean() const { return count_ > 0 ? sum_ / count_ : 0; }
  double min() const { return min_; }
  double max() const { return max_; }
  // q in [0, 1]; 0 when empty.
  double Quantile(double q) const;
  void Merge(const Histogram& other);

 private:
  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0, max_ = 0;
};

struct Distribution {
  int64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Distribution Summarize(const Histogram& h);

}  // namespace disagg::sim

#endif  // DISAGG_SIM_METRICS_H_
