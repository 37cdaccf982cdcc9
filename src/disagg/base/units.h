// Parsing of quantities with units at the CLI edge, into SI.
//
// Contract: pure functions, thread-safe. Durations: "10s", "50ms", "250us",
// "2m", "1h", or a bare number meaning seconds. Failure returns an Error that
// names `what` (the flag) and the text.
#ifndef DISAGG_BASE_UNITS_H_
#define DISAGG_BASE_UNITS_H_

#include <string_view>

#include "disagg/base/error.h"

namespace disagg {

inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
inline constexpr double kGB = 1e9;
inline constexpr double kTera = 1e12;

// Returns seconds; rejects negative, non-finite and unknown suffixes.
Result<double> ParseDuration(std::string_view text, std::string_view what);

// Parses a finite number (no unit); `what` names the flag or field.
Result<double> ParseNumber(std::string_view text, std::string_view what);

// Formats seconds with a readable unit: "812 us", "35.2 ms", "1.20 s".
std::string FormatDuration(double seconds);

}  // namespace disagg

#endif  // DISAGG_BASE_UNITS_H_
