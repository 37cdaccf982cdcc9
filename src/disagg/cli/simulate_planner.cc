#include "disagg/cli/simulate_planner.h"

#include <tbb/parallel_for.h>

#include <charconv>
#include <cmath>
#include <cstdio>

#include "disagg/base/files.h"
#include "disagg/base/units.h"
#include "disagg/report/planner_report.h"
#include "disagg/report/sim_report.h"
#include "disagg/search/frontier.h"

namespace disagg::cli {
namespace {

double DurationFlag(const std::string& text, const char* flag, bool allow_zero) {
  double v = Unwrap(ParseDuration(text, flag));
  if (v < 0 || (!allow_zero && v <= 0)) {
    DieF("{}: must be {}, got '{}'", flag, allow_zero ? "at least 0" : "positive", text);
  }
  return v;
}

int64_t LocalPrefillFlag(const std::string& text) {
  if (text == "off") return 0;
  if (text == "auto") return sim::PlannerOptions::kAuto;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 1) {
    DieF("--local-prefill: expected off, auto or a prompt length in tokens >= 1, got '{}'", text);
  }
  return v;
}

std::vector<sim::PolicyChoice> Policies(const PlannerFlags& f) {
  if (!f.planner.empty() && !f.compare.empty()) DieF("--planner and --compare: give one");
  std::vector<sim::PolicyChoice> out;
  std::string list = f.planner.empty() ? f.compare : f.planner;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string name =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto p = sim::ParsePolicy(name);
    if (!p) DieF("{}: {}", f.planner.empty() ? "--compare" : "--planner", p.error().message);
    for (const auto& q : out) {
      if (q.name == p->name) DieF("--compare: policy '{}' given twice", name);
    }
    out.push_back(*p);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!f.planner.empty() && out.size() > 1)
    DieF("--planner: one policy; use --compare for several");
  return out;
}

// The frontier's best disaggregated design point for the average traffic
// (under the SLA when one is given, within the budget).
sim::Deployment FrontierDeployment(const Specs& specs, const PlannedRun& run, int budget) {
  search::FrontierOptions o;
  o.workload = {std::max(1.0, run.average_isl), std::max(1.0, run.average_osl)};
  const auto& c = run.config;
  if (std::isfinite(c.ftl_max)) {
    o.ftl_max = c.ftl_max;
    o.sla_ftl_max = c.ftl_max;
  }
  if (std::isfinite(c.ttl_max)) o.sla_ttl_max = c.ttl_max;
  o.gpu_budget = budget;
  o.speculation = specs.speculation;
  auto fr = search::RunFrontier(specs.model, specs.system, specs.precision, specs.backend, o);
  const search::DesignPoint* best = nullptr;
  if (fr.best_disaggregated_under_sla) {
    best = &*fr.best_disaggregated_under_sla;
  } else {
    for (const auto& p : fr.disaggregated) {
      if (best == nullptr || p.tokens_per_s_per_gpu > best->tokens_per_s_per_gpu) best = &p;
    }
  }
  if (best == nullptr && (o.sla_ftl_max || o.sla_ttl_max)) {
    // Nothing meets the limits at the average traffic: size the pools for
    // throughput and let the simulation show how often the limits are met.
    std::fprintf(stderr,
                 "planner: no disaggregated point meets the latency limits at the "
                 "average traffic; choosing pools without them\n");
    o.ftl_max = 10;
    o.sla_ftl_max.reset();
    o.sla_ttl_max.reset();
    fr = search::RunFrontier(specs.model, specs.system, specs.precision, specs.backend, o);
    for (const auto& p : fr.disaggregated) {
      if (best == nullptr || p.tokens_per_s_per_gpu > best->tokens_per_s_per_gpu) best = &p;
    }
  }
  if (best == nullptr) {
    DieF(
        "--gpus: no disaggregated deployment of {} on {} fits {} GPUs; give --prefill and "
        "--decode, or a larger budget",
        specs.model.name, specs.system.name, budget);
  }
  sim::Deployment d;
  d.disaggregated = true;
  d.speculation = specs.speculation;
  d.prefill.mapping = best->prefill.mapping;
  d.prefill.instances = best->counts.prefill;
  d.prefill.max_batch = best->prefill.batch;
  d.prefill.chunk =
      best->prefill.chunk < o.workload.isl ? static_cast<int64_t>(best->prefill.chunk) : 0;
  d.decode.mapping = best->decode.mapping;
  d.decode.instances = best->counts.decode;
  d.decode.max_batch = best->decode.batch;
  std::fprintf(stderr,
               "planner: pools from the frontier's best disaggregated point for the "
               "average traffic (ISL %.0f, OSL %.0f): prefill %s batch %d, decode %s batch %d\n",
               o.workload.isl, o.workload.osl, d.prefill.mapping.Label().c_str(),
               d.prefill.max_batch, d.decode.mapping.Label().c_str(), d.decode.max_batch);
  return d;
}

}  // namespace

