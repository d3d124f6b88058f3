#include "hydra/net/retry.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string>

namespace hydra::net {
namespace {

constexpr std::chrono::milliseconds kMaxWait = std::chrono::hours(24);

}  // namespace

Backoff::Backoff(RetryPolicy policy, std::uint64_t seed) : policy_(policy), random_(seed) {
  policy_.initial = std::max(policy_.initial, std::chrono::milliseconds(1));
  policy_.max = std::max(policy_.max, policy_.initial);
}

std::chrono::milliseconds Backoff::next(std::optional<std::chrono::milliseconds> retry_after) {
  // initial * 2^attempts, without overflowing: past max it is max.
  std::int64_t cap = policy_.initial.count();
  for (std::uint32_t i = 0; i < attempts_ && cap < policy_.max.count(); ++i) cap *= 2;
  cap = std::min(cap, policy_.max.count());
  ++attempts_;
  std::uniform_int_distribution<std::int64_t> draw(0, cap);
  std::chrono::milliseconds wait(draw(random_));
  if (retry_after) wait = std::max(wait, std::min(*retry_after, kMaxWait));
  return wait;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delay-seconds; a long run of digits is just a long wait.
    std::int64_t seconds = 0;
    for (const char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxWait.count() / 1000) return kMaxWait;
    }
    return std::chrono::milliseconds(seconds * 1000);
  }
  const std::string text(value);
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    // In seconds of time_t: a far date (year 9999) is past what
    // system_clock's nanoseconds hold.
    const std::time_t at = timegm(&tm);
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    const std::int64_t wait_ms = static_cast<std::int64_t>(at) * 1000 - now_ms.count();
    if (wait_ms <= 0) return std::chrono::milliseconds(0);
    return std::min(std::chrono::milliseconds(wait_ms), kMaxWait);
  }
  return std::nullopt;
}

}  // namespace hydra::net
