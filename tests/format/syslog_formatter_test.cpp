// Syslog (RFC 5424): golden output and a field-by-field parse of the line.
#include "hydra/format/syslog_formatter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "format/format_test_support.hpp"
#include "hydra/core/error.hpp"

namespace hydra {
namespace {

using test::HostileRecord;
using test::render;
using test::TestRecord;

// A syslog line taken apart per RFC 5424 section 6.
struct SyslogLine {
  int pri = -1;
  std::string version, timestamp, hostname, app_name, procid, msgid;
  std::string sd_id;
  std::vector<std::pair<std::string, std::string>> params;  // unescaped values
  std::optional<std::string> msg;
};

std::optional<SyslogLine> parse_syslog(std::string_view s) {
  SyslogLine out;
  if (s.empty() || s.back() != '\n') return std::nullopt;
  s.remove_suffix(1);
  if (s.empty() || s[0] != '<') return std::nullopt;
  const std::size_t gt = s.find('>');
  if (gt == std::string_view::npos || gt < 2 || gt > 4) return std::nullopt;
  out.pri = std::stoi(std::string(s.substr(1, gt - 1)));
  s.remove_prefix(gt + 1);
  auto token = [&](std::string& into) {
    const std::size_t sp = s.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    into = s.substr(0, sp);
    s.remove_prefix(sp + 1);
    for (char c : into) {
      if (c < 33 || c > 126) return false;  // PRINTUSASCII
    }
    return true;
  };
  if (!token(out.version) || !token(out.timestamp) || !token(out.hostname) ||
      !token(out.app_name) || !token(out.procid) || !token(out.msgid)) {
    return std::nullopt;
  }
  if (s.empty() || s[0] != '[') return std::nullopt;  // this formatter always writes one element
  std::size_t i = 1;
  while (i < s.size() && s[i] != ' ' && s[i] != ']') out.sd_id.push_back(s[i++]);
  while (i < s.size() && s[i] == ' ') {
    ++i;
    std::string name;
    while (i < s.size() && s[i] != '=') {
      const char c = s[i++];
      if (c < 33 || c > 126 || c == ']' || c == '"' || c == ' ') return std::nullopt;
      name.push_back(c);
    }
    if (name.empty() || name.size() > 32) return std::nullopt;
    if (s.substr(i, 2) != "=\"") return std::nullopt;
    i += 2;
    std::string value;
    while (true) {
      if (i >= s.size()) return std::nullopt;
      const char c = s[i];
      if (c == '"') break;
      if (c == ']') return std::nullopt;  // must be escaped inside a value
      if (c == '\\' && i + 1 < s.size() &&
          (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == ']')) {
        value.push_back(s[i + 1]);
        i += 2;
        continue;
      }
      value.push_back(c);
      ++i;
    }
    ++i;  // closing quote
    out.params.emplace_back(name, value);
  }
  if (i >= s.size() || s[i] != ']') return std::nullopt;
  s.remove_prefix(i + 1);
  if (!s.empty()) {
    if (s[0] != ' ') return std::nullopt;
    out.msg = std::string(s.substr(1));
  }
  return out;
}

std::string param(const SyslogLine& l, std::string_view name) {
  for (const auto& [n, v] : l.params) {
    if (n == name) return v;
  }
  return "<missing>";
}

TEST(SyslogFormatter, Golden) {
  TestRecord r(test::plain_fields());
  EXPECT_EQ(
      render(SyslogFormatter(test::fixed_identity()), r.record),
      fmt::format("<14>1 2026-11-27T10:13:12.345678Z web1 shop {} APP [hydra@32473 "
                  "logger=\"hydra\" file=\"app.cpp\" line=\"12\" function=\"main\" "
                  "thread=\"1234\" user=\"alice\" n=\"3\" ok=\"true\"] user alice logged in\n",
                  ::getpid()));
}

TEST(SyslogFormatter, GoldenHostile) {
  HostileRecord r;
  EXPECT_EQ(render(SyslogFormatter(test::fixed_identity()), r.record),
            fmt::format(R"x(<14>1 2026-11-27T10:13:12.345678Z web1 shop {} A_P_ [hydra@32473 )x"
                        R"x(logger="hy\"dra" file="app.cpp" line="12" function="main" )x"
                        R"x(thread="1234" us_er="a\nb" ___="x\]\"\\y" level="forged" )x"
                        R"x(bad="\xff\xfe"] evil\r\n2026-11-27 INFO forged \x1b[31mred\x1b[0m )x"
                        R"x(\xff\xfe "q" a,b ])x"
                        "\n",
                        ::getpid()));
}

