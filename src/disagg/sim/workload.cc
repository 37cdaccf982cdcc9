#include "disagg/sim/workload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string_view>
#include <utility>

#include "disagg/base/csv.h"
#include "disagg/base/json_reader.h"
#include "disagg/sim/random.h"

namespace disagg::sim {
namespace {

// ---------------------------------------------------------------- lengths

class FixedSampler : public LengthSampler {
 public:
  FixedSampler(int64_t isl, int64_t osl)
      : isl_(std::max<int64_t>(isl, 1)), osl_(std::max<int64_t>(osl, 1)) {}
  std::pair<int64_t, int64_t> Sample(std::mt19937_64&) override { return {isl_, osl_}; }
  double MeanIsl() const override { return static_cast<double>(isl_); }
  double MeanOsl() const override { return static_cast<double>(osl_); }

 private:
  int64_t isl_, osl_;
};

class UniformSampler : public LengthSampler {
 public:
  UniformSampler(int64_t isl_min, int64_t isl_max, int64_t osl_min, int64_t osl_max)
      : isl_min_(std::max<int64_t>(isl_min, 1)),
        isl_max_(std::max(isl_max, isl_min_)),
        osl_min_(std::max<int64_t>(osl_min, 1)),
        osl_max_(std::max(osl_max, osl_min_)) {}
  std::pair<int64_t, int64_t> Sample(std::mt19937_64& rng) override {
    int64_t isl = isl_min_ + static_cast<int64_t>(UniformBelow(rng, isl_max_ - isl_min_ + 1));
    int64_t osl = osl_min_ + static_cast<int64_t>(UniformBelow(rng, osl_max_ - osl_min_ + 1));
    return {isl, osl};
  }
  double MeanIsl() const override { return (isl_min_ + isl_max_) / 2.0; }
  double MeanOsl() const override { return (osl_min_ + osl_max_) / 2.0; }

 private:
  int64_t isl_min_, isl_max_, osl_min_, osl_max_;
};

class EmpiricalSampler : public LengthSampler {
 public:
  explicit EmpiricalSampler(std::vector<std::pair<int64_t, int64_t>> sample)
      : sample_(std::move(sample)) {
    if (sample_.empty()) sample_.emplace_back(1, 1);
    double isl = 0, osl = 0;
    for (auto& [i, o] : sample_) {
      i = std::max<int64_t>(i, 1);
      o = std::max<int64_t>(o, 1);
      isl += static_cast<double>(i);
      osl += static_cast<double>(o);
    }
    mean_isl_ = isl / static_cast<double>(sample_.size());
    mean_osl_ = osl / static_cast<double>(sample_.size());
  }
  std::pair<int64_t, int64_t> Sample(std::mt19937_64& rng) override {
    return sample_[UniformBelow(rng, sample_.size())];
  }
  double MeanIsl() const override { return mean_isl_; }
  double MeanOsl() const override { return mean_osl_; }

 private:
  std::vector<std::pair<int64_t, int64_t>> sample_;
  double mean_isl_ = 0, mean_osl_ = 0;
};

// -------------------------------------------------------------- open loop

Result<void> CheckOpenLoop(const OpenLoopOptions& o, const LengthSampler* lengths) {
  if (!(o.rate > 0) || !std::isfinite(o.rate)) {
    return Fail("open-loop workload: rate is {}, expected a finite number > 0 requests/s", o.rate);
  }
  if (o.process == ArrivalProcess::kGamma && (!(o.gamma_cv > 0) || !std::isfinite(o.gamma_cv))) {
    return Fail(
        "open-loop workload: gamma_cv is {}, expected a finite number > 0 (use uniform "
        "arrivals for constant gaps)",
        o.gamma_cv);
  }
  if (o.max_requests < 0) {
    return Fail("open-loop workload: max_requests is {}, expected >= 0 (0: unlimited)",
                o.max_requests);
  }
  if (!(o.duration >= 0) || !std::isfinite(o.duration)) {
    return Fail(
        "open-loop workload: duration is {}, expected a finite number >= 0 s (0: unlimited)",
        o.duration);
  }
  if (lengths == nullptr) return Fail("open-loop workload: no length distribution given");
  return {};
}

class OpenLoopSource : public RequestSource {
 public:
  OpenLoopSource(const OpenLoopOptions& o, std::unique_ptr<LengthSampler> lengths)
      : o_(o),
        lengths_(std::move(lengths)),
        arrival_rng_(o.seed),
        length_rng_(MixSeed(o.seed)),
        check_(CheckOpenLoop(o, lengths_.get())) {}

