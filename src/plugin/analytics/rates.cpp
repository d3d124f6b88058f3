#include "rates.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "hydra/format/formatter.hpp"
#include "message_shape.hpp"

namespace hydra::plugin::analytics {
namespace {

constexpr std::string_view kOtherLayer = "(other)";
constexpr auto kRelaxed = std::memory_order_relaxed;

// Counters are written by one thread (the shard's) and read by others: plain
// loads and stores, made atomic so that the reads are defined.
static_assert(std::atomic_ref<std::uint64_t>::required_alignment == alignof(std::uint64_t));
static_assert(std::atomic_ref<std::int64_t>::required_alignment == alignof(std::int64_t));
template <typename T>
T load(T& counter) {
  return std::atomic_ref<T>(counter).load(kRelaxed);
}
template <typename T>
void store(T& counter, T value) {
  std::atomic_ref<T>(counter).store(value, kRelaxed);
}
void bump(std::uint64_t& counter) {
  store(counter, load(counter) + 1);
}

// a == b for layer names: short, so compared in line (a call to memcmp
// cost a fifth of observe()).
bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// The key a call site's records are counted under: its file (the pointer:
// source_location's strings are static) and line, mixed so that the low
// bits (the table's index) depend on both.
std::uint64_t site_hash(const SourceLocation& source) {
  std::uint64_t h = reinterpret_cast<std::uintptr_t>(source.file) * 0x9e3779b97f4a7c15ULL;
  h ^= (h >> 32) ^ (std::uint64_t{source.line} * 0xc2b2ae3d27d4eb4fULL);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h == 0 ? 1 : h;
}

// Words of `kept` (split at spaces) that differ from those of `other`
// become <*>. Returns false, leaving `kept` as it was, when the two do not
// look like one statement's: their word counts differ, or more of the
// words would be <*> than not.
bool generalise(std::string& kept, std::string_view other) {
  const auto words = [](std::string_view s) {
    std::vector<std::string_view> out;
    for (std::size_t at = 0; at <= s.size();) {
      const std::size_t end = std::min(s.find(' ', at), s.size());
      out.push_back(s.substr(at, end - at));
      at = end + 1;
    }
    return out;
  };
  const std::vector<std::string_view> a = words(kept);
  const std::vector<std::string_view> b = words(other);
  if (a.size() != b.size()) return false;
  std::string merged;
  std::size_t varying = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i > 0) merged.push_back(' ');
    const bool differs = a[i] != b[i] || a[i] == "<*>";
    merged.append(differs ? std::string_view("<*>") : a[i]);
    varying += differs ? 1 : 0;
  }
  if (2 * varying > a.size()) return false;
  kept = std::move(merged);
  return true;
}

RatesSettings checked(RatesSettings s) {
  s.window = std::max(s.window, std::chrono::milliseconds(1));
  s.max_templates = std::max<std::size_t>(1, s.max_templates);
  return s;
}

std::int64_t step_ms_of(const RatesSettings& s) {
  return std::max<std::int64_t>(1, s.window.count() / std::int64_t{Rates::kSteps});
}

std::int64_t step_of(std::chrono::system_clock::time_point t, std::int64_t step_ms) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() /
         step_ms;
}

}  // namespace

