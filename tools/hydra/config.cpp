// hydra config: look at configuration the way the library will see it.
//   hydra config explain [FILE]   every effective setting and where it came from
//                                 (default, preset, FILE:LINE, environment, code);
//                                 FILE defaults to $HYDRA_LOG_CONFIG
//   hydra config presets          the magic presets and what they are for
// A broken file (or environment) exits with 78 (EX_CONFIG) and the
// validation error on standard error.
#include <algorithm>
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <hydra/config/loader.hpp>
#include <hydra/config/presets.hpp>
#include <hydra/core/error.hpp>

#include "commands.hpp"
#include "help.hpp"

namespace hydra::tools {
namespace {

constexpr int kConfigError = 78;  // sysexits' EX_CONFIG

// hydra config explain [FILE]
int explain(Args args) {
  ConfigSources sources;
  for (const std::string_view arg : args) {
    if (is_help_option(arg)) return print_help("config explain");
    if (is_option(arg)) return unknown_argument("config explain", arg);
    if (sources.file) {
      return usage_error("config explain", "one FILE at most (" + quote(sources.file->string()) +
                                               " and " + quote(arg) + " were given)");
    }
    sources.file = std::string(arg);
  }
  ResolvedConfig resolved;
  try {
    resolved = resolve_config(sources);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "hydra config: %s\n", e.what());
    return kConfigError;
  }
  // key = value, aligned, then the source that set it.
  std::size_t width = 0;
  for (const auto& [path, value] : resolved.values) {
    width = std::max(width, path.size() + 3 + value.size());
  }
  for (const auto& [path, value] : resolved.values) {
    fmt::print("{:<{}}  # {}\n", fmt::format("{} = {}", path, value), width,
               resolved.origins[path]);
  }
  return 0;
}

// hydra config presets
int presets(Args args) {
  if (!args.empty()) {
    if (is_help_option(args.front())) return print_help("config presets");
    return unknown_argument("config presets", args.front());
  }
  std::size_t width = 0;
  const auto all = list_magic();
  for (const auto& m : all) width = std::max(width, m.name.size());
  for (const auto& m : all) fmt::print("{:<{}}  {}\n", m.name, width, m.description);
  return 0;
}

}  // namespace

int run_config(Args args) {
  if (args.empty()) return usage_error("config", "explain or presets?");
  const std::string_view command = args.front();
  const Args rest = args.subspan(1);
  if (command == "explain") return explain(rest);
  if (command == "presets") return presets(rest);
  if (is_help_option(command) || command == "help") return print_help("config");
  return usage_error("config",
                     "unknown subcommand " + quote(command) + " (valid: explain, presets)");
}

}  // namespace hydra::tools
