#include "disagg/parallel/memory.h"

#include <algorithm>
#include <cmath>

#include "disagg/perf/sharding.h"

namespace disagg::parallel {

MemoryFit FitMemory(const model::ModelSpec& model, const hardware::SystemSpec& system,
                    const perf::Precision& precision, const perf::Mapping& mapping,
                    double max_step_tokens, double max_step_seqs, double extra_weights) {
  const auto& cal = system.calibration;
  MemoryFit f;
  f.hbm = system.gpu.hbm_bytes;
  f.reserved = cal.runtime_reserved;
  f.weights = perf::MaxWeightBytesPerGpu(model, precision, mapping) + extra_weights;
  // Hidden-sized buffers per token, plus fp32 logits of the vocabulary slice.
  double tokens = std::max(1.0, max_step_tokens);
  f.activations =
      tokens * static_cast<double>(model.hidden_size) * cal.activation_bytes_per_token_hidden +
      std::max(1.0, max_step_seqs) * static_cast<double>(model.vocab_size) / mapping.tp * 4.0;
  double left = f.hbm - f.reserved - f.weights - f.activations;
  f.weights_fit = left > 0;
  f.kv_budget = std::max(0.0, left) * cal.kv_cache_fraction;
  f.kv_bytes_per_token = perf::KvBytesPerTokenPerGpu(model, precision, mapping);
  if (f.kv_bytes_per_token > 0) {
    f.kv_tokens = std::floor(f.kv_budget / f.kv_bytes_per_token) * mapping.dp;
  }
  return f;
}

int64_t MaxSequences(const MemoryFit& fit, const model::ModelSpec& model,
                     const perf::Precision& precision, const perf::Mapping& mapping,
                     double context) {
  double per_seq = perf::KvBytesPerSequencePerGpu(model, precision, mapping, context);
  if (per_seq <= 0) return 0;
  return static_cast<int64_t>(std::floor(fit.kv_budget / per_seq)) * mapping.dp;
}

}  // namespace disagg::parallel
