// When a network destination tries again: full-jitter exponential backoff
// (a wait drawn uniformly from [0, min(retry_max, retry_initial * 2^n)]), so
// that many senders that failed together do not come back together, and at
// least what the server asked for in Retry-After.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace hydra::net {

struct RetryPolicy {
  std::chrono::milliseconds initial{200};  // the cap of the first wait
  std::chrono::milliseconds max{30'000};   // the cap of every wait
};

class Backoff {
 public:
  // `seed`: the jitter's; a destination passes its own (tests a fixed one).
  explicit Backoff(RetryPolicy policy, std::uint64_t seed = std::random_device{}());

  // The wait before the next try, after `attempts()` failed ones: drawn
  // from [0, cap], cap = min(max, initial * 2^attempts()), and at least
  // `retry_after` when the server sent one (not capped: the server knows
  // when it will take records again). Counts the attempt.
  std::chrono::milliseconds next(std::optional<std::chrono::milliseconds> retry_after = {});
  // After a success: the next failure waits as little as the first.
  void reset() noexcept { attempts_ = 0; }
  std::uint32_t attempts() const noexcept { return attempts_; }

 private:
  RetryPolicy policy_;
  std::mt19937_64 random_;
  std::uint32_t attempts_ = 0;
};

// A Retry-After header's value (RFC 9110 10.2.3) as a wait from `now`:
// delay-seconds ("120"), or an HTTP-date in any of the three forms a
// recipient must accept ("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday,
// 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"); a date in the past
// is no wait. Nothing for a value that is neither. Waits are capped at a day.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace hydra::net
