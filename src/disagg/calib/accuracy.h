// The measured accuracy of the model, as a record every answer can cite.
//
// `disagg calibrate --csv --folds k --accuracy-out FILE` writes the cross-
// validated errors of its replay (every held-out row predicted by a fit that
// did not see it) per system, backend and mode, with the coarser groups
// (every backend, every mode, every system) and, with --leave-one-gpu-out,
// the error of each GPU predicted from its spec sheet alone. The catalog
// keeps that record as data/validation/accuracy.json; `estimate`, `frontier`
// and `simulate` look up the group their answer belongs to and print it, so
// a planner sees how far the model was off on measured runs like theirs, or
// that nothing like them was measured.
//
// Contract: errors are fractions (0.12 = 12%). ParseAccuracy rejects unknown
// keys, missing fields and out-of-range numbers with an Error naming the
// file and the key path; LoadCatalogAccuracy returns an empty optional when
// the catalog has no record (a user's own data folder) and an Error when the
// record is there but unusable. Lookup never fails: it says what evidence
// there is. Pure functions; thread-safe.
#ifndef DISAGG_CALIB_ACCURACY_H_
#define DISAGG_CALIB_ACCURACY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/base/json_reader.h"
#include "disagg/calib/e2e_fit.h"
#include "disagg/calib/validate.h"

namespace disagg::calib {

// Groups with fewer rows than this are not cited; the lookup falls back to a
// coarser group. Below about 20 rows a MAPE moves by several points when one
// run is added or dropped (the file holds up to 8 copies of one run).
inline constexpr long long kMinAccuracyRows = 20;

// "*" in a field stands for every value of it.
struct AccuracyKey {
  std::string system, backend, mode;  // mode: "agg" or "disagg"
  std::string model = "*";            // catalog name
  auto operator<=>(const AccuracyKey&) const = default;
};

struct AccuracyRecord {
  std::string csv;     // the measurement file's name
  std::string replay;  // how rows were replayed (ReplaySummary)
  std::string fit;     // what the fits minimised (DescribeLoss)
  int folds = 0;       // cross-validation folds, by benchmark run
  std::map<AccuracyKey, ErrorSummary> groups;
  std::map<std::string, ErrorSummary> leave_one_out;  // held-out system -> its error
};

// The record of a cross-validation (and optional leave-one-GPU-out runs):
// every group of system x backend x mode x model, with "*" for each field,
// that has at least one headline row (agg or disagg, fully described).
AccuracyRecord MakeAccuracyRecord(const std::string& csv, const std::string& replay,
                                  const std::string& fit, int folds,
                                  const std::vector<RowPrediction>& cross_validated,
                                  const std::map<std::string, ErrorSummary>& leave_one_out);

Json AccuracyToJson(const AccuracyRecord& record);
Result<AccuracyRecord> ParseAccuracy(const Json& json, const std::string& origin);

// The catalog's record, DataDir()/validation/accuracy.json.
std::string CatalogAccuracyPath();
Result<std::optional<AccuracyRecord>> LoadCatalogAccuracy();

enum class Evidence {
  kGroup,         // measured runs of this system, backend and mode
  kCoarser,       // too few of those: every backend of this system in this mode
  kOtherSystems,  // too few of those too: this mode on every measured system
  kSpecSheet,     // system never measured: GPUs predicted from their spec sheets alone
  kNone,          // no record, or nothing in it applies
};

struct AccuracyCitation {
  Evidence evidence = Evidence::kNone;
  AccuracyKey key;      // the group cited (kGroup, kCoarser, kOtherSystems)
  ErrorSummary errors;  // its figures; for kSpecSheet the worst held-out GPU's
  ErrorSummary best;    // kSpecSheet: the best held-out GPU's figures
  int folds = 0;
  std::string text;  // one sentence for reports
};

// What the record says about answers for `system` under `backend` ("*" for
// every backend) in `mode` ("agg", "disagg" or "*"). `record` may be null
// (no record): the citation says so.
AccuracyCitation Lookup(const AccuracyRecord* record, const std::string& system,
                        const std::string& backend, const std::string& mode);

// What the record says of answers for `model` (a catalog name): its own
// measured rows in `mode`, narrowest first (this system and backend, this
// system, this backend on every system, every system); kNone when fewer than
// kMinAccuracyRows of them were measured in that mode.
AccuracyCitation LookupModel(const AccuracyRecord* record, const std::string& model,
                             const std::string& system, const std::string& backend,
                             const std::string& mode);

Json CitationJson(const AccuracyCitation& citation);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_ACCURACY_H_
