// The strict walk from a Tree to a LoggerConfig, and back. Every key a file
// may use is listed here once; anything else is an error that names the key,
// its place and the keys valid there.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hydra/config/detect.hpp"
#include "hydra/config/limits.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "hydra/core/protector.hpp"
#include "hydra/plugin/registry.hpp"
#if defined(HYDRA_CONFIG_WITH_PLUGINS)
#include "hydra/plugin/loader.hpp"
#endif
#if defined(HYDRA_CONFIG_WITH_BRIDGE)
#include <mutex>

#include "hydra/bridge/bridge_sink.hpp"
#endif
#if defined(HYDRA_CONFIG_WITH_NET)
#include <mutex>

#include "hydra/net/destinations.hpp"
#endif
#if defined(HYDRA_CONFIG_WITH_PROTECT)
#include "hydra/protect/audit_chain.hpp"
#include "hydra/protect/compliance.hpp"
#include "hydra/protect/protector.hpp"
#endif
#include "tree.hpp"

namespace hydra::config_detail {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 19> kTopKeys = {"name",
                                                       "mode",
                                                       "default_level",
                                                       "default_layer",
                                                       "layers",
                                                       "async",
                                                       "extends",
                                                       "preset",
                                                       "log_dir",
                                                       "redact",
                                                       "compliance",
                                                       "crash_handler",
                                                       "theme",
                                                       "plugins",
                                                       "filters",
                                                       "analytics",
                                                       "analytics_interval",
                                                       "plugin_failure_limit",
                                                       "detectors"};
constexpr std::array<std::string_view, 3> kLayerKeys = {"level", "destinations", "protect"};
constexpr std::array<std::string_view, 8> kAsyncKeys = {
    "queue_capacity", "overflow",      "grow_limit",      "grow_fallback",
    "idle_wait",      "stall_timeout", "health_interval", "health_layer"};

// Keys every destination type takes (format and its options).
constexpr std::array<std::string_view, 14> kCommonKeys = {
    "type",           "protect",       "level",       "format",
    "color_mode",     "date_format",   "time_format", "logger_name_format",
    "message_format", "csv_header",    "app_name",    "syslog_facility",
    "theme",          "format_options"};
// A theme table: the built-in theme it starts from, and colours over it.
constexpr std::array<std::string_view, 11> kThemeKeys = {
    "base",     "trace",    "debug", "info",       "warning", "error",
    "critical", "security", "audit", "compliance", "layer"};
constexpr std::array<std::string_view, 1> kConsoleKeys = {"stream"};
constexpr std::array<std::string_view, 4> kFileKeys = {"path", "flush_level", "flush_interval",
                                                       "buffer_size"};
constexpr std::array<std::string_view, 6> kRotatingKeys = {
    "max_size", "rotation", "rotation_time", "backup_count", "backup_naming", "compress"};
// The audit chain (protect module): docs/protect.md, "Audit trail". Also the
// keys of [compliance.audit].
constexpr std::array<std::string_view, 6> kAuditKeys = {
    "path", "key_file", "key_env", "max_size", "backup_count", "checkpoint_every"};

std::string join(Keys keys) {
  std::string out;
  for (const auto k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

bool contains(Keys keys, std::string_view key) {
  for (const auto k : keys) {
    if (k == key) return true;
  }
  return false;
}

using hydra::detail::iequals;

std::string kind_of(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "a table";
    case Json::value_t::array: return "a list";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a floating-point number";
    case Json::value_t::null: return "null";
    default: return "a value";
  }
}

// Reads values out of one document, failing with the document's positions.
class Walker {
 public:
  explicit Walker(const Tree& tree) : tree_(tree) {}

  [[noreturn]] void fail(std::string_view path, const std::string& what) const {
    config_detail::fail(tree_, path, what);
  }

  [[noreturn]] void wrong_type(std::string_view path, const Json& v,
                               std::string_view expected) const {
    fail(path,
         "expected " + std::string(expected) + ", got " + kind_of(v) + " (" + describe(v) + ")");
  }

  const Json& object(const Json& v, std::string_view path, Keys valid,
                     std::string_view place) const {
    if (!v.is_object()) wrong_type(path, v, "a table");
    for (const auto& [key, child] : v.items()) {
      if (!contains(valid, key)) {
        fail(child_path(path, key),
             "unknown key (valid keys " + std::string(place) + ": " + join(valid) + ")");
      }
    }
    return v;
  }

  std::string string(const Json& v, std::string_view path) const {
    if (!v.is_string()) wrong_type(path, v, "a string");
    return v.get<std::string>();
  }

  // A file's path: not empty, and no NUL byte (open() would stop there and
  // write to another file than the one named).
  std::string file_path(const Json& v, std::string_view path) const {
    std::string text = string(v, path);
    if (text.empty()) fail(path, "must not be empty");
    if (text.find('\0') != std::string::npos) fail(path, "must not contain a NUL byte");
    return text;
  }

  bool boolean(const Json& v, std::string_view path) const {
    if (!v.is_boolean()) wrong_type(path, v, "a boolean (true or false)");
    return v.get<bool>();
  }

  std::int64_t integer(const Json& v, std::string_view path, std::int64_t min,
                       std::int64_t max) const {
    if (!v.is_number_integer()) wrong_type(path, v, "an integer");
    const std::string valid = std::to_string(min) + " to " + std::to_string(max);
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
      out_of_range(path, v, valid);
    }
    const auto n = v.get<std::int64_t>();
    if (n < min || n > max) out_of_range(path, v, valid);
    return n;
  }

  Level level(const Json& v, std::string_view path) const {
    const std::string name = string(v, path);
    const auto l = parse_level(name);
    if (!l) fail(path, describe(v) + " is not a level (valid: " + std::string(kLevelChoices) + ")");
    return *l;
  }

  // One of `choices` (case-insensitive), as its index.
  template <std::size_t N>
  std::size_t choice(const Json& v, std::string_view path,
                     const std::array<std::string_view, N>& choices, std::string_view what) const {
    const std::string name = string(v, path);
    for (std::size_t i = 0; i < N; ++i) {
      if (iequals(name, choices[i])) return i;
    }
    fail(path, describe(v) + " is not " + std::string(what) + " (valid: " + join(choices) + ")");
  }

  // Bytes within `limit`: an integer, or a string such as "512KB", "5MB",
  // "1GB" (multiples of 1024).
  std::uint64_t size(const Json& v, std::string_view path, const SizeLimit& limit) const {
    const auto reject = [&]() { out_of_range(path, v, detail::range_text(limit)); };
    std::uint64_t bytes = 0;
    if (v.is_number_unsigned()) {
      bytes = v.get<std::uint64_t>();
    } else if (v.is_number_integer()) {
      if (v.get<std::int64_t>() < 0) reject();
      bytes = static_cast<std::uint64_t>(v.get<std::int64_t>());
    } else {
      if (!v.is_string()) {
        wrong_type(path, v, "a size (an integer of bytes or a string like '5MB')");
      }
      const auto& text = v.get_ref<const std::string&>();
      std::size_t i = 0;
      std::uint64_t number = 0;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) reject();
        number = number * 10 + digit;
        ++i;
      }
      if (i == 0) bad_size(path, v);
      while (i < text.size() && text[i] == ' ') ++i;
      const std::string_view unit = std::string_view(text).substr(i);
      std::uint64_t multiplier = 0;
      if (unit.empty() || iequals(unit, "B")) multiplier = 1;
      if (iequals(unit, "K") || iequals(unit, "KB") || iequals(unit, "KiB"))
        multiplier = 1ULL << 10;
      if (iequals(unit, "M") || iequals(unit, "MB") || iequals(unit, "MiB"))
        multiplier = 1ULL << 20;
      if (iequals(unit, "G") || iequals(unit, "GB") || iequals(unit, "GiB"))
        multiplier = 1ULL << 30;
      if (multiplier == 0) bad_size(path, v);
      if (number > std::numeric_limits<std::uint64_t>::max() / multiplier) reject();
      bytes = number * multiplier;
    }
    if (bytes < limit.min || bytes > limit.max) reject();
    return bytes;
  }

  // A duration within `limit`: an integer in the setting's own unit
  // (`Duration`), or a string with a unit ("250us", "500ms", "2s", "1m",
  // "1h") that is a whole number of that unit.
  template <typename Duration>
  Duration duration(const Json& v, std::string_view path, const DurationLimit& limit) const {
    using std::chrono::microseconds;
    const auto reject = [&]() { out_of_range(path, v, detail::range_text(limit)); };
    // `count` of `Unit`, compared with the limit in that unit first, so that
    // a huge count cannot overflow on the way to microseconds.
    const auto within = [&](auto unit, std::int64_t count) {
      using Unit = decltype(unit);
      if (count > std::chrono::floor<Unit>(limit.max).count()) reject();
      const auto exact = std::chrono::duration_cast<microseconds>(Unit{count});
      if (exact < limit.min) reject();
      return exact;
    };
    microseconds exact{0};
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() &&
          v.get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        reject();
      }
      const auto count = v.get<std::int64_t>();
      if (count < 0) reject();
      exact = within(Duration{}, count);
    } else {
      if (!v.is_string()) wrong_type(path, v, "a duration (a string like '500ms' or '2s')");
      const auto& text = v.get_ref<const std::string&>();
      std::size_t i = 0;
      std::int64_t number = 0;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        const int digit = text[i] - '0';
        if (number > (std::numeric_limits<std::int64_t>::max() - digit) / 10) reject();
        number = number * 10 + digit;
        ++i;
      }
      if (i == 0) bad_duration(path, v);
      const std::string_view unit = std::string_view(text).substr(i);
      using namespace std::chrono;
      if (unit == "us") {
        exact = within(microseconds{}, number);
      } else if (unit == "ms") {
        exact = within(milliseconds{}, number);
      } else if (unit == "s") {
        exact = within(seconds{}, number);
      } else if (unit == "m") {
        exact = within(minutes{}, number);
      } else if (unit == "h") {
        exact = within(hours{}, number);
      } else {
        bad_duration(path, v);
      }
    }
    const auto value = std::chrono::duration_cast<Duration>(exact);
    if (value != exact) {
      fail(path, describe(v) + " is not a whole number of " +
                     (std::is_same_v<Duration, std::chrono::milliseconds> ? "milliseconds"
                                                                          : "microseconds") +
                     ", this setting's unit");
    }
    return value;
  }

  [[noreturn]] void out_of_range(std::string_view path, const Json& v,
                                 const std::string& valid) const {
    fail(path, describe(v) + " is out of range (valid: " + valid + ")");
  }

  [[noreturn]] void bad_size(std::string_view path, const Json& v) const {
    fail(path, describe(v) +
                   " is not a size (valid: an integer of bytes, or a whole number with a "
                   "unit B, KB, MB, GB (also K, M, G, KiB, MiB, GiB; multiples of 1024), "
                   "e.g. '512KB', '5MB', '1GB')");
  }

  [[noreturn]] void bad_duration(std::string_view path, const Json& v) const {
    fail(path, describe(v) +
                   " is not a duration (valid: an integer, or a whole number with a unit us, "
                   "ms, s, m or h, e.g. '500ms', '2s')");
  }

 private:
  const Tree& tree_;
};

