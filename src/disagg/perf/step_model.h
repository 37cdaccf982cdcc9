// StepModel: the one cost model. Time of one forward step of a batch on one
// model instance, used by the analytic search and the simulator alike.
//
// Contract: built once by Create (which checks that the GPU supports the
// compute formats and that the mapping is internally consistent; full
// legality lives in parallel/CheckMapping); afterwards immutable, and
// Evaluate / StageTimes are const, allocation-free and thread-safe. Times in
// seconds. The step time is the sum over layers of the op times (one layer of
// each kind is costed and multiplied by its count), plus the LM head, the
// pipeline sends and the backend's per-step and per-sequence overhead. Under attention DP the
// busiest rank's share of the batch sets the time.
//
// Speculative decoding (Speculation, the model's MTP module): a step still
// means one token of every decoding sequence, so callers need not know. The
// engine's step (each decoding sequence verifying `depth` drafted tokens
// beside its own, then `depth` passes of the MTP module drafting the next
// ones, plus `tokens_per_step()` x the step's prompt tokens) is costed and
// divided by the tokens it yields per sequence. A caller with a per-step
// prompt budget C must therefore pass C / tokens_per_step() prompt tokens per
// step; steps without decoding sequences are costed as without speculation
// (StageTimes, used for pipelined prefill, ignores it). With pp > 1 the drafts
// are added to the period as if the last stage were the slowest.
#ifndef DISAGG_PERF_STEP_MODEL_H_
#define DISAGG_PERF_STEP_MODEL_H_

#include <array>
#include <span>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/model/model_spec.h"
#include "disagg/perf/batch.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/op_cost.h"
#include "disagg/perf/precision.h"

namespace disagg::perf {

// Where the time of a step goes.
struct StepBreakdown {
  double gemm = 0;       // dense projections, dense FFN, shared experts, router, LM head
  double attention = 0;  // attention cores (score and value math, cache reads)
  double moe = 0;        // routed-expert GEMMs
  double comm = 0;       // all-reduce, all-to-all, pipeline sends
  double other = 0;      // elementwise work and the framework's per-step overhead
  double total() const { return gemm + attention + moe + comm + other; }
  StepBreakdown& operator+=(const StepBreakdown& o);
  StepBreakdown Scaled(double k) const;
};

struct StepCost {
  double latency = 0;       // one micro-batch through every stage: the step time a token sees
  double period = 0;        // interval between micro-batch completions with pp in flight
  StepBreakdown breakdown;  // of latency
};

// Speculative decoding with the model's multi-token-prediction module, run
// `depth` times per step to draft `depth` tokens (TensorRT-LLM's MTP with one
// module reused, vLLM's and SGLang's MTP/EAGLE draft steps). `acceptance`: the
// probability that a drafted token is accepted given that the one before it
// was, taken as the same at every position.
struct Speculation {
  int depth = 0;  // 0: none
  double acceptance = 0;
  // Mean tokens a decoding sequence gains per step: 1 + a + a^2 + ... + a^depth.
  double TokensPerStep() const;
};

// DeepSeek-V3 technical report (arXiv:2412.19437, section 5.4.3): the MTP
// module's second-token acceptance rate "ranges between 85% and 90% across
// various generation topics"; the midpoint. Later positions of a reused
// module are assumed to keep it (an optimistic simplification).
inline constexpr double kMtpAcceptance = 0.875;
inline constexpr int kMaxSpeculationDepth = 8;

inline constexpr int kMaxLayerKinds = 8;
inline constexpr int kMaxStages = 256;

class StepModel {
 public:
  static Result<StepModel> Create(const model::ModelSpec& model, const hardware::SystemSpec& system,
                                  const Precision& precision, const Mapping& mapping,
                                  hardware::Backend backend, const Speculation& speculation = {});

  StepCost Evaluate(const BatchShape& batch) const;

  // Time for every sequence of `batch` to advance one step when the instance
  // keeps pp micro-batches of it in flight: max(micro-batch latency,
  // pp x period). Equals Evaluate(batch).latency when pp = 1.
  double RoundTime(const BatchShape& batch) const;

