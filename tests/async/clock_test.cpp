// TickConverter: ticks to wall-clock time, driven by a fake clock so that a
// bad calibration and a wall clock that is set can be made on purpose.
#include <gtest/gtest.h>
#include <hydra/async/detail/clock.hpp>

#include <cstdint>

namespace {

using hydra::detail::TickConverter;

// The fake: the wall clock runs at exactly 1 ns per tick from 1e18 ns, but
// readings can be made wrong (a preempted sample) or the clock set.
struct FakeClock {
  static inline std::uint64_t ticks = 1'000'000;
  static inline std::int64_t offset = 0;      // what setting the clock added
  static inline std::int64_t next_error = 0;  // the next sample's error, once
  static inline std::uint64_t step = 1000;    // ticks that pass per sample
  static TickConverter::Sample sample() noexcept {
    ticks += step;
    const std::int64_t ns =
        1'000'000'000'000'000'000 + static_cast<std::int64_t>(ticks) + offset + next_error;
    next_error = 0;
    return {ticks, ns};
  }
  static std::int64_t truth(std::uint64_t t) {
    return 1'000'000'000'000'000'000 + static_cast<std::int64_t>(t) + offset;
  }
  static void reset() {
    ticks = 1'000'000;
    offset = 0;
    next_error = 0;
    step = 1000;
  }
};

TEST(TickConverter, ABadCalibrationIsCorrectedWithoutTimeGoingBackwards) {
  FakeClock::reset();
  // The first sample 1.5 ms early: calibration stops after 0.5 ms, and the
  // rate comes out four times too fast (the line runs ahead of the clock).
  FakeClock::next_error = -1'500'000;
  TickConverter c(&FakeClock::sample);
  std::int64_t previous = 0;
  std::uint64_t t = 0;
  // Ten seconds of records, one every 10 us.
  for (int i = 0; i < 1'000'000; ++i) {
    t = FakeClock::ticks + 10'000;
    FakeClock::ticks = t;
    const std::int64_t ns = c.to_ns(t);
    ASSERT_GE(ns, previous) << "record " << i;
    previous = ns;
  }
  // By then the line has met the clock again.
  EXPECT_LT(std::abs(c.to_ns(t) - FakeClock::truth(t)), 1'000'000);
}

TEST(TickConverter, AWallClockSetByHoursIsFollowedBothWays) {
  FakeClock::reset();
  TickConverter c(&FakeClock::sample);
  std::uint64_t t = FakeClock::ticks;
  for (const std::int64_t set : {3'600'000'000'000, -7'200'000'000'000}) {
    FakeClock::offset += set;
    for (int i = 0; i < 300; ++i) {  // three seconds
      t = FakeClock::ticks + 10'000'000;
      FakeClock::ticks = t;
      (void)c.to_ns(t);
    }
    EXPECT_LT(std::abs(c.to_ns(t) - FakeClock::truth(t)), 20'000'000) << set;
  }
}

TEST(TickConverter, TheRealClockConvertsToNearNow) {
  TickConverter c;
  const std::int64_t now = hydra::detail::now_ns();
  const std::int64_t converted = c.to_ns(hydra::detail::record_ticks());
  EXPECT_LT(std::abs(converted - now), 50'000'000);  // within 50 ms, however loaded the machine
}

}  // namespace
