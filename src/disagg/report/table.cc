#include "disagg/report/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace disagg::report {
namespace {

bool LooksNumeric(const std::string& s) {
  if (s.empty()) return false;
  char c = s[0];
  return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.';
}

}  // namespace

std::string Table::Render(const std::string& indent) const {
  std::vector<size_t> width(header_.size(), 0);
  for (size_t i = 0; i < header_.size(); ++i) width[i] = header_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string out = indent;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      bool right = !header && LooksNumeric(cell);
      if (i > 0) out += "  ";
      std::string pad(width[i] - cell.size(), ' ');
      out += right ? pad + cell : cell + (i + 1 < width.size() ? pad : "");
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_, true);
  size_t total = 0;
  for (size_t w : width) total += w;
  total += 2 * (width.empty() ? 0 : width.size() - 1);
  out += indent + std::string(total, '-') + "\n";
  for (const auto& row : rows_) out += line(row, false);
  return out;
}

std::string Thousands(double value) {
  if (!std::isfinite(value)) return "-";
  long long v = std::llround(value);
  bool neg = v < 0;
  std::string digits = std::to_string(neg ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return neg ? "-" + out : out;
}

std::string Bytes(double bytes) {
  double a = std::fabs(bytes);
  if (a >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GiB", bytes / (1024.0 * 1024 * 1024));
  if (a >= 1024.0 * 1024) return fmt::format("{:.0f} MiB", bytes / (1024.0 * 1024));
  if (a >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.0f} B", bytes);
}

std::string ByteRate(double r) {
  double a = std::fabs(r);
  if (a >= 1e9) return fmt::format("{:.2f} GB/s", r / 1e9);
  if (a >= 1e6) return fmt::format("{:.0f} MB/s", r / 1e6);
  return fmt::format("{:.0f} kB/s", r / 1e3);
}

std::string Seconds(double s) {
  double a = std::fabs(s);
  if (a == 0) return "0";
  if (a < 1e-3) return fmt::format("{:.0f} us", s * 1e6);
  if (a < 1.0) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} s", s);
}

std::string Sig3(double value) {
  if (!std::isfinite(value)) return "-";
  double a = std::fabs(value);
  if (a >= 1000) return Thousands(value);
  if (a == 0) return "0";
  return fmt::format("{:.3g}", value);
}

std::string Percent(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return fmt::format("{:.0f}%", fraction * 100);
}

}  // namespace disagg::report
