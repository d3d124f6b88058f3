// Counting the system calls a piece of code makes, with ptrace: a test of
// what an operation costs that does not depend on the machine's speed or
// load. Used by tests named *ForkTest (they fork; scripts/test.sh keeps them
// out of the TSan run).
#pragma once

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <optional>

namespace hydra::test {

// Runs `prepare`, then `measured` in a child process traced with ptrace, and
// returns the number of system calls `measured` made (with the few of the
// stop that marks its start), or nothing where ptrace is not allowed. The
// child exits with what `measured` returns; `*exit_code` gets it.
inline std::optional<long> count_system_calls(const std::function<void()>& prepare,
                                              const std::function<int()>& measured,
                                              int* exit_code) {
  const pid_t child = ::fork();
  if (child == 0) {
    prepare();
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(100);
    ::raise(SIGSTOP);
    ::_exit(measured());
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFSTOPPED(status)) {
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return std::nullopt;
  }
  ::ptrace(PTRACE_SETOPTIONS, child, nullptr, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
  long stops = 0;
  int signal_to_pass = 0;
  for (;;) {
    ::ptrace(PTRACE_SYSCALL, child, nullptr, signal_to_pass);
    signal_to_pass = 0;
    if (::waitpid(child, &status, 0) != child) break;
    if (WIFEXITED(status) || WIFSIGNALED(status)) break;
    if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
      ++stops;  // a system call's entry or exit
    } else {
      signal_to_pass = WSTOPSIG(status);
    }
  }
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return stops / 2;
}

}  // namespace hydra::test
