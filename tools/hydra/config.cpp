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

namespace hydra::tools {
namespace {

constexpr int kConfigError = 78;  // sysexits' EX_CONFIG

constexpr std::string_view kConfigUsage =
    "usage: hydra config explain [FILE]   print the effective configuration and where each\n"
    "                                     setting came from (FILE: .toml, .yaml, .json;\n"
    "                                     default: $HYDRA_LOG_CONFIG)\n"
    "       hydra config presets          list the magic presets\n";

int explain(Args args) {
  ConfigSources sources;
  if (args.size() > 1) {
    std::fputs(kConfigUsage.data(), stderr);
    return kUsageError;
  }
  if (args.size() == 1) sources.file = std::string(args[0]);
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

int presets() {
  std::size_t width = 0;
  const auto all = list_magic();
  for (const auto& m : all) width = std::max(width, m.name.size());
  for (const auto& m : all) fmt::print("{:<{}}  {}\n", m.name, width, m.description);
  return 0;
}

}  // namespace

int run_config(Args args) {
  if (args.empty()) {
    std::fputs(kConfigUsage.data(), stderr);
    return kUsageError;
  }
  const Args rest(args.data() + 1, args.size() - 1);
  if (args[0] == "explain") return explain(rest);
  if (args[0] == "presets" && rest.empty()) return presets();
  std::fputs(kConfigUsage.data(), stderr);
  return kUsageError;
}

}  // namespace hydra::tools
