// The cost model's prediction of kernel rows, and which rows of a system the
// kernel fit uses.
//
// Contract: PredictKernel is the cost model's prediction of one kernel row:
// the op_cost.h formulas on perf::Device::FromSystem(system) (GEMM; decode
// and context attention with the FLOPs, keys per query and cache bytes that
// StepModel charges; all-reduce on the NVLink or scale-out link), the
// routed-expert time of one MoE layer through perf::StepModel itself, and
// hbm_bw x mem_eff for STREAM rows. SelectKernelRows picks a system's rows:
// those its GPU can run; for MoE, the fastest kernel measured at each shape
// (the kernel an auto-tuned engine picks); and marks which enter the fit:
// the TRT-LLM implementation of an op when the system has it (GEMM: TRT-LLM
// linear layers, not cuBLASLt benchmarks; all-reduce: TRT-LLM custom, not
// NCCL), context attention with a bf16 KV cache only (with fp8 KV, TRT-LLM
// runs FP8 FMHA, which the model does not describe). The others are held
// out: predicted and reported, never fitted. Pure functions, thread-safe;
// results point into the caller's rows.
#ifndef DISAGG_CALIB_KERNEL_PREDICT_H_
#define DISAGG_CALIB_KERNEL_PREDICT_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "disagg/calib/kernel_rows.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/perf/op_cost.h"

namespace disagg::calib {

// nullopt when the system cannot run the row (no tensor cores for its dtype).
std::optional<double> PredictKernel(const KernelRow& row, const hardware::SystemSpec& system,
                                    const perf::Device& device);

// The report family of a row: "GEMM fp8", "GEMM fp8 (vendor BLAS)", "decode
// attention", "context attention, KV fp8", "all-reduce NCCL", "MoE fp4" ...
std::string KernelFamily(const KernelRow& row);

struct SelectedRow {
  const KernelRow* row = nullptr;
  std::string family;
  bool fitted = false;  // in the fit's objective (else held out)
};

struct KernelSelection {
  std::vector<SelectedRow> rows;        // in file order
  std::map<std::string, int> excluded;  // the system's rows left out, by reason
};

// `mem_eff_from_stream`: STREAM rows count as fitted (they set mem_eff).
KernelSelection SelectKernelRows(const hardware::SystemSpec& system,
                                 const std::vector<KernelRow>& rows,
                                 bool mem_eff_from_stream = true);

// |log error| spread of one family, reported as factors.
struct FamilyError {
  std::string family;
  bool fitted = false;  // its rows are in the objective (else held out)
  int rows = 0;
  double median = 1;  // median of |predicted / measured| as a factor >= 1
  double max = 1;
  double within = 0;  // fraction of rows within 1.5x
};

// Spread of |log error| over (predicted, measured) pairs.
FamilyError Spread(const std::vector<std::pair<double, double>>& predicted_measured);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_KERNEL_PREDICT_H_
