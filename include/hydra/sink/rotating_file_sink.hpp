// Rotating file sink: a file sink that starts a new file when the next
// record would take the current one past max_size, and/or when a local-time
// boundary passes (every hour, every day at a chosen time, every N minutes).
// The old file becomes a backup: path.1, path.2 ... (index naming, renamed at
// each rotation) or path.2026-12-06 (date naming, never renamed). It keeps
// backup_count backups and deletes older ones; the count holds across
// restarts (existing backups are found on open). Rotated files can be
// zstd-compressed (path.1.zst). Only a regular file is rotated. The clock is
// injectable for tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "hydra/config/config.hpp"
#include "hydra/sink/file_sink.hpp"

namespace hydra {

struct RotatingFileSinkOptions {
  FileSinkOptions file;
  std::uint64_t max_size = 0;  // 0: no size rotation
  RotationInterval interval = RotationInterval::none;
  // Where in the local day the interval's boundaries fall: they are the times
  // rotation_time + k * interval. 0 to 23:59; only with an interval.
  std::chrono::minutes rotation_time{0};
  // 0: rotate by truncating, keep no backups. At most kMaxBackupCount.
  int backup_count = 5;
  BackupNaming backup_naming = BackupNaming::index;
  // zstd-compress rotated files on a background thread. Without zstd support
  // in the build, a ConfigError at construction.
  bool compress = false;
  // Returns the current time; default system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class RotatingFileSink final : public Sink {
 public:
  // Throws ConfigError, naming the path, for: a path that exists and is not
  // a regular file (a directory, a device, a FIFO, a socket, a symbolic
  // link); an unopenable path; no rotation criterion; a backup_count below 0
  // or above kMaxBackupCount; an interval that does not divide a day; a
  // rotation_time outside the day or without an interval; compress without
  // zstd support.
  explicit RotatingFileSink(RotatingFileSinkOptions options);
  // Flushes, and finishes pending compressions before it returns.
  ~RotatingFileSink() override;

  // Rotates first when the record would take the file past max_size or a
  // time boundary has passed since the file was started. A rotation reads
  // the directory once and renames or deletes only the backups present.
  // When the path is no longer a regular file, it is not rotated: the
  // failure is counted and reported, and writing goes on.
  void write(const Record& record, std::string_view bytes) override;
  void flush() override;
  // As FileSink::reopen(), if the path is a regular file or does not exist;
  // otherwise the current file stays open, and the refusal is counted in
  // write_errors() and reported.
  void reopen() override;
  // Failed writes plus failed rotations and compressions.
  std::uint64_t write_errors() const override;
  // Rotations done (each one moved or truncated the current file).
  std::uint64_t rotations() const;
  // Records (and bytes) of the current file given up while its device was
  // failing (see FileSink); also those that had no room left in it: while
  // the device fails, what waits for the current file is kept for it, and a
  // record that would take it past max_size is dropped rather than split
  // off into the next file.
  std::uint64_t dropped_records() const override;
  std::uint64_t dropped_bytes() const override;
  void set_notice_formatter(const NoticeFormatter& format) override;
  // Holds the rotation lock and the file's across fork(). The child does not
  // compress what the parent rotated (the parent does); its own rotations
  // are compressed by a compressor thread of its own.
  void before_fork() override;
  void after_fork(bool in_child) override;
  void emergency_flush() noexcept override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydra
