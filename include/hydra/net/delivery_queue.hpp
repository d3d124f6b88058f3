// The queue between the application and a network destination's sender:
// bounded in bytes (a record is serialised when it is queued, so the bound
// is what it holds), with the overflow policy the destination chose, and a
// count of everything it turned away. The sender takes batches from it,
// bounded in records and bytes, waiting at most `linger` for a batch to fill.
//
// Overflow, when a record does not fit:
//   block        the caller waits for room (only this destination's callers:
//                each destination has a queue of its own);
//   drop_newest  the record is turned away (counted: dropped_newest);
//   drop_oldest  the oldest records make room (counted: dropped_oldest);
//   spool        the caller is told (Push::full) and writes it to the spool.
// A record larger than the whole queue never fits: turned away under every
// policy but spool (counted: dropped_oversize).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace hydra::net {

enum class Overflow : std::uint8_t { block, drop_newest, drop_oldest, spool };

struct QueuedRecord {
  std::uint64_t id = 0;  // the engine instance's sequence: 1, 2, 3 ...
  std::int64_t time_ns = 0;
  std::string bytes;
  // The delivery engine instance that took the record in: random, a new one
  // each process (kept in the spool with the record, so that a replay after
  // a restart keeps the record's key).
  std::uint64_t instance = 0;
};

// The record's idempotency key, "<instance, 16 hex digits>-<id>": the same
// for every retry and replay of the record, after a restart too, and unique
// across processes. Sent as Elasticsearch's _id, NATS's Nats-Msg-Id, a HEC
// field, so that a retry does not duplicate the record.
std::string record_key(const QueuedRecord& record);

struct QueueCounts {
  std::uint64_t queued = 0;            // taken in
  std::uint64_t dropped_newest = 0;    // turned away: the queue was full
  std::uint64_t dropped_oldest = 0;    // pushed out by newer records
  std::uint64_t dropped_oversize = 0;  // larger than the queue
  std::uint64_t handed_to_spool = 0;   // Push::full under spool
  std::uint64_t blocked = 0;           // pushes that had to wait for room
  std::uint64_t records = 0;           // in the queue now
  std::uint64_t bytes = 0;             // of the records in the queue now
  std::int64_t oldest_time_ns = 0;     // of the oldest record in it (0: empty)
};

class DeliveryQueue {
 public:
  enum class Push : std::uint8_t {
    queued,   // in the queue (under drop_oldest, perhaps after dropping older ones)
    dropped,  // turned away and counted
    full,     // (spool) not queued: the caller spools it
    closed,   // the queue is closed: not queued, not counted here
  };

  DeliveryQueue(std::size_t max_bytes, Overflow overflow);

  // The application's side; from any thread.
  Push push(QueuedRecord record);

  // The sender's side (one sender or several). Waits until there is a
  // record, then up to `linger` more for the batch to reach `max_records`
  // or `max_bytes` (a flush request or close() ends the wait at once), and
  // takes up to that many, oldest first (at least one record, whatever its
  // size). Empty only when the queue is closed and empty.
  std::vector<QueuedRecord> take(std::size_t max_records, std::size_t max_bytes,
                                 std::chrono::milliseconds linger);
  // Takes what is there (as take() does), without waiting: empty when the
  // queue is.
  std::vector<QueuedRecord> take_now(std::size_t max_records, std::size_t max_bytes);
  // Waits until `max_records` records (or `max_bytes` bytes) are queued, a
  // flush request, close(), or `deadline` (with max_records 1: until there
  // is a record).
  void wait_for_batch(std::size_t max_records, std::size_t max_bytes,
                      std::chrono::steady_clock::time_point deadline);
  // Puts records the sender could not deliver back at the front, oldest
  // first, as they were (never dropped: they were counted in already).
  void put_back(std::vector<QueuedRecord> records);

  // Ends the linger of a take() in progress or the next ones until the
  // queue is empty: what is queued goes out now.
  void request_flush();
  // No more pushes (they return closed); take() drains what is left, then
  // returns empty. Wakes every waiter.
  void close();

  QueueCounts counts() const;

 private:
  bool fits(std::size_t size) const { return bytes_ + size <= max_bytes_; }
  // Moves up to the limits from the front into a batch; under mutex_.
  std::vector<QueuedRecord> pop_batch(std::size_t max_records, std::size_t max_bytes);

  const std::size_t max_bytes_;
  const Overflow overflow_;
  mutable std::mutex mutex_;
  std::condition_variable has_records_;
  std::condition_variable has_room_;
  std::deque<QueuedRecord> records_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
  bool flush_requested_ = false;
  QueueCounts counts_;
  // Who waits on has_records_, so that push() wakes them only when they
  // can go on (a futex wake per record would cost the application a
  // system call a record): those waiting for any record, and those
  // lingering for a batch of wake_records_ records or wake_bytes_ bytes.
  std::size_t empty_waiters_ = 0;
  std::size_t batch_waiters_ = 0;
  std::size_t wake_records_ = 1;
  std::size_t wake_bytes_ = 1;
  // Waits on has_records_ until `done` or `deadline`, as a batch waiter.
  template <typename Done>
  void wait_for_batch_locked(std::unique_lock<std::mutex>& lock, std::size_t max_records,
                             std::size_t max_bytes, std::chrono::steady_clock::time_point deadline,
                             Done done);
};

}  // namespace hydra::net
