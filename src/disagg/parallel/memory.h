// Memory fit: weights, activation workspace and KV-cache capacity per GPU.
//
// Contract: pure, thread-safe, bytes SI. Per GPU: HBM = runtime reserve +
// weights (busiest stage, perf/sharding.h) + activation workspace for the
// step's largest token count + KV cache. How much of it the KV cache gets is
// each engine's default memory rule (KvBudget). Capacity is reported in
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
                    hardware::Backend backend, double max_step_tokens, double max_step_seqs,
                    double extra_weights = 0, double sglang_fraction = 0);

// vLLM's default gpu_memory_utilization: the share of the whole GPU an engine
// may use (vllm/config/cache.py, CacheConfig.gpu_memory_utilization = 0.9).
inline constexpr double kVllmMemoryUtilization = 0.9;

// SGLang's default memory the static pool (weights and KV cache) leaves to
// activations and CUDA graphs, in bytes, when mem_fraction_static is not
// given (sglang/srt/server_args.py, _handle_gpu_memory_settings, v0.5:
// 512 MiB + 1.5 MiB per token of the prefill chunk, at least 2048 tokens,
// + 1 GiB per 8 GPUs of TP x PP, at least 10 GiB on GPUs above 60 GiB; the
// chunk is 2048 tokens below 35 GiB, 8192 below 160 GiB, else 16384; the
// CUDA-graph terms, 2 MiB per captured batch size and 3 MiB per batch size
// and attention-DP rank, are left out).
double SglangReservedBytes(double hbm_bytes, const perf::Mapping& mapping);

// The KV-cache bytes per GPU an engine hands out, from what is free once
// `reserve`, `weights` and `activations` are placed in `hbm`:
// TensorRT-LLM: kv_cache_fraction (its free_gpu_memory_fraction, 0.9) of the
// free memory. vLLM: what is left of kVllmMemoryUtilization x hbm after the
// rest. SGLang: what is left of hbm after its reserve (SglangReservedBytes,
// which holds its activations, or 1 - `sglang_fraction` of hbm when it was
// launched with a --mem-fraction-static) and the weights, never more than is
// free.
double KvBudget(hardware::Backend backend, const hardware::Calibration& cal,
                const perf::Mapping& mapping, double hbm, double reserve, double weights,
                double activations, double sglang_fraction = 0);

// Largest number of sequences of `context` tokens whose cache fits in the
// instance (sliding layers and linear-attention state accounted exactly).
int64_t MaxSequences(const MemoryFit& fit, const model::ModelSpec& model,
                     const perf::Precision& precision, const perf::Mapping& mapping,
                     double context);

}  // namespace disagg::parallel

#endif  // DISAGG_PARALLEL_MEMORY_H_
