// The HYDRA_LOG_* environment variables as configuration: an operator changes
// levels and formats without touching code or files. The environment is an
// injectable lookup so that tests (and embedders) need not call setenv.
// Part of the optional hydra::config component.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "hydra/config/config.hpp"

namespace hydra {

// Looks up one environment variable: its value, or nullopt when unset.
using Env = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
Env process_env();
// A fixed environment, for tests and tools.
Env env_from_map(std::map<std::string, std::string, std::less<>> variables);

// Applies the override variables to `config`:
//   HYDRA_LOG_LEVEL   "info" sets default_level and the level of every layer;
//                     "info,DATABASE=debug" also sets DATABASE's level (a layer
//                     that does not exist yet is added with that level and no
//                     destinations, so its records take the fallback route);
//                     "DATABASE=debug" alone changes that layer only.
//   HYDRA_LOG_FORMAT  the format of every destination (text, json, ...).
// Unset or empty variables change nothing. A bad value throws ConfigError
// naming the variable, the value and the valid choices; `config` is then
// unchanged. HYDRA_LOG_CONFIG and HYDRA_LOG_PRESET choose sources rather than
// override values, and HYDRA_LOG_COMPLIANCE replaces the file's compliance
// profiles (whose keys only a file gives): resolve_config() (loader.hpp)
// reads those three.
void apply_environment(LoggerConfig& config, const Env& env = process_env());

}  // namespace hydra
