// The logger front end. One logger feeds many named layers; each layer has a
// level and destinations, each destination its own level, format and colour.
//
//   hydra::Logger log;                                   // zero-config: text on stdout
//   log.info("user {user} logged in", "alice");          // text + field user=alice
//   log.layer("DATABASE").debug("query took {ms} ms", 12);
//   log.with({{"order", 42}}).warning("payment retry {}", 3);
//   log.security("login failed for {user}", "bob");      // SECURITY layer
//
// Guarantees:
// - Templates are checked at compile time (see format_string.hpp); a call
//   never throws, whatever its arguments.
// - A record below its layer's level costs one relaxed atomic load. A record
//   at Level::off (a threshold, not a record level) is never written.
// - Routing: the requested layer, else DEFAULT, else __CENTRALIZED__. A layer
//   with none of these routes goes to stderr with a one-time notice: a record
//   is never dropped for want of a route.
// - Level changes (set_level) are thread-safe and take effect at once.
// - flush() returns when everything logged before it, by any thread, is
//   written to the devices; the destructor and exit() flush too.
// - In async mode (LoggerConfig::mode) the caller only copies its arguments
//   into its thread's queue and a backend thread runs the same pipeline; see
//   docs/async.md for the overflow policies and the lifecycle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hydra/async/async_options.hpp"
#include "hydra/async/detail/async_engine.hpp"
#include "hydra/async/metrics.hpp"
#include "hydra/config/config.hpp"
#include "hydra/core/detail/call_inline.hpp"
#include "hydra/core/detail/capture.hpp"
#include "hydra/core/detail/field_value_of.hpp"
#include "hydra/core/detail/layer_slot.hpp"
#include "hydra/core/format_string.hpp"
#include "hydra/core/level.hpp"
#include "hydra/core/record.hpp"
#include "hydra/sink/delivery_counts.hpp"

