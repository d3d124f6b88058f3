#include "hydra/config/config.hpp"

#include <filesystem>
#include <utility>

#include "factory.hpp"
#include "hydra/config/detect.hpp"
#include "hydra/core/detail/ascii.hpp"

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

Destination build_destination(const DestinationConfig& config) {
  // Checked whether or not the destination colours, so that a mistake shows
  // wherever the program runs.
  Palette palette = Palette::from_theme(config.theme);
  Destination d;
  d.sink = make_sink(config);
  d.level = config.level.value_or(Level::trace);
  if (config.formatter) {  // the caller's own: the named formats' options do not apply
    d.formatter = config.formatter;
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
