#include "disagg/cli/common.h"

#include <cstdint>
#include <cstdio>

#include "disagg/model/hf_config.h"
#include "disagg/parallel/mapping_check.h"

namespace disagg::cli {

void AddSpecFlags(CLI::App* app, SpecFlags& f, bool require) {
  auto* m = app->add_option("--model", f.model,
                            "catalog name (see `disagg models`) or a Hugging Face config.json "
                            "(or its folder)");
  auto* s = app->add_option("--system", f.system,
                            "catalog name (see `disagg systems`) or a system JSON file");
  if (require) {
    m->required();
    s->required();
  }
  app->add_option("--precision", f.precision, "bf16, fp8, fp4 or int4 (preset for all parts)")
      ->capture_default_str();
  app->add_option("--gemm-quant", f.gemm_quant,
                  "override the dense GEMM format: bf16, fp8, fp8_block, nvfp4, fp4_wo (fp4 "
                  "weights, bf16 math), int4_wo, w4a8");
  app->add_option("--moe-quant", f.moe_quant, "override the routed-expert format");
  app->add_option("--kv-dtype", f.kv_dtype, "override the KV-cache format: bf16, fp8, fp4");
  app->add_option("--comm-dtype", f.comm_dtype, "override the communication format");
  app->add_option("--backend", f.backend, "serving framework: trtllm, sglang or vllm")
      ->capture_default_str();
  app->add_option("--mtp", f.mtp,
                  "speculative decoding with the model's MTP module: drafted tokens per step "
                  "(0: off)")
      ->capture_default_str();
  app->add_option("--mtp-acceptance", f.mtp_acceptance,
                  "probability that a drafted token is accepted after an accepted one (default: "
                  "DeepSeek-V3's published 85-90%, midpoint)")
      ->capture_default_str();
}

Specs LoadSpecs(const SpecFlags& f) {
  Specs s;
  s.model = Unwrap(model::LoadModel(f.model));
  for (const auto& w : s.model.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  s.system = Unwrap(hardware::LoadSystem(f.system));
  s.precision = Unwrap(perf::PrecisionPreset(f.precision));
  if (!f.gemm_quant.empty())
    s.precision.gemm = Unwrap(perf::ParseQuantMode(f.gemm_quant, "--gemm-quant"));
  if (!f.moe_quant.empty())
    s.precision.moe = Unwrap(perf::ParseQuantMode(f.moe_quant, "--moe-quant"));
  auto dtype = [](const std::string& text, const char* flag) {
    auto t = ParseDType(text);
    if (!t) DieF("{}: unknown format '{}' (expected bf16, fp8 or fp4)", flag, text);
    return *t;
  };
  if (!f.kv_dtype.empty()) s.precision.kv = dtype(f.kv_dtype, "--kv-dtype");
  if (!f.comm_dtype.empty()) s.precision.comm = dtype(f.comm_dtype, "--comm-dtype");
  auto backend = hardware::ParseBackend(f.backend);
  if (!backend) DieF("--backend: {}", backend.error().message);
  s.backend = *backend;
  s.precision = perf::OnCheckpoint(s.precision, s.model);
  auto precision_ok = parallel::CheckPrecision(s.system, s.precision);
  if (!precision_ok.ok()) {
    // GPUs without FP4 tensor cores run FP4 checkpoints weight-only (the
    // engines' w4a16 path); say how to ask for that.
    const bool fp4 =
        s.precision.gemm.compute == DType::kNvfp4 || s.precision.moe.compute == DType::kNvfp4;
    DieF("--precision {}: {}{}", f.precision, precision_ok.detail,
         fp4 ? " (FP4 weights with BF16 math: --gemm-quant fp4_wo --moe-quant fp4_wo)" : "");
  }
  if (f.mtp < 0 || f.mtp > perf::kMaxSpeculationDepth) {
    DieF("--mtp: {} drafted tokens per step; expected 0-{}", f.mtp, perf::kMaxSpeculationDepth);
  }
  if (!(f.mtp_acceptance >= 0 && f.mtp_acceptance <= 1)) {
    DieF("--mtp-acceptance: {} is not a probability (0-1)", f.mtp_acceptance);
  }
  if (f.mtp > 0 && s.model.num_mtp_layers == 0) {
    DieF("--mtp {}: model {} ({}) has no multi-token-prediction module", f.mtp, s.model.name,
         s.model.source);
  }
  s.speculation = {f.mtp, f.mtp > 0 ? f.mtp_acceptance : 0.0};
  return s;
}

void AddMappingFlags(CLI::App* app, MappingFlags& f) {
  app->add_option("--tp", f.tp, "tensor parallelism of attention (and dense FFN)")
      ->capture_default_str();
  app->add_option("--pp", f.pp, "pipeline stages")->capture_default_str();
  app->add_option("--dp-attn", f.dp, "attention data-parallel ranks (MoE models)")
      ->capture_default_str();
  app->add_option(
      "--ep", f.ep,
      "expert-parallel ranks (default: tp x dp-attn / moe-tp); one that does not divide "
      "the experts holds ceil(experts / ep) slots per GPU, the spare ones replicas");
  app->add_option("--moe-tp", f.moe_tp, "tensor parallelism inside each expert (default 1)");
}

CitedAccuracy CiteAccuracy(const std::string& model, const std::string& system,
                           hardware::Backend backend, const std::string& mode) {
  const auto record = Unwrap(calib::LoadCatalogAccuracy());
  const calib::AccuracyRecord* rec = record ? &*record : nullptr;
  const std::string b(hardware::BackendName(backend));
  return {calib::Lookup(rec, system, b, mode), calib::LookupModel(rec, model, system, b, mode)};
}

Json CitedAccuracy::ToJson() const {
  return Json{{"deployment", calib::CitationJson(deployment)},
              {"model", calib::CitationJson(model)}};
}

std::string CitedAccuracy::Text(const std::string& label) const {
  std::string s = fmt::format("{}: {}\n", label, deployment.text);
  if (deployment.evidence != calib::Evidence::kNone || model.evidence != calib::Evidence::kNone) {
    s += fmt::format("  this model: {}\n", model.text);
  }
  return s;
}

void RequirePositive(double value, const char* flag) {
  if (!(value > 0)) DieF("{}: must be positive, got {}", flag, value);
}

perf::Mapping ResolveMapping(const Specs& specs, const MappingFlags& f) {
  RequirePositive(f.tp, "--tp");
  RequirePositive(f.pp, "--pp");
  RequirePositive(f.dp, "--dp-attn");
  if (f.ep) RequirePositive(*f.ep, "--ep");
  if (f.moe_tp) RequirePositive(*f.moe_tp, "--moe-tp");
  // Bound the degrees so that no product of them overflows an int.
  constexpr int64_t kMaxGpus = 1 << 15;
  if (int64_t{f.tp} * f.pp * f.dp > kMaxGpus || f.ep.value_or(1) > kMaxGpus ||
      f.moe_tp.value_or(1) > kMaxGpus) {
    DieF("--tp {} --pp {} --dp-attn {} --ep {} --moe-tp {}: more than {} GPUs per instance", f.tp,
         f.pp, f.dp, f.ep.value_or(1), f.moe_tp.value_or(1), kMaxGpus);
  }
  perf::Mapping m{f.tp, f.pp, f.dp, 1, 1};
  const int group = f.tp * f.dp;
  if (specs.model.is_moe()) {
    if (f.ep && f.moe_tp) {
      m.moe_ep = *f.ep;
      m.moe_tp = *f.moe_tp;
    } else if (f.ep) {
      if (group % *f.ep != 0) {
        DieF("--ep {}: must divide tp x dp-attn = {}", *f.ep, group);
      }
      m.moe_ep = *f.ep;
      m.moe_tp = group / *f.ep;
    } else {
      m.moe_tp = f.moe_tp.value_or(1);
      if (group % m.moe_tp != 0)
        DieF("--moe-tp {}: must divide tp x dp-attn = {}", m.moe_tp, group);
      m.moe_ep = group / m.moe_tp;
    }
  } else if ((f.ep && *f.ep > 1) || (f.moe_tp && *f.moe_tp > 1)) {
    DieF("--ep/--moe-tp: {} is a dense model; expert parallelism does not apply", specs.model.name);
  }
  auto check = parallel::CheckMapping(specs.model, specs.system, m, true);
  if (check.ok() && m.tp > specs.system.nvlink_domain) {
    std::fprintf(stderr,
                 "warning: --tp %d spans NVLink domains of %s (%d GPUs each): its all-reduces run "
                 "over the scale-out network\n",
                 m.tp, specs.system.name.c_str(), specs.system.nvlink_domain);
  }
  if (!check.ok()) {
    DieF("impossible mapping (--tp {} --pp {} --dp-attn {} --ep {} --moe-tp {}): {}", m.tp, m.pp,
         m.dp, m.moe_ep, m.moe_tp, check.detail);
  }
  return m;
}

}  // namespace disagg::cli
