#include "disagg/sim/instance.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "disagg/perf/pipeline.h"

namespace disagg::sim {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kColocated:
      return "colocated";
    case Role::kPrefill:
      return "prefill";
    case Role::kDecode:
      return "decode";
  }
  return "?";
}

BatchingInstance::BatchingInstance(const InstanceConfig& c)
    : config_(c), recv_counter_(c.recv_interval) {  // the first poll is due at once
  decode_ = config_.model->NewBatch();
}

void BatchingInstance::Enqueue(Seq s) {
  if (config_.kv.Bytes(static_cast<double>(s.isl + s.osl)) > config_.kv_capacity) {
    rejected_.push_back(s.slot);
    return;
  }
  ++outstanding_;
  // Only a co-located engine's own scheduler polls for new requests; a
  // decode instance's arrivals were received before their cache moved.
  const bool polled = config_.recv_interval > 1 && config_.role == Role::kColocated;
  if (polled && (in_step_ || decoding_ > 0 || !prefilling_.empty())) {
    inbox_.push_back(s);
  } else {
    waiting_.push_back(s);
  }
}

void BatchingInstance::Receive() {
  waiting_.insert(waiting_.end(), inbox_.begin(), inbox_.end());
  inbox_.clear();
}

std::vector<Seq> BatchingInstance::DrainQueue() {
  Receive();
  std::vector<Seq> out(waiting_.begin(), waiting_.end());
  outstanding_ -= static_cast<int64_t>(waiting_.size());
  waiting_.clear();
  return out;
}

double BatchingInstance::kv_used() const {
  const auto& kv = config_.kv;
  return kv.full * decode_.decode_kv + kv.capped * decode_.decode_kv_capped +
         kv.fixed * static_cast<double>(decoding_) + prefill_reserved_;
}

int64_t BatchingInstance::Allocate(const Seq& s) {
  if (!free_.empty()) {
    int64_t i = free_.back();
    free_.pop_back();
    seqs_[i] = s;
    return i;
  }
  seqs_.push_back(s);
  live_.push_back(0);
  return static_cast<int64_t>(seqs_.size()) - 1;
}

void BatchingInstance::StartDecode(int64_t index) {
  Seq& s = seqs_[index];
  s.admit_step = step_;
  s.admit_ctx = s.prompt();
  ++s.generation;
  const double ctx = static_cast<double>(s.admit_ctx);
  decode_.AddDecode(1, ctx);
  ++decoding_;
  live_[index] = 1;
  admit_order_.push_back(index);
  finish_heap_.push({step_ + (s.osl - s.generated), index, s.generation});
  const double cap = decode_.cap;
  if (cap > 0 && ctx + 1 < cap) {
    ++below_cap_;
    cap_heap_.push({step_ + static_cast<int64_t>(cap - 1 - ctx), index, s.generation});
  }
}

void BatchingInstance::StopDecode(int64_t index) {
  Seq& s = seqs_[index];
  const double ctx = static_cast<double>(Context(s));
  decode_.RemoveDecode(1, ctx);
  --decoding_;
  live_[index] = 0;
  const double cap = decode_.cap;
  if (cap > 0 && ctx + 1 < cap) --below_cap_;
  s.generated += step_ - s.admit_step;
  ++s.generation;  // invalidates its heap entries
  // Keep the admission list short: drop entries of stopped sequences.
  if (admit_order_.size() > 2 * static_cast<size_t>(decoding_) + 64) {
    std::erase_if(admit_order_, [&](int64_t i) { return !live_[i]; });
  }
}

// Share of the cache kept free when admitting without reservation, so a
// sequence just preempted is not re-admitted straight away (vLLM keeps a 1%
// watermark; decode growth needs a little more room than that).
constexpr double kAdmissionWatermark = 0.02;

