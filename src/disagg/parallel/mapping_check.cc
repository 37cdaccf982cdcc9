#include "disagg/parallel/mapping_check.h"

#include <fmt/format.h>

#include <algorithm>

namespace disagg::parallel {

Feasibility CheckMapping(const model::ModelSpec& model, const hardware::SystemSpec& system,
                         const perf::Mapping& m, bool tp_across_domains) {
  auto fail = [](Infeasible r, std::string detail) { return Feasibility{r, std::move(detail)}; };
  if (m.tp < 1 || m.pp < 1 || m.dp < 1 || m.moe_tp < 1 || m.moe_ep < 1) {
    return fail(Infeasible::kMoeGroupMismatch,
                fmt::format("parallel degrees must be at least 1 (tp {}, pp {}, dp {}, moe_tp {}, "
                            "ep {})",
                            m.tp, m.pp, m.dp, m.moe_tp, m.moe_ep));
  }
  if (m.tp > system.nvlink_domain && !tp_across_domains) {
    return fail(Infeasible::kTpExceedsDomain,
                fmt::format("tp {} exceeds the NVLink domain of {} ({} GPUs)", m.tp, system.name,
                            system.nvlink_domain));
  }
  if (m.pp > model.num_layers) {
    return fail(Infeasible::kPpExceedsLayers, fmt::format("pp {} exceeds the {} layers of {}", m.pp,
                                                          model.num_layers, model.name));
  }
  if (model.num_heads % m.tp != 0) {
    return fail(Infeasible::kHeadsNotDivisible,
                fmt::format("{} attention heads of {} are not divisible by tp {}", model.num_heads,
                            model.name, m.tp));
  }
  if (!model.mla && model.num_kv_heads > m.tp && model.num_kv_heads % m.tp != 0) {
    return fail(Infeasible::kHeadsNotDivisible,
                fmt::format("{} KV heads of {} are not divisible by tp {}", model.num_kv_heads,
                            model.name, m.tp));
  }
  if (!model.mla && model.num_kv_heads < m.tp && m.tp % model.num_kv_heads != 0) {
    return fail(Infeasible::kHeadsNotDivisible,
                fmt::format("tp {} is not a multiple of the {} KV heads of {}", m.tp,
                            model.num_kv_heads, model.name));
  }
  const auto& lin = model.linear;
  if (lin.num_value_heads > 0 &&
      (lin.num_value_heads % m.tp != 0 || lin.num_key_heads % m.tp != 0)) {
    return fail(Infeasible::kHeadsNotDivisible,
                fmt::format("linear-attention heads ({} key, {} value) of {} are not divisible "
                            "by tp {}",
                            lin.num_key_heads, lin.num_value_heads, model.name, m.tp));
  }
  if (!model.is_moe()) {
    if (m.dp > 1) {
      return fail(Infeasible::kDpNeedsMoe,
                  fmt::format("attention DP (dp {}) needs an MoE model; {} is dense, use more "
                              "instances instead",
                              m.dp, model.name));
    }
    if (m.moe_ep > 1 || m.moe_tp > 1) {
      return fail(Infeasible::kMoeGroupMismatch,
                  fmt::format("{} is dense: expert parallelism (ep {}, moe_tp {}) does not apply",
                              model.name, m.moe_ep, m.moe_tp));
    }
    if (model.intermediate_size % m.tp != 0) {
      return fail(Infeasible::kHeadsNotDivisible,
                  fmt::format("FFN width {} of {} is not divisible by tp {}",
                              model.intermediate_size, model.name, m.tp));
    }
    return {};
  }
  if (m.moe_tp * m.moe_ep != m.tp * m.dp) {
    return fail(Infeasible::kMoeGroupMismatch,
                fmt::format("moe_tp x ep = {} x {} must equal tp x dp = {} x {}", m.moe_tp,
                            m.moe_ep, m.tp, m.dp));
  }
  // An ep that does not divide the experts is legal: the spare slots hold
  // replicas (perf::ExpertSlotsPerRank). Only more ranks than experts leave a
  // rank nothing of its own to hold.
  if (m.moe_ep > model.num_experts) {
    return fail(
        Infeasible::kExpertsNotDivisible,
        fmt::format("ep {} exceeds the {} experts of {}", m.moe_ep, model.num_experts, model.name));
  }
  if (model.moe_intermediate_size % m.moe_tp != 0) {
    return fail(Infeasible::kExpertsNotDivisible,
                fmt::format("expert width {} of {} is not divisible by moe_tp {}",
                            model.moe_intermediate_size, model.name, m.moe_tp));
  }
  return {};
}

Feasibility CheckPrecision(const hardware::SystemSpec& system, const perf::Precision& p) {
  for (auto [what, q] : {std::pair{"GEMM", p.gemm}, std::pair{"MoE", p.moe}}) {
    DType need = q.compute == DType::kInt4 ? DType::kBf16 : q.compute;
    if (!system.gpu.Supports(need)) {
      return {Infeasible::kPrecisionUnsupported,
              fmt::format("{} compute in {} needs {} tensor cores, which {} lacks", what,
                          DTypeName(need), DTypeName(need), system.name)};
    }
  }
  return {};
}

std::vector<perf::Mapping> EnumerateMappings(const model::ModelSpec& model,
                                             const hardware::SystemSpec& system,
                                             const EnumerateOptions& o,
                                             InfeasibleCounts* rejected) {
  std::vector<perf::Mapping> out;
  std::vector<int> degrees;
  for (int d = 1; d <= o.max_gpus; d *= 2) degrees.push_back(d);
  for (int pp = 1; pp <= o.max_pp; pp *= 2) {
    for (int tp : degrees) {
      for (int dp : degrees) {
        if (tp * dp * pp > o.max_gpus) continue;
        if (dp > 1 && (!o.allow_dp || !model.is_moe())) continue;
        int group = tp * dp;
        std::vector<std::pair<int, int>> moe;  // (moe_tp, ep)
        if (!model.is_moe()) {
          moe.push_back({1, 1});
        } else {
          for (int ep = 1; ep <= group; ep *= 2) {
            if (group % ep != 0) continue;
            int moe_tp = group / ep;
            if (moe_tp > 1 && !o.allow_moe_tp) continue;
            moe.push_back({moe_tp, ep});
          }
        }
        for (auto [moe_tp, ep] : moe) {
          perf::Mapping m{tp, pp, dp, moe_tp, ep};
          Feasibility f = CheckMapping(model, system, m);
          if (f.ok()) {
            out.push_back(m);
          } else if (rejected != nullptr) {
            ++(*rejected)[static_cast<int>(f.reason)];
          }
        }
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const perf::Mapping& a, const perf::Mapping& b) {
    return a.gpus() < b.gpus();
  });
  return out;
}

}  // namespace disagg::parallel
