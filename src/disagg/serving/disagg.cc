#include "disagg/serving/disagg.h"

#include <algorithm>
#include <cmath>

namespace disagg::serving {

double ContinuousTokensPerGpu(const PoolRate& p, const PoolRate& d, double osl) {
  if (p.requests_per_s <= 0 || d.requests_per_s <= 0) return 0;
  return osl / (p.gpus / p.requests_per_s + d.gpus / d.requests_per_s);
}

double ContinuousCtxGenRatio(const PoolRate& p, const PoolRate& d) {
  if (p.requests_per_s <= 0 || d.requests_per_s <= 0) return 0;
  return (p.gpus / p.requests_per_s) / (d.gpus / d.requests_per_s);
}

namespace {

// x prefill and y decode instances, with what they serve.
InstanceCounts Counts(const PoolRate& p, const PoolRate& d, double osl, int x, int y) {
  InstanceCounts c;
  c.prefill = x;
  c.decode = y;
  c.gpus = x * p.gpus + y * d.gpus;
  c.requests_per_s = std::min(x * p.requests_per_s, y * d.requests_per_s);
  c.tokens_per_s_per_gpu = osl * c.requests_per_s / c.gpus;
  return c;
}

void Consider(InstanceCounts& best, const PoolRate& p, const PoolRate& d, double osl, int x,
              int y) {
  if (x < 1 || y < 1) return;
  const InstanceCounts c = Counts(p, d, osl, x, y);
  const double eps = 1e-12 * std::max(1.0, best.tokens_per_s_per_gpu);
  if (!best.ok() || c.tokens_per_s_per_gpu > best.tokens_per_s_per_gpu + eps ||
      (std::fabs(c.tokens_per_s_per_gpu - best.tokens_per_s_per_gpu) <= eps &&
       c.requests_per_s > best.requests_per_s)) {
    best = c;
  }
}

}  // namespace

InstanceCounts SolveInstanceCounts(const PoolRate& p, const PoolRate& d, double osl, int budget) {
  InstanceCounts best;
  if (p.gpus <= 0 || d.gpus <= 0 || p.requests_per_s <= 0 || d.requests_per_s <= 0) return best;
  for (int x = 1; x * p.gpus + d.gpus <= budget; ++x) {
    int y_max = (budget - x * p.gpus) / d.gpus;
    // For a given x the best y is one of the two integers around the
    // balance point x R_p / R_d (fewer starves nothing but wastes prefill,
    // more wastes decode); beyond them throughput per GPU only falls.
    double balance = x * p.requests_per_s / d.requests_per_s;
    int lo = std::clamp(static_cast<int>(std::floor(balance)), 1, y_max);
    int hi = std::clamp(static_cast<int>(std::ceil(balance)), 1, y_max);
    Consider(best, p, d, osl, x, lo);
    Consider(best, p, d, osl, x, hi);
  }
  return best;
}

InstanceCounts SmallestNearOptimal(const PoolRate& p, const PoolRate& d, double osl, double within,
                                   int max_gpus) {
  const double target = within * ContinuousTokensPerGpu(p, d, osl);
  InstanceCounts best;
  if (target <= 0) return best;
  // Walk x upward; the first x whose best y reaches the target uses the
  // fewest prefill instances, and y follows from the balance.
  for (int x = 1; x * p.gpus + d.gpus <= max_gpus; ++x) {
    double balance = x * p.requests_per_s / d.requests_per_s;
    int y_max = (max_gpus - x * p.gpus) / d.gpus;
    InstanceCounts here;
    for (double y : {std::floor(balance), std::ceil(balance)}) {
      Consider(here, p, d, osl, x, static_cast<int>(std::clamp(y, 1.0, double(y_max))));
    }
    if (here.ok() && (!best.ok() || here.tokens_per_s_per_gpu > best.tokens_per_s_per_gpu)) {
      best = here;
    }
    if (best.ok() && best.tokens_per_s_per_gpu >= target) return best;
  }
  return best;
}

InstanceCounts CountsForDemand(const PoolRate& p, const PoolRate& d, double prefill_demand,
                               double decode_demand, double osl, int budget) {
  InstanceCounts c;
  if (p.gpus <= 0 || d.gpus <= 0 || p.requests_per_s <= 0 || d.requests_per_s <= 0 ||
      p.gpus + d.gpus > budget) {
    return c;
  }
  // Enough for the demand, when the budget allows.
  const double kSlack = 1e-9;  // a demand that is an exact multiple needs no extra instance
  const double xd = std::max(1.0, std::ceil(prefill_demand / p.requests_per_s - kSlack));
  const double yd = std::max(1.0, std::ceil(decode_demand / d.requests_per_s - kSlack));
  if (xd * p.gpus + yd * d.gpus <= budget) {
    return Counts(p, d, osl, static_cast<int>(xd), static_cast<int>(yd));
  }
  // Otherwise the best split: for each x, the most decode instances left.
  auto served = [&](int xi, int yi) {
    double a = prefill_demand > 0 ? xi * p.requests_per_s / prefill_demand : HUGE_VAL;
    double b = decode_demand > 0 ? yi * d.requests_per_s / decode_demand : HUGE_VAL;
    return std::min(a, b);
  };
  double best = -1;
  for (int xi = 1; xi * p.gpus + d.gpus <= budget; ++xi) {
    int yi = (budget - xi * p.gpus) / d.gpus;
    double s = served(xi, yi);
    // Spare decode instances that serve nothing more are not started.
    while (yi > 1 && served(xi, yi - 1) >= s) --yi;
    if (s > best * (1 + 1e-12) ||
        (std::fabs(s - best) <= 1e-12 * best && xi * p.gpus + yi * d.gpus < c.gpus)) {
      best = s;
      c = Counts(p, d, osl, xi, yi);
    }
  }
  return c;
}

KvTransfer EvaluateKvTransfer(const hardware::SystemSpec& system, double bytes_per_request,
                              double prefill_requests_per_s_per_gpu,
                              double decode_requests_per_s_per_gpu, int prefill_gpus,
                              double prefill_compute_s, int layers, bool same_domain) {
  KvTransfer k;
  k.bytes_per_request = bytes_per_request;
  k.link_bytes_per_s_per_gpu = same_domain ? system.gpu.nvlink_bw : system.scaleout_bw;
  const double eff = system.calibration.comm_bw_eff;
  const double latency = same_domain ? system.nvlink_latency : system.scaleout_latency;
  k.egress_bytes_per_s_per_gpu = bytes_per_request * prefill_requests_per_s_per_gpu;
  k.ingress_bytes_per_s_per_gpu = bytes_per_request * decode_requests_per_s_per_gpu;
  const double usable = k.link_bytes_per_s_per_gpu * eff;
  k.feasible = k.egress_bytes_per_s_per_gpu <= usable && k.ingress_bytes_per_s_per_gpu <= usable;
  // Every prefill GPU ships its own shard of the cache in parallel.
  const double transfer = bytes_per_request / (std::max(1, prefill_gpus) * usable);
  const double last_layer = transfer / std::max(1, layers);
  k.exposed_s = latency + system.calibration.kv_transfer_overhead +
                std::max(last_layer, transfer - prefill_compute_s + last_layer);
  return k;
}

}  // namespace disagg::serving
