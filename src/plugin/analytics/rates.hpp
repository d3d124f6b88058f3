// The built-in analytics `rates`: how many records each layer got at each
// level, at what rate over the last `window`, and the most frequent message
// templates.
//
// A template is counted by call site when the record has one (its source
// file and line: one log statement, one template), by message shape
// otherwise (records from `hydra pipe` and the like; see message_shape.hpp).
// The text shown for a call site is the shape of its first message, checked
// against later ones (its 2nd, 4th, 8th, ... record, then every 1024th): words
// that differ become <*>, so "user bob logged in" and "user eve logged in"
// from one statement show as "user <*> logged in". A call site whose
// messages do not look like one statement's (their word counts differ, or
// most words would be <*>: a wrapper around the logger's calls, a runtime
// format string) shows as "<*>" with what it counted so far, and its
// records are counted by shape from then on.
//
// insights():
//   {"records":N,"window_s":60,
//    "by_layer":{"APP":{"info":12,"error":1}},"by_level":{"info":12,"error":1},
//    "rate_per_s":{"APP":0.2},
//    "top_templates":[{"template":"user {user} logged in","count":42,
//                      "source":"src/auth.cpp:42"}],
//    "templates_tracked":7,"templates_untracked":0,"templates_evicted":0}
//
// Cost: observe() takes no lock and does no atomic read-modify-write. Each
// observing thread counts into a shard of its own (one in async mode: the
// backend), with plain stores that insights() and tick() may read at any
// time; a shard's lock is taken only to add a layer or a template, which
// readers take too. A record with a call site costs a hash of the site; one
// without, one pass over at most kShapeInput bytes of its message.
// bench/plugin_bench.cpp measures it.
//
// Memory is bounded: a shard tracks at most max_templates templates and
// kMaxLayers layers (further layers are counted together as "(other)"); a
// shard is reused by a new thread once its thread has exited, so there are
// no more shards than threads that observe at once. A record whose template
// is new while its shard's table is full is counted in templates_untracked;
// tick() asks each full shard to make room, which it does at its next
// record by forgetting the less frequent half of its templates
// (templates_evicted counts them), so that a template that becomes frequent
// late still shows.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hydra/plugin/analytics.hpp"

namespace hydra::plugin::analytics {

struct RatesSettings {
  std::size_t top = 10;                      // templates shown by insights()
  std::chrono::milliseconds window{60'000};  // of rate_per_s
  std::size_t max_templates = 1000;          // per shard
};

namespace detail {
struct RatesShard;
}  // namespace detail

class Rates final : public Analytics {
 public:
  // Layers a shard tracks one by one; the records of any more are counted
  // under the layer "(other)".
  static constexpr std::size_t kMaxLayers = 64;
  // The rate window is kept in this many steps of window / kSteps.
  static constexpr std::size_t kSteps = 60;

  explicit Rates(RatesSettings settings);
  ~Rates() override;
  Rates(const Rates&) = delete;
  Rates& operator=(const Rates&) = delete;

  void observe(const Record& record) override;
  void tick(std::chrono::system_clock::time_point now, Emitter& emit) override;
  std::string insights() const override { return insights_at(std::chrono::system_clock::now()); }
  // insights() with the rates as of `now`.
  std::string insights_at(std::chrono::system_clock::time_point now) const;

 private:
  // The calling thread's shard, claimed or made on its first record.
  detail::RatesShard& shard();
  detail::RatesShard& bind();  // shard() without the last one used

  const RatesSettings settings_;
  const std::uint64_t id_;    // unique in the process: threads find their shard by it
  mutable std::mutex mutex_;  // guards shards_ (the list, not the shards)
  std::vector<std::shared_ptr<detail::RatesShard>> shards_;
};

}  // namespace hydra::plugin::analytics
