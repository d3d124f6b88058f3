// expect: hydra_format_error_named_and_indexed_placeholders_mixed
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("{0} {user}", 1, "alice");
}
