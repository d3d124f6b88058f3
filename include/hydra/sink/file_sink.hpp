// File sink: appends to one file through a user-space buffer. The buffer goes
// to the file when it fills, on every record at or above flush_level, on
// flush() (which the logger also calls every flush_interval), and on
// destruction. The file is opened when the sink is built, after making its
// missing parent directories: a directory that cannot be made or a path that
// cannot be opened throws ConfigError naming it and the errno text. A failing
// write (disk full, permission lost) is counted, reported once on stderr and
// retried with the next flush; the bytes stay buffered up to a cap, beyond
// which the oldest are dropped and counted. write() never throws or blocks
// beyond the write(2) call itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "hydra/sink/sink.hpp"

namespace hydra {

struct FileSinkOptions {
  std::string path;
  Level flush_level = Level::error;
  std::size_t buffer_size = std::size_t{64} * 1024;
  // Bytes kept while the device fails; past this the oldest are dropped
  // (and counted in dropped_bytes()).
  std::size_t max_pending = std::size_t{16} * 1024 * 1024;
  bool truncate = false;  // start empty instead of appending
};

class FileSink : public Sink {
 public:
  // Opens the file, making missing parent directories first (like `mkdir -p`,
  // mode 0755). Throws ConfigError: "file '<path>': cannot create directory
  // '<dir>': <errno text>" or "file '<path>': cannot open: <errno text>".
  explicit FileSink(FileSinkOptions options);
  // Flushes; bytes that still cannot be written are reported as lost.
  ~FileSink() override;

  void write(const Record& record, std::string_view bytes) override;
  void flush() override;
  // Flushes, closes and opens the path again (a fresh file after an external
  // rename). If the path cannot be opened, records keep buffering and the
  // open is retried at each flush.
  void reopen() override;
  std::uint64_t write_errors() const override { return errors_.load(std::memory_order_relaxed); }
  std::uint64_t dropped_bytes() const { return dropped_.load(std::memory_order_relaxed); }
  const std::string& path() const noexcept { return options_.path; }

  // Test hook: makes the next `count` write(2) calls fail with `error` (errno).
  void inject_write_failures(int count, int error);

 private:
  // All below run with mutex_ held.
  bool flush_locked();  // false: the bytes stay buffered (device failing)
  bool open_locked(bool truncate);
  void note_failure(std::string_view what, int error);
  void cap_pending();

  FileSinkOptions options_;
  std::mutex mutex_;
  int fd_ = -1;  // -1 after a failed reopen: opened again at the next flush
  std::string buffer_;
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> dropped_{0};
  // Failure episode: set at the first failing write, reported once, and
  // cleared (with a report) when a write succeeds again.
  bool failing_ = false;
  std::uint64_t episode_errors_ = 0;
  std::uint64_t episode_dropped_at_start_ = 0;
  int inject_count_ = 0;
  int inject_errno_ = 0;
};

}  // namespace hydra
