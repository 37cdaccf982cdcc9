#include "disagg/hardware/system_spec.h"

#include <algorithm>
#include <filesystem>

#include "disagg/base/files.h"
#include "disagg/base/units.h"

namespace disagg::hardware {
namespace {
namespace fs = std::filesystem;

constexpr std::array<std::string_view, kNumBackends> kBackendNames = {"trtllm", "sglang", "vllm"};

// Reads {"value": x, "source": "..."} (or a bare number) into `out`.
double ReadCalibrationValue(JsonReader& parent, std::string_view key, double fallback, double min,
                            double max, std::map<std::string, std::string>& sources,
                            const std::string& source_key) {
  const Json* raw = parent.Raw(key);
  if (raw == nullptr) return fallback;
  if (!raw->is_object()) return parent.NumberOr(key, fallback, min, max);
  JsonReader entry(*raw, parent.origin(), parent.KeyPath(key));
  double v = entry.Number("value", min, max);
  std::string src = entry.StringOr("source", "");
  if (!src.empty()) sources[source_key] = src;
  parent.Absorb(entry);
  return v;
}

}  // namespace

std::string_view BackendName(Backend b) { return kBackendNames[static_cast<int>(b)]; }

Result<Backend> ParseBackend(std::string_view name) {
  for (int i = 0; i < kNumBackends; ++i) {
    if (kBackendNames[i] == name) return static_cast<Backend>(i);
  }
  if (name == "tensorrt-llm" || name == "tensorrt_llm") return Backend::kTrtllm;
  return Fail("backend '{}' is not known (expected trtllm, sglang or vllm)", name);
}

const std::vector<CalibrationParam>& CalibrationParams() {
  static const std::vector<CalibrationParam> params = {
      {"gemm_eff_bf16", 1, &Calibration::gemm_eff_bf16, 0.05, 1.0},
      {"gemm_eff_fp8", 1, &Calibration::gemm_eff_fp8, 0.05, 1.0},
      {"gemm_eff_fp4", 1, &Calibration::gemm_eff_fp4, 0.05, 1.0},
      {"engine_gemm_bf16", 1, &Calibration::engine_gemm_bf16, 0.05, 4.0},
      {"engine_gemm_fp8", 1, &Calibration::engine_gemm_fp8, 0.05, 4.0},
      {"engine_gemm_fp4", 1, &Calibration::engine_gemm_fp4, 0.05, 4.0},
      {"engine_gemm_w4a16", 1, &Calibration::engine_gemm_w4a16, 0.05, 4.0},
      {"gemm_tile_rows", 1, &Calibration::gemm_tile_rows, 1, 512},
      {"mem_eff", 1, &Calibration::mem_eff, 0.05, 1.0},
      {"attn_prefill_eff", 1, &Calibration::attn_prefill_eff, 0.02, 1.0},
      {"attn_len_half_tokens", 1, &Calibration::attn_len_half, 0, 65536},
      {"attn_decode_eff", 1, &Calibration::attn_decode_eff, 0.05, 1.0},
      {"comm_bw_eff", 1, &Calibration::comm_bw_eff, 0.05, 1.0},
      {"comm_latency_factor", 1, &Calibration::comm_latency_factor, 0, 100},
      {"moe_imbalance", 1, &Calibration::moe_imbalance, 1.0, 8.0},
      {"moe_gemm_eff", 1, &Calibration::moe_gemm_eff, 0.05, 1.0},
      {"moe_routing_spread", 1, &Calibration::moe_routing_spread, 0.05, 1.0},
      {"kernel_overhead_us", 1e-6, &Calibration::kernel_overhead, 0, 1000},
      {"kernel_launch_us", 1e-6, &Calibration::kernel_launch, 0, 1000},
      {"kv_transfer_overhead_us", 1e-6, &Calibration::kv_transfer_overhead, 0, 1e7},
      {"kv_cache_fraction", 1, &Calibration::kv_cache_fraction, 0.1, 1.0},
      {"runtime_reserved_gib", kGiB, &Calibration::runtime_reserved, 0, 1024},
      {"activation_bytes_per_token_hidden", 1, &Calibration::activation_bytes_per_token_hidden, 0,
       1024},
  };
  return params;
}

const std::vector<BackendParam>& BackendParams() {
  // Defaults before calibration: a CUDA-graph decode step of each framework
  // costs a fraction of a millisecond of host-side scheduling, plus a few
  // microseconds per running request (the C++ runtime of TensorRT-LLM less
  // than the Python schedulers); a request's trip through the API server and
  // tokeniser a few milliseconds.
  static const std::vector<BackendParam> params = {
      {"step_overhead_us", &Calibration::step_overhead, {0.5e-3, 1.0e-3, 1.5e-3}},
      {"seq_overhead_us", &Calibration::seq_overhead, {5e-6, 10e-6, 10e-6}},
      {"request_overhead_us", &Calibration::request_overhead, {2e-3, 2e-3, 2e-3}},
      // Before calibration, as if the activation quantisation were fused
      // like a per-tensor FP8 GEMM's.
      {"block_fp8_overhead_us", &Calibration::block_fp8_overhead, {0, 0, 0}},
  };
  return params;
}

Result<Calibration> ParseCalibration(JsonReader& r) {
  Calibration c;
  for (const auto& p : CalibrationParams()) {
    c.*p.field = ReadCalibrationValue(r, p.key, c.*p.field / p.to_si, p.min, p.max, c.sources,
                                      std::string(p.key)) *
                 p.to_si;
  }
  for (const auto& bp : BackendParams()) {
    auto& values = c.*bp.field;
    values = bp.defaults;
    if (!r.Has(bp.key)) continue;
    JsonReader per = r.Object(bp.key);
    for (int i = 0; i < kNumBackends; ++i) {
      values[i] = ReadCalibrationValue(per, kBackendNames[i], values[i] * 1e6, 0, 1e7, c.sources,
                                       fmt::format("{}.{}", bp.key, kBackendNames[i])) *
                  1e-6;
    }
    r.Absorb(per);
  }
  if (auto done = r.Finish(); !done) return std::unexpected(done.error());
  return c;
}

Json CalibrationToJson(const Calibration& c) {
  Json out = Json::object();
  auto entry = [&](const std::string& key, double value) {
    Json e = {{"value", value}};
    if (auto it = c.sources.find(key); it != c.sources.end()) e["source"] = it->second;
    return e;
  };
  for (const auto& p : CalibrationParams()) {
    out[std::string(p.key)] = entry(std::string(p.key), c.*p.field / p.to_si);
  }
  for (const auto& bp : BackendParams()) {
    Json per = Json::object();
    for (int i = 0; i < kNumBackends; ++i) {
      per[std::string(kBackendNames[i])] =
          entry(fmt::format("{}.{}", bp.key, kBackendNames[i]), (c.*bp.field)[i] * 1e6);
    }
    out[std::string(bp.key)] = per;
  }
  return out;
}

SystemSpec KernelView(const SystemSpec& system) {
  SystemSpec view = system;
  view.calibration.kernel_overhead = system.calibration.kernel_launch;
  view.calibration.moe_imbalance = 1.0;
  view.calibration.moe_routing_spread = 1.0;
  view.calibration.standalone_kernels = true;
  return view;
}

Result<SystemSpec> ParseSystemSpec(const Json& json, const std::string& origin) {
  JsonReader r(json, origin);
  SystemSpec s;
  s.source = origin;
  s.name = r.String("name");
  s.description = r.StringOr("description", "");

  JsonReader gpu = r.Object("gpu");
  s.gpu.name = gpu.String("name");
  JsonReader peaks = gpu.Object("peak_tflops");
  for (DType t : {DType::kBf16, DType::kFp8, DType::kNvfp4}) {
    s.gpu.peak_flops[static_cast<int>(t)] = peaks.NumberOr(DTypeName(t), 0, 0, 1e6) * kTera;
  }
  if (peaks.ok() && s.gpu.peak_flops[static_cast<int>(DType::kBf16)] <= 0) {
    peaks.Fail("bf16", "missing required field (dense bf16 TFLOPS)");
  }
  gpu.Absorb(peaks);
  s.gpu.hbm_bytes = gpu.Number("hbm_gib", 1, 1e5) * kGiB;
  s.gpu.hbm_bw = gpu.Number("hbm_tb_per_s", 0.01, 1e3) * kTera;
  s.gpu.nvlink_bw = gpu.Number("nvlink_gb_per_s", 0.1, 1e5) * kGB;
  r.Absorb(gpu);

  s.nvlink_domain = static_cast<int>(r.Integer("nvlink_domain", 1, 1 << 20));
  s.nvlink_latency = r.Number("nvlink_latency_us", 0, 1e4) * 1e-6;
  s.scaleout_bw = r.Number("scaleout_gb_per_s", 0.01, 1e5) * kGB;
  s.scaleout_latency = r.Number("scaleout_latency_us", 0, 1e6) * 1e-6;

  if (const Json* src = r.Raw("sources"); src != nullptr) {
    if (!src->is_object()) {
      r.Fail("sources", "expected an object of key -> citation strings");
    } else {
      for (auto it = src->begin(); it != src->end(); ++it) {
        if (!it.value().is_string()) {
          r.Fail("sources", fmt::format("{}: expected a citation string", it.key()));
          break;
        }
        s.sources[it.key()] = it.value().get<std::string>();
      }
    }
  }
  if (r.Has("calibration")) {
    JsonReader cal = r.Object("calibration");
    auto c = ParseCalibration(cal);
    if (!c) return std::unexpected(c.error());
    s.calibration = *c;
  } else {
    JsonReader none(Json::object(), origin, "calibration");
    s.calibration = *ParseCalibration(none);
  }
  if (auto done = r.Finish(); !done) return std::unexpected(done.error());
  return s;
}

Result<SystemSpec> LoadSystem(std::string_view name_or_path) {
  std::string arg(name_or_path);
  if (arg.empty()) return Fail("--system: empty system name");
  std::error_code ec;
  std::string path;
  if (fs::is_regular_file(arg, ec)) {
    path = arg;
  } else if (fs::is_directory(arg, ec)) {
    return Fail("--system: '{}' is a folder; expected a system JSON file or a catalog name", arg);
  } else if (arg.find('/') == std::string::npos && !arg.ends_with(".json")) {
    path = DataDir() + "/hardware/" + arg + ".json";
    if (!fs::exists(path, ec)) {
      std::string known;
      for (const auto& n : CatalogSystemNames()) known += (known.empty() ? "" : ", ") + n;
      return Fail("--system: unknown system '{}' (not a file; catalog has: {})", arg, known);
    }
  } else {
    return Fail("--system: file '{}' does not exist", arg);
  }
  auto json = LoadJsonFile(path);
  if (!json) return std::unexpected(json.error());
  return ParseSystemSpec(*json, path);
}

std::vector<std::string> CatalogSystemNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(DataDir() + "/hardware", ec)) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace disagg::hardware
