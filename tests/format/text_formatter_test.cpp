// The text format: default line, options and their environment precedence,
// colour, escaping, errors.
#include "hydra/format/text_formatter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "format/format_test_support.hpp"
#include "hydra/core/error.hpp"

namespace hydra {
namespace {

using test::CleanEnv;
using test::HostileRecord;
using test::render;
using test::TestRecord;

constexpr std::string_view kGolden =
    "2026-11-27 10:13:12.345 INFO  [APP] user alice logged in user=alice n=3 ok=true\n";

TEST(TextFormatter, DefaultLine) {
  CleanEnv env;
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(TextFormatter(), r.record), kGolden);
  EXPECT_EQ(render("text", r.record), kGolden);
}

TEST(TextFormatter, NoFieldsNoTrailingSpace) {
  CleanEnv env;
  TestRecord r({});
  r.record.level = Level::warning;
  EXPECT_EQ(render(TextFormatter(), r.record),
            "2026-11-27 10:13:12.345 WARNING [APP] user alice logged in\n");
}

TEST(TextFormatter, HostileContentIsEscaped) {
  CleanEnv env;
  HostileRecord r;
  EXPECT_EQ(render(TextFormatter(), r.record),
            R"x(2026-11-27 10:13:12.345 INFO  [A P\x1b] evil\r\n2026-11-27 INFO forged )x"
            R"x(\x1b[31mred\x1b[0m \xff\xfe "q" a,b ] us_er="a\nb" ]__="x]\"\\y" level=forged )x"
            R"x(bad="\xff\xfe")x"
            "\n");
}

TEST(TextFormatter, EveryPlaceholderAndToken) {
  CleanEnv env;
  FormatterOptions o;
  o.text.date_format = "%d/%m/%y %b %j %Y%%";
  o.text.time_format = "%H:%M:%S %p %z .%L .%f .%N";
  o.text.logger_name_format = "{logger}/{layer}";
  o.text.message_format =
      "{date} {time}|{timestamp}|{level:>8}|{level:^9}|{level:3}|{level}|{logger_name}|{layer}|"
      "{logger}|{message}|{fields}|{file}:{line}|{function}|{thread}|{pid}|{sequence}|{{x}}";
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(TextFormatter(o), r.record),
            fmt::format("27/11/26 Nov 331 2026% 10:13:12 AM +0000 .345 .345678 .345678901|"
                        "2026-11-27T10:13:12.345678Z|    INFO|  INFO   |INFO|INFO|hydra/APP|APP|"
                        "hydra|user alice logged in| user=alice n=3 ok=true|app.cpp:12|main|1234|"
                        "{}|7|{{x}}\n",
                        ::getpid()));
}

TEST(TextFormatter, DateAndTimeAreLocal) {
  CleanEnv env;
  env.set("TZ", "XYZ-02:30");  // POSIX: local = UTC + 2:30
  FormatterOptions o;
  o.text.time_format = "%H:%M:%S%z";
  o.text.message_format = "{date} {time} {timestamp}";
  TestRecord r({});
  EXPECT_EQ(render(TextFormatter(o), r.record),
            "2026-11-27 12:43:12+0230 2026-11-27T10:13:12.345678Z\n");
}

TEST(TextFormatter, PerSecondCacheFollowsTheRecordTime) {
  CleanEnv env;
  const TextFormatter f;
  TestRecord r({});
  r.record.message = "m";
  const std::string first = render(f, r.record);
  r.record.time += std::chrono::milliseconds(700);  // next second, 13.045
  const std::string second = render(f, r.record);
  r.record.time -= std::chrono::hours(24);
  const std::string third = render(f, r.record);
  EXPECT_EQ(first, "2026-11-27 10:13:12.345 INFO  [APP] m\n");
  EXPECT_EQ(second, "2026-11-27 10:13:13.045 INFO  [APP] m\n");
  EXPECT_EQ(third, "2026-11-26 10:13:13.045 INFO  [APP] m\n");
}

