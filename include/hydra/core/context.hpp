// Scoped context: fields that a thread attaches to every record it logs while
// a ScopedContext lives (a request id, the user, a trace id). Scopes nest;
// inner scopes add fields after outer ones. Values are copied when the scope
// opens, so the caller's strings may die. Context belongs to the thread that
// opened it, and reaches the record in every mode.
#pragma once

#include <cstddef>
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
// What an async log call reads and writes of its thread's own state: one
// cache line whose address is known without loading anything first, so that
// the first call after an idle spell waits for one miss, not a chain. The
// second line is read only on slow paths.
struct alignas(64) ThreadHot {
  // The engine whose calls may take the fast path: the engine of the
  // current queue (below), while that queue has nothing to send first (its
  // context is current, no drop report is due). 0 otherwise: the call goes
  // the slow way, which settles the queue and sets this again. Engine ids
  // are never reused, so a dead engine's id never matches.
  std::uint64_t ready_engine = 0;
  // This thread's latest record timestamp (any engine's; a lower bound of
  // its next one).
  std::uint64_t last_stamp = 1;
  // Records the current queue has taken (the queue's published count
  // trails this).
  std::uint64_t records_in = 0;
  // The write side of the current queue's ring (the queue's own
  // ThreadQueue::writer holds it while another queue is current). Its tail
  // padding holds the next member.
  [[no_unique_address]] SpscQueue::Writer writer;
  bool use_tsc = false;  // whether record timestamps read the TSC (set with `queue`)

  // Changes whenever a scope opens or closes on this thread, so that async
  // mode sends a thread's context only when it changed (a thread starts
  // empty, 0).
  alignas(64) std::uint64_t context_version = 0;
  // The current queue (a ThreadQueue): the one this thread wrote last;
  // cleared when the thread's queues are released.
  void* queue = nullptr;
};
static_assert(offsetof(ThreadHot, use_tsc) < 64, "a call's state fits one cache line");
static_assert(sizeof(ThreadHot) == 128);
inline thread_local ThreadHot t_hot;
inline std::uint64_t context_version() noexcept {
  return t_hot.context_version;
}
}  // namespace detail

}  // namespace hydra
