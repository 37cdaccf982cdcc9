// Rendering planner runs: the per-interval timeline as CSV and as an SVG
// figure (traffic, pool sizes, SLA attainment over time), and the side-by-side
// comparison of policies on one workload (terminal table and JSON).
//
// Contract: pure functions, deterministic (wall-clock times excluded). SI
// units; JSON keys as in the simulate JSON.
#ifndef DISAGG_REPORT_PLANNER_REPORT_H_
#define DISAGG_REPORT_PLANNER_REPORT_H_

#include <string>
#include <vector>

#include "disagg/base/json_reader.h"
#include "disagg/sim/simulator.h"

namespace disagg::report {

struct PolicyRun {
  std::string name;  // "static", "dynamic+local", ...
  sim::SimResult result;
};

struct PlannerContext {
  std::string title;     // e.g. "Llama-3.1-70B on h200_sxm, fp8: mix-shift"
  int prefill_gpus = 1;  // per instance
  int decode_gpus = 1;
  double ftl_max = 0, ttl_max = 0;
};

// One row per policy and interval: policy, time_s, arrival_rps, planned_rps,
// prefill_instances, decode_instances, prefill_gpus, decode_gpus, starting,
// draining, gpus_held, goodput_rps, sla_attainment (empty when no request
// finished), decode_batch, local_threshold.
std::string PlannerTimelineCsv(const std::vector<PolicyRun>& runs, const PlannerContext& c);
// Three stacked panels sharing the time axis.
std::string PlannerSvg(const std::vector<PolicyRun>& runs, const PlannerContext& c);
std::string CompareText(const std::vector<PolicyRun>& runs, const PlannerContext& c);
// {"policies": {name: {goodput_rps, sla_attainment, gpu_hours, reconfigurations,
// local_prefills, requests_completed, requests_unfinished, ftl_s, ttl_s, ...}}}
Json CompareJson(const std::vector<PolicyRun>& runs, const PlannerContext& c);

}  // namespace disagg::report

#endif  // DISAGG_REPORT_PLANNER_REPORT_H_
