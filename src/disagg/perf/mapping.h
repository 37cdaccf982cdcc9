// Mapping: how one model instance is spread over its GPUs.
//
// Contract: a plain value; legality is checked in parallel/ (CheckMapping),
// which the cost model assumes has passed. Conventions follow the measurement
// files: GPUs per instance = tp x dp x pp; attention runs tensor-parallel over
// `tp` GPUs and data-parallel over `dp` such groups (attention DP); the expert
// layers of an MoE model are spread over moe_tp x moe_ep = tp x dp GPUs
// (moe_ep expert-parallel ranks, each expert sliced moe_tp ways). With dp = 1
// and moe_ep > 1 this is TEP; with dp > 1, DEP. Dense FFN layers are
// tensor-parallel over `tp`. An moe_ep that does not divide the experts is a
// layout with redundant experts (ExpertSlotsPerRank).
#ifndef DISAGG_PERF_MAPPING_H_
#define DISAGG_PERF_MAPPING_H_

#include <fmt/format.h>

#include <string>

namespace disagg::perf {

struct Mapping {
  int tp = 1;
  int pp = 1;
  int dp = 1;  // attention data parallelism
  int moe_tp = 1;
  int moe_ep = 1;

  int gpus() const { return tp * pp * dp; }
  int gpus_per_stage() const { return tp * dp; }
  bool operator==(const Mapping&) const = default;

  // "tp4", "tp8ep8", "dp8ep8", "tp2pp4" ...: short label for tables.
  std::string Label() const {
    std::string s = dp > 1 ? fmt::format("dp{}", dp) : fmt::format("tp{}", tp);
    if (dp > 1 && tp > 1) s += fmt::format("tp{}", tp);
    if (moe_ep > 1) s += fmt::format("ep{}", moe_ep);
    if (pp > 1) s += fmt::format("pp{}", pp);
    return s;
  }
};

// Expert slots each expert-parallel rank holds: ceil(experts / moe_ep). Where
// moe_ep does not divide the experts, the engines place the experts with a
// load balancer and fill the spare slots with replicas of the busiest ones
// (TensorRT-LLM's MoE load balancer `num_slots`, SGLang's
// --ep-num-redundant-experts, vLLM's EPLB `num_redundant_experts`): DeepSeek-R1's
// 256 experts on EP 48 are 288 slots, 6 per GPU. The replicas keep the ranks'
// loads even, so a rank computes 1/moe_ep of the routed rows either way.
inline int ExpertSlotsPerRank(int experts, const Mapping& m) {
  return m.moe_ep < 1 ? experts : (experts + m.moe_ep - 1) / m.moe_ep;
}

}  // namespace disagg::perf

#endif  // DISAGG_PERF_MAPPING_H_
