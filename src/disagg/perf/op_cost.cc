#include "disagg/perf/op_cost.h"

namespace disagg::perf {

Device Device::FromSystem(const hardware::SystemSpec& system) {
  const auto& c = system.calibration;
  Device d;
  d.peak = system.gpu.peak_flops;
  // Weight-only int4 computes in bf16.
  d.peak[static_cast<int>(DType::kInt4)] = system.gpu.peak_flops[static_cast<int>(DType::kBf16)];
  d.mem_bw = system.gpu.hbm_bw * c.mem_eff;
  d.kv_bw = system.gpu.hbm_bw * c.attn_decode_eff;
  d.gemm_eff_max = c.gemm_eff_max;
  d.gemm_m_half = c.gemm_m_half;
  d.attn_flops = system.gpu.PeakFlops(DType::kBf16) * c.attn_prefill_eff;
  d.attn_len_half = c.attn_len_half;
  d.kernel_overhead = c.kernel_overhead;
  d.moe_imbalance = c.moe_imbalance;
  d.nvlink = Link{system.gpu.nvlink_bw * c.comm_bw_eff,
                  system.nvlink_latency * c.comm_latency_factor};
  d.scaleout = Link{system.scaleout_bw * c.comm_bw_eff,
                    system.scaleout_latency * c.comm_latency_factor};
  d.nvlink_domain = system.nvlink_domain;
  return d;
}

}  // namespace disagg::perf
