// JSON Lines: golden output, and every value read back with nlohmann::json.
#include "hydra/format/json_formatter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using test::HostileRecord;
using test::render;
using test::TestRecord;

TEST(JsonFormatter, Golden) {
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(JsonFormatter(), r.record),
            R"({"timestamp":"2026-11-27T10:13:12.345678Z","level":"info","layer":"APP",)"
            R"("logger":"hydra","message":"user alice logged in",)"
            R"("fields":{"user":"alice","n":3,"ok":true},)"
            R"("source":{"file":"app.cpp","line":12,"function":"main"},"thread":1234})"
            "\n");
}

TEST(JsonFormatter, FieldsOmittedWhenEmpty) {
  TestRecord r({});
  const std::string line = render(JsonFormatter(), r.record);
  EXPECT_EQ(line.find("fields"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(line).contains("fields"));
}

TEST(JsonFormatter, GoldenHostile) {
  HostileRecord r;
  EXPECT_EQ(render(JsonFormatter(), r.record),
            R"({"timestamp":"2026-11-27T10:13:12.345678Z","level":"info","layer":"A P\u001b",)"
            R"("logger":"hy\"dra","message":"evil\r\n2026-11-27 INFO forged \u001b[31mred)"
            R"(\u001b[0m \ufffd\ufffd \"q\" a,b ]","fields":{"us er":"a\nb","]=\"":"x]\"\\y",)"
            R"("level":"forged","bad":"\ufffd\ufffd"},)"
            R"("source":{"file":"app.cpp","line":12,"function":"main"},"thread":1234})"
            "\n");
}

TEST(JsonFormatter, ParsesAndRoundTrips) {
  const std::vector<Field> fields = {
      {"s", "t\"ab\\"},     {"i", -7},    {"u", std::uint64_t{1} << 63},
      {"d", 2.5},           {"b", false}, {"nan", std::nan("")},
      {"nul", FieldValue()}};
  TestRecord r(fields);
  r.record.level = Level::security;
  r.record.message = "caf\xc3\xa9 \"quoted\"\nnext\x1b[0m";
  const std::string line = render(JsonFormatter(), r.record);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["timestamp"], "2026-11-27T10:13:12.345678Z");
  EXPECT_EQ(j["level"], "security");
  EXPECT_EQ(j["layer"], "APP");
  EXPECT_EQ(j["logger"], "hydra");
  EXPECT_EQ(j["message"], r.record.message);  // exact round trip of valid UTF-8
  EXPECT_EQ(j["fields"]["s"], "t\"ab\\");
  EXPECT_EQ(j["fields"]["i"], -7);
  EXPECT_EQ(j["fields"]["u"], std::uint64_t{1} << 63);
  EXPECT_EQ(j["fields"]["d"], 2.5);
  EXPECT_EQ(j["fields"]["b"], false);
  EXPECT_EQ(j["fields"]["nan"], "nan");
  EXPECT_TRUE(j["fields"]["nul"].is_null());
  EXPECT_EQ(j["source"]["file"], "app.cpp");
  EXPECT_EQ(j["source"]["line"], 12);
  EXPECT_EQ(j["source"]["function"], "main");
  EXPECT_EQ(j["thread"], 1234);
}

TEST(JsonFormatter, HostileValuesRoundTripAsUtf8) {
  HostileRecord r;
  const auto j = nlohmann::json::parse(render(JsonFormatter(), r.record));
  EXPECT_EQ(
      j["message"],
      "evil\r\n2026-11-27 INFO forged \x1b[31mred\x1b[0m \xef\xbf\xbd\xef\xbf\xbd \"q\" a,b ]");
  EXPECT_EQ(j["layer"], "A P\x1b");
  EXPECT_EQ(j["logger"], "hy\"dra");
  EXPECT_EQ(j["fields"]["us er"], "a\nb");
  EXPECT_EQ(j["fields"]["]=\""], "x]\"\\y");
  EXPECT_EQ(j["fields"]["level"], "forged");
  EXPECT_EQ(j["level"], "info");
}

