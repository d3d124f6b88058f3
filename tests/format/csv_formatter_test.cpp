// CSV: golden output, RFC 4180 parsing of every line, the header.
#include "hydra/format/csv_formatter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using test::HostileRecord;
using test::parse_csv_line;
using test::render;
using test::TestRecord;

std::vector<std::string> parse(const std::string& line) {
  EXPECT_TRUE(test::is_one_safe_line(line)) << line;
  auto values = parse_csv_line(std::string_view(line).substr(0, line.size() - 1));
  EXPECT_TRUE(values.has_value()) << line;
  return values.value_or(std::vector<std::string>{});
}

TEST(CsvFormatter, Golden) {
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(CsvFormatter(), r.record),
            R"(2026-11-27T10:13:12.345678Z,info,APP,hydra,user alice logged in,)"
            R"("{""user"":""alice"",""n"":3,""ok"":true}",app.cpp,12,main,1234)"
            "\n");
}

TEST(CsvFormatter, GoldenHostile) {
  HostileRecord r;
  EXPECT_EQ(render(CsvFormatter(), r.record),
            R"x(2026-11-27T10:13:12.345678Z,info,A P\x1b,"hy""dra",)x"
            R"x("evil\r\n2026-11-27 INFO forged \x1b[31mred\x1b[0m \xff\xfe ""q"" a,b ]",)x"
            R"x("{""us er"":""a\nb"",""]=\"""":""x]\""\\y"",""level"":""forged"",)x"
            R"x(""bad"":""\ufffd\ufffd""}",app.cpp,12,main,1234)x"
            "\n");
}

TEST(CsvFormatter, ColumnsRoundTrip) {
  TestRecord r({{"k", "v,\"w\""}, {"n", 1}});
  r.record.message = "a, \"b\" c";
  r.record.layer = "L,1";
  r.record.source = SourceLocation{"x.cpp", "f(a, b)", 9};
  const auto v = parse(render(CsvFormatter(), r.record));
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v[0], "2026-11-27T10:13:12.345678Z");
  EXPECT_EQ(v[1], "info");
  EXPECT_EQ(v[2], "L,1");
  EXPECT_EQ(v[3], "hydra");
  EXPECT_EQ(v[4], "a, \"b\" c");
  const auto fields = nlohmann::json::parse(v[5]);
  EXPECT_EQ(fields["k"], "v,\"w\"");
  EXPECT_EQ(fields["n"], 1);
  EXPECT_EQ(v[6], "x.cpp");
  EXPECT_EQ(v[7], "9");
  EXPECT_EQ(v[8], "f(a, b)");
  EXPECT_EQ(v[9], "1234");
}

TEST(CsvFormatter, HostileRecordParsesWithTenColumns) {
  HostileRecord r;
  const auto v = parse(render(CsvFormatter(), r.record));
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v[4], R"(evil\r\n2026-11-27 INFO forged \x1b[31mred\x1b[0m \xff\xfe "q" a,b ])");
  const auto fields = nlohmann::json::parse(v[5]);
  EXPECT_EQ(fields["us er"], "a\nb");
  EXPECT_EQ(fields["]=\""], "x]\"\\y");
}

TEST(CsvFormatter, EmptyFieldsColumn) {
  TestRecord r({});
  const auto v = parse(render(CsvFormatter(), r.record));
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v[5], "");
}

// The header belongs to the file (the file sinks write it at the start of each
// file: tests/core/shared_file_test.cpp), never to a record's line.
TEST(CsvFormatter, TheHeaderIsOfferedNotWrittenIntoRecords) {
  FormatterOptions o;
  o.csv_header = true;
  const CsvFormatter f(o);
  EXPECT_EQ(f.header(), kCsvHeader);
  EXPECT_EQ(make_formatter("csv", o)->header(), kCsvHeader);
  EXPECT_EQ(CsvFormatter().header(), "");
  TestRecord r({});
  EXPECT_EQ(render(f, r.record), render(CsvFormatter(), r.record));
  EXPECT_FALSE(render(f, r.record).starts_with("timestamp"));
  EXPECT_EQ(parse_csv_line(kCsvHeader.substr(0, kCsvHeader.size() - 1))->size(), 10u);
  for (const std::string_view other : {"text", "json", "logfmt", "syslog", "gelf", "logstash"}) {
    EXPECT_EQ(make_formatter(other, o)->header(), "") << other;
  }
}

}  // namespace
}  // namespace hydra
