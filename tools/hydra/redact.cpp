// hydra redact: standard input to standard output, line by line, through the
// redaction engine with its defaults (or a JSON configuration), to clean
// existing log files before sharing them:
//   hydra redact < app.log > app.redacted.log
// A line a `drop` detector matches is left out; how many were is reported on
// standard error at the end. Bytes pass through as they are (no decoding, no
// line-ending changes) apart from the redacted spans.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <hydra/core/error.hpp>
#include <hydra/protect/redactor.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "help.hpp"

namespace hydra::tools {
namespace {

constexpr int kConfigError = 78;  // sysexits' EX_CONFIG

using nlohmann::json;
using protect::RedactorOptions;

// Throws ConfigError unless `object` holds only keys from `valid`.
void check_keys(const json& object, std::string_view where,
                std::initializer_list<std::string_view> valid) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const std::string_view v : valid) known = known || key == v;
    if (known) continue;
    std::string list;
    for (const std::string_view v : valid) {
      if (!list.empty()) list += ", ";
      list += v;
    }
    throw ConfigError(fmt::format("{}: unknown key '{}' (valid: {})", where, key, list));
  }
}

std::string get_string(const json& object, const std::string& key, std::string_view where) {
  const json& v = object.at(key);
  if (!v.is_string()) throw ConfigError(fmt::format("{}.{}: must be a string", where, key));
  return v.get<std::string>();
}

protect::Detector detector_named(const std::string& name, std::string_view where) {
  const auto d = protect::parse_detector(name);
  if (!d) {
    throw ConfigError(fmt::format("{}: unknown detector '{}' (valid: {})", where, name,
                                  protect::kDetectorChoices));
  }
  return *d;
}

protect::Action action_named(const json& v, std::string_view where) {
  if (!v.is_string()) throw ConfigError(fmt::format("{}: must be a string", where));
  const auto a = protect::parse_action(v.get<std::string>());
  if (!a) {
    throw ConfigError(fmt::format("{}: unknown action '{}' (valid: {})", where,
                                  v.get<std::string>(), protect::kActionChoices));
  }
  return *a;
}

// {"detectors": {"ipv4": true}, "actions": {"email": "mask"},
//  "hash_key": "...", "hash_key_env": "NAME",
//  "custom": [{"name": "..", "pattern": "..", "type": "..", "action": ".."}]}
RedactorOptions load_options(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    throw ConfigError(fmt::format("{}: cannot open: {}", path,
                                  std::strerror(errno)));  // NOLINT(concurrency-mt-unsafe)
  }
  json root;
  try {
    root = json::parse(file);
  } catch (const json::exception& e) {
    throw ConfigError(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  if (!root.is_object()) throw ConfigError(path + ": must hold a JSON object");
  check_keys(root, path, {"detectors", "actions", "hash_key", "hash_key_env", "custom"});

  RedactorOptions options;
  if (root.contains("detectors")) {
    const json& detectors = root["detectors"];
    if (!detectors.is_object()) throw ConfigError(path + ": detectors: must be an object");
    for (const auto& [name, on] : detectors.items()) {
      const std::string where = fmt::format("{}: detectors.{}", path, name);
      const protect::Detector d = detector_named(name, where);
      if (!on.is_boolean()) throw ConfigError(where + ": must be true or false");
      options.detector(d).enabled = on.get<bool>();
    }
  }
  if (root.contains("actions")) {
    const json& actions = root["actions"];
    if (!actions.is_object()) throw ConfigError(path + ": actions: must be an object");
    for (const auto& [name, action] : actions.items()) {
      const std::string where = fmt::format("{}: actions.{}", path, name);
      options.detector(detector_named(name, where)).action = action_named(action, where);
    }
  }
  if (root.contains("hash_key")) options.hash_key = get_string(root, "hash_key", path);
  if (root.contains("hash_key_env")) {
    const std::string name = get_string(root, "hash_key_env", path);
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr || *value == '\0') {
      throw ConfigError(
          fmt::format("{}: hash_key_env: the environment variable '{}' is not set", path, name));
    }
    options.hash_key = value;
  }
  if (root.contains("custom")) {
    const json& custom = root["custom"];
    if (!custom.is_array()) throw ConfigError(path + ": custom: must be an array");
    for (std::size_t i = 0; i < custom.size(); ++i) {
      const json& c = custom[i];
      const std::string where = fmt::format("{}: custom[{}]", path, i);
      if (!c.is_object()) throw ConfigError(where + ": must be an object");
      check_keys(c, where, {"name", "pattern", "type", "action"});
      for (const char* required : {"name", "pattern", "type"}) {
        if (!c.contains(required)) {
          throw ConfigError(fmt::format("{}: '{}' is missing", where, required));
        }
      }
      protect::CustomDetector detector{get_string(c, "name", where),
                                       get_string(c, "pattern", where),
                                       get_string(c, "type", where)};
      if (c.contains("action")) detector.action = action_named(c["action"], where + ".action");
      options.custom.push_back(std::move(detector));
    }
  }
  return options;
}

}  // namespace

int run_redact(Args args) {
  std::optional<std::string> config_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view opt = args[i];
    if (is_help_option(opt)) return print_help("redact");
    if (opt != "--config") return unknown_argument("redact", opt);
    if (i + 1 >= args.size()) return usage_error("redact", "option '--config' needs a value");
    config_path = std::string(args[++i]);
  }

  std::optional<protect::Redactor> redactor;
  try {
    redactor.emplace(config_path ? load_options(*config_path) : RedactorOptions{});
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "hydra redact: %s\n", e.what());
    return kConfigError;
  }

  // Lines are cut from large reads and written in large batches.
  constexpr std::size_t kChunk = 1 << 16;
  std::string pending;  // a line not finished yet
  std::string out;
  std::string redacted;
  std::size_t dropped = 0;
  auto emit_line = [&](std::string_view line, bool newline) {
    redacted.clear();
    switch (redactor->redact(line, redacted)) {
      case protect::Outcome::unchanged: out.append(line); break;
      case protect::Outcome::redacted: out.append(redacted); break;
      case protect::Outcome::drop: ++dropped; return;
    }
    if (newline) out.push_back('\n');
    if (out.size() >= kChunk) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  };
  std::string buffer(kChunk, '\0');
  for (;;) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), stdin);
    if (got == 0) break;
    std::string_view chunk(buffer.data(), got);
    for (std::size_t nl; (nl = chunk.find('\n')) != std::string_view::npos;) {
      if (pending.empty()) {
        emit_line(chunk.substr(0, nl), true);
      } else {
        pending.append(chunk.substr(0, nl));
        emit_line(pending, true);
        pending.clear();
      }
      chunk.remove_prefix(nl + 1);
    }
    pending.append(chunk);
  }
  if (!pending.empty()) emit_line(pending, false);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0 || std::ferror(stdin) != 0) {
    std::fprintf(stderr, "hydra redact: I/O error: %s\n",
                 std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
    return 1;
  }
  if (dropped > 0) {
    std::fprintf(stderr, "hydra redact: %zu line%s dropped (a detector's action is 'drop')\n",
                 dropped, dropped == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace hydra::tools
