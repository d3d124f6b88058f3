// Internal: record timestamps in async mode. The caller reads the TSC where
// it is invariant (x86-64 with constant_tsc and nonstop_tsc: CPUID
// 0x80000007 EDX bit 8), which costs a few nanoseconds; elsewhere it reads
// CLOCK_REALTIME. The backend turns ticks into wall-clock time with a
// TickConverter calibrated against CLOCK_REALTIME.
#pragma once

#include <cstdint>
#include <ctime>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace hydra::detail {

// Wall-clock nanoseconds since the epoch.
inline std::int64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Whether this machine's TSC is invariant (decided once, at start-up).
bool tsc_is_invariant() noexcept;
inline const bool kUseTsc = tsc_is_invariant();

// A record's timestamp: TSC ticks, or nanoseconds when the TSC is not used.
// `use_tsc` is kUseTsc (callers keep a copy on a line they read anyway).
inline std::uint64_t record_ticks(bool use_tsc) noexcept {
#if defined(__x86_64__)
  if (use_tsc) return __rdtsc();
#else
  (void)use_tsc;
#endif
  return static_cast<std::uint64_t>(now_ns());
}
inline std::uint64_t record_ticks() noexcept {
  return record_ticks(kUseTsc);
}

// Ticks to wall-clock nanoseconds. Calibrates on first use (about 2 ms) and
// re-anchors itself about every second, measuring the rate over its whole
// life so the error shrinks as it runs. Guarantees, for ticks given in
// increasing order (as the backend merges records):
// - the times never go backwards: a re-anchor does not jump to the clock
//   but bends the line to meet it over the next second (a wall clock that
//   was set, off by more than a second, is followed at once, either way);
// - a clock sample taken while the thread was preempted is not believed:
//   each is the narrowest of a few tries.
// Not thread-safe: used under the engine's consumer lock.
class TickConverter {
 public:
  struct Sample {
    std::uint64_t ticks;
    std::int64_t ns;
  };
  // A tick reading and the wall clock at the same moment.
  using SampleFn = Sample (*)() noexcept;

  TickConverter() noexcept = default;
  // Tests: ticks (not nanoseconds) measured against `sample`.
  explicit TickConverter(SampleFn sample) noexcept : sample_(sample), injected_(true) {}

  std::int64_t to_ns(std::uint64_t ticks) noexcept;

  // The narrowest bracket of the real clocks out of a few tries.
  static Sample sample() noexcept;

 private:
  void calibrate() noexcept;
  void reanchor(const Sample& s) noexcept;

  SampleFn sample_ = &TickConverter::sample;
  bool injected_ = false;
  bool ticks_are_ns_ = false;  // set at calibration: !kUseTsc
  bool calibrated_ = false;
  Sample first_{};
  Sample base_{};  // the line goes through base_ with slope ns_per_tick_
  double ns_per_tick_ = 1.0;
  std::uint64_t reanchor_after_ = 0;  // ticks in about a second
  std::uint64_t last_ticks_ = 0;      // the latest conversion, kept monotonic
  std::int64_t last_ns_ = 0;
};

}  // namespace hydra::detail
