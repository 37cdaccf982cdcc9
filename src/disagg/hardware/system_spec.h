// GpuSpec, SystemSpec and the calibration block, read from data/hardware/*.json.
//
// Contract: plain values in SI units (FLOP/s, bytes, bytes/s, seconds),
// converted once by the parser; the JSON carries units in its key names
// (_tflops, _gib, _tb_per_s, _gb_per_s, _us). Parsing is strict: unknown keys,
// missing fields, wrong types and out-of-range values are Errors naming the
// file, the key path and the value. Bandwidths are per direction; FLOP/s dense.
// Thread-safe to read.
#ifndef DISAGG_HARDWARE_SYSTEM_SPEC_H_
#define DISAGG_HARDWARE_SYSTEM_SPEC_H_

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/dtype.h"
#include "disagg/base/error.h"
#include "disagg/base/json_reader.h"

namespace disagg::hardware {

struct GpuSpec {
  std::string name;
  // Dense tensor-core peak by compute dtype; 0 where the GPU lacks the format.
  // kInt4 (weight-only) computes in bf16, so its entry is unused.
  std::array<double, kNumDTypes> peak_flops{};
  double hbm_bytes = 0;
  double hbm_bw = 0;     // bytes/s
  double nvlink_bw = 0;  // bytes/s per direction per GPU

  bool Supports(DType compute) const { return peak_flops[static_cast<int>(compute)] > 0; }
  double PeakFlops(DType compute) const { return peak_flops[static_cast<int>(compute)]; }
};

// Serving frameworks whose per-step overhead differs.
enum class Backend { kTrtllm, kSglang, kVllm };
inline constexpr int kNumBackends = 3;
std::string_view BackendName(Backend b);
Result<Backend> ParseBackend(std::string_view name);

// Efficiency parameters of the cost model. Every value is tunable and fitted by
// `disagg calibrate`; `sources` keeps, per key, where the value came from.
struct Calibration {
  // Fraction of the dense peak a large GEMM reaches, by compute dtype
  // (int4 weight-only computes in bf16).
  double gemm_eff_bf16 = 0.8;
  double gemm_eff_fp8 = 0.7;
  double gemm_eff_fp4 = 0.6;
  // A serving engine's GEMM rate relative to the stand-alone GEMM benchmarks
  // gemm_eff_* are fitted to, by compute dtype: the engines ship their own
  // kernels (block-scaled FP8 paths, weight-only 4-bit kernels that compute
  // in bf16, fused epilogues, shapes without per-shape tuning). Fitted end to
  // end; 1 where no serving run informs it. Not applied in KernelView; the
  // product with gemm_eff_* is capped at 1 (the dense peak).
  double engine_gemm_bf16 = 1.0;
  double engine_gemm_fp8 = 1.0;
  double engine_gemm_fp4 = 1.0;
  // Weight-only 4-bit GEMMs (int4 or fp4 weights expanded to bf16 in the
  // kernel, w4a16) relative to the benchmarked dense bf16 rate: their own
  // kernels (Marlin, Machete, the mxfp4 Triton path), fitted end to end.
  double engine_gemm_w4a16 = 1.0;
  double gemm_tile_rows = 64;         // rows per tensor-core tile: compute pads m up to a multiple
  double mem_eff = 0.8;               // fraction of HBM bandwidth a weight/KV stream achieves
  double attn_prefill_eff = 0.55;     // fraction of peak bf16 FLOP/s of prefill attention
  double attn_len_half = 256;         // keys per query at which it reaches half of that
  double attn_decode_eff = 0.7;       // fraction of HBM bandwidth of decode KV reads
  double comm_bw_eff = 0.75;          // fraction of link bandwidth collectives achieve
  double comm_latency_factor = 0.25;  // ring per-hop latency as a fraction of the link latency
  // Busiest expert rank's persistent routed load / mean load (routing skew);
  // random routing's fluctuation, which fades with the load, is added to it
  // (perf::StepModel).
  double moe_imbalance = 1.2;
  double moe_gemm_eff = 1.0;  // grouped expert GEMMs' compute rate / the dense GEMM rate
  // Share of the experts a batch's routing effectively spreads over (1:
  // uniform); real routers favour popular experts, so a batch touches fewer.
  double moe_routing_spread = 1.0;
  // Not from the file: true in KernelView, where low-precision GEMMs quantise
  // their activations in a kernel of their own (fused inside serving graphs).
  bool standalone_kernels = false;
  double kernel_overhead = 2e-6;  // s added to every kernel of a step run as a CUDA graph
  // s a kernel timed on its own pays instead (launch and synchronisation);
  // used only to compare with single-kernel benchmarks.
  double kernel_launch = 5e-6;
  // s per KV-cache hand-off beyond the bytes on the wire: transfer setup,
  // memory registration and the serving framework's control messages.
  double kv_transfer_overhead = 0;
  std::array<double, kNumBackends> step_overhead{};  // s per forward step, by backend
  // s per sequence in a forward step, by backend: the framework's host-side
  // work for each running request (scheduling, sampling bookkeeping,
  // detokenisation, streaming the token out), which CUDA graphs do not hide.
  std::array<double, kNumBackends> seq_overhead{};
  // s between a request reaching the serving framework and its prompt
  // reaching the engine (API server, tokenisation, admission), by backend.
  std::array<double, kNumBackends> request_overhead{};
  // s added to each block-scaled FP8 GEMM (perf::QuantMode::block_scaled), by
  // backend: the per-token-group activation quantisation kernel and the
  // per-block scaling, as each framework's kernels implement them.
  std::array<double, kNumBackends> block_fp8_overhead{};
  double kv_cache_fraction = 0.9;  // of the memory left after weights, activations and reserve
  double runtime_reserved = 3 * 1073741824.0;     // bytes: CUDA context, NCCL, workspaces
  double activation_bytes_per_token_hidden = 16;  // workspace bytes per token per hidden unit

