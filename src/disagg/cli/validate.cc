// `disagg validate`: predict measured serving runs and report the error.
#include "disagg/calib/validate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <sstream>

#include "disagg/base/files.h"
#include "disagg/cli/commands.h"
#include "disagg/cli/common.h"
#include "disagg/report/table.h"

namespace disagg::cli {
namespace {

struct ValidateFlags {
  std::string csv;
  std::string by = "system,mode";
  std::string rows_out;
  bool json = false;
  bool strict = false;
  int rounds = 10;
  int benchmark_requests = calib::kBenchmarkRequests;
  double mtp_acceptance = perf::kMtpAcceptance;
};

std::string KeyList() { return fmt::format("{}", fmt::join(calib::kGroupKeys, ", ")); }

std::vector<std::string> SplitKeys(const std::string& text) {
  std::vector<std::string> keys;
  std::stringstream ss(text);
  std::string k;
  while (std::getline(ss, k, ',')) {
    if (k.empty()) continue;
    if (std::ranges::find(calib::kGroupKeys, k) == std::end(calib::kGroupKeys)) {
      DieF("--by: unknown key '{}' (expected {})", k, KeyList());
    }
    keys.push_back(k);
  }
  return keys;
}

Json FloorJson(const calib::MeasurementFloor& f) {
  return Json{{"rows", f.rows},
              {"repeated_rows", f.repeated_rows},
              {"disagreeing_rows", f.disagreeing},
              {"ttft_mape", f.ttft_mape},
              {"tpot_mape", f.tpot_mape}};
}

void RunValidate(const ValidateFlags& f) {
  if (f.csv.empty()) DieF("--csv: required");
  RequirePositive(f.rounds, "--rounds");
  RequirePositive(f.benchmark_requests, "--benchmark-requests");
  if (!(f.mtp_acceptance >= 0 && f.mtp_acceptance <= 1)) {
    DieF("--mtp-acceptance: {} is not a probability (0-1)", f.mtp_acceptance);
  }
  auto keys = SplitKeys(f.by);
  if (!f.rows_out.empty()) Unwrap(CheckWritable(f.rows_out, "--rows-out"));
  calib::SiliconOptions so;
  so.strict = f.strict;
  calib::SiliconData data = Unwrap(calib::ReadSilicon(f.csv, so));
  calib::PredictOptions po;
  po.rounds = f.rounds;
  po.benchmark_requests = f.benchmark_requests;
  po.mtp_acceptance = f.mtp_acceptance;
  auto predictions = calib::PredictRows(data.rows, po);

  std::map<std::string, long long> skipped = data.skipped;
  std::vector<const calib::RowPrediction*> described, assumed, beyond, dep, mtp;
  for (const auto& p : predictions) {
    if (!p.ok) {
      ++skipped[p.reason];
      continue;
    }
    if (calib::Headline(*p.row)) {
      described.push_back(&p);
    } else {
      std::string mode = calib::GroupValue(*p.row, "mode");
      (mode == "tp-beyond-domain" ? beyond
       : mode == "dep-assumed"    ? dep
       : mode == "mtp-assumed"    ? mtp
                                  : assumed)
          .push_back(&p);
    }
  }
  // Groups over the fully described rows; the assumed rows form their own.
  // Keyed by their reading order, each with its label.
  struct Group {
    std::string label;
    std::vector<const calib::RowPrediction*> rows;
  };
  std::map<std::string, Group> groups;
  for (const auto* p : described) {
    std::string order, label;
    for (const auto& k : keys) {
      order += calib::GroupOrder(*p->row, k) + '\x1f';
      label += (label.empty() ? "" : " / ") + calib::GroupValue(*p->row, k);
    }
    Group& g = groups[order];
    g.label = label;
    g.rows.push_back(p);
  }
  auto overall = calib::Summarize(described);
  auto floor = calib::FloorOf(described);
  auto assumed_summary = calib::Summarize(assumed);
  auto beyond_summary = calib::Summarize(beyond);
  auto dep_summary = calib::Summarize(dep);
  auto mtp_summary = calib::Summarize(mtp);
  long long predicted = static_cast<long long>(described.size() + assumed.size() + beyond.size() +
                                               dep.size() + mtp.size());

  if (!f.rows_out.empty()) {
    std::string csv =
        "id,line,system,backend,model,mode,isl,osl,concurrency,measured_ttft_s,"
        "predicted_ttft_s,ttft_error,measured_tpot_s,predicted_tpot_s,tpot_error,"
        "status\n";
    for (const auto& p : predictions) {
      const auto& r = *p.row;
      csv +=
          fmt::format("{},{},{},{},{},{},{},{},{},{:.6g},", r.id, r.line, r.system, r.backend_name,
                      r.model, calib::GroupValue(r, "mode"), r.isl, r.osl, r.concurrency, r.ttft);
      csv += p.ok ? fmt::format("{:.6g},{:.4f},{:.6g},{:.6g},{:.4f},ok\n", p.ttft, p.ttft_error(),
                                r.tpot, p.tpot, p.tpot_error())
                  : fmt::format(",,{:.6g},,,{}\n", r.tpot, p.reason);
    }
    // Rows the reader could not use, with the reason and what was wrong.
    auto quoted = [](const std::string& text) {
      std::string q = "\"";
      for (char ch : text) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      return q + "\"";
    };
    for (const auto& k : data.skipped_rows) {
      csv += fmt::format("{},{},{},,,,,,,,,,,,,{}\n", quoted(k.id), k.line, k.system,
                         quoted("skipped: " + k.reason + ": " + k.detail));
    }
    Unwrap(WriteFileAtomically(f.rows_out, csv));
  }

  if (f.json) {
    Json j = calib::ErrorSummaryJson(overall);
    j["rows_read"] = data.rows_read;
    j["rows_predicted"] = predicted;
    j["coverage"] = data.rows_read > 0 ? static_cast<double>(predicted) / data.rows_read : 0.0;
    j["skipped_by_reason"] = skipped;
    j["group_by"] = keys;
    Json g = Json::object();
    for (const auto& [order, group] : groups) {
      g[group.label] = calib::ErrorSummaryJson(calib::Summarize(group.rows));
      g[group.label]["measurement_floor"] = FloorJson(calib::FloorOf(group.rows));
    }
    j["groups"] = g;
    j["measurement_floor"] = FloorJson(floor);
    j["not_fully_described"] = calib::ErrorSummaryJson(assumed_summary);
    j["tp_beyond_domain"] = calib::ErrorSummaryJson(beyond_summary);
    j["dep_assumed"] = calib::ErrorSummaryJson(dep_summary);
    j["mtp_assumed"] = calib::ErrorSummaryJson(mtp_summary);
    j["rounds"] = f.rounds;
    j["benchmark_requests"] = f.benchmark_requests;
    j["mtp_acceptance"] = f.mtp_acceptance;
    std::fputs((j.dump(2) + "\n").c_str(), stdout);
    return;
  }
  std::string out = fmt::format(
      "{}: {} rows read, {} predicted ({:.0f}% coverage); every row simulated as its closed-loop "
      "benchmark ({})\n",
      f.csv, data.rows_read, predicted,
      data.rows_read > 0 ? 100.0 * predicted / data.rows_read : 0.0,
      calib::ReplaySummary(f.benchmark_requests));
  for (const auto& [reason, n] : skipped) out += fmt::format("  skipped {}: {}\n", n, reason);
  report::Table t({"group", "rows", "TTFT MAPE", "TTFT median", "TTFT bias", "TPOT MAPE",
                   "TPOT median", "TPOT bias"});
  auto row = [&](const std::string& name, const calib::ErrorSummary& s) {
    t.AddRow({name, std::to_string(s.rows), report::Percent(s.ttft_mape),
              report::Percent(s.ttft_median_ape), fmt::format("{:+.0f}%", 100 * s.ttft_bias),
              report::Percent(s.tpot_mape), report::Percent(s.tpot_median_ape),
              fmt::format("{:+.0f}%", 100 * s.tpot_bias)});
  };
  for (const auto& [order, group] : groups) row(group.label, calib::Summarize(group.rows));
  row("all fully described rows", overall);
  row("disagg rows not fully described (assumed 1P+1D)", assumed_summary);
  row("agg rows wider than the NVLink domain (columns suspect)", beyond_summary);
  row("MoE pools with TP > 8 on NVL72, read as attention DP", dep_summary);
  row("speculative decoding no column records (MTP, acceptance assumed)", mtp_summary);
  out += "\n";
  out += t.Render("  ");
  out += "  (bias: median signed error; + means predicted slower than measured)\n";
  out += fmt::format(
      "  Measurement floor: {} of the {} fully described rows share their description with "
      "another row, {} of them measured differently; predicting each description by its best "
      "single value gives TTFT MAPE {}, TPOT MAPE {} over all {} rows, the least any model of "
      "these inputs can reach.\n",
      floor.repeated_rows, floor.rows, floor.disagreeing,
      fmt::format("{:.1f}%", 100 * floor.ttft_mape), fmt::format("{:.1f}%", 100 * floor.tpot_mape),
      floor.rows);
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void AddValidateCommand(CLI::App& app) {
  auto f = std::make_shared<ValidateFlags>();
  auto* cmd = app.add_subcommand("validate",
                                 "predict measured serving runs (silicon_calibration.csv format) "
                                 "and report the error of TTFT and TPOT");
  cmd->add_option("--csv", f->csv, "measurements in the silicon_calibration.csv format")
      ->required();
  cmd->add_option("--by", f->by, "group keys, comma-separated: " + KeyList())
      ->capture_default_str();
  cmd->add_option("--rows-out", f->rows_out, "write every row's prediction and error as CSV");
  cmd->add_option("--rounds", f->rounds,
                  "simulated requests per client after the ramp (replay length)")
      ->capture_default_str();
  cmd->add_option("--mtp-acceptance", f->mtp_acceptance,
                  "draft acceptance assumed for rows that ran MTP speculative decoding no column "
                  "records (the mtp-assumed group)")
      ->capture_default_str();
  cmd->add_option("--benchmark-requests", f->benchmark_requests,
                  "requests each benchmark client sent; the first is the opening burst")
      ->capture_default_str();
  cmd->add_flag("--strict", f->strict, "stop at the first unusable row (exit 2)");
  cmd->add_flag("--json", f->json, "machine-readable output on stdout");
  cmd->callback([f] { RunValidate(*f); });
}

}  // namespace disagg::cli
