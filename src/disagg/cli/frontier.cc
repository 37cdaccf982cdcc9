// `disagg frontier`: the study. Co-located vs disaggregated Pareto frontiers.
#include "disagg/search/frontier.h"

#include <cstdio>
#include <string>

#include "disagg/base/files.h"
#include "disagg/base/units.h"
#include "disagg/cli/commands.h"
#include "disagg/cli/common.h"
#include "disagg/report/frontier_report.h"
#include "disagg/report/table.h"

namespace disagg::cli {
namespace {

struct FrontierFlags {
  SpecFlags spec;
  int isl = 0, osl = 0;
  std::string ftl_max = "10s";
  std::string ttl_max;
  int gpus = 0;
  int max_stage_gpus = 64;
  int max_prefill_pp = 32;
  std::string csv, plot;
  bool json = false;
  bool log = false;
  bool serial = false;
};

void RunFrontier(const FrontierFlags& f, bool ftl_given) {
  RequirePositive(f.isl, "--isl");
  RequirePositive(f.osl, "--osl");
  if (f.gpus < 0) DieF("--gpus: must be positive, got {}", f.gpus);
  RequirePositive(f.max_stage_gpus, "--max-instance-gpus");
  RequirePositive(f.max_prefill_pp, "--max-prefill-pp");
  search::FrontierOptions o;
  o.workload = {static_cast<double>(f.isl), static_cast<double>(f.osl)};
  o.ftl_max = Unwrap(ParseDuration(f.ftl_max, "--ftl-max"));
  RequirePositive(o.ftl_max, "--ftl-max");
  if (!f.ttl_max.empty()) {
    o.sla_ttl_max = Unwrap(ParseDuration(f.ttl_max, "--ttl-max"));
    RequirePositive(*o.sla_ttl_max, "--ttl-max");
  }
  if (ftl_given) o.sla_ftl_max = o.ftl_max;
  o.gpu_budget = f.gpus;
  o.max_stage_gpus = f.max_stage_gpus;
  o.max_prefill_pp = f.max_prefill_pp;
  o.parallel = !f.serial;
  if (!f.csv.empty()) Unwrap(CheckWritable(f.csv, "--csv"));
  if (!f.plot.empty()) Unwrap(CheckWritable(f.plot, "--plot"));

  Specs specs = LoadSpecs(f.spec);
  o.speculation = specs.speculation;
  const auto colocated_accuracy =
      CiteAccuracy(specs.model.name, specs.system.name, specs.backend, "agg");
  const auto disaggregated_accuracy =
      CiteAccuracy(specs.model.name, specs.system.name, specs.backend, "disagg");
  if (!f.json) {
    std::fprintf(stderr, "searching %s on %s ...\n", specs.model.name.c_str(),
                 specs.system.name.c_str());
  }
  search::FrontierResult r =
      search::RunFrontier(specs.model, specs.system, specs.precision, specs.backend, o);

  if (r.colocated.empty() && r.disaggregated.empty()) {
    const auto& s = r.summary;
    using parallel::Infeasible;
    if (s.infeasible[static_cast<int>(Infeasible::kFtlExceeded)] > 0 &&
        !s.fastest_ftl_config.empty() && s.fastest_ftl > o.ftl_max) {
      DieF("--ftl-max {}: no prefill configuration meets FTL <= {}; the fastest is {} with {}",
           f.ftl_max, report::Seconds(o.ftl_max), report::Seconds(s.fastest_ftl),
           s.fastest_ftl_config);
    }
    if (f.gpus > 0 && s.infeasible[static_cast<int>(Infeasible::kBudgetExceeded)] > 0) {
      DieF("--gpus {}: the budget is too small for one instance of {} that fits in memory", f.gpus,
           specs.model.name);
    }
    DieF(
        "no feasible design point for {} on {} (ISL {}, OSL {}): every candidate ran out of "
        "memory or was illegal",
        specs.model.name, specs.system.name, f.isl, f.osl);
  }
  report::FrontierContext ctx{specs.model.name,
                              specs.system.name,
                              specs.precision.name,
                              std::string(hardware::BackendName(specs.backend)),
                              static_cast<double>(f.isl),
                              static_cast<double>(f.osl),
                              o.ftl_max,
                              f.gpus,
                              specs.speculation.depth,
                              specs.speculation.acceptance};
  if (!f.csv.empty()) Unwrap(WriteFileAtomically(f.csv, report::FrontierCsv(r)));
  if (!f.plot.empty()) Unwrap(WriteFileAtomically(f.plot, report::FrontierSvg(r, ctx, f.log)));
  if (f.json) {
    Json j = report::FrontierJson(r, ctx);
    j["measured_accuracy"] = Json{{"colocated", colocated_accuracy.ToJson()},
                                  {"disaggregated", disaggregated_accuracy.ToJson()}};
    std::fputs((j.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(report::FrontierText(r, ctx).c_str(), stdout);
    std::fputs(("\n" + colocated_accuracy.Text("Measured accuracy, co-located") +
                disaggregated_accuracy.Text("Measured accuracy, disaggregated"))
                   .c_str(),
               stdout);
    if (!f.plot.empty()) std::fprintf(stdout, "\nplot written to %s\n", f.plot.c_str());
    if (!f.csv.empty()) std::fprintf(stdout, "CSV written to %s\n", f.csv.c_str());
  }
}

}  // namespace

void AddFrontierCommand(CLI::App& app) {
  auto flags = std::make_shared<FrontierFlags>();
  auto* cmd = app.add_subcommand(
      "frontier",
      "the study: search every co-located and disaggregated design point and draw "
      "the throughput vs interactivity Pareto frontiers");
  AddSpecFlags(cmd, flags->spec);
  cmd->add_option("--isl", flags->isl, "input tokens per request")->required();
  cmd->add_option("--osl", flags->osl, "output tokens per request")->required();
  auto* ftl = cmd->add_option("--ftl-max", flags->ftl_max,
                              "first-token latency limit of the frontier (and SLA), e.g. 10s, "
                              "500ms")
                  ->capture_default_str();
  cmd->add_option("--ttl-max", flags->ttl_max,
                  "token-to-token latency SLA, e.g. 20ms: name the best point of each mode");
  cmd->add_option("--gpus", flags->gpus,
                  "GPU budget for the instance counts (default: enough for the continuous "
                  "optimum)");
  cmd->add_option("--max-instance-gpus", flags->max_stage_gpus,
                  "largest tp x dp of one pipeline stage to consider")
      ->capture_default_str();
  cmd->add_option("--max-prefill-pp", flags->max_prefill_pp,
                  "largest pipeline depth for (chunked) prefill")
      ->capture_default_str();
  cmd->add_option("--csv", flags->csv, "write both frontiers as CSV");
  cmd->add_option("--plot", flags->plot, "write both frontiers as an SVG figure");
  cmd->add_flag("--log", flags->log, "log-log axes in the plot");
  cmd->add_flag("--json", flags->json, "machine-readable output on stdout");
  cmd->add_flag("--serial", flags->serial, "one thread (for timing comparisons)");
  cmd->callback([flags, ftl] { RunFrontier(*flags, ftl->count() > 0); });
}

}  // namespace disagg::cli
