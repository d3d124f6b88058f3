// The smallest useful program: zero configuration, structured fields from
// named placeholders, key-values, scoped context, and a layer.
#include <hydra/hydra.hpp>

int main() {
  hydra::Logger log;  // text lines on stdout, colour on a terminal

  log.info("user {user} logged in from {ip}", "alice", "10.0.0.7");
  log.with({{"order", 42}, {"amount", 12.5}}).warning("payment retried {} times", 2);
  {
    hydra::ScopedContext request({{"request_id", "req-7f3a"}});
    log.layer("DATABASE").info("query took {ms:.1f} ms", 3.25);
  }
  log.security("failed login for {user}", "mallory");
  return 0;
}