// One observing thread's counts. The owner thread writes without a lock:
// counters by store() (readers load() them), and the lists (layers,
// templates: their sizes, names, texts) only under `structure`, which
// readers hold while they read. Only the owner reads `index` and the caches.
struct detail::RatesShard {
  struct Step {
    std::int64_t index = -1;  // time / step width
    std::uint64_t count = 0;
  };
  struct Layer {
    std::string name;
    std::array<std::uint64_t, kLevelCount> by_level{};
    std::array<Step, Rates::kSteps> steps{};
  };
  struct Template {
    std::string text;
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    SourceLocation source;  // file "" when counted by shape
    // A call site whose messages take many shapes (a wrapper of the
    // logger's calls, a runtime format string): its records are counted by
    // shape from then on. Its text is "<*>".
    bool mixed = false;
  };
  // Open addressing, linear probing; at most half full. entry: index into
  // templates + 1 (0: a free slot).
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t entry = 0;
  };

  explicit RatesShard(const RatesSettings& s)
      : max_templates(s.max_templates), step_ms(step_ms_of(s)), index(64) {}

  // Counts one record of a call site: the usual case, kept short;
  // count_slow() when its site is not the last one's.
  void count_site(const Record& record);
  // Counts one record without a call site, by its message shape.
  void count_shape(const Record& record);
  // The layer, level and step counts of a record.
  void count_common(const Record& record);
  // The template part of count_site() for a template not cached: found or
  // made, and for a site whose messages take many shapes, counted by shape.
  void count_slow(const Record& record, std::uint64_t hash);
  // The template part of a record counted by shape `shape`.
  void count_template_by_shape(std::string_view shape);
  // The text check of a sited template at its 2nd, 4th, ... record (see
  // the header).
  void check_text(const Record& record, Template& t);
  // Forgets the cached layer, template and step (the lists they point into
  // change).
  void forget_cached() noexcept {
    last_layer = nullptr;
    cached_site = {};
    cached_template = nullptr;
    cached_step = nullptr;
  }
  Layer& layer_of(std::string_view name) {
    if (last_layer != nullptr && same(last_layer->name, name)) {
      return *last_layer;
    }
    return find_layer(name);
  }
  Layer& find_layer(std::string_view name);
  std::int64_t record_step(std::chrono::system_clock::time_point t);
  // The template with this hash, added when new (with its text made by
  // `text()`), or nullptr when there is no room.
  template <typename Text>
  Template* template_of(std::uint64_t hash, Text&& text, bool& fresh);
  // Keeps the more frequent half of a full table. Under `structure`, by the
  // owner or, when there is none, by tick().
  void evict_locked();
  void rebuild_index();

  const std::size_t max_templates;
  const std::int64_t step_ms;

  std::atomic<bool> owned{true};     // a live thread counts into it
  std::atomic<bool> retired{false};  // its Rates is gone
  std::atomic<bool> evict_requested{false};
  std::mutex structure;

  // (The number of records is the sum of the layers' counts.)
  std::vector<Layer> layers;
  std::vector<Template> templates;
  std::uint64_t untracked = 0;
  std::uint64_t evicted = 0;

  // The owner's alone.
  std::vector<Slot> index;
  Layer* last_layer = nullptr;  // the layer of the last record
  // The step of the previous record and its bounds in clock ticks: most
  // records fall in the step of the one before, and a division costs more
  // than the rest of count().
  std::int64_t step = 0;
  std::chrono::system_clock::rep step_begin = 0;
  std::chrono::system_clock::rep step_end = 0;
  // The template of the last sited record, by its site (never a mixed one),
  // and the step of the last record with the layer it belongs to: a run of
  // records from one statement, the common case, skips the lookups.
  SourceLocation cached_site;  // file pointer and line: compared, not hashed
  Template* cached_template = nullptr;
  Step* cached_step = nullptr;
  const Layer* cached_step_layer = nullptr;
};

namespace {

// The shards the calling thread counts into, by Rates::id_. At thread exit
// they are released for other threads to take over.
struct Binding {
  std::uint64_t rates;
  std::shared_ptr<detail::RatesShard> shard;
};
struct Bindings {
  std::vector<Binding> list;
  ~Bindings();
};
// Set once the thread's Bindings are destroyed (trivially destructible, so
// it outlives them): records observed later, from other thread-local
// destructors, are not counted.
thread_local bool t_bindings_gone = false;
thread_local Bindings t_bindings;
// The binding used last, for the common case of one Rates per thread: read
// without the call that guards t_bindings' construction. The shard is kept
// alive by t_bindings; ids are never reused.
thread_local std::uint64_t t_last_rates = 0;
thread_local detail::RatesShard* t_last_shard = nullptr;

Bindings::~Bindings() {
  for (const Binding& b : list) b.shard->owned.store(false, std::memory_order_release);
  t_bindings_gone = true;
  t_last_rates = 0;
}

std::atomic<std::uint64_t> g_next_id{1};

}  // namespace

std::int64_t detail::RatesShard::record_step(std::chrono::system_clock::time_point t) {
  const auto ticks = t.time_since_epoch().count();
  if (ticks >= step_begin && ticks < step_end) return step;
  step = step_of(t, step_ms);
  using Ticks = std::chrono::system_clock::duration;
  const auto width = std::chrono::duration_cast<Ticks>(std::chrono::milliseconds(step_ms)).count();
  step_begin = step * width;
  step_end = step_begin + width;
  return step;
}

