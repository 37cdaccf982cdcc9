// Op costs: the roofline times of GEMMs, attention cores and collectives on
// one GPU of a system, with the system's calibrated efficiencies.
//
// Contract: Device is built once from a SystemSpec and then read-only; every
// function is pure, allocation-free and thread-safe. Inputs are per GPU after
// sharding: m tokens (rows), n output and k input features; bytes and seconds
// are SI. A GEMM costs max(compute, memory) plus a per-kernel overhead, with
// compute efficiency eff(m) = eff_max * m / (m + m_half) (small-m tiles waste
// tensor-core work) and memory at mem_eff of HBM bandwidth.
#ifndef DISAGG_PERF_OP_COST_H_
#define DISAGG_PERF_OP_COST_H_

#include <algorithm>
#include <array>

#include "disagg/base/dtype.h"
#include "disagg/hardware/system_spec.h"

namespace disagg::perf {

// A network path: effective bandwidth (bytes/s, after efficiency) and the
// per-hop latency (s).
struct Link {
  double bw = 0;
  double hop_latency = 0;
};

struct Device {
  std::array<double, kNumDTypes> peak{};  // FLOP/s by compute dtype
  double mem_bw = 0;                      // HBM bytes/s at mem_eff
  double kv_bw = 0;                       // HBM bytes/s at attn_decode_eff
  double gemm_eff_max = 0.8;
  double gemm_m_half = 64;
  double attn_flops = 0;  // bf16 FLOP/s at attn_prefill_eff
  double attn_len_half = 256;
  double kernel_overhead = 0;
  double moe_imbalance = 1;  // busiest expert rank's load / mean load
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
inline double GemmTime(const Device& d, double m, double n, double k, DType weight,
                       DType compute, double act_bytes = 2.0) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  double eff = d.gemm_eff_max * m / (m + d.gemm_m_half);
  double compute_s = 2.0 * m * n * k / (d.peak[static_cast<int>(compute)] * eff);
  double bytes = n * k * BytesPerElement(weight) + m * (k + n) * act_bytes;
  double memory_s = bytes / d.mem_bw;
  return std::max(compute_s, memory_s) + d.kernel_overhead;
}

// A grouped GEMM over `experts` weight matrices (each n x k) sharing `m` rows
// in total (the routed experts of one MoE layer on one GPU).
inline double GroupedGemmTime(const Device& d, double m, double experts, double n, double k,
                              DType weight, DType compute, double act_bytes = 2.0) {
  if (m <= 0 || experts <= 0) return 0;
  double rows = m / experts;  // rows per expert set the tile efficiency
  double eff = d.gemm_eff_max * rows / (rows + d.gemm_m_half);
  double compute_s = 2.0 * m * n * k / (d.peak[static_cast<int>(compute)] * eff);
  double bytes = experts * n * k * BytesPerElement(weight) + m * (k + n) * act_bytes;
  return std::max(compute_s, bytes / d.mem_bw) + d.kernel_overhead;
}

// Attention core: `flops` of score and value math at the prefill efficiency
// for queries of mean length `query_len`, and `kv_bytes` of cache reads.
inline double AttentionTime(const Device& d, double flops, double query_len, double kv_bytes) {
  if (flops <= 0 && kv_bytes <= 0) return 0;
  double eff = query_len / (query_len + d.attn_len_half);
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

// Ring all-reduce of `bytes` per GPU over n GPUs.
inline double AllReduceTime(const Link& l, double bytes, int n) {
  if (n <= 1 || bytes <= 0) return 0;
  return 2.0 * (n - 1) / n * bytes / l.bw + 2.0 * (n - 1) * l.hop_latency;
}

// All-to-all where each GPU holds `bytes` to scatter over n GPUs.
inline double AllToAllTime(const Link& l, double bytes, int n) {
  if (n <= 1 || bytes <= 0) return 0;
  return static_cast<double>(n - 1) / n * bytes / l.bw + l.hop_latency;
}

inline double PointToPointTime(const Link& l, double bytes) {
  if (bytes <= 0) return 0;
  return bytes / l.bw + l.hop_latency;
}

}  // namespace disagg::perf

#endif  // DISAGG_PERF_OP_COST_H_
