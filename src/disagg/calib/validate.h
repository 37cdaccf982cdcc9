// Predicting measured serving runs with the simulator, and the error of
// those predictions.
//
// Contract: PredictRows replays each row's benchmark as it was run: a closed
// loop of `concurrency` clients sending fixed-ISL/OSL requests back to back
// (all starting together, as a benchmark does), `rounds` requests per client,
// on the row's deployment, and reads the mean first-token latency and the
// mean time per output token the way the benchmark computes them. Rows are
// independent; with `parallel` they run on all cores (oneTBB); the result is
// the same either way. A row whose deployment the model cannot place (does
// not fit in memory) gets ok = false and a reason. Errors are fractions
// (0.12 = 12%).
#ifndef DISAGG_CALIB_VALIDATE_H_
#define DISAGG_CALIB_VALIDATE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "disagg/calib/silicon.h"
#include "disagg/hardware/system_spec.h"

namespace disagg::calib {

struct PredictOptions {
  int rounds = 10;       // requests per client
  int64_t chunk = 8192;  // co-located prompt tokens per step (the engines' default budget)
  bool parallel = true;
  // The system specs to use by name (calibration candidates); catalog
  // systems are loaded for names not given.
  std::map<std::string, hardware::SystemSpec> systems;
};

struct RowPrediction {
  const SiliconRow* row = nullptr;
  bool ok = false;
  std::string reason;  // when !ok
  double ttft = 0, tpot = 0;
  double ttft_error() const { return (ttft - row->ttft) / row->ttft; }
  double tpot_error() const { return (tpot - row->tpot) / row->tpot; }
};

std::vector<RowPrediction> PredictRows(const std::vector<SiliconRow>& rows,
                                       const PredictOptions& options);

struct ErrorSummary {
  long long rows = 0;
  double ttft_mape = 0, tpot_mape = 0;
  double ttft_median_ape = 0, tpot_median_ape = 0;
  double ttft_bias = 0, tpot_bias = 0;  // median signed error
};

ErrorSummary Summarize(const std::vector<const RowPrediction*>& predictions);

// The group a row falls in for one key: system, backend, mode, model.
// Mode is "agg", "disagg", or one of the groups kept apart from headline
// errors: "disagg-assumed" (not fully described rows), "tp-beyond-domain"
// and "dep-assumed" (columns read as attention DP).
std::string GroupValue(const SiliconRow& row, const std::string& key);

// Rows that count towards headline errors and fits: fully described, with a
// mapping that fits the system and columns read as stated.
bool Headline(const SiliconRow& row);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_VALIDATE_H_
