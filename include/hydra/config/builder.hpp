// A fluent way to write a LoggerConfig in code, reading top-down like the
// configuration file it mirrors:
//
//   auto log = hydra::LoggerBuilder("shop")
//                  .async()
//                  .default_level(hydra::Level::info)
//                  .layer("APP", hydra::Level::debug)
//                      .console()
//                      .file("logs/app.jsonl", "json").with_level(hydra::Level::warning)
//                  .layer("SECURITY")
//                      .rotating_file("logs/security.log", 50 << 20, 10)
//                  .build();  // std::unique_ptr<hydra::Logger>
//
// layer() selects a layer (creating it); the destination calls add to the
// selected layer; the with_*() calls change the destination added last.
// config() gives the LoggerConfig instead, to adjust or to reconfigure() with.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "hydra/config/config.hpp"

namespace hydra {

class Logger;

class LoggerBuilder {
 public:
  explicit LoggerBuilder(std::string name = "hydra");

  LoggerBuilder& sync();
  LoggerBuilder& async(AsyncOptions options = {});
  LoggerBuilder& default_level(Level level);
  LoggerBuilder& default_layer(std::string name);
  LoggerBuilder& protector(std::shared_ptr<const Protector> protector);
  LoggerBuilder& crash_handler(bool on = true);
  LoggerBuilder& static_field(std::string key, std::string value);

  // Selects the layer `name` (created on first use), setting its level when
  // given. Destinations added next belong to it.
  LoggerBuilder& layer(std::string name, std::optional<Level> level = {});

  // Destinations of the selected layer (the default layer if none is).
  LoggerBuilder& console(std::string format = "text", ColorMode color = ColorMode::automatic);
  LoggerBuilder& file(std::string path, std::string format = "text");
  LoggerBuilder& rotating_file(std::string path, std::uint64_t max_size, int backup_count,
                               std::string format = "text");
  LoggerBuilder& sink(std::shared_ptr<Sink> sink, std::string format = "text");
  LoggerBuilder& destination(DestinationConfig destination);

  // The destination added last. ConfigError when there is none yet.
  LoggerBuilder& with_level(Level level);
  LoggerBuilder& with_format(std::string format);
  LoggerBuilder& with_color(ColorMode mode);
  LoggerBuilder& with_protect(bool on);

  // The configuration built so far.
  const LoggerConfig& config() const& noexcept { return config_; }
  LoggerConfig config() && { return std::move(config_); }
  // A logger with it. Throws ConfigError as Logger's constructor does.
  std::unique_ptr<Logger> build() const;

 private:
  DestinationConfig& last(const char* call);

  LoggerConfig config_;
  std::string current_layer_;  // empty: none selected yet
  bool has_destination_ = false;
};

}  // namespace hydra