void AddPlannerFlags(CLI::App* cmd, PlannerFlags& f) {
  cmd->add_option("--planner", f.planner,
                  "elastic planning: static, static-best or dynamic (+local: short prompts "
                  "prefill on decode instances)");
  cmd->add_option("--compare", f.compare, "policies side by side, e.g. static,static-best,dynamic");
  cmd->add_option("--gpus", f.gpus, "planner GPU budget (default: the deployment's GPUs)");
  cmd->add_option("--plan-interval", f.interval, "planner decision interval")
      ->capture_default_str();
  cmd->add_option("--reconfig-delay", f.reconfig_delay,
                  "time before a new or re-purposed instance serves")
      ->capture_default_str();
  cmd->add_option("--role-flip-delay", f.role_flip_delay,
                  "instead, when its GPUs already hold the weights it needs")
      ->capture_default_str();
  cmd->add_option("--local-prefill", f.local_prefill,
                  "prefill prompts of at most N tokens on the decode instance: off, auto or N")
      ->capture_default_str();
  cmd->add_option("--headroom", f.headroom, "dynamic: capacity per unit of predicted demand")
      ->capture_default_str();
  cmd->add_option("--ewma", f.ewma, "dynamic: weight of the newest interval in the rate average")
      ->capture_default_str();
  cmd->add_option("--plot", f.plot, "planner runs: write the timeline figure (SVG)");
}

