// hydra pipe: every line of standard input becomes one record (message = the
// line, without its line ending), written to standard output in the chosen
// format. `legacy_app 2>&1 | hydra pipe --format json`. With --config FILE the
// records go through that configuration's layers and destinations instead.
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <hydra/hydra.hpp>
#if defined(HYDRA_WITH_CONFIG)
#include <hydra/config/loader.hpp>
#endif

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
  std::string config_file;
  std::vector<std::string> console_options;  // options that --config replaces
  bool layer_given = false;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view opt = args[i];
    if (i + 1 >= args.size()) return usage_error("option '" + std::string(opt) + "' needs a value");
    const std::string value(args[++i]);
    if (opt == "--format" || opt == "--name" || opt == "--mode" || opt == "--color") {
      console_options.emplace_back(opt);
    }
    if (opt == "--config") {
      config_file = value;
    } else if (opt == "--format") {
      format = value;
    } else if (opt == "--layer") {
      layer = value;
      layer_given = true;
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
  if (!config_file.empty()) {
    // The file's layers and destinations decide where each record goes.
    if (!console_options.empty()) {
      return usage_error(console_options.front() +
                         " cannot be combined with --config (the file sets it)");
    }
#if defined(HYDRA_WITH_CONFIG)
    try {
      config = load_config(config_file);
    } catch (const ConfigError& e) {
      return usage_error(std::string("--config: ") + e.what());
    }
    if (!layer_given) layer = config.default_layer;
    mode = config.mode;
#else
    return usage_error("--config needs the config module (built with HYDRA_WITH_CONFIG=OFF)");
#endif
  } else {
    config.name = name;
    config.mode = mode;
    config.default_level = Level::trace;
    config.default_layer = layer;
    config.layers[layer].destinations.push_back(console(format, color));
  }
  // Async: every line taken in reaches the output even if the process is
  // then killed. The crash handler writes what is queued; and the signals it
  // handles are held back except while waiting for input, so no signal can
  // land between reading bytes and queueing the lines they hold. They are
  // blocked before the logger exists, so that its threads (backend, flusher)
  // inherit the mask and a signal sent to the process can only reach this
  // thread, inside ppoll.
  sigset_t held;
  sigemptyset(&held);
  for (int sig : {SIGTERM, SIGINT, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) {
    sigaddset(&held, sig);
  }
  sigset_t waiting;  // the mask while waiting: everything else as before
  if (mode == LoggerMode::async) ::pthread_sigmask(SIG_BLOCK, &held, &waiting);

  std::optional<Logger> logger;
  try {
    logger.emplace(std::move(config));
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }

  LayerLogger out = logger->layer(layer);
  const auto write_line = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.write(level, line);
  };
  if (mode == LoggerMode::sync) {
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) write_line(line);
    logger->flush();
    return 0;
  }

  install_crash_handler();
  std::string pending;  // a line not yet ended by a newline
  char chunk[64 * 1024];
  for (;;) {
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (::ppoll(&in, 1, nullptr, &waiting) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "hydra pipe: waiting for input: %s\n",
                   std::generic_category().message(errno).c_str());
      break;
    }
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      std::fprintf(stderr, "hydra pipe: reading standard input: %s\n",
                   std::generic_category().message(errno).c_str());
      break;
    }
    if (n == 0) break;
    std::string_view data(chunk, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = data.find('\n')) != std::string_view::npos;) {
      if (pending.empty()) {
        write_line(data.substr(0, nl));
      } else {
        pending.append(data.substr(0, nl));
        write_line(pending);
        pending.clear();
      }
      data.remove_prefix(nl + 1);
    }
    pending.append(data);
  }
  if (!pending.empty()) write_line(pending);
  logger->flush();
  ::pthread_sigmask(SIG_SETMASK, &waiting, nullptr);
  return 0;
}

}  // namespace hydra::tools
