#include "disagg/base/units.h"

#include <gtest/gtest.h>

#include <string>

namespace disagg {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

double Seconds(std::string_view text) {
  auto d = ParseDuration(text, "--flag");
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
  return d.value_or(-1);
}

TEST(ParseDuration, Units) {
  EXPECT_DOUBLE_EQ(Seconds("10s"), 10.0);
  EXPECT_DOUBLE_EQ(Seconds("50ms"), 0.05);
  EXPECT_DOUBLE_EQ(Seconds("250us"), 250e-6);
  EXPECT_DOUBLE_EQ(Seconds("2m"), 120.0);  // 2 x 60
  EXPECT_DOUBLE_EQ(Seconds("1h"), 3600.0);
}

TEST(ParseDuration, BareNumberIsSeconds) {
  EXPECT_DOUBLE_EQ(Seconds("10"), 10.0);
  EXPECT_DOUBLE_EQ(Seconds("0.25"), 0.25);
  EXPECT_DOUBLE_EQ(Seconds("0"), 0.0);
}

TEST(ParseDuration, FractionsAndExponents) {
  EXPECT_DOUBLE_EQ(Seconds("1.5ms"), 1.5e-3);
  EXPECT_DOUBLE_EQ(Seconds("1e3ms"), 1.0);  // 1000 x 1e-3
}

TEST(ParseDuration, NegativeIsRejectedNamingTheFlag) {
  auto d = ParseDuration("-5s", "--ftl-limit");
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(Contains(d.error().message, "--ftl-limit"));
  EXPECT_TRUE(Contains(d.error().message, "-5s"));
}

TEST(ParseDuration, NotANumberIsRejectedNamingTheFlag) {
  auto d = ParseDuration("abc", "--ttl-limit");
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(Contains(d.error().message, "--ttl-limit"));
  EXPECT_TRUE(Contains(d.error().message, "abc"));
}

TEST(ParseDuration, UnknownUnitIsRejectedNamingTheFlagAndUnit) {
  auto d = ParseDuration("10parsecs", "--window");
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(Contains(d.error().message, "--window"));
  EXPECT_TRUE(Contains(d.error().message, "10parsecs"));
  EXPECT_TRUE(Contains(d.error().message, "parsecs"));
}

TEST(ParseDuration, EmptyAndNonFiniteAreRejected) {
  for (const char* text : {"", "s", "ms", "inf", "nan", "infs", "1e999s"}) {
    auto d = ParseDuration(text, "--x");
    EXPECT_FALSE(d.has_value()) << "accepted '" << text << "'";
    if (!d) {
      EXPECT_TRUE(Contains(d.error().message, "--x"));
    }
  }
}

TEST(ParseDuration, UnitIsCaseSensitiveAndUnspaced) {
  EXPECT_FALSE(ParseDuration("10S", "--x").has_value());
  EXPECT_FALSE(ParseDuration("10 s", "--x").has_value());
  EXPECT_FALSE(ParseDuration("10ss", "--x").has_value());
}

TEST(ParseNumber, AcceptsNumbersOnly) {
  EXPECT_DOUBLE_EQ(ParseNumber("3.5", "--rate").value(), 3.5);
  EXPECT_DOUBLE_EQ(ParseNumber("-2", "--rate").value(), -2.0);
  for (const char* text : {"", "abc", "3.5x", "inf", "nan"}) {
    auto n = ParseNumber(text, "--rate");
    EXPECT_FALSE(n.has_value()) << "accepted '" << text << "'";
    if (!n) {
      EXPECT_TRUE(Contains(n.error().message, "--rate"));
    }
  }
}

TEST(FormatDuration, PicksAReadableUnit) {
  EXPECT_EQ(FormatDuration(812e-6), "812 us");
  EXPECT_EQ(FormatDuration(0.0352), "35.2 ms");
  EXPECT_EQ(FormatDuration(1.2), "1.2 s");
}

}  // namespace
}  // namespace disagg
