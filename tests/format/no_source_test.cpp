// Records carried in from elsewhere (hydra pipe) have no source location:
// every format leaves the source fields out rather than printing empty ones.
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

}  // namespace
}  // namespace hydra::test
