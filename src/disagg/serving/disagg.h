// Disaggregated serving: a prefill pool and a decode pool, rate-matched, with
// the KV cache moving between them.
//
// Contract: pure functions, thread-safe, SI units.
// Rate matching: x prefill instances (each R_p requests/s on g_p GPUs) and y
// decode instances (R_d, g_d). The system serves min(x R_p, y R_d) requests/s
// on x g_p + y g_d GPUs. The continuous optimum has x R_p = y R_d, giving
// OSL / (g_p / R_p + g_d / R_d) output tokens/s/GPU and a ctx:gen GPU ratio of
// (g_p / R_p) / (g_d / R_d). SolveInstanceCounts finds the best integers by
// exact enumeration under a GPU budget.
// KV transfer: each request's cache (ISL x KV bytes/token, sliding layers
// capped) leaves the prefill instance layer by layer while later layers
// compute, so only the last layer's share is exposed unless the link is
// slower than the prefill itself; every hand-off also pays the link latency
// and the calibrated per-transfer overhead (setup and control messages).
#ifndef DISAGG_SERVING_DISAGG_H_
#define DISAGG_SERVING_DISAGG_H_

#include "disagg/hardware/system_spec.h"

namespace disagg::serving {

struct PoolRate {
  double requests_per_s = 0;  // one instance
  int gpus = 0;               // per instance
};

struct InstanceCounts {
  int prefill = 0;  // x
  int decode = 0;   // y
  int gpus = 0;     // x g_p + y g_d
  double requests_per_s = 0;
  double tokens_per_s_per_gpu = 0;
  bool ok() const { return prefill > 0 && decode > 0; }
};

// Output tokens/s/GPU at the continuous optimum.
double ContinuousTokensPerGpu(const PoolRate& p, const PoolRate& d, double osl);
// Prefill GPUs per decode GPU at the continuous optimum.
double ContinuousCtxGenRatio(const PoolRate& p, const PoolRate& d);

// The integer counts with the most output tokens/s/GPU among those using at
// most `budget` GPUs (ties: more requests/s). Not ok() when one instance of
// each does not fit.
InstanceCounts SolveInstanceCounts(const PoolRate& p, const PoolRate& d, double osl, int budget);

// Without a budget: the fewest GPUs whose integer counts reach `within`
// (e.g. 0.98) of the continuous optimum, searching up to `max_gpus`.
InstanceCounts SmallestNearOptimal(const PoolRate& p, const PoolRate& d, double osl, double within,
                                   int max_gpus);

// Elastic planning: the fewest GPUs whose pools carry `prefill_demand`
// requests/s through prefill and `decode_demand` through decode (they differ
// when short prompts are prefilled on the decode instances), x = ceil(demand
// / R_p), y = ceil(demand / R_d). When that exceeds `budget`, the split of
// the budget serving the largest common fraction of both demands,
// min(x R_p / prefill_demand, y R_d / decode_demand) (ties: fewer GPUs). At
// least one instance of each; not ok() when one of each does not fit.
// requests_per_s is min(x R_p, y R_d); tokens_per_s_per_gpu uses `osl`.
InstanceCounts CountsForDemand(const PoolRate& p, const PoolRate& d, double prefill_demand,
                               double decode_demand, double osl, int budget);

struct KvTransfer {
  double bytes_per_request = 0;
  double link_bytes_per_s_per_gpu = 0;     // capacity of the path used
  double egress_bytes_per_s_per_gpu = 0;   // needed on each prefill GPU
  double ingress_bytes_per_s_per_gpu = 0;  // needed on each decode GPU
  double exposed_s = 0;                    // added to FTL
  bool feasible = true;
};

// `same_domain`: both pools sit in one NVLink domain (NVLink path); else the
// scale-out NIC. `prefill_compute_s`: the prefill latency the transfer can
// overlap; `layers`: layers the transfer is pipelined over.
KvTransfer EvaluateKvTransfer(const hardware::SystemSpec& system, double bytes_per_request,
                              double prefill_requests_per_s_per_gpu,
                              double decode_requests_per_s_per_gpu, int prefill_gpus,
                              double prefill_compute_s, int layers, bool same_domain);

}  // namespace disagg::serving

#endif  // DISAGG_SERVING_DISAGG_H_
