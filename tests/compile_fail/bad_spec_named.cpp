// expect: invalid type specifier
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("user {user:d}", "alice");
}
