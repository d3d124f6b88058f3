// A sink is where formatted bytes go: a console, a file, a socket. It has two
// verbs, write and flush. Sinks are shared by destinations and may be called
// from several threads: every sink is thread-safe. A sink never throws from
// write or flush and never blocks the application on a failing device: it
// counts the error, reports it once on stderr and retries on later writes.
#pragma once

#include <cstdint>
#include <string_view>

#include "hydra/core/record.hpp"

namespace hydra {

class Sink {
 public:
  virtual ~Sink() = default;

  // Takes one formatted record (`bytes`, ending in '\n' for line formats).
  // `record` is there for sinks that need more than the bytes (level for flush
  // decisions, timestamp for time-based rotation).
  virtual void write(const Record& record, std::string_view bytes) = 0;

  // Pushes buffered bytes to the device.
  virtual void flush() = 0;

  // Closes and reopens the underlying file, for external rotation (SIGHUP).
  virtual void reopen() {}

  // Whether the sink writes to a terminal, for color_mode auto.
  virtual bool is_terminal() const { return false; }

  // Write errors seen so far (failed writes, retried later).
  virtual std::uint64_t write_errors() const { return 0; }
};

}  // namespace hydra
