// Loading: files (with extends, presets and ${VAR}), and resolve_config(),
// the single place where the precedence of sources is decided.
#include "hydra/config/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "hydra/config/detect.hpp"
#include "hydra/config/limits.hpp"
#include "hydra/core/error.hpp"
#include "tree.hpp"

namespace hydra {

using config_detail::Json;
using config_detail::Origin;
using config_detail::Tree;

namespace {

// How many files an `extends` chain may hold, the child included.
constexpr std::size_t kMaxExtendsChain = 32;

std::string too_large(const std::string& source) {
  return source + ": larger than " + detail::size_text(config_detail::kMaxDocumentBytes) +
         ", the most a configuration file may hold";
}

Tree parse(std::string_view text, ConfigFormat format, const std::string& source) {
  if (text.size() > config_detail::kMaxDocumentBytes) throw ConfigError(too_large(source));
  switch (format) {
    case ConfigFormat::toml: return config_detail::parse_toml(text, source);
    case ConfigFormat::yaml: return config_detail::parse_yaml(text, source);
    case ConfigFormat::json: return config_detail::parse_json(text, source);
  }
  throw ConfigError(source + ": unknown configuration format");
}

// The file's text; one byte more than a document may hold is enough to
// refuse it, whatever it is (a huge file, /dev/zero, a pipe).
std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(path.string() + ": cannot read: " + std::generic_category().message(errno));
  }
  std::string text(config_detail::kMaxDocumentBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    throw ConfigError(path.string() + ": cannot read: " + std::generic_category().message(errno));
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > config_detail::kMaxDocumentBytes) throw ConfigError(too_large(path.string()));
  return text;
}

// Takes a string-valued key out of the top level (nullopt when absent).
std::optional<std::string> take_string(Tree& tree, const std::string& key) {
  if (!tree.value.contains(key)) return std::nullopt;
  const Json& v = tree.value[key];
  if (!v.is_string()) {
    config_detail::fail(tree, key, "expected a string, got " + config_detail::describe(v));
  }
  std::string s = v.get<std::string>();
  if (s.find('\0') != std::string::npos) {
    config_detail::fail(tree, key, "must not contain a NUL byte");  // a path, or names one
  }
  tree.value.erase(key);
  return s;
}

struct Loading {
  const Env& env;
  // Canonical paths of the files being loaded, outermost first (for cycles),
  // and their names as written (for the message).
  std::vector<std::filesystem::path> chain;
  std::vector<std::string> names;
};

Tree load_tree(std::string_view text, ConfigFormat format, const std::string& source,
               const std::filesystem::path& base_dir, Loading& loading);

Tree load_file_tree(const std::filesystem::path& path, Loading& loading) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) canonical = path;
  if (std::find(loading.chain.begin(), loading.chain.end(), canonical) != loading.chain.end()) {
    std::string cycle;
    for (const auto& n : loading.names) cycle += n + " -> ";
    throw ConfigError("extends cycle: " + cycle + path.string());
  }
  if (loading.chain.size() >= kMaxExtendsChain) {
    throw ConfigError(path.string() + ": more than " + std::to_string(kMaxExtendsChain) +
                      " files in one extends chain");
  }
  const ConfigFormat format = config_format_of(path);
  const std::string text = read_text(path);
  loading.chain.push_back(canonical);
  loading.names.push_back(path.string());
  Tree tree = load_tree(text, format, path.string(), path.parent_path(), loading);
  loading.chain.pop_back();
  loading.names.pop_back();
  return tree;
}

// One document with its `extends` resolved (and interpolated); `preset` and
// `log_dir` are left for the caller.
Tree load_tree(std::string_view text, ConfigFormat format, const std::string& source,
               const std::filesystem::path& base_dir, Loading& loading) {
  Tree tree = parse(text, format, source);
  if (tree.value.empty()) {
    // Most often a file caught while it is being written (truncated, then
    // filled): loading it would move all output to the zero-config console.
    throw ConfigError(source +
                      ": the file holds no settings; an empty configuration is refused (to log "
                      "with the defaults, load no file)");
  }
  config_detail::interpolate(tree, loading.env);
  config_detail::apply_python_schema(tree);
  const std::string where = tree.where("extends");
  const std::optional<std::string> extends = take_string(tree, "extends");
  if (!extends) return tree;
  const std::filesystem::path parent_path = base_dir / *extends;
  Tree parent;
  try {
    parent = load_file_tree(parent_path, loading);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    if (what.starts_with("extends cycle")) throw;
    throw ConfigError(where + ": extends: " + what);
  }
  config_detail::merge(parent, std::move(tree));
  return parent;
}

void record_preset_origins(const Json& value, const std::string& path, const std::string& origin,
                           Tree& tree) {
  if (!path.empty()) tree.origins[path] = Origin{origin, 0};
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      record_preset_origins(child, config_detail::child_path(path, key), origin, tree);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      record_preset_origins(value[i], config_detail::index_path(path, i), origin, tree);
    }
  }
}

using StaticFields = std::vector<std::pair<std::string, std::string>>;

