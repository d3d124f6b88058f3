// A test sink that keeps an owned copy of every record it is given, so tests
// can assert on the record itself rather than on one format's rendering.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <hydra/hydra.hpp>

namespace hydra::test {

struct CapturedRecord {
  Level level;
  std::string layer;
  std::string logger;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;  // value as text
  std::string file;
  std::string function;
  std::uint32_t line;
  std::uint64_t thread_id;
  std::uint64_t sequence;
  std::string bytes;  // the formatted line
  std::chrono::system_clock::time_point time;

  std::string field(const std::string& key) const {
    for (const auto& [k, v] : fields) {
      if (k == key) return v;
    }
    return "<missing>";
  }
  bool has_field(const std::string& key) const { return field(key) != "<missing>"; }
};

class RecordingSink : public Sink {
 public:
  void write(const Record& r, std::string_view bytes) override {
    CapturedRecord c{
        r.level,     std::string(r.layer), std::string(r.logger), std::string(r.message),
        {},          r.source.file,        r.source.function,     r.source.line,
        r.thread_id, r.sequence,           std::string(bytes),    r.time};
    for (const Field& f : r.fields) {
      fmt::memory_buffer b;
      f.value.append_text(b);
      c.fields.emplace_back(std::string(f.key), fmt::to_string(b));
    }
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(c));
  }
  void flush() override {}

  std::vector<CapturedRecord> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return records_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<CapturedRecord> records_;
};

}  // namespace hydra::test
