// Trace replay (OpenTrace): hand-written Azure CSV and Mooncake JSONL files
// with hand-computed arrival times, every error kind, skip_bad_lines,
// rate_scale and time_scale, then the real traces in ../shared/traces.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "disagg/sim/metrics.h"
#include "disagg/sim/workload.h"
#include "disagg/testing/shared_data.h"

namespace disagg::sim {
namespace {

namespace fs = std::filesystem;

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("disagg_trace_") + info->name() + "_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  fs::path dir_;
};

// Every request of a trace; fails the test on an Error.
std::vector<RequestSpec> ReadAll(const std::string& path, const TraceOptions& o = {},
                                 int64_t* skipped = nullptr) {
  std::vector<RequestSpec> out;
  auto source = OpenTrace(path, o);
  EXPECT_TRUE(source.has_value()) << (source ? "" : source.error().message);
  if (!source) return out;
  while (true) {
    auto next = (*source)->Next();
    EXPECT_TRUE(next.has_value()) << (next ? "" : next.error().message);
    if (!next || !*next) break;
    out.push_back(**next);
  }
  if (skipped != nullptr) *skipped = (*source)->skipped_lines();
  return out;
}

// The first Error, from OpenTrace or from Next(); "" when the trace reads.
std::string FirstError(const std::string& path, const TraceOptions& o = {}) {
  auto source = OpenTrace(path, o);
  if (!source) return source.error().message;
  while (true) {
    auto next = (*source)->Next();
    if (!next) {
      // Errors are sticky.
      auto again = (*source)->Next();
      EXPECT_FALSE(again.has_value());
      return next.error().message;
    }
    if (!*next) return "";
  }
}

std::vector<double> Arrivals(const std::vector<RequestSpec>& r) {
  std::vector<double> t;
  for (const auto& x : r) t.push_back(x.arrival);
  return t;
}

const char kAzureHeader[] = "TIMESTAMP,ContextTokens,GeneratedTokens\n";

TEST_F(TraceTest, AzureAcrossMidnightAndNewYear) {
  std::string path = Write("a.csv", std::string(kAzureHeader) +
                                        "2023-12-31 23:59:58.5000000,100,10\n"
                                        "2023-12-31 23:59:59.9999999,200,20\n"
                                        "2024-01-01 00:00:00.2500000,300,30\n"
                                        "2024-01-01 00:00:01,400,40\n"
                                        "2024-01-01T00:00:01.5,500,1\n");
  auto r = ReadAll(path);
  ASSERT_EQ(r.size(), 5u);
  // 23:59:58.5 is time 0; 23:59:59.9999999 is 1.4999999 s later; midnight is
  // 1.5 s after the start, so 00:00:00.25 is 1.75, 00:00:01 is 2.5 and
  // 00:00:01.5 is 3.0.
  EXPECT_DOUBLE_EQ(r[0].arrival, 0);
  EXPECT_DOUBLE_EQ(r[1].arrival, 1.4999999);
  EXPECT_DOUBLE_EQ(r[2].arrival, 1.75);
  EXPECT_DOUBLE_EQ(r[3].arrival, 2.5);
  EXPECT_DOUBLE_EQ(r[4].arrival, 3.0);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].id, static_cast<int64_t>(i));
    EXPECT_EQ(r[i].isl, 100 * static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(r[3].osl, 40);
  EXPECT_EQ(r[4].osl, 1);
}

