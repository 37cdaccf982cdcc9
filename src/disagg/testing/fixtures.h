// Test fixtures: a synthetic system with round numbers, so expected step
// times can be derived by hand, and catalog loaders and a StepModel maker
// that fail the test loudly.
#ifndef DISAGG_TESTING_FIXTURES_H_
#define DISAGG_TESTING_FIXTURES_H_

#include <gtest/gtest.h>

#include "disagg/hardware/system_spec.h"
#include "disagg/model/hf_config.h"
#include "disagg/perf/precision.h"
#include "disagg/perf/step_model.h"

namespace disagg::testing {

// 1 PFLOP/s bf16 and 2 PFLOP/s fp8, 100 GiB of HBM at 1 TB/s, 8-GPU NVLink
// domain at 100 GB/s with 1 us latency, scale-out 10 GB/s with 10 us; every
// efficiency 1 and every overhead 0.
inline hardware::SystemSpec IdealSystem() {
  hardware::SystemSpec s;
  s.name = "ideal";
  s.gpu.name = "ideal-gpu";
  s.gpu.peak_flops[static_cast<int>(DType::kBf16)] = 1e15;
  s.gpu.peak_flops[static_cast<int>(DType::kFp8)] = 2e15;
  s.gpu.hbm_bytes = 100.0 * 1024 * 1024 * 1024;
  s.gpu.hbm_bw = 1e12;
  s.gpu.nvlink_bw = 100e9;
  s.nvlink_domain = 8;
  s.nvlink_latency = 1e-6;
  s.scaleout_bw = 10e9;
  s.scaleout_latency = 10e-6;
  auto& c = s.calibration;
  c.gemm_eff_bf16 = c.gemm_eff_fp8 = c.gemm_eff_fp4 = 1;
  c.gemm_tile_rows = 1;
  c.mem_eff = 1;
  c.attn_prefill_eff = 1;
  c.attn_len_half = 0;
  c.attn_decode_eff = 1;
  c.comm_bw_eff = 1;
  c.comm_latency_factor = 1;
  c.moe_imbalance = 1;
  c.kernel_overhead = 0;
  c.step_overhead = {0, 0, 0};
  c.seq_overhead = {0, 0, 0};
  c.kv_cache_fraction = 1;
  c.runtime_reserved = 0;
  c.activation_bytes_per_token_hidden = 0;
  return s;
}

inline model::ModelSpec CatalogModel(const char* name) {
  auto m = model::LoadModel(name);
  if (!m) ADD_FAILURE() << m.error().message;
  return m ? *m : model::ModelSpec{};
}

inline hardware::SystemSpec CatalogSystem(const char* name) {
  auto s = hardware::LoadSystem(name);
  if (!s) ADD_FAILURE() << s.error().message;
  return s ? *s : hardware::SystemSpec{};
}

inline perf::Precision Preset(const char* name) { return *perf::PrecisionPreset(name); }

// A TensorRT-LLM StepModel of `model` on `system` with a precision preset;
// fails the test when Create does.
inline perf::StepModel MakeStep(const model::ModelSpec& model, const hardware::SystemSpec& system,
                                const char* precision, perf::Mapping mapping,
                                perf::Speculation speculation = {}) {
  auto r = perf::StepModel::Create(model, system, Preset(precision), mapping,
                                   hardware::Backend::kTrtllm, speculation);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return *r;
}

}  // namespace disagg::testing

#endif  // DISAGG_TESTING_FIXTURES_H_
