#include "hydra/config/config.hpp"

#include <array>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "factory.hpp"
#include "hydra/async/detail/spsc_queue.hpp"
#include "hydra/config/detect.hpp"
#include "hydra/config/limits.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/plugin/registry.hpp"

namespace hydra {
namespace {

using detail::iequals;

}  // namespace

DestinationConfig console(std::string format, ColorMode color) {
  DestinationConfig d;
  d.type = "console";
  d.format = std::move(format);
  d.color_mode = color;
  return d;
}

DestinationConfig file(std::string path, std::string format) {
  DestinationConfig d;
  d.type = "file";
  d.path = std::move(path);
  d.format = std::move(format);
  return d;
}

DestinationConfig rotating_file(std::string path, std::uint64_t max_size, int backup_count,
                                std::string format) {
  DestinationConfig d;
  d.type = "rotating_file";
  d.path = std::move(path);
  d.max_size = max_size;
  d.backup_count = backup_count;
  d.format = std::move(format);
  return d;
}

DestinationConfig to_sink(std::shared_ptr<Sink> sink, std::string format) {
  DestinationConfig d;
  d.type = "custom";
  d.sink = std::move(sink);
  d.format = std::move(format);
  return d;
}

std::string_view auto_format_for(const DestinationConfig& destination, bool is_terminal,
                                 const Environment& environment) {
  if (destination.type == "file" || destination.type == "rotating_file") {
    const std::string extension = std::filesystem::path(destination.path).extension().string();
    if (iequals(extension, ".json") || iequals(extension, ".jsonl") ||
        iequals(extension, ".ndjson")) {
      return "json";
    }
    if (iequals(extension, ".logfmt")) return "logfmt";
    if (iequals(extension, ".csv")) return "csv";
    return "text";
  }
  if (is_terminal) return "text";
  // Nobody reads this stream as it goes: a log agent (or the container
  // runtime) collects it. CI output is read by people, container or not.
  const bool collected = environment.container || environment.stdout_is_collected();
  if (destination.type == "console" && collected && !environment.ci) {
    return json_format_for(environment);
  }
  return "text";
}

namespace detail {

static_assert(limits::kQueueCapacity.max == SpscQueue::kMaxCapacity,
              "async.queue_capacity's bound is the largest queue");

std::string size_text(std::uint64_t bytes) {
  constexpr std::array<std::pair<std::uint64_t, const char*>, 3> kUnits = {
      {{limits::kGiB, "GB"}, {limits::kMiB, "MB"}, {limits::kKiB, "KB"}}};
  for (const auto& [unit, name] : kUnits) {
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + name;
  }
  return std::to_string(bytes) + "B";
}

std::string duration_text(std::chrono::microseconds duration) {
  using namespace std::chrono;
  const auto n = duration.count();
  if (n != 0 && n % duration_cast<microseconds>(hours{1}).count() == 0) {
    return std::to_string(duration_cast<hours>(duration).count()) + "h";
  }
  if (n != 0 && n % duration_cast<microseconds>(seconds{1}).count() == 0) {
    return std::to_string(duration_cast<seconds>(duration).count()) + "s";
  }
  if (n != 0 && n % duration_cast<microseconds>(milliseconds{1}).count() == 0) {
    return std::to_string(duration_cast<milliseconds>(duration).count()) + "ms";
  }
  return std::to_string(n) + "us";
}

std::string range_text(const SizeLimit& limit) {
  return size_text(limit.min) + " to " + size_text(limit.max);
}

std::string range_text(const DurationLimit& limit) {
  return duration_text(limit.min) + " to " + duration_text(limit.max);
}

namespace {

void check_size(std::string_view key, std::uint64_t bytes, const SizeLimit& limit) {
  if (bytes < limit.min || bytes > limit.max) {
    throw ConfigError(std::string(key) + ": " + std::to_string(bytes) +
                      " bytes is out of range (valid: " + range_text(limit) + ")");
  }
}

template <typename Rep, typename Period>
void check_duration(std::string_view key, std::chrono::duration<Rep, Period> duration,
                    const DurationLimit& limit) {
  // Compared in the setting's own unit: converting a huge value to
  // microseconds could overflow.
  using Unit = std::chrono::duration<Rep, Period>;
  const auto min = std::chrono::ceil<Unit>(limit.min);
  const auto max = std::chrono::floor<Unit>(limit.max);
  if (duration < min || duration > max) {
    throw ConfigError(std::string(key) + ": " + std::to_string(duration.count()) +
                      (std::is_same_v<Period, std::micro> ? "us" : "ms") +
                      " is out of range (valid: " + range_text(limit) + ")");
  }
}

}  // namespace

void check_limits(const AsyncOptions& options) {
  check_size("async.queue_capacity", options.queue_capacity, limits::kQueueCapacity);
  check_size("async.grow_limit", options.grow_limit, limits::kGrowLimit);
  check_duration("async.idle_wait", options.idle_wait, limits::kIdleWait);
  check_duration("async.stall_timeout", options.stall_timeout, limits::kStallTimeout);
  check_duration("async.health_interval", options.health_interval, limits::kHealthInterval);
}

void check_plugin_limits(const LoggerConfig& config) {
  if (config.plugin_failure_limit < 1 || config.plugin_failure_limit > 1000000) {
    throw ConfigError(fmt::format("plugin_failure_limit: {} is out of range (valid: 1 to 1000000)",
                                  config.plugin_failure_limit));
  }
  check_duration("analytics_interval", config.analytics_interval, limits::kAnalyticsInterval);
}

void check_limits(const DestinationConfig& destination) {
  // By type, not by sink: a reload that keeps a file's sink may still change
  // its flush_interval.
  if (destination.type != "file" && destination.type != "rotating_file") return;
  check_size("buffer_size", destination.buffer_size, limits::kBufferSize);
  check_duration("flush_interval", destination.flush_interval, limits::kFlushInterval);
  if (destination.type == "rotating_file") {
    check_size("max_size", destination.max_size, limits::kRotationSize);
  }
}

Destination build_destination(const DestinationConfig& config) {
  check_limits(config);
  // Checked whether or not the destination colours, so that a mistake shows
  // wherever the program runs.
  Palette palette = Palette::from_theme(config.theme);
  Destination d;
  d.sink = make_sink(config);
  d.level = config.level.value_or(Level::trace);
  d.formatted = d.sink->wants_bytes();
  if (config.formatter) {  // the caller's own: the named formats' options do not apply
    d.formatter = config.formatter;
    return d;
  }
  if (!iequals(config.format, "auto") && !is_format_name(config.format)) {
    // A formatter type of the plugin registry (an unknown name is an error
    // that lists the registered ones with the built-in formats).
    if (!plugin::Registry::global().has(plugin::Kind::formatter, config.format)) {
      throw ConfigError(
          fmt::format("format: '{}' is not a format (valid: {}, auto, or a "
                      "registered formatter type: {})",
                      to_printable(config.format), kFormatChoices,
                      plugin::Registry::global().names(plugin::Kind::formatter)));
    }
    d.formatter = plugin::Registry::global().make_formatter(config.format, config.format_options);
    return d;
  }
  const bool terminal = d.sink->is_terminal();
  std::string_view format = config.format;
  if (iequals(format, "auto")) format = auto_format_for(config, terminal, detect_environment());
  FormatterOptions options;
  // FORCE_COLOR and friends colour text anywhere, but a structured format off
  // a terminal only when the destination asks for `always`: escapes in a JSON
  // file or a collected stream would reach its parsers.
  options.color = should_color(config.color_mode, terminal) &&
                  (terminal || config.color_mode == ColorMode::always || iequals(format, "text"));
  if (options.color) options.palette = Palette::from_environment(std::move(palette));
  options.text = config.text;
  options.csv_header = config.csv_header;
  options.app_name = config.app_name;
  options.syslog_facility = config.syslog_facility;
  d.formatter = make_formatter(format, options);
  return d;
}

}  // namespace detail
}  // namespace hydra
