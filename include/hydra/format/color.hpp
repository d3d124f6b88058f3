// Colour: when a destination colours its output (color_mode) and with which
// ANSI SGR sequences (the palette). Colour only ever wraps Hydra's own parts of
// a line (level name, layer); message content is escaped, so an ANSI sequence
// inside a message never reaches a terminal raw.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "hydra/core/level.hpp"

namespace hydra {

enum class ColorMode {
  automatic,  // colour when the stream is a terminal and the environment allows it
  always,
  never,
};

// "auto", "always", "never" (case-insensitive); nullopt otherwise.
std::optional<ColorMode> parse_color_mode(std::string_view name) noexcept;
inline constexpr std::string_view kColorModeChoices = "auto, always, never";

// The decision for one destination, given whether its stream is a terminal.
//   always / never: as said, except that the overrides below win;
//   automatic: terminal, NO_COLOR unset, TERM not "dumb".
// Overrides, strongest first: HYDRA_LOG_NO_COLOR (set, non-empty: never),
// HYDRA_LOG_FORCE_COLOR or FORCE_COLOR (set, not "0"/"false": always).
bool should_color(ColorMode mode, bool is_terminal);

// The SGR escape for a colour name (black, red, green, yellow, blue, magenta,
// cyan, white, each also bright_*, plus bold, dim), raw SGR codes ("1;31",
// "38;5;208"), or "" for "none" (no colour). nullopt when none of these.
std::optional<std::string> parse_color(std::string_view spec);
inline constexpr std::string_view kColorSpecChoices =
    "a name such as red or bright_cyan, bold, dim, none, or SGR codes such as 1;31";

// The built-in themes (Palette::theme). Names are case-insensitive and '_'
// may stand for '-'.
inline constexpr std::string_view kThemeChoices = "default, high-contrast, monochrome";

// A colour theme as configured (DestinationConfig::theme): a built-in theme
// and colour specs (parse_color) laid over it.
struct ColorTheme {
  std::string name = "default";
  std::map<Level, std::string> level_colors;  // e.g. {Level::info, "bright_cyan"}
  std::optional<std::string> layer_color;

  // The default theme with nothing laid over it.
  bool is_default() const;
};

// The SGR sequences a formatter wraps Hydra's own tokens in. Each is a whole
// escape ("\x1b[32m") or empty (no colour for that part). A default-constructed
// Palette has no colours at all: formatters keep one when colour is off, so
// that colouring costs nothing to decide per record.
struct Palette {
  std::array<std::string, kLevelCount> level;  // indexed by Level
  std::string layer;
  std::string reset = "\x1b[0m";

  // The "default" theme: trace dim, debug cyan, info green, warning yellow,
  // error red, critical bright red, security/audit/compliance bright
  // magenta/bright blue/blue; layer magenta.
  static Palette defaults();
  // A built-in theme by name (kThemeChoices). Throws ConfigError naming the
  // theme and the valid ones.
  static Palette theme(std::string_view name);
  // The built-in theme with the theme's colours laid over it. Throws
  // ConfigError for an unknown theme, or naming the level (or layer) and the
  // spec that is not a colour.
  static Palette from_theme(const ColorTheme& theme);
  // `base` with HYDRA_LOG_COLOR_<LEVEL> (e.g. HYDRA_LOG_COLOR_INFO=bright_cyan)
  // and HYDRA_LOG_LAYER_COLOR applied; unknown values are ignored with a
  // one-time notice on stderr.
  static Palette from_environment(Palette base = defaults());

  // `off` and values outside the enum (never a written record's level) have
  // no colour.
  const std::string& of(Level l) const {
    return level[std::min(static_cast<int>(l), static_cast<int>(Level::off))];
  }
  // What closes `l`'s colour: reset, or "" when the level has none (never a
  // null view, which memcpy-based appends must not get).
  std::string_view end(Level l) const {
    const std::string_view r = reset;
    return of(l).empty() ? r.substr(0, 0) : r;
  }
};

}  // namespace hydra
