// Levels of a record: the five classic severities plus trace, and three record
// kinds (security, audit, compliance) that carry a severity of their own and
// are routed to their own default layers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra {

enum class Level : std::uint8_t {
  trace,
  debug,
  info,
  warning,
  error,
  critical,
  security,    // severity of warning; default layer SECURITY
  audit,       // severity of info; default layer AUDIT
  compliance,  // severity of info; default layer COMPLIANCE
  off,         // a threshold only: nothing passes; a record at `off` is never written
};

inline constexpr int kLevelCount = 10;

// The rank a level is filtered by. A threshold of `warning` lets `security`
// through; a threshold of `error` stops it.
constexpr int severity(Level level) noexcept {
  switch (level) {
    case Level::trace: return 0;
    case Level::debug: return 1;
    case Level::info:
    case Level::audit:
    case Level::compliance: return 2;
    case Level::warning:
    case Level::security: return 3;
    case Level::error: return 4;
    case Level::critical: return 5;
    case Level::off: return 6;
  }
  return 6;
}

// The rank a *record* of `level` is compared with a threshold by: its
// severity, or -1 for `off` and for any value outside the enum. `off` is a
// threshold, not a record level, so such a record passes no threshold and is
// never written (and costs what a disabled record costs).
constexpr int record_severity(Level level) noexcept {
  return level < Level::off ? severity(level) : -1;
}

// True when a record of `level` passes a threshold of `threshold` (never for
// a record at `off`, see record_severity).
constexpr bool passes(Level level, Level threshold) noexcept {
  return record_severity(level) >= severity(threshold);
}

// Upper-case name: "INFO", "WARNING", "SECURITY", ...
constexpr std::string_view to_string(Level level) noexcept {
  switch (level) {
    case Level::trace: return "TRACE";
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO";
    case Level::warning: return "WARNING";
    case Level::error: return "ERROR";
    case Level::critical: return "CRITICAL";
    case Level::security: return "SECURITY";
    case Level::audit: return "AUDIT";
    case Level::compliance: return "COMPLIANCE";
    case Level::off: return "OFF";
  }
  return "UNKNOWN";
}

// Lower-case name as used in configuration: "info", "warning", ...
constexpr std::string_view to_lower_string(Level level) noexcept {
  switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
    case Level::critical: return "critical";
    case Level::security: return "security";
    case Level::audit: return "audit";
    case Level::compliance: return "compliance";
    case Level::off: return "off";
  }
  return "unknown";
}

// Parses a level name, case-insensitively; accepts "warn", "err", "crit",
// "fatal" as aliases. Returns nullopt for anything else.
std::optional<Level> parse_level(std::string_view name) noexcept;

// The names parse_level accepts, for error messages.
inline constexpr std::string_view kLevelChoices =
    "trace, debug, info, warning, error, critical, security, audit, compliance, off";

// Levels as HYDRA_LOG_LEVEL gives them: "info" (the default level), or
// "DATABASE=debug" (one layer's), or both, comma-separated:
// "info, DATABASE=debug,CACHE=off". Blanks around items, names and levels
// are ignored, and so are empty items.
struct LevelSpec {
  std::optional<Level> overall;  // the last LEVEL item, if any
  std::vector<std::pair<std::string, Level>> layers;
};
// Throws ConfigError naming the item at fault and what is valid, e.g.
// "'chatty' is not a level (valid: trace, ...; per layer: info,DATABASE=debug)".
// The one parser of the variable: zero-config and the config component use it.
LevelSpec parse_level_spec(std::string_view text);

// The layer a level's records go to when the call names none.
// Empty for the classic levels (they use the logger's default layer).
constexpr std::string_view default_layer_of(Level level) noexcept {
  switch (level) {
    case Level::security: return "SECURITY";
    case Level::audit: return "AUDIT";
    case Level::compliance: return "COMPLIANCE";
    default: return {};
  }
}

// Syslog severity (RFC 5424 table 2) of a level.
constexpr int syslog_severity(Level level) noexcept {
  switch (level) {
    case Level::trace:
    case Level::debug: return 7;
    case Level::info:
    case Level::audit:
    case Level::compliance: return 6;
    case Level::warning:
    case Level::security: return 4;
    case Level::error: return 3;
    case Level::critical: return 2;
    case Level::off: return 7;
  }
  return 7;
}

}  // namespace hydra
