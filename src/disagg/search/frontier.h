// The frontier study: search every design point of both serving modes and
// keep the throughput-interactivity Pareto frontiers.
//
// Contract: RunFrontier is deterministic (same inputs, same output, whatever
// the thread count) and spreads the sweep over all cores with oneTBB when
// options.parallel. Per-candidate work is allocation-free; illegal mappings
// and candidates that cannot fit are pruned before evaluation and counted.
// Disaggregated points pair every decode configuration with the prefill
// configurations on the prefill Pareto set (FTL vs requests/s/GPU, per
// instance size), rate-match them, add the KV transfer, and keep the best.
#ifndef DISAGG_SEARCH_FRONTIER_H_
#define DISAGG_SEARCH_FRONTIER_H_

#include "disagg/hardware/system_spec.h"
#include "disagg/model/model_spec.h"
#include "disagg/perf/precision.h"
#include "disagg/search/design_point.h"

namespace disagg::search {

FrontierResult RunFrontier(const model::ModelSpec& model, const hardware::SystemSpec& system,
                           const perf::Precision& precision, hardware::Backend backend,
                           const FrontierOptions& options);

// Throughput per GPU of the best frontier point with at least `interactivity`
// tokens/s/user (0 when none reaches it).
double BestThroughputAt(const std::vector<DesignPoint>& frontier, double interactivity);

}  // namespace disagg::search

#endif  // DISAGG_SEARCH_FRONTIER_H_
