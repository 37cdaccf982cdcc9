// Serving instances of the simulator: continuous batching with a KV-cache
// budget (co-located and decode-only roles) and batched prefill (prefill-only
// role, with chunked pipelining when pp > 1).
//
// Contract: an instance owns its queues and running sequences and knows
// nothing of events: the simulator calls Start*() when the instance is idle
// and Finish*() when the step's time has passed, and the instance reports
// what happened through StepOutcome. Every step time comes from the shared
// perf::StepModel. Per step the work is O(log n) in the batch size n: the
// batch's context sums are kept as running totals (perf::BatchShape) and
// finishing sequences are found with a heap keyed on the step they finish
// in. Not thread-safe.
#ifndef DISAGG_SIM_INSTANCE_H_
#define DISAGG_SIM_INSTANCE_H_

#include <cstdint>
#include <deque>
#include <queue>
#include <utility>
#include <vector>

#include "disagg/perf/step_model.h"

namespace disagg::sim {

enum class Role { kColocated, kPrefill, kDecode };
const char* RoleName(Role r);

// Cache bytes a sequence holds on one GPU of the instance's busiest stage:
// full x context + capped x min(context, cap) + fixed.
struct KvCost {
  double full = 0;    // bytes per token of layers that keep every token
  double capped = 0;  // bytes per token of sliding-window layers
  double cap = 0;     // their window
  double fixed = 0;   // per sequence (linear-attention state)
  double Bytes(double context) const {
    return full * context + capped * std::min(context, cap) + fixed;
  }
};

// A request resident in an instance.
struct Seq {
  int64_t slot = 0;       // the simulator's record slot
  int64_t isl = 0;        // prompt tokens of the request
  int64_t osl = 0;        // output tokens of the request
  int64_t generated = 0;  // output tokens produced so far
  int64_t prefilled = 0;  // prompt tokens processed so far (this residency)
  // Decode bookkeeping, valid while decoding.
  int64_t admit_step = 0;
  int64_t admit_ctx = 0;
  uint32_t generation = 0;
  // Tokens to (re)compute before decoding: the prompt, plus the tokens
  // generated before a preemption.
  int64_t prompt() const { return isl + (generated > 1 ? generated - 1 : 0); }
};

struct StepOutcome {
  std::vector<int64_t> first_token;  // slots whose first token was produced
  std::vector<int64_t> finished;     // slots that produced their last token
  std::vector<Seq> prefilled;        // prefill role: sequences ready to ship
  std::vector<int64_t> preempted;    // slots that gave their cache back
  int64_t decoded = 0;               // tokens the step's decoding sequences produced
  void Clear() {
    decoded = 0;
    first_token.clear();
    finished.clear();
    prefilled.clear();
    preempted.clear();
  }
};

// TensorRT-LLM's attention-DP context balancing (attention_dp_config
// enable_balance, timeout_iters, batching_wait_iters): new prompts start only
// once every attention-DP rank has one, so the ranks' prefills run in the
// same step. Each scheduler iteration without a prompt on every rank counts
// towards the timeout, on which whatever prompts wait are released (so
// their wait is at most one timeout cycle); they are also released at once
// when some rank has no sequence decoding. With a prompt on every rank and
// every rank decoding, the start waits a further batching_wait_iters.
// Evaluated on the instance as a whole: a rank has a prompt when the
// unstarted prompts number at least the ranks (new requests go to the least
// loaded rank), and decodes when the decoding sequences do.
struct AdpBalance {
  int timeout_iters = 0;  // 0: balancing off (TensorRT-LLM's default)
  int batching_wait_iters = 0;
  bool on() const { return timeout_iters > 0; }
};

// TensorRT-LLM's batch waiting (batch_wait_timeout_iters,
// batch_wait_max_tokens_ratio; off by default, ignored under attention DP):
// while sequences decode, new prompts are held until the tokens the
// iteration would schedule (the waiting prompts', and each decoding
// sequence's token and drafts) reach `threshold_tokens` (the ratio times
// max_num_tokens) or the hold has lasted `timeout_iters` iterations, so
// prompts start in groups. A light load pays the whole timeout:
// timeout_iters decode steps per prompt. Either value 0 turns it off (the
// engine's test then always passes).
struct BatchWait {
  int timeout_iters = 0;
  double threshold_tokens = 0;
  bool on() const { return timeout_iters > 0 && threshold_tokens > 0; }
};

// When a request joins the running sequences.
enum class Admission {
  // When its prompt fits under a watermark of the capacity; the newest
  // sequences are preempted (recomputed later) when decoding outgrows the
  // cache (vLLM).
  kPrompt,
  // When the cache of its whole prompt and output fits next to every admitted
  // request's whole reservation, so nothing is ever evicted (TensorRT-LLM's
  // default, GUARANTEED_NO_EVICT).
  kWholeRequest,
  // As kPrompt, and only if, with it and every running sequence growing to
  // its whole output, the cache never runs out, counting the cache of those
  // that finish first as freed on the way (SGLang's PrefillAdder for
  // requests that ignore EOS with its prefix cache off, which is how
  // benchmark clients drive it: each request's remaining output is known, so
  // nothing is reserved by estimate). Growth then never preempts.
  kWholeOutputs,
};

struct InstanceConfig {
  Role role = Role::kColocated;
  const perf::StepModel* model = nullptr;  // shared by the pool; must outlive the instance
  int max_batch = 0;       // running sequences (co-located, decode); prompts per step (prefill)
  int64_t chunk = 0;       // co-located: prompt tokens per step per attention-DP rank;
                           // prefill: CPP chunk (0: none)
  double kv_capacity = 0;  // bytes per GPU of cache, summed over attention-DP ranks
  KvCost kv;
  Admission admission = Admission::kPrompt;
  // Step composition. Mixed (false): every step decodes all running
  // sequences and carries up to `chunk` prompt tokens beside them (vLLM's
  // and TensorRT-LLM's in-flight batching). Prefill first (true): while any
  // admitted prompt is unfinished, a step is prompt chunks only and decoding
  // waits (SGLang's default scheduler, which runs a new prefill batch
  // whenever one can be formed and mixes chunks with decoding only under
  // --enable-mixed-chunk).
  bool prefill_first = false;
  // Whole prompts (an engine launched without chunked prefill, such as
  // TensorRT-LLM with enable_chunked_prefill false): a new prompt is never
  // split across steps; one that does not fit what is left of the step's
  // budget waits for the next step, and later prompts wait behind it (FCFS).
  // A step's first prompt runs whole even beyond the budget.
  bool whole_prompts = false;
  // Scheduler iterations between polls for new requests (SGLang's
  // --scheduler-recv-interval; 1: every iteration, the engines' default).
  // A co-located instance that is stepping holds arriving requests in an
  // inbox until the poll: a decode-only step counts one iteration, a step
  // with prompt work counts the whole interval (SGLang weighs extend steps
  // 1000 against decode's 1), so a poll follows every prefill. An idle
  // instance polls at once.
  int recv_interval = 1;
  AdpBalance adp_balance{};  // co-located with attention DP (dp > 1) only
  BatchWait batch_wait{};    // co-located without attention DP (dp == 1) only
  int gpus = 1;
};

// Co-located and decode-only instances.
class BatchingInstance {
 public:
  explicit BatchingInstance(const InstanceConfig& c);

