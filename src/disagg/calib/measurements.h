// Reading the published-measurement CSV format (public_measurements.csv of
// ../shared/validation: category, source, model, hardware, precision,
// parallelism, isl, osl, concurrency_or_rate, metric, value, notes).
//
// Contract: ReadMeasurements returns every data row of a file with these
// columns (extra columns are ignored; `osl` and `notes` may be absent); a
// missing file, a missing column or a malformed CSV record is an Error naming
// the file (and column or line). Cells are kept as text; `value` is also
// parsed when it is one plain number (NaN otherwise: "1.61/1.61/1.7",
// "~0.17", "252 -> 15"). The helpers parse the free-text cells. Pure values,
// thread-safe to read.
#ifndef DISAGG_CALIB_MEASUREMENTS_H_
#define DISAGG_CALIB_MEASUREMENTS_H_

#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/error.h"

namespace disagg::calib {

struct MeasurementRow {
  std::string category, source, model, hardware, precision, parallelism, isl, osl, concurrency,
      metric, value_text, notes;
  double value = 0;    // value_text as one number, else NaN
  long long line = 0;  // line of the record in its file
};

Result<std::vector<MeasurementRow>> ReadMeasurements(const std::string& path);
Result<std::vector<MeasurementRow>> ParseMeasurements(std::istream& in, const std::string& origin);

// "[S54] Mutinifni/..." -> "S54"; "" when there is no bracketed key.
std::string SourceKey(std::string_view source);

bool Contains(std::string_view s, std::string_view part);

// The number right after `key` in `s`, where `key` starts `s` or follows a
// character that is neither a letter nor a digit ("m=512 n=8192" with key
// "n=" -> 8192; "kv_len~4096" with "kv_len~" -> 4096).
std::optional<double> NumberAfter(std::string_view s, std::string_view key);

// A plain decimal number filling all of `s` (surrounding blanks allowed).
std::optional<double> ParseNumber(std::string_view s);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_MEASUREMENTS_H_
