// `disagg calibrate`: fit a system's efficiency parameters to measurements.
//
// Mode --kernels FILE: the per-op parameters, fitted to the KERNEL-* rows of a
// measurement file (calib/kernel_fit.h), for every system with rows or the one
// named by --system; -o writes that system's JSON with the fitted calibration
// block. The end-to-end mode (--csv silicon_calibration.csv: the backends'
// host overheads and the in-graph parameters from serving benchmarks) is a second mode of this
// command: it gets its own flag and Run function next to RunKernels, and the checks in RunCalibrate
// choose between them.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "disagg/base/files.h"
#include "disagg/base/json_reader.h"
#include "disagg/calib/kernel_fit.h"
#include "disagg/calib/kernel_rows.h"
#include "disagg/cli/calibrate_e2e.h"
#include "disagg/cli/commands.h"
#include "disagg/cli/common.h"
#include "disagg/report/table.h"

namespace disagg::cli {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string FactorText(double f) { return fmt::format("x{:.2f}", f); }

std::string FamilyCells(const calib::FamilyError& e) {
  return fmt::format("{} / {} / {}", FactorText(e.median), FactorText(e.max),
                     report::Percent(e.within));
}

std::string ValueText(double v) { return fmt::format("{:.4g}", v); }

std::string FitText(const calib::KernelFit& fit, bool rows) {
  std::string text = fmt::format("\n{}: {} rows compared", fit.system, fit.rows.size());
  int excluded = 0;
  for (const auto& [reason, n] : fit.excluded) excluded += n;
  text += excluded > 0 ? fmt::format(", {} not compared:\n", excluded) : "\n";
  for (const auto& [reason, n] : fit.excluded) text += fmt::format("    {:>4}  {}\n", n, reason);
  text += fmt::format("  method: {}; {} evaluations\n\n", fit.method, fit.evaluations);
  report::Table fam({"op family", "in fit", "rows", "before: median / max / within 1.5x",
                     "after: median / max / within 1.5x"});
  for (size_t i = 0; i < fit.after_errors.size(); ++i) {
    const auto& b = fit.before_errors[i];
    const auto& a = fit.after_errors[i];
    fam.AddRow({a.family, a.fitted ? "yes" : "held out", std::to_string(a.rows), FamilyCells(b),
                FamilyCells(a)});
  }
  text += fam.Render("  ");
  report::Table par({"parameter", "before", "after", "how"});
  for (const auto& p : fit.params) {
    par.AddRow({p.key, ValueText(p.before), ValueText(p.after), p.how});
  }
  text += "\n" + par.Render("  ");
  if (rows) {
    report::Table t({"row", "family", "measured", "before", "after", "after/measured"});
    for (const auto& r : fit.rows) {
      bool hbm = r.family.starts_with("HBM");
      auto cell = [&](double v) {
        return hbm ? fmt::format("{:.3g} TB/s", v / 1e12) : report::Seconds(v);
      };
      t.AddRow({r.label, r.family + (r.fitted ? "" : " [held out]"), cell(r.measured),
                cell(r.before), cell(r.after), FactorText(r.after / r.measured)});
    }
    text += "\n" + t.Render("  ");
  }
  return text;
}

Json SpreadJson(const calib::FamilyError& e) {
  return Json{{"median_factor", e.median}, {"max_factor", e.max}, {"within_1_5x", e.within}};
}

Json FitJson(const calib::KernelFit& fit) {
  Json j;
  j["system"] = fit.system;
  j["method"] = fit.method;
  j["evaluations"] = fit.evaluations;
  j["excluded"] = fit.excluded;
  j["families"] = Json::array();
  for (size_t i = 0; i < fit.after_errors.size(); ++i) {
    const auto& a = fit.after_errors[i];
    j["families"].push_back(Json{{"family", a.family},
                                 {"fitted", a.fitted},
                                 {"rows", a.rows},
                                 {"before", SpreadJson(fit.before_errors[i])},
                                 {"after", SpreadJson(a)}});
  }
  j["parameters"] = Json::array();
  for (const auto& p : fit.params) {
    Json e{{"key", p.key}, {"before", p.before}, {"after", p.after}, {"how", p.how}};
    if (auto it = fit.after.sources.find(p.key); it != fit.after.sources.end()) {
      e["source"] = it->second;
    }
    j["parameters"].push_back(e);
  }
  j["rows"] = Json::array();
  for (const auto& r : fit.rows) {
    j["rows"].push_back(Json{{"row", r.label},
                             {"family", r.family},
                             {"fitted", r.fitted},
                             {"measured", r.measured},
                             {"before", r.before},
                             {"after", r.after}});
  }
  return j;
}

// The calibration block in the catalog's key order: the scalar parameters in
// CalibrationParams() order, then the per-backend ones; "value" before "source".
OrderedJson OrderedCalibration(const hardware::Calibration& c) {
  Json plain = hardware::CalibrationToJson(c);
  auto entry = [](const Json& e) {
    OrderedJson out;
    // Whole numbers (tile rows, step overheads) are written without ".0".
    double v = e.at("value").get<double>();
    if (v == std::floor(v) && std::fabs(v) < 1e12) {
      out["value"] = static_cast<int64_t>(v);
    } else {
      out["value"] = v;
    }
    if (e.contains("source")) out["source"] = e.at("source");
    return out;
  };
  OrderedJson out;
  for (const auto& p : hardware::CalibrationParams()) {
    out[std::string(p.key)] = entry(plain.at(std::string(p.key)));
  }
  for (const auto& bp : hardware::BackendParams()) {
    OrderedJson per;
    for (int i = 0; i < hardware::kNumBackends; ++i) {
      std::string b(hardware::BackendName(static_cast<hardware::Backend>(i)));
      per[b] = entry(plain.at(std::string(bp.key)).at(b));
    }
    out[std::string(bp.key)] = per;
  }
  return out;
}

// The system's own JSON file with its calibration block replaced, checked by
// parsing it back.
void RunKernels(const CalibrateFlags& f) {
  if (f.starts < 1 || f.starts > 64) DieF("--starts: expected 1 to 64, got {}", f.starts);
  if (!f.output.empty()) Unwrap(CheckWritable(f.output, "-o"));
  calib::KernelRowSet set = Unwrap(calib::ReadKernelRows(f.kernels));
  if (set.rows.empty()) {
    DieF(
        "--kernels {}: no kernel rows for any catalog system ({} rows read, {} KERNEL-* rows "
        "skipped)",
        f.kernels, set.total, set.SkippedCount());
  }
  std::vector<std::string> names = set.Systems();
  std::vector<hardware::SystemSpec> systems;
  if (!f.system.empty()) {
    hardware::SystemSpec s = Unwrap(hardware::LoadSystem(f.system));
    if (std::find(names.begin(), names.end(), s.name) == names.end()) {
      DieF("--system {}: {} has no kernel rows for system '{}' (it has rows for {})", f.system,
           f.kernels, s.name, fmt::join(names, ", "));
    }
    systems.push_back(std::move(s));
  } else {
    if (!f.output.empty() && names.size() > 1) {
      DieF(
          "-o {}: writes one system's JSON, but {} has rows for {} systems ({}); choose one with "
          "--system",
          f.output, f.kernels, names.size(), fmt::join(names, ", "));
    }
    for (const auto& n : names) systems.push_back(Unwrap(hardware::LoadSystem(n)));
  }

  calib::KernelFitOptions o;
  o.origin = f.kernels.substr(f.kernels.find_last_of('/') + 1);
  o.starts = f.starts;
  std::vector<calib::KernelFit> fits;
  for (const auto& s : systems) {
    if (!f.json) std::fprintf(stderr, "fitting %s ...\n", s.name.c_str());
    fits.push_back(Unwrap(calib::FitKernels(s, set.rows, o)));
  }
  std::string written;
  if (!f.output.empty()) written = SystemJsonWithCalibration(systems[0], fits[0].after);

  if (f.json) {
    Json out;
    out["kernels"] = f.kernels;
    out["rows_read"] = set.total;
    out["kernel_rows"] = set.rows.size();
    out["other_categories"] = set.other_categories;
    out["skipped"] = set.skipped;
    out["systems"] = Json::array();
    for (const auto& fit : fits) out["systems"].push_back(FitJson(fit));
    if (!f.output.empty()) out["output"] = f.output;
    if (!f.output.empty()) Unwrap(WriteFileAtomically(f.output, written));
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
    return;
  }
  std::string text = fmt::format(
      "Kernel calibration from {}: {} rows, {} outside the KERNEL-* categories, {} kernel rows "
      "parsed for {}, {} skipped:\n",
      f.kernels, set.total, set.other_categories, set.rows.size(), fmt::join(names, ", "),
      set.SkippedCount());
  for (const auto& [reason, n] : set.skipped) text += fmt::format("  {:>4}  {}\n", n, reason);
  text +=
      "Errors are predicted/measured as a factor (|log error|); median and max over the "
      "family's rows.\n";
  for (const auto& fit : fits) text += FitText(fit, f.rows);
  if (!f.output.empty()) {
    Unwrap(WriteFileAtomically(f.output, written));
    text += fmt::format("\nwrote {} (calibration block of {})\n", f.output, systems[0].name);
  }
  std::fputs(text.c_str(), stdout);
}

void RunCalibrate(const CalibrateFlags& f) {
  if (f.kernels.empty() == f.csv.empty()) {
    DieF(
        "calibrate: give exactly one of --kernels FILE (kernel rows, e.g. public_measurements.csv) "
        "or --csv FILE (serving benchmarks, e.g. silicon_calibration.csv)");
  }
  if (!f.csv.empty()) {
    RunEndToEnd(f);
    return;
  }
  RunKernels(f);
}

}  // namespace

