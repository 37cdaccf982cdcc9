// Fitting one system's per-op calibration parameters to its kernel rows.
//
// Contract: FitKernels minimises the sum of squared log errors
// log(predicted / measured) of PredictKernel (kernel_predict.h) over the rows
// SelectKernelRows puts in the fit, with NLopt LN_BOBYQA from several
// deterministic starts (the catalog values, the middle of a plausible box,
// Halton points in it) inside the legal bounds of
// hardware::CalibrationParams(). Three stages whose parameters do not
// interact: (A) GEMM and attention: gemm_eff_<dtype> for each compute dtype
// with rows, kernel_overhead_us, attn_prefill_eff, attn_len_half_tokens,
// attn_decode_eff, and mem_eff when no STREAM row sets it (mem_eff = measured
// Triad / hbm_bw); (B) all-reduce: comm_bw_eff, comm_latency_factor; (C) MoE:
// moe_imbalance with everything else fixed (one parameter: a grid scan of the
// legal range, since tile padding makes the error piecewise constant in it,
// then Nelder-Mead). gemm_tile_rows is discrete: A and C run for every
// candidate and the lowest summed error wins, except that a candidate within
// 1% of it equal to the previous value is kept (the rows cannot tell them
// apart). Parameters without rows keep their value and source; a gemm_eff of
// a dtype the GPU lacks is marked unused. Fitted values are rounded to 4
// significant digits before the after-errors are computed, so the written
// values reproduce them. Deterministic: same rows and options, same result.
#ifndef DISAGG_CALIB_KERNEL_FIT_H_
#define DISAGG_CALIB_KERNEL_FIT_H_

#include <map>
#include <string>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/calib/kernel_predict.h"
#include "disagg/calib/kernel_rows.h"
#include "disagg/hardware/system_spec.h"

namespace disagg::calib {

struct KernelFitOptions {
  std::string origin = "kernel rows";  // the measurement file, for source strings
  std::vector<double> tile_rows = {32, 64, 128};
  int starts = 8;                   // NLopt starts per stage
  int max_evals = 3000;             // per start
  bool mem_eff_from_stream = true;  // a STREAM row fixes mem_eff
};

struct ParamFit {
  std::string key;  // CalibrationParams() key (JSON units)
  double before = 0, after = 0;
  std::string how;  // "fitted", "STREAM", "grid 32/64/128", "unused", "kept (no rows)"
};

struct RowResult {
  std::string label, family;
  bool fitted = false;
  double measured = 0, before = 0, after = 0;  // seconds (HBM: bytes/s)
};

struct KernelFit {
  std::string system;
  hardware::Calibration before, after;                   // after.sources: how each value was found
  std::vector<ParamFit> params;                          // the kernel parameters, in a fixed order
  std::vector<FamilyError> before_errors, after_errors;  // same families, same order
  std::vector<RowResult> rows;
  std::map<std::string, int> excluded;  // this system's rows not compared, by reason
  std::string method;
  long long evaluations = 0;  // objective evaluations, all stages and starts
};

// Fits `system` to the rows whose system is system.name; an Error when there
// are none it can run.
Result<KernelFit> FitKernels(const hardware::SystemSpec& system, const std::vector<KernelRow>& rows,
                             const KernelFitOptions& options = {});

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_KERNEL_FIT_H_
