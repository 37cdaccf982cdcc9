// Design points of the frontier search and the options that shape the search.
//
// Contract: plain values, SI units. A DesignPoint is either co-located (one
// instance kind, policy piggyback or prefill-first) or disaggregated (a
// prefill configuration, a decode configuration and their instance counts).
#ifndef DISAGG_SEARCH_DESIGN_POINT_H_
#define DISAGG_SEARCH_DESIGN_POINT_H_

#include <optional>
#include <string>
#include <vector>

#include "disagg/hardware/system_spec.h"
#include "disagg/parallel/feasibility.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/step_model.h"
#include "disagg/serving/disagg.h"
#include "disagg/serving/phase.h"

namespace disagg::search {

enum class Policy { kPiggyback, kPrefillFirst, kDisaggregated };

inline const char* PolicyName(Policy p) {
  switch (p) {
    case Policy::kPiggyback:
      return "piggyback";
    case Policy::kPrefillFirst:
      return "prefill-first";
    case Policy::kDisaggregated:
      return "disaggregated";
  }
  return "?";
}

struct PrefillConfig {
  perf::Mapping mapping;
  int batch = 0;              // prompts per forward
  double chunk = 0;           // CPP chunk (tokens); the ISL when unchunked
  double ftl_compute = 0;     // prefill latency before the KV transfer
  double requests_per_s = 0;  // one instance
  double kv_bytes_per_request = 0;
  double requests_per_s_per_gpu() const { return requests_per_s / mapping.gpus(); }
};

struct DecodeConfig {
  perf::Mapping mapping;
  int batch = 0;
  double ttl = 0;
  double requests_per_s = 0;  // one instance
  double requests_per_s_per_gpu() const { return requests_per_s / mapping.gpus(); }
};

struct DesignPoint {
  Policy policy = Policy::kPiggyback;
  double tokens_per_s_per_user = 0;  // 1 / TTL
  double tokens_per_s_per_gpu = 0;
  double ftl = 0;
  double ttl = 0;
  int gpus = 0;  // GPUs the deployment uses (one instance when co-located)

  // Co-located.
  perf::Mapping mapping;
  double batch = 0;       // decode sequences in steady state
  double chunk = 0;       // piggyback prompt tokens per step
  int prefill_batch = 0;  // prefill-first prompts per prefill step

  // Disaggregated.
  PrefillConfig prefill;
  DecodeConfig decode;
  serving::InstanceCounts counts;
  double ctx_gen_ratio = 0;       // continuous prefill GPUs per decode GPU
  double ctx_gen_ratio_used = 0;  // of the integer counts
  double kv_egress_bytes_per_s_per_gpu = 0;
  double kv_ingress_bytes_per_s_per_gpu = 0;
  double kv_link_bytes_per_s_per_gpu = 0;
  double kv_exposed_s = 0;
};

struct FrontierOptions {
  serving::Workload workload;
  double ftl_max = 10;                // s; the frontier's FTL limit
  std::optional<double> sla_ttl_max;  // s; the SLA query, when given
  std::optional<double> sla_ftl_max;  // s
  int gpu_budget = 0;                 // 0: enough for the continuous optimum
  int max_stage_gpus = 64;            // tp x dp of one pipeline stage
  int max_prefill_gpus = 256;         // whole prefill instance (CPP)
  int max_prefill_pp = 32;
  int max_decode_pp = 4;
  double near_optimal = 0.98;     // integer counts without a budget
  int max_total_gpus = 4096;      // search bound for those counts
  perf::Speculation speculation;  // MTP speculative decoding on every instance
  bool parallel = true;
};

struct FrontierSummary {
  long long points_evaluated = 0;
  long long points_feasible = 0;
  long long points_pruned = 0;  // pairs skipped: provably no better than one found
  long long prefill_configs = 0, prefill_front = 0, decode_configs = 0, colocated_configs = 0;
  parallel::InfeasibleCounts infeasible{};
  double elapsed_s = 0;
  int mappings_considered = 0;
  // The fastest prefill seen, for the "no configuration meets FTL" message.
  double fastest_ftl = 0;
  std::string fastest_ftl_config;
};

struct FrontierResult {
  FrontierSummary summary;
  std::vector<DesignPoint> colocated;      // frontier, ascending interactivity
  std::vector<DesignPoint> disaggregated;  // frontier, ascending interactivity
  std::optional<DesignPoint> best_colocated_under_sla;
  std::optional<DesignPoint> best_disaggregated_under_sla;
};

}  // namespace disagg::search

#endif  // DISAGG_SEARCH_DESIGN_POINT_H_