TEST(SyslogFormatter, ParsesFieldByField) {
  TestRecord r({{"path", "C:\\dir\\\"x\"]"}, {"n", 3}});
  const std::string line = render(SyslogFormatter(test::fixed_identity()), r.record);
  const auto l = parse_syslog(line);
  ASSERT_TRUE(l.has_value()) << line;
  EXPECT_EQ(l->pri, 14);  // user-level (1) * 8 + informational (6)
  EXPECT_EQ(l->version, "1");
  EXPECT_EQ(l->timestamp, "2026-11-27T10:13:12.345678Z");
  EXPECT_EQ(l->hostname, "web1");
  EXPECT_EQ(l->app_name, "shop");
  EXPECT_EQ(l->procid, std::to_string(::getpid()));
  EXPECT_EQ(l->msgid, "APP");
  EXPECT_EQ(l->sd_id, "hydra@32473");
  EXPECT_EQ(param(*l, "logger"), "hydra");
  EXPECT_EQ(param(*l, "file"), "app.cpp");
  EXPECT_EQ(param(*l, "line"), "12");
  EXPECT_EQ(param(*l, "function"), "main");
  EXPECT_EQ(param(*l, "thread"), "1234");
  EXPECT_EQ(param(*l, "path"), "C:\\dir\\\"x\"]");  // SD escaping round-trips
  EXPECT_EQ(param(*l, "n"), "3");
  EXPECT_EQ(l->msg, "user alice logged in");
}

TEST(SyslogFormatter, PriorityFromFacilityAndLevel) {
  const std::pair<Level, int> levels[] = {
      {Level::trace, 7}, {Level::debug, 7},    {Level::info, 6},     {Level::warning, 4},
      {Level::error, 3}, {Level::critical, 2}, {Level::security, 4}, {Level::audit, 6}};
  for (int facility : {0, 1, 16, 23}) {
    FormatterOptions o = test::fixed_identity();
    o.syslog_facility = facility;
    const SyslogFormatter f(o);
    for (const auto& [level, severity] : levels) {
      TestRecord r({});
      r.record.level = level;
      const auto l = parse_syslog(render(f, r.record));
      ASSERT_TRUE(l.has_value());
      EXPECT_EQ(l->pri, facility * 8 + severity) << facility << " " << to_string(level);
    }
  }
}

TEST(SyslogFormatter, BadFacilityIsAConfigError) {
  FormatterOptions o = test::fixed_identity();
  o.syslog_facility = 24;
  EXPECT_THROW(SyslogFormatter{o}, ConfigError);
  o.syslog_facility = -1;
  EXPECT_THROW(SyslogFormatter{o}, ConfigError);
}

TEST(SyslogFormatter, HeaderFieldsAreCutSanitisedOrNil) {
  FormatterOptions o;
  o.hostname = "my host\n" + std::string(300, 'h');
  o.app_name = std::string(60, 'a');
  TestRecord r({{std::string_view("a-very-long-parameter-name-over-32-chars"), 1}});
  const std::string long_layer(40, 'L');
  r.record.layer = long_layer;
  r.record.message = "";
  const std::string line = render(SyslogFormatter(o), r.record);
  const auto l = parse_syslog(line);
  ASSERT_TRUE(l.has_value()) << line;
  EXPECT_EQ(l->hostname.size(), 255u);
  EXPECT_TRUE(l->hostname.starts_with("my_host_hhh"));
  EXPECT_EQ(l->app_name, std::string(48, 'a'));
  EXPECT_EQ(l->msgid, std::string(32, 'L'));
  EXPECT_EQ(l->params.back().first, "a-very-long-parameter-name-over-");
  EXPECT_FALSE(l->msg.has_value());  // empty MSG: no trailing space either
  EXPECT_TRUE(line.ends_with("]\n"));

  r.record.layer = "";
  const auto nil = parse_syslog(render(SyslogFormatter(FormatterOptions{}), r.record));
  ASSERT_TRUE(nil.has_value());
  EXPECT_EQ(nil->hostname, "-");
  EXPECT_EQ(nil->app_name, "-");
  EXPECT_EQ(nil->msgid, "-");
}

TEST(SyslogFormatter, HostileRecordParses) {
  HostileRecord r;
  const auto l = parse_syslog(render(SyslogFormatter(test::fixed_identity()), r.record));
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(param(*l, "logger"), "hy\"dra");
  EXPECT_EQ(param(*l, "___"), "x]\"\\y");
  EXPECT_EQ(param(*l, "level"), "forged");  // not one of the SD's own names
  EXPECT_EQ(param(*l, "us_er"), "a\\nb");   // LF escaped as \n, read back literally
}

}  // namespace
}  // namespace hydra