void BatchingInstance::Admit(double /*now*/) {
  const auto& kv = config_.kv;
  while (!waiting_.empty() && running() < config_.max_batch) {
    Seq s = waiting_.front();
    const bool has_cache = s.generated >= 1 && s.prefilled >= s.prompt();
    if (config_.admission == Admission::kWholeRequest) {
      const double whole = kv.Bytes(static_cast<double>(s.isl + s.osl));
      if (full_reserved_ + whole > config_.kv_capacity) break;
      full_reserved_ += whole;
    } else {
      const double need = kv.Bytes(static_cast<double>(s.prompt() + 1));
      if (kv_used() + need > config_.kv_capacity * (1 - kAdmissionWatermark)) break;
      if (config_.admission == Admission::kWholeOutputs && !OutputsFit(s)) break;
    }
    waiting_.pop_front();
    int64_t index = Allocate(s);
    if (has_cache) {
      StartDecode(index);
    } else {
      seqs_[index].prefilled = 0;
      prefilling_.push_back(index);
      prefill_reserved_ += kv.Bytes(static_cast<double>(s.prompt()));
    }
  }
}

bool BatchingInstance::OutputsFit(const Seq& s) {
  const auto& kv = config_.kv;
  // Growth is charged at the full per-token rate (sliding layers included),
  // as the engine counts tokens; each sequence holds its context's cache.
  const double per_token = kv.full + kv.capped;
  auto& st = outputs_scratch_;
  st.clear();
  double all_left = 0;
  auto add = [&](const Seq& q, int64_t generated) {
    const double left = per_token * static_cast<double>(q.osl - generated);
    if (left <= 0) return;
    st.emplace_back(left, kv.Bytes(static_cast<double>(q.isl + generated)));
    all_left += left;
  };
  add(s, s.generated);
  for (int64_t i : prefilling_) add(seqs_[i], seqs_[i].generated);
  for (size_t i = 0; i < seqs_.size(); ++i) {
    if (live_[i]) add(seqs_[i], seqs_[i].generated + (step_ - seqs_[i].admit_step));
  }
  // What is free once this prompt is admitted; a token per sequence is kept
  // back, as SGLang does for corner cases.
  const double free = config_.kv_capacity - kv_used() - kv.Bytes(static_cast<double>(s.prompt()));
  const double n = static_cast<double>(st.size());
  // Enough for every whole output at once: it fits whatever finishes first.
  if (free - all_left > per_token * n) return true;
  // Otherwise in order of finishing: when the i-th shortest remainder is
  // done, the n - i sequences still running have each grown by it, and those
  // finished before have given back what they held.
  std::sort(st.begin(), st.end());
  double freed = 0;
  for (size_t i = 0; i < st.size(); ++i) {
    const double running = n - static_cast<double>(i);
    if (free + freed - st[i].first * running <= per_token * running) return false;
    freed += st[i].second;
  }
  return true;
}

bool BatchingInstance::ReleasePrompts() {
  const AdpBalance& b = config_.adp_balance;
  const int64_t ranks = config_.model->mapping().dp;
  if (config_.role != Role::kColocated) return true;
  if (ranks <= 1) return ReleaseAfterBatchWait();
  if (!b.on()) return true;
  int64_t fresh = 0;
  for (int64_t index : prefilling_) {
    const Seq& s = seqs_[index];
    fresh += s.prefilled == 0;
    if (fresh >= ranks) break;
  }
  const bool every_rank_decodes = decoding_ >= ranks;
  if (fresh >= ranks) {
    adp_waiting_iters_ = 0;
    if (every_rank_decodes && adp_batching_iters_ < b.batching_wait_iters) {
      ++adp_batching_iters_;
      return false;
    }
    adp_batching_iters_ = 0;
    return true;
  }
  if (++adp_waiting_iters_ >= b.timeout_iters || !every_rank_decodes) {
    adp_waiting_iters_ = 0;
    return true;
  }
  return false;
}

