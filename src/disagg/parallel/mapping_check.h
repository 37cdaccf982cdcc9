// Legality of a Mapping for a model on a system, and enumeration of the legal
// ones.
//
// Contract: pure, thread-safe, never crashes on any input (non-positive
// degrees are a reason, not an assertion). CheckMapping returns the first
// reason found with a sentence naming the numbers involved.
#ifndef DISAGG_PARALLEL_MAPPING_CHECK_H_
#define DISAGG_PARALLEL_MAPPING_CHECK_H_

#include <vector>

#include "disagg/hardware/system_spec.h"
#include "disagg/model/model_spec.h"
#include "disagg/parallel/feasibility.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/precision.h"

namespace disagg::parallel {

// `tp_across_domains`: accept tensor parallelism that spans NVLink domains
// (it runs, over the scale-out network, and measured deployments use it);
// the search leaves it out by default because it is never competitive.
Feasibility CheckMapping(const model::ModelSpec& model, const hardware::SystemSpec& system,
                         const perf::Mapping& mapping, bool tp_across_domains = false);

// Compute formats of `precision` the system's GPU lacks.
Feasibility CheckPrecision(const hardware::SystemSpec& system, const perf::Precision& precision);

struct EnumerateOptions {
  int max_gpus = 64;         // per instance
  int max_pp = 1;            // pipeline stages to consider
  bool allow_dp = true;      // attention DP (MoE only)
  bool allow_moe_tp = true;  // slice experts (moe_tp > 1)
};

// Every legal mapping with power-of-two degrees (and the model's own
// divisors), ordered by GPU count. `rejected` (optional) counts the illegal
// candidates by reason.
std::vector<perf::Mapping> EnumerateMappings(const model::ModelSpec& model,
                                             const hardware::SystemSpec& system,
                                             const EnumerateOptions& options,
                                             InfeasibleCounts* rejected = nullptr);

}  // namespace disagg::parallel

#endif  // DISAGG_PARALLEL_MAPPING_CHECK_H_
