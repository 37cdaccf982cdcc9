// Elastic planning of a disaggregated deployment under shifting traffic: how
// many prefill and decode instances to run, how large a decode batch the TTL
// limit allows, and which prompts to prefill on the decode instances.
//
// Policies. static: fixed counts (given, or an even split of the GPU budget).
// static-best: the split of the whole budget that best serves the workload's
// average traffic, fixed for the run. dynamic: every interval, predict the
// next interval's traffic from the last window and an exponentially weighted
// average (scale up on the larger, so a ramp is followed without lag), then
// re-solve rate matching (serving::CountsForDemand, the frontier's rate
// arithmetic) for the predicted demand times a headroom, within the budget.
//
// Capacity model: one instance's rates come from the same StepModel the
// simulator and the frontier use: prefill requests/s from
// serving::EvaluatePrefill at the mean remote prompt; decode requests/s at the
// largest batch whose step meets the TTL limit (with a margin, since contexts
// vary) and whose caches fit, from serving::EvaluateDecode at the mean
// context. A prompt prefilled on a decode instance (local prefill) costs that
// instance the extra time of one step carrying it.
//
// Local prefill threshold ("auto"): among 0, 256, 512, ..., 8192 tokens, the
// threshold whose plan serves the demand on the fewest GPUs. A decode
// instance that prefills locally runs the smaller batch with which a step
// carrying one prompt of the threshold's length still meets the TTL limit.
// Ties go to the larger threshold (no KV transfer, shorter first-token
// latency).
//
// Contract: pure computation over the pools' StepModels (which must outlive
// the planner); deterministic; not thread-safe (the estimator accumulates).
// SI units.
#ifndef DISAGG_SIM_PLANNER_H_
#define DISAGG_SIM_PLANNER_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/serving/disagg.h"
#include "disagg/sim/deployment.h"
#include "disagg/sim/phased_workload.h"

namespace disagg::sim {

enum class PlannerPolicy { kStatic, kStaticBest, kDynamic };

// A policy name as given to --planner or --compare: "static",
// "static:X:Y" (X prefill and Y decode instances), "static-best" or
// "dynamic", optionally with "+local" (short prompts prefill on the decode
// instances, threshold chosen by the planner unless --local-prefill N).
struct PolicyChoice {
  PlannerPolicy policy = PlannerPolicy::kDynamic;
  bool local = false;
  int prefill = 0, decode = 0;  // static:X:Y
  std::string name;
};
Result<PolicyChoice> ParsePolicy(std::string_view name);

struct PlannerOptions {
  PlannerPolicy policy = PlannerPolicy::kDynamic;
  int gpu_budget = 0;          // GPUs the fleet may hold at once (starting, serving, draining)
  double interval = 30;        // s between decisions (and planner timeline rows)
  double ewma_weight = 0.3;    // weight of the newest window in the EWMA predictor
  double headroom = 1.2;       // capacity planned per unit of predicted demand
  double reconfig_delay = 30;  // s before a new instance, or one changing role, serves
  double role_flip_delay = 0;  // s, instead, when the GPUs already hold the weights it needs
  // Prompts of at most this many tokens are prefilled on the decode instance
  // (0: never; kAuto: the planner chooses, see above).
  static constexpr int64_t kAuto = -1;
  int64_t local_prefill = 0;
  int static_prefill = 0, static_decode = 0;  // static: counts (0: an even split)
  // Traffic to size static-best for, and the dynamic planner's prior before
  // any request has finished.
  double average_rate = 0, average_isl = 0, average_osl = 0;
  void SizeFor(const AverageTraffic& a) {
    average_rate = a.rate;
    average_isl = a.mean_isl;
    average_osl = a.mean_osl;
  }
  double ftl_max = std::numeric_limits<double>::infinity();
  double ttl_max = std::numeric_limits<double>::infinity();
};

// The traffic of one interval (observed) or the next (predicted).
struct TrafficEstimate {
  double rate = 0;      // requests/s
  double mean_isl = 0;  // tokens, over arrivals
  double mean_osl = 0;  // tokens, over requests that finished
  // Per candidate threshold (TrafficEstimator::thresholds()): share of
  // arrivals with ISL <= it, and their mean ISL.
  std::vector<double> share_at_most, mean_isl_at_most;
  // Requests waiting at the decision (prompts queued for prefill, caches
  // queued for a decode slot): the plan clears them within one interval.
  double backlog_prefill = 0, backlog_decode = 0;
};

// What a decision asks of the fleet.
struct FleetTarget {
  int prefill = 0, decode = 0;
  int decode_batch = 0;         // running sequences per decode instance
  int64_t local_threshold = 0;  // prompts of at most this many tokens prefill locally
  double planned_rate = 0;      // requests/s the counts were sized for
  double served = 0;            // share of that demand the counts serve (capped at the headroom)
};

// Arrival and completion statistics per interval, and the EWMA predictor.
class TrafficEstimator {
 public:
  // Statistics are kept for each candidate local-prefill threshold.
  explicit TrafficEstimator(std::vector<int64_t> thresholds);
  const std::vector<int64_t>& thresholds() const { return thresholds_; }
  void OnArrival(int64_t isl);
  void OnFinish(int64_t osl);
  // Ends the interval of `seconds`: returns what was observed in it and
  // updates the prediction.
  // `prior` stands in for what has not been observed yet (lengths before the
  // first arrival, OSL before the first completion).
  TrafficEstimate Close(double seconds, double ewma_weight, const TrafficEstimate& prior);
  const TrafficEstimate& prediction() const { return prediction_; }