TEST_F(TraceTest, AzureCalendarArithmetic) {
  struct Case {
    const char* from;
    const char* to;
    double seconds;
  };
  const Case cases[] = {
      // 2024 is a leap year: Feb 28 23:00 -> Feb 29 23:00 -> Mar 1 01:00 = 26 h.
      {"2024-02-28 23:00:00", "2024-03-01 01:00:00", 26 * 3600.0},
      // 2023 is not: Feb 28 23:00 -> Mar 1 01:00 = 2 h.
      {"2023-02-28 23:00:00", "2023-03-01 01:00:00", 2 * 3600.0},
      // 2100 is not (divisible by 100), 2000 is (divisible by 400).
      {"2100-02-28 12:00:00", "2100-03-01 12:00:00", 86400.0},
      {"2000-02-28 12:00:00", "2000-03-01 12:00:00", 2 * 86400.0},
      {"2023-01-31 23:59:59", "2023-02-01 00:00:00", 1.0},
      // 365 days: one day short of a year that contains Feb 29 2024.
      {"2023-11-16 18:15:46.6805900", "2024-11-15 18:15:46.6805900", 365 * 86400.0},
      // Fractions of different lengths.
      {"2023-11-16 18:15:46.1", "2023-11-16 18:15:46.123456789", 0.023456789},
  };
  for (const Case& c : cases) {
    std::string path =
        Write("cal.csv", fmt::format("{}{},5,5\n{},5,5\n", kAzureHeader, c.from, c.to));
    auto r = ReadAll(path);
    ASSERT_EQ(r.size(), 2u) << c.from;
    EXPECT_EQ(r[0].arrival, 0);
    EXPECT_NEAR(r[1].arrival, c.seconds, 1e-9) << c.from << " -> " << c.to;
  }
}

TEST_F(TraceTest, AzureCrlfByteOrderMarkNoFinalNewlineAndBlankLines) {
  std::string path = Write("crlf.csv",
                           "\xEF\xBB\xBFTIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                           "2023-11-16 18:15:46.6805900,374,44\r\n"
                           "\r\n"
                           "2023-11-16 18:15:50.9951690,396,109");
  auto r = ReadAll(path);
  ASSERT_EQ(r.size(), 2u);
  // 50.9951690 - 46.6805900 = 4.3145790 s.
  EXPECT_NEAR(r[1].arrival, 4.314579, 1e-9);
  EXPECT_EQ(r[1].isl, 396);
  EXPECT_EQ(r[1].osl, 109);
}

TEST_F(TraceTest, AzureColumnsInAnyOrder) {
  std::string path = Write("order.csv",
                           "GeneratedTokens,TIMESTAMP,ContextTokens\n"
                           "7,2023-11-16 00:00:00,70\n"
                           "8,2023-11-16 00:00:02,80\n");
  auto r = ReadAll(path);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].arrival, 2);
  EXPECT_EQ(r[1].isl, 80);
  EXPECT_EQ(r[1].osl, 8);
}

TEST_F(TraceTest, Mooncake) {
  std::string path = Write(
      "m.jsonl",
      "{\"timestamp\": 1000, \"input_length\": 6758, \"output_length\": 500, \"hash_ids\": [0, "
      "1]}\n"
      "{\"timestamp\": 1500, \"input_length\": 10, \"output_length\": 1}\n"
      "\n"
      "{\"timestamp\": 1500, \"input_length\": 20, \"output_length\": 2, \"hash_ids\": []}\n"
      "{\"timestamp\": 3750.5, \"input_length\": 30, \"output_length\": 3, \"hash_ids\": [5]}");
  auto r = ReadAll(path);
  ASSERT_EQ(r.size(), 4u);
  // Milliseconds relative to the first row (1000 ms): 0, 0.5, 0.5, 2.7505 s.
  EXPECT_EQ(Arrivals(r), (std::vector<double>{0, 0.5, 0.5, 2.7505}));
  EXPECT_EQ(r[0].isl, 6758);
  EXPECT_EQ(r[0].osl, 500);
  EXPECT_EQ(r[3].isl, 30);
  EXPECT_EQ(r[3].id, 3);
}

// (file name, contents, what the message must contain).
struct BadCase {
  const char* name;
  std::string text;
  std::vector<std::string> expect;
};