bool BatchingInstance::ReleaseAfterBatchWait() {
  const BatchWait& w = config_.batch_wait;
  if (!w.on() || decoding_ == 0) return true;  // nothing decodes: no reason to wait
  // The tokens this iteration would schedule, in the engine's count: the new
  // prompts that fit its max_num_tokens, whole, and each decoding sequence's
  // token and drafts. (Under speculative decoding `chunk` is the prompt
  // budget divided by the tokens per step; see deployment.cc.)
  const double per_seq = config_.model->tokens_per_step();
  const double budget = config_.chunk > 0 ? static_cast<double>(config_.chunk) * per_seq
                                          : std::numeric_limits<double>::max();
  double prompt_tokens = 0;
  bool fresh = false;
  for (int64_t index : prefilling_) {
    const Seq& s = seqs_[index];
    if (s.prefilled > 0) continue;
    if (fresh && prompt_tokens + static_cast<double>(s.prompt()) > budget) break;
    fresh = true;
    prompt_tokens += static_cast<double>(s.prompt());
  }
  if (!fresh) return true;
  const double tokens = prompt_tokens + static_cast<double>(decoding_) * per_seq;
  if (batch_wait_iters_ >= w.timeout_iters || tokens >= w.threshold_tokens) {
    batch_wait_iters_ = 0;
    return true;
  }
  ++batch_wait_iters_;
  return false;
}

double BatchingInstance::StartStep(double now) {
  if (in_step_) return 0;
  // The scheduler polls every recv_interval iterations, whether or not
  // anything arrived; an engine with nothing else to do polls at once (its
  // idle loop spins through the interval in microseconds).
  if (recv_counter_ >= config_.recv_interval ||
      (!inbox_.empty() && waiting_.empty() && prefilling_.empty() && decoding_ == 0)) {
    Receive();
    recv_counter_ = 0;
  }
  Admit(now);
  if (prefilling_.empty() && decoding_ == 0) return 0;  // no iteration
  const bool release = ReleasePrompts();
  // Prompt work this step: any started prompt, or new ones when released (a
  // hold implies decoding sequences, so the step is never empty).
  bool prompts = false;
  for (int64_t index : prefilling_) {
    if (release || seqs_[index].prefilled > 0) {
      prompts = true;
      break;
    }
  }
  step_decodes_ = !(config_.prefill_first && prompts);
  perf::BatchShape b = decode_;
  if (!step_decodes_) b = config_.model->NewBatch();
  step_chunks_.clear();
  // Every attention-DP rank schedules its own prompt budget.
  int64_t budget = config_.chunk > 0 ? config_.chunk * config_.model->mapping().dp
                                     : std::numeric_limits<int64_t>::max();
  for (int64_t index : prefilling_) {
    if (budget <= 0) break;
    const Seq& s = seqs_[index];
    if (!release && s.prefilled == 0) continue;  // held back, in FCFS order
    int64_t rest = s.prompt() - s.prefilled;
    if (config_.whole_prompts && rest > budget && !step_chunks_.empty()) break;
    if (s.prefilled == 0 && s.generated == 0) started_.push_back(s.slot);
    int64_t take = config_.whole_prompts ? rest : std::min(rest, budget);
    b.AddPrefill(1, static_cast<double>(take), static_cast<double>(s.prefilled), take == rest);
    step_chunks_.push_back({index, take});
    budget -= take;
  }
  if (b.tokens() <= 0) return 0;
  double dt = config_.model->RoundTime(b);
  in_step_ = true;
  step_start_ = now;
  busy_time_ += dt;
  return dt;
}

