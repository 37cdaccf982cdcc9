// Op costs: the roofline times of GEMMs, attention cores and collectives on
// one GPU of a system, with the system's calibrated efficiencies.
//
// Contract: Device is built once from a SystemSpec and then read-only; every
// function is pure, allocation-free and thread-safe. Inputs are per GPU after
// sharding: m tokens (rows), n output and k input features; bytes and seconds
// are SI. A GEMM costs max(compute, memory) plus a per-kernel overhead:
// compute pads m up to whole tensor-core tiles (tile quantisation: 32 rows in
// a 64-row tile cost a full tile) and runs at the dtype's efficiency of the
// dense peak, times the serving engines' rate for that dtype outside
// stand-alone benchmarks (weight-only 4-bit GEMMs at a rate of their own,
// GemmRate), never above the dense peak; memory streams weights and
// activations at mem_eff of HBM bandwidth. A GEMM with fp8/fp4 math first
// quantises its activations (a memory-bound pass; a separate kernel only in
// stand-alone benchmarks).
#ifndef DISAGG_PERF_OP_COST_H_
#define DISAGG_PERF_OP_COST_H_

#include <algorithm>
#include <array>
#include <cmath>

#include "disagg/base/dtype.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/perf/precision.h"

namespace disagg::perf {

// A network path: effective bandwidth (bytes/s, after efficiency), the
// latency of one small-message collective (s) and the per-hop latency of a
// ring (s). `one_shot`: the path can run a one-shot all-reduce (every GPU
// reads every peer's buffer directly), as NVLink can.
struct Link {
  double bw = 0;
  double latency = 0;
  double hop_latency = 0;
  bool one_shot = false;
};

struct Device {
  std::array<double, kNumDTypes> flops{};  // achieved GEMM FLOP/s by compute dtype
  // Achieved FLOP/s of weight-only 4-bit GEMMs (4-bit weights, bf16 math).
  double weight_only_flops = 0;
  double mem_bw = 0;  // HBM bytes/s at mem_eff
  double kv_bw = 0;   // HBM bytes/s at attn_decode_eff
  double tile_rows = 64;
  double attn_flops = 0;  // bf16 FLOP/s at attn_prefill_eff
  double attn_len_half = 256;
  double kernel_overhead = 0;
  double moe_imbalance = 1;        // busiest expert rank's persistent load skew (x mean load)
  bool moe_random_routing = true;  // loads also fluctuate as random picks do (false: balanced)
  double moe_gemm_eff = 1;         // grouped expert GEMMs' rate / the dense GEMM rate
  double moe_routing_spread = 1;   // share of experts routing effectively spreads over
  // Fixed cost of the activation-quantisation kernel before an fp8/fp4 GEMM:
  // 0 in serving engines, which fuse it into the preceding norm or
  // activation kernel; a kernel's launch for stand-alone GEMM benchmarks.
  double quantize_overhead = 0;
  // Extra fixed cost of a block-scaled FP8 GEMM (QuantMode::block_scaled):
  // the per-token-group activation quantisation kernel and the per-block
  // scaling, which each framework implements differently (fitted per
  // backend, Calibration::block_fp8_overhead).
  double block_quant_overhead = 0;
  Link nvlink;
  Link scaleout;
  int nvlink_domain = 8;

  static Device FromSystem(const hardware::SystemSpec& system);

  // The link a collective over `group` GPUs runs on: NVLink when the group
  // fits in one NVLink domain, else the scale-out network (its bottleneck).
  const Link& LinkFor(int group) const { return group <= nvlink_domain ? nvlink : scaleout; }
};

// Time of a GEMM (m x k) * (k x n) with weights in `weight` and math in
// `compute`; activations move in `act_bytes` bytes per element.
// Rows a GEMM computes once m is padded to whole tiles.
inline double PaddedRows(const Device& d, double m) {
  return std::ceil(m / d.tile_rows - 1e-9) * d.tile_rows;
}

// Quantising `elements` bf16 activations to fp8/fp4 before a low-precision
// GEMM: a memory-bound kernel (read 2 bytes, write 1).
inline double QuantizeTime(const Device& d, double elements, DType compute) {
  if (compute == DType::kBf16 || compute == DType::kInt4) return 0;
  return elements * 3.0 / d.mem_bw + d.quantize_overhead;
}

// FLOP/s of a GEMM with weights in `weight` and math in `compute`: 4-bit
// weights with bf16 math run weight-only kernels at their own rate.
inline double GemmRate(const Device& d, DType weight, DType compute) {
  return IsWeightOnly4Bit(weight, compute) && d.weight_only_flops > 0
             ? d.weight_only_flops
             : d.flops[static_cast<int>(compute)];
}

// Time of a GEMM (m x k) * (k x n) with weights in `weight` and math in
// `compute`; activations move in `act_bytes` bytes per element.
inline double GemmTime(const Device& d, double m, double n, double k, DType weight, DType compute,
                       double act_bytes = 2.0) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  double compute_s = 2.0 * PaddedRows(d, m) * n * k / GemmRate(d, weight, compute);
  double bytes = n * k * BytesPerElement(weight) + m * (k + n) * act_bytes;
  double memory_s = bytes / d.mem_bw;
  return std::max(compute_s, memory_s) + d.kernel_overhead + QuantizeTime(d, m * k, compute);
}

