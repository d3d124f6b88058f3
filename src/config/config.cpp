#include "hydra/config/config.hpp"

#include <utility>

#include "factory.hpp"

namespace hydra {

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

namespace detail {

Destination build_destination(const DestinationConfig& config) {
  Destination d;
  d.sink = make_sink(config);
  FormatterOptions options;
  options.color = should_color(config.color_mode, d.sink->is_terminal());
  if (options.color) options.palette = Palette::from_environment();
  options.text = config.text;
  options.csv_header = config.csv_header;
  options.app_name = config.app_name;
  options.syslog_facility = config.syslog_facility;
  d.formatter = make_formatter(config.format, options);
  d.level = config.level.value_or(Level::trace);
  return d;
}

}  // namespace detail
}  // namespace hydra