void BatchingInstance::FinishStep(double /*now*/, StepOutcome& out) {
  in_step_ = false;
  recv_counter_ += step_chunks_.empty() ? 1 : config_.recv_interval;
  // Every decoding sequence produced one token (unless the step was prompts
  // only).
  if (step_decodes_ && decoding_ > 0) {
    out.decoded = decoding_;
    ++step_;
    decode_.decode_kv += static_cast<double>(decoding_);
    decode_.decode_kv_capped += static_cast<double>(below_cap_);
    while (!cap_heap_.empty() && cap_heap_.top().step <= step_) {
      FinishKey k = cap_heap_.top();
      cap_heap_.pop();
      if (live_[k.index] && seqs_[k.index].generation == k.generation) --below_cap_;
    }
    while (!finish_heap_.empty() && finish_heap_.top().step <= step_) {
      FinishKey k = finish_heap_.top();
      finish_heap_.pop();
      if (!live_[k.index] || seqs_[k.index].generation != k.generation) continue;
      out.finished.push_back(seqs_[k.index].slot);
      StopDecode(k.index);
      Release(k.index);
    }
  }
  // Prompt chunks: completed prompts are a prefix of the FCFS list.
  const auto& kv = config_.kv;
  for (const ChunkWork& w : step_chunks_) {
    Seq& s = seqs_[w.index];
    s.prefilled += w.tokens;
    if (s.prefilled < s.prompt()) continue;
    prefilling_.pop_front();
    prefill_reserved_ -= kv.Bytes(static_cast<double>(s.prompt()));
    if (s.generated == 0) {
      s.generated = 1;
      out.first_token.push_back(s.slot);
    }
    if (s.generated >= s.osl) {
      out.finished.push_back(s.slot);
      Release(w.index);
    } else {
      StartDecode(w.index);
    }
  }
  step_chunks_.clear();
  PreemptIfNeeded(out);
}

BatchingInstance::Run BatchingInstance::FastForward(double budget) {
  Run run;
  if (in_step_ || decoding_ == 0 || !waiting_.empty() || !prefilling_.empty() ||
      config_.model->mapping().pp != 1 || budget <= 0) {
    return run;
  }
  // Steps before the next finish or cap crossing, which must run normally.
  int64_t limit = finish_heap_.empty() ? 0 : finish_heap_.top().step - step_ - 1;
  if (!cap_heap_.empty()) limit = std::min(limit, cap_heap_.top().step - step_ - 1);
  // Attention-DP balancing counts the run's iterations too (no prompt waits
  // in it, so every one adds to the wait, which cycles at the timeout unless
  // some rank does not decode).
  const AdpBalance& adp = config_.adp_balance;
  const bool adp_counts =
      adp.on() && config_.model->mapping().dp > 1 && decoding_ >= config_.model->mapping().dp;
  // Polls in the run: the first step's is due now or at its counter.
  const int64_t interval = config_.recv_interval;
  const int64_t counter = recv_counter_ >= interval ? 0 : recv_counter_;
  // Arrivals held for the next poll: stop short of it.
  if (!inbox_.empty()) limit = std::min(limit, interval - 1 - recv_counter_);
  if (limit < 2) return run;
  const double n = static_cast<double>(decoding_);
  const double t0 = config_.model->RoundTime(decode_);
  perf::BatchShape next = decode_;
  next.decode_kv += n;
  next.decode_kv_capped += static_cast<double>(below_cap_);
  const double slope = config_.model->RoundTime(next) - t0;
  auto total = [&](double j) { return j * t0 + slope * j * (j - 1) / 2; };
  // Largest j with total(j) < budget: solve the quadratic, then settle the
  // rounding by stepping.
  double j =
      slope > 0 ? std::floor((-(t0 - slope / 2) +
                              std::sqrt((t0 - slope / 2) * (t0 - slope / 2) + 2 * slope * budget)) /
                             slope)
                : std::floor(budget / t0);
  j = std::min<double>(j, static_cast<double>(limit));
  while (j > 0 && total(j) >= budget) --j;
  if (j < 2) return run;
  run.steps = static_cast<int64_t>(j);
  run.time = total(j);
  run.tokens = run.steps * decoding_;
  step_ += run.steps;
  // Iterations since the last poll after the run's polls (each at a multiple
  // of the interval); `interval` means one is due at the next step.
  recv_counter_ = (counter + run.steps - 1) % interval + 1;
  adp_waiting_iters_ = adp_counts ? (adp_waiting_iters_ + run.steps) % adp.timeout_iters : 0;
  decode_.decode_kv += n * j;
  decode_.decode_kv_capped += static_cast<double>(below_cap_) * j;
  busy_time_ += run.time;
  return run;
}

