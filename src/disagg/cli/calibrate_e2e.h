// `disagg calibrate`: the flags both modes share, and the end-to-end mode.
//
// Contract: CLI code; errors throw UsageError.
#ifndef DISAGG_CLI_CALIBRATE_E2E_H_
#define DISAGG_CLI_CALIBRATE_E2E_H_

#include <string>

#include "disagg/calib/e2e_fit.h"
#include "disagg/hardware/system_spec.h"

namespace disagg::cli {

struct CalibrateFlags {
  std::string kernels;
  std::string csv;
  std::string system;
  std::string backend;
  std::string output;
  std::string accuracy_out;  // the cross-validated accuracy record (calib/accuracy.h)
  int starts = 8;
  int folds = 5;
  int max_evals = calib::E2eFitOptions{}.max_evals;
  int benchmark_requests = 0;  // 0: calib::kBenchmarkRequests
  // The fit's sample and loss (calib::E2eFitOptions).
  int fit_rows = calib::E2eFitOptions{}.max_rows;
  int fit_rounds = calib::E2eFitOptions{}.rounds;
  std::string loss{calib::FitLossName(calib::E2eFitOptions{}.loss)};
  double huber = calib::E2eFitOptions{}.huber;
  double ttft_weight = calib::E2eFitOptions{}.ttft_weight;
  bool leave_one_out = false;
  bool write_catalog = false;
  bool json = false;
  bool rows = false;
};

// The system's JSON file with `c` as its calibration block (checked to parse).
std::string SystemJsonWithCalibration(const hardware::SystemSpec& system,
                                      const hardware::Calibration& c);

// --csv: fit each system end to end, cross-validate, optionally leave each
// GPU out, report, and write the fitted values.
void RunEndToEnd(const CalibrateFlags& f);

}  // namespace disagg::cli

#endif  // DISAGG_CLI_CALIBRATE_E2E_H_
