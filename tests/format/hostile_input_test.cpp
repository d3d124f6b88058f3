// Every format, every hostile input in every place: one safe line of valid
// UTF-8, JSON that parses, and no crash on a 1 MiB value.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using test::render;
using test::TestRecord;

const std::vector<std::string>& hostile_strings() {
  static const std::vector<std::string> strings = [] {
    std::vector<std::string> s = {
        "",
        "\n",
        "\r\n",
        "a\rb",
        "line1\nINFO [APP] forged line",
        "\x1b[31mred\x1b[0m",
        "\x1b]0;title\x07",
        "\xff\xfe",
        "\xc0\xaf",
        "\xe2\x82",
        "\xc2\x85\xc2\x9b",
        "\x7f",
        "\"quoted\" \\ 'single'",
        "a,b,,c",
        "]\"]",
        "key=value other=\"x\"",
        "{\"json\":true}",
        "caf\xc3\xa9 \xf0\x9f\x98\x80",
        std::string("nul\0byte", 8),
    };
    std::string all_bytes;
    for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
    s.push_back(all_bytes);
    return s;
  }();
  return strings;
}

const std::vector<std::string_view> kFormats = {"text",   "json", "logfmt",  "csv",
                                                "syslog", "gelf", "logstash"};

bool is_json_format(std::string_view f) {
  return f == "json" || f == "gelf" || f == "logstash";
}

void check(std::string_view format, const std::string& line, const std::string& where) {
  EXPECT_TRUE(test::is_one_safe_line(line)) << format << " " << where << ": " << line;
  EXPECT_TRUE(test::is_valid_utf8(line)) << format << " " << where;
  if (is_json_format(format)) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << format << " " << where << ": " << line;
  }
  if (format == "csv") {
    const auto v = test::parse_csv_line(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(v.has_value()) << where << ": " << line;
    EXPECT_EQ(v->size(), 10u) << where << ": " << line;
  }
}

TEST(HostileInput, EveryFormatEveryPlace) {
  test::CleanEnv env;
  for (std::string_view format : kFormats) {
    const auto f = make_formatter(format, test::fixed_identity());
    for (std::size_t i = 0; i < hostile_strings().size(); ++i) {
      const std::string& s = hostile_strings()[i];
      const std::string where = "input #" + std::to_string(i);
      TestRecord r({{s, s}, {"v", s}, {s, 1}});
      r.record.message = s;
      check(format, render(*f, r.record), where + " message/field");
      r.record.layer = s;
      r.record.logger = s;
      check(format, render(*f, r.record), where + " layer/logger");
    }
  }
}

TEST(HostileInput, JsonFormatsRoundTripValidUtf8) {
  const std::string s = "line1\nforged \x1b[31m \"q\" \\ caf\xc3\xa9 ]";
  for (std::string_view format : {"json", "gelf", "logstash"}) {
    TestRecord r({{"k", s}});
    r.record.message = s;
    const auto j = nlohmann::json::parse(render(format, r.record, test::fixed_identity()));
    const auto message = format == "json"   ? j["message"]
                         : format == "gelf" ? j["short_message"]
                                            : j["message"];
    EXPECT_EQ(message, s) << format;
    const auto field = format == "json" ? j["fields"]["k"] : format == "gelf" ? j["_k"] : j["k"];
    EXPECT_EQ(field, s) << format;
  }
}

TEST(HostileInput, OneMebibyteFieldAndMessage) {
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = '\n';  // worst case for escaping
  for (std::string_view format : kFormats) {
    TestRecord r({{"big", big}});
    r.record.message = big;
    const std::string line = render(format, r.record, test::fixed_identity());
    check(format, line, "1 MiB");
    EXPECT_GT(line.size(), 2u * big.size()) << format;
  }
}

TEST(HostileInput, ManyFields) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("k" + std::to_string(i));
  std::vector<Field> fields;
  for (const auto& k : keys) fields.push_back({k, k});
  for (std::string_view format : kFormats) {
    TestRecord r(fields);
    check(format, render(format, r.record, test::fixed_identity()), "1000 fields");
  }
}

}  // namespace
}  // namespace hydra
