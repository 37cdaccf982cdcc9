// Precision: the numeric format of each part of a deployment.
//
// Contract: plain value. Weights and GEMM compute are set per weight class
// (`gemm` for attention projections, dense FFN and shared experts; `moe` for
// routed experts), as the measurement files do (gemm_quant_mode,
// moe_quant_mode). The KV cache and communicated activations have their own
// formats. The LM head, router and attention core run in bf16.
#ifndef DISAGG_PERF_PRECISION_H_
#define DISAGG_PERF_PRECISION_H_

#include <string>
#include <string_view>

#include "disagg/base/dtype.h"
#include "disagg/base/error.h"
#include "disagg/model/model_spec.h"

namespace disagg::perf {

// 4-bit weights (int4 or fp4) expanded to bf16 inside the GEMM (w4a16): the
// weight-only kernels, which run at a rate of their own (perf::GemmRate).
inline bool IsWeightOnly4Bit(DType weight, DType compute) {
  return compute == DType::kBf16 && (weight == DType::kInt4 || weight == DType::kNvfp4);
}

struct QuantMode {
  DType weight = DType::kBf16;
  DType compute = DType::kBf16;  // int4 weight-only: weights int4, compute bf16
  // FP8 with per-block weight scales and per-token-group activation scales
  // (DeepSeek-style "fp8_block"): the activations are quantised by a kernel
  // of their own before each GEMM, and the GEMM applies the scales per block
  // (Device::block_quant_overhead), where a per-tensor FP8 GEMM folds one
  // scale into its epilogue.
  bool block_scaled = false;
  // Storage bytes per weight, scales included, when the checkpoint's scale
  // blocks differ from the format's default (0: BytesPerElement(weight)).
  double weight_bytes = 0;
  double WeightBytes() const { return weight_bytes > 0 ? weight_bytes : BytesPerElement(weight); }
};

struct Precision {
  QuantMode gemm;
  QuantMode moe;
  DType kv = DType::kBf16;
  DType comm = DType::kBf16;
  std::string name = "bf16";
};

// A quant mode by the names of the measurement CSV: bf16, fp8, fp8_block,
// nvfp4 (fp4), fp4_wo (fp4 weights, bf16 compute), int4_wo (int4 weights,
// bf16 compute), w4a8 (int4 weights, fp8 compute). `what` names the flag or
// column for the message.
Result<QuantMode> ParseQuantMode(std::string_view name, std::string_view what);

// Presets: bf16 (all bf16); fp8 (fp8 weights, compute and KV); fp4 (NVFP4
// weights and compute, fp8 KV); int4 (int4 weight-only experts and GEMMs with
// bf16 compute, bf16 KV).
Result<Precision> PrecisionPreset(std::string_view name);

// `p` as it runs on `model`'s published checkpoint: the FP8 GEMMs of a
// block-scaled FP8 checkpoint (model::ModelSpec::fp8_block_checkpoint) keep
// its block scales, and experts run in the checkpoint's own 4-bit format take
// that format's storage size (model::ModelSpec::expert_weight_bytes).
// Idempotent.
Precision OnCheckpoint(Precision p, const model::ModelSpec& model);

}  // namespace disagg::perf

#endif  // DISAGG_PERF_PRECISION_H_
