#include "disagg/base/csv.h"

namespace disagg {

Result<bool> CsvReader::Next(std::vector<std::string>& fields) {
  fields.clear();
  while (true) {
    if (!std::getline(in_, buffer_)) return false;
    record_line_ = next_line_++;
    if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
    if (!buffer_.empty()) break;
  }
  std::string field;
  bool quoted = false;
  size_t i = 0;
  while (true) {
    if (i >= buffer_.size()) {
      if (!quoted) break;
      // A quoted field continues on the next line.
      std::string more;
      if (!std::getline(in_, more)) {
        return Fail("{}:{}: unterminated quoted field", origin_, record_line_);
      }
      ++next_line_;
      if (!more.empty() && more.back() == '\r') more.pop_back();
      field += '\n';
      buffer_ = std::move(more);
      i = 0;
      continue;
    }
    char c = buffer_[i++];
    if (quoted) {
      if (c == '"') {
        if (i < buffer_.size() && buffer_[i] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return true;
}

CsvHeader::CsvHeader(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    std::string name = names[i];
    // Tolerate a UTF-8 byte-order mark on the first column.
    if (i == 0 && name.starts_with("\xEF\xBB\xBF")) name = name.substr(3);
    index_.emplace(name, i);
  }
}

std::optional<size_t> CsvHeader::Find(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string_view CsvHeader::Get(const std::vector<std::string>& row, std::string_view name) const {
  auto i = Find(name);
  if (!i || *i >= row.size()) return {};
  return row[*i];
}

}  // namespace disagg
