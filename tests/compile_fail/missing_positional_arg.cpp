// expect: argument not found
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("{} {}", 1);
}
