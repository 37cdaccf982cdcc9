// Fitting calibration parameters to end-to-end serving measurements by
// simulating the benchmarks (validate.h), and cross-validating the fit.
//
// Contract: FitEndToEnd minimises the loss of E2eFitOptions (by default the
// mean absolute percentage errors of the predicted mean TPOT and TTFT, the
// measures the accuracy targets use) with NLopt LN_BOBYQA inside
// the legal bounds of the parameters, from the systems' current values. One
// parameter vector is shared by every system in the fit (each backend's
// step, per-sequence and request overheads are separate parameters), so
// fitting one system gives that system's values and fitting several pools
// them (as leave-one-GPU-out needs). Deterministic: rows are subsampled by a
// fixed rule, simulations are deterministic, and the optimiser's path is too.
// CrossValidate splits rows into k folds by benchmark run (rows of one run
// never straddle train and test), fits on k-1 folds and predicts the held-
// out fold, for every fold.
#ifndef DISAGG_CALIB_E2E_FIT_H_
#define DISAGG_CALIB_E2E_FIT_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/calib/silicon.h"
#include "disagg/calib/validate.h"
#include "disagg/hardware/system_spec.h"

namespace disagg::calib {

// Upper bound of a backend's request overhead (us) in the end-to-end fit: a
// request's path through the front end (HTTP, tokenisation, routing,
// admission), bounded by the TTFT the file measures at concurrency 1-2.
// TensorRT-LLM: gpt-oss-120b on gb200 measures 37 ms for a 1024-token
// prompt, prefill included (silicon_calibration.csv lines 1878, 2831): 50 ms.
// vLLM: no such rows; the same kind of OpenAI front end, 50 ms. SGLang:
// DeepSeek-R1 on h100 measures 211 ms for a 1024-token prompt of which the
// model's prefill is about 60 ms (lines 1582, 3002), and up to 1.1 s on
// h200 (line 1682): 300 ms. Unbounded, the fit pushed TensorRT-LLM's to
// 70-200 ms, standing in for queueing the replay does not reproduce and
// inflating every light-load FTL the planner sees.
double RequestOverheadMaxUs(hardware::Backend backend);

// What the end-to-end fit minimises, per row (averaged over the rows):
// kAbsolutePercent: |TPOT error| + ttft_weight x |TTFT error|, errors as
// fractions of the measured value (the MAPE the targets are stated in).
// kHuberLog: Huber(log TPOT ratio) + ttft_weight x Huber(log TTFT ratio),
// knee `huber` (the loss of the previous rounds, docs/validation.md).
enum class FitLoss { kAbsolutePercent, kHuberLog };
std::string_view FitLossName(FitLoss loss);  // "ape", "huber-log"
Result<FitLoss> ParseFitLoss(std::string_view name);

struct E2eFitOptions {
  // Calibration keys (CalibrationParams() names) fitted besides the step,
  // per-sequence and request overheads of every backend that has rows; keys
  // the rows cannot inform (a dtype no row computes in, MoE imbalance without
  // MoE rows, KV transfer overhead without disaggregated rows) are left out.
  // The parameters single-kernel benchmarks cannot identify, and the rate of
  // the engines' GEMMs relative to the benchmarked ones (engine_gemm_*); the
  // per-op efficiencies stay as the kernel fit set them.
  std::vector<std::string> keys = {
      "kernel_overhead_us", "moe_imbalance",   "moe_routing_spread", "kv_transfer_overhead_us",
      "engine_gemm_bf16",   "engine_gemm_fp8", "engine_gemm_fp4",    "engine_gemm_w4a16"};
  int rounds = 3;  // simulated requests per client while fitting (replay length)
  int benchmark_requests = kBenchmarkRequests;  // see validate.h
  // Per fit: rows subsampled evenly by run beyond this (0: all). All by
  // default: against fits on 400 rows per system, refitting b200 and h100 on
  // every row took the in-sample MAPEs of the 2,291 fully described rows from
  // 27.0% to 26.6% (TTFT) and 12.7% to 12.1% (TPOT); cross-validated, TPOT
  // 12.7% -> 12.4%, TTFT 27.0% -> 27.1%; about 2.5x the time on b200
  // (docs/validation.md, the round "every fit replays every row").
  int max_rows = 0;
  int max_evals = 150;  // objective evaluations
  FitLoss loss = FitLoss::kAbsolutePercent;
  // Weight of the TTFT term against the TPOT term: both targets are MAPEs,
  // so they count alike.
  double ttft_weight = 1.0;
  // kHuberLog only: |log error| beyond which the loss grows linearly.
  double huber = 0.1;
  bool parallel = true;
};

// One row's contribution to the loss: `ttft_ratio` and `tpot_ratio` are
// predicted / measured; `has_tpot` is false for single-token outputs, whose
// TPOT is undefined.
double FitRowLoss(const E2eFitOptions& options, double ttft_ratio, double tpot_ratio,
                  bool has_tpot);

// One line saying what the fit minimises, for reports and catalog sources:
// "the mean absolute percentage error of TPOT plus that of TTFT (weight 1)".
std::string DescribeLoss(const E2eFitOptions& options);

struct FittedParam {
  std::string key;               // "kernel_overhead_us", "step_overhead_us.sglang", ...
  double before = 0, after = 0;  // JSON units
};

struct E2eFit {
  std::vector<FittedParam> params;
  std::map<std::string, hardware::SystemSpec> systems;  // with the fitted values applied
  ErrorSummary before, after;                           // on the rows used in the fit
  double loss_before = 0, loss_after = 0;
  long long evaluations = 0;
  int rows = 0;
};

// `systems`: name -> spec for every system the rows use.
Result<E2eFit> FitEndToEnd(const std::vector<const SiliconRow*>& rows,
                           const std::map<std::string, hardware::SystemSpec>& systems,
                           const E2eFitOptions& options);

struct CrossValidation {
  int folds = 0;
  std::vector<RowPrediction> predictions;  // every row, predicted by the fit that did not see it
  ErrorSummary summary;
};

// Fits per system (all its backends together) on each training split.
Result<CrossValidation> CrossValidate(const std::vector<const SiliconRow*>& rows,
                                      const std::map<std::string, hardware::SystemSpec>& systems,
                                      int folds, const E2eFitOptions& fit,
                                      const PredictOptions& predict);

// Leave one GPU out: fit one shared calibration on the other systems' rows,
// then predict the held-out system's rows from its spec sheet with that
// calibration (none of its own fitted values).
Result<CrossValidation> LeaveOneSystemOut(
    const std::vector<const SiliconRow*>& rows,
    const std::map<std::string, hardware::SystemSpec>& systems, const std::string& held_out,
    const E2eFitOptions& fit, const PredictOptions& predict);

// The fold (0..k-1) of a benchmark run: a stable hash of its name.
int FoldOf(const std::string& run, int folds);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_E2E_FIT_H_
