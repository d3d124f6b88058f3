// A process with a bridge, driven from stdin, for the tests that talk to a
// real bridge over sockets (clients/python/tests, the TypeScript SDK's and
// the browser tests):
//
//   hydra_bridge_app CONFIG     loads the configuration file, prints
//                               "listening http://127.0.0.1:PORT/"
//   log LAYER LEVEL WORDS...    one record
//   burst N LAYER LEVEL         N records "burst <i>" with the field i
//   flush                       the logger's flush
//   quit                        (or end of input)
//
// Each command is answered "ok" (or "error: ..."), after it is done.
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "hydra/bridge/bridge.hpp"
#include "hydra/config/loader.hpp"
#include "hydra/hydra.hpp"

namespace {

// The command's next word as a level, or nothing (answered with an error).
std::optional<hydra::Level> read_level(std::istream& in) {
  std::string name;
  in >> name;
  const auto level = hydra::parse_level(name);
  if (!level) std::cout << "error: unknown level " << name << std::endl;
  return level;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: hydra_bridge_app CONFIG\n";
    return 64;
  }
  try {
    hydra::Logger logger(hydra::load_config(argv[1]));
    const auto bridges = hydra::bridge::running_bridges();
    if (bridges.empty()) {
      std::cerr << "hydra_bridge_app: the configuration has no bridge destination\n";
      return 1;
    }
    std::cout << "listening " << bridges.front() << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in(line);
      std::string command;
      in >> command;
      if (command == "quit") break;
      if (command == "log") {
        std::string layer, message, word;
        in >> layer;
        const auto level = read_level(in);
        if (!level) continue;
        while (in >> word) message += (message.empty() ? "" : " ") + word;
        logger.layer(layer).write(*level, message);
      } else if (command == "burst") {
        std::uint64_t n = 0;
        std::string layer;
        in >> n >> layer;
        const auto level = read_level(in);
        if (!level) continue;
        auto l = logger.layer(layer);
        for (std::uint64_t i = 0; i < n; ++i) {
          const hydra::Field fields[] = {{"i", i}};
          l.write(*level, "burst " + std::to_string(i), fields);
        }
      } else if (command == "flush") {
        logger.flush();
      } else {
        std::cout << "error: unknown command " << command << std::endl;
        continue;
      }
      std::cout << "ok" << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "hydra_bridge_app: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
