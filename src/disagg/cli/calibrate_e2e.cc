// `disagg calibrate --csv`: end-to-end calibration against serving
// benchmarks, with k-fold and leave-one-GPU-out cross-validation.
#include "disagg/cli/calibrate_e2e.h"

#include <cstdio>
#include <map>
#include <set>

#include "disagg/base/files.h"
#include "disagg/calib/accuracy.h"
#include "disagg/calib/e2e_fit.h"
#include "disagg/calib/validate.h"
#include "disagg/cli/common.h"
#include "disagg/report/table.h"

namespace disagg::cli {
namespace {

std::string ErrorCells(const calib::ErrorSummary& s) {
  return fmt::format("{} rows: TPOT MAPE {} (median {}), TTFT MAPE {} (median {})", s.rows,
                     report::Percent(s.tpot_mape), report::Percent(s.tpot_median_ape),
                     report::Percent(s.ttft_mape), report::Percent(s.ttft_median_ape));
}

Json ErrorJson(const calib::ErrorSummary& s) {
  return Json{{"rows", s.rows},
              {"ttft_mape", s.ttft_mape},
              {"tpot_mape", s.tpot_mape},
              {"ttft_median_ape", s.ttft_median_ape},
              {"tpot_median_ape", s.tpot_median_ape}};
}

// Errors per system / mode of a set of predictions.
std::map<std::string, calib::ErrorSummary> ByGroup(const std::vector<calib::RowPrediction>& preds) {
  std::map<std::string, std::vector<const calib::RowPrediction*>> groups;
  for (const auto& p : preds) {
    groups[p.row->system + " / " + calib::GroupValue(*p.row, "mode")].push_back(&p);
  }
  std::map<std::string, calib::ErrorSummary> out;
  for (const auto& [k, v] : groups) out[k] = calib::Summarize(v);
  return out;
}

calib::ErrorSummary SummaryOf(const std::vector<calib::RowPrediction>& preds) {
  std::vector<const calib::RowPrediction*> ptrs;
  for (const auto& p : preds) ptrs.push_back(&p);
  return calib::Summarize(ptrs);
}

}  // namespace

void RunEndToEnd(const CalibrateFlags& f) {
  if (f.folds == 1 || f.folds < 0) DieF("--folds: expected 0 (off) or at least 2, got {}", f.folds);
  RequirePositive(f.max_evals, "--max-evals");
  if (!f.output.empty()) Unwrap(CheckWritable(f.output, "-o"));
  if (!f.accuracy_out.empty()) {
    if (f.folds < 2)
      DieF("--accuracy-out {}: needs cross-validation (--folds 2 or more)", f.accuracy_out);
    // The record speaks for every system the catalog answers for.
    if (!f.system.empty() || !f.backend.empty()) {
      DieF(
          "--accuracy-out {}: the record covers every system and backend; drop --system and "
          "--backend",
          f.accuracy_out);
    }
    Unwrap(CheckWritable(f.accuracy_out, "--accuracy-out"));
  }
  calib::SiliconData data = Unwrap(calib::ReadSilicon(f.csv));
  std::vector<const calib::SiliconRow*> rows;
  std::string only_system;
  if (!f.system.empty()) only_system = Unwrap(hardware::LoadSystem(f.system)).name;
  if (!f.backend.empty()) Unwrap(hardware::ParseBackend(f.backend));
  for (const auto& r : data.rows) {
    if (!calib::Headline(r)) continue;
    if (!only_system.empty() && r.system != only_system) continue;
    if (!f.backend.empty() && r.backend_name != f.backend) continue;
    rows.push_back(&r);
  }
  if (rows.empty()) DieF("--csv {}: no usable rows for the selection", f.csv);
  std::map<std::string, hardware::SystemSpec> systems;
  for (const auto* r : rows) {
    if (!systems.contains(r->system)) systems[r->system] = Unwrap(hardware::LoadSystem(r->system));
  }
  if (!f.output.empty() && systems.size() != 1) {
    DieF("-o {}: writes one system's JSON; choose it with --system", f.output);
  }

  calib::E2eFitOptions fo;
  fo.max_evals = f.max_evals;
  fo.ttft_weight = f.ttft_weight;
  fo.max_rows = f.fit_rows;
  fo.rounds = f.fit_rounds;
  fo.huber = f.huber;
  fo.loss = Unwrap(calib::ParseFitLoss(f.loss));
  calib::PredictOptions po;
  if (f.benchmark_requests > 0)
    fo.benchmark_requests = po.benchmark_requests = f.benchmark_requests;
  Json out;
  out["csv"] = f.csv;
  out["rows_read"] = data.rows_read;
  out["rows_used"] = rows.size();
  out["fit_loss"] = calib::DescribeLoss(fo);
  std::string text = fmt::format(
      "End-to-end calibration from {}: {} rows read, {} used (fully described, mapping within the "
      "NVLink domain). Each row is replayed as its closed-loop benchmark; NLopt BOBYQA minimises "
      "{}.\n",
      f.csv, data.rows_read, rows.size(), calib::DescribeLoss(fo));

  // Fit each system on all its rows.
  std::map<std::string, hardware::SystemSpec> fitted;
  Json systems_json = Json::object();
  for (const auto& [name, spec] : systems) {
    std::vector<const calib::SiliconRow*> mine;
    for (const auto* r : rows) {
      if (r->system == name) mine.push_back(r);
    }
    if (!f.json) std::fprintf(stderr, "fitting %s on %zu rows ...\n", name.c_str(), mine.size());
    auto fit = Unwrap(calib::FitEndToEnd(mine, {{name, spec}}, fo));
    hardware::SystemSpec after = fit.systems.at(name);
    // In-sample errors on every row of the system, at full benchmark length.
    std::vector<calib::SiliconRow> copies;
    for (const auto* r : mine) copies.push_back(*r);
    calib::PredictOptions before_po = po, after_po = po;
    before_po.systems = {{name, spec}};
    after_po.systems = {{name, after}};
    auto before_err = SummaryOf(calib::PredictRows(copies, before_po));
    auto after_err = SummaryOf(calib::PredictRows(copies, after_po));
    std::string how = fmt::format(
        "Fitted end to end by `disagg calibrate --csv {}`: {} benchmark rows of {} ({} used by "
        "the optimiser) replayed as closed-loop simulations ({}), NLopt BOBYQA on {}, {} "
        "parameters (request overheads at most {} ms, SGLang's {} ms); in-sample TPOT MAPE {} -> "
        "{}, TTFT median {} -> {}.",
        f.csv.substr(f.csv.find_last_of('/') + 1), mine.size(), name, fit.rows,
        calib::ReplaySummary(fo.benchmark_requests), calib::DescribeLoss(fo), fit.params.size(),
        calib::RequestOverheadMaxUs(hardware::Backend::kTrtllm) / 1000,
        calib::RequestOverheadMaxUs(hardware::Backend::kSglang) / 1000,
        report::Percent(before_err.tpot_mape), report::Percent(after_err.tpot_mape),
        report::Percent(before_err.ttft_median_ape), report::Percent(after_err.ttft_median_ape));
    for (const auto& p : fit.params) after.calibration.sources[p.key] = how;
    fitted[name] = after;
    Json params = Json::array();
    report::Table t({"parameter", "before", "after"});
    for (const auto& p : fit.params) {
      params.push_back(Json{{"key", p.key}, {"before", p.before}, {"after", p.after}});
      t.AddRow({p.key, fmt::format("{:.4g}", p.before), fmt::format("{:.4g}", p.after)});
    }
    systems_json[name] = Json{{"rows", mine.size()},
                              {"parameters", params},
                              {"before", ErrorJson(before_err)},
                              {"after", ErrorJson(after_err)},
                              {"evaluations", fit.evaluations}};
    text += fmt::format("\n{}: {} rows, {} parameters, {} evaluations\n", name, mine.size(),
                        fit.params.size(), fit.evaluations);
    text += t.Render("  ");
    text +=
        fmt::format("  before: {}\n  after:  {}\n", ErrorCells(before_err), ErrorCells(after_err));
  }
  out["systems"] = systems_json;

  std::vector<calib::RowPrediction> cross_validated;
  std::map<std::string, calib::ErrorSummary> held_out;
  if (f.folds >= 2) {
    if (!f.json) std::fprintf(stderr, "%d-fold cross-validation ...\n", f.folds);
    auto cv = Unwrap(calib::CrossValidate(rows, systems, f.folds, fo, po));
    Json groups = Json::object();
    report::Table t(
        {"group (held-out folds)", "rows", "TPOT MAPE", "TPOT median", "TTFT MAPE", "TTFT median"});
    for (const auto& [k, s] : ByGroup(cv.predictions)) {
      groups[k] = ErrorJson(s);
      t.AddRow({k, std::to_string(s.rows), report::Percent(s.tpot_mape),
                report::Percent(s.tpot_median_ape), report::Percent(s.ttft_mape),
                report::Percent(s.ttft_median_ape)});
    }
    t.AddRow({"all", std::to_string(cv.summary.rows), report::Percent(cv.summary.tpot_mape),
              report::Percent(cv.summary.tpot_median_ape), report::Percent(cv.summary.ttft_mape),
              report::Percent(cv.summary.ttft_median_ape)});
    out["cross_validation"] =
        Json{{"folds", f.folds}, {"overall", ErrorJson(cv.summary)}, {"groups", groups}};
    cross_validated = std::move(cv.predictions);
    text += fmt::format("\n{}-fold cross-validation, folds by benchmark run:\n", f.folds);
    text += t.Render("  ");
  }
  if (f.leave_one_out && systems.size() >= 2) {
    Json loo = Json::object();
    report::Table t(
        {"held-out GPU", "rows", "TPOT MAPE", "TPOT median", "TTFT MAPE", "TTFT median"});
    for (const auto& [name, spec] : systems) {
      if (!f.json) std::fprintf(stderr, "leaving %s out ...\n", name.c_str());
      auto cv = Unwrap(calib::LeaveOneSystemOut(rows, systems, name, fo, po));
      loo[name] = ErrorJson(cv.summary);
      held_out[name] = cv.summary;
      t.AddRow({name, std::to_string(cv.summary.rows), report::Percent(cv.summary.tpot_mape),
                report::Percent(cv.summary.tpot_median_ape), report::Percent(cv.summary.ttft_mape),
                report::Percent(cv.summary.ttft_median_ape)});
    }
    out["leave_one_gpu_out"] = loo;
    text += "\nLeave one GPU out (fit on the others, predict it from its spec sheet):\n";
    text += t.Render("  ");
  }

  // Write after everything succeeded, all or nothing per file.
  std::vector<std::pair<std::string, std::string>> files;
  if (!f.output.empty()) {
    const auto& [name, spec] = *fitted.begin();
    files.push_back({f.output, SystemJsonWithCalibration(spec, spec.calibration)});
  }
  if (f.write_catalog) {
    for (const auto& [name, spec] : fitted) {
      files.push_back({spec.source, SystemJsonWithCalibration(spec, spec.calibration)});
    }
  }
  if (!f.accuracy_out.empty()) {
    auto record = calib::MakeAccuracyRecord(
        f.csv.substr(f.csv.find_last_of('/') + 1), calib::ReplaySummary(po.benchmark_requests),
        calib::DescribeLoss(fo), f.folds, cross_validated, held_out);
    files.push_back({f.accuracy_out, calib::AccuracyToJson(record).dump(2) + "\n"});
  }
  for (const auto& [path, content] : files) {
    Unwrap(WriteFileAtomically(path, content));
    text += fmt::format("wrote {}\n", path);
  }
  if (f.json) {
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(text.c_str(), stdout);
  }
}

}  // namespace disagg::cli
