// The disk spool of a network destination: a write-ahead log of records
// that could not be delivered yet (the destination down, its queue full),
// replayed in order when the destination returns, and after a restart of the
// process. Bounded by a hard size cap; a record is refused, never lost
// silently, when the cap or the disk is reached. After corruption it
// recovers every record that decodes and counts the bytes it had to skip.
//
// On disk (docs/shipping.md, "The spool format"; version 2): a directory of
// segment files, seg-<20 digits>.hspool, in the order of their numbers, and
// a cursor file, `cursor`, saying how far the oldest segment was consumed.
// A segment is a 16-byte header ("HYSPOOL\0", u32 version 2, u32 0) then
// records, each:
//   u32 magic 0x52505348 ("HSPR" on disk), u32 payload size,
//   u64 record id, u64 engine instance (the two make record_key()),
//   i64 time (ns since the epoch), the payload,
//   u32 CRC-32C of id, instance, time and payload;
// integers little-endian. A spool is used by one process at a time (the
// directory is locked with flock), and by one thread at a time (its
// destination's sender): the class is not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::net {

struct SpoolOptions {
  std::filesystem::path dir;
  // The sum of the segment files' sizes never exceeds this.
  std::uint64_t max_bytes = std::uint64_t{256} << 20;
  // A new segment is begun once the newest reaches this size.
  std::uint64_t segment_bytes = std::uint64_t{16} << 20;
  // fsync() of the newest segment at most this long after an append (0:
  // after every append). Checked on each append and on sync().
  std::chrono::milliseconds fsync_interval{1000};
};

struct SpooledRecord {
  std::uint64_t id = 0;
  std::int64_t time_ns = 0;
  std::string bytes;
  std::uint64_t instance = 0;
};

struct SpoolStats {
  std::uint64_t records = 0;  // in the spool, not consumed
  std::uint64_t bytes = 0;    // of the segment files
  std::uint64_t segments = 0;
  std::uint64_t appended = 0;       // since opened
  std::uint64_t refused_full = 0;   // appends refused by max_bytes
  std::uint64_t write_errors = 0;   // appends that failed (a full disk: ENOSPC)
  std::uint64_t corrupt_bytes = 0;  // skipped while reading: not a record that decodes
  std::uint64_t torn_bytes = 0;     // a record cut short at a segment's end (a crash mid-write)
  std::int64_t oldest_time_ns = 0;  // of the oldest record in the spool (0: none)
};

class Spool {
 public:
  enum class Append : std::uint8_t { ok, full, failed };

  // Opens (creating) the directory, locks it, and reads what it holds:
  // every segment is scanned, so stats() are right from the start. Throws
  // std::runtime_error naming the path and the errno text when the directory
  // cannot be made, opened or locked (another process has it).
  explicit Spool(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends one record. full: it would take the spool past max_bytes;
  // failed: the write failed (last_error() says why; nothing of it stays).
  Append append(std::uint64_t id, std::int64_t time_ns, std::string_view bytes,
                std::uint64_t instance = 0);

  // Appends records in order, as append() would one by one, with one
  // write() for those that land in the same segment. What each came to is
  // counted: full ones are left out (later, smaller ones may still fit);
  // when a write fails, none of the records it carried stays.
  struct Entry {
    std::uint64_t id = 0;
    std::int64_t time_ns = 0;
    std::string_view bytes;
    std::uint64_t instance = 0;
  };
  struct AppendCounts {
    std::size_t ok = 0, full = 0, failed = 0;
  };
  AppendCounts append(std::span<const Entry> records);

  // Up to `max_records` (and about `max_bytes`, at least one) of the oldest
  // records, in order, without consuming them.
  std::vector<SpooledRecord> peek(std::size_t max_records, std::size_t max_bytes) const;
  // Consumes the `n` oldest records (those peek() returned): the cursor is
  // saved, and a segment wholly consumed is deleted.
  void pop(std::size_t n);

  // fsync()s what was appended.
  void sync();
  SpoolStats stats() const;
  // The error of the last failed append or sync, with the path.
  std::string last_error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// CRC-32C (Castagnoli), as the spool's records carry it.
// With the CPU's crc32 instruction where it has one (x86-64 with SSE 4.2),
// else with a table.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

namespace detail {
// The table's CRC-32C, whatever the CPU: the tests check both ways agree.
std::uint32_t crc32c_table(std::string_view data, std::uint32_t crc = 0);
}  // namespace detail

}  // namespace hydra::net