constexpr std::array<std::string_view, 3> kColorNames = {"auto", "always", "never"};
constexpr std::array<ColorMode, 3> kColorModes = {ColorMode::automatic, ColorMode::always,
                                                  ColorMode::never};
constexpr std::array<std::string_view, 3> kRotationNames = {"none", "hourly", "daily"};
constexpr std::array<RotationInterval, 3> kRotations = {
    RotationInterval::none, RotationInterval::hourly, RotationInterval::daily};
constexpr std::array<std::string_view, 2> kBackupNamingNames = {"index", "date"};
constexpr std::array<BackupNaming, 2> kBackupNamings = {BackupNaming::index, BackupNaming::date};
constexpr std::array<std::string_view, 5> kOverflowNames = {"block", "drop", "grow",
                                                            "sync_fallback", "auto"};
constexpr std::array<OverflowPolicy, 5> kOverflows = {
    OverflowPolicy::block, OverflowPolicy::drop, OverflowPolicy::grow,
    OverflowPolicy::sync_fallback, OverflowPolicy::automatic};
constexpr std::array<std::string_view, 3> kGrowFallbackNames = {"block", "drop", "sync_fallback"};
constexpr std::array<OverflowPolicy, 3> kGrowFallbacks = {
    OverflowPolicy::block, OverflowPolicy::drop, OverflowPolicy::sync_fallback};
constexpr std::array<std::string_view, 2> kModeNames = {"sync", "async"};
constexpr std::array<std::string_view, 2> kStreamNames = {"stdout", "stderr"};
constexpr std::array<std::string_view, 5> kTypeNames = {"console", "file", "rotating_file", "null",
                                                        "audit"};

// `theme = "high-contrast"`, or a table of colours over a built-in theme:
// `theme = {base = "monochrome", error = "1;31", layer = "bold"}`.
ColorTheme color_theme(const Walker& w, const Json& v, const std::string& path) {
  const auto theme_name = [&w](const Json& value, const std::string& at) {
    std::string name = w.string(value, at);
    try {
      static_cast<void>(Palette::theme(name));
    } catch (const ConfigError&) {
      w.fail(at, describe(value) + " is not a theme (valid: " + std::string(kThemeChoices) + ")");
    }
    return name;
  };
  ColorTheme theme;
  if (v.is_string()) {
    theme.name = theme_name(v, path);
    return theme;
  }
  if (!v.is_object()) w.wrong_type(path, v, "a theme name or a table of colours");
  w.object(v, path, kThemeKeys, "in a theme");
  for (const auto& [key, value] : v.items()) {
    const std::string at = child_path(path, key);
    if (key == "base") {
      theme.name = theme_name(value, at);
      continue;
    }
    std::string spec = w.string(value, at);
    if (!parse_color(spec)) {
      w.fail(at,
             describe(value) + " is not a colour (valid: " + std::string(kColorSpecChoices) + ")");
    }
    if (key == "layer") {
      theme.layer_color = std::move(spec);
    } else {
      theme.level_colors[*parse_level(key)] = std::move(spec);  // kThemeKeys: level names
    }
  }
  return theme;
}

Json theme_json(const ColorTheme& theme) {
  if (theme.level_colors.empty() && !theme.layer_color) return theme.name;
  Json j = Json::object();
  j["base"] = theme.name;
  for (const auto& [level, spec] : theme.level_colors) {
    if (level != Level::off) j[std::string(to_lower_string(level))] = spec;
  }
  if (theme.layer_color) j["layer"] = *theme.layer_color;
  return j;
}

#if defined(HYDRA_CONFIG_WITH_PROTECT)
// A key source from the table `v` at `path`: its `file_key` (a file holding
// the key) or its `env_key` (an environment variable), read when the key is
// used. Both set is an error; so is neither when `why_required` is not empty.
protect::AuditKeySource key_source(const Walker& w, const Json& v, const std::string& path,
                                   const std::string& file_key, const std::string& env_key,
                                   std::string_view what, std::string_view why_required) {
  protect::AuditKeySource key;
  if (v.contains(file_key)) key.file = w.file_path(v[file_key], child_path(path, file_key));
  if (v.contains(env_key)) key.env = w.string(v[env_key], child_path(path, env_key));
  const bool both = !key.file.empty() && !key.env.empty();
  const bool none = key.file.empty() && key.env.empty();
  if (both || (none && !why_required.empty())) {
    std::string message = std::string(what) + (why_required.empty() ? " takes at most one of "
                                                                    : " needs exactly one of ");
    message += file_key + " and " + env_key;
    if (!why_required.empty()) message += " (" + std::string(why_required) + ")";
    w.fail(path, message);
  }
  return key;
}

// An audit chain's table (a type = "audit" destination, [compliance.audit]):
// path, exactly one of key_file and key_env, max_size, backup_count,
// checkpoint_every. `what` names the table in messages. Its keys are checked
// by the caller.
protect::AuditChainOptions audit_chain_options(const Walker& w, const Json& v,
                                               const std::string& path, std::string_view what) {
  protect::AuditChainOptions o;
  for (const auto& [key, value] : v.items()) {
    const std::string at = child_path(path, key);
    if (key == "path") o.path = w.file_path(value, at);
    if (key == "max_size") o.max_size = w.size(value, at, limits::kRotationSize);
    if (key == "backup_count") {
      o.backup_count = static_cast<int>(w.integer(value, at, 1, kMaxBackupCount));
    }
    if (key == "checkpoint_every") {
      o.checkpoint_every = static_cast<std::uint64_t>(
          w.integer(value, at, 1, std::numeric_limits<std::int64_t>::max()));
    }
  }
  if (o.path.empty()) w.fail(path, std::string(what) + " needs a path (add path = \"...\")");
  o.key = key_source(w, v, path, "key_file", "key_env", what,
                     "the chain's HMAC key; an unsigned audit log is never written");
  return o;
}

#endif

// type = "audit": the tamper-evident chain of the protect module.
void audit_destination(const Walker& w, const Json& v, const std::string& path,
                       DestinationConfig& d) {
#if defined(HYDRA_CONFIG_WITH_PROTECT)
  // Made when the logger is built (protect::audit_destination): loading or
  // explaining a file touches nothing, and a reload keeps the live sink.
  d.make_sink =
      protect::audit_destination(audit_chain_options(w, v, path, "an audit destination")).make_sink;
#else
  (void)v;
  (void)d;
  w.fail(path,
         "type 'audit' needs the protect module, and this hydra was built without it "
         "(HYDRA_WITH_PROTECT=OFF)");
#endif
}

// `rotation`: none, hourly, daily, or an interval that divides a day in
// minutes or hours ("15m", "6h").
RotationInterval rotation_interval(const Walker& w, const Json& v, const std::string& path) {
  constexpr std::string_view kValid =
      "none, hourly, daily, or an interval that divides a day, in minutes or hours: '5m', "
      "'15m', '1h', '6h', ...";
  const std::string text = w.string(v, path);
  for (std::size_t i = 0; i < kRotationNames.size(); ++i) {
    if (iequals(text, kRotationNames[i])) return kRotations[i];
  }
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string_view unit = std::string_view(text).substr(digits);
  if (digits == 0 || digits > 4 || (unit != "m" && unit != "h")) {
    w.fail(path, describe(v) + " is not a rotation (valid: " + std::string(kValid) + ")");
  }
  const int number = std::stoi(text.substr(0, digits));
  const RotationInterval interval =
      RotationInterval::every(std::chrono::minutes(unit == "h" ? number * 60 : number));
  if (!interval.divides_a_day()) {
    w.fail(path, describe(v) + " does not divide a day (valid: " + std::string(kValid) + ")");
  }
  return interval;
}

