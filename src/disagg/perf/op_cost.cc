#include "disagg/perf/op_cost.h"

#include <algorithm>

namespace disagg::perf {

Device Device::FromSystem(const hardware::SystemSpec& system) {
  const auto& c = system.calibration;
  Device d;
  const auto& peak = system.gpu.peak_flops;
  auto at = [](DType t) { return static_cast<int>(t); };
  // Serving steps run the engines' GEMMs, single-kernel benchmarks the
  // benchmarked ones (Calibration::engine_gemm_*); none runs above its
  // dtype's dense peak.
  auto rate = [&](DType t, double eff, double scale) {
    return peak[at(t)] * std::min(1.0, eff * (c.standalone_kernels ? 1.0 : scale));
  };
  d.flops[at(DType::kBf16)] = rate(DType::kBf16, c.gemm_eff_bf16, c.engine_gemm_bf16);
  d.flops[at(DType::kFp8)] = rate(DType::kFp8, c.gemm_eff_fp8, c.engine_gemm_fp8);
  d.flops[at(DType::kNvfp4)] = rate(DType::kNvfp4, c.gemm_eff_fp4, c.engine_gemm_fp4);
  d.weight_only_flops = rate(DType::kBf16, c.gemm_eff_bf16, c.engine_gemm_w4a16);
  // Weight-only int4 computes in bf16.
  d.flops[at(DType::kInt4)] = d.flops[at(DType::kBf16)];
  d.mem_bw = system.gpu.hbm_bw * c.mem_eff;
  d.kv_bw = system.gpu.hbm_bw * c.attn_decode_eff;
  d.tile_rows = c.gemm_tile_rows;
  d.attn_flops = system.gpu.PeakFlops(DType::kBf16) * c.attn_prefill_eff;
  d.attn_len_half = c.attn_len_half;
  d.kernel_overhead = c.kernel_overhead;
  d.moe_imbalance = c.moe_imbalance;
  // Single-kernel benchmarks route perfectly evenly.
  d.moe_random_routing = !c.standalone_kernels;
  d.moe_gemm_eff = c.moe_gemm_eff;
  d.moe_routing_spread = c.moe_routing_spread;
  d.quantize_overhead = c.standalone_kernels ? c.kernel_overhead : 0;
  d.nvlink = Link{system.gpu.nvlink_bw * c.comm_bw_eff, system.nvlink_latency,
                  system.nvlink_latency * c.comm_latency_factor, true};
  d.scaleout = Link{system.scaleout_bw * c.comm_bw_eff, system.scaleout_latency,
                    system.scaleout_latency * c.comm_latency_factor, false};
  d.nvlink_domain = system.nvlink_domain;
  return d;
}

}  // namespace disagg::perf
