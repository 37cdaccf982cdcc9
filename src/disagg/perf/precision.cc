#include "disagg/perf/precision.h"

namespace disagg::perf {

Result<QuantMode> ParseQuantMode(std::string_view name, std::string_view what) {
  if (name == "bf16" || name == "fp16" || name == "float16" || name == "bfloat16") {
    return QuantMode{DType::kBf16, DType::kBf16};
  }
  if (name == "fp8" || name == "fp8_e4m3") return QuantMode{DType::kFp8, DType::kFp8};
  if (name == "fp8_block") return QuantMode{DType::kFp8, DType::kFp8, true};
  if (name == "fp4" || name == "nvfp4" || name == "mxfp4") {
    return QuantMode{DType::kNvfp4, DType::kNvfp4};
  }
  // FP4 weights expanded to BF16 for the math: how GPUs without FP4 tensor
  // cores run an FP4 checkpoint (gpt-oss's MXFP4 experts on Hopper).
  if (name == "fp4_wo" || name == "mxfp4_wo") return QuantMode{DType::kNvfp4, DType::kBf16};
  if (name == "int4" || name == "int4_wo" || name == "w4a16") {
    return QuantMode{DType::kInt4, DType::kBf16};
  }
  if (name == "w4a8" || name == "int4_fp8") return QuantMode{DType::kInt4, DType::kFp8};
  return Fail(
      "{}: unknown quantisation '{}' (expected bf16, fp8, fp8_block, nvfp4, fp4_wo, int4_wo or "
      "w4a8)",
      what, name);
}

Result<Precision> PrecisionPreset(std::string_view name) {
  Precision p;
  p.name = std::string(name);
  if (name == "bf16" || name == "fp16") {
    return p;
  }
  if (name == "fp8") {
    p.gemm = p.moe = QuantMode{DType::kFp8, DType::kFp8};
    p.kv = DType::kFp8;
    return p;
  }
  if (name == "fp4" || name == "nvfp4") {
    p.gemm = p.moe = QuantMode{DType::kNvfp4, DType::kNvfp4};
    p.kv = DType::kFp8;
    return p;
  }
  if (name == "int4" || name == "int4_wo") {
    p.gemm = p.moe = QuantMode{DType::kInt4, DType::kBf16};
    return p;
  }
  return Fail("--precision: unknown precision '{}' (expected bf16, fp8, fp4 or int4)", name);
}

Precision OnCheckpoint(Precision p, const model::ModelSpec& model) {
  if (model.fp8_block_checkpoint) {
    for (QuantMode* q : {&p.gemm, &p.moe}) {
      if (q->weight == DType::kFp8) q->block_scaled = true;
    }
  }
  if (model.expert_weight_bytes > 0 && p.moe.weight == model.expert_weight_format) {
    p.moe.weight_bytes = model.expert_weight_bytes;
  }
  return p;
}

}  // namespace disagg::perf
