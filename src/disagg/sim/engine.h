// The simulator's engine: the event loop, the instances and the fleet.
// Internal to sim/ (simulator.cc, fleet.cc); users call sim::Simulate.
//
// Contract: single-threaded, deterministic; see simulator.h.
#ifndef DISAGG_SIM_ENGINE_H_
#define DISAGG_SIM_ENGINE_H_

#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "disagg/sim/event_queue.h"
#include "disagg/sim/kv_network.h"
#include "disagg/sim/planner.h"
#include "disagg/sim/simulator.h"

namespace disagg::sim::internal {

enum Kind : int {
  kArrival,        // a = pending index (open loop)
  kClientSend,     // a = client
  kStepDone,       // a = batching instance
  kEntryFree,      // a = prefill instance
  kBatchDone,      // a = prefill instance, b = batch id
  kTransferCheck,  // b = network generation
  kKvArrive,       // a = transfer payload
  kSample,
  kReady,       // a = slot: the framework has handed the request to the engine
  kPlan,        // the planner's interval ends
  kInstanceUp,  // a = role (0 prefill, 1 batching), b = instance: it starts serving
};

struct Slot {
  RequestRecord rec;
  int64_t client = -1;
  bool used = false;
};

struct Payload {
  Seq seq;
  int src = 0, dst = 0;
};

class Engine {
 public:
  Engine(const SimConfig& c, std::vector<Pool> pools) : c_(c), pools_(std::move(pools)) {
    rng_.seed(c.seed);
  }
  ~Engine();

  Result<SimResult> Run();

 private:
  bool disagg() const { return c_.deployment.disaggregated; }
  int64_t NewSlot(const RequestSpec& spec, int64_t client);
  // A new request: after the framework's request overhead it is routed.
  void Admit(int64_t slot);
  void Dispatch(int64_t slot);
  // The serving batching (co-located or decode) instance the router picks
  // for the next sequence; `cursor` is the round-robin position it advances.
  int PickBatching(int& cursor);
  double StartBatchingStep(int i);
  void KickBatching(int i);
  void KickPrefill(int i);
  void OnStepDone(int i);
  void OnBatchDone(int i, int64_t batch);
  void OnTransfers();
  void OnKvArrive(int64_t payload);
  void Finish(int64_t slot);
  void Drop(int64_t slot);
  // The request leaves the system (row written, slot freed); a closed-loop
  // client sends its next one.
  void Leave(int64_t slot);
  void ScheduleNetwork();
  Result<void> NextArrival();
  void SendFromClient(int64_t client);
  void Sample();
  void WriteRow(const Slot& s);
  // Output tokens produced now, counted when inside the measurement window.
  void CountTokens(int64_t n) { CountTokensAt(n, q_.now()); }
  void CountTokensAt(int64_t n, double when) {
    if (when >= c_.warmup) window_tokens_ += static_cast<double>(n);
  }
  // How long instance work can run ahead of the clock: until the next event
  // that could hand it work or observe it (the next arrival, a timeline
  // sample, the end of the clock). Infinite budgets are never given: only
  // open-loop co-located runs routed without per-step load use this.
  double LookaheadBudget() const;

  const SimConfig& c_;
  std::vector<Pool> pools_;
  std::deque<BatchingInstance> batching_;  // co-located or decode
  std::deque<PrefillInstance> prefill_;
  std::vector<std::vector<double>> batch_latency_;  // [prefill instance][batch id]
  std::vector<uint8_t> entry_pending_;
  KvNetwork net_;
  uint64_t net_gen_ = 0;
  double link_latency_ = 0;
  std::vector<Payload> payloads_;
  std::vector<int64_t> free_payloads_;
  EventQueue q_;
  std::mt19937_64 rng_;
  std::vector<Slot> slots_;
  std::vector<int64_t> free_slots_;
  int64_t in_system_ = 0;
  int cursor_a_ = 0, cursor_b_ = 0;
  bool source_done_ = false;
  RequestSpec pending_;
  int64_t next_id_ = 0;
  int64_t sent_ = 0;
  StepOutcome out_;
  // Measurements.
  SimResult r_;
  Histogram ftl_, ttl_, e2e_, queue_;
  int64_t good_ = 0;
  double window_tokens_ = 0;
  bool fast_forward_ = false;
  bool open_loop_colocated_ = false;
  double request_overhead_ = 0;
  std::deque<double> ready_times_;  // requests still in the framework's front end
  double next_sample_ = 0;
  double first_measured_ = -1;
  int64_t interval_arrivals_ = 0, interval_done_ = 0;

  // The fleet (fleet.cc). Without a planner every instance is active for the
  // whole run. With one, instances start (after a reconfiguration delay),
  // serve, drain (no new work; in-flight requests finish) and stop, and the
  // GPUs held by starting, serving and draining instances never exceed the
  // budget. Routers see only active instances.
  enum class State : uint8_t { kOff, kStarting, kActive, kDraining };
  static constexpr int kPrefillSide = 0, kBatchingSide = 1;
  void InitFleet();
  bool HasPlanner() const { return c_.planner.has_value(); }
  int InstanceCount(int side) const;
  int GpusPer(int side) const;
  void SetState(int side, int i, State s);
  void RebuildActive(int side);
  // GPU accounting: integrates GPUs held (and per side) up to now.
  void Account() { AccountUntil(q_.now()); }
  void AccountUntil(double t);
  void StartInstance(int side, int i);
  void OnInstanceUp(int side, int i);
  void Drain(int side, int i);
  void TurnOff(int side, int i);
  // A draining instance with nothing left stops.
  void CheckDrained(int side, int i);
  void TryStartPending();
  void Reconcile(const FleetTarget& target);
  void OnPlan();
  void FinishFleet(double end_clock);
  int64_t LocalThreshold() const { return target_.local_threshold; }

  std::vector<State> state_[2];
  std::vector<int> active_[2];    // indices of active instances, ascending
  std::vector<double> up_at_[2];  // when a starting instance begins serving
  std::vector<int> inbound_;      // caches in flight to each decode instance
  std::unique_ptr<FleetPlanner> planner_;
  std::unique_ptr<TrafficEstimator> estimator_;
  FleetTarget target_;
  FleetTarget last_wish_;          // the previous dynamic decision, before damping
  int waiting_start_[2] = {0, 0};  // instances waiting for GPUs to start
  int warm_[2] = {0, 0};           // stopped instances' GPUs still holding a side's weights
  bool same_weights_ = false;      // both sides use one mapping: weights serve either role
  int gpus_held_ = 0;
  int held_[2] = {0, 0};  // instances holding GPUs per side
  double accounted_until_ = 0;
  double gpu_seconds_ = 0;
  double instance_seconds_[2] = {0, 0};
  int64_t plan_done_ = 0, plan_good_ = 0;  // requests finished in this planner interval
  double last_finish_ = 0;                 // any request's, warm-up included
};

}  // namespace disagg::sim::internal

#endif  // DISAGG_SIM_ENGINE_H_
