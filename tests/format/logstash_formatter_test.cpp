// Logstash JSON: golden output, parsed back, reserved-key renaming.
#include "hydra/format/logstash_formatter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using test::HostileRecord;
using test::render;
using test::TestRecord;

TEST(LogstashFormatter, Golden) {
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(LogstashFormatter(test::fixed_identity()), r.record),
            R"({"@timestamp":"2026-11-27T10:13:12.345678Z","@version":"1",)"
            R"("message":"user alice logged in","logger_name":"hydra","level":"INFO",)"
            R"("level_value":20000,"layer":"APP","thread_name":"1234",)"
            R"("caller_file_name":"app.cpp","caller_line_number":12,)"
            R"("caller_method_name":"main","app_name":"shop","user":"alice","n":3,"ok":true})"
            "\n");
}

TEST(LogstashFormatter, GoldenHostile) {
  HostileRecord r;
  EXPECT_EQ(render(LogstashFormatter(test::fixed_identity()), r.record),
            R"({"@timestamp":"2026-11-27T10:13:12.345678Z","@version":"1",)"
            R"("message":"evil\r\n2026-11-27 INFO forged \u001b[31mred\u001b[0m \ufffd\ufffd )"
            R"(\"q\" a,b ]","logger_name":"hy\"dra","level":"INFO","level_value":20000,)"
            R"("layer":"A P\u001b","thread_name":"1234","caller_file_name":"app.cpp",)"
            R"("caller_line_number":12,"caller_method_name":"main","app_name":"shop",)"
            R"("us er":"a\nb","]=\"":"x]\"\\y","field_level":"forged","bad":"\ufffd\ufffd"})"
            "\n");
}

TEST(LogstashFormatter, ParsesAndRenamesReservedKeys) {
  TestRecord r({{"message", "shadow"}, {"@timestamp", 0}, {"user", "bob"}, {"d", 0.5}});
  r.record.level = Level::error;
  const auto j = nlohmann::json::parse(render(LogstashFormatter(), r.record));
  EXPECT_EQ(j["message"], "user alice logged in");
  EXPECT_EQ(j["field_message"], "shadow");
  EXPECT_EQ(j["@timestamp"], "2026-11-27T10:13:12.345678Z");
  EXPECT_EQ(j["field_@timestamp"], 0);
  EXPECT_EQ(j["level"], "ERROR");
  EXPECT_EQ(j["level_value"], 40000);
  EXPECT_EQ(j["user"], "bob");
  EXPECT_EQ(j["d"], 0.5);
  EXPECT_FALSE(j.contains("app_name"));  // none given
}

}  // namespace
}  // namespace hydra
