// `disagg simulate` with a planner: one policy (--planner) or several side by
// side (--compare) on the same workload, within a GPU budget (--gpus).
//
// Contract: CLI code; bad flags throw UsageError (exit 2) naming the flag and
// value before anything is written; output files are written atomically.
#ifndef DISAGG_CLI_SIMULATE_PLANNER_H_
#define DISAGG_CLI_SIMULATE_PLANNER_H_

#include <functional>
#include <memory>
#include <string>

#include "disagg/cli/common.h"
#include "disagg/sim/simulator.h"

namespace disagg::cli {

struct PlannerFlags {
  std::string planner;  // one policy
  std::string compare;  // comma-separated policies
  int gpus = 0;
  std::string interval = "30s";
  std::string reconfig_delay = "30s";
  std::string role_flip_delay = "0s";
  std::string local_prefill = "off";  // off, auto or a token count
  double headroom = 1.2;
  double ewma = 0.3;
  std::string plot;
  bool active() const { return !planner.empty() || !compare.empty(); }
};

void AddPlannerFlags(CLI::App* cmd, PlannerFlags& f);

struct PlannedRun {
  sim::SimConfig config;          // model, system, SLA, measurement; no source yet
  bool deployment_given = false;  // --prefill/--decode (else the frontier chooses)
  bool counts_given = false;      // with instances= (static runs them)
  std::function<std::unique_ptr<sim::RequestSource>()> make_source;
  double average_rate = 0, average_isl = 0, average_osl = 0;
  std::string workload_name;
  std::string timeline_out;
  bool json = false;
};

void RunPlanned(const PlannerFlags& f, PlannedRun run, const Specs& specs);

}  // namespace disagg::cli

#endif  // DISAGG_CLI_SIMULATE_PLANNER_H_
