// Plain-text tables and number formatting for terminal output.
//
// Contract: pure formatting, thread-safe. Table right-aligns cells that look
// numeric and left-aligns the rest; no colours, no terminal queries, so the
// output is byte-identical across runs and machines.
#ifndef DISAGG_REPORT_TABLE_H_
#define DISAGG_REPORT_TABLE_H_

#include <string>
#include <vector>

namespace disagg::report {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t rows() const { return rows_.size(); }
  // Renders with two spaces between columns and a rule under the header;
  // each line is prefixed by `indent`.
  std::string Render(const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// 1234567 -> "1,234,567".
std::string Thousands(double value);
// Bytes -> "17.6 GiB", "812 MiB", "4.0 KiB".
std::string Bytes(double bytes);
// Bytes/s -> "1.20 GB/s", "850 MB/s" (decimal, as network rates are quoted).
std::string ByteRate(double bytes_per_s);
// Seconds -> "812 us", "35.2 ms", "1.20 s".
std::string Seconds(double s);
// A value with 3 significant digits: 0.0123 -> "0.0123", 1234.5 -> "1,235".
std::string Sig3(double value);
// Fraction -> "41%".
std::string Percent(double fraction);

}  // namespace disagg::report

#endif  // DISAGG_REPORT_TABLE_H_
