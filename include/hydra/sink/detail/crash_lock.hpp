// Internal (not part of the API): how sinks lock so that a crash handler
// never waits for a lock its own thread holds. A signal handler runs on
// whatever thread the signal interrupted, possibly in the middle of a sink's
// write with the sink's lock held: waiting for that lock would never end. The
// sinks' locks therefore record their holder, and the crash handler marks the
// thread it runs on, so that sink code can tell the three cases apart.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <mutex>

namespace hydra::detail {

// Callers inside OwnedMutex::lock_first / try_lock_first, process-wide: a
// fork()'s prepare handler or the crash handler. Every OwnedMutex::lock()
// reads it before it takes its mutex and it is almost never written, so it
// stays in every core's cache; kept in the mutex itself it shared the mutex's
// contended cache line, and that read fetched the line shared just before the
// lock needed it exclusive: two transfers of the line per lock, which cost
// two threads logging to one file in sync mode about a quarter of their
// throughput (hydra-bench --scenarios throughput). A claim makes writers of
// every sink yield, not only those of the sink being claimed: claims are
// rare and short. So no thread may hold one OwnedMutex while it takes
// another (a claimer waiting for the first would wait for ever); the sinks
// never nest them.
inline std::atomic<int> g_first_claims{0};

// A mutex that knows which thread holds it (one relaxed store per lock and
// unlock on top of std::mutex, on the mutex's own cache line), and that a
// rare caller can take ahead of a crowd of writers (std::mutex is not fair:
// fork()'s prepare handler or the crash handler could otherwise wait long
// behind threads that log in a loop).
class OwnedMutex {
 public:
  void lock() {
    while (g_first_claims.load(std::memory_order_relaxed) != 0) ::sched_yield();
    mutex_.lock();
    holder_.store(::pthread_self(), std::memory_order_relaxed);
  }
  bool try_lock() {
    if (!mutex_.try_lock()) return false;
    holder_.store(::pthread_self(), std::memory_order_relaxed);
    return true;
  }
  void unlock() {
    holder_.store(pthread_t{}, std::memory_order_relaxed);
    mutex_.unlock();
  }
  // Takes the lock ahead of threads that come for it meanwhile: they yield
  // in lock() until it is taken. Never call it with another lock that
  // writers of this one take first.
  void lock_first() {
    g_first_claims.fetch_add(1, std::memory_order_relaxed);
    lock_unclaimed();
    g_first_claims.fetch_sub(1, std::memory_order_relaxed);
  }
  // The same, giving up at `deadline` (false).
  bool try_lock_first(std::chrono::steady_clock::time_point deadline) noexcept {
    g_first_claims.fetch_add(1, std::memory_order_relaxed);
    bool locked = false;
    while (!(locked = try_lock()) && std::chrono::steady_clock::now() < deadline) {
      ::sched_yield();
    }
    g_first_claims.fetch_sub(1, std::memory_order_relaxed);
    return locked;
  }
  // True only while the calling thread holds it: a holder stores its own id
  // after locking and clears it before unlocking, so no other thread's
  // store can make this true.
  bool held_by_this_thread() const noexcept {
    return ::pthread_equal(holder_.load(std::memory_order_relaxed), ::pthread_self()) != 0;
  }

 private:
  void lock_unclaimed() {
    mutex_.lock();
    holder_.store(::pthread_self(), std::memory_order_relaxed);
  }

  std::mutex mutex_;
  std::atomic<pthread_t> holder_{};
};

// Set once by the crash handler (emergency_flush_all, logger.cpp), on the
// thread that runs it, before it touches any sink; never cleared (the
// process dies when the handler is done).
inline std::atomic<pthread_t> g_crash_handler_thread{};
inline std::atomic<bool> g_crash_handler_running{false};

inline void enter_crash_handler() noexcept {
  g_crash_handler_thread.store(::pthread_self(), std::memory_order_relaxed);
  g_crash_handler_running.store(true, std::memory_order_release);
}

// Whether the calling thread is running the crash handler (one relaxed load
// when it is not).
inline bool in_crash_handler() noexcept {
  return g_crash_handler_running.load(std::memory_order_acquire) &&
         ::pthread_equal(g_crash_handler_thread.load(std::memory_order_relaxed),
                         ::pthread_self()) != 0;
}

enum class CrashLock {
  taken,               // locked: unlock when done
  interrupted_holder,  // this thread holds it: the handler interrupted it inside
  busy,                // another thread held it for all of `patience`
};

// From the crash handler. Never waits when the calling thread holds `mutex`:
// the code it interrupted will never go on, so the caller may use the state
// the lock guards as that code left it (the sinks keep it readable at every
// step for this). Another thread's hold is waited out for at most
// `patience`, since other threads keep running while a handler runs.
inline CrashLock lock_in_crash(
    OwnedMutex& mutex, std::chrono::milliseconds patience = std::chrono::seconds(1)) noexcept {
  if (mutex.held_by_this_thread()) return CrashLock::interrupted_holder;
  return mutex.try_lock_first(std::chrono::steady_clock::now() + patience) ? CrashLock::taken
                                                                           : CrashLock::busy;
}

}  // namespace hydra::detail
