#include "hydra/core/level.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

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

}  // namespace hydra
