// Layers, each with its own level and destinations; each destination with its
// own level, format and colour mode.
#include <cstdio>
#include <hydra/hydra.hpp>

int main() {
  hydra::LoggerConfig config;
  config.name = "shop";
  config.default_level = hydra::Level::info;

  auto errors_only = hydra::file("/tmp/hydra-example-errors.log");
  errors_only.level = hydra::Level::error;
  config.layers["APP"].destinations = {
      hydra::console(), hydra::file("/tmp/hydra-example.jsonl", "json"), errors_only};

  config.layers["DATABASE"].level = hydra::Level::debug;
  config.layers["DATABASE"].destinations = {hydra::console("logfmt", hydra::ColorMode::never)};

  try {
    hydra::Logger log(config);
    auto db = log.layer("DATABASE");
    log.info("shop open");
    db.debug("pool size {size}", 8);
    log.error("card declined for order {order}", 1017);
    log.flush();
    std::puts("wrote /tmp/hydra-example.jsonl and /tmp/hydra-example-errors.log");
  } catch (const hydra::ConfigError& e) {
    std::fprintf(stderr, "bad configuration: %s\n", e.what());
    return 1;
  }
  return 0;
}
