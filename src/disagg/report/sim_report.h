// Rendering a simulation: terminal summary and JSON.
//
// Contract: pure functions, deterministic except `elapsed_wall_s` (the
// wall-clock time of the run, reported for speed). JSON keys are stable, SI
// units in the names.
#ifndef DISAGG_REPORT_SIM_REPORT_H_
#define DISAGG_REPORT_SIM_REPORT_H_

#include <string>

#include "disagg/base/json_reader.h"
#include "disagg/sim/simulator.h"

namespace disagg::report {

struct SimContext {
  std::string model, system, precision, deployment;
  double ftl_max = 0, ttl_max = 0;
};

Json DistributionJson(const sim::Distribution& d);
Json SimJson(const sim::SimResult& r, const SimContext& c);
std::string SimText(const sim::SimResult& r, const SimContext& c);

}  // namespace disagg::report

#endif  // DISAGG_REPORT_SIM_REPORT_H_
