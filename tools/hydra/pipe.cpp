// hydra pipe: every line of standard input becomes one record (message = the
// line, without its line ending), written to standard output in the chosen
// format. `legacy_app 2>&1 | hydra pipe --format json`. With --config FILE the
// records go through that configuration's layers and destinations instead.
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
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
#include "help.hpp"

namespace hydra::tools {
namespace {

constexpr std::string_view kCommand = "pipe";

// The options; each takes a value.
constexpr std::string_view kOptions[] = {"--config", "--format", "--layer", "--level",
                                         "--color",  "--name",   "--mode"};

}  // namespace

// Every value is checked here, before a logger exists, so that a mistake is
// reported against the option that carried it, never against the key path
// of the configuration built from it.
int run_pipe(Args args) {
  std::string format = "text";
  std::string layer = "APP";
  std::string name = "pipe";
  Level level = Level::info;
  ColorMode color = ColorMode::automatic;
  LoggerMode mode = LoggerMode::sync;
  std::optional<std::string> config_file;
  std::vector<std::string> console_options;  // options that --config replaces
  bool layer_given = false;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view opt = args[i];
    if (is_help_option(opt)) return print_help(kCommand);
    if (std::find(std::begin(kOptions), std::end(kOptions), opt) == std::end(kOptions)) {
      return unknown_argument(kCommand, opt);
    }
    if (i + 1 >= args.size()) {
      return usage_error(kCommand, "option " + quote(opt) + " needs a value");
    }
    const std::string value(args[++i]);
    const auto bad_value = [&](std::string_view what, std::string_view valid) {
      return option_error(kCommand, std::string(opt) + ": " + quote(value) + " is not " +
                                        std::string(what) + " (valid: " + std::string(valid) + ")");
    };
    if (opt == "--format" || opt == "--name" || opt == "--mode" || opt == "--color") {
      console_options.emplace_back(opt);
    }
    if (opt == "--config") {
      config_file = value;
    } else if (opt == "--format") {
      try {
        make_formatter(value, FormatterOptions{});
      } catch (const ConfigError&) {
        return bad_value("a format", kFormatChoices);
      }
      format = value;
    } else if (opt == "--layer") {
      if (value.empty()) return option_error(kCommand, "--layer: a layer name must not be empty");
      if (hydra::is_reserved_layer_name(value)) {
        return option_error(kCommand, "--layer: " + quote(value) +
                                          " is reserved (names of the form __X__ are Hydra's; "
                                          "only __CENTRALIZED__ may be used)");
      }
      layer = value;
      layer_given = true;
    } else if (opt == "--name") {
      name = value;
    } else if (opt == "--level") {
      const auto parsed = parse_level(value);
      if (!parsed || *parsed == Level::off) {
        return bad_value("a level", kRecordLevelChoices);
      }
      level = *parsed;
    } else if (opt == "--mode") {
      if (value == "sync") {
        mode = LoggerMode::sync;
      } else if (value == "async") {
        mode = LoggerMode::async;
      } else {
        return bad_value("a mode", "sync, async");
      }
    } else {  // --color
      const auto parsed = parse_color_mode(value);
      if (!parsed) return bad_value("a colour mode", kColorModeChoices);
      color = *parsed;
    }
  }

  LoggerConfig config;
  if (config_file) {
    // The file's layers and destinations decide where each record goes.
    if (!console_options.empty()) {
      return usage_error(kCommand, console_options.front() +
                                       " cannot be combined with --config (the file sets it)");
    }
#if defined(HYDRA_WITH_CONFIG)
    try {
      config = load_config(*config_file);
    } catch (const ConfigError& e) {
      return option_error(kCommand, std::string("--config: ") + e.what());
    }
    if (!layer_given) layer = config.default_layer;
    mode = config.mode;
#else
    return option_error(kCommand,
                        "--config needs the config module (built with HYDRA_WITH_CONFIG=OFF)");
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
    // With --config: a mistake the file's loader could not see (a path that
    // cannot be opened, say), named by its key path in the file.
    return option_error(kCommand,
                        (config_file ? "--config " + quote(*config_file) + ": " : "") + e.what());
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
