// Memory fit: weights, activation workspace and KV-cache capacity per GPU.
//
// Contract: pure, thread-safe, bytes SI. Per GPU: HBM = runtime reserve +
// weights (busiest stage, perf/sharding.h) + activation workspace for the
// step's largest token count + KV cache; the KV cache gets kv_cache_fraction
// of what is left (the serving frameworks' default). Capacity is reported in
// tokens of full context for the whole instance (all attention-DP ranks).
#ifndef DISAGG_PARALLEL_MEMORY_H_
#define DISAGG_PARALLEL_MEMORY_H_

#include <cstdint>

#include "disagg/hardware/system_spec.h"
#include "disagg/model/model_spec.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/precision.h"

namespace disagg::parallel {

struct MemoryFit {
  double hbm = 0;                 // bytes per GPU
  double reserved = 0;            // runtime reserve
  double weights = 0;             // busiest stage's weights per GPU
  double activations = 0;         // workspace for the largest step
  double kv_budget = 0;           // bytes per GPU for the KV cache (0 when nothing is left)
  double kv_bytes_per_token = 0;  // per GPU, no layer capped
  double kv_tokens = 0;           // instance capacity in tokens (all DP ranks)
  bool weights_fit = false;       // weights + reserve + activations fit in HBM
};

// `max_step_tokens`: the most tokens one forward step processes per DP rank
// (decode batch, or prefill batch x chunk); `max_step_seqs`: the most
// sequences producing logits in one step per DP rank; `extra_weights`: bytes
// per GPU beyond the main model's weights (the MTP module under speculative
// decoding, perf::MtpWeightBytesPerGpu; its one layer of cache is not counted).
MemoryFit FitMemory(const model::ModelSpec& model, const hardware::SystemSpec& system,
                    const perf::Precision& precision, const perf::Mapping& mapping,
                    double max_step_tokens, double max_step_seqs, double extra_weights = 0);

// Largest number of sequences of `context` tokens whose cache fits in the
// instance (sliding layers and linear-attention state accounted exactly).
int64_t MaxSequences(const MemoryFit& fit, const model::ModelSpec& model,
                     const perf::Precision& precision, const perf::Mapping& mapping,
                     double context);

}  // namespace disagg::parallel

#endif  // DISAGG_PARALLEL_MEMORY_H_
