// Scoped context: fields that a thread attaches to every record it logs while
// a ScopedContext lives (a request id, the user, a trace id). Scopes nest;
// inner scopes add fields after outer ones. Values are copied when the scope
// opens, so the caller's strings may die. Context belongs to the thread that
// opened it, and reaches the record in every mode.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>

#include "hydra/async/detail/spsc_queue.hpp"
#include "hydra/core/record.hpp"

namespace hydra {

class ScopedContext {
 public:
  ScopedContext(std::initializer_list<Field> fields);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  std::size_t depth_;
};

// The calling thread's context fields, outermost first. Views valid until the
// thread opens or closes a scope.
std::span<const Field> current_context() noexcept;

namespace detail {
// What a log call reads of its thread's own state, in two cache lines whose
// addresses are known without loading anything first, so that the first
// call after an idle spell waits for one round of misses, not a chain.
struct alignas(64) ThreadHot {
  // Changes whenever a scope opens or closes on this thread, so that async
  // mode sends a thread's context only when it changed (a thread starts
  // empty, 0).
  std::uint64_t context_version = 0;
  // Async mode: the queue (a ThreadQueue) this thread wrote last, its
  // engine's id, and that queue's producer state (below). Ids are never
  // reused, so a dead engine's entry never matches; cleared when the
  // thread's queues are released.
  std::uint64_t engine_id = 0;
  void* queue = nullptr;
  // Async mode: this thread's latest record timestamp (any engine's; a lower
  // bound of its next one), and whether it reads the TSC (set with `queue`).
  std::uint64_t last_stamp = 1;
  // Async mode: equals context_version while `queue` has nothing to send
  // first (its context is current and no drop report is due); any other
  // value sends the call the slow way, which settles it.
  std::uint64_t settled_version = 0;
  std::uint64_t records_in = 0;  // records `queue` has taken (its metrics copy trails this)
  bool use_tsc = false;
  // Async mode: the write side of `queue`'s ring, kept here while `queue` is
  // this thread's current one (ThreadQueue::writer holds it otherwise).
  alignas(64) SpscQueue::Writer writer;
};
static_assert(sizeof(ThreadHot) == 128);
inline thread_local ThreadHot t_hot;
inline std::uint64_t context_version() noexcept {
  return t_hot.context_version;
}
}  // namespace detail

}  // namespace hydra
