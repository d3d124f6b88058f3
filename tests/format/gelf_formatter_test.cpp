// GELF 1.1: golden output, parsed back, field-name rules.
#include "hydra/format/gelf_formatter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using test::HostileRecord;
using test::render;
using test::TestRecord;

TEST(GelfFormatter, Golden) {
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(GelfFormatter(test::fixed_identity()), r.record),
            R"({"version":"1.1","host":"web1","short_message":"user alice logged in",)"
            R"("timestamp":1795774392.345678,"level":6,"_layer":"APP","_logger":"hydra",)"
            R"("_file":"app.cpp","_line":12,"_function":"main","_thread":1234,)"
            R"("_app_name":"shop","_user":"alice","_n":3,"_ok":"true"})"
            "\n");
}

TEST(GelfFormatter, GoldenHostile) {
  HostileRecord r;
  EXPECT_EQ(render(GelfFormatter(test::fixed_identity()), r.record),
            R"({"version":"1.1","host":"web1","short_message":"evil\r\n2026-11-27 INFO forged )"
            R"(\u001b[31mred\u001b[0m \ufffd\ufffd \"q\" a,b ]","timestamp":1795774392.345678,)"
            R"("level":6,"_layer":"A P\u001b","_logger":"hy\"dra","_file":"app.cpp","_line":12,)"
            R"("_function":"main","_thread":1234,"_app_name":"shop","_us_er":"a\nb",)"
            R"("____":"x]\"\\y","_level":"forged","_bad":"\ufffd\ufffd"})"
            "\n");
}

TEST(GelfFormatter, ParsesWithGelfTypesAndNames) {
  TestRecord r({{"id", "forbidden"},
                {"layer", "mine"},
                {"weird key/é", 1.25},
                {"flag", false},
                {"none", FieldValue()},
                {"big", std::uint64_t{1} << 60}});
  r.record.level = Level::critical;
  const auto j = nlohmann::json::parse(render(GelfFormatter(test::fixed_identity()), r.record));
  EXPECT_EQ(j["version"], "1.1");
  EXPECT_EQ(j["host"], "web1");
  EXPECT_EQ(j["short_message"], "user alice logged in");
  EXPECT_DOUBLE_EQ(j["timestamp"].get<double>(), 1795774392.345678);
  EXPECT_EQ(j["level"], 2);
  EXPECT_FALSE(j.contains("_id"));
  EXPECT_EQ(j["_field_id"], "forbidden");
  EXPECT_EQ(j["_layer"], "APP");
  EXPECT_EQ(j["_field_layer"], "mine");
  EXPECT_EQ(j["_weird_key___"], 1.25);
  EXPECT_EQ(j["_flag"], "false");
  EXPECT_EQ(j["_none"], "null");
  EXPECT_EQ(j["_big"], std::uint64_t{1} << 60);
  const std::regex name(R"(^[\w\.\-]*$)");
  for (const auto& [key, value] : j.items()) {
    if (key.starts_with("_")) {
      EXPECT_TRUE(std::regex_match(key, name)) << key;
      EXPECT_TRUE(value.is_string() || value.is_number()) << key;
    }
  }
}

TEST(GelfFormatter, EmptyMessageIsADash) {
  TestRecord r({});
  r.record.message = "";
  const auto j = nlohmann::json::parse(render(GelfFormatter(test::fixed_identity()), r.record));
  EXPECT_EQ(j["short_message"], "-");
}

}  // namespace
}  // namespace hydra