std::string static_field_path(const std::string& key) {
  return "static_fields." + key;
}

// A document ready for conversion. Files have no key for static fields yet,
// so a preset's (the resource fields of `auto`) travel beside the tree, with
// their origins in it under "static_fields.KEY".
struct Layered {
  Tree tree;
  StaticFields static_fields;
};

LoggerConfig to_config(const Layered& layered, bool with_compliance = true,
                       Json* detectors = nullptr) {
  LoggerConfig config = config_detail::to_config(layered.tree, with_compliance, detectors);
  config.static_fields = layered.static_fields;
  return config;
}

// A preset, for the environment `env` shows (the `auto` preset adapts to it).
Layered preset_tree(const std::string& name, const std::string& log_dir, const Env& env) {
  MagicOptions options;
  options.log_dir = log_dir;
  DetectionInput detection;
  detection.env = env;
  options.environment = detect_environment(detection);
  const LoggerConfig config = magic(name, options);
  // What the built-in `auto` preset sets, detection chose.
  const std::string origin =
      name == "auto" ? "detection " + auto_reason(*options.environment) : "preset " + name;
  Layered layered;
  layered.tree.source = "preset " + name;
  layered.tree.value = config_detail::to_json(config);
  record_preset_origins(layered.tree.value, "", origin, layered.tree);
  layered.static_fields = config.static_fields;
  for (const auto& [key, value] : layered.static_fields) {
    layered.tree.origins[static_field_path(key)] = Origin{origin, 0};
  }
  return layered;
}

// The file's tree laid over its preset (the file's own, or `preset_override`),
// with the top-level keys that choose sources removed.
Layered with_preset(Tree file, const std::optional<std::string>& preset_override,
                    const std::optional<std::string>& log_dir_override, const Env& env) {
  const std::string preset_where = file.where("preset");
  std::optional<std::string> preset = take_string(file, "preset");
  const std::optional<std::string> file_log_dir = take_string(file, "log_dir");
  std::string preset_label = "preset";
  if (preset_override) {
    preset = preset_override;
    preset_label = "";
  }
  if (!preset) return Layered{std::move(file), {}};
  Layered base;
  try {
    base = preset_tree(*preset, log_dir_override.value_or(file_log_dir.value_or("logs")), env);
  } catch (const ConfigError& e) {
    if (preset_label.empty()) throw;
    throw ConfigError(preset_where + ": preset: " + e.what());
  }
  config_detail::merge(base.tree, std::move(file));
  return base;
}

std::optional<std::string> non_empty(const Env& env, std::string_view name) {
  if (!env) return std::nullopt;
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::map<std::string, std::string> leaves(const LoggerConfig& config) {
  std::map<std::string, std::string> out;
  config_detail::flatten(config_detail::to_json(config), "", out);
  for (const auto& [key, value] : config.static_fields) {
    out[static_field_path(key)] = Json(value).dump();
  }
  return out;
}

}  // namespace

ConfigFormat config_format_of(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".toml") return ConfigFormat::toml;
  if (ext == ".yaml" || ext == ".yml") return ConfigFormat::yaml;
  if (ext == ".json") return ConfigFormat::json;
  throw ConfigError(path.string() + ": unknown configuration file type '" + ext +
                    "' (valid extensions: .toml, .yaml, .yml, .json)");
}

LoggerConfig load_config(const std::filesystem::path& path, const Env& env) {
  Loading loading{env, {}, {}};
  return to_config(with_preset(load_file_tree(path, loading), {}, {}, env));
}

LoggerConfig parse_config(std::string_view text, ConfigFormat format, std::string_view source_name,
                          const Env& env) {
  Loading loading{env, {}, {}};
  Tree tree = load_tree(text, format, std::string(source_name), ".", loading);
  return to_config(with_preset(std::move(tree), {}, {}, env));
}

std::string config_to_json(const LoggerConfig& config) {
  return config_detail::to_json(config).dump(2);
}