// The level/layer/logger stretch of the line is rendered once per
// combination and cached: every combination must still come out as its own,
// including layers that differ only inside (same length, same last letter)
// and formatters that differ only in that stretch.
TEST(TextFormatter, LevelLayerAndLoggerStretchFollowsEveryRecord) {
  CleanEnv env;
  FormatterOptions named;
  named.text.logger_name_format = "{logger}:{layer}";
  named.text.message_format = "{level:>8} {logger_name} {message}";
  const TextFormatter a;
  const TextFormatter b(named);
  TestRecord r({});
  r.record.message = "m";
  const std::string layers[] = {"APP", "AXP", "DB", "APP"};
  const std::string loggers[] = {"svc", "svd", "svc"};
  const Level levels[] = {Level::info, Level::error, Level::security, Level::info};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& layer : layers) {
      for (const std::string& logger : loggers) {
        for (Level level : levels) {
          r.record.layer = layer;
          r.record.logger = logger;
          r.record.level = level;
          std::string name(to_string(level));
          std::transform(name.begin(), name.end(), name.begin(), ::toupper);
          const std::string padded =
              name.size() < 5 ? name + std::string(5 - name.size(), ' ') : name;
          EXPECT_EQ(render(a, r.record),
                    "2026-11-27 10:13:12.345 " + padded + " [" + layer + "] m\n");
          EXPECT_EQ(render(b, r.record), fmt::format("{:>8} {}:{} m\n", name, logger, layer));
        }
      }
    }
  }
}

TEST(TextFormatter, SeveralFormattersAndThreads) {
  CleanEnv env;
  FormatterOptions short_date;
  short_date.text.date_format = "%y%m%d";
  const TextFormatter a;
  const TextFormatter b(short_date);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      TestRecord r({});
      r.record.message = "m";
      for (int i = 0; i < 2000; ++i) {
        r.record.time = test::fixed_time() + std::chrono::seconds((i + t) % 3);
        const int s = 12 + (i + t) % 3;
        if (render(a, r.record) != fmt::format("2026-11-27 10:13:{}.345 INFO  [APP] m\n", s) ||
            render(b, r.record) != fmt::format("261127 10:13:{}.345 INFO  [APP] m\n", s)) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(TextFormatter, ColourWrapsLevelAndLayerOnly) {
  CleanEnv env;
  FormatterOptions o;
  o.color = true;
  o.palette = Palette::defaults();
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(TextFormatter(o), r.record),
            "2026-11-27 10:13:12.345 \x1b[32mINFO\x1b[0m  \x1b[35m[APP]\x1b[0m user alice logged "
            "in user=alice n=3 ok=true\n");

  HostileRecord h;
  const std::string line = render(TextFormatter(o), h.record);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\x1b'), 4) << line;  // two SGR pairs only
  EXPECT_NE(line.find(R"(\x1b[31mred\x1b[0m)"), std::string::npos) << line;
  EXPECT_NE(line.find("\x1b[35m[A P\\x1b]\x1b[0m"), std::string::npos) << line;
}

TEST(TextFormatter, ColourOnALayerPlaceholderAndRightAlignedLevel) {
  CleanEnv env;
  FormatterOptions o;
  o.color = true;
  o.palette = Palette::defaults();
  o.text.message_format = "{level:>7}|{layer}|{message}";
  TestRecord r({});
  r.record.level = Level::error;
  EXPECT_EQ(render(TextFormatter(o), r.record),
            "  \x1b[31mERROR\x1b[0m|\x1b[35mAPP\x1b[0m|user alice logged in\n");
}

TEST(TextFormatter, NoColourWhenOff) {
  CleanEnv env;
  FormatterOptions o;
  o.palette = Palette::defaults();  // a palette alone does not colour
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(TextFormatter(o), r.record), kGolden);
}

struct OptionCase {
  const char* env_name;
  std::optional<std::string> TextFormatOptions::*member;
  std::string_view default_value;
  const char* env_value;
  const char* code_value;
};

