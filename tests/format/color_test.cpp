// Colour decisions (should_color), the palette (defaults, environment), and
// colour in the structured formats.
#include "hydra/format/color.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using test::CleanEnv;

TEST(ColorMode, Parses) {
  EXPECT_EQ(parse_color_mode("auto"), ColorMode::automatic);
  EXPECT_EQ(parse_color_mode("ALWAYS"), ColorMode::always);
  EXPECT_EQ(parse_color_mode("Never"), ColorMode::never);
  EXPECT_EQ(parse_color_mode("sometimes"), std::nullopt);
  EXPECT_EQ(parse_color_mode(""), std::nullopt);
}

TEST(ShouldColor, ModesWithoutEnvironment) {
  CleanEnv env;
  EXPECT_TRUE(should_color(ColorMode::always, false));
  EXPECT_TRUE(should_color(ColorMode::always, true));
  EXPECT_FALSE(should_color(ColorMode::never, true));
  EXPECT_TRUE(should_color(ColorMode::automatic, true));
  EXPECT_FALSE(should_color(ColorMode::automatic, false));
}

TEST(ShouldColor, NoColorAndDumbTermStopAutoOnly) {
  for (const auto& [name, value] : {std::pair{"NO_COLOR", "1"}, std::pair{"TERM", "dumb"}}) {
    CleanEnv env;
    env.set(name, value);
    EXPECT_FALSE(should_color(ColorMode::automatic, true)) << name;
    EXPECT_TRUE(should_color(ColorMode::always, true)) << name;
  }
}

TEST(ShouldColor, EmptyNoColorCountsAsUnset) {
  CleanEnv env;
  env.set("NO_COLOR", "");
  env.set("TERM", "xterm-256color");
  EXPECT_TRUE(should_color(ColorMode::automatic, true));
}

TEST(ShouldColor, ForceColorWinsOverNeverAndNoTerminal) {
  for (const char* name : {"FORCE_COLOR", "HYDRA_LOG_FORCE_COLOR"}) {
    CleanEnv env;
    env.set(name, "1");
    env.set("NO_COLOR", "1");
    env.set("TERM", "dumb");
    EXPECT_TRUE(should_color(ColorMode::never, false)) << name;
    EXPECT_TRUE(should_color(ColorMode::automatic, false)) << name;
  }
}

TEST(ShouldColor, ForceColorZeroOrFalseDoesNotForce) {
  for (const char* value : {"0", "false", "FALSE", ""}) {
    CleanEnv env;
    env.set("FORCE_COLOR", value);
    EXPECT_FALSE(should_color(ColorMode::never, true)) << value;
    EXPECT_FALSE(should_color(ColorMode::automatic, false)) << value;
  }
}

TEST(ShouldColor, HydraNoColorBeatsEverything) {
  CleanEnv env;
  env.set("HYDRA_LOG_NO_COLOR", "1");
  env.set("HYDRA_LOG_FORCE_COLOR", "1");
  env.set("FORCE_COLOR", "1");
  EXPECT_FALSE(should_color(ColorMode::always, true));
  EXPECT_FALSE(should_color(ColorMode::automatic, true));
}

TEST(ParseColor, NamesAndRawCodes) {
  EXPECT_EQ(parse_color("red"), "\x1b[31m");
  EXPECT_EQ(parse_color("Bright_Cyan"), "\x1b[96m");
  EXPECT_EQ(parse_color("bold"), "\x1b[1m");
  EXPECT_EQ(parse_color("dim"), "\x1b[2m");
  EXPECT_EQ(parse_color("1;31"), "\x1b[1;31m");
  EXPECT_EQ(parse_color("38;5;208"), "\x1b[38;5;208m");
  EXPECT_EQ(parse_color("none"), "");
  EXPECT_EQ(parse_color("NONE"), "");
  for (const char* bad : {"", "pink", "1;", ";1", "1;;2", "1234", "31m", "\x1b[31m", "1 ;2"}) {
    EXPECT_EQ(parse_color(bad), std::nullopt) << bad;
  }
}

TEST(Palette, Defaults) {
  const Palette p = Palette::defaults();
  EXPECT_EQ(p.of(Level::debug), "\x1b[36m");
  EXPECT_EQ(p.of(Level::info), "\x1b[32m");
  EXPECT_EQ(p.of(Level::warning), "\x1b[33m");
  EXPECT_EQ(p.of(Level::error), "\x1b[31m");
  EXPECT_EQ(p.of(Level::critical), "\x1b[91m");
  EXPECT_EQ(p.of(Level::security), "\x1b[95m");
  EXPECT_EQ(p.of(Level::audit), "\x1b[94m");
  EXPECT_EQ(p.of(Level::compliance), "\x1b[34m");
  EXPECT_EQ(p.layer, "\x1b[35m");
  EXPECT_EQ(p.reset, "\x1b[0m");
}

TEST(Palette, FromEnvironmentNamesAndRawCodes) {
  CleanEnv env;
  env.set("HYDRA_LOG_COLOR_INFO", "bright_cyan");
  env.set("HYDRA_LOG_COLOR_ERROR", "1;31");
  env.set("HYDRA_LOG_LAYER_COLOR", "38;5;208");
  const Palette p = Palette::from_environment();
  EXPECT_EQ(p.of(Level::info), "\x1b[96m");
  EXPECT_EQ(p.of(Level::error), "\x1b[1;31m");
  EXPECT_EQ(p.layer, "\x1b[38;5;208m");
  EXPECT_EQ(p.of(Level::warning), "\x1b[33m");  // untouched
}

