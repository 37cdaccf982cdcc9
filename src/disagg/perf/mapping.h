// Mapping: how one model instance is spread over its GPUs.
//
// Contract: a plain value; legality is checked in parallel/ (CheckMapping),
// which the cost model assumes has passed. Conventions follow the measurement
// files: GPUs per instance = tp x dp x pp; attention runs tensor-parallel over
// `tp` GPUs and data-parallel over `dp` such groups (attention DP); the expert
// layers of an MoE model are spread over moe_tp x moe_ep = tp x dp GPUs
// (moe_ep expert-parallel ranks, each expert sliced moe_tp ways). With dp = 1
// and moe_ep > 1 this is TEP; with dp > 1, DEP. Dense FFN layers are
// tensor-parallel over `tp`.
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

}  // namespace disagg::perf

#endif  // DISAGG_PERF_MAPPING_H_