  Result<std::optional<RequestSpec>> Next() override {
    if (!check_) return std::unexpected(check_.error());
    if (done_ || (o_.max_requests > 0 && next_id_ >= o_.max_requests)) return std::nullopt;
    double t = 0;
    if (next_id_ > 0) {
      switch (o_.process) {
        case ArrivalProcess::kUniform:
          // k / rate rather than a running sum, so no rounding accumulates.
          t = static_cast<double>(next_id_) / o_.rate;
          break;
        case ArrivalProcess::kPoisson:
          t = last_ + Exponential(arrival_rng_, 1 / o_.rate);
          break;
        case ArrivalProcess::kGamma: {
          double shape = 1 / (o_.gamma_cv * o_.gamma_cv);
          t = last_ + Gamma(arrival_rng_, shape) / (shape * o_.rate);
          break;
        }
      }
    }
    if (o_.duration > 0 && t >= o_.duration) {
      done_ = true;
      return std::nullopt;
    }
    last_ = t;
    auto [isl, osl] = lengths_->Sample(length_rng_);
    return RequestSpec{.id = next_id_++, .arrival = t, .isl = isl, .osl = osl};
  }

 private:
  OpenLoopOptions o_;
  std::unique_ptr<LengthSampler> lengths_;
  std::mt19937_64 arrival_rng_, length_rng_;
  Result<void> check_;
  int64_t next_id_ = 0;
  double last_ = 0;
  bool done_ = false;
};

// ----------------------------------------------------------------- traces

// One trace row, validated; `time` is seconds since the first valid row.
struct Row {
  double time = 0;
  int64_t isl = 0, osl = 0;
  std::string stamp;  // the timestamp as written, for messages
  long long line = 0;
};

// Reads rows of one format. A returned Error is about one malformed line
// (skippable) unless io_failed() says the file itself could not be read.
class RowReader {
 public:
  virtual ~RowReader() = default;
  virtual Result<std::optional<Row>> Read() = 0;
  bool io_failed() const { return io_failed_; }

