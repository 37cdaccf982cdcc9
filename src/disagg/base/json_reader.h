// Strict reading of JSON spec files.
//
// Contract: LoadJsonFile never throws; a syntax error names the file, line and
// column. JsonReader reads one object: every accessor checks type and range
// and, on the first failure, records an error naming file, key path and value;
// later accessors return defaults. Finish() reports that first error, or an
// unknown key (any key never read or ignored). Not thread-safe per instance.
#ifndef DISAGG_BASE_JSON_READER_H_
#define DISAGG_BASE_JSON_READER_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/error.h"

namespace disagg {

using Json = nlohmann::json;

Result<Json> LoadJsonFile(const std::string& path);
Result<Json> ParseJsonText(std::string_view text, std::string_view origin);

// Short rendering of a JSON value for error messages.
std::string JsonSnippet(const Json& value);

class JsonReader {
 public:
  // `origin` is the file name; `path` the dotted location of `object` in it
  // ("" for the top level). If `object` is not an object, that is the error.
  JsonReader(const Json& object, std::string origin, std::string path = "");

  bool Has(std::string_view key) const;
  // Required fields: missing or null is an error.
  double Number(std::string_view key, double min, double max);
  double NumberOr(std::string_view key, double fallback, double min, double max);
  int64_t Integer(std::string_view key, int64_t min, int64_t max);
  int64_t IntegerOr(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  bool BoolOr(std::string_view key, bool fallback);
  std::string String(std::string_view key);
  std::string StringOr(std::string_view key, std::string_view fallback);
  // A nested object; an error if missing or not an object.
  JsonReader Object(std::string_view key);
  // The raw value, marked as read; nullptr when missing.
  const Json* Raw(std::string_view key);
  void Ignore(std::string_view key);
  // Records an error about `key` unless one is already recorded.
  void Fail(std::string_view key, std::string message);

  // Adopt the first error of a nested reader and, when `strict`, report its
  // unknown keys.
  void Absorb(const JsonReader& nested, bool strict = true);

  // All keys present but not read or ignored.
  std::vector<std::string> UnreadKeys() const;
  // First error, else an "unknown key" error when `strict`.
  Result<void> Finish(bool strict = true) const;

  bool ok() const { return error_.empty(); }
  const std::string& origin() const { return origin_; }
  std::string KeyPath(std::string_view key) const;

 private:
  const Json* Find(std::string_view key);
  // Present and not null: what a required field needs.
  bool HasValue(std::string_view key) const;

  const Json& object_;
  std::string origin_;
  std::string path_;
  std::set<std::string, std::less<>> read_;
  std::string error_;
};

}  // namespace disagg

#endif  // DISAGG_BASE_JSON_READER_H_