std::string rotation_text(RotationInterval interval) {
  for (std::size_t i = 0; i < kRotations.size(); ++i) {
    if (kRotations[i] == interval) return std::string(kRotationNames[i]);
  }
  const auto minutes = interval.period.count();
  return minutes % 60 == 0 ? std::to_string(minutes / 60) + "h" : std::to_string(minutes) + "m";
}

// `rotation_time`: "HH:MM", 00:00 to 23:59.
std::chrono::minutes time_of_day(const Walker& w, const Json& v, const std::string& path) {
  const std::string text = w.string(v, path);
  const auto digit = [&text](std::size_t i) {
    return std::isdigit(static_cast<unsigned char>(text[i])) != 0;
  };
  const bool shaped =
      text.size() == 5 && digit(0) && digit(1) && text[2] == ':' && digit(3) && digit(4);
  const int hours = shaped ? std::stoi(text.substr(0, 2)) : 0;
  const int minutes = shaped ? std::stoi(text.substr(3, 2)) : 0;
  if (!shaped || hours > 23 || minutes > 59) {
    w.fail(path,
           describe(v) + " is not a time of day (valid: HH:MM, 00:00 to 23:59, e.g. '02:30')");
  }
  return std::chrono::hours(hours) + std::chrono::minutes(minutes);
}

std::string time_of_day_text(std::chrono::minutes time) {
  const auto two_digits = [](long n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  return two_digits(time.count() / 60) + ":" + two_digits(time.count() % 60);
}

// A destination's format, any case: one of kFormatChoices, or `auto` (chosen
// when the destination is built: auto_format_for).
std::string format_of(const Walker& w, const Json& v, const std::string& path) {
  std::string name = w.string(v, path);
  std::transform(name.begin(), name.end(), name.begin(), hydra::detail::ascii_lower);
  if (name != "auto" && !hydra::is_format_name(name)) {
    const std::string given = w.string(v, path);  // registry types keep their case
    if (plugin::Registry::global().has(plugin::Kind::formatter, given)) return given;
    w.fail(path, describe(v) + " is not a format (valid: " + std::string(kFormatChoices) +
                     ", auto, or a registered formatter type: " +
                     plugin::Registry::global().names(plugin::Kind::formatter) + ")");
  }
  return name;
}

// A plugin option's value as text: strings as they are, numbers and
// booleans as written, a list of scalars joined with ','.
std::string option_text(const Walker& w, const Json& v, const std::string& path) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned() || v.is_number_float()) return v.dump();
  if (v.is_array()) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Json& item = v[i];
      if (item.is_object() || item.is_array() || item.is_null()) {
        w.wrong_type(index_path(path, i), item, "a string, a number or a boolean");
      }
      const std::string text = option_text(w, item, index_path(path, i));
      if (text.find(',') != std::string::npos) {
        w.fail(index_path(path, i), "a list item of a plugin option must not contain ','");
      }
      out += (i == 0 ? "" : ",") + text;
    }
    return out;
  }
  w.wrong_type(path, v, "a string, a number, a boolean or a list");
}

// A table of plugin options (all keys but those in `skip`).
plugin::Options plugin_options(const Walker& w, const Json& v, const std::string& path, Keys skip) {
  if (!v.is_object()) w.wrong_type(path, v, "a table of options");
  plugin::Options options;
  for (const auto& [key, value] : v.items()) {
    if (contains(skip, key)) continue;
    options.set(key, option_text(w, value, child_path(path, key)));
  }
  return options;
}

// [[filters]] and [[analytics]]: each a table with a registered `type` and
// that type's options, checked here as strictly as Hydra's own.
std::vector<PluginConfig> plugin_list(const Walker& w, const Json& v, const std::string& path,
                                      plugin::Kind kind) {
  if (!v.is_array()) {
    w.wrong_type(path, v, "a list of tables ([[" + path + "]] in TOML), each with a type");
  }
  constexpr std::array<std::string_view, 1> kSkip = {"type"};
  std::vector<PluginConfig> list;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = index_path(path, i);
    const Json& entry = v[i];
    if (!entry.is_object()) w.wrong_type(at, entry, "a table with a type");
    if (!entry.contains("type")) {
      w.fail(at, "needs a type (registered " + std::string(plugin::kind_name(kind)) +
                     " types: " + plugin::Registry::global().names(kind) + ")");
    }
    PluginConfig pc;
    pc.type = w.string(entry["type"], child_path(at, "type"));
    const plugin::Options given = plugin_options(w, entry, at, kSkip);
    try {
      pc.options = plugin::Registry::global().check(kind, pc.type, given);
    } catch (const ConfigError& e) {
      w.fail(at, e.what());
    }
    list.push_back(std::move(pc));
  }
  return list;
}

// `plugins = [...]`: loads each (a path relative to the file that names it,
// or a name looked up as hydra::plugin::find_plugin says) so that the types
// it provides can be named below. Loading runs the plugin's code: a
// configuration names only plugins it trusts.
void load_plugins(const Walker& w, const Tree& tree, const Json& v, LoggerConfig& config) {
  if (!v.is_array()) w.wrong_type("plugins", v, "a list of plugin paths or names");
#if defined(HYDRA_CONFIG_WITH_PLUGINS)
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = index_path("plugins", i);
    const std::string entry = w.string(v[i], at);
    // Relative to the file that wrote the entry.
    std::filesystem::path base = std::filesystem::current_path();
    const auto origin = tree.origins.find(at);
    const std::string source = origin != tree.origins.end() ? origin->second.source : tree.source;
    std::error_code ec;
    if (!source.empty() && std::filesystem::is_regular_file(source, ec)) {
      base = std::filesystem::absolute(source, ec).parent_path();
    }
    try {
      const plugin::PluginFile file = plugin::load_plugin(plugin::find_plugin(entry, base));
      config.plugins.push_back(
          LoadedPlugin{file.name, file.version, file.sha256, file.path.string()});
    } catch (const ConfigError& e) {
      w.fail(at, e.what());
    }
  }
#else
  (void)tree;
  (void)config;
  w.fail("plugins",
         "loadable plugins need the plugin module, and this hydra was built without it "
         "(HYDRA_WITH_PLUGINS=OFF)");
