// expect: hydra_format_error_duplicate_placeholder_name
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("{user} {user}", "a", "b");
}