 private:
  std::vector<int64_t> thresholds_;
  int64_t arrivals_ = 0, finished_ = 0;
  double isl_sum_ = 0, osl_sum_ = 0;
  std::vector<double> count_at_most_, isl_at_most_;
  TrafficEstimate ewma_, prediction_;
  bool started_ = false;
};

class FleetPlanner {
 public:
  // `prefill` and `decode` are the built pools (their spec's instances are
  // ignored; the budget bounds the counts).
  FleetPlanner(const PlannerOptions& options, const Pool& prefill, const Pool& decode);

  // Candidate local-prefill thresholds: {0}, the one given, or the auto grid.
  std::vector<int64_t> Thresholds() const;
  // The fleet at t = 0: static counts, or the best split for the average
  // traffic (static-best, and the dynamic planner's starting point).
  FleetTarget Initial() const;
  // A dynamic decision for the predicted traffic, given the current target:
  // the best plan, unless it needs no fewer GPUs and serves at most 5% more
  // of the demand than the current split (then the current one stays).
  FleetTarget Decide(const TrafficEstimate& predicted, const FleetTarget& current) const;

  // The capacity model (public for tests).
  double PrefillRate(double isl, double osl) const;  // one instance, requests/s
  // Largest batch whose caches fit and whose step meets the TTL limit; with
  // `local_prompt` > 0, a step that also prefills that many tokens must meet
  // it (0 when not even one sequence can).
  int DecodeBatch(double isl, double osl, double local_prompt = 0) const;
  double DecodeRate(double isl, double osl, int batch) const;  // one instance, requests/s
  // Extra decode-instance seconds of a step that also prefills `isl` tokens.
  // `context`: the decoding sequences' mean context.
  double LocalPrefillCost(double prompt, double context, int batch) const;
  const PlannerOptions& options() const { return o_; }

 private:
  // One candidate threshold's per-instance rates and demands.
  struct Option {
    int64_t threshold = 0;
    int batch = 0;
    serving::PoolRate prefill, decode;
    double prefill_demand = 0, decode_demand = 0;  // requests/s, backlog included
    bool all_local = false;
    // Fraction of the demand x prefill and y decode instances serve.
    double Served(int x, int y) const;
  };
  std::optional<Option> Rates(const TrafficEstimate& t, size_t k, int64_t threshold) const;
  FleetTarget Plan(const TrafficEstimate& t, bool whole_budget) const;
  TrafficEstimate Average() const;

  PlannerOptions o_;
  const Pool& prefill_;
  const Pool& decode_;
};

}  // namespace disagg::sim

#endif  // DISAGG_SIM_PLANNER_H_
