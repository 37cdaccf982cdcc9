#include "disagg/calib/accuracy.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "disagg/base/files.h"

namespace disagg::calib {
namespace {

std::string Pct(double fraction) { return fmt::format("{:.0f}%", 100 * fraction); }

// Reads the fields ErrorSummaryJson writes. An APE has no upper bound (a
// prediction 30x the measurement is 2900%), a bias is at least -100%.
ErrorSummary ReadSummary(JsonReader& r) {
  ErrorSummary s;
  s.rows = r.Integer("rows", 1, 1'000'000'000);
  s.ttft_mape = r.Number("ttft_mape", 0, 1e6);
  s.tpot_mape = r.Number("tpot_mape", 0, 1e6);
  s.ttft_median_ape = r.Number("ttft_median_ape", 0, 1e6);
  s.tpot_median_ape = r.Number("tpot_median_ape", 0, 1e6);
  s.ttft_bias = r.Number("ttft_median_signed_error", -1, 1e6);
  s.tpot_bias = r.Number("tpot_median_signed_error", -1, 1e6);
  return s;
}

std::string ModeWords(const std::string& mode) {
  if (mode == "agg") return "co-located";
  if (mode == "disagg") return "disaggregated";
  return "all";
}

std::string KeyWords(const AccuracyKey& k) {
  std::string s = k.model == "*" ? "" : k.model + " on ";
  s += k.system == "*" ? "every system" : k.system;
  s += k.backend == "*" ? ", every backend" : ", " + k.backend;
  // fmt, not const char* + string: g++ 12 warns falsely on that (-Wrestrict).
  s += k.mode == "*" ? ", both modes" : fmt::format(", {}", ModeWords(k.mode));
  return s;
}

// The signed median says which way the model errs (a planner reading a
// TTFT wants to know whether it is optimistic).
std::string Figures(const ErrorSummary& e) {
  return fmt::format(
      "TTFT {} / TPOT {} mean absolute error (median {} / {}; median signed {:+.0f}% / "
      "{:+.0f}%)",
      Pct(e.ttft_mape), Pct(e.tpot_mape), Pct(e.ttft_median_ape), Pct(e.tpot_median_ape),
      100 * e.ttft_bias, 100 * e.tpot_bias);
}

}  // namespace

AccuracyRecord MakeAccuracyRecord(const std::string& csv, const std::string& replay,
                                  const std::string& fit, int folds,
                                  const std::vector<RowPrediction>& cross_validated,
                                  const std::map<std::string, ErrorSummary>& leave_one_out) {
  AccuracyRecord rec;
  rec.csv = csv;
  rec.replay = replay;
  rec.fit = fit;
  rec.folds = folds;
  rec.leave_one_out = leave_one_out;
  std::map<AccuracyKey, std::vector<const RowPrediction*>> members;
  for (const auto& p : cross_validated) {
    if (p.row == nullptr || !p.ok) continue;
    const std::string mode = GroupValue(*p.row, "mode");
    if (mode != "agg" && mode != "disagg") continue;  // the headline rows only
    for (const std::string& s : {p.row->system, std::string("*")}) {
      for (const std::string& b : {p.row->backend_name, std::string("*")}) {
        for (const std::string& m : {mode, std::string("*")}) {
          for (const std::string& n : {p.row->model, std::string("*")}) {
            members[{s, b, m, n}].push_back(&p);
          }
        }
      }
    }
  }
  for (const auto& [k, v] : members) rec.groups[k] = Summarize(v);
  return rec;
}

Json AccuracyToJson(const AccuracyRecord& rec) {
  Json groups = Json::array();
  for (const auto& [k, s] : rec.groups) {
    Json g = ErrorSummaryJson(s);
    g["system"] = k.system;
    g["backend"] = k.backend;
    g["mode"] = k.mode;
    g["model"] = k.model;
    groups.push_back(g);
  }
  Json loo = Json::object();
  for (const auto& [name, s] : rec.leave_one_out) loo[name] = ErrorSummaryJson(s);
  return Json{{"note",
               "Cross-validated error of disagg's replay of measured serving benchmarks, cited by "
               "estimate, frontier and simulate. Written by `disagg calibrate --csv --folds k "
               "--accuracy-out`; fractions (0.12 = 12%); \"*\" is every value of a field."},
              {"csv", rec.csv},
              {"replay", rec.replay},
              {"fit", rec.fit},
              {"folds", rec.folds},
              {"groups", groups},
              {"leave_one_gpu_out", loo}};
}

Result<AccuracyRecord> ParseAccuracy(const Json& json, const std::string& origin) {
  AccuracyRecord rec;
  JsonReader r(json, origin);
  r.Ignore("note");
  rec.csv = r.String("csv");
  rec.replay = r.String("replay");
  rec.fit = r.String("fit");
  rec.folds = static_cast<int>(r.Integer("folds", 2, 1000));
  if (const Json* groups = r.Raw("groups")) {
    if (!groups->is_array()) {
      r.Fail("groups", "expected an array of groups, got " + JsonSnippet(*groups));
    } else {
      for (size_t i = 0; i < groups->size() && r.ok(); ++i) {
        JsonReader g((*groups)[i], origin, r.KeyPath("groups") + fmt::format("[{}]", i));
        AccuracyKey k{g.String("system"), g.String("backend"), g.String("mode"), g.String("model")};
        if (g.ok() && k.mode != "agg" && k.mode != "disagg" && k.mode != "*") {
          g.Fail("mode", "expected \"agg\", \"disagg\" or \"*\", got \"" + k.mode + "\"");
        }
        ErrorSummary s = ReadSummary(g);
        if (g.ok() && rec.groups.contains(k)) {
          g.Fail("system", fmt::format("group {} / {} / {} / {} appears twice", k.system, k.backend,
                                       k.mode, k.model));
        }
        r.Absorb(g);
        rec.groups[k] = s;
      }
    }
  } else {
    r.Fail("groups", "missing");
  }
  if (const Json* loo = r.Raw("leave_one_gpu_out")) {
    JsonReader l(*loo, origin, "leave_one_gpu_out");
    if (l.ok()) {
      for (const auto& [name, value] : loo->items()) {
        JsonReader one = l.Object(name);
        ErrorSummary s = ReadSummary(one);
        l.Absorb(one);
        rec.leave_one_out[name] = s;
      }
    }
    r.Absorb(l);
  }
  if (auto done = r.Finish(); !done) return std::unexpected(done.error());
  return rec;
}

std::string CatalogAccuracyPath() { return DataDir() + "/validation/accuracy.json"; }

Result<std::optional<AccuracyRecord>> LoadCatalogAccuracy() {
  const std::string path = CatalogAccuracyPath();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<AccuracyRecord>{};
  auto json = LoadJsonFile(path);
  if (!json) return std::unexpected(json.error());
  auto rec = ParseAccuracy(*json, path);
  if (!rec) return std::unexpected(rec.error());
  return std::optional<AccuracyRecord>(std::move(*rec));
}

AccuracyCitation Lookup(const AccuracyRecord* rec, const std::string& system,
                        const std::string& backend, const std::string& mode) {
  AccuracyCitation c;
  if (rec == nullptr) {
    c.text = "no validation record in this catalog (" + CatalogAccuracyPath() + ")";
    return c;
  }
  c.folds = rec->folds;
  auto cited = [&](const AccuracyKey& k) -> const ErrorSummary* {
    auto it = rec->groups.find(k);
    return it != rec->groups.end() && it->second.rows >= kMinAccuracyRows ? &it->second : nullptr;
  };
  auto cite = [&](Evidence e, const AccuracyKey& k, const ErrorSummary& s, std::string lead) {
    c.evidence = e;
    c.key = k;
    c.errors = s;
    c.text = fmt::format("{}{} on {} measured benchmark rows of {} ({}-fold cross-validated, {})",
                         std::move(lead), Figures(s), s.rows, KeyWords(k), rec->folds, rec->csv);
    return c;
  };
  const bool measured = std::any_of(rec->groups.begin(), rec->groups.end(),
                                    [&](const auto& g) { return g.first.system == system; });
  if (measured) {
    // The narrowest group with enough rows, never another mode's (a
    // disaggregated TTFT carries the KV hand-off and the prefill pool's
    // queue): this system's backend, this system's backends, then the
    // backend on every system, every backend on every system.
    const AccuracyKey exact{system, backend, mode};
    if (const auto* s = cited(exact)) return cite(Evidence::kGroup, exact, *s, "");
    const std::string few = fmt::format("under {} rows of {}; ", kMinAccuracyRows, KeyWords(exact));
    const AccuracyKey coarser{system, "*", mode};
    if (const auto* s = cited(coarser)) {
      return cite(Evidence::kCoarser, coarser, *s, few + "nearest group: ");
    }
    for (const AccuracyKey& k : {AccuracyKey{"*", backend, mode}, AccuracyKey{"*", "*", mode}}) {
      if (const auto* s = cited(k)) {
        return cite(Evidence::kOtherSystems, k, *s, few + "on every system measured: ");
      }
    }
  } else if (!rec->leave_one_out.empty()) {
    auto by_ttft = [](const auto& a, const auto& b) {
      return a.second.ttft_mape < b.second.ttft_mape;
    };
    auto by_tpot = [](const auto& a, const auto& b) {
      return a.second.tpot_mape < b.second.tpot_mape;
    };
    const auto& loo = rec->leave_one_out;
    const auto& best = *std::min_element(loo.begin(), loo.end(), by_ttft);
    const auto& worst = *std::max_element(loo.begin(), loo.end(), by_ttft);
    c.evidence = Evidence::kSpecSheet;
    c.errors = worst.second;
    c.best = best.second;
    c.text = fmt::format(
        "{} was never measured; GPUs predicted from their spec sheets alone (each left out of "
        "the fit) were off by TTFT {} ({}) to {} ({}), TPOT {} to {} mean absolute error ({})",
        system, Pct(best.second.ttft_mape), best.first, Pct(worst.second.ttft_mape), worst.first,
        Pct(std::min_element(loo.begin(), loo.end(), by_tpot)->second.tpot_mape),
        Pct(std::max_element(loo.begin(), loo.end(), by_tpot)->second.tpot_mape), rec->csv);
    return c;
  }
  c.text = fmt::format("nothing in {} covers {} / {} / {}", rec->csv, system, backend, mode);
  return c;
}

AccuracyCitation LookupModel(const AccuracyRecord* rec, const std::string& model,
                             const std::string& system, const std::string& backend,
                             const std::string& mode) {
  AccuracyCitation c;
  if (rec == nullptr) {
    c.text = "no validation record in this catalog (" + CatalogAccuracyPath() + ")";
    return c;
  }
  c.folds = rec->folds;
  const std::pair<AccuracyKey, Evidence> order[] = {
      {{system, backend, mode, model}, Evidence::kGroup},
      {{system, "*", mode, model}, Evidence::kCoarser},
      {{"*", backend, mode, model}, Evidence::kOtherSystems},
      {{"*", "*", mode, model}, Evidence::kOtherSystems}};
  for (const auto& [k, e] : order) {
    auto it = rec->groups.find(k);
    if (it == rec->groups.end() || it->second.rows < kMinAccuracyRows) continue;
    c.evidence = e;
    c.key = k;
    c.errors = it->second;
    c.text = fmt::format("{} on {} measured benchmark rows of {} ({}-fold cross-validated)",
                         Figures(it->second), it->second.rows, KeyWords(k), rec->folds);
    return c;
  }
  const auto all = rec->groups.find(AccuracyKey{"*", "*", mode, model});
  const long long rows = all == rec->groups.end() ? 0 : all->second.rows;
  // Rows the record leaves out (disaggregated rows without worker counts,
  // unrecorded speculative decoding ...) are not counted: "fully described".
  const std::string where = mode == "*" ? "" : fmt::format(" {}", ModeWords(mode));
  c.text = rows == 0 ? fmt::format("no fully described{} rows of {} in {}", where, model, rec->csv)
                     : fmt::format("only {} fully described{} rows of {} in {}, too few to cite",
                                   rows, where, model, rec->csv);
  return c;
}

Json CitationJson(const AccuracyCitation& c) {
  static constexpr const char* kNames[] = {"group", "coarser_group", "other_systems", "spec_sheet",
                                           "none"};
  Json j{{"evidence", kNames[static_cast<int>(c.evidence)]}, {"text", c.text}};
  if (c.evidence == Evidence::kNone) return j;
  j["folds"] = c.folds;
  if (c.evidence == Evidence::kSpecSheet) {
    j["worst"] = ErrorSummaryJson(c.errors);
    j["best"] = ErrorSummaryJson(c.best);
  } else {
    j["group"] = Json{{"system", c.key.system},
                      {"backend", c.key.backend},
                      {"mode", c.key.mode},
                      {"model", c.key.model}};
    j["errors"] = ErrorSummaryJson(c.errors);
  }
  return j;
}

}  // namespace disagg::calib
