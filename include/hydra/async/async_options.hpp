// Async mode's settings: how big each thread's queue is, what a caller does
// when its queue is full, and how the backend waits when idle. Every choice
// is explicit and counted: a record is written, or dropped under `drop` and
// reported in-band; nothing is lost silently.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hydra {

enum class OverflowPolicy {
  block,          // the caller waits for space (default)
  drop,           // the record is dropped and counted; an in-band record says how many
  grow,           // the queue grows (doubling) up to grow_limit, then grow_fallback applies
  sync_fallback,  // the caller does the backend's work: drains pending records, then its own
  automatic,      // block while the backend is healthy, sync_fallback when it stalls or dies
};

// "block", "drop", "grow", "sync_fallback", "auto"; nullopt otherwise.
std::optional<OverflowPolicy> parse_overflow_policy(std::string_view name) noexcept;
inline constexpr std::string_view kOverflowPolicyChoices = "block, drop, grow, sync_fallback, auto";

struct AsyncOptions {
  // Bytes of each thread's queue (rounded up to a power of two, at least 4 KiB).
  std::size_t queue_capacity = std::size_t{256} * 1024;
  OverflowPolicy overflow = OverflowPolicy::block;
  // grow: the most one thread's queues may take together...
  std::size_t grow_limit = std::size_t{64} * 1024 * 1024;
  // ...and what happens beyond it (block, drop or sync_fallback).
  OverflowPolicy grow_fallback = OverflowPolicy::sync_fallback;
  // grow: the backend keeps a thread's next, doubled queue made (and the
  // one after it, for a thread that has grown or called preallocate()), and
  // faults its pages in (behind the caller, if it already writes there), so
  // the caller that fills its queue only switches queues instead of
  // allocating and touching new pages: growth costs the caller no latency
  // spike. Off: the caller allocates when it finds the queue full, and the
  // new queue's pages fault in as records reach them.
  bool prepare_growth = true;
  // How long the idle backend sleeps between looks at the queues. It wakes at
  // once for flush() and for callers waiting on a full queue.
  std::chrono::microseconds idle_wait{500};
  // automatic: a backend that has made no progress for this long, with
  // records waiting, is taken as stalled and callers write synchronously.
  // Also the longest a flush or a synchronous write waits for an older
  // record another thread is still writing (see docs/async.md).
  std::chrono::milliseconds stall_timeout{200};
  // Every health_interval (0: never) the backend logs an in-band INFO record
  // on health_layer with the metrics snapshot as fields (records_in,
  // records_out, dropped, sync_writes, blocked_waits, order_waits, queue_grows,
  // backend_lag_us, threads, queued_bytes, high_water_bytes).
  std::chrono::milliseconds health_interval{0};
  std::string health_layer = "HYDRA";

  bool operator==(const AsyncOptions&) const = default;
};

// Called by a log call just before it waits for room in a full queue (the
// block and automatic policies) and just after the wait, on the waiting
// thread. For language bindings whose callers hold a lock other threads need
// while this one waits: the Python package releases the GIL there. Both null
// by default; set them before logging starts.
struct BlockingHooks {
  void (*before_wait)() = nullptr;
  void (*after_wait)() = nullptr;
};
void set_blocking_hooks(BlockingHooks hooks) noexcept;

}  // namespace hydra