detail::RatesShard::Layer& detail::RatesShard::find_layer(std::string_view name) {
  std::size_t i = 0;
  while (i < layers.size() && !same(layers[i].name, name)) ++i;
  if (i == layers.size()) {
    const std::lock_guard lock(structure);
    if (layers.size() >= Rates::kMaxLayers) {
      // Every further layer shares one entry, the last.
      if (layers.size() == Rates::kMaxLayers) {
        layers.push_back({std::string(kOtherLayer)});
        forget_cached();
      }
      return layers.back();
    }
    layers.push_back({std::string(name)});
    forget_cached();  // the vector may have moved
  }
  last_layer = &layers[i];
  return layers[i];
}

template <typename Text>
detail::RatesShard::Template* detail::RatesShard::template_of(std::uint64_t hash, Text&& text,
                                                              bool& fresh) {
  const std::size_t mask = index.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    Slot& s = index[slot];
    if (s.hash == hash && s.entry != 0) return &templates[s.entry - 1];
    if (s.entry != 0) continue;
    if (templates.size() >= max_templates) return nullptr;
    std::string made = text();  // before the lock: readers wait less
    {
      const std::lock_guard lock(structure);
      templates.push_back({std::move(made), hash, 0, {}});
    }
    forget_cached();  // the vector may have moved
    fresh = true;
    s = {hash, static_cast<std::uint32_t>(templates.size())};
    if (2 * templates.size() > index.size()) {
      index.resize(2 * index.size());
      rebuild_index();
    }
    return &templates.back();
  }
}

void detail::RatesShard::rebuild_index() {
  std::fill(index.begin(), index.end(), Slot{});
  const std::size_t mask = index.size() - 1;
  for (std::size_t i = 0; i < templates.size(); ++i) {
    std::size_t slot = templates[i].hash & mask;
    while (index[slot].entry != 0) slot = (slot + 1) & mask;
    index[slot] = {templates[i].hash, static_cast<std::uint32_t>(i + 1)};
  }
}

void detail::RatesShard::evict_locked() {
  evict_requested.store(false, kRelaxed);
  if (templates.size() < max_templates) return;
  // No one writes the counts meanwhile: the owner is here, or there is
  // none. Ties: the older, which came first.
  std::stable_sort(templates.begin(), templates.end(),
                   [](const Template& a, const Template& b) { return a.count > b.count; });
  const std::size_t keep = templates.size() / 2;
  store(evicted, load(evicted) + (templates.size() - keep));
  templates.erase(templates.begin() + static_cast<std::ptrdiff_t>(keep), templates.end());
  forget_cached();
  rebuild_index();
}

void detail::RatesShard::count_common(const Record& record) {
  if (evict_requested.load(kRelaxed)) [[unlikely]] {
    const std::lock_guard lock(structure);
    evict_locked();
  }
  Layer& layer = layer_of(record.layer);
  const auto level = static_cast<std::size_t>(record.level);
  if (level < layer.by_level.size()) bump(layer.by_level[level]);
  const auto ticks = record.time.time_since_epoch().count();
  if (ticks >= step_begin && ticks < step_end && cached_step_layer == &layer &&
      cached_step != nullptr) {
    bump(cached_step->count);  // the step of the record before, which set it up
    return;
  }
  const std::int64_t now = record_step(record.time);
  Step& s = layer.steps[static_cast<std::size_t>(now) % Rates::kSteps];
  // A step is reused once its time has passed; a record older than what a
  // step holds (out of order, from before the window) is not in the rate.
  if (s.index < now) {
    store(s.count, std::uint64_t{0});
    store(s.index, now);
  }
  if (s.index == now) {
    bump(s.count);
    cached_step = &s;
    cached_step_layer = &layer;
  } else {
    cached_step = nullptr;
  }
}

void detail::RatesShard::count_site(const Record& record) {
  count_common(record);
  Template* t = cached_template;
  // The same statement as the last record: its file (the pointer:
  // source_location's strings are static) and line.
  if (record.source.file != cached_site.file || record.source.line != cached_site.line ||
      t == nullptr) [[unlikely]] {
    count_slow(record, site_hash(record.source));
    return;
  }
  const std::uint64_t n = load(t->count) + 1;
  store(t->count, n);
  // Rare (see the header): the 2nd, 4th, ... 1024th record, then every
  // 1024th.
  if ((n & (n - 1)) == 0 || n % 1024 == 0) [[unlikely]] {
    check_text(record, *t);
  }
}

