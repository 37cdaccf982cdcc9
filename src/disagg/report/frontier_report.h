// Rendering a frontier study: terminal text, CSV, JSON and the SVG figure.
//
// Contract: pure functions of the result, deterministic; the JSON keys are a
// stable interface (summary, colocated, disaggregated, speedup,
// best_under_sla) with SI units in the key names.
#ifndef DISAGG_REPORT_FRONTIER_REPORT_H_
#define DISAGG_REPORT_FRONTIER_REPORT_H_

#include <string>
#include <vector>

#include "disagg/base/json_reader.h"
#include "disagg/search/design_point.h"

namespace disagg::report {

struct FrontierContext {
  std::string model;
  std::string system;
  std::string precision;
  std::string backend;
  double isl = 0, osl = 0;
  double ftl_max = 0;
  int gpu_budget = 0;
  int mtp = 0;  // speculative decoding: drafted tokens per step (0: none)
  double mtp_acceptance = 0;
};

// Disaggregated / co-located best throughput at interactivity levels spread
// over the range both frontiers reach.
struct SpeedupRow {
  double tokens_per_s_per_user = 0;
  double colocated = 0;      // tokens/s/GPU
  double disaggregated = 0;  // tokens/s/GPU
  double ratio() const { return colocated > 0 ? disaggregated / colocated : 0; }
};
std::vector<SpeedupRow> SpeedupTable(const search::FrontierResult& r, int levels = 12);

Json DesignPointJson(const search::DesignPoint& p);
Json FrontierJson(const search::FrontierResult& r, const FrontierContext& c);
std::string FrontierCsv(const search::FrontierResult& r);
std::string FrontierText(const search::FrontierResult& r, const FrontierContext& c);
std::string FrontierSvg(const search::FrontierResult& r, const FrontierContext& c, bool log_scale);

}  // namespace disagg::report

#endif  // DISAGG_REPORT_FRONTIER_REPORT_H_
