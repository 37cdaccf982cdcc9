// Predicting measured serving runs with the simulator, and the error of
// those predictions.
//
// Contract: PredictRows replays each row's benchmark as it was run: a closed
// loop of `concurrency` clients sending requests back to back on the row's
// deployment (lengths as its client drew them, SiliconRow::length_ratio; the
// engine launch settings of its sweep, recv_interval and adp_balance), and
// reads the mean first-token latency and the mean time per output token the
// way the benchmark computes them. A run
// starts with a burst (every client's first request at once, simulated as
// such) and then settles with the clients at independent phases (simulated
// with first requests at uniform random times over one request latency,
// measured after that ramp); the means weigh the burst as 1 of the
// `benchmark_requests` each client sent. Except a co-located engine that
// takes prompts whole, with fixed lengths (length_ratio 1): prefill first
// (SiliconRow::prefill_first) or without chunked prefill
// (SiliconRow::whole_prompts). A cohort that arrives together is prefilled
// within a few steps, its members finish within as many decode steps, and
// their next requests arrive together again; that run never settles, and its
// `benchmark_requests` rounds are all replayed from the burst. (Engines that
// chunk prompts beside the decodes are replayed settled: the file's rows say
// their cohorts disperse; docs/validation.md.) Rows are independent; with
// `parallel` they run on all cores (oneTBB); the result is the same either
// way. A row whose deployment the model cannot place (does not fit in
// memory) gets ok = false and a reason. Errors are fractions (0.12 = 12%).
#ifndef DISAGG_CALIB_VALIDATE_H_
#define DISAGG_CALIB_VALIDATE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "disagg/base/json_reader.h"
#include "disagg/calib/silicon.h"
#include "disagg/hardware/system_spec.h"

namespace disagg::calib {

// Requests each client of a silicon_calibration.csv benchmark sent: the file
// does not record it. A property of the benchmark harness, not of any GPU:
// one value for every system, chosen by refitting the catalog end to end
// (`calibrate --csv --folds 0 --benchmark-requests R`) with every backend's
// request overhead bounded at 50 ms: in-sample TTFT MAPE at R = 1, 4, 8, 16 was
// 143%, 44.4%, 41.2%, 44.9%; with unbounded overheads R = 4, 6, 8, 11, 16
// and unbounded gave 40.0%, 37.0%, 36.8%, 38.4%, 41.2%, 51.6%, and a replay
// that stays in lockstep after the burst 47.3%. TPOT moved under a point.
// For comparison, the public InferenceMAX sweeps (ISL/OSL 1k/1k, 1k/8k,
// 8k/1k at concurrency 4-64, the pattern of many of the file's rows) run
// benchmark_serving.py with --num-prompts 10 x concurrency (its benchmark
// scripts); the file does not name its harnesses.
inline constexpr int kBenchmarkRequests = 8;

struct PredictOptions {
  int rounds = 10;  // simulated requests per client after the ramp (replay length)
  int benchmark_requests = kBenchmarkRequests;  // the first is the opening burst
  int64_t chunk = 8192;  // co-located prompt tokens per step (the engines' default budget)
  // Acceptance assumed for rows that ran speculative decoding the file does
  // not record (SiliconRow::speculation).
  double mtp_acceptance = perf::kMtpAcceptance;
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

// How PredictRows replays a benchmark, for reports: "8 requests per client:
// an opening burst, then ...".
std::string ReplaySummary(int benchmark_requests);

struct ErrorSummary {
  long long rows = 0;
  double ttft_mape = 0, tpot_mape = 0;
  double ttft_median_ape = 0, tpot_median_ape = 0;
  double ttft_bias = 0, tpot_bias = 0;  // median signed error
};

ErrorSummary Summarize(const std::vector<const RowPrediction*>& predictions);

// The summary as `validate --json` and the accuracy record write it: rows,
// ttft_mape, tpot_mape, ttft_median_ape, tpot_median_ape and the biases as
// ttft_median_signed_error, tpot_median_signed_error.
Json ErrorSummaryJson(const ErrorSummary& summary);

// Everything PredictRows reads from a row (model, system, backend, precision,
// pools, lengths, clients and the launch settings taken from its source),
// as one string: rows with equal descriptions get the same prediction but
// for the replay's random phases.
std::string DescriptionKey(const SiliconRow& row);

// How far the file's own measurements of one deployment disagree: among
// `predictions` (counted as Summarize counts them: TTFT over every ok row,
// TPOT over those with more than one output token), rows sharing their
// description measure differently. Predicting each description by the one
// value that minimises its rows' absolute percentage errors (the weighted
// median of the measurements, weights 1/measured) and a row alone by itself
// gives the MAPE no model of these inputs can beat: the floor under
// Summarize's figures for the same rows.
struct MeasurementFloor {
  long long rows = 0;           // rows counted (TTFT)
  long long repeated_rows = 0;  // rows whose description another row shares
  long long disagreeing = 0;    // of those, in descriptions measured more than one way
  double ttft_mape = 0, tpot_mape = 0;
};
MeasurementFloor FloorOf(const std::vector<const RowPrediction*>& predictions);

// The group a row falls in for one key: system, backend, version (backend
// and its version), mode, model, precision, harness (SiliconRow::harness) or
// concurrency (the clients, in bands that quadruple: "c1-4", "c5-16",
// "c17-64", "c65-256", "c257-1024", "c1025+") or load (the output tokens per
// second the run streamed, clients / measured TPOT, in bands that double:
// "<=1k tok/s", "1k-2k tok/s", ..., "32k-64k tok/s", ">64k tok/s"; "no TPOT"
// for single-token outputs). Load groups rows by a measurement, to show what
// the residual follows (a front end every streamed token passes through
// shows as an error that grows with it); it never enters a prediction.
// Mode is "agg", "disagg", or one of the groups kept apart from headline
// errors: "disagg-assumed" (not fully described rows), "tp-beyond-domain",
// "dep-assumed" (columns read as attention DP) and "mtp-assumed" (speculative
// decoding no column records, its acceptance the catalog's default).
std::string GroupValue(const SiliconRow& row, const std::string& key);
// The keys GroupValue knows, in the order help texts list them.
inline constexpr const char* kGroupKeys[] = {"system",    "backend", "version",     "mode", "model",
                                             "precision", "harness", "concurrency", "load"};
// A string that orders groups of `key` the way a reader expects (concurrency
// and load bands by their lower bound, not alphabetically); GroupValue
// otherwise.
std::string GroupOrder(const SiliconRow& row, const std::string& key);

// Rows that count towards headline errors and fits: fully described, with a
// mapping that fits the system, columns read as stated and no speculative
// decoding the file does not record.
bool Headline(const SiliconRow& row);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_VALIDATE_H_