// Rows an expert's GEMM computes in a grouped MoE kernel. MoE kernels pick
// their tile height from the rows each expert gets (TensorRT-LLM's cutlass
// MoE tactics and vLLM's fused_moe configurations offer 16 to 128 rows, and
// decode-time kernels swap operands so a handful of tokens fill a narrow
// tile): the smallest power of two of at least 16 that holds the rows, up to
// the dense tile height. Padding a decode step's one or two tokens per
// expert to a 128-row tile would make expert decoding compute-bound, which
// the kernel measurements (num_tokens 1-64) show it is not.
inline double ExpertPaddedRows(const Device& d, double rows) {
  if (rows <= 0) return 0;
  double tile = 16;
  while (tile < rows && tile < d.tile_rows) tile *= 2;
  tile = std::min(tile, std::max(16.0, d.tile_rows));
  return std::ceil(rows / tile - 1e-9) * tile;
}

// A grouped GEMM over `experts` weight matrices (each n x k, `weight_bytes`
// per weight, scales included) sharing `m` rows in total (the routed experts
// of one MoE layer on one GPU): each expert's rows are padded to its kernel
// tile separately, and the grouped kernel runs at moe_gemm_eff of the dense
// rate `rate` (GemmRate; 0: the compute dtype's).
inline double GroupedGemmTime(const Device& d, double m, double experts, double n, double k,
                              double weight_bytes, DType compute, double act_bytes = 2.0,
                              double rate = 0) {
  if (m <= 0 || experts <= 0) return 0;
  if (rate <= 0) rate = d.flops[static_cast<int>(compute)];
  double padded = experts * ExpertPaddedRows(d, m / experts);
  double compute_s = 2.0 * padded * n * k / (rate * d.moe_gemm_eff);
  double bytes = experts * n * k * weight_bytes + m * (k + n) * act_bytes;
  return std::max(compute_s, bytes / d.mem_bw) + d.kernel_overhead +
         QuantizeTime(d, m * k, compute);
}

// The same GEMMs in a quantisation mode, with the block-scaled FP8 cost.
inline double GemmTime(const Device& d, double m, double n, double k, const QuantMode& q) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  return GemmTime(d, m, n, k, q.weight, q.compute) + (q.block_scaled ? d.block_quant_overhead : 0);
}
inline double GroupedGemmTime(const Device& d, double m, double experts, double n, double k,
                              const QuantMode& q) {
  if (m <= 0 || experts <= 0) return 0;
  return GroupedGemmTime(d, m, experts, n, k, q.WeightBytes(), q.compute, 2.0,
                         GemmRate(d, q.weight, q.compute)) +
         (q.block_scaled ? d.block_quant_overhead : 0);
}

// Attention core: `flops` of score and value math at the prefill efficiency
// for queries that each attend to `keys_per_query` keys on average (short
// key ranges leave the kernel's pipeline unfilled), and `kv_bytes` of cache
// reads.
inline double AttentionTime(const Device& d, double flops, double keys_per_query, double kv_bytes) {
  if (flops <= 0 && kv_bytes <= 0) return 0;
  double eff = keys_per_query / (keys_per_query + d.attn_len_half);
  double compute_s = flops / (d.attn_flops * eff);
  return std::max(compute_s, kv_bytes / d.kv_bw) + d.kernel_overhead;
}

