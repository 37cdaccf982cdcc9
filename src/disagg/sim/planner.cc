#include "disagg/sim/planner.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "disagg/serving/disagg.h"
#include "disagg/serving/phase.h"

namespace disagg::sim {
namespace {

// Decode batches are sized so that a step at the longest context a mean
// request reaches (ISL + OSL, not the average ISL + OSL / 2) stays within
// this share of the TTL limit: contexts vary around the means the plan uses.
constexpr double kTtlMargin = 0.95;
// A dynamic plan that needs as many GPUs as the current one replaces it only
// when it serves this much more of the predicted demand.
constexpr double kSwitchGain = 0.05;
// The auto threshold grid, tokens.
constexpr int64_t kAutoGrid[] = {0, 256, 512, 1024, 2048, 4096, 8192};

}  // namespace

Result<PolicyChoice> ParsePolicy(std::string_view name) {
  PolicyChoice c;
  c.name = std::string(name);
  std::string_view base = name;
  if (constexpr std::string_view kLocal = "+local"; base.ends_with(kLocal)) {
    c.local = true;
    base.remove_suffix(kLocal.size());
  }
  if (base == "static") {
    c.policy = PlannerPolicy::kStatic;
  } else if (base.starts_with("static:")) {
    c.policy = PlannerPolicy::kStatic;
    std::string_view rest = base.substr(7);
    size_t colon = rest.find(':');
    auto number = [&](std::string_view t, int& out) {
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
      return ec == std::errc() && ptr == t.data() + t.size() && out >= 1;
    };
    if (colon == std::string_view::npos || !number(rest.substr(0, colon), c.prefill) ||
        !number(rest.substr(colon + 1), c.decode)) {
      return Fail(
          "planner policy '{}': expected static:X:Y with X prefill and Y decode "
          "instances, both at least 1",
          name);
    }
  } else if (base == "static-best") {
    c.policy = PlannerPolicy::kStaticBest;
  } else if (base == "dynamic") {
    c.policy = PlannerPolicy::kDynamic;
  } else {
    return Fail(
        "unknown planner policy '{}' (expected static, static-best or dynamic, "
        "optionally with +local)",
        name);
  }
  return c;
}

TrafficEstimator::TrafficEstimator(std::vector<int64_t> thresholds)
    : thresholds_(std::move(thresholds)),
      count_at_most_(thresholds_.size()),
      isl_at_most_(thresholds_.size()) {}

void TrafficEstimator::OnArrival(int64_t isl) {
  ++arrivals_;
  isl_sum_ += static_cast<double>(isl);
  for (size_t k = 0; k < thresholds_.size(); ++k) {
    if (isl <= thresholds_[k]) {
      count_at_most_[k] += 1;
      isl_at_most_[k] += static_cast<double>(isl);
    }
  }
}

void TrafficEstimator::OnFinish(int64_t osl) {
  ++finished_;
  osl_sum_ += static_cast<double>(osl);
}

TrafficEstimate TrafficEstimator::Close(double seconds, double ewma_weight,
                                        const TrafficEstimate& prior) {
  const size_t n = thresholds_.size();
  TrafficEstimate seen;
  seen.rate = seconds > 0 ? static_cast<double>(arrivals_) / seconds : 0;
  // Lengths: the window's when it saw any, else the running estimate.
  const TrafficEstimate& fallback = started_ ? ewma_ : prior;
  seen.mean_isl = arrivals_ > 0 ? isl_sum_ / static_cast<double>(arrivals_) : fallback.mean_isl;
  seen.mean_osl = finished_ > 0 ? osl_sum_ / static_cast<double>(finished_) : fallback.mean_osl;
  seen.share_at_most.assign(n, 0);
  seen.mean_isl_at_most.assign(n, 0);
  for (size_t k = 0; k < n; ++k) {
    if (arrivals_ > 0) {
      seen.share_at_most[k] = count_at_most_[k] / static_cast<double>(arrivals_);
      seen.mean_isl_at_most[k] = count_at_most_[k] > 0 ? isl_at_most_[k] / count_at_most_[k] : 0;
    } else if (k < fallback.share_at_most.size()) {
      seen.share_at_most[k] = fallback.share_at_most[k];
      seen.mean_isl_at_most[k] = fallback.mean_isl_at_most[k];
    }
  }
  if (!started_) {
    ewma_ = seen;
    started_ = true;
  } else {
    auto mix = [&](double& e, double v) { e = ewma_weight * v + (1 - ewma_weight) * e; };
    mix(ewma_.rate, seen.rate);
    mix(ewma_.mean_isl, seen.mean_isl);
    mix(ewma_.mean_osl, seen.mean_osl);
    for (size_t k = 0; k < n; ++k) {
      mix(ewma_.share_at_most[k], seen.share_at_most[k]);
      mix(ewma_.mean_isl_at_most[k], seen.mean_isl_at_most[k]);
    }
  }
  // Scale up on the last window (a ramp or a burst is followed at once),
  // down on the smoothed rate (a lull does not shed capacity it will need).
  prediction_ = ewma_;
  prediction_.rate = std::max(seen.rate, ewma_.rate);
  // Lengths: the newest window, which tracks a shifting mix fastest.
  if (arrivals_ > 0) {
    prediction_.mean_isl = seen.mean_isl;
    prediction_.share_at_most = seen.share_at_most;
    prediction_.mean_isl_at_most = seen.mean_isl_at_most;
  }
  if (finished_ > 0) prediction_.mean_osl = seen.mean_osl;
  arrivals_ = finished_ = 0;
  isl_sum_ = osl_sum_ = 0;
  std::fill(count_at_most_.begin(), count_at_most_.end(), 0);
  std::fill(isl_at_most_.begin(), isl_at_most_.end(), 0);
  return seen;
}

FleetPlanner::FleetPlanner(const PlannerOptions& options, const Pool& prefill, const Pool& decode)
    : o_(options), prefill_(prefill), decode_(decode) {}

std::vector<int64_t> FleetPlanner::Thresholds() const {
  if (o_.local_prefill == PlannerOptions::kAuto) {
    return std::vector<int64_t>(std::begin(kAutoGrid), std::end(kAutoGrid));
  }
  if (o_.local_prefill > 0) return {0, o_.local_prefill};
  return {0};
}

double FleetPlanner::PrefillRate(double isl, double osl) const {
  const int batch = std::max(1, prefill_.spec.max_batch);
  auto m = serving::EvaluatePrefill(*prefill_.model, batch, {std::max(1.0, isl), osl},
                                    static_cast<double>(prefill_.spec.chunk));
  return m.requests_per_s;
}

int FleetPlanner::DecodeBatch(double isl, double osl, double local_prompt) const {
  const InstanceConfig& c = decode_.config;
  int cap = std::max(1, c.max_batch);
  const double bytes = c.kv.Bytes(isl + osl);
  if (bytes > 0) {
    cap = std::min<double>(cap, std::max(1.0, std::floor(c.kv_capacity / bytes)));
  }
  if (!std::isfinite(o_.ttl_max)) return cap;
  const perf::StepModel& m = *decode_.model;
  // EvaluateDecode's steady context is ISL + OSL / 2: shift it to ISL + OSL.
  const serving::Workload w{isl + osl / 2, osl};
  auto meets = [&](int b) {
    if (local_prompt <= 0) return serving::EvaluateDecode(m, b, w).ttl <= kTtlMargin * o_.ttl_max;
    perf::BatchShape shape = m.NewBatch();
    shape.AddDecode(b, isl + osl);
    shape.AddPrefill(1, local_prompt, 0);
    return m.RoundTime(shape) <= kTtlMargin * o_.ttl_max;
  };
  if (meets(cap)) return cap;
  if (!meets(1)) return local_prompt > 0 ? 0 : 1;
  int lo = 1, hi = cap;  // meets(lo), !meets(hi)
  while (hi - lo > 1) {
    int mid = lo + (hi - lo) / 2;
    (meets(mid) ? lo : hi) = mid;
  }
  return lo;
}

double FleetPlanner::DecodeRate(double isl, double osl, int batch) const {
  auto m = serving::EvaluateDecode(*decode_.model, batch, {isl, osl});
  return osl > 0 ? m.tokens_per_s / osl : 0;
}

double FleetPlanner::LocalPrefillCost(double prompt, double context, int batch) const {
  const perf::StepModel& m = *decode_.model;
  perf::BatchShape b = m.NewBatch();
  b.AddDecode(batch, context);
  const double plain = m.RoundTime(b);
  b.AddPrefill(1, std::max(1.0, prompt), 0);
  return m.RoundTime(b) - plain;
}

TrafficEstimate FleetPlanner::Average() const {
  TrafficEstimate t;
  t.rate = o_.average_rate;
  t.mean_isl = o_.average_isl;
  t.mean_osl = o_.average_osl;
  // Without a length distribution the average's prompts are all the mean.
  for (int64_t th : Thresholds()) {
    bool under = o_.average_isl <= static_cast<double>(th);
    t.share_at_most.push_back(under ? 1 : 0);
    t.mean_isl_at_most.push_back(under ? o_.average_isl : 0);
  }
  return t;
}

std::optional<FleetPlanner::Option> FleetPlanner::Rates(const TrafficEstimate& t, size_t k,
                                                        int64_t threshold) const {
  const double isl = std::max(1.0, t.mean_isl), osl = std::max(1.0, t.mean_osl);
  const double share = threshold > 0 && k < t.share_at_most.size() ? t.share_at_most[k] : 0;
  if (threshold > 0 && share <= 0) return std::nullopt;  // no prompt that short: same as 0
  Option o;
  o.threshold = threshold;
  o.batch =
      share > 0 ? DecodeBatch(isl, osl, static_cast<double>(threshold)) : DecodeBatch(isl, osl);
  if (o.batch < 1) return std::nullopt;  // a local prefill alone breaks the TTL limit
  const double local_isl = share > 0 ? t.mean_isl_at_most[k] : 0;
  const double remote_isl = share < 1 ? (isl - share * local_isl) / (1 - share) : isl;
  o.prefill = {share < 1 ? PrefillRate(remote_isl, osl) : 1e30, prefill_.gpus_per_instance()};
  o.decode = {DecodeRate(isl, osl, o.batch), decode_.gpus_per_instance()};
  if (share > 0 && o.decode.requests_per_s > 0) {
    o.decode.requests_per_s = 1 / (1 / o.decode.requests_per_s +
                                   share * LocalPrefillCost(local_isl, isl + osl / 2, o.batch));
  }
  const double rate = std::max(t.rate, 1e-9);
  o.prefill_demand = rate * (1 - share) + t.backlog_prefill / o_.interval;
  o.decode_demand = rate + t.backlog_decode / o_.interval;
  o.all_local = share >= 1;
  return o;
}

double FleetPlanner::Option::Served(int x, int y) const {
  double a = all_local ? HUGE_VAL : x * prefill.requests_per_s / prefill_demand;
  return std::min(a, y * decode.requests_per_s / decode_demand);
}

FleetTarget FleetPlanner::Plan(const TrafficEstimate& t, bool whole_budget) const {
  const double osl = std::max(1.0, t.mean_osl);
  const auto thresholds = Thresholds();
  FleetTarget best;
  double best_served = -1;
  for (size_t k = 0; k < thresholds.size(); ++k) {
    auto o = Rates(t, k, thresholds[k]);
    if (!o) continue;
    // The whole budget: demand beyond any fleet, so the best split wins.
    const double scale = whole_budget ? 1e9 : o_.headroom;
    auto c = serving::CountsForDemand(o->prefill, o->decode, o->prefill_demand * scale,
                                      o->decode_demand * scale, osl, o_.gpu_budget);
    if (!c.ok()) continue;
    double served = o->Served(c.prefill, c.decode);
    if (!whole_budget) served = std::min(served, o_.headroom);
    const int gpus = c.gpus;
    const int best_gpus =
        best.prefill * prefill_.gpus_per_instance() + best.decode * decode_.gpus_per_instance();
    const double eps = 1e-9 * std::max(1.0, best_served);
    if (served > best_served + eps ||
        (std::fabs(served - best_served) <= eps && gpus <= best_gpus)) {
      best_served = served;
      best.prefill = c.prefill;
      best.decode = c.decode;
      best.decode_batch = o->batch;
      best.local_threshold = o->threshold;
      best.planned_rate = t.rate;
      best.served = served;
    }
  }
  if (best.prefill == 0) {  // nothing fits the budget: one of each
    best.prefill = best.decode = 1;
    best.decode_batch = DecodeBatch(std::max(1.0, t.mean_isl), osl);
  }
  return best;
}

FleetTarget FleetPlanner::Initial() const {
  if (o_.policy != PlannerPolicy::kStatic) return Plan(Average(), true);
  FleetTarget t = Plan(Average(), true);  // for the batch and the threshold
  const int gp = prefill_.gpus_per_instance(), gd = decode_.gpus_per_instance();
  if (o_.static_prefill > 0 && o_.static_decode > 0) {
    t.prefill = o_.static_prefill;
    t.decode = o_.static_decode;
  } else {
    t.prefill = std::max(1, o_.gpu_budget / 2 / gp);
    t.decode = std::max(1, (o_.gpu_budget - t.prefill * gp) / gd);
  }
  return t;
}

FleetTarget FleetPlanner::Decide(const TrafficEstimate& predicted,
                                 const FleetTarget& current) const {
  FleetTarget next = Plan(predicted, false);
  // Keep the current split unless the new one frees GPUs or serves clearly
  // more: near the budget the best split follows noise in the estimates,
  // and every change costs a drain and a reload.
  const auto thresholds = Thresholds();
  double current_served = 0;
  for (size_t k = 0; k < thresholds.size(); ++k) {
    if (thresholds[k] != current.local_threshold) continue;
    if (auto o = Rates(predicted, k, thresholds[k])) {
      current_served = std::min(o->Served(current.prefill, current.decode), o_.headroom);
    }
  }
  const auto gpus = [&](const FleetTarget& f) {
    return f.prefill * prefill_.gpus_per_instance() + f.decode * decode_.gpus_per_instance();
  };
  if (gpus(next) >= gpus(current) && next.served <= current_served * (1 + kSwitchGain)) {
    FleetTarget keep = current;
    keep.planned_rate = predicted.rate;
    keep.served = current_served;
    return keep;
  }
  return next;
}

}  // namespace disagg::sim
