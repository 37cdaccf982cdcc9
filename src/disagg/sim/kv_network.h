// KV-cache transfers from prefill to decode instances over shared links.
//
// Contract: fluid model. Each prefill instance has an egress capacity and
// each decode instance an ingress capacity (bytes/s: its GPUs' links); a
// transfer's rate is min(egress / transfers leaving its source, ingress /
// transfers entering its destination), recomputed whenever a transfer
// starts or ends, so concurrent transfers share bandwidth. O(active
// transfers) per change. Deterministic; not thread-safe.
#ifndef DISAGG_SIM_KV_NETWORK_H_
#define DISAGG_SIM_KV_NETWORK_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace disagg::sim {

class KvNetwork {
 public:
  KvNetwork() = default;
  KvNetwork(std::vector<double> egress, std::vector<double> ingress);

  // The rate a new transfer from `src` to `dst` would get right now.
  double ProspectiveRate(int src, int dst) const;
  // Brings every transfer's progress up to `now`.
  void Advance(double now);
  // Starts a transfer of `bytes` (call Advance(now) first); `payload` comes
  // back on completion.
  void Start(double now, int src, int dst, double bytes, int64_t payload);
  // Time the next transfer completes (infinity when idle).
  double NextCompletion() const;
  // Removes the transfers complete at `now` (after Advance) and returns their
  // payloads, in start order.
  std::vector<int64_t> TakeCompleted(double now);
  size_t active() const { return transfers_.size(); }
  int64_t started() const { return started_; }
  double bytes_moved() const { return bytes_moved_; }

 private:
  struct Transfer {
    int src, dst;
    double remaining;
    double rate;
    int64_t payload;
  };
  void Recompute();

  std::vector<double> egress_, ingress_;
  std::vector<int> out_count_, in_count_;
  std::vector<Transfer> transfers_;
  double last_ = 0;
  int64_t started_ = 0;
  double bytes_moved_ = 0;
};

}  // namespace disagg::sim

#endif  // DISAGG_SIM_KV_NETWORK_H_