  // Compute time of each pipeline stage for one micro-batch, without sends or
  // overhead; out.size() must be mapping().pp. The last stage includes the LM
  // head.
  void StageTimes(const BatchShape& batch, std::span<double> out) const;
  // Time to send one micro-batch's activations across stage boundary
  // `boundary` (between stage boundary-1 and boundary).
  double SendTime(const BatchShape& batch, int boundary) const;
  // The framework's host-side time of one step of `batch`: a fixed part plus
  // a part per sequence of the busiest attention-DP rank (each rank has its
  // own scheduler).
  double StepOverhead(const BatchShape& batch) const { return RankOverhead(RankBatch(batch)); }
  // The serving framework's time from a request's arrival to its prompt
  // reaching the engine (calibrated per backend).
  double request_overhead() const { return request_overhead_; }

  // An empty batch with this model's attention cap set.
  BatchShape NewBatch() const {
    BatchShape b;
    b.cap = cap_;
    return b;
  }

  const Speculation& speculation() const { return speculation_; }
  // Mean tokens per decoding sequence per engine step (1 without speculation).
  double tokens_per_step() const { return tokens_per_step_; }
  // Rows an engine step runs per decoding sequence (its token and the drafts
  // it verifies): what the activation workspace must hold.
  double rows_per_decode() const { return 1.0 + speculation_.depth; }

  const Mapping& mapping() const { return mapping_; }
  const model::ModelSpec& model() const { return model_; }
  const Precision& precision() const { return precision_; }
  const Device& device() const { return device_; }
  hardware::Backend backend() const { return backend_; }

 private:
  StepModel() = default;
  // One engine step of `batch` (no division by tokens per step).
  StepCost EngineStep(const BatchShape& batch) const;
  // The `depth` MTP passes drafting the next tokens of `batch`'s decoding
  // sequences.
  StepBreakdown DraftCost(const BatchShape& batch) const;
  // One layer of kind `kind` for the per-rank batch `b`; `group_tokens`: the
  // tokens of the whole batch over every attention-DP rank (the expert
  // group's load).
  StepBreakdown LayerCost(int kind, const BatchShape& b, double group_tokens) const;
  void AttentionGqa(const BatchShape& b, bool capped, StepBreakdown& c) const;
  void AttentionMla(const BatchShape& b, bool capped, StepBreakdown& c) const;
  void AttentionLinear(const BatchShape& b, StepBreakdown& c) const;
  void Moe(const BatchShape& b, double group_tokens, StepBreakdown& c) const;
  double LmHeadTime(const BatchShape& b) const;
  BatchShape RankBatch(const BatchShape& batch) const { return batch.RankShare(mapping_.dp); }
  double RankOverhead(const BatchShape& rank) const {
    return step_overhead_ + seq_overhead_ * rank.seqs();
  }

  model::ModelSpec model_;
  Precision precision_;
  Mapping mapping_;
  Device device_;
  double step_overhead_ = 0;
  double seq_overhead_ = 0;
  double request_overhead_ = 0;
  Speculation speculation_;
  hardware::Backend backend_ = hardware::Backend::kTrtllm;
  double tokens_per_step_ = 1;
  int draft_kind_ = 0;              // layer kind of the MTP module (the model's last layer)
  double routing_excess_coef_ = 0;  // 2 ln(moe_ep) under random routing, else 0 (Moe)
  double cap_ = 0;
  int num_kinds_ = 0;
  std::array<bool, kMaxLayerKinds> kind_capped_{};
  std::array<int, kMaxLayerKinds> kind_count_{};
  std::vector<std::array<int, kMaxLayerKinds>> stage_kind_count_;  // [stage][kind]
  std::vector<Link> boundary_link_;                                // [boundary]
  double comm_bytes_ = 2;
};

}  // namespace disagg::perf

#endif  // DISAGG_PERF_STEP_MODEL_H_
