#include "disagg/parallel/feasibility.h"

namespace disagg::parallel {
namespace {

struct Names {
  std::string_view key;
  std::string_view text;
};

constexpr std::array<Names, kNumInfeasible> kNames = {{
    {"none", "feasible"},
    {"heads_not_divisible", "heads not divisible"},
    {"experts_not_divisible", "experts not divisible"},
    {"tp_exceeds_nvlink_domain", "TP beyond the NVLink domain"},
    {"pp_exceeds_layers", "more stages than layers"},
    {"dp_needs_moe", "attention DP on a dense model"},
    {"moe_group_mismatch", "moe_tp x moe_ep != tp x dp"},
    {"precision_unsupported", "precision unsupported"},
    {"out_of_memory", "out of memory"},
    {"ftl_exceeded", "FTL limit exceeded"},
    {"kv_link_too_slow", "KV link too slow"},
    {"gpu_budget_exceeded", "GPU budget exceeded"},
}};

}  // namespace

std::string_view InfeasibleName(Infeasible r) { return kNames[static_cast<int>(r)].key; }
std::string_view InfeasibleText(Infeasible r) { return kNames[static_cast<int>(r)].text; }

}  // namespace disagg::parallel