// The gcp dialect (format "gcp_json"): Cloud Logging's names for time,
// severity and source; everything else as in the standard layout.
TEST(JsonFormatter, GcpGolden) {
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(JsonFormatter(JsonDialect::gcp), r.record),
            R"({"time":"2026-11-27T10:13:12.345678Z","severity":"INFO","level":"info",)"
            R"("layer":"APP","logger":"hydra","message":"user alice logged in",)"
            R"("fields":{"user":"alice","n":3,"ok":true},)"
            R"("logging.googleapis.com/sourceLocation":{"file":"app.cpp","line":"12",)"
            R"("function":"main"},"thread":1234})"
            "\n");
  EXPECT_EQ(render("gcp_json", r.record), render(JsonFormatter(JsonDialect::gcp), r.record));
  EXPECT_EQ(render(JsonFormatter(JsonDialect::standard), r.record), render("json", r.record));
}

TEST(JsonFormatter, GcpGoldenHostile) {
  HostileRecord r;
  EXPECT_EQ(render("gcp_json", r.record),
            R"({"time":"2026-11-27T10:13:12.345678Z","severity":"INFO","level":"info",)"
            R"("layer":"A P\u001b","logger":"hy\"dra","message":"evil\r\n2026-11-27 INFO forged )"
            R"(\u001b[31mred\u001b[0m \ufffd\ufffd \"q\" a,b ]","fields":{"us er":"a\nb",)"
            R"("]=\"":"x]\"\\y","level":"forged","bad":"\ufffd\ufffd"},)"
            R"("logging.googleapis.com/sourceLocation":{"file":"app.cpp","line":"12",)"
            R"("function":"main"},"thread":1234})"
            "\n");
}

TEST(JsonFormatter, GcpSeverityFollowsTheSyslogSeverity) {
  const std::vector<std::pair<Level, std::string>> expected = {
      {Level::trace, "DEBUG"},      {Level::debug, "DEBUG"}, {Level::info, "INFO"},
      {Level::warning, "WARNING"},  {Level::error, "ERROR"}, {Level::critical, "CRITICAL"},
      {Level::security, "WARNING"}, {Level::audit, "INFO"},  {Level::compliance, "INFO"}};
  for (const auto& [level, severity] : expected) {
    TestRecord r({});
    r.record.level = level;
    const auto j = nlohmann::json::parse(render("gcp_json", r.record));
    EXPECT_EQ(j["severity"], severity) << to_lower_string(level);
    EXPECT_EQ(j["level"], std::string(to_lower_string(level)));  // Hydra's own level is kept
  }
}

TEST(JsonFormatter, GcpParsesWithCloudLoggingFields) {
  HostileRecord r;
  const std::string line = render("gcp_json", r.record);
  EXPECT_TRUE(test::is_one_safe_line(line)) << line;
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-11-27T10:13:12.345678Z");
  EXPECT_FALSE(j.contains("timestamp"));
  EXPECT_FALSE(j.contains("source"));
  EXPECT_EQ(
      j["message"],
      "evil\r\n2026-11-27 INFO forged \x1b[31mred\x1b[0m \xef\xbf\xbd\xef\xbf\xbd \"q\" a,b ]");
  const auto& location = j["logging.googleapis.com/sourceLocation"];
  EXPECT_EQ(location["file"], "app.cpp");
  EXPECT_EQ(location["line"], "12");
  EXPECT_EQ(location["function"], "main");
  EXPECT_EQ(j["fields"]["level"], "forged");  // a field cannot pass for the record's own
  EXPECT_EQ(j["severity"], "INFO");
}

TEST(JsonFormatter, GcpLeavesTheSourceLocationOutWhenUnknown) {
  TestRecord r({});
  r.record.source = SourceLocation{};
  const auto j = nlohmann::json::parse(render("gcp_json", r.record));
  EXPECT_FALSE(j.contains("logging.googleapis.com/sourceLocation"));
  EXPECT_EQ(j["message"], "user alice logged in");
}

}  // namespace
}  // namespace hydra
