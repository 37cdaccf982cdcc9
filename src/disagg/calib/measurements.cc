#include "disagg/calib/measurements.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>

#include "disagg/base/csv.h"

namespace disagg::calib {
namespace {

// Columns the kernel and step parsers read; `osl` and `notes` are optional.
constexpr std::string_view kRequired[] = {
    "category",  "source",      "model", "hardware",
    "precision", "parallelism", "isl",   "concurrency_or_rate",
    "metric",    "value"};

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<double> ParseNumber(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Result<std::vector<MeasurementRow>> ParseMeasurements(std::istream& in, const std::string& origin) {
  CsvReader reader(in, origin);
  std::vector<std::string> f;
  auto first = reader.Next(f);
  if (!first) return std::unexpected(first.error());
  if (!*first) return Fail("{}: empty file, expected a header row", origin);
  CsvHeader h(f);
  std::string missing;
  for (std::string_view col : kRequired) {
    if (!h.Find(col)) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", col);
  }
  if (!missing.empty()) {
    return Fail(
        "{}: missing column(s) {} (a measurement file has the columns category, source, "
        "model, hardware, precision, parallelism, isl, osl, concurrency_or_rate, metric, "
        "value, notes)",
        origin, missing);
  }
  std::vector<MeasurementRow> rows;
  while (true) {
    auto more = reader.Next(f);
    if (!more) return std::unexpected(more.error());
    if (!*more) break;
    MeasurementRow r;
    r.category = h.Get(f, "category");
    r.source = h.Get(f, "source");
    r.model = h.Get(f, "model");
    r.hardware = h.Get(f, "hardware");
    r.precision = h.Get(f, "precision");
    r.parallelism = h.Get(f, "parallelism");
    r.isl = h.Get(f, "isl");
    r.osl = h.Get(f, "osl");
    r.concurrency = h.Get(f, "concurrency_or_rate");
    r.metric = h.Get(f, "metric");
    r.value_text = h.Get(f, "value");
    r.notes = h.Get(f, "notes");
    r.value = ParseNumber(r.value_text).value_or(std::nan(""));
    r.line = reader.line();
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<MeasurementRow>> ReadMeasurements(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail("{}: cannot open the measurement file", path);
  return ParseMeasurements(in, path);
}

std::string SourceKey(std::string_view source) {
  size_t a = source.find('['), b = source.find(']');
  if (a == std::string_view::npos || b == std::string_view::npos || b < a) return "";
  return std::string(source.substr(a + 1, b - a - 1));
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

std::optional<double> NumberAfter(std::string_view s, std::string_view key) {
  for (size_t at = s.find(key); at != std::string_view::npos; at = s.find(key, at + 1)) {
    if (!key.empty() && at > 0 && IsAlnum(s[at - 1]) && IsAlnum(key.front())) continue;
    size_t begin = at + key.size();
    size_t end = begin;
    while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.')) {
      ++end;
    }
    if (end == begin) continue;
    if (auto v = ParseNumber(s.substr(begin, end - begin))) return v;
  }
  return std::nullopt;
}

}  // namespace disagg::calib
