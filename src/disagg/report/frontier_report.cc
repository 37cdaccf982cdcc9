#include "disagg/report/frontier_report.h"

#include <algorithm>
#include <cmath>

#include "disagg/report/svg_plot.h"
#include "disagg/report/table.h"
#include "disagg/search/frontier.h"

namespace disagg::report {
namespace {

using search::DesignPoint;
using search::Policy;

Json MappingJson(const perf::Mapping& m) {
  return Json{{"tp", m.tp},      {"pp", m.pp},         {"ep", m.moe_ep},
              {"dp_attn", m.dp}, {"moe_tp", m.moe_tp}, {"gpus", m.gpus()}};
}

std::string ConfigText(const DesignPoint& p) {
  switch (p.policy) {
    case Policy::kPiggyback:
      return fmt::format("{} batch {:.0f} chunk {:.0f}", p.mapping.Label(), p.batch, p.chunk);
    case Policy::kPrefillFirst:
      return fmt::format("{} batch {:.0f} prefill {}", p.mapping.Label(), p.batch, p.prefill_batch);
    case Policy::kDisaggregated:
      return fmt::format("{}x P[{} b{}{}] + {}x D[{} b{}]", p.counts.prefill,
                         p.prefill.mapping.Label(), p.prefill.batch,
                         p.prefill.mapping.pp > 1 && p.prefill.chunk > 0
                             ? fmt::format(" c{:.0f}", p.prefill.chunk)
                             : "",
                         p.counts.decode, p.decode.mapping.Label(), p.decode.batch);
  }
  return "";
}

// At most `limit` rows, evenly spread, always keeping both ends.
std::vector<size_t> Thin(size_t n, size_t limit) {
  std::vector<size_t> idx;
  if (n <= limit) {
    for (size_t i = 0; i < n; ++i) idx.push_back(i);
    return idx;
  }
  for (size_t k = 0; k < limit; ++k) idx.push_back(k * (n - 1) / (limit - 1));
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  return idx;
}

}  // namespace

std::vector<SpeedupRow> SpeedupTable(const search::FrontierResult& r, int levels) {
  std::vector<SpeedupRow> rows;
  if (r.colocated.empty() || r.disaggregated.empty() || levels < 2) return rows;
  double lo = std::max(r.colocated.front().tokens_per_s_per_user,
                       r.disaggregated.front().tokens_per_s_per_user);
  double hi = std::max(r.colocated.back().tokens_per_s_per_user,
                       r.disaggregated.back().tokens_per_s_per_user);
  if (!(hi > lo)) hi = lo * 1.01;
  for (int i = 0; i < levels; ++i) {
    double x = lo * std::pow(hi / lo, static_cast<double>(i) / (levels - 1));
    SpeedupRow row;
    row.tokens_per_s_per_user = x;
    row.colocated = search::BestThroughputAt(r.colocated, x);
    row.disaggregated = search::BestThroughputAt(r.disaggregated, x);
    rows.push_back(row);
  }
  return rows;
}

Json DesignPointJson(const DesignPoint& p) {
  Json j{{"tokens_per_s_per_user", p.tokens_per_s_per_user},
         {"tokens_per_s_per_gpu", p.tokens_per_s_per_gpu},
         {"ftl_s", p.ftl},
         {"ttl_s", p.ttl},
         {"gpus", p.gpus},
         {"policy", search::PolicyName(p.policy)}};
  if (p.policy == Policy::kDisaggregated) {
    Json pre = MappingJson(p.prefill.mapping);
    pre["batch"] = p.prefill.batch;
    pre["chunk"] = p.prefill.chunk;
    pre["ftl_compute_s"] = p.prefill.ftl_compute;
    pre["requests_per_s"] = p.prefill.requests_per_s;
    Json dec = MappingJson(p.decode.mapping);
    dec["batch"] = p.decode.batch;
    dec["requests_per_s"] = p.decode.requests_per_s;
    j["prefill"] = pre;
    j["decode"] = dec;
    j["prefill_instances"] = p.counts.prefill;
    j["decode_instances"] = p.counts.decode;
    j["ctx_gen_ratio"] = p.ctx_gen_ratio;
    j["ctx_gen_ratio_used"] = p.ctx_gen_ratio_used;
    j["requests_per_s"] = p.counts.requests_per_s;
    j["kv_egress_bytes_per_s_per_gpu"] = p.kv_egress_bytes_per_s_per_gpu;
    j["kv_ingress_bytes_per_s_per_gpu"] = p.kv_ingress_bytes_per_s_per_gpu;
    j["kv_link_bytes_per_s_per_gpu"] = p.kv_link_bytes_per_s_per_gpu;
    j["kv_exposed_s"] = p.kv_exposed_s;
  } else {
    Json m = MappingJson(p.mapping);
    m["batch"] = p.batch;
    j["mapping"] = m;
    j["batch"] = p.batch;
    if (p.policy == Policy::kPiggyback) j["chunk"] = p.chunk;
    if (p.policy == Policy::kPrefillFirst) j["prefill_batch"] = p.prefill_batch;
  }
  return j;
}

Json FrontierJson(const search::FrontierResult& r, const FrontierContext& c) {
  Json reasons = Json::object();
  for (int i = 1; i < parallel::kNumInfeasible; ++i) {
    if (r.summary.infeasible[i] > 0) {
      reasons[std::string(parallel::InfeasibleName(static_cast<parallel::Infeasible>(i)))] =
          r.summary.infeasible[i];
    }
  }
  Json out;
  out["inputs"] = Json{{"model", c.model},
                       {"system", c.system},
                       {"precision", c.precision},
                       {"backend", c.backend},
                       {"isl", c.isl},
                       {"osl", c.osl},
                       {"ftl_max_s", c.ftl_max},
                       {"gpu_budget", c.gpu_budget},
                       {"mtp", c.mtp},
                       {"mtp_acceptance", c.mtp_acceptance}};
  out["summary"] = Json{{"points_evaluated", r.summary.points_evaluated},
                        {"points_feasible", r.summary.points_feasible},
                        {"points_pruned", r.summary.points_pruned},
                        {"infeasible_by_reason", reasons},
                        {"mappings", r.summary.mappings_considered},
                        {"elapsed_s", r.summary.elapsed_s}};
  Json co = Json::array(), di = Json::array();
  for (const auto& p : r.colocated) co.push_back(DesignPointJson(p));
  for (const auto& p : r.disaggregated) di.push_back(DesignPointJson(p));
  out["colocated"] = co;
  out["disaggregated"] = di;
  Json sp = Json::array();
  for (const auto& row : SpeedupTable(r)) {
    sp.push_back(Json{{"tokens_per_s_per_user", row.tokens_per_s_per_user},
                      {"colocated_tokens_per_s_per_gpu", row.colocated},
                      {"disaggregated_tokens_per_s_per_gpu", row.disaggregated},
                      {"ratio", row.ratio()}});
  }
  out["speedup"] = sp;
  if (r.best_colocated_under_sla || r.best_disaggregated_under_sla) {
    Json sla = Json::object();
    sla["colocated"] =
        r.best_colocated_under_sla ? DesignPointJson(*r.best_colocated_under_sla) : Json(nullptr);
    sla["disaggregated"] = r.best_disaggregated_under_sla
                               ? DesignPointJson(*r.best_disaggregated_under_sla)
                               : Json(nullptr);
    if (r.best_colocated_under_sla && r.best_disaggregated_under_sla) {
      sla["ratio"] = r.best_disaggregated_under_sla->tokens_per_s_per_gpu /
                     r.best_colocated_under_sla->tokens_per_s_per_gpu;
    }
    out["best_under_sla"] = sla;
  }
  return out;
}

std::string FrontierCsv(const search::FrontierResult& r) {
  std::string csv =
      "mode,policy,tokens_per_s_per_user,tokens_per_s_per_gpu,ftl_s,ttl_s,gpus,mapping,batch,chunk,"
      "prefill_batch,prefill_mapping,prefill_instances,decode_mapping,decode_batch,"
      "decode_instances,ctx_gen_ratio,kv_egress_bytes_per_s_per_gpu,"
      "kv_ingress_bytes_per_s_per_gpu\n";
  for (const auto* list : {&r.colocated, &r.disaggregated}) {
    for (const auto& p : *list) {
      bool dis = p.policy == Policy::kDisaggregated;
      csv += fmt::format(
          "{},{},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g}\n",
          dis ? "disaggregated" : "colocated", search::PolicyName(p.policy),
          p.tokens_per_s_per_user, p.tokens_per_s_per_gpu, p.ftl, p.ttl, p.gpus,
          dis ? "" : p.mapping.Label(), dis ? "" : fmt::format("{:.0f}", p.batch),
          p.policy == Policy::kPiggyback
              ? fmt::format("{:.0f}", p.chunk)
              : (dis && p.prefill.mapping.pp > 1 ? fmt::format("{:.0f}", p.prefill.chunk) : ""),
          dis ? std::to_string(p.prefill.batch)
              : (p.prefill_batch > 0 ? std::to_string(p.prefill_batch) : ""),
          dis ? p.prefill.mapping.Label() : "", dis ? std::to_string(p.counts.prefill) : "",
          dis ? p.decode.mapping.Label() : "", dis ? std::to_string(p.decode.batch) : "",
          dis ? std::to_string(p.counts.decode) : "", dis ? p.ctx_gen_ratio : 0.0,
          dis ? p.kv_egress_bytes_per_s_per_gpu : 0.0,
          dis ? p.kv_ingress_bytes_per_s_per_gpu : 0.0);
    }
  }
  return csv;
}

std::string FrontierText(const search::FrontierResult& r, const FrontierContext& c) {
  const auto& s = r.summary;
  std::string out = fmt::format(
      "{} on {}, {}, {}{}: ISL {:.0f}, OSL {:.0f}, FTL <= {}{}\n", c.model, c.system, c.precision,
      c.backend, c.mtp > 0 ? fmt::format(", MTP {} (acceptance {})", c.mtp, c.mtp_acceptance) : "",
      c.isl, c.osl, Seconds(c.ftl_max),
      c.gpu_budget > 0 ? fmt::format(", budget {} GPUs", c.gpu_budget) : "");
  long long infeasible = s.points_evaluated - s.points_feasible;
  out += fmt::format(
      "{} design points evaluated in {:.2f} s ({} mappings), {} feasible, {} "
      "infeasible ({:.0f}%)",
      Thousands(s.points_evaluated), s.elapsed_s, s.mappings_considered,
      Thousands(s.points_feasible), Thousands(infeasible),
      s.points_evaluated > 0 ? 100.0 * infeasible / s.points_evaluated : 0.0);
  std::string reasons;
  for (int i = 1; i < parallel::kNumInfeasible; ++i) {
    if (s.infeasible[i] == 0) continue;
    reasons += fmt::format("{}{:.0f}% {}", reasons.empty() ? "" : ", ",
                           100.0 * s.infeasible[i] / s.points_evaluated,
                           parallel::InfeasibleText(static_cast<parallel::Infeasible>(i)));
  }
  out += reasons.empty() ? "\n" : ": " + reasons + "\n";
  if (s.points_pruned > 0) {
    out += fmt::format(
        "{} more prefill/decode pairs skipped: provably no better than a pair "
        "already found\n",
        Thousands(s.points_pruned));
  }

  auto table = [&](const std::vector<DesignPoint>& front, const char* title) {
    out += fmt::format("\n{} frontier ({} points{})\n", title, front.size(),
                       front.size() > 24 ? ", 24 shown; all in --csv/--json" : "");
    bool dis = !front.empty() && front[0].policy == Policy::kDisaggregated;
    std::vector<std::string> header = {"tok/s/user", "tok/s/GPU", "FTL", "TTL", "GPUs"};
    if (dis) {
      for (const char* h : {"prefill (x instances)", "decode (y instances)", "ctx:gen",
                            "KV egress/GPU", "KV ingress/GPU"}) {
        header.push_back(h);
      }
    } else {
      for (const char* h : {"policy", "configuration"}) header.push_back(h);
    }
    Table t(header);
    for (size_t i : Thin(front.size(), 24)) {
      const auto& p = front[front.size() - 1 - i];  // highest throughput first
      std::vector<std::string> row = {Sig3(p.tokens_per_s_per_user), Sig3(p.tokens_per_s_per_gpu),
                                      Seconds(p.ftl), Seconds(p.ttl), std::to_string(p.gpus)};
      if (dis) {
        row.push_back(fmt::format("{} x {} b{}{}", p.counts.prefill, p.prefill.mapping.Label(),
                                  p.prefill.batch,
                                  p.prefill.chunk > 0 && p.prefill.chunk < c.isl
                                      ? fmt::format(" chunk {:.0f}", p.prefill.chunk)
                                      : ""));
        row.push_back(
            fmt::format("{} x {} b{}", p.counts.decode, p.decode.mapping.Label(), p.decode.batch));
        row.push_back(Sig3(p.ctx_gen_ratio));
        row.push_back(ByteRate(p.kv_egress_bytes_per_s_per_gpu));
        row.push_back(ByteRate(p.kv_ingress_bytes_per_s_per_gpu));
      } else {
        row.push_back(search::PolicyName(p.policy));
        row.push_back(ConfigText(p));
      }
      t.AddRow(row);
    }
    out += t.Render("  ");
  };
  table(r.colocated, "Co-located");
  table(r.disaggregated, "Disaggregated");

  auto rows = SpeedupTable(r);
  if (!rows.empty()) {
    out += "\nDisaggregated vs co-located, best throughput at each interactivity\n";
    Table t({"tok/s/user >=", "co-located tok/s/GPU", "disaggregated tok/s/GPU", "ratio"});
    double best_ratio = 0, best_at = 0;
    double win_lo = 0, win_hi = 0;
    for (const auto& row : rows) {
      std::string ratio =
          row.colocated > 0 && row.disaggregated > 0
              ? fmt::format("{:.2f}x", row.ratio())
              : (row.disaggregated > 0 ? "only disagg"
                                       : (row.colocated > 0 ? "only co-located" : "-"));
      t.AddRow(
          {Sig3(row.tokens_per_s_per_user), Sig3(row.colocated), Sig3(row.disaggregated), ratio});
      if (row.colocated > 0 && row.ratio() > best_ratio) {
        best_ratio = row.ratio();
        best_at = row.tokens_per_s_per_user;
      }
      if (row.disaggregated > row.colocated) {
        if (win_lo == 0) win_lo = row.tokens_per_s_per_user;
        win_hi = row.tokens_per_s_per_user;
      }
    }
    out += t.Render("  ");
    if (win_lo > 0) {
      out += fmt::format(
          "  Disaggregation wins from {} to {} tokens/s/user, by up to {:.2f}x "
          "(at {}).\n",
          Sig3(win_lo), Sig3(win_hi), best_ratio, Sig3(best_at));
    } else {
      out += "  Disaggregation does not beat co-location at any interactivity here.\n";
    }
  }
  if (r.best_colocated_under_sla || r.best_disaggregated_under_sla) {
    out += "\nBest design point under the SLA\n";
    auto line = [&](const char* mode, const std::optional<DesignPoint>& p) {
      if (!p) {
        out += fmt::format("  {:<14} none meets the SLA\n", mode);
      } else {
        out += fmt::format("  {:<14} {} tok/s/GPU at {} tok/s/user, FTL {}, TTL {}: {}\n", mode,
                           Sig3(p->tokens_per_s_per_gpu), Sig3(p->tokens_per_s_per_user),
                           Seconds(p->ftl), Seconds(p->ttl), ConfigText(*p));
      }
    };
    line("co-located", r.best_colocated_under_sla);
    line("disaggregated", r.best_disaggregated_under_sla);
    if (r.best_colocated_under_sla && r.best_disaggregated_under_sla) {
      out += fmt::format("  disaggregated / co-located: {:.2f}x\n",
                         r.best_disaggregated_under_sla->tokens_per_s_per_gpu /
                             r.best_colocated_under_sla->tokens_per_s_per_gpu);
    }
  }
  return out;
}

std::string FrontierSvg(const search::FrontierResult& r, const FrontierContext& c, bool log_scale) {
  Chart chart;
  chart.title = fmt::format("{} on {} ({}), ISL {:.0f} / OSL {:.0f}", c.model, c.system,
                            c.precision, c.isl, c.osl);
  chart.subtitle = fmt::format("Pareto frontiers under FTL <= {}; throughput over every GPU used",
                               Seconds(c.ftl_max));
  chart.x_label = "interactivity (tokens/s/user = 1 / TTL)";
  chart.y_label = "throughput (output tokens/s/GPU)";
  chart.log_x = chart.log_y = log_scale;
  auto series = [](const std::vector<DesignPoint>& front, const char* label, const char* color) {
    Series s;
    s.label = label;
    s.color = color;
    s.step = true;
    for (const auto& p : front)
      s.points.push_back({p.tokens_per_s_per_user, p.tokens_per_s_per_gpu});
    // Staircase from the highest throughput (left) to the highest interactivity.
    return s;
  };
  // Frontier points ascend in interactivity and descend in throughput; draw
  // each as the best throughput reachable at >= that interactivity.
  chart.series.push_back(series(r.colocated, "co-located", "#1f77b4"));
  chart.series.push_back(series(r.disaggregated, "disaggregated", "#d62728"));
  return RenderSvg(chart);
}

}  // namespace disagg::report
