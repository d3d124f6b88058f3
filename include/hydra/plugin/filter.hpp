// A filter (or enricher) sees each record before routing, in both modes (on
// the backend thread in async mode). It may drop the record (counted in
// LoggerMetrics::filter_dropped), add fields, or change its level or layer;
// a record whose new level its (new) layer does not let through is dropped
// and counted the same way. Records at the security, audit and compliance
// levels may be given fields, but a filter never drops or moves them: their
// trail stays whole. Examples: sampling, adding a build id, dropping
// health-check noise.
//
//   class AddBuild : public hydra::plugin::Filter {
//    public:
//     Verdict filter(const hydra::Record&, hydra::plugin::RecordEdit& edit) override {
//       edit.add_field("build", "1.4.2");
//       return Verdict::keep;
//     }
//   };
//   cfg.filters.push_back({.instance = std::make_shared<AddBuild>()});
//
// Threads: in sync mode every logging thread runs the filters on its own
// records, so filter() runs on several threads at once: keep no mutable
// state, or guard it. It must not log to the logger it filters for.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/core/level.hpp"
#include "hydra/core/record.hpp"
#include "hydra/plugin/plugin.hpp"

namespace hydra::plugin {

// The changes a filter asks for. Strings are copied, so they may be
// temporaries. Reused by the logger from record to record.
class RecordEdit {
 public:
  void add_field(std::string_view key, FieldValue value) {
    key = keep(key);
    if (value.is_string()) value = FieldValue(keep(value.as_string()));
    added_.push_back(Field{key, value});
  }
  void set_level(Level level) { level_ = level; }
  void set_layer(std::string_view layer) { layer_ = std::string(layer); }

  const std::vector<Field>& added() const noexcept { return added_; }
  const std::optional<Level>& level() const noexcept { return level_; }
  const std::optional<std::string>& layer() const noexcept { return layer_; }
  bool empty() const noexcept { return added_.empty() && !level_ && !layer_; }
  // Forgets the level and layer asked for (a record that may not move).
  void keep_fields_only() noexcept {
    level_.reset();
    layer_.reset();
  }
  void clear() noexcept {
    added_.clear();
    level_.reset();
    layer_.reset();
    used_ = 0;
  }

 private:
  std::string_view keep(std::string_view text) {
    if (used_ == storage_.size()) storage_.emplace_back();
    std::string& s = storage_[used_++];
    s.assign(text);
    return s;
  }
  std::vector<Field> added_;
  std::optional<Level> level_;
  std::optional<std::string> layer_;
  std::deque<std::string> storage_;
  std::size_t used_ = 0;
};

class Filter : public Plugin {
 public:
  enum class Verdict : std::uint8_t { keep, drop };
  virtual Verdict filter(const Record& record, RecordEdit& edit) = 0;
};

}  // namespace hydra::plugin