  std::map<std::string, std::string> sources;
};

struct SystemSpec {
  std::string name;
  std::string description;
  std::string source;  // file it was read from
  GpuSpec gpu;
  int nvlink_domain = 8;           // GPUs sharing one NVLink fabric
  double nvlink_latency = 3e-6;    // s, small-message cost of one NVLink collective step
  double scaleout_bw = 50e9;       // bytes/s per GPU per direction
  double scaleout_latency = 1e-5;  // s
  Calibration calibration;
  std::map<std::string, std::string> sources;  // spec key -> citation
};

// A per-backend calibration parameter: JSON key (microseconds) and field.
struct BackendParam {
  std::string_view key;
  std::array<double, kNumBackends> Calibration::*field;
  std::array<double, kNumBackends> defaults;  // s
};
const std::vector<BackendParam>& BackendParams();

// One scalar calibration parameter as it appears in JSON: key (with its unit),
// the factor from the JSON unit to SI, its field, and the legal range (JSON
// units). The table drives parsing, writing and fitting alike.
struct CalibrationParam {
  std::string_view key;
  double to_si;
  double Calibration::*field;
  double min;
  double max;
};
const std::vector<CalibrationParam>& CalibrationParams();

Result<SystemSpec> ParseSystemSpec(const Json& json, const std::string& origin);

// The system as single-kernel benchmarks see it: every kernel pays the
// stand-alone launch latency (kernel_launch) instead of the in-graph
// overhead, and routing is balanced and uniform (moe_imbalance and
// moe_routing_spread 1) and activation quantisation is a kernel of its own,
// as in those benchmarks.
SystemSpec KernelView(const SystemSpec& system);

// Reads or replaces only the calibration block (used by `disagg calibrate`).
Result<Calibration> ParseCalibration(JsonReader& reader);
Json CalibrationToJson(const Calibration& c);

// `name_or_path`: catalog name (data/hardware/<name>.json) or a JSON file.
Result<SystemSpec> LoadSystem(std::string_view name_or_path);
std::vector<std::string> CatalogSystemNames();

}  // namespace disagg::hardware

#endif  // DISAGG_HARDWARE_SYSTEM_SPEC_H_
