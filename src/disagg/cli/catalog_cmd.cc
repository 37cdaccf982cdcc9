// `disagg models` and `disagg systems`: the built-in catalog with key numbers.
#include <cstdio>

#include "disagg/base/json_reader.h"
#include "disagg/cli/commands.h"
#include "disagg/cli/common.h"
#include "disagg/model/hf_config.h"
#include "disagg/report/table.h"

namespace disagg::cli {
namespace {

std::string Architecture(const model::ModelSpec& m) {
  std::string attention = m.mla ? "MLA" : (m.num_kv_heads == m.num_heads ? "MHA" : "GQA");
  if (m.sparse_topk > 0) attention += "+sparse";
  bool sliding = false, linear = false;
  for (const auto& k : m.kinds) {
    sliding |= k.attention == model::AttentionType::kSliding;
    linear |= k.attention == model::AttentionType::kLinear;
  }
  if (sliding) attention += "+sliding";
  if (linear) attention += "+linear";
  if (!m.is_moe()) return "dense " + attention;
  return fmt::format("MoE {}x{} {}", m.num_experts, m.experts_per_token, attention);
}

void RunModels(bool json) {
  Json out = Json::array();
  report::Table t({"name", "model_type", "architecture", "layers", "hidden", "params", "active",
                   "KV B/token (bf16)", "context"});
  for (const auto& name : model::CatalogModelNames()) {
    model::ModelSpec m = Unwrap(model::LoadModel(name));
    double kv = m.KvElementsPerToken() * 2;
    out.push_back(Json{{"name", m.name},
                       {"model_type", m.model_type},
                       {"architecture", Architecture(m)},
                       {"layers", m.num_layers},
                       {"hidden_size", m.hidden_size},
                       {"params", m.TotalParams()},
                       {"active_params", m.ActiveParamsPerToken()},
                       {"kv_bytes_per_token_bf16", kv},
                       {"max_context", m.max_context}});
    t.AddRow({m.name, m.model_type, Architecture(m), std::to_string(m.num_layers),
              std::to_string(m.hidden_size), fmt::format("{:.1f}B", m.TotalParams() / 1e9),
              fmt::format("{:.1f}B", m.ActiveParamsPerToken() / 1e9), report::Thousands(kv),
              report::Thousands(static_cast<double>(m.max_context))});
  }
  if (json) {
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(t.Render().c_str(), stdout);
  }
}

void RunSystems(bool json) {
  Json out = Json::array();
  report::Table t({"name", "GPU", "bf16 TF", "fp8 TF", "fp4 TF", "HBM", "HBM TB/s", "NVLink GB/s",
                   "domain", "scale-out GB/s"});
  auto tf = [](double flops) { return flops > 0 ? fmt::format("{:.0f}", flops / 1e12) : "-"; };
  for (const auto& name : hardware::CatalogSystemNames()) {
    hardware::SystemSpec s = Unwrap(hardware::LoadSystem(name));
    const auto& g = s.gpu;
    out.push_back(Json{{"name", s.name},
                       {"gpu", g.name},
                       {"peak_flops",
                        {{"bf16", g.PeakFlops(DType::kBf16)},
                         {"fp8", g.PeakFlops(DType::kFp8)},
                         {"fp4", g.PeakFlops(DType::kNvfp4)}}},
                       {"hbm_bytes", g.hbm_bytes},
                       {"hbm_bytes_per_s", g.hbm_bw},
                       {"nvlink_bytes_per_s", g.nvlink_bw},
                       {"nvlink_domain", s.nvlink_domain},
                       {"scaleout_bytes_per_s", s.scaleout_bw}});
    t.AddRow({s.name, g.name, tf(g.PeakFlops(DType::kBf16)), tf(g.PeakFlops(DType::kFp8)),
              tf(g.PeakFlops(DType::kNvfp4)), report::Bytes(g.hbm_bytes),
              fmt::format("{:.2f}", g.hbm_bw / 1e12), fmt::format("{:.0f}", g.nvlink_bw / 1e9),
              std::to_string(s.nvlink_domain), fmt::format("{:.0f}", s.scaleout_bw / 1e9)});
  }
  if (json) {
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(t.Render().c_str(), stdout);
  }
}

}  // namespace

void AddCatalogCommands(CLI::App& app) {
  auto models_json = std::make_shared<bool>(false);
  auto* models = app.add_subcommand("models", "list the model catalog");
  models->add_flag("--json", *models_json, "machine-readable output");
  models->callback([models_json] { RunModels(*models_json); });

  auto systems_json = std::make_shared<bool>(false);
  auto* systems = app.add_subcommand("systems", "list the hardware catalog");
  systems->add_flag("--json", *systems_json, "machine-readable output");
  systems->callback([systems_json] { RunSystems(*systems_json); });
}

}  // namespace disagg::cli
