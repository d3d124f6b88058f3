// File sink: appends to one file through a user-space buffer. The buffer goes
// to the file when it fills, on every record at or above flush_level, on
// flush() (which the logger also calls every flush_interval), and on
// destruction. The file is opened when the sink is built, after making its
// missing parent directories: a directory that cannot be made or a path that
// cannot be opened throws ConfigError naming it and the errno text.
//
// A failing device (disk full, I/O error, permission lost) never costs more
// than one write(2) attempt per record, and is reported, counted and retried:
// - records stay buffered, in order, up to max_pending bytes; past that, new
//   records are dropped whole and counted (dropped_records, dropped_bytes);
// - stderr says when writing fails, every 5 s while records are being lost,
//   and when writing works again; the file then gets an in-band notice (a
//   line of its destination's format, see Sink::set_notice_formatter) saying
//   how many records were lost;
// - the file ends on a record boundary whenever the sink leaves it: a record
//   that a failing write(2) cut short is finished there first when writing
//   works again, or, if the file is closed, reopened or the process forks
//   before that, taken out of it again (and written whole later); a file
//   found ending mid-line (an earlier run killed mid-write) gets a newline
//   before the first record;
// - what is still buffered when the sink is destroyed is reported and
//   counted as lost.
// write() never throws and never blocks beyond the write(2) call itself.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "hydra/sink/detail/crash_lock.hpp"
#include "hydra/sink/detail/pending_bytes.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra {

struct FileSinkOptions {
  std::string path;
  Level flush_level = Level::error;
  std::size_t buffer_size = std::size_t{64} * 1024;
  // Bytes kept while the device fails; once they are reached, new records are
  // dropped (and counted) until writing works again. The oldest records are
  // kept, so the file has no gap until the notice that counts the loss.
  std::size_t max_pending = std::size_t{16} * 1024 * 1024;
  bool truncate = false;  // start empty instead of appending
  // Written first into every file the sink finds empty when it opens it (at
  // construction, reopen(), a rotation), just before that file's first
  // record: a file never holds a header alone, and a file that already has
  // content (a restart appending to it) gets none. A CSV header
  // (Formatter::header()), for example; empty: none.
  std::string header;
  // The time for the loss reports' pace (at most one every 5 s); default
  // steady_clock::now. For tests.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

class FileSink : public Sink {
 public:
  // Opens the file, making missing parent directories first (like `mkdir -p`,
  // mode 0755). Throws ConfigError: "file '<path>': cannot create directory
  // '<dir>': <errno text>" or "file '<path>': cannot open: <errno text>".
  explicit FileSink(FileSinkOptions options);
  // Flushes; bytes that still cannot be written are reported and counted as
  // lost.
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(const Record& record, std::string_view bytes) override;
  void flush() override;
  // Flushes, closes and opens the path again (a fresh file after an external
  // rename). If the path cannot be opened, records keep buffering and the
  // open is retried at each flush. Directories are not made again.
  void reopen() override;
  std::uint64_t write_errors() const override { return errors_.load(std::memory_order_relaxed); }
  // Records given up: dropped at max_pending, unwritten at close, or the rest
  // of a record cut off in a file that was then closed (reopen).
  std::uint64_t dropped_records() const override {
    return dropped_records_.load(std::memory_order_relaxed);
  }
  std::uint64_t dropped_bytes() const override {
    return dropped_bytes_.load(std::memory_order_relaxed);
  }
  void set_notice_formatter(const NoticeFormatter& format) override;
  // Takes the lock after writing what is buffered; in the child, drops what
  // is still buffered (the parent writes it).
  void before_fork() override;
  void after_fork(bool in_child) override;
  // Writes what is buffered with write(2) alone (no allocation). When the
  // crash handler interrupted this very thread inside the sink, it does so
  // without the lock, from the state the interrupted code left (which is
  // consistent at every step); the bytes of a write(2) it interrupted count
  // as written. When another thread holds the lock for more than a second,
  // the buffered bytes are given up, with a note on stderr.
  void emergency_flush() noexcept override;

  const std::string& path() const noexcept { return options_.path; }
  // Bytes accepted and not yet written.
  std::size_t pending_bytes() const;
  // Counts a record of `size` bytes as dropped, as if it had met a full
  // max_pending (for a rotating sink whose current file has no room left for
  // it while the device fails).
  void drop_record(std::size_t size);

  // Test hook: makes the next `count` write(2) calls fail with `error` (errno).
  void inject_write_failures(int count, int error);

 private:
  // All below run with mutex_ held.
  void write_locked(const Record& record, std::string_view bytes);
  bool flush_locked();  // false: the bytes stay buffered (device failing)
  bool write_pending_locked();
  bool open_locked(bool truncate);
  // The failure inject_write_failures() set up for this attempt, or 0.
  int injected_error();
  // Writes, ahead of the pending records, what the file needs first (a
  // newline, the header); `done` of its bytes are there already.
  bool write_ahead_locked(int fd, std::string_view text, std::size_t& done);
  // Before the file is closed, reopened or forked: cuts a record that a
  // partial write left at the file's end back out of it (false: it could not).
  bool take_back_partial_record();
  void drop_rest_of_partial_record();
  void note_failure(std::string_view what, int error);
  void drop_locked(std::size_t size);
  // Reports the records dropped since the last report, at most every 5 s
  // unless `regardless_of_pace`.
  void report_losses(bool regardless_of_pace);
  void end_failure_episode();
  std::chrono::steady_clock::time_point now() const;

  // The crash handler's paths (see emergency_flush).
  void write_in_crash(const Record& record, std::string_view bytes) noexcept;
  bool write_pending_in_crash() noexcept;

  FileSinkOptions options_;
  // The lock and the state every record changes (pending_'s size and last
  // block) share one cache line: with threads taking turns at the lock, each
  // turn then moves one contended line, not three.
  alignas(64) mutable detail::OwnedMutex mutex_;
  detail::PendingBytes pending_;
  // -1 after a failed reopen: opened again at the next flush. Atomic, and
  // set to -1 before a close, so that the crash handler never writes to a
  // descriptor number that is being reused.
  std::atomic<int> fd_{-1};
  // The end of the bytes a write(2) in progress is writing from
  // pending_.front(), for the crash handler; stale values point before the
  // front and mean nothing.
  std::atomic<const char*> in_flight_end_{nullptr};
  // Bytes of pending_'s first record already in the file: a write(2) was cut
  // short inside it. Its rest must go to this file first.
  std::size_t partial_ = 0;
  bool needs_newline_ = false;  // the file ends mid-line (found at open)
  NoticeFormatter notice_formatter_;

  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> dropped_records_{0};
  std::atomic<std::uint64_t> dropped_bytes_{0};
  // Failure episode: from the first failing write until one succeeds again.
  bool failing_ = false;
  int episode_error_ = 0;  // errno of the first failure, for the reports
  std::uint64_t episode_errors_ = 0;
  std::uint64_t episode_records_at_start_ = 0;  // dropped_records_ when it began
  std::uint64_t episode_bytes_at_start_ = 0;
  std::uint64_t reported_records_ = 0;  // dropped_records_ at the last loss report
  std::uint64_t reported_bytes_ = 0;
  std::chrono::steady_clock::time_point next_loss_report_{};
  // The file is empty: the header goes ahead of the first bytes written to
  // it; header_written_ of its bytes are there already.
  bool header_due_ = false;
  std::size_t header_written_ = 0;
  int inject_count_ = 0;
  int inject_errno_ = 0;
};

}  // namespace hydra