TEST_F(TraceTest, EveryErrorNamesFileAndLine) {
  const std::string h = kAzureHeader;
  const std::string ok = "2023-11-16 18:15:46.0,100,10\n";
  const std::string m1 = "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 5}\n";
  const std::vector<BadCase> cases = {
      {"quote.csv", h + ok + "2023-11-16 18:15:47.0,\"12,5\n", {":3:", "unterminated"}},
      {"short.csv", h + ok + "2023-11-16 18:15:47.0,100\n", {":3:", "2 fields, expected 3"}},
      {"long.csv", h + ok + ok + "2023-11-16 18:15:47.0,1,2,3\n", {":4:", "4 fields"}},
      {"alpha.csv", h + "2023-11-16 18:15:47.0,abc,10\n", {":2:", "ContextTokens is 'abc'"}},
      {"neg.csv", h + ok + "2023-11-16 18:15:47.0,100,-5\n", {":3:", "GeneratedTokens is '-5'"}},
      {"zero.csv",
       h + ok + "2023-11-16 18:15:47.0,100,0\n",
       {":3:", "GeneratedTokens is '0', expected an integer >= 1"}},
      {"empty_field.csv", h + ok + "2023-11-16 18:15:47.0,,3\n", {":3:", "ContextTokens is ''"}},
      {"month.csv", h + ok + "2023-13-01 00:00:00,1,1\n", {":3:", "TIMESTAMP is '2023-13-01"}},
      {"feb29.csv", h + ok + "2023-02-29 00:00:00,1,1\n", {":3:", "TIMESTAMP"}},
      {"nodate.csv", h + ok + "18:15:47,1,1\n", {":3:", "expected YYYY-MM-DD HH:MM:SS"}},
      {"back.csv",
       h + ok + "2023-11-16 18:15:47.5,1,1\n2023-11-16 18:15:47.25,1,1\n",
       {"back.csv:4:",
        "timestamp goes backwards at line 4: 2023-11-16 18:15:47.25 < "
        "2023-11-16 18:15:47.5; sort the trace first"}},
      {"header_only.csv", h, {"header_only.csv", "no requests"}},
      {"empty.csv", "", {"empty.csv", "no requests"}},
      {"blank.jsonl", "\n\n  \n", {"blank.jsonl", "no requests"}},
      {"badheader.csv",
       "TIMESTAMP,Context,Generated\n" + ok,
       {"badheader.csv:1:", "no column ContextTokens"}},
      {"extracol.csv",
       "TIMESTAMP,ContextTokens,GeneratedTokens,Extra\n" + ok,
       {"extracol.csv:1:", "4 columns"}},
      {"unknown.txt", "time,in,out\n1,2,3\n", {"unknown.txt:1:", "unrecognised trace format"}},
      {"json.jsonl", m1 + "{\"timestamp\": 5, \"input_length\": \n", {":2:", "malformed JSON"}},
      {"nokey.jsonl",
       m1 + m1 + "{\"timestamp\": 5, \"input_length\": 3}\n",
       {":3:", "output_length", "missing"}},
      {"negjson.jsonl",
       m1 + "{\"timestamp\": 5, \"input_length\": -3, \"output_length\": 1}\n",
       {":2:", "input_length", "-3"}},
      {"zerojson.jsonl",
       m1 + "{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 0}\n",
       {":2:", "output_length"}},
      {"frac.jsonl",
       m1 + "{\"timestamp\": 5, \"input_length\": 2.5, \"output_length\": 1}\n",
       {":2:", "input_length", "integer"}},
      {"hash.jsonl",
       m1 + "{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 1, \"hash_ids\": 7}\n",
       {":2:", "hash_ids", "expected a list"}},
      {"extra.jsonl",
       m1 + "{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 1, \"delay\": 2}\n",
       {":2:", "delay", "unknown key"}},
      {"stamp.jsonl",
       m1 + "{\"timestamp\": \"5\", \"input_length\": 3, \"output_length\": 1}\n",
       {":2:", "timestamp", "expected a number"}},
      {"array.jsonl", m1 + "[1, 2]\n", {":2:", "expected a JSON object"}},
      {"stampless.jsonl",
       m1 + "{\"input_length\": 3, \"output_length\": 1}\n",
       {":2:", "timestamp", "missing"}},
      {"backjson.jsonl",
       "{\"timestamp\": 2000, \"input_length\": 5, \"output_length\": 5}\n" + m1,
       {"backjson.jsonl:2:", "timestamp goes backwards at line 2: 0 < 2000; sort the trace first"}},
  };
  for (const BadCase& c : cases) {
    std::string path = Write(c.name, c.text);
    std::string message = FirstError(path);
    ASSERT_FALSE(message.empty()) << c.name << " read without error";
    EXPECT_NE(message.find(path), std::string::npos) << message;
    for (const std::string& part : c.expect) {
      EXPECT_NE(message.find(part), std::string::npos)
          << c.name << ": '" << message << "' lacks '" << part << "'";
    }
  }
}

