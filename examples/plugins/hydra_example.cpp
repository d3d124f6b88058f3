// hydra-example.so: a loadable Hydra plugin written with the development kit
// (hydra/plugin/sdk.hpp). It links nothing of Hydra and provides three types:
//
//   example_file     sink       appends each formatted record to a file
//   example_sample   filter     keeps 1 record in `rate`, drops those whose
//                               message holds `drop_substring`
//   example_counter  analytics  counts records by level; every `summary_every`
//                               ticks it logs a summary record
//
// Build it out of tree (README.md), check it with `hydra plugin check
// ./hydra-example.so`, load it with `plugins = ["./hydra-example.so"]`.
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include <hydra/plugin/sdk.hpp>

namespace {

using hydra::sdk::Level;
using hydra::sdk::Options;
using hydra::sdk::Record;

// --- example_file ----------------------------------------------------------

constexpr hydra_option_spec kFileOptions[] = {
    hydra::sdk::required_option("path", HYDRA_OPTION_STRING, "the file to append records to"),
    hydra::sdk::option("flush_each", HYDRA_OPTION_BOOLEAN, "false",
                       "flush after every record (slower, loses nothing on a crash)"),
};

// Thread-safe (a mutex around the file), so the host may call it from
// several threads at once.
class FileSink final : public hydra::sdk::Sink {
 public:
  explicit FileSink(const Options& options) { open(options); }
  ~FileSink() override { close(); }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(const Record& /*record*/, std::string_view bytes) override {
    const std::lock_guard lock(mutex_);
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) fail("write to");
    if (flush_each_ && std::fflush(file_) != 0) fail("flush");
    bytes_ += bytes.size();
  }
  void flush() override {
    const std::lock_guard lock(mutex_);
    if (std::fflush(file_) != 0) fail("flush");
  }
  void stop() override { flush(); }
  // A reload may name another file: switch to it without losing a record.
  bool reconfigure(const Options& options) override {
    const std::lock_guard lock(mutex_);
    if (options.text("path") != path_) {
      close();
      open(options);
    }
    flush_each_ = options.boolean("flush_each");
    return true;
  }
  std::string health() const override {
    const std::lock_guard lock(mutex_);
    return R"({"ok":true,"bytes":)" + std::to_string(bytes_) + "}";
  }

 private:
  // Throws, naming the path and the reason, when the file cannot be opened:
  // the host reports it as a configuration error.
  void open(const Options& options) {
    path_ = std::string(options.text("path"));
    flush_each_ = options.boolean("flush_each");
    file_ = std::fopen(path_.c_str(), "ab");
    if (file_ == nullptr) fail("open");
  }
  void close() noexcept {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
  }
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("cannot ") + what + " '" + path_ +
                             "': " + std::strerror(errno));
  }

  mutable std::mutex mutex_;
  std::string path_;
  std::FILE* file_ = nullptr;
  bool flush_each_ = false;
  std::uint64_t bytes_ = 0;
};

// --- example_sample --------------------------------------------------------

constexpr hydra_option_spec kSampleOptions[] = {
    hydra::sdk::option("rate", HYDRA_OPTION_INTEGER, "1", "keep 1 record in N", 1, 1'000'000),
    hydra::sdk::option("drop_substring", HYDRA_OPTION_STRING, "",
                       "drop records whose message contains this text (empty: none)"),
};

// Lock-free: a counter picks the records to keep, so several threads may
// filter at once.
class SampleFilter final : public hydra::sdk::Filter {
 public:
  explicit SampleFilter(const Options& options)
      : rate_(static_cast<std::uint64_t>(options.integer("rate", 1))),
        drop_substring_(options.text("drop_substring")) {
    if (rate_ < 1) throw std::invalid_argument("option 'rate' must be at least 1");
  }

  Verdict filter(const Record& record, hydra::sdk::Edit& edit) override {
    if (!drop_substring_.empty() && record.message().find(drop_substring_) != std::string::npos)
      return Verdict::drop;
    if (rate_ == 1) return Verdict::keep;
    if (seen_.fetch_add(1, std::memory_order_relaxed) % rate_ != 0) return Verdict::drop;
    edit.add_field("sampled_rate", rate_);
    return Verdict::keep;
  }

 private:
  const std::uint64_t rate_;
  const std::string drop_substring_;
  std::atomic<std::uint64_t> seen_{0};
};

// --- example_counter -------------------------------------------------------

constexpr hydra_option_spec kCounterOptions[] = {
    hydra::sdk::option("summary_every", HYDRA_OPTION_INTEGER, "60",
                       "log a summary record every N ticks", 1, 1'000'000),
};

class CounterAnalytics final : public hydra::sdk::Analytics {
 public:
  explicit CounterAnalytics(const Options& options)
      : summary_every_(options.integer("summary_every", 60)) {}

  void observe(const Record& record) override {
    const auto level = static_cast<std::size_t>(record.level());
    counts_[level < counts_.size() ? level : counts_.size() - 1].fetch_add(
        1, std::memory_order_relaxed);
  }

  void tick(std::chrono::system_clock::time_point /*now*/, hydra::sdk::Emitter& emit) override {
    if ((ticks_.fetch_add(1, std::memory_order_relaxed) + 1) % summary_every_ != 0) return;
    const std::uint64_t errors = count(Level::error) + count(Level::critical);
    emit.emit(Level::info, "EXAMPLE", "example_counter summary",
              {{"records", total()}, {"errors", errors}});
  }

  // {"total":12,"by_level":{"info":10,"error":2}}
  std::string insights() const override {
    std::string json = R"({"total":)" + std::to_string(total()) + R"(,"by_level":{)";
    const char* separator = "";
    for (std::size_t i = 0; i < hydra::sdk::kLevelCount; ++i) {
      const std::uint64_t n = counts_[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      json += separator;
      json += '"';
      json += hydra::sdk::level_name(static_cast<Level>(i));
      json += "\":" + std::to_string(n);
      separator = ",";
    }
    return json + "}}";
  }

 private:
  std::uint64_t count(Level level) const {
    return counts_[static_cast<std::size_t>(level)].load(std::memory_order_relaxed);
  }
  std::uint64_t total() const {
    std::uint64_t sum = 0;
    for (const auto& n : counts_) sum += n.load(std::memory_order_relaxed);
    return sum;
  }

  const std::int64_t summary_every_;
  std::atomic<std::int64_t> ticks_{0};
  std::array<std::atomic<std::uint64_t>, hydra::sdk::kLevelCount> counts_{};
};

}  // namespace

HYDRA_PLUGIN("hydra-example", "1.0.0", "an example sink, filter and analytics",
             hydra::sdk::sink_kind<FileSink>("example_file", "appends records to a file",
                                             kFileOptions, HYDRA_KIND_THREAD_SAFE),
             hydra::sdk::filter_kind<SampleFilter>("example_sample",
                                                   "keeps 1 record in N, drops by substring",
                                                   kSampleOptions, HYDRA_KIND_THREAD_SAFE),
             hydra::sdk::analytics_kind<CounterAnalytics>("example_counter",
                                                          "counts records by level",
                                                          kCounterOptions, HYDRA_KIND_THREAD_SAFE))
