#include "disagg/report/sim_report.h"

#include <cmath>

#include "disagg/report/table.h"

namespace disagg::report {

Json DistributionJson(const sim::Distribution& d) {
  return Json{{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90},
              {"p99", d.p99},   {"max", d.max}, {"count", d.count}};
}

Json SimJson(const sim::SimResult& r, const SimContext& c) {
  Json pools = Json::array();
  for (const auto& p : r.pools) {
    pools.push_back(Json{{"role", p.role},
                         {"mapping", p.mapping},
                         {"instances", p.instances},
                         {"gpus", p.gpus},
                         {"utilization", p.utilization}});
  }
  auto limit = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  return Json{{"model", c.model},
              {"system", c.system},
              {"precision", c.precision},
              {"deployment", c.deployment},
              {"gpus", r.gpus},
              {"requests_arrived", r.requests_arrived},
              {"requests_completed", r.requests_completed},
              {"requests_unfinished", r.requests_unfinished},
              {"requests_rejected", r.requests_rejected},
              {"requests_warmup", r.requests_warmup},
              {"ftl_s", DistributionJson(r.ftl)},
              {"ttl_s", DistributionJson(r.ttl)},
              {"e2e_s", DistributionJson(r.e2e)},
              {"queue_s", DistributionJson(r.queueing)},
              {"window_s", r.end - r.start},
              {"output_tokens", r.output_tokens},
              {"tokens_per_s", r.tokens_per_s},
              {"tokens_per_s_per_gpu", r.tokens_per_s_per_gpu},
              {"requests_per_s", r.requests_per_s},
              {"goodput_rps", r.goodput_rps},
              {"sla_attainment", r.sla_attainment},
              {"ftl_max_s", limit(c.ftl_max)},
              {"ttl_max_s", limit(c.ttl_max)},
              {"preemptions", r.preemptions},
              {"kv_transfers", r.kv_transfers},
              {"kv_bytes", r.kv_bytes},
              {"pools", pools},
              {"gpu_hours", r.gpu_hours},
              {"max_gpus_held", r.max_gpus_held},
              {"reconfigurations", r.reconfigurations},
              {"local_prefills", r.local_prefills},
              {"events", r.events},
              {"skipped_lines", r.skipped_lines},
              {"elapsed_wall_s", r.elapsed_wall_s}};
}

std::string SimText(const sim::SimResult& r, const SimContext& c) {
  std::string out = fmt::format("{} on {}, {}: {} ({} GPUs)\n", c.model, c.system, c.precision,
                                c.deployment, r.gpus);
  out += fmt::format(
      "{} requests completed, {} unfinished{}{}; {} simulated s in {:.2f} wall s ({} events)\n",
      Thousands(r.requests_completed), Thousands(r.requests_unfinished),
      r.requests_rejected > 0
          ? fmt::format(", {} rejected (too long for the cache)", Thousands(r.requests_rejected))
          : "",
      r.skipped_lines > 0 ? fmt::format(", {} bad trace lines skipped", r.skipped_lines) : "",
      Sig3(r.end - r.start), r.elapsed_wall_s, Thousands(r.events));
  Table t({"metric", "mean", "p50", "p90", "p99", "max"});
  auto row = [&](const char* name, const sim::Distribution& d) {
    t.AddRow(
        {name, Seconds(d.mean), Seconds(d.p50), Seconds(d.p90), Seconds(d.p99), Seconds(d.max)});
  };
  row("FTL (first token)", r.ftl);
  row("TTL (between tokens)", r.ttl);
  row("end to end", r.e2e);
  row("queueing", r.queueing);
  out += "\n";
  out += t.Render("  ");
  out += fmt::format("\n  throughput   {} output tokens/s = {} tokens/s/GPU, {} requests/s\n",
                     Sig3(r.tokens_per_s), Sig3(r.tokens_per_s_per_gpu), Sig3(r.requests_per_s));
  std::string sla;
  if (std::isfinite(c.ftl_max)) sla += fmt::format("FTL <= {}", Seconds(c.ftl_max));
  if (std::isfinite(c.ttl_max)) {
    sla += fmt::format("{}TTL <= {}", sla.empty() ? "" : ", ", Seconds(c.ttl_max));
  }
  out += fmt::format("  goodput      {} requests/s{} ({} of requests)\n", Sig3(r.goodput_rps),
                     sla.empty() ? " (no SLA given: every completed request)" : " meeting " + sla,
                     Percent(r.sla_attainment));
  out += fmt::format("  preemptions  {}\n", Thousands(static_cast<double>(r.preemptions)));
  if (r.kv_transfers > 0) {
    out += fmt::format("  KV moved     {} in {} transfers\n", Bytes(r.kv_bytes),
                       Thousands(static_cast<double>(r.kv_transfers)));
  }
  if (!r.planner_timeline.empty()) {
    out += fmt::format(
        "  fleet        {} GPU-hours, at most {} GPUs held, {} reconfigurations, "
        "{} requests prefilled on decode instances\n",
        Sig3(r.gpu_hours), r.max_gpus_held, r.reconfigurations,
        Thousands(static_cast<double>(r.local_prefills)));
  }
  Table pools({"pool", "mapping", "instances", "GPUs", "busy"});
  for (const auto& p : r.pools) {
    pools.AddRow({p.role, p.mapping, std::to_string(p.instances), std::to_string(p.gpus),
                  Percent(p.utilization)});
  }
  out += "\n";
  out += pools.Render("  ");
  return out;
}

}  // namespace disagg::report
