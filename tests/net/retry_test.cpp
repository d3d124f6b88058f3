// Full-jitter backoff (every wait inside its cap, the caps doubling up to
// the maximum, spread out, reset after a success, Retry-After honoured) and
// Retry-After's three date forms and delay-seconds.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include <hydra/net/retry.hpp>

namespace {

using hydra::net::Backoff;
using hydra::net::parse_retry_after;
using std::chrono::milliseconds;

TEST(Backoff, EachWaitIsWithinItsCapAndTheCapsDoubleUpToTheMaximum) {
  // Many draws per attempt: the largest of them comes near the cap, and
  // none goes over it.
  const std::int64_t caps[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (std::size_t attempt = 0; attempt < std::size(caps); ++attempt) {
    std::int64_t largest = 0;
    std::set<std::int64_t> distinct;
    for (std::uint64_t seed = 0; seed < 400; ++seed) {
      Backoff b({milliseconds(100), milliseconds(1000)}, seed);
      for (std::size_t i = 0; i < attempt; ++i) (void)b.next();
      const milliseconds wait = b.next();
      ASSERT_GE(wait.count(), 0);
      ASSERT_LE(wait.count(), caps[attempt]) << "attempt " << attempt;
      largest = std::max(largest, wait.count());
      distinct.insert(wait.count());
    }
    EXPECT_GE(largest, caps[attempt] * 9 / 10) << "attempt " << attempt;
    EXPECT_GT(distinct.size(), 40u) << "attempt " << attempt;  // spread, not one value
  }
}

TEST(Backoff, ResetStartsOverAndManyFailuresDoNotOverflow) {
  Backoff b({milliseconds(100), milliseconds(60'000)}, 7);
  for (int i = 0; i < 200; ++i) ASSERT_LE(b.next().count(), 60'000);
  EXPECT_EQ(b.attempts(), 200u);
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  EXPECT_LE(b.next().count(), 100);
}

TEST(Backoff, RetryAfterIsAFloor) {
  Backoff b({milliseconds(100), milliseconds(1000)}, 1);
  EXPECT_GE(b.next(milliseconds(5000)).count(), 5000);  // above the maximum: the server knows
  EXPECT_LE(b.next(milliseconds(0)).count(), 200);
}

TEST(RetryAfter, DelaySecondsAndTheThreeDateForms) {
  const auto now =
      std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("120", now), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), milliseconds(60'000));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now), milliseconds(10'000));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:39 1994", now), milliseconds(2'000));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), milliseconds(0));  // past
  EXPECT_EQ(parse_retry_after("99999999999999999999", now), std::chrono::hours(24));
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), std::chrono::hours(24));
  for (const char* bad : {"", "soon", "-5", "1.5", "Sun, 06 Nov 1994 08:50:37", "12 s"}) {
    EXPECT_FALSE(parse_retry_after(bad, now).has_value()) << bad;
  }
}

}  // namespace