#endif
}

// `theme` is the top-level one, for destinations that name none.
DestinationConfig destination(const Walker& w, const Json& v, const std::string& path,
                              const ColorTheme& theme) {
  if (!v.is_object()) w.wrong_type(path, v, "a table (a destination)");
  DestinationConfig d;
  d.theme = theme;
  std::optional<plugin::TypeInfo> plugin_sink;
  if (v.contains("type")) {
    const std::string at = child_path(path, "type");
    const std::string name = w.string(v["type"], at);
    plugin_sink = plugin::Registry::global().find(plugin::Kind::sink, name);
    if (plugin_sink) {
      d.type = name;
    } else if (std::none_of(kTypeNames.begin(), kTypeNames.end(),
                            [&name](std::string_view t) { return iequals(t, name); })) {
      w.fail(at, describe(v["type"]) + " is not a destination type (valid: " + join(kTypeNames) +
                     ", or a registered sink type: " +
                     plugin::Registry::global().names(plugin::Kind::sink) + ")");
    } else {
      d.type = kTypeNames[w.choice(v["type"], at, kTypeNames, "a destination type")];
    }
  }
  std::vector<std::string_view> valid(kCommonKeys.begin(), kCommonKeys.end());
  if (plugin_sink) {
    for (const plugin::OptionSpec& o : plugin_sink->options) valid.emplace_back(o.name);
    if (!plugin_sink->default_format.empty()) d.format = plugin_sink->default_format;
  }
  if (d.type == "console") valid.insert(valid.end(), kConsoleKeys.begin(), kConsoleKeys.end());
  if (d.type == "file" || d.type == "rotating_file") {
    valid.insert(valid.end(), kFileKeys.begin(), kFileKeys.end());
  }
  if (d.type == "rotating_file") {
    valid.insert(valid.end(), kRotatingKeys.begin(), kRotatingKeys.end());
  }
  if (d.type == "audit") {
    valid.insert(valid.end(), kAuditKeys.begin(), kAuditKeys.end());
    d.format = "json";  // the chain's payloads: JSON Lines unless the file says otherwise
  }
  w.object(v, path, valid, "for a " + d.type + " destination");

  for (const auto& [key, value] : v.items()) {
    const std::string at = child_path(path, key);
    if (key == "type") continue;
    if (plugin_sink && !contains(kCommonKeys, key)) {
      d.sink_options.set(key, option_text(w, value, at));
      continue;
    }
    if (key == "format_options") d.format_options = plugin_options(w, value, at, {});
    if (key == "protect") d.protect = w.boolean(value, at);
    if (key == "level") d.level = w.level(value, at);
    if (key == "format") d.format = format_of(w, value, at);
    if (key == "theme") d.theme = color_theme(w, value, at);
    if (key == "color_mode")
      d.color_mode = kColorModes[w.choice(value, at, kColorNames, "a colour mode")];
    if (key == "date_format") d.text.date_format = w.string(value, at);
    if (key == "time_format") d.text.time_format = w.string(value, at);
    if (key == "logger_name_format") d.text.logger_name_format = w.string(value, at);
    if (key == "message_format") d.text.message_format = w.string(value, at);
    if (key == "csv_header") d.csv_header = w.boolean(value, at);
    if (key == "app_name") d.app_name = w.string(value, at);
    if (key == "syslog_facility") d.syslog_facility = static_cast<int>(w.integer(value, at, 0, 23));
    if (key == "stream")
      d.stream = kStreamNames[w.choice(value, at, kStreamNames, "a console stream")];
    if (key == "path") d.path = w.file_path(value, at);
    if (key == "flush_level") d.flush_level = w.level(value, at);
    if (key == "flush_interval")
      d.flush_interval = w.duration<std::chrono::milliseconds>(value, at, limits::kFlushInterval);
    if (key == "buffer_size") d.buffer_size = w.size(value, at, limits::kBufferSize);
    if (key == "max_size") d.max_size = w.size(value, at, limits::kRotationSize);
    if (key == "rotation") d.rotation = rotation_interval(w, value, at);
    if (key == "rotation_time") d.rotation_time = time_of_day(w, value, at);
    if (key == "backup_count" && d.type == "rotating_file") {  // audit's: audit_chain_options
      d.backup_count = static_cast<int>(w.integer(value, at, 0, kMaxBackupCount));
    }
    if (key == "backup_naming") {
      d.backup_naming = kBackupNamings[w.choice(value, at, kBackupNamingNames, "a backup naming")];
    }
    if (key == "compress") d.compress = w.boolean(value, at);
  }
  if ((d.type == "file" || d.type == "rotating_file" || d.type == "audit") && d.path.empty()) {
    w.fail(path, "a " + d.type + " destination needs a path (add path = \"...\")");
  }
  if (d.type == "audit") audit_destination(w, v, path, d);
  if (plugin_sink) {
    try {
      d.sink_options = plugin::Registry::global().check(plugin::Kind::sink, d.type, d.sink_options);
    } catch (const ConfigError& e) {
      w.fail(path, e.what());
    }
  }
  if (is_format_name(d.format) || d.format == "auto") {
    if (v.contains("format_options")) {
      w.fail(child_path(path, "format_options"),
             "only a formatter type of the plugin registry takes format_options");
    }
  } else {
    try {
      d.format_options =
          plugin::Registry::global().check(plugin::Kind::formatter, d.format, d.format_options);
    } catch (const ConfigError& e) {
      w.fail(v.contains("format_options") ? child_path(path, "format_options") : path, e.what());
    }
  }
  if (d.type == "rotating_file" && d.max_size == 0 && d.rotation == RotationInterval::none) {
    w.fail(path,
           "a rotating_file destination needs max_size and/or rotation (hourly, daily, or an "
           "interval such as '15m')");
  }
  if (d.rotation_time.count() != 0 && d.rotation == RotationInterval::none) {
    w.fail(child_path(path, "rotation_time"),
           "needs rotation (hourly, daily, or an interval such as '15m')");
  }
  return d;
}

