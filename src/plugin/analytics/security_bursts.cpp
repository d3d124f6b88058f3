#include "security_bursts.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "hydra/format/formatter.hpp"

namespace hydra::plugin::analytics {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

// Whether `text` equals `lower_text` (lower case) ignoring ASCII case.
bool equals_lower(std::string_view text, std::string_view lower_text) {
  if (text.size() != lower_text.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != lower_text[i]) return false;
  }
  return true;
}

std::string lower_copy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

SecurityBurstsSettings checked(SecurityBurstsSettings s) {
  s.threshold = std::max<std::size_t>(1, s.threshold);
  s.window = std::max(s.window, std::chrono::milliseconds(1));
  s.max_tracked = std::max<std::size_t>(1, s.max_tracked);
  std::erase_if(s.keys, [](const std::string& k) { return k.empty(); });
  std::erase_if(s.match, [](const std::string& m) { return m.empty(); });
  for (std::string& m : s.match) m = lower_copy(m);
  return s;
}

// "60s", "1.5s", "250ms".
std::string window_text(std::chrono::milliseconds window) {
  if (window.count() % 1000 == 0) return fmt::format("{}s", window.count() / 1000);
  if (window.count() > 1000) return fmt::format("{}s", static_cast<double>(window.count()) / 1000);
  return fmt::format("{}ms", window.count());
}

constexpr char kSeparator = '\x1f';  // between key and value in the map's keys

}  // namespace

SecurityBursts::SecurityBursts(SecurityBurstsSettings settings)
    : settings_(checked(std::move(settings))),
      step_ms_(std::max<std::int64_t>(1, settings_.window.count() / std::int64_t{kSteps})) {
  // Set Horspool over the phrases' first `prefix_` bytes (the shortest
  // phrase's length): a window's last byte says how far the next window
  // can start, and only when it may end a prefix are the phrases compared.
  if (settings_.match.empty()) return;
  std::size_t shortest = settings_.match[0].size();
  for (const std::string& m : settings_.match) shortest = std::min(shortest, m.size());
  prefix_ = std::min<std::size_t>(shortest, 255);
  shift_.fill(static_cast<std::uint8_t>(prefix_));
  const auto both_cases = [](char c, auto&& set) {
    set(static_cast<unsigned char>(c));
    if (c >= 'a' && c <= 'z') set(static_cast<unsigned char>(c - 32));
  };
  for (const std::string& m : settings_.match) {
    for (std::size_t j = 0; j + 1 < prefix_; ++j) {
      const auto distance = static_cast<std::uint8_t>(prefix_ - 1 - j);
      both_cases(m[j], [&](unsigned char b) { shift_[b] = std::min(shift_[b], distance); });
    }
    both_cases(m[prefix_ - 1], [&](unsigned char b) { ends_prefix_[b] = true; });
  }
}

std::int64_t SecurityBursts::step_of(std::chrono::system_clock::time_point t) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() /
         step_ms_;
}

bool SecurityBursts::is_failure(const Record& record) const {
  if (record.message.starts_with("burst of")) return false;
  bool failure = false;
  for (const Field& f : record.fields) {
    const std::string_view value = f.value.as_string();
    if (f.key == "plugin" && value == kName) return false;
    if ((f.key == "event" && equals_lower(value, "login_failed")) ||
        (f.key == "outcome" && equals_lower(value, "failure"))) {
      failure = true;
    }
  }
  if (failure || prefix_ == 0) return failure;
  const std::string_view m = record.message;
  for (std::size_t at = 0; at + prefix_ <= m.size();) {
    const auto last = static_cast<unsigned char>(m[at + prefix_ - 1]);
    if (ends_prefix_[last]) {
      for (const std::string& phrase : settings_.match) {
        if (m.size() - at >= phrase.size() && equals_lower(m.substr(at, phrase.size()), phrase)) {
          return true;
        }
      }
    }
    at += shift_[last];
  }
  return false;
}

void SecurityBursts::observe(const Record& record) {
  if (!is_failure(record)) return;
  const std::int64_t step = step_of(record.time);
  // The values as text, found before the lock is taken (failures are rare:
  // the allocations do not matter).
  std::vector<std::pair<std::string_view, std::string>> found;
  for (const std::string& key : settings_.keys) {
    const auto f = std::find_if(record.fields.begin(), record.fields.end(),
                                [&](const Field& f) { return f.key == key; });
    if (f == record.fields.end() || f->value.is_null()) continue;
    fmt::memory_buffer text;
    f->value.append_text(text);
    found.emplace_back(key, fmt::to_string(text));
  }
  const std::lock_guard lock(mutex_);
  ++failures_;
  latest_step_ = std::max(latest_step_, step);
  for (const auto& [key, value] : found) count(key, value, step);
}

void SecurityBursts::count(std::string_view key, std::string_view value, std::int64_t step) {
  std::string& id = id_;  // under the lock: one buffer will do
  id.assign(key);
  id.push_back(kSeparator);
  id.append(value);
  auto it = tracked_.find(id);
  if (it == tracked_.end()) {
    if (tracked_.size() >= settings_.max_tracked && swept_step_ != latest_step_) {
      // At most one sweep a step: a flood of new keys must not make each
      // record walk the whole table.
      swept_step_ = latest_step_;
      forget_quiet(latest_step_);
    }
    if (tracked_.size() >= settings_.max_tracked) {
      ++untracked_;
      return;
    }
    it = tracked_.try_emplace(id).first;
    it->second.key = key;
    it->second.value = value;
  }
  Tracked& t = it->second;
  Step& s = t.steps[static_cast<std::size_t>(step) % kSteps];
  // A step is reused once its time has passed; a failure older than what a
  // step holds (out of order, from before the window) is not counted in it.
  if (s.index < step) s = {step, 0};
  if (s.index == step) ++s.count;
  t.last_step = std::max(t.last_step, step);
}

std::uint64_t SecurityBursts::count_at(const Tracked& t, std::int64_t now_step) const {
  std::uint64_t n = 0;
  for (const Step& s : t.steps) {
    if (s.index <= now_step && s.index > now_step - std::int64_t{kSteps}) n += s.count;
  }
  return n;
}

void SecurityBursts::forget_quiet(std::int64_t now_step) {
  // Quiet: no failure in the window, and no burst reported in it either (so
  // that forgetting a pair never lets a second record through early).
  const std::int64_t before = now_step - std::int64_t{kSteps};
  std::erase_if(tracked_, [&](const auto& entry) {
    const Tracked& t = entry.second;
    return t.last_step <= before && (!t.last_burst_step || *t.last_burst_step <= before);
  });
}

void SecurityBursts::tick(std::chrono::system_clock::time_point now, Emitter& emit) {
  struct Burst {
    std::string key;
    std::string value;
    std::uint64_t count;
  };
  std::vector<Burst> bursts;
  const std::int64_t now_step = step_of(now);
  {
    const std::lock_guard lock(mutex_);
    forget_quiet(now_step);
    for (auto& [id, t] : tracked_) {
      const std::uint64_t n = count_at(t, now_step);
      if (n < settings_.threshold) continue;
      if (t.last_burst_step && now_step - *t.last_burst_step < std::int64_t{kSteps}) continue;
      t.last_burst_step = now_step;
      bursts.push_back({t.key, t.value, n});
    }
    bursts_ += bursts.size();
  }
  // Written without the lock: the records come back through observe().
  std::sort(bursts.begin(), bursts.end(), [](const Burst& a, const Burst& b) {
    return a.key != b.key ? a.key < b.key : a.value < b.value;
  });
  const std::string window = window_text(settings_.window);
  const double window_s = static_cast<double>(settings_.window.count()) / 1000;
  for (const Burst& b : bursts) {
    const std::string message = fmt::format("burst of {} failed logins for {}={} within {}",
                                            b.count, b.key, b.value, window);
    const Field fields[] = {
        {"key", b.key}, {"value", b.value}, {"count", b.count}, {"window_s", window_s}};
    emit.emit(Level::security, "SECURITY", message, fields);
  }
}

std::string SecurityBursts::insights_at(std::chrono::system_clock::time_point now) const {
  const std::int64_t now_step = step_of(now);
  struct Row {
    const Tracked* t;
    std::uint64_t count;
  };
  Buffer out;
  const std::lock_guard lock(mutex_);
  std::vector<Row> rows;
  rows.reserve(tracked_.size());
  for (const auto& [id, t] : tracked_) {
    const std::uint64_t n = count_at(t, now_step);
    if (n > 0) rows.push_back({&t, n});
  }
  const std::size_t shown = std::min(kInsightsTop, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(shown), rows.end(),
                    [](const Row& a, const Row& b) {
                      if (a.count != b.count) return a.count > b.count;
                      return a.t->key != b.t->key ? a.t->key < b.t->key : a.t->value < b.t->value;
                    });
  fmt::format_to(std::back_inserter(out),
                 R"({{"tracked":{},"failures":{},"failures_untracked":{},"bursts":{},"top":[)",
                 tracked_.size(), failures_, untracked_, bursts_);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out.push_back(',');
    out.append(std::string_view(R"({"key":)"));
    append_json_string(rows[i].t->key, out);
    out.append(std::string_view(R"(,"value":)"));
    append_json_string(rows[i].t->value, out);
    fmt::format_to(std::back_inserter(out), R"(,"count":{}}})", rows[i].count);
  }
  out.append(std::string_view("]}"));
  return fmt::to_string(out);
}

}  // namespace hydra::plugin::analytics
