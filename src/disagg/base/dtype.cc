#include "disagg/base/dtype.h"

namespace disagg {

std::optional<DType> ParseDType(std::string_view name) {
  if (name == "bf16" || name == "fp16" || name == "float16" || name == "bfloat16") {
    return DType::kBf16;
  }
  if (name == "fp8" || name == "fp8_block" || name == "e4m3") return DType::kFp8;
  if (name == "fp4" || name == "nvfp4" || name == "mxfp4") return DType::kNvfp4;
  if (name == "int4" || name == "int4_wo" || name == "w4a16") return DType::kInt4;
  return std::nullopt;
}

}  // namespace disagg