std::string SystemJsonWithCalibration(const hardware::SystemSpec& system,
                                      const hardware::Calibration& c) {
  std::string text = Unwrap(ReadFile(system.source));
  OrderedJson doc = OrderedJson::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    DieF("{}: not a JSON object; cannot rewrite its calibration block", system.source);
  }
  doc["calibration"] = OrderedCalibration(c);
  std::string out = doc.dump(2) + "\n";
  auto reparsed = ParseJsonText(out, system.source);
  if (!reparsed) Die(reparsed.error());
  auto check = hardware::ParseSystemSpec(*reparsed, system.source);
  if (!check) DieF("internal: the rewritten system JSON does not parse: {}", check.error().message);
  return out;
}

void AddCalibrateCommand(CLI::App& app) {
  auto flags = std::make_shared<CalibrateFlags>();
  auto* cmd = app.add_subcommand(
      "calibrate",
      "fit a system's efficiency parameters to kernel measurements (GEMM, attention, "
      "all-reduce, MoE, HBM) and report the error before and after");
  cmd->add_option("--kernels", flags->kernels,
                  "measurement CSV (columns category, source, model, hardware, precision, "
                  "parallelism, isl, osl, concurrency_or_rate, metric, value, notes)");
  cmd->add_option("--system", flags->system,
                  "fit only this system (catalog name or system JSON); default: every system with "
                  "rows");
  cmd->add_option("-o,--output", flags->output,
                  "write the system's JSON with the fitted calibration block here");
  cmd->add_option("--starts", flags->starts, "optimiser starts per stage")->capture_default_str();
  cmd->add_option("--csv", flags->csv,
                  "serving benchmarks (silicon_calibration.csv format): fit the backends' step, "
                  "per-sequence and request overheads and the in-graph parameters end to end by "
                  "simulating every benchmark");
  cmd->add_option("--backend", flags->backend, "only rows of this backend (with --csv)");
  cmd->add_option("--folds", flags->folds, "k-fold cross-validation by run (with --csv; 0: off)")
      ->capture_default_str();
  cmd->add_flag("--leave-one-gpu-out", flags->leave_one_out,
                "also fit on the other systems and predict each system from its spec alone");
  cmd->add_option("--max-evals", flags->max_evals, "optimiser evaluations per fit")
      ->capture_default_str();
  cmd->add_option("--benchmark-requests", flags->benchmark_requests,
                  "requests each benchmark client sent (with --csv; default: the catalog's "
                  "harness model)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--fit-rows", flags->fit_rows,
                  "rows each end-to-end fit replays, subsampled evenly by run beyond this (0: all, "
                  "the default; a subsample is faster)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--fit-rounds", flags->fit_rounds,
                  "simulated requests per client while fitting, after the ramp (validate "
                  "replays 10; fewer is faster and noisier)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--loss", flags->loss,
                  "what the end-to-end fit minimises: ape (the mean absolute percentage errors "
                  "of TPOT and TTFT, the targets' measure) or huber-log (a Huber loss of the log "
                  "errors, knee --huber)")
      ->check(CLI::IsMember({std::string(calib::FitLossName(calib::FitLoss::kAbsolutePercent)),
                             std::string(calib::FitLossName(calib::FitLoss::kHuberLog))}))
      ->capture_default_str();
  cmd->add_option("--huber", flags->huber,
                  "with --loss huber-log: |log error| beyond which the loss grows linearly, not "
                  "quadratically")
      ->check(CLI::Range(1e-3, 10.0))
      ->capture_default_str();
  cmd->add_option("--ttft-weight", flags->ttft_weight,
                  "weight of the TTFT errors against the TPOT errors in the fit's loss")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--accuracy-out", flags->accuracy_out,
                  "write the cross-validated errors per system, backend and mode (and, with "
                  "--leave-one-gpu-out, per held-out GPU) as the accuracy record estimate, "
                  "frontier and simulate cite (the catalog's is data/validation/accuracy.json)");
  cmd->add_flag("--write-catalog", flags->write_catalog,
                "write the fitted values into data/hardware/<system>.json");
  cmd->add_flag("--rows", flags->rows, "also list every row with its predictions");
  cmd->add_flag("--json", flags->json, "machine-readable output on stdout");
  cmd->callback([flags] { RunCalibrate(*flags); });
}

}  // namespace disagg::cli