// Attention core of decode queries: no query-length penalty (the query heads
// sharing a KV head fill the tiles), so compute runs at the attention
// efficiency and cache reads at the decode bandwidth.
inline double DecodeAttentionTime(const Device& d, double flops, double kv_bytes) {
  if (flops <= 0 && kv_bytes <= 0) return 0;
  return std::max(flops / d.attn_flops, kv_bytes / d.kv_bw) + d.kernel_overhead;
}

// Elementwise work streaming `bytes` through HBM (norms, residuals, RoPE).
inline double StreamTime(const Device& d, double bytes) {
  return bytes <= 0 ? 0 : bytes / d.mem_bw + d.kernel_overhead;
}

// All-reduce of `bytes` per GPU over n GPUs, the fastest of the algorithms
// collective libraries pick from: a ring (2(n-1)/n of the bytes over the
// link, 2(n-1) hops), a tree (twice the bytes, 2 log2(n) hops: wins for many
// GPUs and small messages) and, where the link allows, a one-shot kernel
// (each GPU reads the n-1 peer buffers: one latency, (n-1) x bytes).
inline double AllReduceTime(const Link& l, double bytes, int n) {
  if (n <= 1 || bytes <= 0) return 0;
  double ring = 2.0 * (n - 1) / n * bytes / l.bw + 2.0 * (n - 1) * l.hop_latency;
  double tree = 2.0 * bytes / l.bw + 2.0 * std::ceil(std::log2(n)) * l.hop_latency;
  double best = std::min(ring, tree);
  if (!l.one_shot) return best;
  return std::min(best, (n - 1) * bytes / l.bw + l.latency);
}

// All-to-all where each GPU holds `bytes` to scatter over n GPUs.
inline double AllToAllTime(const Link& l, double bytes, int n) {
  if (n <= 1 || bytes <= 0) return 0;
  return static_cast<double>(n - 1) / n * bytes / l.bw + l.latency;
}

// All-reduce over a group of n GPUs laid out in NVLink domains: one NVLink
// collective inside a domain; across domains the hierarchical form NCCL
// uses: reduce inside each domain over NVLink, all-reduce each GPU's
// 1/domain share across the domains over the scale-out network, gather back.
// Inside a large domain the same two-level decomposition over NVLink (groups
// of 8, then across them) is one more algorithm to choose from, so a larger
// domain is never slower than a smaller one.
inline double GroupAllReduceTime(const Device& d, double bytes, int n) {
  constexpr int kSubgroup = 8;
  if (n <= d.nvlink_domain) {
    double flat = AllReduceTime(d.nvlink, bytes, n);
    if (n <= kSubgroup || n % kSubgroup != 0) return flat;
    return std::min(flat, AllReduceTime(d.nvlink, bytes, kSubgroup) +
                              AllReduceTime(d.nvlink, bytes / kSubgroup, n / kSubgroup));
  }
  const int local = d.nvlink_domain;
  const int domains = (n + local - 1) / local;
  return AllReduceTime(d.nvlink, bytes, local) + AllReduceTime(d.scaleout, bytes / local, domains);
}

// Expected distinct members of a group of `n` each item reaches when it
// picks `k` of them uniformly.
inline double DistinctReached(double n, double k) {
  if (n <= 1) return 1;
  return n * -std::expm1(k * std::log1p(-1.0 / n));
}

// MoE token dispatch (or combine) over an expert group of n GPUs: each GPU
// sends `tokens` tokens of `token_bytes` to the `ranks` GPUs holding their
// experts. Inside one NVLink domain an all-to-all; across domains a token
// crosses the network once per remote domain that holds one of its experts
// and fans out over NVLink there (DeepEP-style), the two overlapping.
inline double DispatchTime(const Device& d, double tokens, double token_bytes, double ranks,
                           int n) {
  if (n <= 1 || tokens <= 0) return 0;
  if (n <= d.nvlink_domain) return AllToAllTime(d.nvlink, tokens * ranks * token_bytes, n);
  const int local = d.nvlink_domain;
  const double domains = std::ceil(static_cast<double>(n) / local);
  const double remote = DistinctReached(domains, ranks) * (domains - 1) / domains;
  double network = tokens * remote * token_bytes / d.scaleout.bw + d.scaleout.latency;
  double nvlink = AllToAllTime(d.nvlink, tokens * ranks / domains * token_bytes, local);
  return std::max(network, nvlink);
}

inline double PointToPointTime(const Link& l, double bytes) {
  if (bytes <= 0) return 0;
  return bytes / l.bw + l.latency;
}

}  // namespace disagg::perf

#endif  // DISAGG_PERF_OP_COST_H_
