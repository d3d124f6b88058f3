#include "hydra/config/environment.hpp"

#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hydra/config/detect.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "tree.hpp"

namespace hydra {

Env process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Env env_from_map(std::map<std::string, std::string, std::less<>> variables) {
  return [vars = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

void apply_environment(LoggerConfig& config, const Env& env) {
  if (!env) return;
  // Parse everything first, so that a bad value leaves `config` unchanged.
  // The same parsers as zero-config's (apply_zero_config_environment), strict.
  std::optional<Level> overall;
  std::vector<std::pair<std::string, Level>> per_layer;
  if (const auto value = env("HYDRA_LOG_LEVEL"); value && !value->empty()) {
    try {
      LevelSpec spec = parse_level_spec(*value);
      overall = spec.overall;
      per_layer = std::move(spec.layers);
    } catch (const ConfigError& e) {
      throw ConfigError("HYDRA_LOG_LEVEL='" + *value + "': " + e.what());
    }
  }
  std::optional<std::string> format;
  if (const auto value = env("HYDRA_LOG_FORMAT"); value && !value->empty()) {
    if (!is_format_name(*value)) {
      throw ConfigError("HYDRA_LOG_FORMAT='" + *value +
                        "' is not a format (valid: " + std::string(kFormatChoices) + ")");
    }
    format = *value;
  }
  std::optional<std::string> theme;
  if (const auto value = env("HYDRA_LOG_THEME"); value && !value->empty()) {
    try {
      static_cast<void>(Palette::theme(*value));
    } catch (const ConfigError&) {
      throw ConfigError("HYDRA_LOG_THEME='" + *value +
                        "' is not a theme (valid: " + std::string(kThemeChoices) + ")");
    }
    theme = *value;
  }

  std::optional<bool> redact;
  if (const auto value = env("HYDRA_LOG_REDACT_SENSITIVE"); value && !value->empty()) {
    std::string v = *value;
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "1" || v == "true" || v == "yes" || v == "on") {
      redact = true;
    } else if (v == "0" || v == "false" || v == "no" || v == "off") {
      redact = false;
    } else {
      throw ConfigError("HYDRA_LOG_REDACT_SENSITIVE='" + *value +
                        "' is not a switch (valid: 1, true, yes, on, 0, false, no, off)");
    }
  }
  std::shared_ptr<const Protector> protector;
  if (redact.value_or(false)) {
    try {
      protector = config_detail::default_protector();
    } catch (const ConfigError& e) {
      throw ConfigError(std::string("HYDRA_LOG_REDACT_SENSITIVE: ") + e.what());
    }
  }

  // On keeps a protect stage the configuration has already (a file's
  // detectors, its compliance profiles, code's own): the variable asks for
  // redaction, not for other detectors. Off removes it.
  if (redact && (!*redact || config.protector == nullptr)) config.protector = protector;
  if (overall) {
    config.default_level = *overall;
    for (auto& [name, layer] : config.layers) {
      if (layer.level) layer.level = *overall;
    }
  }
  if ((!per_layer.empty() || format || theme) && config.layers.empty()) {
    // Keep zero-config's console: a layer entry alone would replace it.
    DetectionInput detection;
    detection.env = env;
    apply_zero_config(config, detect_environment(detection));
  }
  for (const auto& [name, level] : per_layer) config.layers[name].level = level;
  if (format) {
    for (auto& [name, layer] : config.layers) {
      for (auto& d : layer.destinations) d.format = *format;
    }
  }
  if (theme) {  // replaces a file's theme, colours laid over it included
    for (auto& [name, layer] : config.layers) {
      for (auto& d : layer.destinations) {
        d.theme = ColorTheme();
        d.theme.name = *theme;
      }
    }
  }
}

namespace config_detail {

void compliance_from_environment(Tree& tree, const Env& env) {
  if (!env || !tree.value.is_object()) return;
  const auto value = env("HYDRA_LOG_COMPLIANCE");
  if (!value || value->empty()) return;
  Json profiles = Json::array();
  std::string_view rest = *value;
  while (true) {
    const auto comma = rest.find(',');
    std::string item(detail::trim_blanks(rest.substr(0, comma)));
    if (!item.empty()) profiles.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  // The names are checked by the walk, which names this variable as where
  // they were written.
  const Origin origin{"environment HYDRA_LOG_COMPLIANCE", 0};
  if (!tree.value.contains("compliance")) {
    tree.value["compliance"] = Json::object();
    tree.origins["compliance"] = origin;
  }
  Json& table = tree.value["compliance"];
  if (!table.is_object()) return;  // the file's mistake, which the walk reports
  table["profiles"] = profiles;
  std::erase_if(tree.origins,
                [](const auto& entry) { return entry.first.starts_with("compliance.profiles"); });
  tree.origins["compliance.profiles"] = origin;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    tree.origins[index_path("compliance.profiles", i)] = origin;
  }
}

}  // namespace config_detail

}  // namespace hydra
