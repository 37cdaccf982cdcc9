#include "disagg/parallel/memory.h"

#include <algorithm>
#include <cmath>

#include "disagg/base/units.h"
#include "disagg/perf/sharding.h"

namespace disagg::parallel {

double SglangReservedBytes(double hbm_bytes, const perf::Mapping& mapping) {
  constexpr double kMiB = kGiB / 1024.0;
  // SGLang's own chunk for the GPU's size, never below its 2048-token floor.
  const double chunk = hbm_bytes < 35 * kGiB ? 2048 : hbm_bytes < 160 * kGiB ? 8192 : 16384;
  double reserved = 512 * kMiB + 1.5 * kMiB * chunk + mapping.tp * mapping.pp / 8.0 * kGiB;
  if (hbm_bytes > 60 * kGiB) reserved = std::max(reserved, 10 * kGiB);
  return reserved;
}

double KvBudget(hardware::Backend backend, const hardware::Calibration& cal,
                const perf::Mapping& mapping, double hbm, double reserve, double weights,
                double activations, double sglang_fraction) {
  const double free = std::max(0.0, hbm - reserve - weights - activations);
  switch (backend) {
    case hardware::Backend::kTrtllm:
      return free * cal.kv_cache_fraction;
    case hardware::Backend::kVllm:
      return std::clamp(kVllmMemoryUtilization * hbm - reserve - weights - activations, 0.0, free);
    case hardware::Backend::kSglang:
      return std::clamp(hbm -
                            (sglang_fraction > 0 ? (1 - sglang_fraction) * hbm
                                                 : SglangReservedBytes(hbm, mapping)) -
                            weights,
                        0.0, free);
  }
  return free * cal.kv_cache_fraction;
}

MemoryFit FitMemory(const model::ModelSpec& model, const hardware::SystemSpec& system,
                    const perf::Precision& precision, const perf::Mapping& mapping,
                    hardware::Backend backend, double max_step_tokens, double max_step_seqs,
                    double extra_weights, double sglang_fraction) {
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
  f.kv_budget =
      KvBudget(backend, cal, mapping, f.hbm, f.reserved, f.weights, f.activations, sglang_fraction);
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
