#include "hydra/sink/console_sink.hpp"

#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

#include "fd_io.hpp"

namespace hydra {

namespace {

// How long one record may wait for a full non-blocking descriptor (a pipe
// whose reader stalls) before it is counted as a write error.
constexpr std::chrono::milliseconds kAgainBudget{100};

}  // namespace

ConsoleSink::ConsoleSink(ConsoleStream stream, std::string header)
    : fd_(stream == ConsoleStream::stderr_stream ? STDERR_FILENO : STDOUT_FILENO),
      header_(std::move(header)) {}

ConsoleSink::ConsoleSink(int fd, std::string header) : fd_(fd), header_(std::move(header)) {}

void ConsoleSink::write(const Record& /*record*/, std::string_view bytes) {
  // One write(2) per record under the lock: records from several threads never
  // interleave mid-line, and nothing waits in a buffer if the process dies.
  detail::WriteResult result;
  if (detail::in_crash_handler()) [[unlikely]] {
    const detail::CrashLock lock = detail::lock_in_crash(mutex_);
    if (lock == detail::CrashLock::busy) {  // held by another thread for a second: give up
      errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    result = detail::write_all(fd_, bytes, kAgainBudget);
    if (lock == detail::CrashLock::taken) mutex_.unlock();
    if (result.error != 0) errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard lock(mutex_);
  if (!header_.empty()) {
    (void)detail::write_all(fd_, header_, kAgainBudget);  // a failure shows in the record's write
    header_.clear();
  }
  result = detail::write_all(fd_, bytes, kAgainBudget);
  if (result.error == 0) return;
  errors_.fetch_add(1, std::memory_order_relaxed);
  // A failing stderr cannot carry its own error report: just count.
  if (reported_ || fd_ == STDERR_FILENO) return;
  reported_ = true;
  detail::report_to_stderr("console (fd " + std::to_string(fd_) +
                           "): write failed: " + detail::errno_text(result.error) +
                           " (further errors are counted, not reported)");
}

bool ConsoleSink::is_terminal() const {
  return ::isatty(fd_) == 1;
}

}  // namespace hydra
