// Hot reload: a thread that watches a configuration file with inotify and,
// each time the file is written — in place, or replaced by a rename as
// editors and configuration tools do, or through a Kubernetes ConfigMap's
// `..data` symlink swap — resolves the configuration again from the same
// sources and hands it to Logger::reconfigure(). A file that does not load (a
// syntax error, an unknown key, a bad value, an unopenable path, no settings
// at all: a file caught half written) or that changes a setting fixed at
// construction is reported, and the logger keeps the configuration it had.
//
//   hydra::ConfigSources sources;
//   sources.file = "hydra.toml";
//   hydra::Logger log(hydra::resolve_config(sources).config);
//   hydra::ConfigWatcher watcher(log, sources);  // until it is destroyed
//
// Part of the optional hydra::config component (link hydra::config).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "hydra/config/loader.hpp"
#include "hydra/core/logger.hpp"

namespace hydra {

// The outcome of one reload attempt.
struct ReloadResult {
  std::uint64_t attempt = 0;  // 1 for the first change seen, then 2, ...
  bool ok = false;
  std::string error;  // when !ok: the ConfigError's text (file, line, key, value)
};

class ConfigWatcher {
 public:
  // Watches `sources.file`, or the file HYDRA_LOG_CONFIG names in
  // `sources.env`. `on_reload` runs on the watcher's thread after each
  // attempt; without one, a failed attempt is reported on stderr. Throws
  // ConfigError when there is no file to watch or its directory cannot be
  // watched (naming the path and the errno text).
  ConfigWatcher(Logger& logger, ConfigSources sources,
                std::function<void(const ReloadResult&)> on_reload = {});
  // Stops watching (joins the thread). The logger keeps its configuration.
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  const std::filesystem::path& path() const noexcept;
  // Reload attempts finished so far.
  std::uint64_t attempts() const;
  // Waits until at least `attempt` attempts have finished, or `timeout`
  // passes; returns the latest result then (nullopt: none yet).
  std::optional<ReloadResult> wait_for_attempt(std::uint64_t attempt,
                                               std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydra
