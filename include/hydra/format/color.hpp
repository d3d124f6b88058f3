// Colour: when a destination colours its output (color_mode) and with which
// ANSI SGR sequences (the palette). Colour only ever wraps Hydra's own parts of
// a line (level name, layer); message content is escaped, so an ANSI sequence
// inside a message never reaches a terminal raw.
#pragma once

#include <array>
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
// cyan, white, each also bright_*, plus bold, dim) or raw SGR codes ("1;31",
// "38;5;208"). nullopt when neither.
std::optional<std::string> parse_color(std::string_view spec);

struct Palette {
  std::array<std::string, kLevelCount> level;  // indexed by Level
  std::string layer;
  std::string reset = "\x1b[0m";

  // debug cyan, info green, warning yellow, error red, critical bright red,
  // security/audit/compliance bright magenta/blue/blue; layer magenta.
  static Palette defaults();
  // defaults() with HYDRA_LOG_COLOR_<LEVEL> (e.g. HYDRA_LOG_COLOR_INFO=bright_cyan)
  // and HYDRA_LOG_LAYER_COLOR applied; unknown values are ignored with a
  // one-time notice on stderr.
  static Palette from_environment();

  const std::string& of(Level l) const { return level[static_cast<int>(l)]; }
};

}  // namespace hydra
