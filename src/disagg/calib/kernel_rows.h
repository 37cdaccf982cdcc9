// Kernel microbenchmark rows (the KERNEL-* categories of a measurement file)
// as typed records the cost model can predict.
//
// Contract: KernelRowsFrom never fails: each row either becomes one
// KernelRow or is counted under a skip reason (unmapped hardware, an op the
// model has no formula for, a shape it cannot read, a value that is not one
// number). Rows of other categories are counted apart. Hardware strings map to
// the catalog systems that have kernel tables: H100 -> h100_sxm, H200 ->
// h200_sxm, B200 -> b200_sxm, GB200 -> gb200 (an "8x" prefix is allowed; a
// row naming two GPUs is not mapped). Units are SI: `measured` is seconds,
// except for HBM STREAM rows, where it is bytes/s. Records are plain values.
#ifndef DISAGG_CALIB_KERNEL_ROWS_H_
#define DISAGG_CALIB_KERNEL_ROWS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "disagg/base/dtype.h"
#include "disagg/base/error.h"
#include "disagg/calib/measurements.h"

namespace disagg::calib {

enum class GemmLibrary {
  kTrtllm,      // TRT-LLM linear layer: quantises bf16 activations itself
  kVendorBlas,  // cuBLASLt / hipBLASLt benchmark: inputs already in the format
};

struct GemmShape {
  double m = 0, n = 0, k = 0;
  DType compute = DType::kBf16;
  std::string quant;  // as published: bfloat16, fp8, fp8_block, nvfp4, FP8 ...
  GemmLibrary library = GemmLibrary::kTrtllm;
};

// One decode step: `batch` sequences, each one query reading kv_len cached
// tokens (plus its own), per GPU.
struct DecodeAttentionShape {
  double batch = 0, kv_len = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
  DType kv = DType::kBf16;
};

// Causal attention of `batch` fresh prompts of `seq` tokens, per GPU.
struct ContextAttentionShape {
  double batch = 0, seq = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
  DType kv = DType::kBf16;
};

enum class AllReduceImpl { kNccl, kTrtllmCustom };

struct AllReduceShape {
  int gpus = 0;
  double bytes = 0;  // message per GPU
  AllReduceImpl impl = AllReduceImpl::kNccl;
};

// Routed-expert compute of one MoE layer on one GPU (no dispatch/combine):
// `tokens` enter the layer on this rank, each routed to top_k of `experts`
// experts spread over ep ranks (each expert sliced tp ways).
struct MoeShape {
  double tokens = 0, hidden = 0, inter = 0;
  int experts = 0, top_k = 0, ep = 1, tp = 1;
  DType compute = DType::kFp8;
  std::string quant, kernel;
};

// Streaming bandwidth of HBM; the row's `measured` is bytes/s.
struct HbmStreamShape {
  std::string kernel;  // "Triad", "bandwidth test" ...
};

enum class KernelOp { kGemm, kDecodeAttention, kContextAttention, kAllReduce, kMoe, kHbmStream };
std::string_view KernelOpName(KernelOp op);

struct KernelRow {
  KernelOp op = KernelOp::kGemm;
  std::string system;  // catalog name
  std::string source;  // source key, "S17"
  long long line = 0;
  double measured = 0;  // seconds (kHbmStream: bytes/s)
  std::variant<GemmShape, DecodeAttentionShape, ContextAttentionShape, AllReduceShape, MoeShape,
               HbmStreamShape>
      shape;

  // Short description for tables: "S17 GEMM bf16 m=1 n=8192 k=8192".
  std::string Label() const;
};

struct KernelRowSet {
  std::string origin;
  std::vector<KernelRow> rows;
  int total = 0;                       // data rows read
  int other_categories = 0;            // rows not in a KERNEL-* category
  std::map<std::string, int> skipped;  // reason -> KERNEL-* rows skipped for it

  // Catalog systems with at least one row, sorted.
  std::vector<std::string> Systems() const;
  int SkippedCount() const;
};

// The catalog system a hardware string names, or nullopt.
std::optional<std::string> CatalogSystemFor(std::string_view hardware);

KernelRowSet KernelRowsFrom(const std::vector<MeasurementRow>& rows, std::string origin);
// Errors only for an unreadable file or missing columns (see measurements.h).
Result<KernelRowSet> ReadKernelRows(const std::string& path);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_KERNEL_ROWS_H_
