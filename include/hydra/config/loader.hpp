// Configuration files: TOML, YAML and JSON, chosen by extension, all read by
// one strict validator, so the three formats accept the same keys and report
// the same errors. Also the one function that decides which source wins:
// code > environment > file > preset > defaults (docs/configuration.md).
// Part of the optional hydra::config component (link hydra::config).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "hydra/config/config.hpp"
#include "hydra/config/environment.hpp"
#include "hydra/config/presets.hpp"

namespace hydra {

enum class ConfigFormat { toml, yaml, json };

// The format of a path by its extension: .toml, .yaml/.yml, .json (any case).
// Throws ConfigError naming the path and the valid extensions otherwise.
ConfigFormat config_format_of(const std::filesystem::path& path);

// Reads a configuration file. `extends = "base.toml"` (relative to the file)
// loads the parent first and lays this file over it (tables merge key by key,
// lists are replaced); `preset = "name"` starts from a magic preset (written
// to `log_dir`, default "logs"); `${VAR}` and `${VAR:-default}` in strings
// read `env` (defaults nest: `${A:-${B:-x}}`). Files of the Python
// Hydra-Logger load too (its format names, its rotating `file`). Any mistake —
// a parse error, an unknown key, a key written twice, a wrong type, a bad
// value, a value past its bound (hydra/config/limits.hpp), an extends cycle,
// an unset variable, a file with no settings — throws ConfigError naming the
// file, the line, the key path (such as
// `layers.APP.destinations[1].max_size`), the value and what is valid. A
// document past 1MB, 100000 values (YAML aliases counted at each use) or 64
// levels of nesting is refused before it costs more (docs/configuration.md,
// "Bounds").
LoggerConfig load_config(const std::filesystem::path& path, const Env& env = process_env());

// The same, from text; `source_name` stands for the file in messages and
// relative `extends` paths are taken from the current directory.
LoggerConfig parse_config(std::string_view text, ConfigFormat format,
                          std::string_view source_name = "<string>",
                          const Env& env = process_env());

// The configuration as JSON with every setting spelt out (the keys a file
// uses). A destination with a caller-supplied sink shows type "custom".
std::string config_to_json(const LoggerConfig& config);

// Where an effective configuration comes from, for resolve_config().
struct ConfigSources {
  // A preset to start from; unset: HYDRA_LOG_PRESET, else the file's `preset`.
  std::optional<std::string> preset;
  // A file to load; unset: HYDRA_LOG_CONFIG, else none.
  std::optional<std::filesystem::path> file;
  // The preset's log directory; unset: HYDRA_LOG_DIR, else the file's
  // `log_dir`, else "logs".
  std::optional<std::string> log_dir;
  // The program's own settings, applied last so that they win.
  std::function<void(LoggerConfig&)> code;
  Env env = process_env();
};

struct ResolvedConfig {
  LoggerConfig config;
  // For each setting (key path as in config_to_json, e.g. "layers.APP.level",
  // plus what config_to_json has no place for: "compliance.profiles", and
  // each [[detectors]] entry of the file as "detectors[N].type", ".token",
  // ".action" and one key per option of its type, or "detectors" = [] when
  // the effective protector holds none): "default", "preset NAME",
  // "FILE:LINE" (or "FILE"), "environment VAR" or "code" — the last source
  // that set it. A detector's token (what its instance writes) is credited to
  // its type's line.
  std::map<std::string, std::string> origins;
  // The same keys, each with its value as JSON text ("\"info\"", "5242880").
  std::map<std::string, std::string> values;
};

// The effective configuration, built in this order, each step overriding the
// one before: defaults (LoggerConfig{}), preset, file, environment
// (apply_environment), code. Throws ConfigError for a bad source.
ResolvedConfig resolve_config(const ConfigSources& sources = {});

}  // namespace hydra
