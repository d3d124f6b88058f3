#include "hydra/core/level.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra {

std::optional<Level> parse_level(std::string_view name) noexcept {
  std::string lower(name.size(), '\0');
  std::transform(name.begin(), name.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (int i = 0; i < kLevelCount; ++i) {
    const auto level = static_cast<Level>(i);
    if (lower == to_lower_string(level)) return level;
  }
  struct Alias {
    std::string_view name;
    Level level;
  };
  static constexpr std::array<Alias, 5> kAliases{{{"warn", Level::warning},
                                                  {"err", Level::error},
                                                  {"crit", Level::critical},
                                                  {"fatal", Level::critical},
                                                  {"none", Level::off}}};
  for (const Alias& a : kAliases) {
    if (lower == a.name) return a.level;
  }
  return std::nullopt;
}

namespace {

Level spec_level(std::string_view text) {
  if (const auto level = parse_level(text)) return *level;
  throw ConfigError("'" + detail::to_printable(text) + "' is not a level (valid: " +
                    std::string(kLevelChoices) + "; per layer: info,DATABASE=debug)");
}

}  // namespace

LevelSpec parse_level_spec(std::string_view text) {
  LevelSpec spec;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = detail::trim_blanks(text.substr(0, comma));
    if (!item.empty()) {
      const auto eq = item.find('=');
      if (eq == std::string_view::npos) {
        spec.overall = spec_level(item);
      } else {
        const std::string_view layer = detail::trim_blanks(item.substr(0, eq));
        if (layer.empty()) {
          throw ConfigError("'" + detail::to_printable(item) +
                            "' names no layer (valid: LEVEL or LAYER=LEVEL, comma-separated)");
        }
        spec.layers.emplace_back(layer, spec_level(detail::trim_blanks(item.substr(eq + 1))));
      }
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return spec;
}

}  // namespace hydra