  // A new request (co-located) or a sequence whose cache has arrived
  // (decode: generated >= 1).
  void Enqueue(Seq s);
  bool busy() const { return in_step_; }
  bool HasWork() const {
    return !inbox_.empty() || !waiting_.empty() || !prefilling_.empty() || decoding_ > 0;
  }
  // Starts a step if there is work; returns its duration (0: nothing to do).
  double StartStep(double now);
  // Ends the step started last; `now` is its end time.
  void FinishStep(double now, StepOutcome& out);

  // Fast-forward over decode-only steps in which nothing but token counts
  // change: no prompt waits or prefills, no sequence finishes and none
  // reaches the attention cap. Within such a run the step time is affine in
  // the step index (decode attention is linear in the keys read; every other
  // op depends only on the unchanged batch), so two evaluations give the run's
  // exact total. Runs the most steps whose total stays below `budget`
  // seconds; the caller must know nothing can reach the instance before
  // then. pp = 1 only.
  struct Run {
    int64_t steps = 0;
    double time = 0;
    int64_t tokens = 0;
  };
  Run FastForward(double budget);

  // Load, for routers and timelines.
  int64_t outstanding() const { return outstanding_; }
  int64_t queued() const { return static_cast<int64_t>(waiting_.size() + inbox_.size()); }
  int64_t running() const { return decoding_ + static_cast<int64_t>(prefilling_.size()); }
  double kv_used() const;
  double kv_fraction() const {
    return config_.kv_capacity > 0 ? kv_used() / config_.kv_capacity : 1;
  }
  double busy_time() const { return busy_time_; }
  const InstanceConfig& config() const { return config_; }
  // A new cap on running sequences (the planner's TTL-sized batch); running
  // sequences above it finish normally.
  void set_max_batch(int b) { config_.max_batch = b; }
  // Removes and returns every queued (not yet admitted) sequence.
  std::vector<Seq> DrainQueue();
  // Slots of requests whose cache can never fit (prompt + output exceed the
  // instance's capacity); they are dropped, not queued.
  std::vector<int64_t> TakeRejected() { return std::exchange(rejected_, {}); }
  // Slots whose first prompt chunk went into the step started last.
  std::vector<int64_t>& started() { return started_; }

