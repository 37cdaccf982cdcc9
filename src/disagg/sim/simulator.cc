#include "disagg/sim/simulator.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <deque>

#include "disagg/serving/phase.h"
#include "disagg/sim/engine.h"
#include "disagg/sim/random.h"

namespace disagg::sim::internal {

int64_t Engine::NewSlot(const RequestSpec& spec, int64_t client) {
  int64_t i;
  if (!free_slots_.empty()) {
    i = free_slots_.back();
    free_slots_.pop_back();
  } else {
    i = static_cast<int64_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[i];
  s = Slot{};
  s.rec.spec = spec;
  s.client = client;
  s.used = true;
  ++in_system_;
  ++r_.requests_arrived;
  ++interval_arrivals_;
  if (estimator_) estimator_->OnArrival(spec.isl);
  if (spec.arrival >= c_.warmup && first_measured_ < 0) first_measured_ = spec.arrival;
  return i;
}

void Engine::Admit(int64_t slot) {
  const double overhead = request_overhead_;
  if (overhead > 0) {
    q_.Push(q_.now() + overhead, kReady, slot);
    ready_times_.push_back(q_.now() + overhead);
  } else {
    Dispatch(slot);
  }
}

void Engine::Dispatch(int64_t slot) {
  const RequestSpec& spec = slots_[slot].rec.spec;
  Seq seq;
  seq.slot = slot;
  seq.isl = spec.isl;
  seq.osl = spec.osl;
  // Co-located, or a short prompt the planner prefills on a decode instance.
  const bool local = disagg() && spec.isl <= LocalThreshold();
  if (!disagg() || local) {
    int i = PickBatching(cursor_a_);
    if (local) ++r_.local_prefills;
    batching_[i].Enqueue(seq);
    KickBatching(i);
  } else {
    const auto& active = active_[kPrefillSide];
    int i = active[Route(c_.router, static_cast<int>(active.size()), cursor_a_,
                         [&](int k) { return double(prefill_[active[k]].outstanding()); })];
    prefill_[i].Enqueue(seq);
    KickPrefill(i);
  }
}

int Engine::PickBatching(int& cursor) {
  const auto& active = active_[kBatchingSide];
  return active[Route(c_.router, static_cast<int>(active.size()), cursor, [&](int k) {
    const auto& b = batching_[active[k]];
    return c_.router == RouterPolicy::kLeastKv ? b.kv_fraction() : double(b.outstanding());
  })];
}

double Engine::LookaheadBudget() const {
  double until = c_.max_time;
  if (open_loop_colocated_) {
    // Other instances' steps cannot reach this one: only the next arrival
    // (or a timeline sample) can.
    if (!source_done_) until = std::min(until, pending_.arrival + request_overhead_);
    if (!ready_times_.empty()) until = std::min(until, ready_times_.front());
    if (c_.timeline_out != nullptr) until = std::min(until, next_sample_);
  } else if (!q_.empty()) {
    // Any queued event might hand this instance work (a finish elsewhere
    // sends a closed-loop client's next request, a transfer delivers a cache).
    until = std::min(until, q_.top().time);
  }
  return until - q_.now();
}

double Engine::StartBatchingStep(int i) {
  BatchingInstance& inst = batching_[i];
  for (int64_t slot : inst.TakeRejected()) Drop(slot);
  if (inst.busy()) return 0;
  const double now = q_.now();
  double dt = inst.StartStep(now);
  for (int64_t slot : inst.started()) slots_[slot].rec.prefill_start = now;
  inst.started().clear();
  return dt;
}

void Engine::KickBatching(int i) {
  double dt = StartBatchingStep(i);
  if (dt > 0) q_.Push(q_.now() + dt, kStepDone, i);
}

void Engine::KickPrefill(int i) {
  PrefillInstance& inst = prefill_[i];
  const double now = q_.now();
  if (inst.CanStart(now)) {
    auto st = inst.StartBatch(now);
    for (int64_t slot : st.slots) slots_[slot].rec.prefill_start = now;
    auto& lat = batch_latency_[i];
    if (static_cast<int64_t>(lat.size()) <= st.batch) lat.resize(st.batch + 1);
    lat[st.batch] = st.latency;
    q_.Push(now + st.latency, kBatchDone, i, st.batch);
  }
  if (!entry_pending_[i] && inst.queued() > 0 && inst.entry_free() > now) {
    entry_pending_[i] = 1;
    q_.Push(inst.entry_free(), kEntryFree, i);
  }
}

void Engine::OnStepDone(int i) {
  while (true) {
    const double now = q_.now();
    out_.Clear();
    batching_[i].FinishStep(now, out_);
    for (int64_t slot : out_.first_token) slots_[slot].rec.first_token = now;
    CountTokens(out_.decoded + static_cast<int64_t>(out_.first_token.size()));
    for (int64_t slot : out_.preempted) ++slots_[slot].rec.preemptions;
    r_.preemptions += static_cast<int64_t>(out_.preempted.size());
    for (int64_t slot : out_.finished) Finish(slot);
    if (fast_forward_) {
      auto run = batching_[i].FastForward(LookaheadBudget());
      if (run.steps > 0) {
        CountTokensAt(run.tokens, now + run.time);
        r_.events += run.steps;
        // The instance is now `run.time` ahead of the clock; its next step
        // starts there.
        double dt = StartBatchingStep(i);
        if (dt > 0) q_.Push(now + run.time + dt, kStepDone, i);
        return;
      }
    }
    double dt = StartBatchingStep(i);
    if (dt <= 0) {
      CheckDrained(kBatchingSide, i);
      return;
    }
    // A step that ends before anything else happens is run inline: the heap
    // would pop it next anyway, so the order of events is unchanged.
    const double end = now + dt;
    if ((!q_.empty() && q_.top().time <= end) || end > c_.max_time) {
      q_.Push(end, kStepDone, i);
      return;
    }
    q_.AdvanceTo(end);
    ++r_.events;
  }
}

void Engine::OnBatchDone(int i, int64_t batch) {
  const double now = q_.now();
  out_.Clear();
  prefill_[i].FinishBatch(batch, out_);
  const double latency = batch_latency_[i][batch];
  net_.Advance(now);
  const auto& model = *pools_[0].model;
  for (const Seq& seq : out_.prefilled) {
    int dst = PickBatching(cursor_b_);
    int64_t id;
    if (!free_payloads_.empty()) {
      id = free_payloads_.back();
      free_payloads_.pop_back();
      payloads_[id] = Payload{seq, i, dst};
    } else {
      id = static_cast<int64_t>(payloads_.size());
      payloads_.push_back(Payload{seq, i, dst});
    }
    // Layer by layer the cache leaves while later layers compute: only what
    // the link could not carry during the prefill remains (at least the last
    // layer's share).
    double bytes = serving::KvTransferBytes(model, static_cast<double>(seq.prompt()));
    double overlapped = net_.ProspectiveRate(i, dst) * latency;
    double rest = std::max(bytes / model.model().num_layers, bytes - overlapped);
    net_.Start(now, i, dst, rest, id);
    ++inbound_[dst];
    ++r_.kv_transfers;
    r_.kv_bytes += bytes;
  }
  ScheduleNetwork();
  KickPrefill(i);
}

void Engine::ScheduleNetwork() {
  double t = net_.NextCompletion();
  ++net_gen_;
  if (std::isfinite(t)) q_.Push(std::max(t, q_.now()), kTransferCheck, 0, int64_t(net_gen_));
}

void Engine::OnTransfers() {
  const double now = q_.now();
  net_.Advance(now);
  for (int64_t id : net_.TakeCompleted(now)) {
    prefill_[payloads_[id].src].Released(1);
    CheckDrained(kPrefillSide, payloads_[id].src);
    q_.Push(now + link_latency_, kKvArrive, id);
  }
  ScheduleNetwork();
}

void Engine::OnKvArrive(int64_t id) {
  Payload p = payloads_[id];
  free_payloads_.push_back(id);
  Slot& s = slots_[p.seq.slot];
  s.rec.first_token = q_.now();
  CountTokens(1);
  --inbound_[p.dst];
  if (p.seq.generated >= p.seq.osl) {
    Finish(p.seq.slot);
    CheckDrained(kBatchingSide, p.dst);
    return;
  }
  batching_[p.dst].Enqueue(p.seq);
  KickBatching(p.dst);
}

void Engine::WriteRow(const Slot& s) {
  if (c_.requests_out == nullptr) return;
  const RequestRecord& r = s.rec;
  if (r.finished()) {
    *c_.requests_out << fmt::format("{},{:.6f},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{},1\n", r.spec.id,
                                    r.spec.arrival, r.spec.isl, r.spec.osl, r.queueing(), r.ftl(),
                                    r.ttl(), r.e2e(), r.preemptions);
  } else {
    *c_.requests_out << fmt::format("{},{:.6f},{},{},,,,,{},0\n", r.spec.id, r.spec.arrival,
                                    r.spec.isl, r.spec.osl, r.preemptions);
  }
}

void Engine::Finish(int64_t slot) {
  Slot& s = slots_[slot];
  RequestRecord& r = s.rec;
  r.finish = q_.now();
  last_finish_ = std::max(last_finish_, r.finish);
  ++interval_done_;
  ++plan_done_;
  if (estimator_) estimator_->OnFinish(r.spec.osl);
  const bool good = r.ftl() <= c_.ftl_max && r.ttl() <= c_.ttl_max;
  plan_good_ += good;
  if (r.spec.arrival >= c_.warmup) {
    ++r_.requests_completed;
    ftl_.Add(r.ftl());
    if (r.spec.osl > 1) ttl_.Add(r.ttl());
    e2e_.Add(r.e2e());
    // Queueing is the wait for the engine, after the framework's front end.
    queue_.Add(std::max(0.0, r.queueing() - request_overhead_));
    r_.output_tokens += static_cast<double>(r.spec.osl);
    r_.end = std::max(r_.end, r.finish);
    good_ += good;
  } else {
    ++r_.requests_warmup;
  }
  Leave(slot);
}

void Engine::Drop(int64_t slot) {
  ++r_.requests_rejected;
  Leave(slot);
}

void Engine::Leave(int64_t slot) {
  Slot& s = slots_[slot];
  WriteRow(s);
  int64_t client = s.client;
  s.used = false;
  free_slots_.push_back(slot);
  --in_system_;
  if (client >= 0 && (c_.closed_requests <= 0 || sent_ < c_.closed_requests)) {
    q_.Push(q_.now(), kClientSend, client);
  }
}

Result<void> Engine::NextArrival() {
  auto next = c_.source->Next();
  if (!next) return std::unexpected(next.error());
  if (!next->has_value()) {
    source_done_ = true;
    return {};
  }
  pending_ = **next;
  if (pending_.isl < 1 || pending_.osl < 1) {
    return Fail("request {}: lengths must be at least 1 (isl {}, osl {})", pending_.id,
                pending_.isl, pending_.osl);
  }
  q_.Push(std::max(pending_.arrival, q_.now()), kArrival);
  return {};
}

void Engine::SendFromClient(int64_t client) {
  if (c_.closed_requests > 0 && sent_ >= c_.closed_requests) return;
  ++sent_;
  auto [isl, osl] = c_.lengths->Sample(rng_);
  RequestSpec spec{next_id_++, q_.now(), isl, osl};
  Admit(NewSlot(spec, client));
}

void Engine::Sample() {
  if (c_.timeline_out == nullptr) return;
  std::string row = fmt::format("{:.3f},{},{}", q_.now(), interval_arrivals_, interval_done_);
  interval_arrivals_ = interval_done_ = 0;
  if (disagg()) {
    int64_t queued = 0, running = 0;
    for (const auto& p : prefill_) queued += p.queued(), running += p.running();
    row += fmt::format(",{},{},{}", queued, running, net_.active());
  }
  int64_t queued = 0, running = 0;
  double kv = 0;
  for (const auto& b : batching_)
    queued += b.queued(), running += b.running(), kv += b.kv_fraction();
  row += fmt::format(",{},{},{:.4f}\n", queued, running,
                     batching_.empty() ? 0.0 : kv / batching_.size());
  *c_.timeline_out << row;
}

Result<SimResult> Engine::Run() {
  auto wall_start = std::chrono::steady_clock::now();
  // Instances.
  for (const Pool& p : pools_) {
    for (int k = 0; k < p.spec.instances; ++k) {
      if (p.role == Role::kPrefill) {
        prefill_.emplace_back(p.config);
      } else {
        batching_.emplace_back(p.config);
      }
    }
  }
  batch_latency_.assign(prefill_.size(), {});
  entry_pending_.assign(prefill_.size(), 0);
  InitFleet();
  if (disagg()) {
    // Per-GPU link: NVLink when the whole deployment sits in one domain.
    const auto& sys = c_.system;
    const int fleet = HasPlanner() ? c_.planner->gpu_budget : c_.deployment.gpus();
    bool nvlink = fleet <= sys.nvlink_domain;
    double per_gpu = (nvlink ? sys.gpu.nvlink_bw : sys.scaleout_bw) * sys.calibration.comm_bw_eff;
    link_latency_ =
        (nvlink ? sys.nvlink_latency : sys.scaleout_latency) + sys.calibration.kv_transfer_overhead;
    std::vector<double> egress(prefill_.size(), per_gpu * pools_[0].gpus_per_instance());
    std::vector<double> ingress(batching_.size(), per_gpu * pools_[1].gpus_per_instance());
    net_ = KvNetwork(std::move(egress), std::move(ingress));
  }
  if (c_.requests_out != nullptr) {
    *c_.requests_out << "id,arrival_s,isl,osl,queue_s,ftl_s,ttl_s,e2e_s,preemptions,finished\n";
  }
  if (c_.timeline_out != nullptr) {
    *c_.timeline_out << "time_s,arrivals,completed";
    if (disagg()) *c_.timeline_out << ",prefill_queued,prefill_running,kv_transfers";
    *c_.timeline_out << (disagg() ? ",decode_queued,decode_running,decode_kv_used\n"
                                  : ",queued,running,kv_used\n");
    next_sample_ = c_.timeline_interval;
    q_.Push(next_sample_, kSample);
  }
  // Fast-forwarding stops before the next event that could reach an
  // instance. In an open-loop co-located run with routing that ignores
  // per-step load that is the next arrival; otherwise the next event.
  fast_forward_ = c_.fast_forward;
  request_overhead_ = c_.system.calibration.request_overhead[static_cast<int>(c_.backend)];
  open_loop_colocated_ = !disagg() && c_.concurrency == 0 && c_.router != RouterPolicy::kLeastKv;
  // Workload.
  if (c_.concurrency > 0) {
    source_done_ = true;  // clients create requests as they go
    for (int64_t k = 0; k < c_.concurrency; ++k) {
      q_.Push(c_.client_spread > 0 ? Uniform01(rng_) * c_.client_spread : 0.0, kClientSend, k);
    }
  } else if (auto first = NextArrival(); !first) {
    return std::unexpected(first.error());
  }
  auto last_progress = wall_start;
  bool clock_stopped = false;
  while (!q_.empty()) {
    if (q_.top().time > c_.max_time) {
      clock_stopped = true;
      break;
    }
    Event e = q_.Pop();
    ++r_.events;
    switch (e.kind) {
      case kArrival:
        Admit(NewSlot(pending_, -1));
        if (auto more = NextArrival(); !more) return std::unexpected(more.error());
        break;
      case kClientSend:
        SendFromClient(e.a);
        break;
      case kStepDone:
        OnStepDone(static_cast<int>(e.a));
        break;
      case kEntryFree:
        entry_pending_[e.a] = 0;
        KickPrefill(static_cast<int>(e.a));
        break;
      case kBatchDone:
        OnBatchDone(static_cast<int>(e.a), e.b);
        break;
      case kTransferCheck:
        if (static_cast<uint64_t>(e.b) == net_gen_) OnTransfers();
        break;
      case kKvArrive:
        OnKvArrive(e.a);
        break;
      case kReady:
        ready_times_.pop_front();  // readiness keeps arrival order (one overhead for all)
        Dispatch(e.a);
        break;
      case kPlan:
        OnPlan();
        break;
      case kInstanceUp:
        OnInstanceUp(static_cast<int>(e.a), static_cast<int>(e.b));
        break;
      case kSample:
        Sample();
        next_sample_ = q_.now() + c_.timeline_interval;
        if (!(source_done_ && in_system_ == 0 &&
              (c_.concurrency == 0 || sent_ >= c_.closed_requests))) {
          q_.Push(next_sample_, kSample);
        }
        break;
    }
    if (c_.progress && (r_.events & 0xFFFF) == 0) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_progress > std::chrono::seconds(1)) {
        c_.progress(q_.now(), r_.requests_completed);
        last_progress = now;
      }
    }
  }
  // Whatever is still in the system did not finish.
  for (const Slot& s : slots_) {
    if (!s.used) continue;
    if (s.rec.spec.arrival >= c_.warmup) ++r_.requests_unfinished;
    WriteRow(s);
  }
  const double end_clock = clock_stopped ? c_.max_time : q_.now();
  // GPUs are counted until the last request ends (or the clock stops).
  FinishFleet(clock_stopped ? c_.max_time : std::min(end_clock, std::max(last_finish_, 0.0)));
  // The window runs from the first measured arrival to the last finish, or
  // to the stop of the clock when requests were still in flight.
  r_.start = first_measured_ < 0 ? 0 : first_measured_;
  if (r_.requests_unfinished > 0 || r_.end <= r_.start) r_.end = std::max(r_.start, end_clock);
  const double window = r_.end - r_.start;
  r_.gpus = HasPlanner() ? c_.planner->gpu_budget : c_.deployment.gpus();
  if (window > 0) {
    r_.tokens_per_s = window_tokens_ / window;
    r_.tokens_per_s_per_gpu = r_.tokens_per_s / r_.gpus;
    r_.requests_per_s = r_.requests_completed / window;
    r_.goodput_rps = good_ / window;
  }
  const int64_t measured = r_.requests_completed + r_.requests_unfinished;
  r_.sla_attainment = measured > 0 ? static_cast<double>(good_) / measured : 0;
  r_.ftl = Summarize(ftl_);
  r_.ttl = Summarize(ttl_);
  r_.e2e = Summarize(e2e_);
  r_.queueing = Summarize(queue_);
  for (const Pool& pool : pools_) {
    const int side = pool.role == Role::kPrefill ? kPrefillSide : kBatchingSide;
    PoolStats ps;
    ps.role = RoleName(pool.role);
    ps.mapping = pool.spec.mapping.Label();
    // With a planner: the instances serving at the end.
    ps.instances = HasPlanner() ? static_cast<int>(active_[side].size()) : pool.spec.instances;
    ps.gpus = ps.instances * pool.gpus_per_instance();
    double busy = 0;
    if (side == kPrefillSide) {
      for (const auto& inst : prefill_) busy += inst.busy_time();
    } else {
      for (const auto& inst : batching_) busy += inst.busy_time();
    }
    // Busy share of the time instances held their GPUs.
    ps.utilization = instance_seconds_[side] > 0 ? busy / instance_seconds_[side] : 0;
    r_.pools.push_back(ps);
  }
  if (c_.source != nullptr) r_.skipped_lines = c_.source->skipped_lines();
  r_.elapsed_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r_;
}

}  // namespace disagg::sim::internal

namespace disagg::sim {

Result<SimResult> Simulate(const SimConfig& config) {
  if (config.concurrency > 0 && config.lengths == nullptr) {
    return Fail("closed-loop simulation needs a length distribution");
  }
  if (config.concurrency <= 0 && config.source == nullptr) {
    return Fail("simulation needs a workload: a request source or a concurrency");
  }
  auto pools = BuildPools(config.model, config.system, config.precision, config.backend,
                          config.deployment, config.prompt_hint);
  if (!pools) return std::unexpected(pools.error());
  for (Pool& p : *pools) {
    if (config.planner) {
      // Room for the whole budget on each side; the planner picks the counts.
      p.spec.instances = std::max(1, config.planner->gpu_budget / p.gpus_per_instance());
    }
    if (p.spec.instances < 1) {
      return Fail("the {} pool needs at least one instance", RoleName(p.role));
    }
  }
  if (config.planner && !config.deployment.disaggregated) {
    return Fail("the planner needs a disaggregated deployment");
  }
  internal::Engine engine(config, std::move(*pools));
  return engine.Run();
}

}  // namespace disagg::sim