LayerConfig layer(const Walker& w, const Json& v, const std::string& path,
                  const ColorTheme& theme) {
  w.object(v, path, kLayerKeys, "for a layer");
  LayerConfig l;
  if (v.contains("level")) l.level = w.level(v["level"], child_path(path, "level"));
  if (v.contains("protect")) l.protect = w.boolean(v["protect"], child_path(path, "protect"));
  if (v.contains("destinations")) {
    const std::string at = child_path(path, "destinations");
    const Json& list = v["destinations"];
    if (!list.is_array()) w.wrong_type(at, list, "a list of destinations");
    for (std::size_t i = 0; i < list.size(); ++i) {
      l.destinations.push_back(destination(w, list[i], index_path(at, i), theme));
    }
  }
  return l;
}

AsyncOptions async_options(const Walker& w, const Json& v, const std::string& path) {
  w.object(v, path, kAsyncKeys, "in async");
  AsyncOptions o;
  for (const auto& [key, value] : v.items()) {
    const std::string at = child_path(path, key);
    if (key == "queue_capacity") o.queue_capacity = w.size(value, at, limits::kQueueCapacity);
    if (key == "overflow")
      o.overflow = kOverflows[w.choice(value, at, kOverflowNames, "an overflow policy")];
    if (key == "grow_limit") o.grow_limit = w.size(value, at, limits::kGrowLimit);
    if (key == "grow_fallback") {
      o.grow_fallback = kGrowFallbacks[w.choice(value, at, kGrowFallbackNames, "a grow fallback")];
    }
    if (key == "idle_wait") {
      o.idle_wait = w.duration<std::chrono::microseconds>(value, at, limits::kIdleWait);
    }
    if (key == "stall_timeout") {
      o.stall_timeout = w.duration<std::chrono::milliseconds>(value, at, limits::kStallTimeout);
    }
    if (key == "health_interval") {
      o.health_interval = w.duration<std::chrono::milliseconds>(value, at, limits::kHealthInterval);
    }
    if (key == "health_layer") o.health_layer = w.string(value, at);
  }
  return o;
}

#if defined(HYDRA_CONFIG_WITH_PROTECT)
// [compliance]: docs/protect.md, "Compliance profiles".
constexpr std::array<std::string_view, 4> kComplianceKeys = {"profiles", "hash_key_file",
                                                             "hash_key_env", "audit"};

struct FileCompliance {
  protect::ComplianceOptions options;
  bool has_audit = false;  // a [compliance.audit] table
};

// The table, checked, with the gdpr hash key read (from its file or
// variable) at once: the protector needs it now.
FileCompliance compliance_table(const Walker& w, const Json& v, const std::string& path) {
  w.object(v, path, kComplianceKeys, "in compliance");
  FileCompliance c;
  const std::string profiles_at = child_path(path, "profiles");
  if (!v.contains("profiles")) {
    w.fail(path,
           "needs profiles (a list of: " + std::string(protect::kComplianceProfileChoices) + ")");
  }
  const Json& list = v["profiles"];
  if (!list.is_array()) w.wrong_type(profiles_at, list, "a list of compliance profiles");
  if (list.empty()) {
    w.fail(profiles_at,
           "must not be empty (valid: " + std::string(protect::kComplianceProfileChoices) + ")");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = index_path(profiles_at, i);
    std::string name = w.string(list[i], at);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const auto profile = protect::parse_compliance_profile(name);
    if (!profile) {
      w.fail(at, describe(list[i]) + " is not a compliance profile (valid: " +
                     std::string(protect::kComplianceProfileChoices) + ")");
    }
    c.options.profiles.push_back(*profile);
  }
  const protect::AuditKeySource hash_key =
      key_source(w, v, path, "hash_key_file", "hash_key_env", "compliance", "");
  if (!hash_key.file.empty() || !hash_key.env.empty()) {
    try {
      c.options.hash_key = protect::load_audit_key(hash_key);
    } catch (const ConfigError& e) {
      w.fail(child_path(path, hash_key.file.empty() ? "hash_key_env" : "hash_key_file"), e.what());
    }
  }
  if (v.contains("audit")) {
    const std::string at = child_path(path, "audit");
    w.object(v["audit"], at, kAuditKeys, "in compliance.audit");
    c.options.audit = audit_chain_options(w, v["audit"], at, "compliance.audit");
    c.has_audit = true;
  }
  return c;
}

bool has_profile(const protect::ComplianceOptions& o, protect::ComplianceProfile p) {
  return std::find(o.profiles.begin(), o.profiles.end(), p) != o.profiles.end();
}

// apply_compliance() errors start with "compliance: "; the path says it.
std::string without_prefix(std::string_view what) {
  constexpr std::string_view prefix = "compliance: ";
  if (what.starts_with(prefix)) what.remove_prefix(prefix.size());
  return std::string(what);
}

// The profiles laid over `config` by protect::apply_compliance(); its audit
// chain (hipaa, sox) is made when the logger is built, so loading, explaining
// and reloading the file touch nothing.
// [[detectors]]: detector plugins for the protect stage, each a table with a
// registered `type`, an `action` (redact, mask, hash, drop; default redact)
// and the type's options. Made (and started) here: a detector lives in the
// redactor the protector holds.
// `described`, when given, gets each entry as `hydra config explain` shows it
// (see to_config()).
std::vector<protect::PluginDetector> plugin_detectors(const Walker& w, const Tree& tree,
                                                      Json* described = nullptr) {
  std::vector<protect::PluginDetector> out;
  if (!tree.value.is_object() || !tree.value.contains("detectors")) return out;
  const Json& v = tree.value["detectors"];
  if (!v.is_array()) w.wrong_type("detectors", v, "a list of tables ([[detectors]] in TOML)");
  constexpr std::array<std::string_view, 2> kSkip = {"type", "action"};
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = index_path("detectors", i);
    const Json& entry = v[i];
    if (!entry.is_object()) w.wrong_type(at, entry, "a table with a type");
    if (!entry.contains("type")) {
      w.fail(at, "needs a type (registered detector types: " +
                     plugin::Registry::global().names(plugin::Kind::detector) + ")");
    }
    protect::PluginDetector d;
    if (entry.contains("action")) {
      const std::string action = w.string(entry["action"], child_path(at, "action"));
      const auto parsed = protect::parse_action(action);
      if (!parsed) {
        w.fail(child_path(at, "action"), describe(entry["action"]) + " is not an action (valid: " +
                                             std::string(protect::kActionChoices) + ")");
      }
      d.action = *parsed;
    }
    const std::string type = w.string(entry["type"], child_path(at, "type"));
    const plugin::Options given = plugin_options(w, entry, at, kSkip);
    try {
      auto made = plugin::Registry::global().make_detector(type, given);
      std::const_pointer_cast<plugin::Detector>(made)->start();
      d.detector = std::move(made);
      if (described != nullptr) {
        Json j = Json::object();
        j["type"] = type;
        // A token() that throws fails make_protector() next, naming the entry.
        try {
          j["token"] = std::string(d.detector->token());
        } catch (const std::exception&) {
        }
        j["action"] = std::string(protect::action_name(d.action));
        // Every option, defaults filled in (make_detector() checked them);
        // an option named `token` stands in the token's place.
        const plugin::Options all =
            plugin::Registry::global().check(plugin::Kind::detector, type, given);
        for (const auto& [key, value] : all.values()) j[key] = value;
        described->push_back(std::move(j));
      }
    } catch (const ConfigError& e) {
      w.fail(at, e.what());
    }
    out.push_back(std::move(d));
  }
  return out;
}