TEST(TextFormatter, OptionPrecedenceCodeThenEnvThenDefault) {
  const OptionCase cases[] = {
      {"HYDRA_LOG_DATE_FORMAT", &TextFormatOptions::date_format, kDefaultDateFormat, "%d.%m.%Y",
       "%Y/%m/%d"},
      {"HYDRA_LOG_TIME_FORMAT", &TextFormatOptions::time_format, kDefaultTimeFormat, "%H:%M",
       "%H:%M:%S.%f"},
      {"HYDRA_LOG_LOGGER_NAME_FORMAT", &TextFormatOptions::logger_name_format,
       kDefaultLoggerNameFormat, "<{layer}>", "{logger}.{layer}"},
      {"HYDRA_LOG_MESSAGE_FORMAT", &TextFormatOptions::message_format, kDefaultMessageFormat,
       "{level} {message}", "{message} ({level})"},
  };
  for (const OptionCase& c : cases) {
    CleanEnv env;
    FormatterOptions code;
    code.text.*c.member = c.code_value;
    EXPECT_EQ(TextFormatter().resolved_options().*c.member, std::string(c.default_value));
    env.set(c.env_name, "");  // empty counts as unset
    EXPECT_EQ(TextFormatter().resolved_options().*c.member, std::string(c.default_value));
    env.set(c.env_name, c.env_value);
    EXPECT_EQ(TextFormatter().resolved_options().*c.member, c.env_value) << c.env_name;
    EXPECT_EQ(TextFormatter(code).resolved_options().*c.member, c.code_value) << c.env_name;
  }
}

TEST(TextFormatter, EnvironmentShapesTheLine) {
  CleanEnv env;
  env.set("HYDRA_LOG_DATE_FORMAT", "%d.%m.%Y");
  env.set("HYDRA_LOG_TIME_FORMAT", "%H:%M");
  env.set("HYDRA_LOG_LOGGER_NAME_FORMAT", "<{logger}:{layer}>");
  env.set("HYDRA_LOG_MESSAGE_FORMAT", "{date} {time} {logger_name} {level} {message}");
  TestRecord r({});
  EXPECT_EQ(render(TextFormatter(), r.record),
            "27.11.2026 10:13 <hydra:APP> INFO user alice logged in\n");
  FormatterOptions code;
  code.text.message_format = "{level} {message}";
  EXPECT_EQ(render(TextFormatter(code), r.record), "INFO user alice logged in\n");
}

// Expects a ConfigError whose message holds every one of `parts`.
void expect_config_error(const FormatterOptions& o, std::initializer_list<std::string_view> parts) {
  try {
    TextFormatter f(o);
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    const std::string_view what = e.what();
    for (std::string_view p : parts) EXPECT_NE(what.find(p), std::string_view::npos) << what;
  }
}

TEST(TextFormatter, UnknownPlaceholderNamesItAndTheValidOnes) {
  CleanEnv env;
  FormatterOptions o;
  o.text.message_format = "{date} {lvl} {message}";
  expect_config_error(
      o, {"message_format: unknown placeholder '{lvl}'", "{level}", "{message}", "{sequence}"});
  o.text.message_format = "{message:<5}";
  expect_config_error(o, {"message_format", "'{message:<5}' takes no format spec"});
  o.text.message_format = "{level:<x}";
  expect_config_error(o, {"message_format", "'{level:<x}' has a bad alignment"});
  o.text.message_format = "{level:<99}";
  expect_config_error(o, {"bad alignment"});
  o.text.message_format = "{message";
  expect_config_error(o, {"message_format: unmatched '{'"});
  o.text.message_format = "message}";
  expect_config_error(o, {"message_format: unmatched '}'"});
  o.text.message_format = "{message}\n";
  expect_config_error(o, {"message_format", R"('\n' holds a control character)"});
  o.text.message_format.reset();
  o.text.logger_name_format = "[{message}]";
  expect_config_error(
      o, {"logger_name_format: unknown placeholder '{message}'", "(valid: {layer}, {logger})"});
}

TEST(TextFormatter, BadDateOrTimeToken) {
  CleanEnv env;
  FormatterOptions o;
  o.text.date_format = "%Y-%Q";
  expect_config_error(o, {"date_format: unknown token '%Q'", "%Y", "%j"});
  o.text.date_format = "%H";  // a time token is not a date token
  expect_config_error(o, {"date_format: unknown token '%H'"});
  o.text.date_format.reset();
  o.text.time_format = "%H:%M %";
  expect_config_error(o, {"time_format: '%' at the end", "%L", "%N"});
}

TEST(TextFormatter, ErrorFromEnvironmentNamesTheVariable) {
  CleanEnv env;
  env.set("HYDRA_LOG_MESSAGE_FORMAT", "{oops}");
  expect_config_error({}, {"message_format (from HYDRA_LOG_MESSAGE_FORMAT): unknown placeholder "
                           "'{oops}'"});
}

}  // namespace
}  // namespace hydra