 private:
  struct FinishKey {
    int64_t step;
    int64_t index;  // into seqs_
    uint32_t generation;
    bool operator>(const FinishKey& o) const {
      return step != o.step ? step > o.step : index > o.index;
    }
  };
  using MinHeap = std::priority_queue<FinishKey, std::vector<FinishKey>, std::greater<>>;

  int64_t Allocate(const Seq& s);
  void Admit(double now);
  // kWholeOutputs: whether `s` may join the running sequences.
  bool OutputsFit(const Seq& s);
  // The inbox joins the waiting queue (at a scheduler poll).
  void Receive();
  // Whether this iteration may start new prompts (AdpBalance, BatchWait);
  // advances their counters.
  bool ReleasePrompts();
  bool ReleaseAfterBatchWait();
  void StartDecode(int64_t index);
  void StopDecode(int64_t index);
  int64_t Context(const Seq& s) const { return s.admit_ctx + (step_ - s.admit_step); }
  void PreemptIfNeeded(StepOutcome& out);
  // A sequence leaves the instance: its slot and reservation are freed.
  void Release(int64_t index);

  InstanceConfig config_;
  std::vector<Seq> seqs_;
  std::vector<int64_t> free_;
  std::deque<Seq> waiting_;
  std::deque<Seq> inbox_;             // arrived, not yet polled (recv_interval > 1)
  int64_t recv_counter_ = 0;          // iterations since the last poll
  int64_t adp_waiting_iters_ = 0;     // AdpBalance: iterations without a prompt on every rank
  int64_t adp_batching_iters_ = 0;    // AdpBalance: batching wait so far
  int64_t batch_wait_iters_ = 0;      // BatchWait: iterations prompts have been held
  std::deque<int64_t> prefilling_;    // admitted, prompt not finished (FCFS)
  std::vector<int64_t> admit_order_;  // decoding seqs by admission (preemption victims last)
  std::vector<uint8_t> live_;         // seqs_[i] is decoding
  MinHeap finish_heap_;
  MinHeap cap_heap_;         // when each decoding sequence's context reaches the cap
  perf::BatchShape decode_;  // running sums over decoding sequences
  int64_t decoding_ = 0;
  int64_t below_cap_ = 0;
  int64_t step_ = 0;
  double prefill_reserved_ = 0;  // cache bytes reserved by admitted prompts
  double full_reserved_ = 0;     // kWholeRequest: whole-request reservations of admitted sequences
  std::vector<std::pair<double, double>> outputs_scratch_;  // kWholeOutputs: (left, held) bytes
  int64_t outstanding_ = 0;
  // The step in flight.
  bool in_step_ = false;
  bool step_decodes_ = false;  // the step in flight advances the decoding sequences
  double step_start_ = 0;
  struct ChunkWork {
    int64_t index;
    int64_t tokens;
  };
  std::vector<ChunkWork> step_chunks_;
  double busy_time_ = 0;
  std::vector<int64_t> rejected_;
  std::vector<int64_t> started_;
};

// Prefill-only instances: batches of whole prompts; with pp > 1 a new batch
// enters when the first stage frees, so several batches are in flight.
class PrefillInstance {
 public:
  explicit PrefillInstance(const InstanceConfig& c);
  void Enqueue(Seq s) {
    queue_.push_back(s);
    ++outstanding_;
  }
  // True when a new batch may start (the pipeline's entry is free).
  bool CanStart(double now) const { return now >= entry_free_ && !queue_.empty(); }
  double entry_free() const { return entry_free_; }
  // Starts a batch; returns (id, latency); the entry frees after the
  // bottleneck stage's occupancy.
  struct Started {
    int64_t batch = -1;
    double latency = 0;
    double occupancy = 0;
    std::vector<int64_t> slots;
  };
  Started StartBatch(double now);
  // The batch with `id` completed.
  void FinishBatch(int64_t id, StepOutcome& out);
  void Released(int64_t n) { outstanding_ -= n; }  // caches shipped

  int64_t outstanding() const { return outstanding_; }
  int64_t queued() const { return static_cast<int64_t>(queue_.size()); }
  int64_t running() const { return in_flight_; }
  double busy_time() const { return busy_time_; }
  const InstanceConfig& config() const { return config_; }
  std::vector<Seq> DrainQueue();

 private:
  InstanceConfig config_;
  std::deque<Seq> queue_;
  std::vector<std::vector<Seq>> batches_;  // by id; cleared when finished
  std::vector<int64_t> free_ids_;
  double entry_free_ = 0;
  int64_t in_flight_ = 0;
  int64_t outstanding_ = 0;
  double busy_time_ = 0;
};

}  // namespace disagg::sim

#endif  // DISAGG_SIM_INSTANCE_H_
