#include "hydra/format/color.hpp"

#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/detail/notice.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {

using detail::ascii_lower;
using detail::iequals;

// Theme names: case-insensitive, and '_' stands for '-' (high_contrast), as
// configuration names elsewhere use underscores.
bool same_theme_name(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] == '_' ? '-' : ascii_lower(a[i]);
    const char y = b[i] == '_' ? '-' : ascii_lower(b[i]);
    if (x != y) return false;
  }
  return true;
}

// An environment variable's value; set but empty counts as unset.
std::optional<std::string_view> env(const char* name) {
  // Read while building a formatter; the library never modifies the environment.
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string_view(value);
}

bool forces_color(const char* name) {
  const auto value = env(name);
  return value && *value != "0" && !iequals(*value, "false");
}

struct NamedColor {
  std::string_view name;
  std::string_view sgr;
};
constexpr NamedColor kColors[] = {
    {"black", "30"},        {"red", "31"},
    {"green", "32"},        {"yellow", "33"},
    {"blue", "34"},         {"magenta", "35"},
    {"cyan", "36"},         {"white", "37"},
    {"bright_black", "90"}, {"bright_red", "91"},
    {"bright_green", "92"}, {"bright_yellow", "93"},
    {"bright_blue", "94"},  {"bright_magenta", "95"},
    {"bright_cyan", "96"},  {"bright_white", "97"},
    {"bold", "1"},          {"dim", "2"},
};

std::string sgr(std::string_view codes) {
  return "\x1b[" + std::string(codes) + "m";
}

// Raw SGR parameters: numbers of 1..3 digits separated by single ';'.
bool is_raw_sgr(std::string_view spec) noexcept {
  std::size_t digits = 0;
  for (const char c : spec) {
    if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else if (c == ';' && digits != 0) {
      digits = 0;
    } else {
      return false;
    }
  }
  return digits != 0;
}

// Reports a bad colour setting on stderr, once per variable and value.
void notice_bad_color(const std::string& variable, std::string_view value) {
  detail::notice_once(variable + '=' + std::string(value),
                      fmt::format("{}: '{}' is not a colour (valid: {}); ignored", variable,
                                  detail::to_printable(value), kColorSpecChoices));
}

void apply_env_color(const std::string& variable, std::string& color) {
  const auto value = env(variable.c_str());
  if (!value) return;
  if (auto parsed = parse_color(*value)) {
    color = std::move(*parsed);
  } else {
    notice_bad_color(variable, *value);
  }
}

}  // namespace

std::optional<ColorMode> parse_color_mode(std::string_view name) noexcept {
  if (iequals(name, "auto")) return ColorMode::automatic;
  if (iequals(name, "always")) return ColorMode::always;
  if (iequals(name, "never")) return ColorMode::never;
  return std::nullopt;
}

bool should_color(ColorMode mode, bool is_terminal) {
  if (env("HYDRA_LOG_NO_COLOR")) return false;
  if (forces_color("HYDRA_LOG_FORCE_COLOR") || forces_color("FORCE_COLOR")) return true;
  switch (mode) {
    case ColorMode::always: return true;
    case ColorMode::never: return false;
    case ColorMode::automatic: break;
  }
  if (!is_terminal || env("NO_COLOR")) return false;
  const auto term = env("TERM");
  return !(term && *term == "dumb");
}

std::optional<std::string> parse_color(std::string_view spec) {
  if (iequals(spec, "none")) return std::string();
  for (const NamedColor& c : kColors) {
    if (iequals(spec, c.name)) return sgr(c.sgr);
  }
  if (is_raw_sgr(spec)) return sgr(spec);
  return std::nullopt;
}

Palette Palette::defaults() {
  Palette p;
  const auto set = [&p](Level level, std::string_view codes) {
    p.level[static_cast<int>(level)] = sgr(codes);
  };
  set(Level::trace, "2");        // dim
  set(Level::debug, "36");       // cyan
  set(Level::info, "32");        // green
  set(Level::warning, "33");     // yellow
  set(Level::error, "31");       // red
  set(Level::critical, "91");    // bright red
  set(Level::security, "95");    // bright magenta
  set(Level::audit, "94");       // bright blue
  set(Level::compliance, "34");  // blue
  p.layer = sgr("35");           // magenta
  return p;
}

bool ColorTheme::is_default() const {
  return same_theme_name(name, "default") && level_colors.empty() && !layer_color;
}

// high-contrast: every level a block with its own foreground and background,
// so it reads the same on dark and light terminals; black on light colours up
// to warning, bright white on dark ones from error and for the record kinds.
// monochrome: no hues, for terminals (or people) without colour: dim below
// info, bold from warning, reverse video for critical, underline for the
// record kinds.
Palette Palette::theme(std::string_view name) {
  if (same_theme_name(name, "default")) return defaults();
  Palette p;
  const auto set = [&p](Level level, std::string_view codes) {
    p.level[static_cast<int>(level)] = codes.empty() ? std::string() : sgr(codes);
  };
  if (same_theme_name(name, "high-contrast")) {
    set(Level::trace, "1;30;47");       // black on white
    set(Level::debug, "1;30;46");       // black on cyan
    set(Level::info, "1;30;42");        // black on green
    set(Level::warning, "1;30;43");     // black on yellow
    set(Level::error, "1;97;41");       // white on red
    set(Level::critical, "1;4;97;41");  // white on red, underlined
    set(Level::security, "1;97;45");    // white on magenta
    set(Level::audit, "1;97;44");       // white on blue
    set(Level::compliance, "1;97;44");  // white on blue
    p.layer = sgr("1");                 // bold
    return p;
  }
  if (same_theme_name(name, "monochrome")) {
    set(Level::trace, "2");       // dim
    set(Level::debug, "2");       // dim
    set(Level::info, "");         // plain
    set(Level::warning, "1");     // bold
    set(Level::error, "1");       // bold
    set(Level::critical, "1;7");  // bold, reverse video
    set(Level::security, "1;4");  // bold, underlined
    set(Level::audit, "4");       // underlined
    set(Level::compliance, "4");  // underlined
    return p;                     // layer plain
  }
  throw ConfigError(fmt::format("theme: '{}' is not a theme (valid: {})",
                                detail::to_printable(name), kThemeChoices));
}

Palette Palette::from_theme(const ColorTheme& theme) {
  Palette p = Palette::theme(theme.name);
  const auto apply = [](std::string_view part, const std::string& spec, std::string& color) {
    auto parsed = parse_color(spec);
    if (!parsed) {
      throw ConfigError(fmt::format("theme.{}: '{}' is not a colour (valid: {})", part,
                                    detail::to_printable(spec), kColorSpecChoices));
    }
    color = std::move(*parsed);
  };
  for (const auto& [level, spec] : theme.level_colors) {
    if (level >= Level::off) continue;  // never written (off, or outside the enum)
    apply(to_lower_string(level), spec, p.level[static_cast<int>(level)]);
  }
  if (theme.layer_color) apply("layer", *theme.layer_color, p.layer);
  return p;
}

Palette Palette::from_environment(Palette base) {
  Palette p = std::move(base);
  for (int i = 0; i < kLevelCount; ++i) {
    const auto level = static_cast<Level>(i);
    if (level == Level::off) continue;
    apply_env_color("HYDRA_LOG_COLOR_" + std::string(to_string(level)), p.level[i]);
  }
  apply_env_color("HYDRA_LOG_LAYER_COLOR", p.layer);
  return p;
}

}  // namespace hydra
