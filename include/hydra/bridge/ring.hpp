// The bridge's memory of recent records: a ring bounded in records and in
// bytes, numbering what it is given 1, 2, 3... (the stream's seq), or keeping
// the seq its source gave (hydra-bridge: JetStream's). Writers
// (the pipeline) never wait for readers: the oldest records go to make room,
// and a reader that asks for them learns where the ring now begins, which
// it reports as a gap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "hydra/bridge/entry.hpp"

namespace hydra::bridge {

class Ring {
 public:
  Ring(std::size_t max_records, std::size_t max_bytes);

  // Numbers `entry` and keeps it; returns its seq. Thread-safe.
  std::uint64_t push(std::shared_ptr<Entry> entry);
  // Keeps `entry` with a seq of its source's (JetStream's stream sequence),
  // which may skip numbers; false (and not kept) when it is not past the
  // last one (a redelivery).
  bool push(std::shared_ptr<Entry> entry, std::uint64_t seq);
  // An empty ring's next seq: a stream that begins past 1.
  void start_at(std::uint64_t seq);
  // Numbers a record without keeping it (nobody watches). What the ring
  // held goes too, so that a cursor from before it is told of the gap.
  void skip();

  struct Slice {
    std::uint64_t first_kept = 1;   // the oldest seq the ring still holds (or next, when empty)
    std::uint64_t next = 1;         // the seq the next record will get
    std::vector<EntryPtr> entries;  // from max(from, first_kept), in seq order
  };
  // At most `max` entries from seq `from` on. Thread-safe.
  Slice read(std::uint64_t from, std::size_t max) const;
  // The same into `out`, whose entries' capacity is kept (a reader that
  // takes tens of thousands a tick does not allocate and free them anew).
  void read(std::uint64_t from, std::size_t max, Slice& out) const;

  std::uint64_t next_seq() const;
  std::uint64_t first_kept() const;
  std::uint64_t evicted() const;

 private:
  void keep(std::shared_ptr<Entry> entry, std::uint64_t seq);  // under mutex_
  const std::size_t max_records_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::deque<EntryPtr> entries_;
  std::size_t bytes_ = 0;
  std::uint64_t next_ = 1;
  std::uint64_t evicted_ = 0;
};

}  // namespace hydra::bridge
