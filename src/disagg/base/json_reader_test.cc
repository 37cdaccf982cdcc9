#include "disagg/base/json_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace disagg {
namespace {

// Passes when `text` contains `part`; the failure message shows both.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// Parses `text` (which must be valid JSON) for a reader test.
Json Parse(std::string_view text) {
  auto j = ParseJsonText(text, "test.json");
  EXPECT_TRUE(j.has_value()) << (j ? "" : j.error().message);
  return j ? *j : Json();
}

std::string ErrorOf(const JsonReader& r) {
  auto done = r.Finish();
  EXPECT_FALSE(done.has_value()) << "expected an error";
  return done ? "" : done.error().message;
}

// ---- Malformed JSON: file:line:column ----

TEST(ParseJsonText, ReportsLineAndColumnOfTheBadCharacter) {
  // Line 3 is `  "b": @`: two spaces, `"b"` (3), `:` and a space, so `@` is
  // the 8th character of line 3.
  auto j = ParseJsonText("{\n  \"a\": 1,\n  \"b\": @\n}\n", "spec.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, "spec.json:3:8:"));
  EXPECT_TRUE(Contains(j.error().message, "malformed JSON"));
}

TEST(ParseJsonText, ReportsPositionOnTheFirstLine) {
  // `{"a" :@}`: '@' is the 7th character.
  auto j = ParseJsonText("{\"a\" :@}", "x.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, "x.json:1:7:"));
}

TEST(ParseJsonText, TrailingCommaIsAnError) {
  // Line 2 is `  "a": 1,`, line 3 is `}`: the '}' after the comma is at 3:1.
  auto j = ParseJsonText("{\n  \"a\": 1,\n}", "t.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, "t.json:3:1:"));
}

TEST(ParseJsonText, TruncatedInputIsAnErrorNamingTheFile) {
  auto j = ParseJsonText("{\"a\": [1, 2", "cut.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, "cut.json:1:"));
}

TEST(ParseJsonText, EmptyInputIsAnError) {
  auto j = ParseJsonText("", "empty.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, "empty.json:1:1:"));
}

TEST(LoadJsonFile, MissingFileNamesThePath) {
  auto j = LoadJsonFile("/nonexistent/dir/spec.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, "/nonexistent/dir/spec.json"));
}

TEST(LoadJsonFile, MalformedFileNamesPathLineAndColumn) {
  auto dir = std::filesystem::temp_directory_path() /
             ("disagg_json_reader_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "bad.json").string();
  {
    std::ofstream out(path);
    // `x` is the 3rd character of line 2.
    out << "[1,\n  x]\n";
  }
  auto j = LoadJsonFile(path);
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, path + ":2:3:"));
}

// ---- Accessors ----

TEST(JsonReader, ReadsValuesOfTheRightType) {
  Json j = Parse(R"({"n": 2.5, "i": 7, "f": 8.0, "b": true, "s": "hi", "o": {"x": 1}})");
  JsonReader r(j, "test.json");
  EXPECT_DOUBLE_EQ(r.Number("n", 0, 10), 2.5);
  EXPECT_EQ(r.Integer("i", 0, 10), 7);
  EXPECT_EQ(r.Integer("f", 0, 10), 8);  // an integral float is an integer
  EXPECT_TRUE(r.BoolOr("b", false));
  EXPECT_EQ(r.String("s"), "hi");
  JsonReader o = r.Object("o");
  EXPECT_EQ(o.Integer("x", 0, 1), 1);
  r.Absorb(o);
  EXPECT_TRUE(r.Finish().has_value());
}

TEST(JsonReader, OptionalAccessorsFallBackWhenMissingOrNull) {
  Json j = Parse(R"({"n": null})");
  JsonReader r(j, "test.json");
  EXPECT_DOUBLE_EQ(r.NumberOr("n", 3, 0, 10), 3);
  EXPECT_DOUBLE_EQ(r.NumberOr("absent", 4, 0, 10), 4);
  EXPECT_EQ(r.IntegerOr("absent", 5, 0, 10), 5);
  EXPECT_EQ(r.StringOr("absent", "d"), "d");
  EXPECT_FALSE(r.BoolOr("absent", false));
  EXPECT_TRUE(r.Finish().has_value());
}

TEST(JsonReader, TypeErrorNamesFileKeyAndValue) {
  Json j = Parse(R"({"gpu": {"hbm_gib": "eighty"}})");
  JsonReader r(j, "h100.json");
  JsonReader gpu = r.Object("gpu");
  gpu.Number("hbm_gib", 1, 1000);
  r.Absorb(gpu);
  std::string e = ErrorOf(r);
  EXPECT_TRUE(Contains(e, "h100.json"));
  EXPECT_TRUE(Contains(e, "gpu.hbm_gib"));
  EXPECT_TRUE(Contains(e, "\"eighty\""));
  EXPECT_TRUE(Contains(e, "expected a number"));
}

TEST(JsonReader, NonIntegralNumberIsNotAnInteger) {
  Json j = Parse(R"({"layers": 2.5})");
  JsonReader r(j, "m.json");
  r.Integer("layers", 1, 100);
  std::string e = ErrorOf(r);
  EXPECT_TRUE(Contains(e, "m.json"));
  EXPECT_TRUE(Contains(e, "layers"));
  EXPECT_TRUE(Contains(e, "2.5"));
  EXPECT_TRUE(Contains(e, "expected an integer"));
}

TEST(JsonReader, BoolAndStringTypeErrors) {
  {
    Json j = Parse(R"({"flag": 1})");
    JsonReader r(j, "a.json");
    r.BoolOr("flag", false);
    std::string e = ErrorOf(r);
    EXPECT_TRUE(Contains(e, "a.json: flag:"));
    EXPECT_TRUE(Contains(e, "expected true or false, got 1"));
  }
  {
    Json j = Parse(R"({"name": 42})");
    JsonReader r(j, "b.json");
    r.String("name");
    std::string e = ErrorOf(r);
    EXPECT_TRUE(Contains(e, "b.json: name:"));
    EXPECT_TRUE(Contains(e, "expected a string, got 42"));
  }
}

TEST(JsonReader, RangeErrorNamesValueAndBounds) {
  Json j = Parse(R"({"a": {"b": {"bw": -3}}})");
  JsonReader r(j, "sys.json");
  JsonReader a = r.Object("a");
  JsonReader b = a.Object("b");
  b.Number("bw", 0.5, 100);
  a.Absorb(b);
  r.Absorb(a);
  std::string e = ErrorOf(r);
  EXPECT_TRUE(Contains(e, "sys.json"));
  EXPECT_TRUE(Contains(e, "a.b.bw"));
  EXPECT_TRUE(Contains(e, "-3"));
  EXPECT_TRUE(Contains(e, "out of range"));
  EXPECT_TRUE(Contains(e, "0.5 to 100"));
}

TEST(JsonReader, IntegerRangeError) {
  Json j = Parse(R"({"heads": 0})");
  JsonReader r(j, "m.json");
  r.Integer("heads", 1, 4096);
  std::string e = ErrorOf(r);
  EXPECT_TRUE(Contains(e, "m.json: heads:"));
  EXPECT_TRUE(Contains(e, "value 0 out of range, expected 1 to 4096"));
}

TEST(JsonReader, MissingRequiredFieldsNameTheKeyPath) {
  Json j = Parse(R"({"gpu": {}})");
  {
    JsonReader r(j, "s.json");
    JsonReader gpu = r.Object("gpu");
    gpu.Number("hbm_gib", 1, 10);
    r.Absorb(gpu);
    std::string e = ErrorOf(r);
    EXPECT_TRUE(Contains(e, "s.json: gpu.hbm_gib: missing required field"));
  }
  {
    JsonReader r(j, "s.json");
    r.Object("gpu").Integer("n", 1, 10);  // error stays in the temporary
    r.String("name");
    EXPECT_TRUE(Contains(ErrorOf(r), "s.json: name: missing required field"));
  }
  {
    JsonReader r(j, "s.json");
    r.Ignore("gpu");
    r.Object("calibration");
    EXPECT_TRUE(Contains(ErrorOf(r), "s.json: calibration: missing required object"));
  }
}

TEST(JsonReader, NullIsNotAValueForARequiredField) {
  // A required field given as null must not silently take a default.
  {
    JsonReader r(Parse(R"({"n": null})"), "n.json");
    r.Number("n", 1, 10);
    EXPECT_TRUE(Contains(ErrorOf(r), "n.json: n: missing required field"));
  }
  {
    JsonReader r(Parse(R"({"i": null})"), "n.json");
    r.Integer("i", 1, 10);
    EXPECT_TRUE(Contains(ErrorOf(r), "n.json: i: missing required field"));
  }
  {
    JsonReader r(Parse(R"({"s": null})"), "n.json");
    r.String("s");
    EXPECT_TRUE(Contains(ErrorOf(r), "n.json: s: missing required field"));
  }
}

TEST(JsonReader, NotAnObject) {
  Json j = Parse(R"({"gpu": [1, 2]})");
  JsonReader r(j, "s.json");
  JsonReader gpu = r.Object("gpu");
  r.Absorb(gpu);
  std::string e = ErrorOf(r);
  EXPECT_TRUE(Contains(e, "s.json: gpu: expected a JSON object, got [1,2]"));
  JsonReader top(Parse("3"), "top.json");
  EXPECT_TRUE(Contains(ErrorOf(top), "top.json: expected a JSON object, got 3"));
}

TEST(JsonReader, UnknownKeysAreErrorsWhenStrict) {
  Json j = Parse(R"({"name": "x", "nmae": "typo"})");
  JsonReader r(j, "s.json");
  r.String("name");
  std::string e = ErrorOf(r);
  EXPECT_TRUE(Contains(e, "s.json: nmae: unknown key"));
  EXPECT_TRUE(r.Finish(/*strict=*/false).has_value());
  EXPECT_EQ(r.UnreadKeys(), std::vector<std::string>{"nmae"});
}

TEST(JsonReader, UnknownNestedKeyNamesTheDottedPath) {
  Json j = Parse(R"({"gpu": {"peak_tflops": {"bf16": 1, "fp9": 2}}})");
  JsonReader r(j, "s.json");
  JsonReader gpu = r.Object("gpu");
  JsonReader peaks = gpu.Object("peak_tflops");
  peaks.NumberOr("bf16", 0, 0, 10);
  gpu.Absorb(peaks);
  r.Absorb(gpu);
  EXPECT_TRUE(Contains(ErrorOf(r), "s.json: gpu.peak_tflops.fp9: unknown key"));
}

TEST(JsonReader, IgnoredAndRawKeysAreNotUnknown) {
  Json j = Parse(R"({"a": 1, "b": [1], "c": 3})");
  JsonReader r(j, "s.json");
  r.Ignore("a");
  const Json* b = r.Raw("b");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->is_array());
  EXPECT_EQ(r.Raw("absent"), nullptr);
  EXPECT_TRUE(Contains(ErrorOf(r), "s.json: c: unknown key"));
}

TEST(JsonReader, FirstErrorWins) {
  Json j = Parse(R"({"a": "x", "b": "y"})");
  JsonReader r(j, "s.json");
  r.Number("a", 0, 1);
  r.Number("b", 0, 1);
  r.Fail("c", "later");
  std::string e = ErrorOf(r);
  EXPECT_TRUE(Contains(e, "s.json: a:"));
  EXPECT_EQ(e.find("b:"), std::string::npos);
  EXPECT_FALSE(r.ok());
}

TEST(ParseJsonText, NumberOverflowIsAnErrorNotAnException) {
  // 1e400 does not fit in a double; nlohmann throws out_of_range (not
  // parse_error) for it, which must still come back as an Error.
  auto j = ParseJsonText("{\"x\": 1e400}", "big.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(Contains(j.error().message, "big.json"));
  EXPECT_TRUE(Contains(j.error().message, "1e400"));
}

TEST(JsonReader, HugeValuesFailRangeChecks) {
  Json j = Parse(R"({"x": 1e300, "n": 1e30})");
  {
    JsonReader r(j, "s.json");
    r.Ignore("n");
    r.Number("x", 0, 1e6);
    EXPECT_TRUE(Contains(ErrorOf(r), "s.json: x: value 1e+300 out of range"));
  }
  {
    JsonReader r(j, "s.json");
    r.Ignore("x");
    r.Integer("n", 0, 1000);
    EXPECT_TRUE(Contains(ErrorOf(r), "s.json: n: value 1e+30 out of range"));
  }
}

TEST(JsonSnippet, ShortensLongValues) {
  std::string s = JsonSnippet(Json(std::string(200, 'a')));
  EXPECT_LE(s.size(), 60u);
  EXPECT_TRUE(s.ends_with("..."));
  EXPECT_EQ(JsonSnippet(Json(5)), "5");
}

}  // namespace
}  // namespace disagg
