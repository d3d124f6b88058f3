// Colour decisions (should_color) and the palette (defaults, environment).
#include "hydra/format/color.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hydra
