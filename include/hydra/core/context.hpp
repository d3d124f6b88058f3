// Scoped context: fields that a thread attaches to every record it logs while
// a ScopedContext lives (a request id, the user, a trace id). Scopes nest;
// inner scopes add fields after outer ones. Values are copied when the scope
// opens, so the caller's strings may die. Context belongs to the thread that
// opened it, and reaches the record in every mode.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>

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
// What a log call reads of its thread's own state, in one cache line, so
// that the first call after an idle spell finds it with a single miss.
struct alignas(64) ThreadHot {
  // Changes whenever a scope opens or closes on this thread, so that async
  // mode sends a thread's context only when it changed (a thread starts
  // empty, 0).
  std::uint64_t context_version = 0;
  // Async mode: the queue (a ThreadQueue) this thread used last, and its
  // engine's id. Ids are never reused, so a dead engine's entry never
  // matches; cleared when the thread's queues are released.
  std::uint64_t engine_id = 0;
  void* queue = nullptr;
  // Async mode: this thread's latest record timestamp (any engine's; a lower
  // bound of its next one), and whether it reads the TSC (set with `queue`).
  std::uint64_t last_stamp = 1;
  bool use_tsc = false;
};
inline thread_local ThreadHot t_hot;
inline std::uint64_t context_version() noexcept {
  return t_hot.context_version;
}
}  // namespace detail

}  // namespace hydra
