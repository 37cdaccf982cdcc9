// Shared CLI plumbing: the error that exits with status 2, the flags every
// command takes (--model, --system, --precision ...), and turning them into
// loaded specs.
//
// Contract: CLI code only. Functions here throw UsageError (caught in main,
// printed to stderr, exit status 2) with a message naming the flag, file and
// value; nothing below cli/ throws.
#ifndef DISAGG_CLI_COMMON_H_
#define DISAGG_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "disagg/base/error.h"
#include "disagg/calib/accuracy.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/model/model_spec.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/precision.h"
#include "disagg/perf/step_model.h"

namespace disagg::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void Die(const Error& e) { throw UsageError(e.message); }

template <typename T>
T Unwrap(Result<T> r) {
  if (!r) Die(r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

template <typename... Args>
[[noreturn]] void DieF(fmt::format_string<Args...> format, Args&&... args) {
  throw UsageError(fmt::format(format, std::forward<Args>(args)...));
}

// --model, --system, --precision and per-part overrides, --backend, --mtp
// and --mtp-acceptance.
struct SpecFlags {
  std::string model;
  std::string system;
  std::string precision = "fp8";
  std::string gemm_quant, moe_quant, kv_dtype, comm_dtype;
  std::string backend = "trtllm";
  int mtp = 0;
  double mtp_acceptance = perf::kMtpAcceptance;
};

void AddSpecFlags(CLI::App* app, SpecFlags& flags, bool require = true);

struct Specs {
  model::ModelSpec model;
  hardware::SystemSpec system;
  perf::Precision precision;
  hardware::Backend backend = hardware::Backend::kTrtllm;
  perf::Speculation speculation;  // depth 0: none
};

// Loads and validates; prints the model's warnings to stderr.
Specs LoadSpecs(const SpecFlags& flags);

// --tp --pp --ep --dp-attn --moe-tp.
struct MappingFlags {
  int tp = 1, pp = 1, dp = 1;
  std::optional<int> ep, moe_tp;
};

void AddMappingFlags(CLI::App* app, MappingFlags& flags);

// Fills the MoE degrees (default: experts spread over every GPU of the
// group, ep = tp x dp) and checks legality; Dies naming the flags.
perf::Mapping ResolveMapping(const Specs& specs, const MappingFlags& flags);

// What the catalog's accuracy record (calib/accuracy.h) says of answers for
// `model` on `system` under `backend` in `mode` ("agg", "disagg" or "*"):
// the deployment's group and the model's own rows. A record that is there
// but unusable Dies naming the file; call it before printing anything.
struct CitedAccuracy {
  calib::AccuracyCitation deployment, model;
  Json ToJson() const;
  // Two lines, "<label>: ..." and "  this model: ...".
  std::string Text(const std::string& label) const;
};
CitedAccuracy CiteAccuracy(const std::string& model, const std::string& system,
                           hardware::Backend backend, const std::string& mode);

// Positive integer / number checks naming the flag.
void RequirePositive(double value, const char* flag);

}  // namespace disagg::cli

#endif  // DISAGG_CLI_COMMON_H_