TEST_F(TraceTest, FileErrors) {
  std::string missing = (dir_ / "nope.csv").string();
  std::string message = FirstError(missing);
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
  message = FirstError(dir_.string());
  EXPECT_NE(message.find("directory"), std::string::npos) << message;
}

TEST_F(TraceTest, InvalidOptions) {
  std::string path = Write("ok.csv", std::string(kAzureHeader) + "2023-11-16 18:15:46,1,1\n");
  TraceOptions o;
  o.time_scale = 0;
  EXPECT_NE(FirstError(path, o).find("time_scale is 0"), std::string::npos);
  o = {};
  o.rate_scale = -1;
  EXPECT_NE(FirstError(path, o).find("rate_scale is -1"), std::string::npos);
  o.rate_scale = 1e6;  // would buffer a million copies per request
  EXPECT_NE(FirstError(path, o).find("rate_scale is 1000000"), std::string::npos);
  o = {};
  o.max_requests = -1;
  EXPECT_NE(FirstError(path, o).find("max_requests is -1"), std::string::npos);
}

TEST_F(TraceTest, SkipBadLinesCountsThem) {
  std::string path = Write("skip.csv", std::string(kAzureHeader) +
                                           "2023-11-16 00:00:01,10,1\n"  // line 2
                                           "2023-11-16 00:00:02,x,1\n"   // 3: bad
                                           "2023-11-16 00:00:03,30,3\n"  // 4
                                           "2023-11-16 00:00:04,40\n"    // 5: bad
                                           "garbage\n"                   // 6: bad
                                           "2023-11-16 00:00:07,70,0\n"  // 7: bad (osl 0)
                                           "2023-11-16 00:00:08,80,8\n");
  TraceOptions o;
  o.skip_bad_lines = true;
  int64_t skipped = -1;
  auto r = ReadAll(path, o, &skipped);
  EXPECT_EQ(skipped, 4);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(Arrivals(r), (std::vector<double>{0, 2, 7}));
  EXPECT_EQ(r[2].isl, 80);
  EXPECT_EQ(r[2].id, 2);
  // Without the option the first bad line is the error.
  EXPECT_NE(FirstError(path).find("skip.csv:3:"), std::string::npos);
}

TEST_F(TraceTest, SkipBadLinesStartsTheClockAtTheFirstGoodRow) {
  std::string path = Write("first.jsonl",
                           "{\"timestamp\": 100, \"input_length\": 0, \"output_length\": 1}\n"
                           "{\"timestamp\": 400, \"input_length\": 1, \"output_length\": 1}\n"
                           "{\"timestamp\": 900, \"input_length\": 1, \"output_length\": 1}\n");
  TraceOptions o;
  o.skip_bad_lines = true;
  int64_t skipped = 0;
  auto r = ReadAll(path, o, &skipped);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(Arrivals(r), (std::vector<double>{0, 0.5}));
}

TEST_F(TraceTest, SkipBadLinesStillRejectsBackwardsTimestamps) {
  std::string path = Write("back.csv", std::string(kAzureHeader) +
                                           "2023-11-16 00:00:05,1,1\n"
                                           "bad line\n"
                                           "2023-11-16 00:00:04,1,1\n");
  TraceOptions o;
  o.skip_bad_lines = true;
  std::string message = FirstError(path, o);
  EXPECT_NE(message.find("timestamp goes backwards at line 4"), std::string::npos) << message;
}

TEST_F(TraceTest, SkipBadLinesWithNothingGoodIsNoRequests) {
  std::string path = Write("allbad.csv", std::string(kAzureHeader) + "a,b,c\nd,e,f\n");
  TraceOptions o;
  o.skip_bad_lines = true;
  std::string message = FirstError(path, o);
  EXPECT_NE(message.find("no requests (2 malformed lines skipped)"), std::string::npos) << message;
}

