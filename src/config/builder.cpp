#include "hydra/config/builder.hpp"

#include <utility>

#include "hydra/core/error.hpp"
#include "hydra/core/logger.hpp"

namespace hydra {

LoggerBuilder::LoggerBuilder(std::string name) {
  config_.name = std::move(name);
}

LoggerBuilder& LoggerBuilder::sync() {
  config_.mode = LoggerMode::sync;
  return *this;
}

LoggerBuilder& LoggerBuilder::async(AsyncOptions options) {
  config_.mode = LoggerMode::async;
  config_.async = std::move(options);
  return *this;
}

LoggerBuilder& LoggerBuilder::default_level(Level level) {
  config_.default_level = level;
  return *this;
}

LoggerBuilder& LoggerBuilder::default_layer(std::string name) {
  config_.default_layer = std::move(name);
  return *this;
}

LoggerBuilder& LoggerBuilder::protector(std::shared_ptr<const Protector> protector) {
  config_.protector = std::move(protector);
  return *this;
}

LoggerBuilder& LoggerBuilder::crash_handler(bool on) {
  config_.crash_handler = on;
  return *this;
}

LoggerBuilder& LoggerBuilder::static_field(std::string key, std::string value) {
  config_.static_fields.emplace_back(std::move(key), std::move(value));
  return *this;
}

LoggerBuilder& LoggerBuilder::layer(std::string name, std::optional<Level> level) {
  LayerConfig& layer = config_.layers[name];
  if (level) layer.level = level;
  current_layer_ = std::move(name);
  has_destination_ = false;
  return *this;
}

LoggerBuilder& LoggerBuilder::console(std::string format, ColorMode color) {
  return destination(hydra::console(std::move(format), color));
}

LoggerBuilder& LoggerBuilder::file(std::string path, std::string format) {
  return destination(hydra::file(std::move(path), std::move(format)));
}

LoggerBuilder& LoggerBuilder::rotating_file(std::string path, std::uint64_t max_size,
                                            int backup_count, std::string format) {
  return destination(
      hydra::rotating_file(std::move(path), max_size, backup_count, std::move(format)));
}

LoggerBuilder& LoggerBuilder::sink(std::shared_ptr<Sink> sink, std::string format) {
  return destination(to_sink(std::move(sink), std::move(format)));
}

LoggerBuilder& LoggerBuilder::destination(DestinationConfig destination) {
  if (current_layer_.empty()) current_layer_ = config_.default_layer;
  config_.layers[current_layer_].destinations.push_back(std::move(destination));
  has_destination_ = true;
  return *this;
}

DestinationConfig& LoggerBuilder::last(const char* call) {
  if (!has_destination_) {
    throw ConfigError(std::string(call) +
                      ": no destination to apply it to (add one with console(), file(), "
                      "rotating_file(), sink() or destination() first)");
  }
  return config_.layers[current_layer_].destinations.back();
}

LoggerBuilder& LoggerBuilder::with_level(Level level) {
  last("with_level").level = level;
  return *this;
}

LoggerBuilder& LoggerBuilder::with_format(std::string format) {
  last("with_format").format = std::move(format);
  return *this;
}

LoggerBuilder& LoggerBuilder::with_color(ColorMode mode) {
  last("with_color").color_mode = mode;
  return *this;
}

LoggerBuilder& LoggerBuilder::with_protect(bool on) {
  last("with_protect").protect = on;
  return *this;
}

std::unique_ptr<Logger> LoggerBuilder::build() const {
  return std::make_unique<Logger>(config_);
}

}  // namespace hydra
