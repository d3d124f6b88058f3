// The configuration model, as code sees it: a logger has layers, a layer has a
// level and destinations, a destination has a type, a level, a format and a
// colour mode, plus the options of its type. Configuration files and presets
// produce the same structures.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hydra/async/async_options.hpp"
#include "hydra/core/level.hpp"
#include "hydra/format/color.hpp"
#include "hydra/format/formatter.hpp"
#include "hydra/plugin/options.hpp"

namespace hydra {

class Protector;
class Sink;
struct Environment;  // hydra/config/detect.hpp
namespace plugin {
class Plugin;
}  // namespace plugin

// How often a rotating file starts a new file by time: at every `period` of
// local wall-clock time, counted from midnight (see rotation_time), or never
// (none). `period` divides a day: 1 to 1440 minutes, 1440 % minutes == 0 (5m,
// 15m, 1h, 6h, 24h...); anything else is a ConfigError when the sink is made.
struct RotationInterval {
  std::chrono::minutes period{0};  // 0: no time rotation

  static const RotationInterval none;
  static const RotationInterval hourly;
  static const RotationInterval daily;
  // every(std::chrono::minutes(15)), every(std::chrono::hours(6)).
  static constexpr RotationInterval every(std::chrono::minutes period) { return {period}; }

  constexpr bool divides_a_day() const {
    return period.count() > 0 && period.count() <= 1440 && 1440 % period.count() == 0;
  }
  friend constexpr bool operator==(RotationInterval, RotationInterval) = default;
};
inline constexpr RotationInterval RotationInterval::none{};
inline constexpr RotationInterval RotationInterval::hourly{std::chrono::hours(1)};
inline constexpr RotationInterval RotationInterval::daily{std::chrono::hours(24)};

// How rotated files are named: path.1 (newest) ... path.N, renamed at every
// rotation; or path.<date> (path.2026-12-06, path.2026-12-06_14-30 when the
// rotation interval is under a day), never renamed once written.
enum class BackupNaming { index, date };

// The most backups a rotating file keeps (backup_count). With index naming a
// rotation renames every backup present, so this also bounds the cost of one
// rotation; it is more than ten years of hourly files.
inline constexpr int kMaxBackupCount = 100000;

struct DestinationConfig {
  // console | file | rotating_file | null, or a sink type of the plugin
  // registry (hydra/plugin/registry.hpp). Ignored when `sink` is set.
  std::string type = "console";
  // The options of a registry sink type (checked against its declaration).
  plugin::Options sink_options;
  // Records below this level are not written here. Unset: all the layer passes.
  std::optional<Level> level;
  // text | json | logfmt | csv | syslog | gelf | logstash | gcp_json, or
  // "auto": chosen when the destination is built (auto_format_for); or a
  // formatter type of the plugin registry, with its options in
  // format_options.
  std::string format = "text";
  plugin::Options format_options;
  ColorMode color_mode = ColorMode::automatic;
  // The colours when the destination colours: a built-in theme and colours
  // laid over it; HYDRA_LOG_COLOR_<LEVEL> still applies on top.
  ColorTheme theme;

  // console: "stdout" or "stderr".
  std::string stream = "stdout";

  // file and rotating_file.
  std::string path;
  // Write buffered bytes to the file for records at or above this level...
  Level flush_level = Level::error;
  // ...and at least this often (0: only on flush_level, explicit flush and exit).
  std::chrono::milliseconds flush_interval{1000};
  std::size_t buffer_size = std::size_t{64} * 1024;

  // rotating_file: rotate when the file would exceed max_size bytes (0: never
  // by size) and/or at each interval boundary; keep backup_count old files
  // (0 to kMaxBackupCount).
  std::uint64_t max_size = 0;
  RotationInterval rotation = RotationInterval::none;
  // The local time of day a time boundary falls on (0 to 23:59; needs a
  // rotation interval): daily at 02:30, or hourly at half past.
  std::chrono::minutes rotation_time{0};
  int backup_count = 5;
  BackupNaming backup_naming = BackupNaming::index;
  bool compress = false;  // zstd-compress rotated files (name.1.zst)

  // Format options (see FormatterOptions).
  TextFormatOptions text;
  bool csv_header = false;
  std::string app_name;
  int syslog_facility = 1;

  // A formatter object of your own, used instead of `format` and of the
  // options that shape the named formats (text, csv_header, app_name,
  // syslog_facility, color_mode, theme). It may be shared by several
  // destinations and loggers; the logger keeps it alive while it uses it.
  // format() is called from several threads at once: see the contract in
  // hydra/format/formatter.hpp.
  std::shared_ptr<const Formatter> formatter;

  // A sink object supplied by the caller (memory sink, custom sink).
  std::shared_ptr<Sink> sink;
  // A sink made when the logger is built (types from optional modules, such
  // as the audit chain, which opens and locks its file). A logger that is
  // reconfigured keeps the sink it made for an equal destination (same type
  // and path) instead of making a second one.
  std::function<std::shared_ptr<Sink>()> make_sink;

