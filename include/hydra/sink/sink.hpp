// A sink is where formatted bytes go: a console, a file, a socket. It has two
// verbs, write and flush. Sinks are shared by destinations and may be called
// from several threads: every sink is thread-safe. A sink never throws from
// write or flush and never blocks the application on a failing device: it
// counts the error, reports it on stderr and retries on later writes; what it
// gives up on is counted too (dropped_records / dropped_bytes).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hydra/core/record.hpp"
#include "hydra/sink/delivery_counts.hpp"

namespace hydra {

class Logger;

class Sink {
 public:
  virtual ~Sink() = default;

  // Takes one formatted record (`bytes`, ending in '\n' for line formats).
  // `record` is there for sinks that need more than the bytes (level for flush
  // decisions, timestamp for time-based rotation).
  virtual void write(const Record& record, std::string_view bytes) = 0;

  // Whether write() reads `bytes`. A sink that works from the record alone
  // (the bridge renders its own frames) says false, and the logger does not
  // format records for it (bytes is then empty).
  virtual bool wants_bytes() const { return true; }

  // Pushes buffered bytes to the device.
  virtual void flush() = 0;

  // Closes and reopens the underlying file, for external rotation (SIGHUP).
  virtual void reopen() {}

  // Whether the sink writes to a terminal, for color_mode auto.
  virtual bool is_terminal() const { return false; }

  // Write errors seen so far (failed writes, retried later).
  virtual std::uint64_t write_errors() const { return 0; }

  // Records (and their bytes) that this sink was given and will never write:
  // dropped while its device failed, or still unwritten when it closed.
  // LoggerMetrics sums them over a logger's sinks.
  virtual std::uint64_t dropped_records() const { return 0; }
  virtual std::uint64_t dropped_bytes() const { return 0; }

  // A sink that ships records to a network destination: its accounting,
  // which LoggerMetrics::destinations lists. Others: none.
  virtual std::optional<DestinationMetrics> destination_metrics() const { return std::nullopt; }

  // The logger's end, after its last flush: a sink that ships records
  // elsewhere stops taking them and settles what it holds (NetworkSink: its
  // delivery engine's shutdown), so that its destination_metrics() are
  // final. The logger then records them in its audit trails.
  virtual void finish() {}

  // A sink that brings records into its logger (the bridge: records that
  // clients submit, failed logins) is given the logger once the logger is
  // fully built (at the end of its constructor, or of the reconfigure that
  // brought the sink), and told at the logger's end, before anything stops,
  // that the logger is going; after detach() returns it must not use it.
  virtual void attach(Logger& /*logger*/) {}
  virtual void detach(Logger& /*logger*/) {}

  // Whether the sink is a tamper-evident audit trail (protect's
  // AuditChainSink): the logger writes the network destinations' final
  // counts into it at its end (docs/shipping.md, "Accounting").
  virtual bool is_audit_trail() const { return false; }

  // Renders a notice of the sink's own ("1234 records lost: No space left on
  // device") as a line of its destination's format, from a record that the
  // sink fills in (time, level, message, fields); the logger completes the
  // layer and logger name. The logger sets one on each sink it builds; a sink
  // that writes notices in-band (among the records) uses it.
  using NoticeFormatter = std::function<std::string(Record& notice)>;
  virtual void set_notice_formatter(const NoticeFormatter& /*format*/) {}

  // fork(): the logger's pthread_atfork handlers call before_fork() in the
  // forking thread, and after_fork() in the parent and in the child. A sink
  // with a lock takes it in before_fork() (after writing what it buffers), so
  // that no other thread holds it across the fork, and releases it in
  // after_fork(); in the child it also drops what is still buffered, which
  // the parent writes. The defaults do nothing: a custom sink with a lock
  // should override them.
  virtual void before_fork() {}
  virtual void after_fork(bool /*in_child*/) {}

  // From a crash handler (see hydra/async/crash_handler.hpp): writes what is
  // buffered without ever waiting for a lock the calling thread may hold,
  // since the signal may have interrupted this very thread inside the sink.
  // The default calls flush(): a custom sink whose flush takes a lock should
  // override it.
  virtual void emergency_flush() noexcept {
    try {
      flush();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to be done about it in a crash
    }
  }
};

}  // namespace hydra
