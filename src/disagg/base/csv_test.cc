#include "disagg/base/csv.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace disagg {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// Reads every record of `text`; fails the test on a parse error.
Rows ReadAll(const std::string& text, std::vector<long long>* lines = nullptr) {
  std::istringstream in(text);
  CsvReader reader(in, "t.csv");
  Rows rows;
  std::vector<std::string> fields;
  while (true) {
    auto more = reader.Next(fields);
    EXPECT_TRUE(more.has_value()) << (more ? "" : more.error().message);
    if (!more || !*more) break;
    rows.push_back(fields);
    if (lines != nullptr) lines->push_back(reader.line());
  }
  return rows;
}

TEST(CsvReader, PlainRecords) {
  Rows rows = ReadAll("a,b,c\n1,2,3\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "2", "3"}));
}

TEST(CsvReader, LastLineWithoutNewline) {
  Rows rows = ReadAll("a,b\n1,2");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "2"}));
}

TEST(CsvReader, EmptyFields) {
  Rows rows = ReadAll(",x,\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"", "x", ""}));
}

TEST(CsvReader, QuotedFieldsKeepCommas) {
  Rows rows = ReadAll("\"a,b\",c,\"\"\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a,b", "c", ""}));
}

TEST(CsvReader, DoubledQuotesAreOneQuote) {
  // "say ""hi""" -> say "hi";  """" -> a single quote.
  Rows rows = ReadAll("\"say \"\"hi\"\"\",\"\"\"\"\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"say \"hi\"", "\""}));
}

TEST(CsvReader, EmbeddedNewlinesSpanLines) {
  std::vector<long long> lines;
  Rows rows = ReadAll("id,text\n1,\"two\nlines\"\n2,\"with\n\nblank\"\n3,end\n", &lines);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "two\nlines"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "with\n\nblank"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"3", "end"}));
  // Records start on lines 1, 2, 4 (line 3 continues record 2) and 7 (lines
  // 4-6 hold record 3).
  EXPECT_EQ(lines, (std::vector<long long>{1, 2, 4, 7}));
}

TEST(CsvReader, CrlfLineEndings) {
  Rows rows = ReadAll("a,b\r\n1,\"x\r\ny\"\r\n2,3\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b"}));
  // The CR of a line break inside quotes is part of the break, not the text.
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "x\ny"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "3"}));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
  std::vector<long long> lines;
  Rows rows = ReadAll("\na,b\n\n\r\n1,2\n\n", &lines);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(lines, (std::vector<long long>{2, 5}));
}

TEST(CsvReader, EmptyInput) {
  EXPECT_TRUE(ReadAll("").empty());
  EXPECT_TRUE(ReadAll("\n\n").empty());
}

TEST(CsvReader, UnterminatedQuoteNamesOriginAndLine) {
  // The bad record starts on line 3 and runs to the end of the input.
  std::istringstream in("a,b\n1,2\n3,\"open\nmore\n");
  CsvReader reader(in, "trace.csv");
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.Next(fields).value());
  ASSERT_TRUE(reader.Next(fields).value());
  auto r = reader.Next(fields);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("trace.csv:3:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("unterminated"), std::string::npos) << r.error().message;
}

TEST(CsvReader, UnterminatedQuoteOnTheLastLine) {
  std::istringstream in("x\n\"abc");
  CsvReader reader(in, "t.csv");
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.Next(fields).value());
  auto r = reader.Next(fields);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("t.csv:2:"), std::string::npos) << r.error().message;
}

TEST(CsvReader, OriginIsKept) {
  std::istringstream in("");
  CsvReader reader(in, "azure.csv");
  EXPECT_EQ(reader.origin(), "azure.csv");
}

TEST(CsvHeader, FindsColumnsByName) {
  CsvHeader h({"TIMESTAMP", "ContextTokens", "GeneratedTokens"});
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.Find("TIMESTAMP"), 0u);
  EXPECT_EQ(h.Find("GeneratedTokens"), 2u);
  EXPECT_FALSE(h.Find("contexttokens").has_value());  // names are case-sensitive
  EXPECT_FALSE(h.Find("missing").has_value());
}

TEST(CsvHeader, GetReturnsTheFieldOrEmpty) {
  CsvHeader h({"a", "b", "c"});
  std::vector<std::string> row = {"1", "2", "3"};
  EXPECT_EQ(h.Get(row, "b"), "2");
  EXPECT_EQ(h.Get(row, "zz"), "");
  std::vector<std::string> short_row = {"1"};
  EXPECT_EQ(h.Get(short_row, "c"), "");
}

TEST(CsvHeader, StripsAByteOrderMark) {
  CsvHeader h({"\xEF\xBB\xBFTIMESTAMP", "x"});
  EXPECT_EQ(h.Find("TIMESTAMP"), 0u);
}

TEST(CsvHeader, FromAParsedHeaderLine) {
  Rows rows = ReadAll("\"time, s\",isl\n0.5,100\n");
  ASSERT_EQ(rows.size(), 2u);
  CsvHeader h(rows[0]);
  EXPECT_EQ(h.Get(rows[1], "time, s"), "0.5");
  EXPECT_EQ(h.Get(rows[1], "isl"), "100");
}

TEST(CsvHeader, DefaultIsEmpty) {
  CsvHeader h;
  EXPECT_EQ(h.size(), 0u);
  EXPECT_FALSE(h.Find("a").has_value());
}

}  // namespace
}  // namespace disagg
