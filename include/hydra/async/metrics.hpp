// Health of the async engine, as a snapshot: per-thread queues, what went in
// and out, what was dropped and why, how often callers had to wait or write
// themselves, and how far behind the backend is.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hydra {

struct ThreadQueueMetrics {
  std::uint64_t thread_id = 0;
  std::size_t capacity = 0;      // bytes, all of the thread's queues together
  std::size_t depth = 0;         // bytes waiting now
  std::size_t high_water = 0;    // most bytes ever waiting
  std::uint64_t records_in = 0;  // records this thread queued (not those it wrote itself)
  bool thread_exited = false;
};

struct AsyncMetrics {
  bool enabled = false;  // false in sync mode (everything else is zero)
  // Every record callers logged: queued, written by the caller itself
  // (sync_writes) or dropped (dropped_full). Once everything logged is
  // written (after flush(), with no call under way):
  // records_in == records_out + dropped_full.
  std::uint64_t records_in = 0;
  std::uint64_t records_out = 0;     // records written, by the backend or by a caller
  std::uint64_t dropped_full = 0;    // dropped under OverflowPolicy::drop (or grow -> drop)
  std::uint64_t sync_writes = 0;     // records callers wrote themselves (sync_fallback, auto,
                                     // too large for the queue, after shutdown)
  std::uint64_t blocked_waits = 0;   // times a caller waited for space
  std::uint64_t queue_grows = 0;     // times a queue was doubled (grow)
  std::uint64_t grows_prepared = 0;  // of those, with a queue the backend had made ahead
  // Times a flush or a synchronous write waited for another thread's record
  // that was stamped but not yet committed, to keep timestamp order.
  std::uint64_t order_waits = 0;
  // Age of the oldest record not yet written (zero when all is written).
  std::chrono::nanoseconds backend_lag{0};
  std::vector<ThreadQueueMetrics> threads;
};

}  // namespace hydra