 protected:
  bool io_failed_ = false;
};

constexpr int64_t kMaxLength = int64_t{1} << 40;
// Copies of one request are buffered: bound them.
constexpr double kMaxRateScale = 10000;

// A token count: a decimal integer >= 1. Neither format gives a meaning to
// an empty prompt or output, so 0 is an error, not silently raised to 1.
Result<int64_t> ParseLength(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > kMaxLength) {
    return Fail("expected an integer >= 1");
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// `YYYY-MM-DD HH:MM:SS[.f...]` (a 'T' may replace the space; up to 9
// fractional digits) -> nanoseconds since 1970-01-01 00:00:00.
std::optional<int64_t> ParseAzureTimestamp(std::string_view s) {
  auto digits = [&](size_t pos, size_t n) -> std::optional<int64_t> {
    if (pos + n > s.size()) return std::nullopt;
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  auto h = digits(11, 2), mi = digits(14, 2), sec = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*mo < 1 || *mo > 12) return std::nullopt;
  int64_t month_days = kMonthDays[*mo - 1] + (*mo == 2 && IsLeap(*y) ? 1 : 0);
  if (*d < 1 || *d > month_days || *h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
  int64_t frac_ns = 0;
  if (s.size() > 19) {
    size_t n = s.size() - 20;
    if (s[19] != '.' || n < 1 || n > 9) return std::nullopt;
    auto frac = digits(20, n);
    if (!frac) return std::nullopt;
    frac_ns = *frac;
    for (size_t i = n; i < 9; ++i) frac_ns *= 10;
  }
  int64_t seconds = DaysFromCivil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + *sec;
  return seconds * 1'000'000'000 + frac_ns;
}

class AzureReader : public RowReader {
 public:
  AzureReader(std::ifstream in, std::string path)
      : in_(std::move(in)), path_(path), csv_(in_, std::move(path)) {}

  // Reads and checks the header line.
  Result<void> Start() {
    auto more = csv_.Next(fields_);
    if (!more) return std::unexpected(more.error());
    CsvHeader header(fields_);
    for (int k = 0; k < 3; ++k) {
      auto i = header.Find(kColumns[k]);
      if (!i) {
        return Fail(
            "{}:{}: header has no column {}; expected TIMESTAMP,ContextTokens,GeneratedTokens",
            path_, csv_.line(), kColumns[k]);
      }
      column_[k] = *i;
    }
    if (fields_.size() != 3 || header.size() != 3) {
      return Fail(
          "{}:{}: header has {} columns, expected exactly TIMESTAMP,ContextTokens,GeneratedTokens",
          path_, csv_.line(), fields_.size());
    }
    return {};
  }

  Result<std::optional<Row>> Read() override {
    auto more = csv_.Next(fields_);
    if (in_.bad()) {
      io_failed_ = true;
      return Fail("{}: read error after line {}", path_, csv_.line());
    }
    if (!more) return std::unexpected(more.error());
    if (!*more) return std::nullopt;
    long long line = csv_.line();
    if (fields_.size() != 3) {
      return Fail("{}:{}: {} fields, expected 3 (TIMESTAMP,ContextTokens,GeneratedTokens)", path_,
                  line, fields_.size());
    }
    const std::string& stamp = fields_[column_[0]];
    auto ns = ParseAzureTimestamp(stamp);
    if (!ns) {
      return Fail("{}:{}: TIMESTAMP is '{}', expected YYYY-MM-DD HH:MM:SS.fffffff", path_, line,
                  stamp);
    }
    Row row{.stamp = stamp, .line = line};
    for (int k : {1, 2}) {
      const std::string& text = fields_[column_[k]];
      auto v = ParseLength(text);
      if (!v) {
        return Fail("{}:{}: {} is '{}', {}", path_, line, kColumns[k], text, v.error().message);
      }
      (k == 1 ? row.isl : row.osl) = *v;
    }
    if (!first_ns_) first_ns_ = *ns;
    // Integer nanoseconds up to here: an exact difference, then one correctly
    // rounded division.
    row.time = static_cast<double>(*ns - *first_ns_) / 1e9;
    return row;
  }

 private:
  static constexpr const char* kColumns[] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};
  std::ifstream in_;
  std::string path_;
  CsvReader csv_;
  std::vector<std::string> fields_;
  size_t column_[3] = {0, 1, 2};
  std::optional<int64_t> first_ns_;
};

class MooncakeReader : public RowReader {
 public:
  MooncakeReader(std::ifstream in, std::string path) : in_(std::move(in)), path_(std::move(path)) {}

  Result<std::optional<Row>> Read() override {
    while (true) {
      if (!std::getline(in_, text_)) {
        if (in_.bad()) {
          io_failed_ = true;
          return Fail("{}: read error after line {}", path_, line_);
        }
        return std::nullopt;
      }
      ++line_;
      if (line_ == 1 && text_.starts_with("\xEF\xBB\xBF")) text_.erase(0, 3);
      if (text_.find_first_not_of(" \t\r") != std::string::npos) break;
    }
    std::string origin = fmt::format("{}:{}", path_, line_);
    Json json;
    try {
      json = Json::parse(text_);
    } catch (const Json::exception& e) {
      std::string what = e.what();
      auto colon = what.rfind(": ");
      return Fail("{}: malformed JSON line: {}", origin,
                  colon == std::string::npos ? what : what.substr(colon + 2));
    }
    JsonReader r(json, origin);
    double ms = r.Number("timestamp", 0, 1e15);
    int64_t isl = r.Integer("input_length", 1, kMaxLength);
    int64_t osl = r.Integer("output_length", 1, kMaxLength);
    if (const Json* ids = r.Raw("hash_ids"); ids != nullptr && !ids->is_array()) {
      r.Fail("hash_ids", fmt::format("expected a list of block ids, got {}", JsonSnippet(*ids)));
    }
    if (auto done = r.Finish(/*strict=*/false); !done) return std::unexpected(done.error());
    if (auto unread = r.UnreadKeys(); !unread.empty()) {
      return Fail(
          "{}: {}: unknown key (a Mooncake line has timestamp, input_length, output_length and "
          "optionally hash_ids)",
          origin, unread.front());
    }
    if (!first_ms_) first_ms_ = ms;
    return Row{.time = (ms - *first_ms_) / 1000,
               .isl = isl,
               .osl = osl,
               .stamp = JsonSnippet(json.at("timestamp")),
               .line = line_};
  }

 private:
  std::ifstream in_;
  std::string path_;
  std::string text_;
  long long line_ = 0;
  std::optional<double> first_ms_;
};

class TraceSource : public RequestSource {
 public:
  TraceSource(std::unique_ptr<RowReader> reader, std::string path, const TraceOptions& o)
      : reader_(std::move(reader)), path_(std::move(path)), o_(o), rng_(o.seed) {}

  // Reads the first row; "no requests" when there is none.
  Result<void> Start() {
    auto row = ReadRow();
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      if (skipped_ > 0) {
        return Fail("{}: no requests ({} malformed lines skipped)", path_, skipped_);
      }
      return Fail("{}: no requests", path_);
    }
    current_ = std::move(**row);
    return {};
  }

  Result<std::optional<RequestSpec>> Next() override {
    if (error_) return std::unexpected(*error_);
    if (o_.max_requests > 0 && next_id_ >= o_.max_requests) return std::nullopt;
    while (pos_ == copies_.size()) {
      copies_.clear();
      pos_ = 0;
      if (!current_) {
        if (at_end_) return std::nullopt;
        auto row = ReadRow();
        if (!row) return Stop(row.error());
        if (!*row) {
          at_end_ = true;
          return std::nullopt;
        }
        current_ = std::move(**row);
      }
      Row cur = std::move(*current_);
      current_.reset();
      // floor(R) copies, plus one with probability frac(R).
      double whole = std::floor(o_.rate_scale);
      auto n = static_cast<int64_t>(whole);
      if (Uniform01(rng_) < o_.rate_scale - whole) ++n;
      if (n == 0) continue;
      copies_.push_back(cur.time);
      if (n >= 2) {
        // Copies after the first spread uniformly over the gap to the next
        // request (none after the last one: they arrive with it).
        auto next = ReadRow();
        if (!next) return Stop(next.error());
        double end = cur.time;
        if (*next) {
          end = (*next)->time;
          current_ = std::move(**next);
        } else {
          at_end_ = true;
        }
        for (int64_t k = 1; k < n; ++k) {
          copies_.push_back(cur.time + Uniform01(rng_) * (end - cur.time));
        }
        std::sort(copies_.begin() + 1, copies_.end());
      }
      isl_ = cur.isl;
      osl_ = cur.osl;
    }
    double t = copies_[pos_++] * o_.time_scale;
    return RequestSpec{.id = next_id_++, .arrival = t, .isl = isl_, .osl = osl_};
  }

  int64_t skipped_lines() const override { return skipped_; }

 private:
  std::unexpected<Error> Stop(const Error& e) {
    error_ = e;
    return std::unexpected(e);
  }

  // The next valid row; skips malformed lines when asked. A timestamp going
  // backwards is an error even then: the trace is unsorted, not one line bad.
  Result<std::optional<Row>> ReadRow() {
    while (true) {
      auto row = reader_->Read();
      if (!row) {
        if (o_.skip_bad_lines && !reader_->io_failed()) {
          ++skipped_;
          continue;
        }
        return row;
      }
      if (*row) {
        Row& r = **row;
        if (last_ && r.time < last_->first) {
          return Fail("{}:{}: timestamp goes backwards at line {}: {} < {}; sort the trace first",
                      path_, r.line, r.line, r.stamp, last_->second);
        }
        last_.emplace(r.time, r.stamp);
      }
      return row;
    }
  }

  std::unique_ptr<RowReader> reader_;
  std::string path_;
  TraceOptions o_;
  std::mt19937_64 rng_;
  std::optional<Row> current_;                          // read, not yet expanded
  std::optional<std::pair<double, std::string>> last_;  // last accepted time, stamp
  std::vector<double> copies_;                          // arrival times of the current row's copies
  size_t pos_ = 0;
  int64_t isl_ = 0, osl_ = 0;
  int64_t next_id_ = 0;
  int64_t skipped_ = 0;
  bool at_end_ = false;
  std::optional<Error> error_;
};

}  // namespace

std::unique_ptr<LengthSampler> FixedLengths(int64_t isl, int64_t osl) {
  return std::make_unique<FixedSampler>(isl, osl);
}

std::unique_ptr<LengthSampler> UniformLengths(int64_t isl_min, int64_t isl_max, int64_t osl_min,
                                              int64_t osl_max) {
  return std::make_unique<UniformSampler>(isl_min, isl_max, osl_min, osl_max);
}

std::unique_ptr<LengthSampler> EmpiricalLengths(std::vector<std::pair<int64_t, int64_t>> sample) {
  return std::make_unique<EmpiricalSampler>(std::move(sample));
}

std::unique_ptr<RequestSource> OpenLoop(const OpenLoopOptions& o,
                                        std::unique_ptr<LengthSampler> lengths) {
  return std::make_unique<OpenLoopSource>(o, std::move(lengths));
}

Result<std::unique_ptr<RequestSource>> OpenTrace(const std::string& path, const TraceOptions& o) {
  if (!(o.time_scale > 0) || !std::isfinite(o.time_scale)) {
    return Fail("{}: time_scale is {}, expected a finite number > 0", path, o.time_scale);
  }
  if (!(o.rate_scale > 0) || !(o.rate_scale <= kMaxRateScale)) {
    return Fail("{}: rate_scale is {}, expected a number > 0 and <= {}", path, o.rate_scale,
                kMaxRateScale);
  }
  if (o.max_requests < 0) {
    return Fail("{}: max_requests is {}, expected >= 0 (0: unlimited)", path, o.max_requests);
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Fail("{}: is a directory, expected a trace file (Azure CSV or Mooncake JSONL)", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("{}: cannot open trace file: {}", path, std::strerror(errno));

  // The format is that of the first non-blank line.
  std::string first;
  while (std::getline(in, first)) {
    if (first.starts_with("\xEF\xBB\xBF")) first.erase(0, 3);
    if (first.find_first_not_of(" \t\r") != std::string::npos) break;
    first.clear();
  }
  if (in.bad()) return Fail("{}: read error", path);
  if (first.empty()) return Fail("{}: no requests (empty file)", path);
  in.clear();
  in.seekg(0);
  if (!in) return Fail("{}: cannot rewind the trace file (a regular file is required)", path);

  std::unique_ptr<RowReader> reader;
  size_t start = first.find_first_not_of(" \t");
  if (first[start] == '{') {
    reader = std::make_unique<MooncakeReader>(std::move(in), path);
  } else if (first.find("TIMESTAMP") != std::string::npos) {
    auto azure = std::make_unique<AzureReader>(std::move(in), path);
    if (auto ok = azure->Start(); !ok) return std::unexpected(ok.error());
    reader = std::move(azure);
  } else {
    if (first.size() > 60) first = first.substr(0, 57) + "...";
    if (!first.empty() && first.back() == '\r') first.pop_back();
    return Fail(
        "{}:1: unrecognised trace format: '{}'; expected the Azure CSV header "
        "TIMESTAMP,ContextTokens,GeneratedTokens or a Mooncake JSON object per line",
        path, first);
  }
  auto source = std::make_unique<TraceSource>(std::move(reader), path, o);
  if (auto ok = source->Start(); !ok) return std::unexpected(ok.error());
  return source;
}

}  // namespace disagg::sim
