#include "rates.hpp"

#include <algorithm>
#include <bit>
#include <numeric>

#include <fmt/format.h>

#include "hydra/format/formatter.hpp"
#include "message_shape.hpp"

namespace hydra::plugin::analytics {
namespace {

constexpr std::string_view kOtherLayer = "(other)";

// A JSON object key, or a string value.
void put_string(std::string_view text, Buffer& out) {
  append_json_string(text, out);
}

RatesSettings checked(RatesSettings s) {
  s.window = std::max(s.window, std::chrono::milliseconds(1));
  s.max_templates = std::max<std::size_t>(1, s.max_templates);
  return s;
}

}  // namespace

Rates::Rates(RatesSettings settings)
    : settings_(checked(settings)),
      step_ms_(std::max<std::int64_t>(1, settings_.window.count() / std::int64_t{kSteps})) {
  templates_.reserve(settings_.max_templates);
  index_.resize(std::bit_ceil(2 * settings_.max_templates));
  layers_.reserve(kMaxLayers + 1);
}

std::int64_t Rates::step_of(std::chrono::system_clock::time_point t) const {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return ms / step_ms_;
}

Rates::LayerStats& Rates::layer_of(std::string_view name) {
  if (last_layer_ < layers_.size() && layers_[last_layer_].name == name) {
    return layers_[last_layer_];
  }
  std::size_t i = 0;
  while (i < layers_.size() && layers_[i].name != name) ++i;
  if (i == layers_.size()) {
    if (layers_.size() >= kMaxLayers) {
      // Every further layer shares one entry, the last.
      if (layers_.size() == kMaxLayers) layers_.push_back({std::string(kOtherLayer)});
      return layers_.back();
    }
    layers_.push_back({std::string(name)});
  }
  last_layer_ = i;
  return layers_[i];
}

Rates::Template* Rates::template_of(std::uint64_t hash, std::string_view shape) {
  const std::size_t mask = index_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    Slot& s = index_[slot];
    if (s.entry == 0) {
      if (templates_.size() >= settings_.max_templates) return nullptr;
      templates_.push_back({std::string(shape), hash, 0});
      s = {hash, static_cast<std::uint32_t>(templates_.size())};
      return &templates_.back();
    }
    if (s.hash == hash) return &templates_[s.entry - 1];
  }
}

void Rates::observe(const Record& record) {
  // The shape and its hash need no lock: only the counting does.
  char shape[kShapeCapacity];
  const std::size_t size = message_shape(record, shape);
  const std::string_view text(shape, size);
  const std::uint64_t hash = shape_hash(text);
  const std::int64_t step = step_of(record.time);
  const auto level = static_cast<std::size_t>(record.level);

  const std::lock_guard lock(mutex_);
  ++records_;
  LayerStats& layer = layer_of(record.layer);
  if (level < layer.by_level.size()) ++layer.by_level[level];
  Step& s = layer.steps[static_cast<std::size_t>(step) % kSteps];
  // A step is reused once its time has passed; a record older than what a
  // step holds (out of order, from before the window) is not in the rate.
  if (s.index < step) s = {step, 0};
  if (s.index == step) ++s.count;
  if (Template* t = template_of(hash, text)) {
    ++t->count;
  } else {
    ++untracked_;
  }
}

void Rates::rebuild_index() {
  std::fill(index_.begin(), index_.end(), Slot{});
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = 0; i < templates_.size(); ++i) {
    std::size_t slot = templates_[i].hash & mask;
    while (index_[slot].entry != 0) slot = (slot + 1) & mask;
    index_[slot] = {templates_[i].hash, static_cast<std::uint32_t>(i + 1)};
  }
}

void Rates::tick(std::chrono::system_clock::time_point /*now*/, Emitter& /*emit*/) {
  const std::lock_guard lock(mutex_);
  if (templates_.size() < settings_.max_templates) return;
  // Full: keep the more frequent half (ties: the older, which came first).
  const std::size_t keep = templates_.size() / 2;
  std::stable_sort(templates_.begin(), templates_.end(),
                   [](const Template& a, const Template& b) { return a.count > b.count; });
  evicted_ += templates_.size() - keep;
  templates_.erase(templates_.begin() + static_cast<std::ptrdiff_t>(keep), templates_.end());
  rebuild_index();
}

std::string Rates::insights_at(std::chrono::system_clock::time_point now) const {
  const std::int64_t now_step = step_of(now);
  const double window_s = static_cast<double>(settings_.window.count()) / 1000.0;
  // Over the steps of the window that have begun; a step's records count
  // while the step is among the last kSteps.
  const auto in_window = [&](const Step& s) {
    return s.index <= now_step && s.index > now_step - static_cast<std::int64_t>(kSteps);
  };

  Buffer out;
  const std::lock_guard lock(mutex_);
  fmt::format_to(std::back_inserter(out), R"({{"records":{},"window_s":{},"by_layer":{{)", records_,
                 window_s);

  std::vector<std::size_t> order(layers_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return layers_[a].name < layers_[b].name; });
  std::array<std::uint64_t, kLevelCount> by_level{};
  const auto put_levels = [&](const std::array<std::uint64_t, kLevelCount>& counts) {
    out.push_back('{');
    bool first = true;
    for (std::size_t l = 0; l < counts.size(); ++l) {
      if (counts[l] == 0) continue;
      if (!first) out.push_back(',');
      first = false;
      put_string(to_lower_string(static_cast<Level>(l)), out);
      fmt::format_to(std::back_inserter(out), ":{}", counts[l]);
    }
    out.push_back('}');
  };
  for (std::size_t k = 0; k < order.size(); ++k) {
    const LayerStats& layer = layers_[order[k]];
    if (k > 0) out.push_back(',');
    put_string(layer.name, out);
    out.push_back(':');
    put_levels(layer.by_level);
    for (std::size_t l = 0; l < by_level.size(); ++l) by_level[l] += layer.by_level[l];
  }
  out.append(std::string_view(R"(},"by_level":)"));
  put_levels(by_level);

  out.append(std::string_view(R"(,"rate_per_s":{)"));
  for (std::size_t k = 0; k < order.size(); ++k) {
    const LayerStats& layer = layers_[order[k]];
    std::uint64_t count = 0;
    for (const Step& s : layer.steps) count += in_window(s) ? s.count : 0;
    if (k > 0) out.push_back(',');
    put_string(layer.name, out);
    fmt::format_to(std::back_inserter(out), ":{}", static_cast<double>(count) / window_s);
  }

  out.append(std::string_view(R"(},"top_templates":[)"));
  std::vector<const Template*> top(templates_.size());
  std::transform(templates_.begin(), templates_.end(), top.begin(),
                 [](const Template& t) { return &t; });
  const std::size_t shown = std::min(settings_.top, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(shown), top.end(),
                    [](const Template* a, const Template* b) {
                      return a->count != b->count ? a->count > b->count : a->text < b->text;
                    });
  for (std::size_t k = 0; k < shown; ++k) {
    if (k > 0) out.push_back(',');
    out.append(std::string_view(R"({"template":)"));
    put_string(top[k]->text, out);
    fmt::format_to(std::back_inserter(out), R"(,"count":{}}})", top[k]->count);
  }
  fmt::format_to(std::back_inserter(out),
                 R"(],"templates_tracked":{},"templates_untracked":{},"templates_evicted":{}}})",
                 templates_.size(), untracked_, evicted_);
  return fmt::to_string(out);
}

}  // namespace hydra::plugin::analytics
