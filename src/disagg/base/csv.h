// Streaming CSV reading (RFC 4180: quoted fields, doubled quotes, CRLF).
//
// Contract: CsvReader reads one record at a time from a stream, so memory
// does not grow with the file; a record may span lines inside quotes. Errors
// (unterminated quote at end of file) name the origin and line. Not
// thread-safe per instance. CsvHeader maps column names to indices.
#ifndef DISAGG_BASE_CSV_H_
#define DISAGG_BASE_CSV_H_

#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/error.h"

namespace disagg {

class CsvReader {
 public:
  CsvReader(std::istream& in, std::string origin) : in_(in), origin_(std::move(origin)) {}

  // Reads the next record into `fields`. Returns false at end of input;
  // an Error for a malformed record. Blank lines are skipped.
  Result<bool> Next(std::vector<std::string>& fields);

  // Line number (1-based) where the last record returned started.
  long long line() const { return record_line_; }
  const std::string& origin() const { return origin_; }

 private:
  std::istream& in_;
  std::string origin_;
  long long next_line_ = 1;
  long long record_line_ = 0;
  std::string buffer_;
};

class CsvHeader {
 public:
  CsvHeader() = default;
  explicit CsvHeader(const std::vector<std::string>& names);
  std::optional<size_t> Find(std::string_view name) const;
  // The named field of `row`, or "" when the column is absent or the row short.
  std::string_view Get(const std::vector<std::string>& row, std::string_view name) const;
  size_t size() const { return index_.size(); }

 private:
  std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace disagg

#endif  // DISAGG_BASE_CSV_H_