ResolvedConfig resolve_config(const ConfigSources& sources) {
  const Env& env = sources.env;
  std::optional<std::string> preset = sources.preset;
  if (!preset) {
    preset = non_empty(env, "HYDRA_LOG_PRESET");
    if (preset && !has_magic(*preset)) {
      try {
        magic(*preset);  // throws the message that names the valid presets
      } catch (const ConfigError& e) {
        throw ConfigError(std::string("HYDRA_LOG_PRESET: ") + e.what());
      }
    }
  }
  std::optional<std::filesystem::path> file = sources.file;
  if (!file) {
    if (auto v = non_empty(env, "HYDRA_LOG_CONFIG")) file = *v;
  }
  std::optional<std::string> log_dir = sources.log_dir;
  if (!log_dir) log_dir = non_empty(env, "HYDRA_LOG_DIR");

  // defaults < preset < file
  Layered layered;
  layered.tree.source = "default";
  if (file) {
    Loading loading{env, {}, {}};
    try {
      layered = with_preset(load_file_tree(*file, loading), preset, log_dir, env);
    } catch (const ConfigError& e) {
      if (!sources.file) throw ConfigError(std::string("HYDRA_LOG_CONFIG: ") + e.what());
      throw;
    }
  } else if (preset) {
    layered = preset_tree(*preset, log_dir.value_or("logs"), env);
  }
  config_detail::compliance_from_environment(layered.tree, env);
  ResolvedConfig resolved;
  // The compliance profiles act on the configuration the environment leaves
  // (applied below).
  // The file's [[detectors]] (`detectors`, as explain lists them) live in
  // the protector, which config_to_json shows only as `redact`: they are
  // listed while the effective protector is one made with them.
  Json detectors = Json::array();
  resolved.config = to_config(layered, false, &detectors);
  std::shared_ptr<const Protector> with_detectors;
  if (!detectors.empty()) with_detectors = resolved.config.protector;
  std::string detectors_gone;  // the step that replaced that protector
  const auto check_detectors = [&](const std::string& step) {
    if (with_detectors && resolved.config.protector != with_detectors) {
      with_detectors = nullptr;
      detectors_gone = step;
      resolved.origins["redact"] = step;  // even if it is still on
    }
  };
  const Tree& tree = layered.tree;
  for (const auto& [path, value] : leaves(resolved.config)) {
    auto it = tree.origins.find(path);
    resolved.origins[path] = it == tree.origins.end() ? "default" : it->second.where();
  }
  // [[detectors]] without `redact` in a file (none, or a preset's) turn the
  // protect stage on.
  const auto redact_origin = tree.origins.find("redact");
  if (resolved.config.protector && tree.origins.contains("detectors") &&
      (redact_origin == tree.origins.end() || redact_origin->second.line == 0)) {
    resolved.origins["redact"] = tree.where("detectors");
  }

  // < environment < code: a setting is credited to the last step that changed it.
  const auto credit = [&resolved](const std::map<std::string, std::string>& before,
                                  const auto& label) {
    std::map<std::string, std::string> origins;
    for (const auto& [path, value] : leaves(resolved.config)) {
      auto old = before.find(path);
      if (old != before.end() && old->second == value) {
        origins[path] = resolved.origins[path];
      } else {
        origins[path] = label(path);
      }
    }
    resolved.origins = std::move(origins);
  };
  auto before = leaves(resolved.config);
  apply_environment(resolved.config, env);
  credit(before, [](const std::string& path) -> std::string {
    if (path == "redact") return "environment HYDRA_LOG_REDACT_SENSITIVE";
    if (path.ends_with(".theme") || path.find(".theme.") != std::string::npos) {
      return "environment HYDRA_LOG_THEME";
    }
    return path.ends_with("format") ? "environment HYDRA_LOG_FORMAT"
                                    : "environment HYDRA_LOG_LEVEL";
  });
  check_detectors("environment HYDRA_LOG_REDACT_SENSITIVE");
  // What the profiles change is credited to where they were named (the
  // file's line, or HYDRA_LOG_COMPLIANCE).
  const bool compliance = tree.value.contains("compliance");
  std::string profiles_where = tree.where("compliance.profiles");
  if (compliance) {
    before = leaves(resolved.config);
    config_detail::apply_compliance_table(tree, resolved.config);
    credit(before, [&profiles_where](const std::string&) { return profiles_where; });
    // The profiles' protector is made with the file's detectors.
    if (!detectors.empty()) {
      with_detectors = resolved.config.protector;
      detectors_gone.clear();
    }
  }
  if (sources.code) {
    before = leaves(resolved.config);
    sources.code(resolved.config);
    credit(before, [](const std::string&) -> std::string { return "code"; });
    check_detectors("code");
  }
  resolved.values = leaves(resolved.config);
  if (compliance) {
    // LoggerConfig keeps no record of the profiles (config_to_json has no
    // such key); listed here so that `hydra config explain` shows them.
    resolved.values["compliance.profiles"] = tree.value.at("compliance").at("profiles").dump();
    resolved.origins["compliance.profiles"] = profiles_where;
  }
  if (with_detectors) {
    // Each key from its line in the file, else "default" (an action or an
    // option not written); the token, which the type's instance gives, from
    // the type's line.
    for (std::size_t i = 0; i < detectors.size(); ++i) {
      const std::string at = config_detail::index_path("detectors", i);
      for (const auto& [key, value] : detectors[i].items()) {
        const std::string path = config_detail::child_path(at, key);
        resolved.values[path] = value.dump();
        auto it = tree.origins.find(key == "token" && !tree.origins.contains(path)
                                        ? config_detail::child_path(at, "type")
                                        : path);
        resolved.origins[path] = it == tree.origins.end() ? "default" : it->second.where();
      }
    }
  } else {
    resolved.values["detectors"] = "[]";
    auto it = tree.origins.find("detectors");
    resolved.origins["detectors"] = !detectors_gone.empty()    ? detectors_gone
                                    : it != tree.origins.end() ? it->second.where()
                                                               : "default";
  }
  return resolved;
}

}  // namespace hydra