void apply_file_compliance(const Walker& w, const FileCompliance& c, const std::string& path,
                           LoggerConfig& config) {
  using protect::ComplianceProfile;
  const bool hipaa = has_profile(c.options, ComplianceProfile::hipaa);
  if ((hipaa || has_profile(c.options, ComplianceProfile::sox)) && !c.has_audit) {
    w.fail(path, std::string(hipaa ? "hipaa" : "sox") +
                     " writes the AUDIT layer's audit chain: add a [compliance.audit] table with "
                     "its path and key_file or key_env");
  }
  try {
    protect::apply_compliance(config, c.options);
  } catch (const ConfigError& e) {
    w.fail(path, without_prefix(e.what()));
  }
}
#endif

// The protector of `redact = true` (or of no `redact` key) with the file's
// [[detectors]]; ConfigError for detectors with `redact = false`.
void apply_detectors(const Walker& w, const Tree& tree, LoggerConfig& config, Json* described) {
  if (!tree.value.is_object() || !tree.value.contains("detectors")) return;
#if defined(HYDRA_CONFIG_WITH_PROTECT)
  // A file's own `redact = false` contradicts its detectors; a preset's
  // (origin line 0: no file line) is a default the detectors override.
  const auto redact_origin = tree.origins.find("redact");
  const bool redact_in_a_file =
      redact_origin != tree.origins.end() && redact_origin->second.line > 0;
  if (redact_in_a_file && tree.value.contains("redact") && tree.value["redact"].is_boolean() &&
      !tree.value["redact"].get<bool>()) {
    w.fail("detectors", "detectors run in the protect stage, which redact = false turns off");
  }
  protect::RedactorOptions options;
  Json entries = Json::array();
  options.plugin_detectors = plugin_detectors(w, tree, described != nullptr ? &entries : nullptr);
  try {
    config.protector = protect::make_protector(std::move(options));
    if (described != nullptr) *described = std::move(entries);
  } catch (const ConfigError& e) {
    w.fail("detectors", e.what());
  }
#else
  (void)config;
  (void)described;
  w.fail("detectors",
         "detectors need the protect module, and this hydra was built without it "
         "(HYDRA_WITH_PROTECT=OFF)");
#endif
}

template <typename E, std::size_t N>
std::string name_of(E value, const std::array<E, N>& values,
                    const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (values[i] == value) return std::string(names[i]);
  }
  return "unknown";
}

template <typename Rep, typename Period>
std::string duration_text(std::chrono::duration<Rep, Period> d) {
  using namespace std::chrono;
  if constexpr (std::is_same_v<Period, std::micro>) return std::to_string(d.count()) + "us";
  return std::to_string(duration_cast<milliseconds>(d).count()) + "ms";
}

}  // namespace

std::shared_ptr<const Protector> default_protector() {
#if defined(HYDRA_CONFIG_WITH_PROTECT)
  return protect::make_protector();
#else
  throw ConfigError(
      "redaction needs the protect module, and this hydra was built without it "
      "(HYDRA_WITH_PROTECT=OFF)");
#endif
}

LoggerConfig to_config(const Tree& tree, bool with_compliance, Json* detectors) {
#if defined(HYDRA_CONFIG_WITH_NET)
  // The network destination types (`type = "syslog"`), once.
  static std::once_flag net_types;
  std::call_once(net_types, [] { net::register_destinations(plugin::Registry::global()); });
#endif
#if defined(HYDRA_CONFIG_WITH_BRIDGE)
  // The live view (`type = "bridge"`), once.
  static std::once_flag bridge_type;
  std::call_once(bridge_type, [] { bridge::register_destination(plugin::Registry::global()); });
#endif
  const Walker w(tree);
  const Json& top = w.object(tree.value, "", kTopKeys, "at the top level");
  LoggerConfig config;
  // The top-level theme is every destination's that names none.
  ColorTheme theme;
  if (top.contains("theme")) theme = color_theme(w, top["theme"], "theme");
  // Plugins first: the types they provide may be named anywhere below.
  if (top.contains("plugins")) load_plugins(w, tree, top["plugins"], config);
  for (const auto& [key, value] : top.items()) {
    if (key == "filters") config.filters = plugin_list(w, value, key, plugin::Kind::filter);
    if (key == "analytics") config.analytics = plugin_list(w, value, key, plugin::Kind::analytics);
    if (key == "analytics_interval") {
      config.analytics_interval =
          w.duration<std::chrono::milliseconds>(value, key, limits::kAnalyticsInterval);
    }
    if (key == "plugin_failure_limit") {
      config.plugin_failure_limit = static_cast<int>(w.integer(value, key, 1, 1000000));
    }
    if (key == "name") config.name = w.string(value, key);
    if (key == "mode") {
      config.mode =
          w.choice(value, key, kModeNames, "a mode") == 0 ? LoggerMode::sync : LoggerMode::async;
    }
    if (key == "default_level") config.default_level = w.level(value, key);
    if (key == "default_layer") {
      config.default_layer = w.string(value, key);
      if (config.default_layer.empty()) w.fail(key, "must not be empty");
    }
    if (key == "async") config.async = async_options(w, value, key);
    if (key == "crash_handler") config.crash_handler = w.boolean(value, key);
    if (key == "redact") {
      config.protector = nullptr;
      if (w.boolean(value, key)) {
        try {
          config.protector = default_protector();
        } catch (const ConfigError& e) {
          w.fail(key, e.what());
        }
      }
    }
    if (key == "layers") {
      if (!value.is_object()) w.wrong_type(key, value, "a table of layers");
      for (const auto& [name, body] : value.items()) {
        const std::string at = child_path(key, name);
        if (is_reserved_layer_name(name)) {
          w.fail(at,
                 "names of the form __X__ are reserved (only __CENTRALIZED__ may be "
                 "configured)");
        }
        config.layers[name] = layer(w, body, at, theme);
      }
    }
    if (key == "extends" || key == "preset" || key == "log_dir") {
      w.fail(key, "must be resolved before conversion");  // the loader removes these
    }
  }
  if (!theme.is_default() && config.layers.empty()) {
    // Zero-config's console, made here so that the theme has a destination.
    apply_zero_config(config, detect_environment());
    for (auto& [name, l] : config.layers) {
      for (DestinationConfig& d : l.destinations) d.theme = theme;
    }
  }
  apply_detectors(w, tree, config, detectors);
  if (with_compliance) apply_compliance_table(tree, config);
  return config;
}

