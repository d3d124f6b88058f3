// Records carried in from elsewhere (hydra pipe) have no source location:
// every format leaves the source fields out rather than printing empty ones,
// and the column formats (csv, text placeholders) leave them empty: never a
// made-up line 0.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "format/format_test_support.hpp"

namespace hydra::test {
namespace {

TEST(NoSource, StructuredFormatsOmitTheSourceFields) {
  CleanEnv env;
  TestRecord with(plain_fields());
  TestRecord without(plain_fields());
  without.record.source = SourceLocation{};
  ASSERT_TRUE(has_source(with.record));
  ASSERT_FALSE(has_source(without.record));
  for (const std::string_view format : {"json", "logfmt", "syslog", "gelf", "logstash"}) {
    const std::string a = render(format, with.record, fixed_identity());
    const std::string b = render(format, without.record, fixed_identity());
    EXPECT_NE(a.find("app.cpp"), std::string::npos) << format;
    EXPECT_EQ(b.find("app.cpp"), std::string::npos) << format;
    EXPECT_EQ(b.find("file"), std::string::npos) << format << ": " << b;
    EXPECT_EQ(b.find("function"), std::string::npos) << format << ": " << b;
    EXPECT_TRUE(is_one_safe_line(b)) << format;
    if (format == "json" || format == "gelf" || format == "logstash") {
      EXPECT_TRUE(nlohmann::json::accept(b)) << format << ": " << b;
    }
  }
}

TEST(NoSource, CsvLeavesFileLineAndFunctionEmpty) {
  CleanEnv env;
  TestRecord with(plain_fields());
  TestRecord without(plain_fields());
  without.record.source = SourceLocation{};
  const std::string a = render("csv", with.record);
  const std::string b = render("csv", without.record);
  const auto columns_with = parse_csv_line(std::string_view(a).substr(0, a.size() - 1));
  const auto columns_without = parse_csv_line(std::string_view(b).substr(0, b.size() - 1));
  ASSERT_TRUE(columns_with && columns_without) << a << b;
  ASSERT_EQ(columns_with->size(), 10u);
  ASSERT_EQ(columns_without->size(), 10u);
  // file, line, function are columns 6, 7 and 8.
  EXPECT_EQ((*columns_with)[6], "app.cpp");
  EXPECT_EQ((*columns_with)[7], "12");
  EXPECT_EQ((*columns_with)[8], "main");
  EXPECT_EQ((*columns_without)[6], "");
  EXPECT_EQ((*columns_without)[7], "") << b;
  EXPECT_EQ((*columns_without)[8], "");
  EXPECT_EQ((*columns_without)[9], "1234");  // the columns after them stay in place
}

TEST(NoSource, TextPlaceholdersForTheSourceAreEmpty) {
  CleanEnv env;
  TestRecord without(plain_fields());
  without.record.source = SourceLocation{};
  FormatterOptions options;
  options.text.message_format = "<{file}|{line}|{function}> {message}";
  EXPECT_EQ(render("text", without.record, options), "<||> user alice logged in\n");
  TestRecord with(plain_fields());
  EXPECT_EQ(render("text", with.record, options), "<app.cpp|12|main> user alice logged in\n");
}

}  // namespace
}  // namespace hydra::test