  // Whether this destination gets records through the logger's protector
  // (redaction). Unset: as its layer says. Records at the security, audit and
  // compliance levels are protected regardless.
  std::optional<bool> protect;
};

struct LayerConfig {
  LayerConfig() = default;
  // cfg.layers["APP"] = {Level::debug, {console(), file("app.jsonl", "json")}};
  LayerConfig(std::optional<Level> level_, std::vector<DestinationConfig> destinations_,
              std::optional<bool> protect_ = {})
      : level(level_), destinations(std::move(destinations_)), protect(protect_) {}

  // Unset: the logger's default_level.
  std::optional<Level> level;
  std::vector<DestinationConfig> destinations;
  // Whether this layer's destinations get protected records by default.
  // Unset: yes (when the logger has a protector).
  std::optional<bool> protect;
};

// Reserved layer names: a record goes to its own layer, else to DEFAULT, else
// to __CENTRALIZED__; other __X__ names are reserved for Hydra.
inline constexpr std::string_view kDefaultLayer = "DEFAULT";
inline constexpr std::string_view kCentralizedLayer = "__CENTRALIZED__";

// Whether a configuration may not name this layer: names of the form __X__
// are Hydra's, and __CENTRALIZED__ is the only one a configuration may use.
constexpr bool is_reserved_layer_name(std::string_view name) {
  return name.size() >= 4 && name.starts_with("__") && name.ends_with("__") &&
         name != kCentralizedLayer;
}

// A filter or analytics instance: a registered type with its options, or
// an object made by code (`instance`, a plugin::Filter or plugin::Analytics
// as the list says), which is used as it is.
struct PluginConfig {
  std::string type{};
  plugin::Options options{};
  std::shared_ptr<plugin::Plugin> instance{};
};

// A plugin file the configuration loaded (`plugins = [...]`): the logger
// writes an audit record of each when it is built.
struct LoadedPlugin {
  std::string name;
  std::string version;
  std::string sha256;
  std::string path;
};

// Where the pipeline runs: on the calling thread (sync) or on a backend
// thread fed by per-thread queues (async). Both run the same stages.
enum class LoggerMode { sync, async };

struct LoggerConfig {
  std::string name = "hydra";
  LoggerMode mode = LoggerMode::sync;
  AsyncOptions async;  // used in async mode
  Level default_level = Level::info;
  // The layer of calls that name none.
  std::string default_layer = "APP";
  // Empty: zero-config (DEFAULT -> text on stdout, colour auto).
  std::map<std::string, LayerConfig, std::less<>> layers;
  // Install hydra::install_crash_handler() when the logger is built: queued
  // records are written if the process dies by a signal or std::terminate.
  // On in the production-style (async) presets.
  bool crash_handler = false;
  // The protect stage (see hydra/core/protector.hpp): runs on every record
  // before any sink sees it, in both modes. Null: no protection.
  std::shared_ptr<const Protector> protector;
  // Fields added to every record of this logger, before the record's own
  // (service.name, host.name, ...: see hydra/config/detect.hpp). Values are
  // strings.
  std::vector<std::pair<std::string, std::string>> static_fields;

  // Plugins (docs/plugins.md). Filters run in this order on every record,
  // before routing; analytics see every record after the protect stage and
  // are ticked every analytics_interval.
  std::vector<PluginConfig> filters;
  std::vector<PluginConfig> analytics;
  std::chrono::milliseconds analytics_interval{10000};
  // A plugin instance that fails (throws, or returns an error through the C
  // ABI) this many times in a row is disabled, with a notice in-band and on
  // stderr: a disabled filter lets records through unchanged, a disabled
  // analytics sees no more, a disabled sink counts what it is given as
  // dropped.
  int plugin_failure_limit = 5;
  std::vector<LoadedPlugin> plugins;
};

// Helpers that read well at the call site:
//   cfg.layers["APP"] = {Level::debug, {console(), file("app.jsonl", "json")}};
DestinationConfig console(std::string format = "text", ColorMode color = ColorMode::automatic);
DestinationConfig file(std::string path, std::string format = "text");
DestinationConfig rotating_file(std::string path, std::uint64_t max_size, int backup_count,
                                std::string format = "text");
DestinationConfig to_sink(std::shared_ptr<Sink> sink, std::string format = "text");

// The format a destination whose format is "auto" gets, from its type, its
// sink and where the process runs:
//   file, rotating_file: by the path's extension: .json, .jsonl, .ndjson ->
//     json; .logfmt -> logfmt; .csv -> csv; anything else -> text;
//   a terminal: text;
//   console, not a terminal, in a container, Kubernetes or a cloud runtime
//     and not in CI: json_format_for(environment) (gcp_json on Google Cloud);
//   anything else: text.
std::string_view auto_format_for(const DestinationConfig& destination, bool is_terminal,
                                 const Environment& environment);

}  // namespace hydra
