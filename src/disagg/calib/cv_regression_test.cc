// Regression guard on the cross-validated error of the end-to-end
// calibration against ../shared/validation/silicon_calibration.csv.
//
// The full figures (`disagg calibrate --csv ... --folds 5`, docs/
// validation.md) take many minutes on two cores, too long for the unit-test
// suite. This test runs a reduced but honest version of the same procedure:
// the rows of a few systems, k-fold cross-validation by benchmark run
// (calib::CrossValidate: fit on k-1 folds with NLopt, predict the held-out
// fold by replaying its benchmarks), a small optimiser budget and short
// benchmarks. It fails when the held-out error grows more than a set margin
// above the figures recorded in data/validation/cv_baseline.json, or when
// the share of rows the model can predict falls below 90%.
//
// The recorded figures were produced by this very test (it prints them); they
// are a regression baseline for changes to the cost model, simulator, reader
// or catalog, not a claim about accuracy. The configuration is read from the
// same file, so the figures and the configuration that produced them cannot
// drift apart; re-record both together when an improvement lowers the error.
// Skips cleanly when ../shared is absent.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "disagg/base/csv.h"
#include "disagg/base/files.h"
#include "disagg/base/json_reader.h"
#include "disagg/calib/e2e_fit.h"
#include "disagg/calib/silicon.h"
#include "disagg/calib/validate.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/testing/shared_data.h"