// A Mooncake trace with one request per second: request i at i s, isl i + 1.
std::string EvenTrace(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += fmt::format("{{\"timestamp\": {}, \"input_length\": {}, \"output_length\": 1}}\n",
                        i * 1000, i + 1);
  }
  return text;
}

TEST_F(TraceTest, RateScaleTwoDoublesTheRequestsInOrder) {
  std::string path = Write("even.jsonl", EvenTrace(50));
  TraceOptions o;
  o.rate_scale = 2;
  auto r = ReadAll(path, o);
  ASSERT_EQ(r.size(), 100u);
  std::map<int64_t, int> copies;
  for (size_t k = 0; k < r.size(); ++k) {
    EXPECT_EQ(r[k].id, static_cast<int64_t>(k));
    if (k > 0) {
      EXPECT_GE(r[k].arrival, r[k - 1].arrival) << k;
    }
    ++copies[r[k].isl];
  }
  for (auto [isl, n] : copies) EXPECT_EQ(n, 2) << isl;
  // Request i (isl i + 1) keeps its arrival i; its copy lies in [i, i + 1],
  // except after the last request, where it arrives with it.
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(r[2 * i].isl, i + 1);
    EXPECT_EQ(r[2 * i].arrival, i);
    EXPECT_EQ(r[2 * i + 1].isl, i + 1);
    EXPECT_GE(r[2 * i + 1].arrival, i);
    EXPECT_LE(r[2 * i + 1].arrival, i == 49 ? 49 : i + 1);
  }
}

TEST_F(TraceTest, FractionalRateScales) {
  std::string path = Write("even.jsonl", EvenTrace(2000));
  for (double scale : {0.5, 1.5, 3.25}) {
    TraceOptions o;
    o.rate_scale = scale;
    o.seed = 5;
    auto r = ReadAll(path, o);
    // Binomial extra copies: sd = sqrt(2000 * p * (1 - p)) <= 23.
    EXPECT_NEAR(static_cast<double>(r.size()), 2000 * scale, 120) << scale;
    for (size_t k = 1; k < r.size(); ++k) ASSERT_GE(r[k].arrival, r[k - 1].arrival);
    // Deterministic by seed; another seed differs.
    auto again = ReadAll(path, o);
    EXPECT_EQ(Arrivals(again), Arrivals(r));
    o.seed = 6;
    EXPECT_NE(Arrivals(ReadAll(path, o)), Arrivals(r));
  }
}

TEST_F(TraceTest, TimeScaleHalvesTheSpan) {
  std::string path = Write("even.jsonl", EvenTrace(50));
  TraceOptions o;
  o.time_scale = 0.5;
  auto r = ReadAll(path, o);
  ASSERT_EQ(r.size(), 50u);
  EXPECT_EQ(r.back().arrival, 24.5);  // 49 s * 0.5
  EXPECT_EQ(r[10].arrival, 5);
}

TEST_F(TraceTest, MaxRequests) {
  std::string path = Write("even.jsonl", EvenTrace(50));
  TraceOptions o;
  o.max_requests = 7;
  o.rate_scale = 2;
  auto r = ReadAll(path, o);
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[6].arrival, 3);  // request 3's first copy
}

// ------------------------------------------------------------ real traces

struct TraceFacts {
  int64_t count = 0;
  double mean_isl = 0, mean_osl = 0, span = 0;
  Histogram isl, osl;
};

