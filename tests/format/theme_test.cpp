// Colour themes: the built-ins, colours laid over one, and the environment's
// HYDRA_LOG_COLOR_<LEVEL> on top.
#include <gtest/gtest.h>

#include <set>

#include "format/format_test_support.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/color.hpp"

namespace hydra {
namespace {

using test::CleanEnv;

constexpr std::array<Level, 9> kLevels = {Level::trace,    Level::debug, Level::info,
                                          Level::warning,  Level::error, Level::critical,
                                          Level::security, Level::audit, Level::compliance};

// The SGR parameters of one escape ("\x1b[1;30;42m" -> {1, 30, 42}); empty
// for "".
std::vector<int> codes_of(const std::string& sgr) {
  std::vector<int> codes;
  if (sgr.empty()) return codes;
  EXPECT_TRUE(sgr.starts_with("\x1b[") && sgr.ends_with("m")) << sgr;
  std::string_view rest(sgr);
  rest.remove_prefix(2);
  rest.remove_suffix(1);
  while (!rest.empty()) {
    const auto semicolon = rest.find(';');
    codes.push_back(std::stoi(std::string(rest.substr(0, semicolon))));
    rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
  }
  return codes;
}

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Theme, DefaultIsTheDefaultPalette) {
  const Palette d = Palette::defaults();
  const Palette t = Palette::theme("default");
  EXPECT_EQ(t.level, d.level);
  EXPECT_EQ(t.layer, d.layer);
  EXPECT_EQ(Palette::from_theme(ColorTheme{}).level, d.level);
}

TEST(Theme, NamesAreCaseInsensitiveAndTakeUnderscores) {
  const Palette p = Palette::theme("high-contrast");
  EXPECT_EQ(Palette::theme("High-Contrast").level, p.level);
  EXPECT_EQ(Palette::theme("high_contrast").level, p.level);
  EXPECT_EQ(Palette::theme("MONOCHROME").level, Palette::theme("monochrome").level);
}

TEST(Theme, UnknownNameIsAConfigErrorListingTheValidOnes) {
  EXPECT_EQ(config_error_of([] { Palette::theme("solarized\x1b"); }),
            "theme: 'solarized\\x1b' is not a theme (valid: default, high-contrast, monochrome)");
  EXPECT_NE(config_error_of([] { Palette::theme(""); }), "");
  ColorTheme t;
  t.name = "neon";
  EXPECT_NE(config_error_of([&] { Palette::from_theme(t); }).find("'neon' is not a theme"),
            std::string::npos);
}

// Every level a block with its own foreground and background, so it reads on
// dark and light terminals alike.
TEST(Theme, HighContrastGivesEveryLevelAForegroundAndABackground) {
  const Palette p = Palette::theme("high-contrast");
  for (const Level level : kLevels) {
    bool foreground = false;
    bool background = false;
    for (const int code : codes_of(p.of(level))) {
      foreground = foreground || code == 30 || code == 97;
      background = background || (code >= 40 && code <= 47) || (code >= 100 && code <= 107);
    }
    EXPECT_TRUE(foreground && background) << to_string(level) << ": " << p.of(level).substr(1);
  }
  EXPECT_EQ(p.of(Level::error), "\x1b[1;97;41m");  // white on red
  EXPECT_EQ(p.layer, "\x1b[1m");
}

// No hues: only bold (1), dim (2), underline (4) and reverse video (7), and
// severity still shows: dim below info, bold from warning.
TEST(Theme, MonochromeHasNoHues) {
  const Palette p = Palette::theme("monochrome");
  const std::set<int> attributes = {1, 2, 4, 7};
  for (const Level level : kLevels) {
    for (const int code : codes_of(p.of(level))) {
      EXPECT_TRUE(attributes.contains(code)) << to_string(level) << ": " << code;
    }
  }
  EXPECT_EQ(p.of(Level::trace), "\x1b[2m");
  EXPECT_EQ(p.of(Level::debug), "\x1b[2m");
  EXPECT_EQ(p.of(Level::info), "");
  for (const Level level : {Level::warning, Level::error, Level::critical, Level::security}) {
    const auto codes = codes_of(p.of(level));
    EXPECT_NE(std::find(codes.begin(), codes.end(), 1), codes.end()) << to_string(level);
  }
  EXPECT_EQ(p.layer, "");
}

TEST(Theme, ColoursLaidOverATheme) {
  ColorTheme t;
  t.name = "monochrome";
  t.level_colors[Level::info] = "green";
  t.level_colors[Level::error] = "1;31";
  t.level_colors[Level::debug] = "none";
  t.layer_color = "bright_cyan";
  const Palette p = Palette::from_theme(t);
  EXPECT_EQ(p.of(Level::info), "\x1b[32m");
  EXPECT_EQ(p.of(Level::error), "\x1b[1;31m");
  EXPECT_EQ(p.of(Level::debug), "");
  EXPECT_EQ(p.layer, "\x1b[96m");
  EXPECT_EQ(p.of(Level::warning), "\x1b[1m");  // the theme's
  EXPECT_FALSE(t.is_default());
  EXPECT_TRUE(ColorTheme{}.is_default());
}

TEST(Theme, BadColourNamesThePartAndTheValue) {
  ColorTheme t;
  t.level_colors[Level::warning] = "pink";
  EXPECT_EQ(config_error_of([&] { Palette::from_theme(t); }),
            "theme.warning: 'pink' is not a colour (valid: a name such as red or bright_cyan, "
            "bold, dim, none, or SGR codes such as 1;31)");
  ColorTheme layer;
  layer.layer_color = "31m";
  EXPECT_NE(config_error_of([&] { Palette::from_theme(layer); }).find("theme.layer: '31m'"),
            std::string::npos);
}

TEST(Theme, EnvironmentColoursStillApplyOnTop) {
  CleanEnv env;
  env.set("HYDRA_LOG_COLOR_ERROR", "green");
  env.set("HYDRA_LOG_LAYER_COLOR", "none");
  const Palette p = Palette::from_environment(Palette::theme("high-contrast"));
  EXPECT_EQ(p.of(Level::error), "\x1b[32m");
  EXPECT_EQ(p.of(Level::warning), "\x1b[1;30;43m");  // the theme's
  EXPECT_EQ(p.layer, "");
}

TEST(Theme, TextFormatLeavesALevelWithoutColourPlain) {
  CleanEnv env;
  FormatterOptions o;
  o.color = true;
  o.palette = Palette::theme("monochrome");
  test::TestRecord r(test::plain_fields());
  const std::string info = test::render("text", r.record, o);
  EXPECT_EQ(info.find('\x1b'), std::string::npos) << info;
  r.record.level = Level::warning;
  const std::string warning = test::render("text", r.record, o);
  EXPECT_NE(warning.find(" \x1b[1mWARNING\x1b[0m "), std::string::npos) << warning;
}

}  // namespace
}  // namespace hydra