TEST(Palette, BadEnvironmentValueIsIgnoredWithOneNotice) {
  CleanEnv env;
  static int run = 0;  // notices are once per process: a fresh value per run (--gtest_repeat)
  const std::string value = "chartreuse" + std::to_string(++run) + "\x1b";
  env.set("HYDRA_LOG_COLOR_DEBUG", value);
  testing::internal::CaptureStderr();
  const Palette first = Palette::from_environment();
  const Palette second = Palette::from_environment();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(first.of(Level::debug), "\x1b[36m");
  EXPECT_EQ(second.of(Level::debug), "\x1b[36m");
  EXPECT_NE(
      err.find(fmt::format("HYDRA_LOG_COLOR_DEBUG: 'chartreuse{}\\x1b' is not a colour", run)),
      std::string::npos)
      << err;
  EXPECT_EQ(err.find("HYDRA_LOG_COLOR_DEBUG", err.find("HYDRA_LOG_COLOR_DEBUG") + 1),
            std::string::npos)
      << "reported twice: " << err;
}

// Structured formats colour one whole token, the level's, outside any quotes
// or delimiters: removing the SGR sequences gives back the uncoloured line.
// Removes every match of \x1b\[[0-9;]*m (written out: std::regex warns under
// GCC's sanitizer builds).
std::string strip_sgr(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      std::size_t j = i + 2;
      while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';')) ++j;
      if (j < s.size() && s[j] == 'm') {
        i = j + 1;
        continue;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

FormatterOptions colored(bool color) {
  FormatterOptions o = test::fixed_identity();
  o.color = color;
  o.palette = Palette::defaults();
  return o;
}

constexpr std::array<Level, 9> kLevels = {Level::trace,    Level::debug, Level::info,
                                          Level::warning,  Level::error, Level::critical,
                                          Level::security, Level::audit, Level::compliance};

TEST(ColoredFormats, StrippedLineIsTheUncolouredLine) {
  CleanEnv env;
  const Palette palette = Palette::defaults();
  for (const std::string_view format : {"json", "gcp_json", "logfmt", "csv", "syslog"}) {
    const auto plain = make_formatter(format, colored(false));
    const auto color = make_formatter(format, colored(true));
    test::TestRecord normal(test::plain_fields());
    test::HostileRecord hostile;
    for (const Record* record : {&normal.record, &hostile.record}) {
      for (const Level level : kLevels) {
        Record r = *record;
        r.level = level;
        const std::string without = test::render(*plain, r);
        const std::string with = test::render(*color, r);
        EXPECT_EQ(strip_sgr(with), without) << format << " " << to_string(level);
        EXPECT_NE(with.find(palette.of(level)), std::string::npos) << format << " " << with;
        EXPECT_EQ(with.find('\x1b'), with.find(palette.of(level))) << "colour first: " << with;
        if (format == "json" || format == "gcp_json") {
          EXPECT_TRUE(nlohmann::json::accept(strip_sgr(with))) << with;
        }
        if (format == "csv") {
          const std::string stripped = strip_sgr(with);
          const auto v =
              test::parse_csv_line(std::string_view(stripped).substr(0, stripped.size() - 1));
          ASSERT_TRUE(v.has_value()) << with;
          EXPECT_EQ(v->at(1), to_lower_string(level));
        }
      }
    }
  }
}

TEST(ColoredFormats, TheLevelTokenIsWrappedWhole) {
  CleanEnv env;
  test::TestRecord r(test::plain_fields());
  const auto render = [&](std::string_view format) {
    return test::render(format, r.record, colored(true));
  };
  EXPECT_NE(render("json").find(R"("level":)"
                                "\x1b[32m"
                                R"("info")"
                                "\x1b[0m"
                                R"(,"layer":"APP")"),
            std::string::npos)
      << render("json");
  EXPECT_NE(render("csv").find("Z,\x1b[32minfo\x1b[0m,APP,"), std::string::npos) << render("csv");
  EXPECT_NE(render("logfmt").find(" level=\x1b[32minfo\x1b[0m layer=APP "), std::string::npos)
      << render("logfmt");
  EXPECT_TRUE(render("syslog").starts_with("\x1b[32m<14>\x1b[0m1 2026-11-27T")) << render("syslog");
}

// Content stays escaped: the only raw ESC bytes are the level's colour.
TEST(ColoredFormats, ContentIsStillEscaped) {
  CleanEnv env;
  test::HostileRecord r;
  for (const std::string_view format : {"json", "logfmt", "csv", "syslog"}) {
    const std::string line = test::render(format, r.record, colored(true));
    EXPECT_EQ(std::count(line.begin(), line.end(), '\x1b'), 2) << format << ": " << line;
    EXPECT_TRUE(test::is_one_safe_line(strip_sgr(line))) << format;
    EXPECT_TRUE(test::is_valid_utf8(line)) << format;
  }
}

TEST(ColoredFormats, NothingWhenColourIsOffOrTheLevelHasNone) {
  CleanEnv env;
  test::TestRecord r(test::plain_fields());
  FormatterOptions mono = colored(true);
  mono.palette = Palette::theme("monochrome");  // info: no colour
  for (const std::string_view format :
       {"json", "gcp_json", "logfmt", "csv", "syslog", "gelf", "logstash"}) {
    EXPECT_EQ(test::render(format, r.record, colored(false)).find('\x1b'), std::string::npos)
        << format;
    EXPECT_EQ(test::render(format, r.record, mono).find('\x1b'), std::string::npos) << format;
  }
  // GELF and Logstash are for machines only: never coloured.
  for (const std::string_view format : {"gelf", "logstash"}) {
    EXPECT_EQ(test::render(format, r.record, colored(true)).find('\x1b'), std::string::npos)
        << format;
  }
}

}  // namespace
}  // namespace hydra
