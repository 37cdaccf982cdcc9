// Candidate generation: for one mapping, every prefill, decode and co-located
// configuration on the search grids, evaluated with the one cost model.
//
// Contract: thread-safe (each call owns its outputs), deterministic order.
// Infeasible candidates are counted by reason in the Tally, never returned.
#ifndef DISAGG_SEARCH_CANDIDATES_H_
#define DISAGG_SEARCH_CANDIDATES_H_

#include <string>
#include <vector>

#include "disagg/hardware/system_spec.h"
#include "disagg/parallel/feasibility.h"
#include "disagg/perf/step_model.h"
#include "disagg/search/design_point.h"

namespace disagg::search {

struct Tally {
  long long evaluated = 0;
  long long feasible = 0;
  long long pruned = 0;  // disaggregated pairs skipped by the throughput bound
  parallel::InfeasibleCounts infeasible{};
  double fastest_ftl = 0;
  std::string fastest_ftl_config;

  void Ok() {
    ++evaluated;
    ++feasible;
  }
  void Reject(parallel::Infeasible r, long long n = 1) {
    evaluated += n;
    infeasible[static_cast<int>(r)] += n;
  }
  void SeeFtl(double ftl, const std::string& config);
  void Merge(const Tally& o);
};

// Decode batches per attention-DP rank: every integer to 16, then steps of
// about 12% up to `max_per_rank` (which is always included).
std::vector<int> DecodeBatchGrid(int max_per_rank);

void PrefillCandidates(const perf::StepModel& step, const hardware::SystemSpec& system,
                       const FrontierOptions& o, std::vector<PrefillConfig>& out, Tally& tally);

void DecodeCandidates(const perf::StepModel& step, const hardware::SystemSpec& system,
                      const FrontierOptions& o, std::vector<DecodeConfig>& out, Tally& tally);

// Both co-located policies.
void ColocatedCandidates(const perf::StepModel& step, const hardware::SystemSpec& system,
                         const FrontierOptions& o, std::vector<DesignPoint>& out, Tally& tally);

}  // namespace disagg::search

#endif  // DISAGG_SEARCH_CANDIDATES_H_
