// Why a design point cannot run: the reason enum every layer above counts.
//
// Contract: plain values; names are stable (they appear in JSON output as
// keys of infeasible_by_reason).
#ifndef DISAGG_PARALLEL_FEASIBILITY_H_
#define DISAGG_PARALLEL_FEASIBILITY_H_

#include <array>
#include <string>
#include <string_view>

namespace disagg::parallel {

enum class Infeasible {
  kNone = 0,
  kHeadsNotDivisible,     // attention (or linear-attention) heads % tp != 0
  kExpertsNotDivisible,   // moe_ep > experts, or expert width % moe_tp != 0
  kTpExceedsDomain,       // tensor parallelism across NVLink domains
  kPpExceedsLayers,       // more stages than layers
  kDpNeedsMoe,            // attention DP on a dense model (use more instances)
  kMoeGroupMismatch,      // moe_tp x moe_ep != tp x dp
  kPrecisionUnsupported,  // compute dtype the GPU lacks
  kOutOfMemory,           // weights + activations + KV for the batch exceed HBM
  kFtlExceeded,           // prefill slower than the FTL limit
  kKvLinkTooSlow,         // the KV-cache transfer cannot keep up
  kBudgetExceeded,        // more GPUs than the budget
  kCount
};

inline constexpr int kNumInfeasible = static_cast<int>(Infeasible::kCount);

// Stable snake_case name, e.g. "out_of_memory".
std::string_view InfeasibleName(Infeasible r);
// Human phrase, e.g. "out of memory".
std::string_view InfeasibleText(Infeasible r);

// The outcome of a check: kNone, or a reason with a sentence of detail.
struct Feasibility {
  Infeasible reason = Infeasible::kNone;
  std::string detail;
  bool ok() const { return reason == Infeasible::kNone; }
};

using InfeasibleCounts = std::array<long long, kNumInfeasible>;

}  // namespace disagg::parallel

#endif  // DISAGG_PARALLEL_FEASIBILITY_H_