void BatchingInstance::Release(int64_t index) {
  if (config_.admission == Admission::kWholeRequest) {
    const Seq& s = seqs_[index];
    full_reserved_ -= config_.kv.Bytes(static_cast<double>(s.isl + s.osl));
  }
  free_.push_back(index);
  --outstanding_;
}

void BatchingInstance::PreemptIfNeeded(StepOutcome& out) {
  // The newest decoding sequences give their cache back and recompute later
  // (never with whole-request reservations, which cannot overflow).
  while (config_.admission != Admission::kWholeRequest && kv_used() > config_.kv_capacity &&
         decoding_ > 1) {
    while (!admit_order_.empty() && !live_[admit_order_.back()]) admit_order_.pop_back();
    if (admit_order_.empty()) break;
    int64_t victim = admit_order_.back();
    admit_order_.pop_back();
    StopDecode(victim);
    Seq s = seqs_[victim];
    s.prefilled = 0;
    free_.push_back(victim);
    waiting_.push_front(s);
    out.preempted.push_back(s.slot);
  }
}

PrefillInstance::PrefillInstance(const InstanceConfig& c) : config_(c) {}

std::vector<Seq> PrefillInstance::DrainQueue() {
  std::vector<Seq> out(queue_.begin(), queue_.end());
  outstanding_ -= static_cast<int64_t>(queue_.size());
  queue_.clear();
  return out;
}

PrefillInstance::Started PrefillInstance::StartBatch(double now) {
  Started st;
  if (queue_.empty()) return st;
  const perf::StepModel& model = *config_.model;
  std::vector<Seq> batch;
  int64_t longest = 0;
  while (!queue_.empty() && static_cast<int>(batch.size()) < std::max(1, config_.max_batch)) {
    batch.push_back(queue_.front());
    st.slots.push_back(queue_.front().slot);
    longest = std::max(longest, queue_.front().prompt());
    queue_.pop_front();
  }
  if (model.mapping().pp == 1 && (config_.chunk <= 0 || config_.chunk >= longest)) {
    perf::BatchShape b = model.NewBatch();
    for (const Seq& s : batch) b.AddPrefill(1, static_cast<double>(s.prompt()), 0);
    st.latency = st.occupancy = model.Evaluate(b).latency;
  } else {
    // Chunked pipeline; prompts of one batch move together at the longest
    // one's length.
    auto t =
        perf::PipelinedPrefill(model, static_cast<double>(batch.size()),
                               static_cast<double>(longest), static_cast<double>(config_.chunk));
    st.latency = t.latency;
    st.occupancy = t.busy;
  }
  if (!free_ids_.empty()) {
    st.batch = free_ids_.back();
    free_ids_.pop_back();
    batches_[st.batch] = std::move(batch);
  } else {
    st.batch = static_cast<int64_t>(batches_.size());
    batches_.push_back(std::move(batch));
  }
  entry_free_ = now + st.occupancy;
  ++in_flight_;
  busy_time_ += st.occupancy;
  return st;
}

void PrefillInstance::FinishBatch(int64_t id, StepOutcome& out) {
  for (Seq& s : batches_[id]) {
    s.prefilled = s.prompt();
    if (s.generated == 0) s.generated = 1;
    out.prefilled.push_back(s);
  }
  batches_[id].clear();
  free_ids_.push_back(id);
  --in_flight_;
}

}  // namespace disagg::sim
