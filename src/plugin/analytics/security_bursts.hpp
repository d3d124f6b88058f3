// The built-in analytics `security_bursts`: failed logins counted per user or
// IP address (the values of the fields named in `keys`); when one reaches
// `threshold` failures within `window`, tick() writes a security record:
//
//   SECURITY  burst of 7 failed logins for user=bob within 60s
//             key=user value=bob count=7 window_s=60
//
// at most once per window for the same key and value.
//
// A failed login is a record whose message holds one of the `match` phrases
// (compared case-insensitively), or that has the field event=login_failed or
// outcome=failure (values compared case-insensitively). A record that counts
// is counted once under each of its `keys` fields it has; one that has none
// is not counted. Records this analytics wrote itself (the field
// plugin=security_bursts, or a message starting "burst of") are ignored.
//
// The window slides in kSteps steps of window / kSteps: a failure counts for
// a whole window, give or take a step. Memory is bounded: at most
// max_tracked key/value pairs are tracked; a failure for a new one while the
// table is full (and none has gone quiet for a window, to make room) is
// counted in failures_untracked. tick() forgets pairs quiet for a window
// (no failure, no burst reported).
//
// insights():
//   {"tracked":2,"failures":9,"failures_untracked":0,"bursts":1,
//    "top":[{"key":"user","value":"bob","count":7}, ...]}
// "top": the kInsightsTop pairs with the most failures in the window.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hydra/plugin/analytics.hpp"

namespace hydra::plugin::analytics {

struct SecurityBurstsSettings {
  std::size_t threshold = 5;
  std::chrono::milliseconds window{60'000};
  std::vector<std::string> keys = {"user", "ip"};
  std::vector<std::string> match = {"login failed", "authentication failed", "invalid password"};
  std::size_t max_tracked = 10'000;
};

class SecurityBursts final : public Analytics {
 public:
  static constexpr std::size_t kSteps = 12;
  static constexpr std::size_t kInsightsTop = 20;
  // The field the logger adds to the records a plugin writes, and this
  // analytics' type name: together they mark its own records.
  static constexpr std::string_view kName = "security_bursts";

  explicit SecurityBursts(SecurityBurstsSettings settings);

  void observe(const Record& record) override;
  void tick(std::chrono::system_clock::time_point now, Emitter& emit) override;
  std::string insights() const override { return insights_at(std::chrono::system_clock::now()); }
  std::string insights_at(std::chrono::system_clock::time_point now) const;

  // Whether `record` reports a failed login (see above). Public for tests.
  bool is_failure(const Record& record) const;

 private:
  struct Step {
    std::int64_t index = -1;
    std::uint32_t count = 0;
  };
  struct Tracked {
    std::string key;
    std::string value;
    std::array<Step, kSteps> steps{};
    std::int64_t last_step = 0;                   // of the latest failure
    std::optional<std::int64_t> last_burst_step;  // when tick() last reported it
  };

  std::int64_t step_of(std::chrono::system_clock::time_point t) const;
  std::uint64_t count_at(const Tracked& t, std::int64_t now_step) const;
  void count(std::string_view key, std::string_view value, std::int64_t step);
  // Forgets the pairs with no failure in the window before `now_step`.
  void forget_quiet(std::int64_t now_step);

  const SecurityBurstsSettings settings_;
  const std::int64_t step_ms_;
  // The phrase search (see the constructor): a window of prefix_ bytes;
  // by its last byte, how far the next window starts, and whether that
  // byte may end a phrase's prefix (then the phrases are compared).
  std::size_t prefix_ = 0;
  std::array<std::uint8_t, 256> shift_{};
  std::array<bool, 256> ends_prefix_{};

  mutable std::mutex mutex_;
  // By key + '\x1f' + value.
  std::unordered_map<std::string, Tracked> tracked_;
  std::string id_;                // count()'s lookup key
  std::int64_t latest_step_ = 0;  // of the latest failure seen
  std::int64_t swept_step_ = -1;  // when count() last ran forget_quiet()
  std::uint64_t failures_ = 0;
  std::uint64_t untracked_ = 0;
  std::uint64_t bursts_ = 0;
};

}  // namespace hydra::plugin::analytics
