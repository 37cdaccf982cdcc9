// The engine's fleet: which instances hold GPUs and serve, and the planner
// that changes them (see engine.h and planner.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "disagg/sim/engine.h"

namespace disagg::sim::internal {

Engine::~Engine() = default;

int Engine::InstanceCount(int side) const {
  return static_cast<int>(side == kPrefillSide ? prefill_.size() : batching_.size());
}

int Engine::GpusPer(int side) const {
  if (!disagg()) return pools_[0].gpus_per_instance();
  return pools_[side].gpus_per_instance();
}

void Engine::RebuildActive(int side) {
  auto& a = active_[side];
  a.clear();
  for (int i = 0; i < InstanceCount(side); ++i) {
    if (state_[side][i] == State::kActive) a.push_back(i);
  }
}

void Engine::AccountUntil(double now) {
  const double dt = now - accounted_until_;
  if (dt > 0) {
    gpu_seconds_ += dt * gpus_held_;
    for (int side : {kPrefillSide, kBatchingSide}) instance_seconds_[side] += dt * held_[side];
  }
  accounted_until_ = std::max(accounted_until_, now);
}

void Engine::SetState(int side, int i, State s) {
  State& cur = state_[side][i];
  const bool held_before = cur != State::kOff, held_after = s != State::kOff;
  if (held_before != held_after) {
    Account();
    const int sign = held_after ? 1 : -1;
    held_[side] += sign;
    gpus_held_ += sign * GpusPer(side);
    r_.max_gpus_held = std::max(r_.max_gpus_held, gpus_held_);
  }
  const bool active_change = (cur == State::kActive) != (s == State::kActive);
  cur = s;
  if (active_change) RebuildActive(side);
}

void Engine::InitFleet() {
  state_[kPrefillSide].assign(prefill_.size(), State::kOff);
  state_[kBatchingSide].assign(batching_.size(), State::kOff);
  up_at_[kPrefillSide].assign(prefill_.size(), 0);
  up_at_[kBatchingSide].assign(batching_.size(), 0);
  inbound_.assign(batching_.size(), 0);
  if (!HasPlanner()) {
    for (int side : {kPrefillSide, kBatchingSide}) {
      for (int i = 0; i < InstanceCount(side); ++i) SetState(side, i, State::kActive);
    }
    return;
  }
  const PlannerOptions& o = *c_.planner;
  planner_ = std::make_unique<FleetPlanner>(o, pools_[0], pools_[1]);
  estimator_ = std::make_unique<TrafficEstimator>(planner_->Thresholds());
  same_weights_ = pools_[0].spec.mapping == pools_[1].spec.mapping;
  target_ = planner_->Initial();
  last_wish_ = target_;
  // The initial fleet is up when traffic begins.
  for (int i = 0; i < std::min(target_.prefill, InstanceCount(kPrefillSide)); ++i) {
    SetState(kPrefillSide, i, State::kActive);
  }
  for (int i = 0; i < std::min(target_.decode, InstanceCount(kBatchingSide)); ++i) {
    SetState(kBatchingSide, i, State::kActive);
  }
  for (auto& b : batching_) b.set_max_batch(target_.decode_batch);
  q_.Push(o.interval, kPlan);
}

void Engine::StartInstance(int side, int i) {
  const PlannerOptions& o = *c_.planner;
  double delay = o.reconfig_delay;
  // GPUs that already hold the weights this role needs skip the load.
  const int other = 1 - side;
  if (warm_[side] > 0) {
    --warm_[side];
    delay = o.role_flip_delay;
  } else if (same_weights_ && warm_[other] > 0) {
    --warm_[other];
    delay = o.role_flip_delay;
  }
  ++r_.reconfigurations;
  if (delay <= 0) {
    SetState(side, i, State::kActive);
    return;
  }
  SetState(side, i, State::kStarting);
  up_at_[side][i] = q_.now() + delay;
  q_.Push(up_at_[side][i], kInstanceUp, side, i);
}

void Engine::OnInstanceUp(int side, int i) {
  // Cancelled meanwhile, or cancelled and started again (a later event).
  if (state_[side][i] != State::kStarting || q_.now() < up_at_[side][i]) return;
  SetState(side, i, State::kActive);
}

void Engine::Drain(int side, int i) {
  ++r_.reconfigurations;
  SetState(side, i, State::kDraining);
  if (side == kPrefillSide) {
    // Prompts not yet started go to the instances that keep serving.
    for (const Seq& s : prefill_[i].DrainQueue()) Dispatch(s.slot);
  }
  CheckDrained(side, i);
}

void Engine::CheckDrained(int side, int i) {
  if (!HasPlanner() || state_[side][i] != State::kDraining) return;
  if (side == kPrefillSide) {
    if (prefill_[i].outstanding() > 0) return;
  } else if (batching_[i].outstanding() > 0 || batching_[i].busy() || inbound_[i] > 0) {
    return;
  }
  TurnOff(side, i);
}

void Engine::TurnOff(int side, int i) {
  SetState(side, i, State::kOff);
  ++warm_[side];  // its GPUs keep the weights until reused
  TryStartPending();
}

void Engine::TryStartPending() {
  bool started = true;
  while (started) {
    started = false;
    for (int side : {kPrefillSide, kBatchingSide}) {
      if (waiting_start_[side] <= 0) continue;
      if (gpus_held_ + GpusPer(side) > c_.planner->gpu_budget) continue;
      for (int i = 0; i < InstanceCount(side); ++i) {
        if (state_[side][i] != State::kOff) continue;
        --waiting_start_[side];
        StartInstance(side, i);
        started = true;
        break;
      }
    }
  }
  // Weights survive only on GPUs nobody else took: the warm groups fit in
  // the GPUs not held.
  const int free_gpus = c_.planner->gpu_budget - gpus_held_;
  while (warm_[0] * GpusPer(0) + warm_[1] * GpusPer(1) > free_gpus) {
    --warm_[warm_[0] * GpusPer(0) >= warm_[1] * GpusPer(1) ? 0 : 1];
  }
}

void Engine::Reconcile(const FleetTarget& target) {
  const int want[2] = {target.prefill, target.decode};
  for (int side : {kPrefillSide, kBatchingSide}) {
    auto count = [&](State s) {
      return static_cast<int>(std::count(state_[side].begin(), state_[side].end(), s));
    };
    int have = count(State::kActive) + count(State::kStarting) + waiting_start_[side];
    const int n = InstanceCount(side);
    // Growing: draining instances serve again at once, then new ones start.
    for (int i = 0; i < n && have < want[side]; ++i) {
      if (state_[side][i] == State::kDraining) {
        SetState(side, i, State::kActive);
        ++have;
      }
    }
    if (have < want[side]) waiting_start_[side] += want[side] - have;
    // Shrinking: cancel what has not started, then drain the least loaded.
    while (have > want[side] && waiting_start_[side] > 0) --waiting_start_[side], --have;
    for (int i = n - 1; i >= 0 && have > want[side]; --i) {
      if (state_[side][i] == State::kStarting) {
        SetState(side, i, State::kOff);
        --have;
      }
    }
    while (have > want[side] && active_[side].size() > 1) {
      int pick = -1;
      double least = std::numeric_limits<double>::infinity();
      for (int i : active_[side]) {
        double load = side == kPrefillSide ? double(prefill_[i].outstanding())
                                           : double(batching_[i].outstanding());
        if (load < least) least = load, pick = i;
      }
      Drain(side, pick);
      --have;
    }
  }
  for (auto& b : batching_) b.set_max_batch(target.decode_batch);
  target_ = target;
  TryStartPending();
}

void Engine::OnPlan() {
  const PlannerOptions& o = *c_.planner;
  const double now = q_.now();
  TrafficEstimate prior;
  prior.rate = o.average_rate;
  prior.mean_isl = o.average_isl;
  prior.mean_osl = o.average_osl;
  TrafficEstimate seen = estimator_->Close(o.interval, o.ewma_weight, prior);
  if (o.policy == PlannerPolicy::kDynamic) {
    TrafficEstimate next = estimator_->prediction();
    for (const auto& p : prefill_) next.backlog_prefill += static_cast<double>(p.queued());
    for (const auto& b : batching_) next.backlog_decode += static_cast<double>(b.queued());
    FleetTarget want = planner_->Decide(next, target_);
    // Grow at once; shrink a side only when two decisions in a row ask for
    // it (to the larger of the two), so one quiet interval does not shed
    // capacity that the next needs back (each change costs a reload).
    FleetTarget apply = want;
    apply.prefill = want.prefill >= target_.prefill
                        ? want.prefill
                        : std::min(target_.prefill, std::max(want.prefill, last_wish_.prefill));
    apply.decode = want.decode >= target_.decode
                       ? want.decode
                       : std::min(target_.decode, std::max(want.decode, last_wish_.decode));
    last_wish_ = want;
    Reconcile(apply);
  }
  PlannerSample row;
  row.time = now;
  row.arrival_rate = seen.rate;
  row.prefill_instances = static_cast<int>(active_[kPrefillSide].size());
  row.decode_instances = static_cast<int>(active_[kBatchingSide].size());
  for (int side : {kPrefillSide, kBatchingSide}) {
    for (State s : state_[side]) {
      row.starting += s == State::kStarting;
      row.draining += s == State::kDraining;
    }
  }
  row.gpus = gpus_held_;
  row.goodput_rps = static_cast<double>(plan_good_) / o.interval;
  row.sla_attainment = plan_done_ > 0 ? static_cast<double>(plan_good_) / plan_done_
                                      : std::numeric_limits<double>::quiet_NaN();
  row.planned_rate = target_.planned_rate;
  row.decode_batch = target_.decode_batch;
  row.local_threshold = target_.local_threshold;
  r_.planner_timeline.push_back(row);
  plan_done_ = plan_good_ = 0;
  if (!(source_done_ && in_system_ == 0)) q_.Push(now + o.interval, kPlan);
}

void Engine::FinishFleet(double end_clock) {
  AccountUntil(end_clock);
  r_.gpu_hours = gpu_seconds_ / 3600;
}

}  // namespace disagg::sim::internal
