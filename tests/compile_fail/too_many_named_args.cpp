// expect: hydra_format_error_argument_count_differs_from_placeholder_count
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("user {user}", "alice", 2);
}
