// Numeric formats used for weights, GEMM compute, the KV cache and communication.
//
// Contract: pure value helpers, thread-safe. Bytes per element include the
// block-scale overhead of the block formats (NVFP4: one fp8 scale per 16
// elements; int4 weight-only: one bf16 scale per 128-element group).
#ifndef DISAGG_BASE_DTYPE_H_
#define DISAGG_BASE_DTYPE_H_

#include <optional>
#include <string>
#include <string_view>

namespace disagg {

enum class DType { kBf16, kFp8, kNvfp4, kInt4 };

inline constexpr int kNumDTypes = 4;

// Storage bytes per element, scales included.
constexpr double BytesPerElement(DType t) {
  switch (t) {
    case DType::kBf16:
      return 2.0;
    case DType::kFp8:
      return 1.0;
    case DType::kNvfp4:
      return 0.5 + 1.0 / 16.0;  // 4-bit values + one e4m3 scale per 16
    case DType::kInt4:
      return 0.5 + 2.0 / 128.0;  // 4-bit values + one bf16 scale per 128
  }
  return 2.0;
}

constexpr std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kBf16:
      return "bf16";
    case DType::kFp8:
      return "fp8";
    case DType::kNvfp4:
      return "fp4";
    case DType::kInt4:
      return "int4";
  }
  return "?";
}

// Accepts the names users and the measurement files use: bf16, fp16, fp8,
// fp8_block, fp4, nvfp4, int4, int4_wo.
std::optional<DType> ParseDType(std::string_view name);

}  // namespace disagg

#endif  // DISAGG_BASE_DTYPE_H_
