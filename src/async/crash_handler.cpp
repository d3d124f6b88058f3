#include "hydra/async/crash_handler.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

#include "hydra/core/logger.hpp"

namespace hydra {
namespace {

constexpr int kSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT};

std::atomic<bool> g_flushing{false};
std::terminate_handler g_previous_terminate = nullptr;

void say(const char* text) {
  // write(2) is async-signal-safe; the result does not matter here.
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

void flush_once() {
  if (g_flushing.exchange(true)) return;
  detail::emergency_flush_all();
}

extern "C" void on_fatal_signal(int signo) {
  if (signo != SIGTERM && signo != SIGINT) say("hydra: fatal signal: writing queued log records\n");
  flush_once();
  // SA_RESETHAND restored the default action: raise again to die by it.
  std::signal(signo, SIG_DFL);
  ::raise(signo);
}

void on_terminate() {
  say("hydra: std::terminate: writing queued log records\n");
  flush_once();
  if (g_previous_terminate != nullptr) g_previous_terminate();
  std::abort();
}

}  // namespace

void install_crash_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    // An alternate stack, so that a stack overflow can still be handled.
    static char alt_stack[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof(alt_stack);
    ::sigaltstack(&ss, nullptr);

    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
    for (int signo : kSignals) ::sigaction(signo, &sa, nullptr);
    g_previous_terminate = std::set_terminate(on_terminate);
  });
}

}  // namespace hydra
