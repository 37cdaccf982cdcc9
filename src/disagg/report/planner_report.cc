#include "disagg/report/planner_report.h"

#include <fmt/format.h>

#include <cmath>

#include "disagg/report/sim_report.h"
#include "disagg/report/svg_plot.h"
#include "disagg/report/table.h"

namespace disagg::report {
namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

const char* Color(size_t i) { return kColors[i % std::size(kColors)]; }

double MeanGpus(const sim::SimResult& r) {
  // GPU-hours run from t = 0 to the last request's end.
  return r.end > 0 ? r.gpu_hours * 3600 / r.end : 0;
}

}  // namespace

std::string PlannerTimelineCsv(const std::vector<PolicyRun>& runs, const PlannerContext& c) {
  std::string out =
      "policy,time_s,arrival_rps,planned_rps,prefill_instances,decode_instances,prefill_gpus,"
      "decode_gpus,starting,draining,gpus_held,goodput_rps,sla_attainment,decode_batch,"
      "local_threshold\n";
  for (const auto& run : runs) {
    for (const auto& s : run.result.planner_timeline) {
      out += fmt::format(
          "{},{:.3f},{:.4f},{:.4f},{},{},{},{},{},{},{},{:.4f},{},{},{}\n", run.name, s.time,
          s.arrival_rate, s.planned_rate, s.prefill_instances, s.decode_instances,
          s.prefill_instances * c.prefill_gpus, s.decode_instances * c.decode_gpus, s.starting,
          s.draining, s.gpus, s.goodput_rps,
          std::isnan(s.sla_attainment) ? "" : fmt::format("{:.4f}", s.sla_attainment),
          s.decode_batch, s.local_threshold);
    }
  }
  return out;
}

std::string PlannerSvg(const std::vector<PolicyRun>& runs, const PlannerContext& c) {
  const int width = 900, height = 330;
  auto minutes = [](double t) { return t / 60; };
  // Three panels of one size over the same time axis.
  auto panel = [&](std::string title, std::string subtitle, std::string y_label) {
    Chart chart;
    chart.title = std::move(title);
    chart.subtitle = std::move(subtitle);
    chart.x_label = "time (min)";
    chart.y_label = std::move(y_label);
    chart.width = width;
    chart.height = height;
    return chart;
  };
  // Traffic: the arrivals (identical for every policy on one workload) and
  // the rate each dynamic fleet was sized for.
  Chart traffic =
      panel(c.title, "traffic: arrivals per interval and the rate each fleet was sized for",
            "requests/s");
  if (!runs.empty()) {
    Series s{"arrivals", "#444444", {}, true, false, false, 0};
    for (const auto& p : runs[0].result.planner_timeline) {
      s.points.push_back({minutes(p.time), p.arrival_rate});
    }
    traffic.series.push_back(s);
  }
  Chart pools = panel("pool sizes", "GPUs serving prefill (solid) and decode (dashed)", "GPUs");
  Chart sla = panel("SLA attainment",
                    "share of the requests finishing in each interval that met both limits",
                    "SLA attainment (%)");
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& run = runs[i];
    Series planned{run.name + " sized for", Color(i), {}, true, false, true, 0};
    Series pre{run.name + " prefill", Color(i), {}, true, false, false, 0};
    Series dec{run.name + " decode", Color(i), {}, true, false, true, 0};
    Series att{run.name, Color(i), {}, false, true, false, 0};
    for (const auto& p : run.result.planner_timeline) {
      const double t = minutes(p.time);
      if (p.planned_rate > 0) planned.points.push_back({t, p.planned_rate});
      pre.points.push_back({t, double(p.prefill_instances * c.prefill_gpus)});
      dec.points.push_back({t, double(p.decode_instances * c.decode_gpus)});
      if (!std::isnan(p.sla_attainment)) att.points.push_back({t, 100 * p.sla_attainment});
    }
    if (run.name.starts_with("dynamic")) traffic.series.push_back(planned);
    pools.series.push_back(pre);
    pools.series.push_back(dec);
    sla.series.push_back(att);
  }
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, 3 * height);
  int y = 0;
  for (const Chart* chart : {&traffic, &pools, &sla}) {
    out += fmt::format("<g transform=\"translate(0,{})\">\n{}</g>\n", y, RenderSvg(*chart));
    y += height;
  }
  out += "</svg>\n";
  return out;
}

std::string CompareText(const std::vector<PolicyRun>& runs, const PlannerContext& c) {
  std::string out = c.title + "\n";
  std::string limits;
  if (std::isfinite(c.ftl_max)) limits += "FTL <= " + Seconds(c.ftl_max);
  if (std::isfinite(c.ttl_max))
    limits += (limits.empty() ? "" : ", ") + ("TTL <= " + Seconds(c.ttl_max));
  out +=
      fmt::format("SLA: {}\n\n", limits.empty() ? "none (every finished request counts)" : limits);
  Table t({"policy", "goodput req/s", "SLA met", "GPU-hours", "mean GPUs", "reconfig.",
           "local prefills", "FTL p90", "TTL p90", "unfinished"});
  for (const auto& run : runs) {
    const auto& r = run.result;
    t.AddRow({run.name, Sig3(r.goodput_rps), Percent(r.sla_attainment), Sig3(r.gpu_hours),
              Sig3(MeanGpus(r)), std::to_string(r.reconfigurations),
              Thousands(static_cast<double>(r.local_prefills)), Seconds(r.ftl.p90),
              Seconds(r.ttl.p90), Thousands(static_cast<double>(r.requests_unfinished))});
  }
  out += t.Render("  ");
  return out;
}

Json CompareJson(const std::vector<PolicyRun>& runs, const PlannerContext& c) {
  Json policies = Json::object();
  auto limit = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  for (const auto& run : runs) {
    const auto& r = run.result;
    policies[run.name] = Json{{"goodput_rps", r.goodput_rps},
                              {"sla_attainment", r.sla_attainment},
                              {"gpu_hours", r.gpu_hours},
                              {"mean_gpus", MeanGpus(r)},
                              {"max_gpus_held", r.max_gpus_held},
                              {"reconfigurations", r.reconfigurations},
                              {"local_prefills", r.local_prefills},
                              {"requests_completed", r.requests_completed},
                              {"requests_unfinished", r.requests_unfinished},
                              {"tokens_per_s_per_gpu", r.tokens_per_s_per_gpu},
                              {"ftl_s", DistributionJson(r.ftl)},
                              {"ttl_s", DistributionJson(r.ttl)},
                              {"elapsed_wall_s", r.elapsed_wall_s}};
  }
  return Json{{"title", c.title},
              {"ftl_max_s", limit(c.ftl_max)},
              {"ttl_max_s", limit(c.ttl_max)},
              {"policies", policies}};
}

}  // namespace disagg::report
