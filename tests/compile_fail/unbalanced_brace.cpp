// expect: hydra_format_error_unbalanced_braces
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("user {user", "alice");
}
