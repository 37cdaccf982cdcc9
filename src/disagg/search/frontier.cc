#include "disagg/search/frontier.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "disagg/parallel/mapping_check.h"
#include "disagg/search/candidates.h"
#include "disagg/search/pareto.h"

namespace disagg::search {
namespace {

using parallel::Infeasible;

template <typename F>
void ForEachIndex(bool parallel, size_t n, F f) {
  if (parallel) {
    tbb::parallel_for(size_t{0}, n, f);
  } else {
    for (size_t i = 0; i < n; ++i) f(i);
  }
}

struct PerMapping {
  Tally tally;
  std::vector<PrefillConfig> prefill;
  std::vector<DecodeConfig> decode;
  std::vector<DesignPoint> colocated;
};

// The prefill configurations worth pairing: per instance size, the Pareto set
// of (low FTL, high requests/s/GPU).
std::vector<PrefillConfig> PrefillFront(const std::vector<PrefillConfig>& all) {
  std::map<int, std::vector<const PrefillConfig*>> by_gpus;
  for (const auto& p : all) by_gpus[p.mapping.gpus()].push_back(&p);
  std::vector<PrefillConfig> out;
  for (auto& [gpus, group] : by_gpus) {
    auto front = ParetoFront(
        group.size(), [&](size_t i) { return -group[i]->ftl_compute; },
        [&](size_t i) { return group[i]->requests_per_s_per_gpu(); });
    for (size_t i : front) out.push_back(*group[i]);
  }
  return out;
}

struct PairResult {
  std::optional<DesignPoint> best;      // under the frontier's FTL limit
  std::optional<DesignPoint> best_sla;  // under the SLA's FTL limit
};

// Pairs one decode configuration with the candidate prefill configurations.
// `prefills` is sorted by requests/s/GPU, best first, so the continuous
// optimum of successive pairs only falls.
PairResult PairDecode(const DecodeConfig& d, const std::vector<PrefillConfig>& prefills,
                      const hardware::SystemSpec& system, const model::ModelSpec& model,
                      const FrontierOptions& o, Tally& tally) {
  PairResult r;
  const double osl = o.workload.osl;
  const serving::PoolRate dr{d.requests_per_s, d.mapping.gpus()};
  const double sla_ftl = o.sla_ftl_max.value_or(o.ftl_max);
  const bool sla = o.sla_ttl_max || o.sla_ftl_max;
  const bool want_sla = sla && (!o.sla_ttl_max || d.ttl <= *o.sla_ttl_max);
  for (size_t i = 0; i < prefills.size(); ++i) {
    const PrefillConfig& p = prefills[i];
    const serving::PoolRate pr{p.requests_per_s, p.mapping.gpus()};
    const double continuous = serving::ContinuousTokensPerGpu(pr, dr, osl);
    // Integer counts never beat the continuous optimum, and it only falls
    // from here on: stop once no pair can improve on what is found.
    bool helps_best = !r.best || continuous > r.best->tokens_per_s_per_gpu;
    bool helps_sla = want_sla && (!r.best_sla || continuous > r.best_sla->tokens_per_s_per_gpu);
    if (!helps_best && !helps_sla) {
      tally.pruned += static_cast<long long>(prefills.size() - i);
      break;
    }
    serving::InstanceCounts counts =
        o.gpu_budget > 0
            ? serving::SolveInstanceCounts(pr, dr, osl, o.gpu_budget)
            : serving::SmallestNearOptimal(pr, dr, osl, o.near_optimal, o.max_total_gpus);
    if (!counts.ok()) {
      tally.Reject(Infeasible::kBudgetExceeded);
      continue;
    }
    const bool same_domain = counts.gpus <= system.nvlink_domain;
    auto kv = serving::EvaluateKvTransfer(
        system, p.kv_bytes_per_request, p.requests_per_s_per_gpu(), d.requests_per_s_per_gpu(),
        p.mapping.gpus(), p.ftl_compute, model.num_layers, same_domain);
    if (!kv.feasible) {
      tally.Reject(Infeasible::kKvLinkTooSlow);
      continue;
    }
    const double ftl = p.ftl_compute + kv.exposed_s;
    if (ftl > o.ftl_max && ftl > sla_ftl) {
      tally.Reject(Infeasible::kFtlExceeded);
      continue;
    }
    tally.Ok();
    DesignPoint dp;
    dp.policy = Policy::kDisaggregated;
    dp.ttl = d.ttl;
    dp.ftl = ftl;
    dp.tokens_per_s_per_user = 1 / d.ttl;
    dp.tokens_per_s_per_gpu = counts.tokens_per_s_per_gpu;
    dp.gpus = counts.gpus;
    dp.prefill = p;
    dp.decode = d;
    dp.counts = counts;
    dp.ctx_gen_ratio = serving::ContinuousCtxGenRatio(pr, dr);
    dp.ctx_gen_ratio_used =
        static_cast<double>(counts.prefill * pr.gpus) / (counts.decode * dr.gpus);
    dp.kv_egress_bytes_per_s_per_gpu = kv.egress_bytes_per_s_per_gpu;
    dp.kv_ingress_bytes_per_s_per_gpu = kv.ingress_bytes_per_s_per_gpu;
    dp.kv_link_bytes_per_s_per_gpu = kv.link_bytes_per_s_per_gpu;
    dp.kv_exposed_s = kv.exposed_s;
    auto better = [](const std::optional<DesignPoint>& cur, const DesignPoint& c) {
      return !cur || c.tokens_per_s_per_gpu > cur->tokens_per_s_per_gpu ||
             (c.tokens_per_s_per_gpu == cur->tokens_per_s_per_gpu && c.ftl < cur->ftl);
    };
    if (ftl <= o.ftl_max && better(r.best, dp)) r.best = dp;
    if (want_sla && ftl <= sla_ftl && better(r.best_sla, dp)) r.best_sla = dp;
  }
  return r;
}

std::vector<DesignPoint> Front(const std::vector<DesignPoint>& points) {
  auto idx = ParetoFront(
      points.size(), [&](size_t i) { return points[i].tokens_per_s_per_user; },
      [&](size_t i) { return points[i].tokens_per_s_per_gpu; });
  std::vector<DesignPoint> out;
  for (size_t i : idx) out.push_back(points[i]);
  return out;
}

std::optional<DesignPoint> BestUnderSla(const std::vector<DesignPoint>& points,
                                        const FrontierOptions& o) {
  std::optional<DesignPoint> best;
  for (const auto& p : points) {
    if (o.sla_ttl_max && p.ttl > *o.sla_ttl_max) continue;
    if (o.sla_ftl_max && p.ftl > *o.sla_ftl_max) continue;
    if (!best || p.tokens_per_s_per_gpu > best->tokens_per_s_per_gpu) best = p;
  }
  return best;
}

}  // namespace

double BestThroughputAt(const std::vector<DesignPoint>& frontier, double interactivity) {
  double best = 0;
  for (const auto& p : frontier) {
    if (p.tokens_per_s_per_user >= interactivity) best = std::max(best, p.tokens_per_s_per_gpu);
  }
  return best;
}

FrontierResult RunFrontier(const model::ModelSpec& model, const hardware::SystemSpec& system,
                           const perf::Precision& precision, hardware::Backend backend,
                           const FrontierOptions& o) {
  auto start = std::chrono::steady_clock::now();
  FrontierResult result;
  Tally tally;

  parallel::EnumerateOptions eo;
  eo.max_gpus = std::max(o.max_prefill_gpus, o.max_stage_gpus * o.max_decode_pp);
  eo.max_pp = std::min(std::max(o.max_prefill_pp, o.max_decode_pp), model.num_layers);
  parallel::InfeasibleCounts rejected{};
  std::vector<perf::Mapping> mappings = parallel::EnumerateMappings(model, system, eo, &rejected);
  for (int i = 0; i < parallel::kNumInfeasible; ++i) {
    tally.Reject(static_cast<Infeasible>(i), rejected[i]);
  }
  std::erase_if(mappings,
                [&](const perf::Mapping& m) { return m.gpus_per_stage() > o.max_stage_gpus; });
  result.summary.mappings_considered = static_cast<int>(mappings.size());

  std::vector<PerMapping> per(mappings.size());
  ForEachIndex(o.parallel, mappings.size(), [&](size_t i) {
    const perf::Mapping& m = mappings[i];
    auto step = perf::StepModel::Create(model, system, precision, m, backend, o.speculation);
    PerMapping& out = per[i];
    if (!step) {
      out.tally.Reject(Infeasible::kPrecisionUnsupported);
      return;
    }
    if (m.pp <= o.max_prefill_pp && m.gpus() <= o.max_prefill_gpus) {
      PrefillCandidates(*step, system, o, out.prefill, out.tally);
    }
    if (m.pp <= o.max_decode_pp) {
      DecodeCandidates(*step, system, o, out.decode, out.tally);
      ColocatedCandidates(*step, system, o, out.colocated, out.tally);
    }
  });

  std::vector<PrefillConfig> prefills;
  std::vector<DecodeConfig> decodes;
  std::vector<DesignPoint> colocated;
  for (auto& p : per) {
    tally.Merge(p.tally);
    prefills.insert(prefills.end(), p.prefill.begin(), p.prefill.end());
    decodes.insert(decodes.end(), p.decode.begin(), p.decode.end());
    colocated.insert(colocated.end(), p.colocated.begin(), p.colocated.end());
  }
  per.clear();

  std::vector<PrefillConfig> front = PrefillFront(prefills);
  std::vector<PairResult> pairs(decodes.size());
  std::vector<Tally> pair_tally(decodes.size());
  std::stable_sort(front.begin(), front.end(), [](const PrefillConfig& a, const PrefillConfig& b) {
    return a.requests_per_s_per_gpu() > b.requests_per_s_per_gpu();
  });
  ForEachIndex(o.parallel, decodes.size(), [&](size_t i) {
    pairs[i] = PairDecode(decodes[i], front, system, model, o, pair_tally[i]);
  });
  std::vector<DesignPoint> disagg, disagg_sla;
  for (size_t i = 0; i < decodes.size(); ++i) {
    tally.Merge(pair_tally[i]);
    if (pairs[i].best) disagg.push_back(*pairs[i].best);
    if (pairs[i].best_sla) disagg_sla.push_back(*pairs[i].best_sla);
  }

  result.colocated = Front(colocated);
  result.disaggregated = Front(disagg);
  if (o.sla_ttl_max || o.sla_ftl_max) {
    result.best_colocated_under_sla = BestUnderSla(colocated, o);
    result.best_disaggregated_under_sla = BestUnderSla(disagg_sla, o);
  }
  result.summary.points_evaluated = tally.evaluated;
  result.summary.points_feasible = tally.feasible;
  result.summary.points_pruned = tally.pruned;
  result.summary.prefill_configs = static_cast<long long>(prefills.size());
  result.summary.prefill_front = static_cast<long long>(front.size());
  result.summary.decode_configs = static_cast<long long>(decodes.size());
  result.summary.colocated_configs = static_cast<long long>(colocated.size());
  result.summary.infeasible = tally.infeasible;
  result.summary.fastest_ftl = tally.fastest_ftl;
  result.summary.fastest_ftl_config = tally.fastest_ftl_config;
  result.summary.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace disagg::search