namespace hydra {

class Logger;

namespace detail {

struct DispatchScratch;  // per-thread working storage of Logger::process (logger.cpp)
struct PluginSet;        // the filters and analytics of a configuration (logger.cpp)

// Test hook: holds an async logger's backend (it neither drains nor beats),
// or lets it go. No effect in sync mode.
void pause_backend_for_test(Logger& logger, bool paused);
// Test hook: stops the clock by which an async logger judges its backend
// stalled (its heartbeat, stall_timeout under automatic and in flush) at
// the current time on first use, and moves it on by `by`. No effect in sync
// mode.
void advance_stall_clock_for_test(Logger& logger, std::chrono::nanoseconds by);

// Test hook: ticks the logger's analytics now, as its housekeeping thread
// does every analytics_interval, at the time given.
void tick_plugins_for_test(Logger& logger, std::chrono::system_clock::time_point now);

// Writes every live logger's queued records and flushes its sinks, from the
// crash handler (see hydra/async/crash_handler.hpp).
void emergency_flush_all() noexcept;

// pthread_atfork handlers for every live logger (logger.cpp).
enum class ForkStage { prepare, parent, child };
void fork_hook(ForkStage stage);

// Extra key-values bound by Logger::with(); copied so that the braced list's
// lifetime does not matter.
inline constexpr std::size_t kMaxBoundFields = 32;
struct BoundFields {
  Field items[kMaxBoundFields];
  std::size_t count = 0;
  BoundFields() = default;
  BoundFields(std::initializer_list<Field> fields);
  std::span<const Field> span() const noexcept { return {items, count}; }
};

}  // namespace detail

// The level methods shared by Logger, LayerLogger and BoundLogger.
template <typename Derived>
class LevelMethods {
 public:
  template <typename... Args>
  HYDRA_CALL_INLINE void trace(format_string<Args...> f, Args&&... args) {
    self().emit(Level::trace, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void debug(format_string<Args...> f, Args&&... args) {
    self().emit(Level::debug, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void info(format_string<Args...> f, Args&&... args) {
    self().emit(Level::info, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void warning(format_string<Args...> f, Args&&... args) {
    self().emit(Level::warning, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void error(format_string<Args...> f, Args&&... args) {
    self().emit(Level::error, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void critical(format_string<Args...> f, Args&&... args) {
    self().emit(Level::critical, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void security(format_string<Args...> f, Args&&... args) {
    self().emit(Level::security, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void audit(format_string<Args...> f, Args&&... args) {
    self().emit(Level::audit, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  HYDRA_CALL_INLINE void compliance(format_string<Args...> f, Args&&... args) {
    self().emit(Level::compliance, f, std::forward<Args>(args)...);
  }
  // A record at a level chosen at run time (trace ... compliance). `off` is a
  // threshold, not a record level: a call at `off`, or at a value outside the
  // enum, writes nothing.
  template <typename... Args>
  HYDRA_CALL_INLINE void log(Level level, format_string<Args...> f, Args&&... args) {
    self().emit(level, f, std::forward<Args>(args)...);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// Records for one named layer (for every level, including security, audit
// and compliance). Cheap to copy; valid while its logger lives. Hold one
// rather than calling Logger::layer() per record: the name is looked up once.
class LayerLogger : public LevelMethods<LayerLogger> {
 public:
  LayerLogger(Logger& logger, detail::LayerSlot& slot) : logger_(&logger), slot_(&slot) {}
  class BoundLogger with(std::initializer_list<Field> fields) const;
  bool should_log(Level level) const noexcept;
  // A record whose message is already text, taken as is (no template).
  void write(Level level, std::string_view message, std::span<const Field> fields = {},
             const SourceLocation& source = {}) const;

  template <typename... Args>
  HYDRA_CALL_INLINE void emit(Level level, const basic_format_string<Args...>& f, Args&&... args);

 private:
  Logger* logger_;
  detail::LayerSlot* slot_;
};

// Records with explicit key-value fields bound: log.with({{"k", v}}).info(...).
// Made for one statement: the values are views of the caller's objects.
class BoundLogger : public LevelMethods<BoundLogger> {
 public:
  BoundLogger(Logger& logger, detail::LayerSlot* slot, std::initializer_list<Field> fields)
      : logger_(&logger), slot_(slot), fields_(fields) {}

  template <typename... Args>
  HYDRA_CALL_INLINE void emit(Level level, const basic_format_string<Args...>& f, Args&&... args);

 private:
  Logger* logger_;
  detail::LayerSlot* slot_;  // null: the level's default layer
  detail::BoundFields fields_;
};

struct LoggerMetrics {
  std::uint64_t records = 0;           // records dispatched to at least the routing stage
  std::uint64_t fallback_records = 0;  // records that took the stderr fallback (no route)
  std::uint64_t write_errors = 0;      // sum of the sinks' write errors
  std::uint64_t format_errors = 0;     // runtime templates that failed to format
  std::uint64_t protect_dropped = 0;   // records the protector withheld (drop action)
  AsyncMetrics async;                  // async mode's queues and backend
  // Records (and their bytes) the sinks were given and will never write:
  // dropped while a device failed past its file's max_pending, or unwritten
  // when a sink closed. Each loss is also reported on stderr and, in a file,
  // by a notice once writing works again (docs/sinks.md).
  std::uint64_t sink_dropped_records = 0;
  std::uint64_t sink_dropped_bytes = 0;
  // Plugins (docs/plugins.md): records a filter dropped (or moved to a
  // level their new layer does not let through); calls into plugin
  // instances that failed; instances disabled for failing
  // plugin_failure_limit times in a row.
  std::uint64_t filter_dropped = 0;
  std::uint64_t plugin_failures = 0;
  std::uint64_t plugins_disabled = 0;
  // Each network destination's accounting (docs/shipping.md): delivered,
  // spooled, dead-lettered, dropped by reason, queued, retries, the oldest
  // undelivered record's age, the last error. Their drops are also in
  // sink_dropped_records.
  std::vector<DestinationMetrics> destinations;
};

// Aligned to a cache line so that what every call reads (the members at the
// end) shares its line with nothing another thread writes, and never spans
// two lines.
class alignas(64) Logger : public LevelMethods<Logger> {
 public:
  // Zero-config: text lines on stdout, colour when it is a terminal.
  Logger();
  // Throws ConfigError when the configuration is invalid (an unknown format,
  // an unopenable path, a reserved layer name, ...). Destinations that write
  // to one file (however its path is spelled: relative, with `..`, through a
  // symlink or a hard link) share one sink, so they must agree on its options
  // (type, buffer_size, flush_level, header, rotation); if they do not, the
  // error names both destinations, the file and the option.
  explicit Logger(LoggerConfig config);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // A handle for one layer; unknown names are routed by the fallback chain.
  LayerLogger layer(std::string_view name);
  // Key-value fields for one statement on the default layer.
  BoundLogger with(std::initializer_list<Field> fields) { return {*this, nullptr, fields}; }

  // Runtime level of a layer (by name; unknown names are created).
  void set_level(std::string_view layer, Level level);
  Level level(std::string_view layer);
  bool should_log(std::string_view layer, Level level);
  // Whether a record of `level` on its default layer would be written.
  bool should_log(Level level) noexcept { return enabled(slot_for(level), level); }

  // Writes everything logged so far to the devices.
  void flush();
  // Async mode: makes (and pre-faults) the calling thread's queue now, so its
  // first record costs no allocation. Call it at the start of a hot thread.
  // With overflow = grow (and prepare_growth), it also makes the thread's
  // next two queues and faults them in, and the backend keeps two made from
  // then on, so that a flood at once can grow twice without waiting for the
  // backend.
  void preallocate();
  // Reopens every file (for external logrotate); see also enable_reopen_on_sighup().
  void reopen();
  // Replaces the layers, their levels and destinations, the default level and
  // the protector with those of `config` (hot reload: see hydra::ConfigWatcher
  // in hydra/config/watch.hpp). Each layer switches at once: a record goes
  // wholly to the old destinations or wholly to the new ones, and none is
  // lost. A destination on a file (or stream) that is open keeps its sink,
  // so the file is not reopened, and must therefore ask for the same sink
  // options (a ConfigError otherwise: restart to change them); levels set
  // with set_level() are replaced by the new configuration's. Records of
  // removed destinations are flushed; their sinks are closed at once in async
  // mode and when the logger is destroyed in sync mode (a call in flight may
  // still be writing to them). Settings fixed at construction — name, mode,
  // async options, default_layer, static_fields (empty: kept) — must be
  // unchanged. Throws
  // ConfigError for a changed fixed setting or a bad destination, and then
  // changes nothing.
  void reconfigure(LoggerConfig config);
  // How many times reconfigure() has succeeded.
  std::uint64_t generation() const noexcept;
  // Flushes and stops background work; later records still go out synchronously.
  // In async mode it takes a bounded time however busy other threads are:
  // calls switch to writing synchronously first, then what was queued is
  // written (see docs/async.md, "Lifecycle").
  void shutdown();

  const std::string& name() const noexcept;
  LoggerMetrics metrics() const;
  // Each network destination's accounting (also in metrics().destinations),
  // without the rest of metrics().
  std::vector<DestinationMetrics> destination_metrics() const;
  // The analytics' snapshots as one JSON object, by type ("rates": {...});
  // a type configured twice appears as "rates#2". "{}" without analytics.
  std::string insights() const;
  // Every plugin instance's state as JSON: for filters, analytics, sinks and
  // formatters from the registry, its type, failures, whether it is
  // disabled, and its own health().
  std::string plugin_health() const;

  template <typename... Args>
  HYDRA_CALL_INLINE void emit(Level level, const basic_format_string<Args...>& f, Args&&... args) {
    if (level == Level::security || level == Level::audit || level == Level::compliance)
        [[unlikely]] {
      emit_to(special_slot(level), level, {}, f, std::forward<Args>(args)...);
      return;
    }
    // The default layer's threshold, from this object's own line.
    if (record_severity(level) < default_threshold_.load(std::memory_order_relaxed)) return;
    emit_enabled(*default_slot_, level, {}, f, std::forward<Args>(args)...);
  }

  // The non-template half of a log call. Public for the front-end classes.
  template <typename... Args>
  HYDRA_CALL_INLINE void emit_to(detail::LayerSlot& slot, Level level, std::span<const Field> extra,
                                 const basic_format_string<Args...>& f, Args&&... args) {
    if (!enabled(slot, level)) return;
    emit_enabled(slot, level, extra, f, std::forward<Args>(args)...);
  }

  // emit_to() once the level check has passed.
  template <typename... Args>
  HYDRA_CALL_INLINE void emit_enabled(detail::LayerSlot& slot, Level level,
                                      std::span<const Field> extra,
                                      const basic_format_string<Args...>& f, Args&&... args) {
    if (engine_ != nullptr) {
      engine_->enqueue(engine_id_.load(std::memory_order_relaxed), slot, level, extra, f,
                       std::forward<Args>(args)...);
      return;
    }
    emit_sync(slot, level, extra, f, std::forward<Args>(args)...);
  }

  // emit_enabled() in sync mode. Out of line: its frame (the format
  // arguments, the field values) stays off the async call's path.
  template <typename... Args>
  [[gnu::noinline]] void emit_sync(detail::LayerSlot& slot, Level level,
                                   std::span<const Field> extra,
                                   const basic_format_string<Args...>& f, Args&&... args) {
    const SourceLocation source = detail::source_of(f.location());
    const bool literal = !f.is_runtime();
    detail::with_call_arguments(
        f.has_names(),
        [&](fmt::format_args stored, std::span<const FieldValue> values) {
          process_now(slot, level, extra, f.get(), f.has_names(), false, source, stored, values,
                      literal);
        },
        args...);
  }

  // A record whose message is already text (no template): for bridges that
  // carry records from elsewhere (hydra pipe, other processes). The source
  // location is whatever the caller knows, empty by default.
  void write_to(detail::LayerSlot& slot, Level level, std::string_view message,
                std::span<const Field> fields = {}, const SourceLocation& source = {});

  // The layer of calls that name none: the default layer, or SECURITY, AUDIT
  // and COMPLIANCE for their levels.
  detail::LayerSlot& slot_for(Level level) noexcept {
    if (level == Level::security || level == Level::audit || level == Level::compliance)
        [[unlikely]] {
      return special_slot(level);
    }
    return *default_slot_;
  }
  detail::LayerSlot& special_slot(Level level) noexcept;
  static bool enabled(const detail::LayerSlot& slot, Level level) noexcept {
    return record_severity(level) >= slot.threshold.load(std::memory_order_relaxed);
  }

 private:
  // The pipeline's right-hand side (see docs/architecture.md): format the
  // message, gather fields, route, write. Runs on the caller in sync mode and
  // on the backend in async mode; never throws.
  void process(const detail::Capture& capture) noexcept;
  // process() with what the calling thread has now: time, thread, context.
  void process_now(detail::LayerSlot& slot, Level level, std::span<const Field> extra,
                   std::string_view text, bool has_names, bool preformatted,
                   const SourceLocation& source, fmt::format_args args,
                   std::span<const FieldValue> values, bool literal = false) noexcept;
  // The same at a given time (an async caller writing its own record).
  void process_at(std::chrono::system_clock::time_point time, detail::LayerSlot& slot, Level level,
                  std::span<const Field> extra, std::string_view text, bool has_names,
                  bool preformatted, const SourceLocation& source, fmt::format_args args,
                  std::span<const FieldValue> values, bool literal) noexcept;
  void deliver(detail::DispatchScratch& scratch, const detail::Capture& capture,
               std::string_view message);
  // A runtime template failed to render (on the caller, in async mode).
  void count_format_error() noexcept;
  // Runs the filters on `record`, applying their changes (fields, level,
  // layer: `slot` follows the layer). False: the record is dropped.
  bool run_filters(detail::DispatchScratch& scratch, const detail::PluginSet& plugins,
                   Record& record, detail::LayerSlot*& slot);
  // Writes the notices of plugins disabled meanwhile, from the pipeline.
  void take_plugin_notices_in_pipeline();
  // An audit record for each plugin file of the configuration not in `before`.
  void log_plugin_loads(const std::vector<LoadedPlugin>& before);
  // Security, audit and compliance records carry who and where: host, pid,
  // process, os_user, thread and a per-process sequence number (seq); a field
  // the caller gave under one of these keys keeps its value.
  static void add_accountability_fields(std::vector<Field>& fields, std::uint64_t thread_id);

  friend class detail::AsyncEngine;
  detail::LayerSlot& slot_named(std::string_view name);
  friend void detail::pause_backend_for_test(Logger& logger, bool paused);
  friend void detail::advance_stall_clock_for_test(Logger& logger, std::chrono::nanoseconds by);
  friend void detail::tick_plugins_for_test(Logger& logger,
                                            std::chrono::system_clock::time_point now);
  friend void detail::emergency_flush_all() noexcept;
  friend void detail::fork_hook(detail::ForkStage stage);
  void before_fork();
  void after_fork(bool in_child);
  // Writes queued records and flushes sinks from a crash handler.
  void emergency_flush() noexcept;
  void flush_sinks();

  // What every call reads, in the object's one line: the default layer's
  // threshold and slot and, in async mode, the engine (owned by impl_).
  detail::LayerSlot* default_slot_ = nullptr;
  detail::AsyncEngine* engine_ = nullptr;
  // engine_->id(), next to engine_ for the call path, which compares it with
  // its thread's ready engine; the engine's stop() makes it an id no thread
  // is ready for, so that later calls write synchronously.
  std::atomic<std::uint64_t> engine_id_{0};
  std::atomic<int> default_threshold_{0};  // the default slot's threshold (threshold_copy)
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
static_assert(sizeof(Logger) == 64);

template <typename... Args>
inline void LayerLogger::emit(Level level, const basic_format_string<Args...>& f, Args&&... args) {
  logger_->emit_to(*slot_, level, {}, f, std::forward<Args>(args)...);
}

template <typename... Args>
inline void BoundLogger::emit(Level level, const basic_format_string<Args...>& f, Args&&... args) {
  detail::LayerSlot& slot = slot_ != nullptr ? *slot_ : logger_->slot_for(level);
  logger_->emit_to(slot, level, fields_.span(), f, std::forward<Args>(args)...);
}

inline bool LayerLogger::should_log(Level level) const noexcept {
  return Logger::enabled(*slot_, level);
}

inline void LayerLogger::write(Level level, std::string_view message, std::span<const Field> fields,
                               const SourceLocation& source) const {
  logger_->write_to(*slot_, level, message, fields, source);
}

inline BoundLogger LayerLogger::with(std::initializer_list<Field> fields) const {
  return {*logger_, slot_, fields};
}

// Makes SIGHUP reopen every file of every logger (for external logrotate).
// The handler only bumps a counter; files are reopened by the next write or
// by the logger's flusher, never inside the signal handler.
void enable_reopen_on_sighup();

}  // namespace hydra