TraceFacts Measure(const std::string& relative) {
  std::string path = ::disagg::testing::SharedFile(relative);
  TraceFacts f;
  auto source = OpenTrace(path, {});
  EXPECT_TRUE(source.has_value()) << (source ? "" : source.error().message);
  if (!source) return f;
  double last = 0;
  while (true) {
    auto next = (*source)->Next();
    EXPECT_TRUE(next.has_value()) << (next ? "" : next.error().message);
    if (!next || !*next) break;
    const RequestSpec& r = **next;
    if (f.count == 0) {
      EXPECT_EQ(r.arrival, 0);
    }
    EXPECT_EQ(r.id, f.count);
    EXPECT_GE(r.arrival, last);
    EXPECT_GE(r.isl, 1);
    EXPECT_GE(r.osl, 1);
    last = r.arrival;
    ++f.count;
    f.isl.Add(static_cast<double>(r.isl));
    f.osl.Add(static_cast<double>(r.osl));
  }
  EXPECT_EQ((*source)->skipped_lines(), 0);
  f.mean_isl = f.isl.mean();
  f.mean_osl = f.osl.mean();
  f.span = last;
  return f;
}

// The README's figures, rounded to whole tokens; quantiles within 1%.
TEST(RealTraces, AzureConversation) {
  DISAGG_REQUIRE_SHARED("traces/azure_llm_2023_conv.csv");
  TraceFacts f = Measure("traces/azure_llm_2023_conv.csv");
  EXPECT_EQ(f.count, 19366);
  EXPECT_NEAR(f.mean_isl, 1155, 0.5);
  EXPECT_NEAR(f.mean_osl, 211, 0.5);
  EXPECT_NEAR(f.count / f.span, 5.5, 5.5 * 0.03);
  EXPECT_NEAR(f.isl.Quantile(0.5), 1020, 10.2);
  EXPECT_NEAR(f.isl.Quantile(0.99), 4142, 41.4);
  EXPECT_NEAR(f.osl.Quantile(0.5), 129, 1.29);
  EXPECT_LT(f.span, 3600);  // "about 1 hour"
}

TEST(RealTraces, AzureCode) {
  DISAGG_REQUIRE_SHARED("traces/azure_llm_2023_code.csv");
  TraceFacts f = Measure("traces/azure_llm_2023_code.csv");
  EXPECT_EQ(f.count, 8819);
  EXPECT_NEAR(f.mean_isl, 2048, 0.5);
  EXPECT_NEAR(f.mean_osl, 28, 0.5);
  EXPECT_NEAR(f.count / f.span, 2.6, 2.6 * 0.03);
  EXPECT_NEAR(f.isl.Quantile(0.5), 1469, 14.7);
  EXPECT_NEAR(f.isl.Quantile(0.99), 7436, 74.4);
  EXPECT_NEAR(f.osl.Quantile(0.5), 13, 0.13);
}

TEST(RealTraces, MooncakeConversation) {
  DISAGG_REQUIRE_SHARED("traces/mooncake_conversation.jsonl");
  TraceFacts f = Measure("traces/mooncake_conversation.jsonl");
  EXPECT_EQ(f.count, 12031);
  EXPECT_NEAR(f.mean_isl, 12035, 0.5);
  EXPECT_NEAR(f.mean_osl, 343, 0.5);
}

TEST(RealTraces, MooncakeSynthetic) {
  DISAGG_REQUIRE_SHARED("traces/mooncake_synthetic.jsonl");
  TraceFacts f = Measure("traces/mooncake_synthetic.jsonl");
  EXPECT_EQ(f.count, 3993);
}

TEST(RealTraces, RateScaleTwoOnAzureConversation) {
  DISAGG_REQUIRE_SHARED("traces/azure_llm_2023_conv.csv");
  TraceOptions o;
  o.rate_scale = 2;
  o.time_scale = 0.5;
  auto source = OpenTrace(::disagg::testing::SharedFile("traces/azure_llm_2023_conv.csv"), o);
  ASSERT_TRUE(source.has_value()) << source.error().message;
  int64_t n = 0;
  double last = 0;
  while (true) {
    auto next = (*source)->Next();
    ASSERT_TRUE(next.has_value()) << next.error().message;
    if (!*next) break;
    ASSERT_GE((*next)->arrival, last);
    last = (*next)->arrival;
    ++n;
  }
  EXPECT_EQ(n, 2 * 19366);
  // Half the span, twice the requests: four times the rate (5.5 -> 22 req/s).
  EXPECT_NEAR(n / last, 4 * 5.53, 4 * 5.53 * 0.03);
}

}  // namespace
}  // namespace disagg::sim