namespace disagg::calib {
namespace {

constexpr const char* kCsv = "validation/silicon_calibration.csv";

// The reduced procedure and the figures it gave, as recorded.
struct Baseline {
  std::vector<std::string> systems;
  int folds = 0;
  int max_test_rows = 0;  // headline rows cross-validated, evenly by file line
  E2eFitOptions fit;
  int predict_rounds = 0;
  double tpot_mape = 0, ttft_mape = 0, tpot_median_ape = 0, ttft_median_ape = 0;
  long long rows = 0;
  double tpot_margin = 0, ttft_margin = 0, min_coverage = 0;
};

Result<Baseline> LoadBaseline(const std::string& path) {
  auto json = LoadJsonFile(path);
  if (!json) return std::unexpected(json.error());
  Baseline b;
  JsonReader top(*json, path);
  JsonReader config = top.Object("configuration");
  if (const Json* systems = config.Raw("systems"); systems != nullptr && systems->is_array()) {
    for (const auto& s : *systems) {
      if (s.is_string()) b.systems.push_back(s.get<std::string>());
    }
  }
  if (b.systems.empty()) config.Fail("systems", "expected a non-empty array of system names");
  b.folds = static_cast<int>(config.Integer("folds", 2, 20));
  b.max_test_rows = static_cast<int>(config.Integer("max_test_rows", 1, 100000));
  b.fit.max_rows = static_cast<int>(config.Integer("fit_max_rows", 1, 100000));
  b.fit.max_evals = static_cast<int>(config.Integer("fit_max_evals", 1, 100000));
  b.fit.rounds = static_cast<int>(config.Integer("fit_rounds", 1, 100));
  b.fit.ttft_weight = config.Number("ttft_weight", 0, 10);
  if (auto loss = ParseFitLoss(config.String("loss")); loss) {
    b.fit.loss = *loss;
  } else {
    config.Fail("loss", loss.error().message);
  }
  b.fit.huber = config.NumberOr("huber", b.fit.huber, 1e-3, 10);
  b.fit.parallel = config.BoolOr("parallel", false);
  b.predict_rounds = static_cast<int>(config.Integer("predict_rounds", 1, 100));
  top.Absorb(config);
  b.tpot_mape = top.Number("tpot_mape", 0, 100);
  b.ttft_mape = top.Number("ttft_mape", 0, 100);
  b.tpot_median_ape = top.Number("tpot_median_ape", 0, 100);
  b.ttft_median_ape = top.Number("ttft_median_ape", 0, 100);
  b.rows = top.Integer("rows", 1, 1000000);
  JsonReader margin = top.Object("margin");
  b.tpot_margin = margin.Number("tpot", 0, 1);
  b.ttft_margin = margin.Number("ttft", 0, 1);
  b.min_coverage = margin.Number("min_coverage", 0, 1);
  top.Absorb(margin);
  // Documentation fields: what produced the figures and when.
  top.Ignore("coverage");
  top.Ignore("date");
  top.Ignore("produced_by");
  top.Ignore("note");
  auto done = top.Finish();
  if (!done) return std::unexpected(done.error());
  return b;
}

// Rows of each system as the file has them, before any reader filtering: the
// denominator of coverage.
std::map<std::string, long long> RawRowsBySystem(const std::string& path) {
  std::map<std::string, long long> out;
  std::ifstream in(path);
  CsvReader reader(in, path);
  std::vector<std::string> fields;
  auto first = reader.Next(fields);
  if (!first || !*first) return out;
  auto column = std::find(fields.begin(), fields.end(), "system") - fields.begin();
  while (true) {
    auto more = reader.Next(fields);
    if (!more || !*more) break;
    if (column < static_cast<long>(fields.size())) ++out[fields[column]];
  }
  return out;
}

// Every n-th row by file line, so the reduced set spans the whole file (all
// backends, models and modes of the system) rather than its first runs.
std::vector<const SiliconRow*> Thin(std::vector<const SiliconRow*> rows, int max_rows) {
  std::sort(rows.begin(), rows.end(),
            [](const SiliconRow* a, const SiliconRow* b) { return a->line < b->line; });
  if (static_cast<int>(rows.size()) <= max_rows) return rows;
  std::vector<const SiliconRow*> out;
  double step = static_cast<double>(rows.size()) / max_rows;
  for (int i = 0; i < max_rows; ++i) out.push_back(rows[static_cast<size_t>(i * step)]);
  return out;
}

TEST(CvRegressionTest, CrossValidatedErrorStaysWithinMarginOfRecordedFigures) {
  DISAGG_REQUIRE_SHARED(kCsv);
  const std::string baseline_path = DataDir() + "/validation/cv_baseline.json";
  auto baseline = LoadBaseline(baseline_path);
  ASSERT_TRUE(baseline.has_value()) << baseline.error().message;
  const Baseline& b = *baseline;
  const auto start = std::chrono::steady_clock::now();

  const std::string csv = testing::SharedFile(kCsv);
  auto data = ReadSilicon(csv);
  ASSERT_TRUE(data.has_value()) << data.error().message;
  const std::set<std::string> wanted(b.systems.begin(), b.systems.end());
  std::map<std::string, hardware::SystemSpec> systems;
  for (const auto& name : b.systems) {
    auto spec = hardware::LoadSystem(name);
    ASSERT_TRUE(spec.has_value()) << spec.error().message;
    systems[name] = *spec;
  }

  // Coverage counts every row of the chosen systems in the file: rows the
  // reader skips (unsupported model, impossible mapping) are not covered.
  long long raw = 0;
  for (const auto& [name, n] : RawRowsBySystem(csv)) {
    if (wanted.contains(name)) raw += n;
  }
  ASSERT_GT(raw, 0) << "no rows of the baseline's systems in " << csv;
  std::vector<const SiliconRow*> headline;
  std::vector<SiliconRow> others;  // read, but kept out of fits (validate.h Headline)
  for (const auto& r : data->rows) {
    if (!wanted.contains(r.system)) continue;
    if (Headline(r)) {
      headline.push_back(&r);
    } else {
      others.push_back(r);
    }
  }
  ASSERT_FALSE(headline.empty());

  PredictOptions po;
  po.rounds = b.predict_rounds;
  po.parallel = b.fit.parallel;
  auto cv = CrossValidate(Thin(headline, b.max_test_rows), systems, b.folds, b.fit, po);
  ASSERT_TRUE(cv.has_value()) << cv.error().message;

  // Whether the rows kept out of the fits can be predicted at all (the
  // catalog calibration is enough for that): the same thinning, scaled to
  // their share, keeps this cheap.
  const int others_cap = std::max<int>(
      1, static_cast<int>(static_cast<double>(b.max_test_rows) * others.size() / headline.size()));
  std::vector<const SiliconRow*> other_ptrs;
  for (const auto& r : others) other_ptrs.push_back(&r);
  std::vector<SiliconRow> other_sample;
  for (const auto* r : Thin(other_ptrs, others_cap)) other_sample.push_back(*r);
  po.systems = systems;
  auto other_preds = PredictRows(other_sample, po);

  // Coverage = rows read / rows in the file x rows predicted / rows tried.
  // The second factor is measured on the thinned rows, so it is an estimate
  // of what the full `disagg validate` run reports.
  long long tried = static_cast<long long>(cv->predictions.size() + other_preds.size());
  long long ok = 0;
  for (const auto& p : cv->predictions) ok += p.ok;
  for (const auto& p : other_preds) ok += p.ok;
  const double read_share = static_cast<double>(headline.size() + others.size()) / raw;
  const double coverage = read_share * (tried > 0 ? static_cast<double>(ok) / tried : 0.0);

  const ErrorSummary& s = cv->summary;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Printed in the file's field names, so re-recording is a copy.
  std::cout << fmt::format(
      "cross-validated ({} folds by run, {}): \"rows\": {}, \"tpot_mape\": {:.4f}, "
      "\"ttft_mape\": {:.4f}, \"tpot_median_ape\": {:.4f}, \"ttft_median_ape\": {:.4f}, "
      "\"coverage\": {:.4f}  ({:.1f} s)\n",
      b.folds, fmt::join(b.systems, "+"), s.rows, s.tpot_mape, s.ttft_mape, s.tpot_median_ape,
      s.ttft_median_ape, coverage, seconds);
  RecordProperty("tpot_mape", fmt::format("{:.4f}", s.tpot_mape));
  RecordProperty("ttft_mape", fmt::format("{:.4f}", s.ttft_mape));
  RecordProperty("coverage", fmt::format("{:.4f}", coverage));

  const std::string rerecord = fmt::format(
      " (recorded in {}; if the change is intended, re-record the figures the test prints)",
      baseline_path);
  EXPECT_LE(s.tpot_mape, b.tpot_mape + b.tpot_margin) << "TPOT MAPE grew" << rerecord;
  EXPECT_LE(s.tpot_median_ape, b.tpot_median_ape + b.tpot_margin)
      << "TPOT median error grew" << rerecord;
  EXPECT_LE(s.ttft_mape, b.ttft_mape + b.ttft_margin) << "TTFT MAPE grew" << rerecord;
  EXPECT_LE(s.ttft_median_ape, b.ttft_median_ape + b.ttft_margin)
      << "TTFT median error grew" << rerecord;
  EXPECT_GE(coverage, b.min_coverage) << "fewer rows predicted" << rerecord;
  // A different row count means the errors are over other rows (a model
  // added to the catalog, a reader change): not a failure, but the figures
  // no longer compare like with like.
  if (s.rows != b.rows) {
    std::cout << fmt::format("{} rows predicted, {} recorded: re-record the figures in {}\n",
                             s.rows, b.rows, baseline_path);
  }
  // A much smaller error is worth recording, so the guard stays tight.
  if (s.tpot_mape < b.tpot_mape - b.tpot_margin || s.ttft_mape < b.ttft_mape - b.ttft_margin) {
    std::cout << "cross-validated error is well below the recorded figures: re-record them in "
              << baseline_path << "\n";
  }
}

}  // namespace
}  // namespace disagg::calib