void RunPlanned(const PlannerFlags& f, PlannedRun run, const Specs& specs) {
  auto policies = Policies(f);
  if (f.gpus < 0) DieF("--gpus: must be positive, got {}", f.gpus);
  if (!(f.headroom >= 1 && f.headroom <= 10)) {
    DieF("--headroom: expected a factor in [1, 10], got {}", f.headroom);
  }
  if (!(f.ewma > 0 && f.ewma <= 1)) DieF("--ewma: expected a weight in (0, 1], got {}", f.ewma);
  // A planned fleet is disaggregated: its pools' replay is what was measured.
  const auto accuracy = CiteAccuracy(specs.model.name, specs.system.name, specs.backend, "disagg");
  sim::PlannerOptions base;
  base.interval = DurationFlag(f.interval, "--plan-interval", false);
  base.reconfig_delay = DurationFlag(f.reconfig_delay, "--reconfig-delay", true);
  base.role_flip_delay = DurationFlag(f.role_flip_delay, "--role-flip-delay", true);
  const int64_t local = LocalPrefillFlag(f.local_prefill);
  base.headroom = f.headroom;
  base.ewma_weight = f.ewma;
  base.average_rate = run.average_rate;
  base.average_isl = run.average_isl;
  base.average_osl = run.average_osl;
  base.ftl_max = run.config.ftl_max;
  base.ttl_max = run.config.ttl_max;
  if (!run.deployment_given) {
    if (f.gpus == 0) DieF("--gpus: required with a planner when no --prefill/--decode is given");
    run.config.deployment = FrontierDeployment(specs, run, f.gpus);
  }
  const sim::Deployment& d = run.config.deployment;
  if (!d.disaggregated) DieF("--mode: the planner plans disaggregated deployments (--mode disagg)");
  const int budget = f.gpus > 0 ? f.gpus : d.gpus();
  base.gpu_budget = budget;
  const int gp = d.prefill.mapping.gpus(), gd = d.decode.mapping.gpus();
  if (gp + gd > budget) {
    DieF(
        "--gpus: a budget of {} GPUs cannot hold one prefill ({} GPUs) and one decode ({} GPUs) "
        "instance",
        budget, gp, gd);
  }
  if (run.counts_given) {
    base.static_prefill = d.prefill.instances;
    base.static_decode = d.decode.instances;
    if (d.gpus() > budget) {
      DieF("--gpus: the deployment given ({} GPUs) exceeds the budget of {} GPUs", d.gpus(),
           budget);
    }
  }
  if (!run.timeline_out.empty()) Unwrap(CheckWritable(run.timeline_out, "--timeline-out"));
  if (!f.plot.empty()) Unwrap(CheckWritable(f.plot, "--plot"));

  // Every policy replays the same requests from a fresh source.
  std::vector<std::unique_ptr<sim::RequestSource>> sources;
  std::vector<sim::SimConfig> configs;
  for (const auto& p : policies) {
    sim::SimConfig c = run.config;
    c.planner = base;
    c.planner->policy = p.policy;
    if (p.prefill > 0) {
      c.planner->static_prefill = p.prefill;
      c.planner->static_decode = p.decode;
      if (p.prefill * gp + p.decode * gd > budget) {
        DieF("--compare: policy '{}' needs {} GPUs, above the budget of {}", p.name,
             p.prefill * gp + p.decode * gd, budget);
      }
    }
    if (p.local)
      c.planner->local_prefill = local != 0 ? local : sim::PlannerOptions::kAuto;
    else
      c.planner->local_prefill = local;
    sources.push_back(run.make_source());
    c.source = sources.back().get();
    c.requests_out = nullptr;
    c.timeline_out = nullptr;
    c.progress = nullptr;
    configs.push_back(std::move(c));
  }
  std::vector<Result<sim::SimResult>> results(configs.size(), Fail("not run"));
  tbb::parallel_for(size_t{0}, configs.size(),
                    [&](size_t i) { results[i] = sim::Simulate(configs[i]); });
  std::vector<report::PolicyRun> runs;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) Die(results[i].error());
    runs.push_back({policies[i].name, std::move(*results[i])});
  }
  report::PlannerContext ctx;
  ctx.title = fmt::format("{} on {}, {}: {}", specs.model.name, specs.system.name,
                          specs.precision.name, run.workload_name);
  ctx.prefill_gpus = gp;
  ctx.decode_gpus = gd;
  ctx.ftl_max = run.config.ftl_max;
  ctx.ttl_max = run.config.ttl_max;
  if (!run.timeline_out.empty()) {
    Unwrap(WriteFileAtomically(run.timeline_out, report::PlannerTimelineCsv(runs, ctx)));
  }
  if (!f.plot.empty()) Unwrap(WriteFileAtomically(f.plot, report::PlannerSvg(runs, ctx)));
  if (policies.size() == 1 && f.compare.empty()) {
    report::SimContext sc{specs.model.name,
                          specs.system.name,
                          specs.precision.name,
                          fmt::format("{} planner, {} GPUs: prefill {} / decode {}", runs[0].name,
                                      budget, d.prefill.mapping.Label(), d.decode.mapping.Label()),
                          run.config.ftl_max,
                          run.config.ttl_max};
    if (run.json) {
      Json j = report::SimJson(runs[0].result, sc);
      j["planner"] = runs[0].name;
      j["measured_accuracy"] = accuracy.ToJson();
      std::fputs((j.dump(2) + "\n").c_str(), stdout);
    } else {
      std::fputs(
          (report::SimText(runs[0].result, sc) + "\n" + accuracy.Text("Measured accuracy")).c_str(),
          stdout);
    }
    return;
  }
  if (run.json) {
    Json j = report::CompareJson(runs, ctx);
    j["gpu_budget"] = budget;
    j["prefill_mapping"] = d.prefill.mapping.Label();
    j["decode_mapping"] = d.decode.mapping.Label();
    j["measured_accuracy"] = accuracy.ToJson();
    std::fputs((j.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(report::CompareText(runs, ctx).c_str(), stdout);
    std::fputs(fmt::format("\n  budget {} GPUs; prefill instances {}, decode instances {}\n",
                           budget, d.prefill.mapping.Label(), d.decode.mapping.Label())
                   .c_str(),
               stdout);
    std::fputs(("\n" + accuracy.Text("Measured accuracy")).c_str(), stdout);
  }
}

}  // namespace disagg::cli
