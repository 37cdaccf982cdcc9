// Sharding: what one GPU of a mapping holds and reads, shared by the cost
// model (weight streaming) and the memory fit (parallel/memory.h), so the two
// always agree.
//
// Contract: pure functions of plain values, thread-safe; bytes are SI. Rules:
// attention projections are split over `tp` (the MLA down-projections q_a and
// kv_a are replicated on every GPU), KV heads are split over `tp` and
// replicated when tp exceeds them, MLA's latent cache is not split by `tp`;
// attention weights are replicated over attention-DP ranks; dense FFN and
// shared experts are split over `tp`; routed experts over moe_ep x moe_tp
// (ExpertSlotsPerRank experts per expert-parallel rank, replicas included); the
// embedding lives on the first pipeline stage and the LM head on the last,
// both split over `tp`. Pipeline stage s holds layers
// [s*L/pp, (s+1)*L/pp) (integer division).
#ifndef DISAGG_PERF_SHARDING_H_
#define DISAGG_PERF_SHARDING_H_

#include "disagg/model/model_spec.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/precision.h"

namespace disagg::perf {

inline int StageBegin(int layers, int pp, int stage) {
  return static_cast<int>(static_cast<long long>(stage) * layers / pp);
}

// KV heads one GPU caches for GQA attention.
inline int KvHeadsPerGpu(const model::ModelSpec& m, int tp) {
  return m.num_kv_heads >= tp ? m.num_kv_heads / tp : 1;
}

struct StageWeights {
  double attention = 0;
  double dense_ffn = 0;
  double experts = 0;  // routed experts, shared experts and router
  double embedding = 0;
  double total() const { return attention + dense_ffn + experts + embedding; }
};

// Weight bytes of one GPU of pipeline stage `stage`.
StageWeights WeightBytesPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map,
                               int stage);

// The largest total over the stages.
double MaxWeightBytesPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map);

// Weight bytes one GPU holds of the model's multi-token-prediction modules
// (loaded only for speculative decoding), sharded like a decoder layer of the
// model's last kind, plus each module's 2h x h merge projection split by TP.
double MtpWeightBytesPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map);

// Cache bytes one GPU of the busiest stage holds for one sequence of
// `context` tokens (sliding layers capped at the window; linear-attention
// state in fp32). Under attention DP a sequence lives on one DP rank only.
double KvBytesPerSequencePerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map,
                                double context);

// Cache bytes per token per GPU of the busiest stage, no layer capped.
double KvBytesPerTokenPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map);

}  // namespace disagg::perf

#endif  // DISAGG_PERF_SHARDING_H_
