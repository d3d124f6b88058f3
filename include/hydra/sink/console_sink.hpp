// Console sink: stdout or stderr, written with write(2) one record at a time
// (no stdio buffering, so lines from several loggers or processes never
// interleave mid-line and nothing waits in a buffer at a crash).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "hydra/sink/detail/crash_lock.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra {

enum class ConsoleStream { stdout_stream, stderr_stream };

class ConsoleSink final : public Sink {
 public:
  // `header` (a CSV header, Formatter::header()) is written once, before the
  // first record.
  explicit ConsoleSink(ConsoleStream stream = ConsoleStream::stdout_stream,
                       std::string header = {});
  // A sink on an arbitrary descriptor (not owned), for tests and pipes.
  explicit ConsoleSink(int fd, std::string header = {});

  void write(const Record& record, std::string_view bytes) override;
  void flush() override {}
  bool is_terminal() const override;
  std::uint64_t write_errors() const override { return errors_.load(std::memory_order_relaxed); }
  // The lock is held across fork(), so that the child never inherits it
  // taken by a thread it does not have.
  void before_fork() override { mutex_.lock_first(); }
  void after_fork(bool /*in_child*/) override { mutex_.unlock(); }
  // Nothing is buffered. A write() from the crash handler does not wait for
  // the lock when the handler interrupted this very thread inside write():
  // the record then follows whatever part of the interrupted one got out.

 private:
  int fd_;
  std::string header_;  // cleared once written
  detail::OwnedMutex mutex_;
  std::atomic<std::uint64_t> errors_{0};
  bool reported_ = false;
};

}  // namespace hydra
