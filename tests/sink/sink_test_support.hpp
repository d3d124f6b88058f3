// Helpers for the sink tests: hand-built records, counting, and a child
// process whose files can grow only so far (directories and files:
// test_util.hpp).
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <string>

#include "hydra/core/record.hpp"
#include "test_util.hpp"

namespace hydra::test {

inline Record record_at(Level level = Level::info) {
  Record r;
  r.level = level;
  r.message = "m";
  return r;
}

inline std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

// Runs `body` in a fork()ed child whose files cannot grow past `max_file_size`
// bytes (RLIMIT_FSIZE, SIGXFSZ ignored): a real device failure, where the
// write(2) that reaches the limit is partial and later ones fail with EFBIG.
// The child may lift the limit (lift_file_size_limit) to let the device
// "recover". Returns the child's exit code: 0 when `body` returned, 1 when
// it threw, -1 when it died by a signal.
inline int run_with_file_size_limit(rlim_t max_file_size, const std::function<void()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{};
    ::getrlimit(RLIMIT_FSIZE, &limit);
    limit.rlim_cur = max_file_size;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(2);
    try {
      body();
    } catch (...) {
      std::_Exit(1);
    }
    std::_Exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline void lift_file_size_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_FSIZE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_FSIZE, &limit);
}

}  // namespace hydra::test
