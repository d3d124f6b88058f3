// Magic presets: named, complete configurations ("production", "testing", ...)
// that a program, a configuration file (`preset = "production"`) or the
// environment (HYDRA_LOG_PRESET) can ask for by name, and that programs can
// add to. docs/configuration.md lists each built-in preset's layers and
// destinations. Part of the optional hydra::config component.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/config/config.hpp"
#include "hydra/config/detect.hpp"

namespace hydra {

struct MagicOptions {
  // The directory the preset's file destinations write to.
  std::string log_dir = "logs";
  // The environment the `auto` preset adapts to. Unset: detect_environment().
  std::optional<Environment> environment;
};

using MagicFactory = std::function<LoggerConfig(const MagicOptions& options)>;

struct MagicInfo {
  std::string name;
  std::string description;
};

// Adds a preset, or replaces the one of that name (built-ins included).
// Throws ConfigError for an empty name or an empty factory. Thread-safe.
void register_magic(std::string name, std::string description, MagicFactory factory);

bool has_magic(std::string_view name);

// Every preset, sorted by name.
std::vector<MagicInfo> list_magic();

// The preset's configuration. Throws ConfigError naming `name` and the valid
// preset names when there is no such preset.
LoggerConfig magic(std::string_view name, const MagicOptions& options = {});

// What decided the built-in `auto` preset's configuration in `environment`,
// such as "terminal (stdout is a TTY)", "ci github_actions (GITHUB_ACTIONS)"
// or "gcp_cloud_run (K_SERVICE)". `hydra config explain` shows the settings
// of `auto` as coming from "detection REASON".
std::string auto_reason(const Environment& environment);

}  // namespace hydra