void detail::RatesShard::count_shape(const Record& record) {
  count_common(record);
  char shape[kShapeCapacity];
  count_template_by_shape(std::string_view(shape, message_shape(record, shape)));
}

void detail::RatesShard::count_template_by_shape(std::string_view shape) {
  bool fresh = false;
  Template* t = template_of(
      shape_hash(shape), [&] { return std::string(shape); }, fresh);
  if (t == nullptr) {
    bump(untracked);
    return;
  }
  store(t->count, load(t->count) + 1);
}

void detail::RatesShard::count_slow(const Record& record, std::uint64_t hash) {
  char site_shape[kShapeCapacity];
  bool fresh = false;
  Template* t = template_of(
      hash, [&] { return std::string(site_shape, message_shape(record, site_shape)); }, fresh);
  if (t == nullptr) {
    bump(untracked);
    return;
  }
  if (t->mixed) {
    count_template_by_shape(std::string_view(site_shape, message_shape(record, site_shape)));
    return;
  }
  const std::uint64_t n = load(t->count) + 1;
  store(t->count, n);
  cached_site = record.source;
  cached_template = t;
  if (fresh) {
    const std::lock_guard lock(structure);
    t->source = record.source;
    return;
  }
  if ((n & (n - 1)) == 0 || n % 1024 == 0) check_text(record, *t);
}

void detail::RatesShard::check_text(const Record& record, Template& t) {
  char site_shape[kShapeCapacity];
  const std::string_view now_shape(site_shape, message_shape(record, site_shape));
  if (now_shape == t.text) return;
  std::string text = t.text;
  const bool one_statement = generalise(text, now_shape);
  const std::lock_guard lock(structure);
  if (one_statement) {
    t.text = std::move(text);
  } else {
    t.text = "<*>";
    t.mixed = true;
    forget_cached();  // a mixed site is counted by shape from now on
  }
}

Rates::Rates(RatesSettings settings)
    : settings_(checked(settings)), id_(g_next_id.fetch_add(1, kRelaxed)) {}

Rates::~Rates() {
  const std::lock_guard lock(mutex_);
  for (const auto& s : shards_) s->retired.store(true, std::memory_order_release);
}

detail::RatesShard& Rates::shard() {
  if (t_last_rates == id_) return *t_last_shard;
  detail::RatesShard& found = bind();
  t_last_rates = id_;
  t_last_shard = &found;
  return found;
}

detail::RatesShard& Rates::bind() {
  std::vector<Binding>& list = t_bindings.list;
  for (Binding& b : list) {
    if (b.rates == id_) return *b.shard;
  }
  std::erase_if(list,
                [](const Binding& b) { return b.shard->retired.load(std::memory_order_acquire); });
  std::shared_ptr<detail::RatesShard> mine;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& s : shards_) {
      if (!s->owned.load(std::memory_order_acquire)) {
        s->owned.store(true, kRelaxed);
        mine = s;
        break;
      }
    }
    if (mine == nullptr)
      mine = shards_.emplace_back(std::make_shared<detail::RatesShard>(settings_));
  }
  list.push_back({id_, std::move(mine)});
  return *list.back().shard;
}

void Rates::observe(const Record& record) {
  if (t_bindings_gone) [[unlikely]] {
    return;
  }
  detail::RatesShard& s = t_last_rates == id_ ? *t_last_shard : shard();
  // A call site is hashed in a few instructions; a message shape costs a
  // pass over the message. (has_source(), inline.)
  if (record.source.file != nullptr && record.source.file[0] != '\0' && record.source.line != 0)
      [[likely]] {
    s.count_site(record);
  } else {
    s.count_shape(record);
  }
}

void Rates::tick(std::chrono::system_clock::time_point /*now*/, Emitter& /*emit*/) {
  const std::lock_guard lock(mutex_);
  for (const auto& s : shards_) {
    const std::lock_guard structure(s->structure);
    if (s->templates.size() < s->max_templates) continue;
    // A shard whose thread has gone cannot be taken over while mutex_ is
    // held: it is evicted here. Others at their next record.
    if (s->owned.load(std::memory_order_acquire)) {
      s->evict_requested.store(true, kRelaxed);
    } else {
      s->evict_locked();
    }
  }
}

