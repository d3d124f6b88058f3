// hydra-bridge: the live view of a fleet. It reads the records services
// publish to NATS JetStream (their `nats` destinations) and serves them as
// the embedded bridge does: the dashboard at /, protocol v1 at /ws, the
// intake at /intake (docs/bridge.md). Any number can read one stream; a
// restarted one resumes from JetStream.
//
//   hydra-bridge [--nats URL] [--stream NAME] [--subjects SUBJECTS]
//                [--credentials FILE] [--listen HOST:PORT] [--config FILE]
//                [--set KEY=VALUE]...
//
// --set takes any option of the `bridge` destination (api_keys=..., tenant=,
// batch_window=, ...); --config a configuration file for the bridge's own
// logger, which logs submitted records and failed logins (default: JSON
// Lines on stdout). The first line on stdout is "listening <URL>".
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "hydra/bridge/bridge_sink.hpp"
#include "hydra/bridge/jetstream_source.hpp"
#include "hydra/config/builder.hpp"
#include "hydra/config/loader.hpp"
#include "hydra/hydra.hpp"

namespace {

constexpr const char* kUsage =
    "usage: hydra-bridge [--nats URL] [--stream NAME] [--subjects SUBJECTS] [--credentials FILE]\n"
    "                    [--listen HOST:PORT] [--config FILE] [--set KEY=VALUE]...\n";

struct Args {
  hydra::bridge::JetStreamOptions nats;
  hydra::plugin::Options bridge;
  std::string config;
};

Args parse(int argc, char** argv) {
  Args a;
  a.bridge.set("tenant", "*");  // a fleet: every tenant, each client seeing its own
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw hydra::ConfigError("hydra-bridge: " + arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--nats") {
      a.nats.url = value();
    } else if (arg == "--stream") {
      a.nats.stream = value();
    } else if (arg == "--subjects") {
      a.nats.subjects = value();
    } else if (arg == "--credentials") {
      a.nats.credentials = value();
    } else if (arg == "--listen") {
      a.bridge.set("listen", value());
    } else if (arg == "--config") {
      a.config = value();
    } else if (arg == "--set") {
      const std::string kv = value();
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw hydra::ConfigError("hydra-bridge: --set '" + kv + "': expected KEY=VALUE");
      }
      a.bridge.set(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      throw hydra::ConfigError("hydra-bridge: unknown argument '" + arg + "'\n" + kUsage);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  // The signals that stop it are taken by sigwait below, in this thread.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  try {
    Args args = parse(argc, argv);
    hydra::plugin::Registry registry;
    hydra::bridge::register_destination(registry);
    const auto type = registry.find(hydra::plugin::Kind::sink, "bridge");
    const auto options =
        hydra::plugin::validate_options("hydra-bridge", type->options, args.bridge);
    hydra::bridge::BridgeOptions bo = hydra::bridge::bridge_options(options);
    bo.stream = args.nats.stream;
    if (!options.has("service")) bo.service.clear();
    hydra::LoggerConfig config;
    if (!args.config.empty()) {
      config = hydra::load_config(args.config);
    } else {
      config = hydra::LoggerBuilder("hydra-bridge").layer("DEFAULT").console("json").config();
    }
    hydra::Logger logger(std::move(config));
    hydra::bridge::Bridge bridge(bo);
    bridge.attach(&logger);
    hydra::bridge::JetStreamSource source(bridge, args.nats);
    std::cout << "listening " << bridge.url() << std::endl;
    int signal = 0;
    sigwait(&stop, &signal);
    bridge.detach(&logger);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
