// expect: invalid type specifier
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("n={:d}", "not a number");
}
