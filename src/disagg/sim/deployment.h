// A deployment to simulate: pools of instances, each pool one mapping, and
// the routing of requests among a pool's instances.
//
// Contract: BuildPools validates the deployment against the model and the
// system (legal mappings, weights and workspace fit in memory, room left for
// a KV cache) and returns an Error naming the pool and the numbers when it
// does not. Built pools own their StepModel; instances point at it, so a
// Pool must not move after instances are made (the simulator keeps them in a
// std::deque). Routers are deterministic.
#ifndef DISAGG_SIM_DEPLOYMENT_H_
#define DISAGG_SIM_DEPLOYMENT_H_

#include <memory>
#include <string>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/model/model_spec.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/precision.h"
#include "disagg/perf/step_model.h"
#include "disagg/sim/instance.h"

namespace disagg::sim {

struct PoolSpec {
  perf::Mapping mapping;
  int instances = 0;
  int max_batch =
      0;  // running sequences (co-located, decode) or prompts per step (prefill); 0: memory-bound
  int64_t chunk =
      0;  // co-located: prompt tokens per step (per attention-DP rank); prefill: CPP chunk; 0: none
  // Co-located step composition (InstanceConfig::prefill_first): -1 the
  // backend's default (SGLang prefill first, the others mixed), 0 mixed, 1
  // prefill first.
  int prefill_first = -1;
  // Co-located: prompts run whole, never chunked (InstanceConfig::whole_prompts).
  bool whole_prompts = false;
  // Co-located: scheduler iterations between polls for new requests
  // (InstanceConfig::recv_interval; SGLang's --scheduler-recv-interval).
  int recv_interval = 1;
  // Co-located with attention DP: TensorRT-LLM's context balancing
  // (InstanceConfig::adp_balance; off by default).
  AdpBalance adp_balance{};
  // Co-located without attention DP: TensorRT-LLM's batch waiting
  // (InstanceConfig::batch_wait; off by default).
  BatchWait batch_wait{};
  // SGLang's --mem-fraction-static, the share of each GPU for weights and KV
  // cache the engine was launched with (0: its default rule,
  // parallel::SglangReservedBytes). Other engines ignore it.
  double mem_fraction = 0;
};

// Whether a co-located pool runs a waiting prompt's prefill before the next
// decode step: as `spec.prefill_first` says, else SGLang's default (prefill
// first unless told to mix, as with its --enable-mixed-chunk).
bool PrefillFirst(const PoolSpec& spec, hardware::Backend backend);

struct Deployment {
  bool disaggregated = false;
  PoolSpec colocated;
  PoolSpec prefill;
  PoolSpec decode;
  // Speculative decoding on every instance (the MTP module's weights loaded
  // everywhere; a co-located pool's chunk is the engine's prompt budget per
  // engine step, so its instances take chunk / tokens-per-step per step).
  perf::Speculation speculation;
  int gpus() const;
  std::string Describe() const;

 private:
  std::string Speculative() const;  // ", MTP depth k (t tokens/step)" or ""
};

struct Pool {
  Role role = Role::kColocated;
  PoolSpec spec;
  std::shared_ptr<const perf::StepModel> model;
  InstanceConfig config;  // the template every instance of the pool uses
  int gpus_per_instance() const { return spec.mapping.gpus(); }
};

// Pools in the order: co-located; or prefill, decode. `prompt_hint` sizes the
// prefill activation workspace (the longest prompt expected).
Result<std::vector<Pool>> BuildPools(const model::ModelSpec& model,
                                     const hardware::SystemSpec& system,
                                     const perf::Precision& precision, hardware::Backend backend,
                                     const Deployment& deployment, double prompt_hint);

// How a pool's router picks an instance for a request.
enum class RouterPolicy { kRoundRobin, kLeastOutstanding, kLeastKv };
Result<RouterPolicy> ParseRouterPolicy(std::string_view name);
const char* RouterPolicyName(RouterPolicy p);

// Picks among `n` instances: round-robin by `cursor`, or the least loaded by
// `load(i)` (ties to the lowest index).
template <typename Load>
int Route(RouterPolicy policy, int n, int& cursor, Load load) {
  if (n <= 0) return -1;
  if (policy == RouterPolicy::kRoundRobin) {
    int i = cursor % n;
    cursor = (cursor + 1) % n;
    return i;
  }
  int best = 0;
  double best_load = load(0);
  for (int i = 1; i < n; ++i) {
    double l = load(i);
    if (l < best_load) {
      best = i;
      best_load = l;
    }
  }
  return best;
}

}  // namespace disagg::sim

#endif  // DISAGG_SIM_DEPLOYMENT_H_
