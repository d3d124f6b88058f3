#include <hydra/hydra.hpp>

int main() {
  hydra::Logger log;
  log.info("consumer says hello name={name}", "installed");
  return 0;
}