std::string Rates::insights_at(std::chrono::system_clock::time_point now) const {
  const std::int64_t now_step = step_of(now, step_ms_of(settings_));
  const double window_s = static_cast<double>(settings_.window.count()) / 1000.0;
  struct LayerSum {
    std::array<std::uint64_t, kLevelCount> by_level{};
    std::uint64_t in_window = 0;
  };
  struct TemplateSum {
    std::string text;
    std::uint64_t count = 0;
    SourceLocation source;
  };
  std::uint64_t records = 0;
  std::uint64_t untracked = 0;
  std::uint64_t evicted = 0;
  std::map<std::string, LayerSum, std::less<>> layers;
  std::unordered_map<std::uint64_t, TemplateSum> templates;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& s : shards_) {
      const std::lock_guard structure(s->structure);
      untracked += load(s->untracked);
      evicted += load(s->evicted);
      for (detail::RatesShard::Layer& l : s->layers) {
        LayerSum& sum = layers[l.name];
        for (std::size_t i = 0; i < kLevelCount; ++i) {
          const std::uint64_t n = load(l.by_level[i]);
          sum.by_level[i] += n;
          records += n;
        }
        // A step's records count while the step is among the last kSteps.
        for (detail::RatesShard::Step& step : l.steps) {
          const std::int64_t index = load(step.index);
          if (index <= now_step && index > now_step - std::int64_t{kSteps}) {
            sum.in_window += load(step.count);
          }
        }
      }
      for (detail::RatesShard::Template& t : s->templates) {
        TemplateSum& sum = templates[t.hash];
        if (sum.text.empty()) {
          sum.text = t.text;
          sum.source = t.source;
        }
        sum.count += load(t.count);
      }
    }
  }

  Buffer out;
  fmt::format_to(std::back_inserter(out), R"({{"records":{},"window_s":{},"by_layer":{{)", records,
                 window_s);
  std::array<std::uint64_t, kLevelCount> by_level{};
  const auto put_levels = [&](const std::array<std::uint64_t, kLevelCount>& counts) {
    out.push_back('{');
    bool first = true;
    for (std::size_t l = 0; l < counts.size(); ++l) {
      if (counts[l] == 0) continue;
      if (!first) out.push_back(',');
      first = false;
      append_json_string(to_lower_string(static_cast<Level>(l)), out);
      fmt::format_to(std::back_inserter(out), ":{}", counts[l]);
    }
    out.push_back('}');
  };
  bool first = true;
  for (const auto& [name, sum] : layers) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(name, out);
    out.push_back(':');
    put_levels(sum.by_level);
    for (std::size_t l = 0; l < by_level.size(); ++l) by_level[l] += sum.by_level[l];
  }
  out.append(std::string_view(R"(},"by_level":)"));
  put_levels(by_level);

  out.append(std::string_view(R"(,"rate_per_s":{)"));
  first = true;
  for (const auto& [name, sum] : layers) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(name, out);
    fmt::format_to(std::back_inserter(out), ":{}", static_cast<double>(sum.in_window) / window_s);
  }

  out.append(std::string_view(R"(},"top_templates":[)"));
  std::vector<const TemplateSum*> top;
  top.reserve(templates.size());
  for (const auto& [hash, sum] : templates) top.push_back(&sum);
  const std::size_t shown = std::min(settings_.top, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(shown), top.end(),
                    [](const TemplateSum* a, const TemplateSum* b) {
                      return a->count != b->count ? a->count > b->count : a->text < b->text;
                    });
  for (std::size_t k = 0; k < shown; ++k) {
    if (k > 0) out.push_back(',');
    out.append(std::string_view(R"({"template":)"));
    append_json_string(top[k]->text, out);
    fmt::format_to(std::back_inserter(out), R"(,"count":{})", top[k]->count);
    if (top[k]->source.file[0] != '\0') {
      out.append(std::string_view(R"(,"source":)"));
      append_json_string(fmt::format("{}:{}", top[k]->source.file, top[k]->source.line), out);
    }
    out.push_back('}');
  }
  fmt::format_to(std::back_inserter(out),
                 R"(],"templates_tracked":{},"templates_untracked":{},"templates_evicted":{}}})",
                 templates.size(), untracked, evicted);
  return fmt::to_string(out);
}

}  // namespace hydra::plugin::analytics
