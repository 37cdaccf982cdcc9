#include "disagg/sim/kv_network.h"

#include <algorithm>

namespace disagg::sim {

KvNetwork::KvNetwork(std::vector<double> egress, std::vector<double> ingress)
    : egress_(std::move(egress)),
      ingress_(std::move(ingress)),
      out_count_(egress_.size(), 0),
      in_count_(ingress_.size(), 0) {}

double KvNetwork::ProspectiveRate(int src, int dst) const {
  return std::min(egress_[src] / (out_count_[src] + 1), ingress_[dst] / (in_count_[dst] + 1));
}

void KvNetwork::Advance(double now) {
  double dt = now - last_;
  if (dt > 0) {
    for (auto& t : transfers_) {
      double moved = std::min(t.remaining, t.rate * dt);
      t.remaining -= moved;
      bytes_moved_ += moved;
    }
  }
  last_ = std::max(last_, now);
}

void KvNetwork::Recompute() {
  for (auto& t : transfers_) {
    t.rate = std::min(egress_[t.src] / out_count_[t.src], ingress_[t.dst] / in_count_[t.dst]);
  }
}

void KvNetwork::Start(double now, int src, int dst, double bytes, int64_t payload) {
  last_ = std::max(last_, now);
  transfers_.push_back({src, dst, std::max(0.0, bytes), 0, payload});
  ++out_count_[src];
  ++in_count_[dst];
  ++started_;
  Recompute();
}

double KvNetwork::NextCompletion() const {
  double next = std::numeric_limits<double>::infinity();
  for (const auto& t : transfers_) {
    next = std::min(next, t.rate > 0 ? last_ + t.remaining / t.rate : next);
  }
  return next;
}

std::vector<int64_t> KvNetwork::TakeCompleted(double /*now*/) {
  // (rate <= 0 cannot happen with positive capacities; it would only hold a
  // transfer forever.)
  std::vector<int64_t> done;
  // Slack for floating-point residue: a byte, or a remainder too small to
  // move the clock (at large times last_ + tiny == last_, and the transfer
  // would never finish).
  const double last = last_;
  auto finished = [last](const Transfer& t) {
    return t.remaining <= 1.0 || t.rate <= 0 || t.remaining / t.rate < 1e-9 ||
           last + t.remaining / t.rate <= last;
  };
  for (const auto& t : transfers_) {
    if (finished(t)) {
      done.push_back(t.payload);
      --out_count_[t.src];
      --in_count_[t.dst];
      bytes_moved_ += t.remaining;
    }
  }
  if (!done.empty()) {
    std::erase_if(transfers_, finished);
    Recompute();
  }
  return done;
}

}  // namespace disagg::sim