void apply_compliance_table(const Tree& tree, LoggerConfig& config) {
  if (!tree.value.is_object() || !tree.value.contains("compliance")) return;
  const Walker w(tree);
#if defined(HYDRA_CONFIG_WITH_PROTECT)
  FileCompliance c = compliance_table(w, tree.value["compliance"], "compliance");
  c.options.base.plugin_detectors = plugin_detectors(w, tree);  // the profiles keep them
  apply_file_compliance(w, c, "compliance", config);
#else
  (void)config;
  w.fail("compliance",
         "profiles need the protect module, and this hydra was built without it "
         "(HYDRA_WITH_PROTECT=OFF)");
#endif
}

Json to_json(const LoggerConfig& config) {
  Json top = Json::object();
  top["name"] = config.name;
  top["mode"] = config.mode == LoggerMode::sync ? "sync" : "async";
  top["default_level"] = to_lower_string(config.default_level);
  top["default_layer"] = config.default_layer;
  top["redact"] = config.protector != nullptr;
  // No `compliance`: LoggerConfig keeps no record of the profiles, only their
  // effects (the protector, protect flags, the AUDIT layer's chain), which
  // are dumped as themselves. resolve_config() lists the file's
  // compliance.profiles beside these keys for `hydra config explain`. Nothing
  // dumped here is loaded back but presets, which have no compliance.
  top["crash_handler"] = config.crash_handler;
  const AsyncOptions& a = config.async;
  top["async"] = {
      {"queue_capacity", a.queue_capacity},
      {"overflow", name_of(a.overflow, kOverflows, kOverflowNames)},
      {"grow_limit", a.grow_limit},
      {"grow_fallback", name_of(a.grow_fallback, kOverflows, kOverflowNames)},
      {"idle_wait", duration_text(a.idle_wait)},
      {"stall_timeout", duration_text(a.stall_timeout)},
      {"health_interval", duration_text(a.health_interval)},
      {"health_layer", a.health_layer},
  };
  Json layers = Json::object();
  for (const auto& [name, l] : config.layers) {
    Json layer = Json::object();
    if (l.level) layer["level"] = to_lower_string(*l.level);
    if (l.protect) layer["protect"] = *l.protect;
    Json list = Json::array();
    for (const DestinationConfig& d : l.destinations) {
      Json j = Json::object();
      j["type"] = d.sink ? "custom" : d.type;
      if (d.level) j["level"] = to_lower_string(*d.level);
      if (d.protect) j["protect"] = *d.protect;
      j["format"] = d.format;
      j["color_mode"] = name_of(d.color_mode, kColorModes, kColorNames);
      if (!d.theme.is_default()) j["theme"] = theme_json(d.theme);
      if (d.text.date_format) j["date_format"] = *d.text.date_format;
      if (d.text.time_format) j["time_format"] = *d.text.time_format;
      if (d.text.logger_name_format) j["logger_name_format"] = *d.text.logger_name_format;
      if (d.text.message_format) j["message_format"] = *d.text.message_format;
      j["csv_header"] = d.csv_header;
      j["app_name"] = d.app_name;
      j["syslog_facility"] = d.syslog_facility;
      if (d.type == "console") j["stream"] = d.stream;
      for (const auto& [key, value] : d.sink_options.values()) j[key] = value;
      if (!d.format_options.values().empty()) {
        Json fo = Json::object();
        for (const auto& [key, value] : d.format_options.values()) fo[key] = value;
        j["format_options"] = std::move(fo);
      }
      if (d.type == "audit") j["path"] = d.path;  // its key stays out of the output
      if (d.type == "file" || d.type == "rotating_file") {
        j["path"] = d.path;
        j["flush_level"] = to_lower_string(d.flush_level);
        j["flush_interval"] = duration_text(d.flush_interval);
        j["buffer_size"] = d.buffer_size;
      }
      if (d.type == "rotating_file") {
        j["max_size"] = d.max_size;
        j["rotation"] = rotation_text(d.rotation);
        j["rotation_time"] = time_of_day_text(d.rotation_time);
        j["backup_count"] = d.backup_count;
        j["backup_naming"] = name_of(d.backup_naming, kBackupNamings, kBackupNamingNames);
        j["compress"] = d.compress;
      }
      list.push_back(std::move(j));
    }
    layer["destinations"] = std::move(list);
    layers[name] = std::move(layer);
  }
  top["layers"] = std::move(layers);
  top["analytics_interval"] = duration_text(config.analytics_interval);
  top["plugin_failure_limit"] = config.plugin_failure_limit;
  const auto plugin_json = [](const std::vector<PluginConfig>& list) {
    Json out = Json::array();
    for (const PluginConfig& pc : list) {
      Json j = Json::object();
      j["type"] = pc.instance && pc.type.empty() ? "custom" : pc.type;
      for (const auto& [key, value] : pc.options.values()) j[key] = value;
      out.push_back(std::move(j));
    }
    return out;
  };
  top["filters"] = plugin_json(config.filters);
  top["analytics"] = plugin_json(config.analytics);
  Json plugins = Json::array();
  for (const LoadedPlugin& p : config.plugins) plugins.push_back(p.path);
  top["plugins"] = std::move(plugins);
  return top;
}

}  // namespace hydra::config_detail
