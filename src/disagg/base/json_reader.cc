#include "disagg/base/json_reader.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace disagg {
namespace {

const Json& EmptyObject() {
  static const Json empty = Json::object();
  return empty;
}

// Converts a byte offset into a 1-based line and column.
std::pair<int, int> LineColumn(std::string_view text, size_t offset) {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

Result<Json> ParseJsonText(std::string_view text, std::string_view origin) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    auto [line, column] = LineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann messages start with "[json.exception.parse_error.101] parse error at ...: "
    auto colon = what.rfind(": ");
    std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
    return Fail("{}:{}:{}: malformed JSON: {}", origin, line, column, reason);
  } catch (const Json::exception& e) {
    // Number overflow ("1e400") is an out_of_range error without a position.
    std::string what = e.what();
    auto bracket = what.find("] ");
    std::string reason = bracket == std::string::npos ? what : what.substr(bracket + 2);
    return Fail("{}: malformed JSON: {}", origin, reason);
  }
}

Result<Json> LoadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("{}: cannot open file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Fail("{}: read error", path);
  return ParseJsonText(buffer.str(), path);
}

std::string JsonSnippet(const Json& value) {
  std::string s = value.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

JsonReader::JsonReader(const Json& object, std::string origin, std::string path)
    : object_(object.is_object() ? object : EmptyObject()),
      origin_(std::move(origin)),
      path_(std::move(path)) {
  if (!object.is_object()) {
    error_ = fmt::format("{}: {}expected a JSON object, got {}", origin_,
                         path_.empty() ? "" : path_ + ": ", JsonSnippet(object));
  }
}

std::string JsonReader::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

void JsonReader::Fail(std::string_view key, std::string message) {
  if (!error_.empty()) return;
  error_ = fmt::format("{}: {}: {}", origin_, KeyPath(key), message);
}

bool JsonReader::Has(std::string_view key) const { return object_.contains(key); }

const Json* JsonReader::Find(std::string_view key) {
  auto it = object_.find(key);
  if (it == object_.end()) return nullptr;
  read_.emplace(key);
  return &*it;
}

const Json* JsonReader::Raw(std::string_view key) { return Find(key); }

void JsonReader::Ignore(std::string_view key) { read_.emplace(key); }

double JsonReader::NumberOr(std::string_view key, double fallback, double min, double max) {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_number()) {
    Fail(key, fmt::format("expected a number, got {}", JsonSnippet(*v)));
    return fallback;
  }
  double x = v->get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    Fail(key, fmt::format("value {} out of range, expected {} to {}", JsonSnippet(*v), min, max));
    return fallback;
  }
  return x;
}

bool JsonReader::HasValue(std::string_view key) const {
  auto it = object_.find(key);
  return it != object_.end() && !it->is_null();
}

double JsonReader::Number(std::string_view key, double min, double max) {
  if (!HasValue(key)) {
    Fail(key, "missing required field (a number)");
    return min;
  }
  return NumberOr(key, min, min, max);
}

int64_t JsonReader::IntegerOr(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  bool integral = v->is_number_integer() ||
                  (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>());
  if (!integral) {
    Fail(key, fmt::format("expected an integer, got {}", JsonSnippet(*v)));
    return fallback;
  }
  double x = v->get<double>();
  if (x < static_cast<double>(min) || x > static_cast<double>(max)) {
    Fail(key, fmt::format("value {} out of range, expected {} to {}", JsonSnippet(*v), min, max));
    return fallback;
  }
  return static_cast<int64_t>(x);
}

int64_t JsonReader::Integer(std::string_view key, int64_t min, int64_t max) {
  if (!HasValue(key)) {
    Fail(key, "missing required field (an integer)");
    return min;
  }
  return IntegerOr(key, min, min, max);
}

bool JsonReader::BoolOr(std::string_view key, bool fallback) {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_boolean()) {
    Fail(key, fmt::format("expected true or false, got {}", JsonSnippet(*v)));
    return fallback;
  }
  return v->get<bool>();
}

std::string JsonReader::StringOr(std::string_view key, std::string_view fallback) {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return std::string(fallback);
  if (!v->is_string()) {
    Fail(key, fmt::format("expected a string, got {}", JsonSnippet(*v)));
    return std::string(fallback);
  }
  return v->get<std::string>();
}

std::string JsonReader::String(std::string_view key) {
  if (!HasValue(key)) {
    Fail(key, "missing required field (a string)");
    return {};
  }
  return StringOr(key, "");
}

JsonReader JsonReader::Object(std::string_view key) {
  const Json* v = Find(key);
  if (v == nullptr) {
    Fail(key, "missing required object");
    return JsonReader(EmptyObject(), origin_, KeyPath(key));
  }
  return JsonReader(*v, origin_, KeyPath(key));
}

void JsonReader::Absorb(const JsonReader& nested, bool strict) {
  if (error_.empty() && !nested.error_.empty()) error_ = nested.error_;
  if (error_.empty() && strict) {
    auto unread = nested.UnreadKeys();
    if (!unread.empty()) {
      error_ = fmt::format("{}: {}: unknown key", origin_, nested.KeyPath(unread.front()));
    }
  }
}

std::vector<std::string> JsonReader::UnreadKeys() const {
  std::vector<std::string> keys;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (!read_.contains(it.key())) keys.push_back(it.key());
  }
  return keys;
}

Result<void> JsonReader::Finish(bool strict) const {
  if (!error_.empty()) return std::unexpected(Error{error_});
  if (strict) {
    auto unread = UnreadKeys();
    if (!unread.empty()) {
      return disagg::Fail("{}: {}: unknown key", origin_, KeyPath(unread.front()));
    }
  }
  return {};
}

}  // namespace disagg
