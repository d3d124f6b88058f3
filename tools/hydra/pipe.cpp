// hydra pipe: every line of standard input becomes one record (message = the
// line, without its line ending), written to standard output in the chosen
// format. `legacy_app 2>&1 | hydra pipe --format json`.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <hydra/hydra.hpp>

#include "commands.hpp"

namespace hydra::tools {
namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "hydra pipe: %s\n", message.c_str());
  return kUsageError;
}

}  // namespace

int run_pipe(Args args) {
  std::string format = "text";
  std::string layer = "APP";
  std::string name = "pipe";
  Level level = Level::info;
  ColorMode color = ColorMode::automatic;
  LoggerMode mode = LoggerMode::sync;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view opt = args[i];
    if (i + 1 >= args.size()) return usage_error("option '" + std::string(opt) + "' needs a value");
    const std::string value(args[++i]);
    if (opt == "--format") {
      format = value;
    } else if (opt == "--layer") {
      layer = value;
    } else if (opt == "--name") {
      name = value;
    } else if (opt == "--level") {
      const auto parsed = parse_level(value);
      if (!parsed || *parsed == Level::off) {
        return usage_error("--level: '" + value + "' is not a level (valid: " +
                           std::string(kLevelChoices.substr(0, kLevelChoices.rfind(','))) + ")");
      }
      level = *parsed;
    } else if (opt == "--mode") {
      if (value == "sync") {
        mode = LoggerMode::sync;
      } else if (value == "async") {
        mode = LoggerMode::async;
      } else {
        return usage_error("--mode: '" + value + "' is not a mode (valid: sync, async)");
      }
    } else if (opt == "--color") {
      const auto parsed = parse_color_mode(value);
      if (!parsed) {
        return usage_error("--color: '" + value + "' is not a colour mode (valid: " +
                           std::string(kColorModeChoices) + ")");
      }
      color = *parsed;
    } else {
      return usage_error("unknown option '" + std::string(opt) + "'");
    }
  }

  LoggerConfig config;
  config.name = name;
  config.mode = mode;
  config.default_level = Level::trace;
  config.default_layer = layer;
  config.layers[layer].destinations.push_back(console(format, color));
  std::optional<Logger> logger;
  try {
    logger.emplace(std::move(config));
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }

  // Every line taken in reaches the output, even if the process is then
  // killed: the crash handler writes what is still queued.
  if (mode == LoggerMode::async) install_crash_handler();
  LayerLogger out = logger->layer(layer);
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.write(level, line);
  }
  logger->flush();
  return 0;
}

}  // namespace hydra::tools
