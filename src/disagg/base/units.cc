#include "disagg/base/units.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace disagg {

Result<double> ParseNumber(std::string_view text, std::string_view what) {
  std::string s(text);
  char* end = nullptr;
  double x = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(x)) {
    return Fail("{}: expected a number, got '{}'", what, text);
  }
  return x;
}

Result<double> ParseDuration(std::string_view text, std::string_view what) {
  std::string s(text);
  char* end = nullptr;
  double x = std::strtod(s.c_str(), &end);
  if (s.empty() || end == s.c_str() || !std::isfinite(x)) {
    return Fail("{}: expected a duration such as 10s or 50ms, got '{}'", what, text);
  }
  std::string_view unit(end);
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "ms") {
    scale = 1e-3;
  } else if (unit == "us") {
    scale = 1e-6;
  } else if (unit == "ns") {
    scale = 1e-9;
  } else if (unit == "m" || unit == "min") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else {
    return Fail("{}: unknown duration unit '{}' in '{}' (use ns, us, ms, s, m or h)", what, unit,
                text);
  }
  if (x < 0) return Fail("{}: duration must not be negative, got '{}'", what, text);
  return x * scale;
}

std::string FormatDuration(double seconds) {
  double a = std::fabs(seconds);
  if (a < 1e-3) return fmt::format("{:.0f} us", seconds * 1e6);
  if (a < 1.0) return fmt::format("{:.3g} ms", seconds * 1e3);
  return fmt::format("{:.3g} s", seconds);
}

}  // namespace disagg
