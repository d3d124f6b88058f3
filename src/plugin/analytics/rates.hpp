// The built-in analytics `rates`: how many records each layer got at each
// level, at what rate over the last `window`, and the most frequent message
// templates (their shapes, see message_shape.hpp).
//
// insights():
//   {"records":N,"window_s":60,
//    "by_layer":{"APP":{"info":12,"error":1}},"by_level":{"info":12,"error":1},
//    "rate_per_s":{"APP":0.2},
//    "top_templates":[{"template":"user {user} logged in","count":42}],
//    "templates_tracked":7,"templates_untracked":0,"templates_evicted":0}
//
// Cost: observe() reads at most kShapeInput bytes of the message once,
// hashes the shape, and updates counters under one mutex; it allocates only
// when it meets a new template or layer. Memory is bounded: at most
// max_templates templates (and kMaxLayers layers) are tracked. A record
// whose template is new while the table is full is counted in
// templates_untracked; tick() makes room again when the table is full, by
// forgetting the less frequent half of the templates (templates_evicted
// counts them), so that a template that becomes frequent late still shows.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "hydra/plugin/analytics.hpp"

namespace hydra::plugin::analytics {

struct RatesSettings {
  std::size_t top = 10;                      // templates shown by insights()
  std::chrono::milliseconds window{60'000};  // of rate_per_s
  std::size_t max_templates = 1000;
};

class Rates final : public Analytics {
 public:
  // Layers tracked one by one; the records of any more are counted under
  // the layer "(other)".
  static constexpr std::size_t kMaxLayers = 64;
  // The rate window is kept in this many steps of window / kSteps.
  static constexpr std::size_t kSteps = 60;

  explicit Rates(RatesSettings settings);

  void observe(const Record& record) override;
  void tick(std::chrono::system_clock::time_point now, Emitter& emit) override;
  std::string insights() const override { return insights_at(std::chrono::system_clock::now()); }
  // insights() with the rates as of `now`.
  std::string insights_at(std::chrono::system_clock::time_point now) const;

 private:
  struct Step {
    std::int64_t index = -1;  // time / step width
    std::uint64_t count = 0;
  };
  struct LayerStats {
    std::string name;
    std::array<std::uint64_t, kLevelCount> by_level{};
    std::array<Step, kSteps> steps{};
  };
  struct Template {
    std::string text;
    std::uint64_t hash;
    std::uint64_t count;
  };

  LayerStats& layer_of(std::string_view name);
  // The template with this hash, or nullptr when it is new and there is no
  // room for it. `shape` is copied only when the template is new.
  Template* template_of(std::uint64_t hash, std::string_view shape);
  void rebuild_index();
  std::int64_t step_of(std::chrono::system_clock::time_point t) const;

  const RatesSettings settings_;
  const std::int64_t step_ms_;

  mutable std::mutex mutex_;
  std::uint64_t records_ = 0;
  std::vector<LayerStats> layers_;
  std::size_t last_layer_ = 0;  // where the previous record's layer was
  std::vector<Template> templates_;
  // Open addressing, linear probing, a power of two at least twice
  // max_templates long so that probes stay short. entry: index into
  // templates_ + 1 (0: a free slot).
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t entry = 0;
  };
  std::vector<Slot> index_;
  std::uint64_t untracked_ = 0;
  std::uint64_t evicted_ = 0;
};

}  // namespace hydra::plugin::analytics
