// Control: correct templates compile.
#include <hydra/hydra.hpp>
void f(hydra::Logger& log) {
  log.info("user {user} from {ip}", "alice", "10.0.0.1");
  log.info("{} + {} = {:.2f}", 1, 2, 3.0);
  log.info("width {w:>8}", 42);
}
