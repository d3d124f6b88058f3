#include "hydra/core/logger.hpp"

#include <pthread.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>  // program_invocation_short_name (GNU)
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "../config/factory.hpp"
#include "hydra/async/crash_handler.hpp"
#include "hydra/config/detect.hpp"
#include "hydra/config/limits.hpp"
#include "hydra/core/context.hpp"
#include "hydra/core/detail/thread_instance.hpp"
#include "hydra/core/error.hpp"
#include "hydra/core/protector.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/format/text_formatter.hpp"
#include "hydra/sink/detail/crash_lock.hpp"
#include "message_template.hpp"
#include "route.hpp"

namespace hydra {
namespace detail {

std::string_view FieldScratch::keep(std::string s) {
  if (used_ == slots_.size()) slots_.emplace_back();
  std::string& slot = slots_[used_++];
  slot = std::move(s);
  return slot;
}

bool render_message(std::string_view tmpl, bool has_names, fmt::format_args args,
                    std::size_t arg_count, fmt::memory_buffer& message,
                    fmt::memory_buffer& stripped, std::vector<std::string_view>& names,
                    std::vector<std::pair<std::uint32_t, std::uint32_t>>* spans, bool literal) {
  message.clear();
  names.clear();
  if (spans != nullptr) spans->clear();
  try {
    // A user type's formatter that logs re-enters here: only the outermost
    // call uses the cache, whose entries a nested call could replace.
    thread_local bool t_rendering = false;
    if (!t_rendering) {
      t_rendering = true;
      struct Reset {
        ~Reset() { t_rendering = false; }
      } reset;
      const ParsedTemplate& parsed = parsed_template(tmpl, literal);
      if (parsed.usable() && parsed.render(tmpl, args, message, has_names ? &names : nullptr,
                                           has_names ? spans : nullptr)) {
        return true;
      }
      message.clear();
      names.clear();
      if (spans != nullptr) spans->clear();
    }
    if (has_names) {
      stripped.clear();
      stripped.resize(tmpl.size() * 2);
      const std::size_t len = strip_names(tmpl, stripped.data());
      scan_template(
          tmpl, [](std::string_view) {},
          [&](std::string_view id, std::string_view) { names.push_back(id); });
      fmt::vformat_to(fmt::appender(message), std::string_view(stripped.data(), len), args);
    } else if (arg_count == 0 && tmpl.find_first_of("{}") == std::string_view::npos) {
      message.append(tmpl);
    } else {
      fmt::vformat_to(fmt::appender(message), tmpl, args);
    }
    return true;
  } catch (const std::exception& e) {
    message.clear();
    names.clear();
    if (spans != nullptr) spans->clear();
    fmt::format_to(fmt::appender(message), "{} [hydra: format error: {}]", tmpl, e.what());
    return false;
  }
}

namespace {
thread_local std::uint64_t t_thread_id = 0;  // 0 until asked; reset in a fork()ed child
}  // namespace

std::uint64_t current_thread_id() noexcept {
  if (t_thread_id == 0) t_thread_id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
  return t_thread_id;
}

FieldScratch& thread_field_scratch() {
  return thread_instance<FieldScratch>();
}

BoundFields::BoundFields(std::initializer_list<Field> fields) {
  for (const Field& f : fields) {
    if (count == kMaxBoundFields - 1 && fields.size() > kMaxBoundFields) {
      // Say so rather than drop fields silently.
      items[count++] = Field{"hydra_fields_truncated", FieldValue(fields.size() - count)};
      break;
    }
    items[count++] = f;
  }
}

}  // namespace detail

namespace {

std::atomic<std::uint64_t> g_reopen_epoch{0};

extern "C" void on_sighup(int /*signo*/) {
  g_reopen_epoch.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

// Per-thread working storage for dispatch; a nested log call (a sink that
// logs) gets fresh storage instead of clobbering the outer call's.
struct detail::DispatchScratch {
  Buffer message;
  Buffer stripped;
  Buffer line;
  std::vector<std::string_view> names;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> spans;  // per name, in `message`
  std::vector<Field> fields;
  std::vector<FieldSpan> field_spans;
  ProtectedParts protect;
  bool busy = false;
};

namespace {

using detail::DispatchScratch;

// Flushes every live logger at exit(), so that records in file buffers of
// loggers that are never destroyed (leaked, or on the stack of a thread that
// calls exit) are written. Never destroyed itself: safe in static teardown.
//
// It also carries every logger through fork(): before it, each logger writes
// what it holds and takes its locks, then every sink does the same (each
// once, though loggers may share one), so the child inherits quiet loggers
// and sinks with empty buffers; after it, the locks are released and the
// child's loggers start their threads again.
struct LiveLoggers {
  std::mutex mutex;
  std::unordered_set<Logger*> loggers;
  std::vector<Sink*> forking_sinks;  // between the prepare and the after hooks
  static LiveLoggers& get() {
    static auto* instance = [] {
      auto* l = new LiveLoggers;  // NOLINT: intentionally leaked
      std::atexit([] {
        LiveLoggers& live = get();
        std::lock_guard lock(live.mutex);
        for (Logger* logger : live.loggers) logger->flush();
      });
      ::pthread_atfork([] { detail::fork_hook(detail::ForkStage::prepare); },
                       [] { detail::fork_hook(detail::ForkStage::parent); },
                       [] { detail::fork_hook(detail::ForkStage::child); });
      return l;
    }();
    return *instance;
  }
};

}  // namespace

void detail::emergency_flush_all() noexcept {
  // From here on, sink code on this thread never waits for a lock this
  // thread holds (see hydra/sink/detail/crash_lock.hpp).
  enter_crash_handler();
  LiveLoggers& live = LiveLoggers::get();
  // The registry changes only when loggers are made or destroyed; if its lock
  // is held (a logger being made as we crash), go on without it after a bound.
  bool locked = false;
  for (int i = 0; i < 100000 && !locked; ++i) locked = live.mutex.try_lock();
  for (Logger* logger : live.loggers) logger->emergency_flush();
  if (locked) live.mutex.unlock();
}

void enable_reopen_on_sighup() {
  struct sigaction sa {};
  sa.sa_handler = on_sighup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &sa, nullptr);
}

namespace {

// A sink as destinations share it: by the file (or stream) it writes to
// (detail::SinkSpec::key).
struct SharedSink {
  std::shared_ptr<Sink> sink;
  detail::SinkSpec spec;
  std::string destination;  // the first that uses it: "layers.APP.destinations[0]"
};
using SinkTable = std::map<std::string, SharedSink, std::less<>>;

// One file has one sink, so every destination on it must ask for the same
// sink options; `running`: `shared` is open in the configuration that a
// reconfigure() would replace, and stays open across it.
void require_same_sink_options(const SharedSink& shared, const detail::SinkSpec& spec,
                               bool running) {
  const auto& mine = spec.options;
  const auto& theirs = shared.spec.options;
  for (std::size_t i = 0; i < std::max(mine.size(), theirs.size()); ++i) {
    const bool same = i < mine.size() && i < theirs.size() && mine[i] == theirs[i];
    if (same) continue;
    const std::string_view option = i < mine.size() ? mine[i].first : theirs[i].first;
    const std::string here = i < mine.size() ? mine[i].second : "unset";
    const std::string there = i < theirs.size() ? theirs[i].second : "unset";
    if (running) {
      throw ConfigError(fmt::format(
          "{} is open (for {} of the running configuration) with {} {}, not {}: reconfigure() "
          "keeps a file that stays configured open, so its sink options cannot change (restart, "
          "or use another path)",
          shared.spec.what, shared.destination, option, there, here));
    }
    throw ConfigError(fmt::format(
        "writes to the same {} as {}, with a different {} ({} here, {} there): destinations on "
        "one file share its sink, so they must agree on its options (type, buffer_size, "
        "flush_level, the csv header, rotation)",
        spec.what, shared.destination, option, here, there));
  }
}

// What `hydra::Logger log;` gets, at construction and when a reconfigure()
// brings no layers: the environment's defaults, then the HYDRA_LOG_* variables.
void apply_zero_config_and_variables(LoggerConfig& config) {
  apply_zero_config(config, detect_environment());
  apply_zero_config_environment(config);
}

}  // namespace

struct Logger::Impl {
  LoggerConfig config;
  std::vector<std::unique_ptr<detail::Route>> routes;  // configured layers, under slots_mutex
  detail::Route last_resort;
  std::mutex sinks_mutex;                    // guards the next three
  std::vector<std::shared_ptr<Sink>> sinks;  // each once, for flush/reopen
  // Sinks of destinations removed by reconfigure() in sync mode, where a
  // call in flight may still write to them: flushed with the others.
  std::vector<std::shared_ptr<Sink>> retired_sinks;
  SinkTable sink_by_identity;  // the configured sinks, by the file (or stream) they write
  // Routes replaced by reconfigure(), alive while a caller may still hold one.
  std::vector<std::unique_ptr<detail::Route>> retired_routes;  // under reconfigure_mutex
  std::mutex reconfigure_mutex;
  std::atomic<std::uint64_t> generation{0};
  // The protect stage: read by every record, replaced by reconfigure(); the
  // shared pointers keep each one alive for calls still using it.
  std::atomic<const Protector*> protector{nullptr};
  std::vector<std::shared_ptr<const Protector>> protectors;  // under reconfigure_mutex
  // Views of config.static_fields: the first fields of every record.
  std::vector<Field> static_fields;

  mutable std::shared_mutex slots_mutex;
  std::deque<detail::LayerSlot> slots;  // deque: addresses stay stable
  std::unordered_map<std::string_view, detail::LayerSlot*> slot_index;
  std::unordered_set<const detail::LayerSlot*> notified;  // guarded by notice_mutex
  std::mutex notice_mutex;

  detail::LayerSlot* default_slot = nullptr;
  detail::LayerSlot* security_slot = nullptr;
  detail::LayerSlot* audit_slot = nullptr;
  detail::LayerSlot* compliance_slot = nullptr;

  // Records delivered so far, and the next record's sequence number (one
  // atomic add per record: it is a locked instruction).
  std::atomic<std::uint64_t> sequence{0};
  std::atomic<std::uint64_t> fallback_records{0};
  std::atomic<std::uint64_t> format_errors{0};
  std::atomic<std::uint64_t> protect_dropped{0};
  std::atomic<std::uint64_t> seen_reopen_epoch{0};

  std::mutex flusher_mutex;
  std::condition_variable flusher_cv;
  bool stopping = false;
  std::chrono::milliseconds flush_period{0};
  // Owned through a pointer: in a fork()ed child the thread does not exist
  // and its handle is abandoned rather than joined.
  std::unique_ptr<std::thread> flusher;

  std::unique_ptr<detail::AsyncEngine> engine;  // async mode

  // What a configuration's layers become: routes, and each sink once.
  struct Built {
    std::vector<std::unique_ptr<detail::Route>> routes;
    std::vector<std::shared_ptr<Sink>> sinks;
    SinkTable sink_by_identity;
    std::chrono::milliseconds flush_period{0};
  };

  // `reuse`: the running configuration's sinks, which a destination on the
  // same file (or stream) takes over. Throws ConfigError for two
  // destinations on one file with different sink options, naming both.
  static Built build(const LoggerConfig& config, const SinkTable& reuse) {
    Built built;
    std::unordered_map<const Sink*, bool> seen;
    // Hard links: one file under two names, told by its device and inode.
    std::map<std::pair<dev_t, ino_t>, std::string> key_of_file;
    for (const auto& [name, layer] : config.layers) {
      if (name.empty()) throw ConfigError("layers: a layer name must not be empty");
      if (is_reserved_layer_name(name)) {
        throw ConfigError("layers." + name +
                          ": names of the form __X__ are reserved (only __CENTRALIZED__ may be "
                          "configured)");
      }
      auto route = std::make_unique<detail::Route>();
      route->name = name;
      route->level = layer.level.value_or(config.default_level);
      for (std::size_t i = 0; i < layer.destinations.size(); ++i) {
        DestinationConfig dc = layer.destinations[i];
        const std::string where = "layers." + name + ".destinations[" + std::to_string(i) + "]";
        detail::SinkSpec spec;
        try {
          spec = detail::sink_spec(dc);
          if (spec.file_id)
            spec.key = key_of_file.try_emplace(*spec.file_id, spec.key).first->second;
          if (spec.key.empty()) {
            // never shared
          } else if (auto it = built.sink_by_identity.find(spec.key);
                     it != built.sink_by_identity.end()) {
            require_same_sink_options(it->second, spec, false);
            dc.sink = it->second.sink;  // the same file twice in this configuration
          } else if (auto old = reuse.find(spec.key); old != reuse.end()) {
            require_same_sink_options(old->second, spec, true);
            dc.sink = old->second.sink;
          }
          route->destinations.push_back(detail::build_destination(dc));
          route->destinations.back().protect = dc.protect.value_or(layer.protect.value_or(true));
        } catch (const ConfigError& e) {
          throw ConfigError(where + ": " + e.what());
        }
        const auto& sink = route->destinations.back().sink;
        if (!spec.key.empty()) {
          std::string key = spec.key;
          built.sink_by_identity.try_emplace(std::move(key),
                                             SharedSink{sink, std::move(spec), where});
        }
        if (seen.emplace(sink.get(), true).second) built.sinks.push_back(sink);
        if ((dc.type == "file" || dc.type == "rotating_file") && dc.flush_interval.count() > 0) {
          built.flush_period = built.flush_period.count() == 0
                                   ? dc.flush_interval
                                   : std::min(built.flush_period, dc.flush_interval);
        }
      }
      built.routes.push_back(std::move(route));
    }
    return built;
  }

  const detail::Route* find_route(std::string_view name) const {
    const detail::Route* layer = find_layer(name);
    return layer != nullptr && !layer->destinations.empty() ? layer : nullptr;
  }

  // The configured layer of that name, with or without destinations: a layer
  // configured for its level alone (HYDRA_LOG_LEVEL=info,DATABASE=debug) has
  // that level and takes the fallback chain's route.
  const detail::Route* find_layer(std::string_view name) const {
    for (const auto& r : routes) {
      if (r->name == name) return r.get();
    }
    return nullptr;
  }

  const detail::Route& resolve(std::string_view name) const {
    if (const auto* r = find_route(name)) return *r;
    if (const auto* r = find_route(kDefaultLayer)) return *r;
    if (const auto* r = find_route(kCentralizedLayer)) return *r;
    return last_resort;
  }

  // The level of layer `name`, whose records take `route`: a configured
  // layer's own (its level or default_level, with or without destinations
  // of its own); else that of the layer it falls back to (DEFAULT,
  // __CENTRALIZED__); else default_level. Under slots_mutex.
  Level level_of(std::string_view name, const detail::Route& route) const {
    if (const detail::Route* own = find_layer(name)) return own->level;
    return route.last_resort ? config.default_level : route.level;
  }

  static void refresh_threshold(detail::LayerSlot& slot) {
    const detail::Route* route = slot.route.load(std::memory_order_acquire);
    const int level_sev = severity(slot.level.load(std::memory_order_relaxed));
    const int threshold = std::max(level_sev, route->min_destination_severity());
    slot.threshold.store(threshold, std::memory_order_relaxed);
    if (slot.threshold_copy != nullptr) {
      slot.threshold_copy->store(threshold, std::memory_order_relaxed);
    }
  }

  detail::LayerSlot& slot(std::string_view name) {
    {
      std::shared_lock lock(slots_mutex);
      auto it = slot_index.find(name);
      if (it != slot_index.end()) return *it->second;
    }
    std::unique_lock lock(slots_mutex);
    auto it = slot_index.find(name);
    if (it != slot_index.end()) return *it->second;
    detail::LayerSlot& s = slots.emplace_back();
    s.name.assign(name);
    const detail::Route& route = resolve(name);
    s.level.store(level_of(name, route), std::memory_order_relaxed);
    s.route.store(&route, std::memory_order_release);
    refresh_threshold(s);
    slot_index.emplace(s.name, &s);
    return s;
  }

  void notice_fallback(const detail::LayerSlot& s) {
    std::lock_guard lock(notice_mutex);
    if (!notified.insert(&s).second) return;
    std::fprintf(stderr,
                 "hydra: logger '%s': layer '%s' has no route (neither it, DEFAULT nor "
                 "__CENTRALIZED__ is configured); its records go to stderr\n",
                 config.name.c_str(), s.name.c_str());
  }

  ~Impl() {
    // The engine's destructor drains into the sinks: it must go first.
    engine.reset();
  }

  // A log call never throws; a failure while dispatching is an internal fault
  // (out of memory, a throwing custom sink). Report it rather than lose the
  // record silently.
  void report_lost(const std::exception& e) {
    format_errors.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "hydra: logger '%s': record lost: %s\n", config.name.c_str(), e.what());
  }

  void flush_all() {
    std::lock_guard lock(sinks_mutex);
    for (const auto& s : sinks) s->flush();
    for (const auto& s : retired_sinks) s->flush();
  }

  // From the crash handler: the lock may be held by the crashed thread, so
  // wait for it only a bounded time, then flush regardless. Each sink's
  // emergency_flush never waits for a lock this thread holds.
  void emergency_flush_all() noexcept {
    bool locked = false;
    for (int i = 0; i < 100000 && !locked; ++i) locked = sinks_mutex.try_lock();
    for (const auto& s : sinks) s->emergency_flush();
    for (const auto& s : retired_sinks) s->emergency_flush();
    if (locked) sinks_mutex.unlock();
  }

  // Lets every sink of `routes` render its own notices (a file's "N records
  // lost") in the format of the first destination that uses it.
  void attach_notice_formatters(const std::vector<std::unique_ptr<detail::Route>>& routes) const {
    std::unordered_set<const Sink*> done;
    for (const auto& route : routes) {
      for (const detail::Destination& d : route->destinations) {
        if (!done.insert(d.sink.get()).second) continue;
        d.sink->set_notice_formatter(
            [formatter = d.formatter, layer = route->name, logger = config.name](Record& notice) {
              notice.layer = layer;
              notice.logger = logger;
              Buffer line;
              formatter->format(notice, line);
              return std::string(line.data(), line.size());
            });
      }
    }
  }

  void reopen_all() {
    std::lock_guard lock(sinks_mutex);
    for (const auto& s : sinks) s->reopen();
  }

  void check_reopen() {
    const std::uint64_t epoch = g_reopen_epoch.load(std::memory_order_relaxed);
    std::uint64_t seen = seen_reopen_epoch.load(std::memory_order_relaxed);
    if (epoch != seen && seen_reopen_epoch.compare_exchange_strong(seen, epoch)) reopen_all();
  }

  void start_flusher(std::chrono::milliseconds period) {
    flush_period = period;
    stopping = false;
    flusher = std::make_unique<std::thread>([this, period] {
      std::unique_lock lock(flusher_mutex);
      while (!stopping) {
        flusher_cv.wait_for(lock, period, [this] { return stopping; });
        if (stopping) break;
        lock.unlock();
        check_reopen();
        flush_all();
        lock.lock();
      }
    });
  }

  void stop_flusher() {
    {
      std::lock_guard lock(flusher_mutex);
      stopping = true;
    }
    flusher_cv.notify_all();
    if (flusher && flusher->joinable()) flusher->join();
  }
};

Logger::Logger() : Logger(LoggerConfig{}) {}

Logger::Logger(LoggerConfig config) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.config = std::move(config);
  if (im.config.default_layer.empty()) throw ConfigError("default_layer: must not be empty");
  detail::check_limits(im.config.async);
  if (im.config.layers.empty()) apply_zero_config_and_variables(im.config);
  for (const auto& [key, value] : im.config.static_fields) {
    im.static_fields.push_back(Field{key, FieldValue(std::string_view(value))});
  }

  Impl::Built built = Impl::build(im.config, {});
  im.routes = std::move(built.routes);
  im.attach_notice_formatters(im.routes);
  im.sinks = std::move(built.sinks);
  im.sink_by_identity = std::move(built.sink_by_identity);
  if (im.config.protector) im.protectors.push_back(im.config.protector);
  im.protector.store(im.config.protector.get(), std::memory_order_release);

  DestinationConfig fallback = hydra::console();
  fallback.stream = "stderr";
  // Hydra's own route must not stop a logger over a bad HYDRA_LOG_*_FORMAT.
  fallback.text = without_bad_format_variables(fallback.text);
  im.last_resort.name = "__FALLBACK__";
  im.last_resort.level = Level::trace;
  im.last_resort.last_resort = true;
  im.last_resort.destinations.push_back(detail::build_destination(fallback));
  im.sinks.push_back(im.last_resort.destinations.back().sink);

  im.default_slot = &im.slot(im.config.default_layer);
  default_slot_ = im.default_slot;
  default_slot_->threshold_copy = &default_threshold_;  // before any other thread logs
  Impl::refresh_threshold(*default_slot_);
  im.security_slot = &im.slot(default_layer_of(Level::security));
  im.audit_slot = &im.slot(default_layer_of(Level::audit));
  im.compliance_slot = &im.slot(default_layer_of(Level::compliance));

  if (im.config.mode == LoggerMode::async) {
    im.engine = std::make_unique<detail::AsyncEngine>(*this, im.config.async);
    engine_ = im.engine.get();
    engine_id_.store(engine_->id(), std::memory_order_relaxed);
  }
  if (im.config.crash_handler) install_crash_handler();
  if (built.flush_period.count() > 0) im.start_flusher(built.flush_period);
  LiveLoggers& live = LiveLoggers::get();
  std::lock_guard lock(live.mutex);
  live.loggers.insert(this);
}

Logger::~Logger() {
  {
    LiveLoggers& live = LiveLoggers::get();
    std::lock_guard lock(live.mutex);
    live.loggers.erase(this);
  }
  shutdown();
}

detail::LayerSlot& Logger::slot_named(std::string_view name) {
  return impl_->slot(name);
}

LayerLogger Logger::layer(std::string_view name) {
  return {*this, impl_->slot(name)};
}

detail::LayerSlot& Logger::special_slot(Level level) noexcept {
  switch (level) {
    case Level::security: return *impl_->security_slot;
    case Level::audit: return *impl_->audit_slot;
    case Level::compliance: return *impl_->compliance_slot;
    default: return *impl_->default_slot;
  }
}

void Logger::set_level(std::string_view layer, Level level) {
  detail::LayerSlot& s = impl_->slot(layer);
  s.level.store(level, std::memory_order_relaxed);
  Impl::refresh_threshold(s);
}

Level Logger::level(std::string_view layer) {
  return impl_->slot(layer).level.load(std::memory_order_relaxed);
}

bool Logger::should_log(std::string_view layer, Level level) {
  return enabled(impl_->slot(layer), level);
}

void Logger::flush() {
  if (engine_ != nullptr) {
    engine_->flush();  // drains every queue, then flushes the sinks
  } else {
    impl_->flush_all();
  }
}

void detail::fork_hook(ForkStage stage) {
  LiveLoggers& live = LiveLoggers::get();
  switch (stage) {
    case ForkStage::prepare: {
      live.mutex.lock();
      for (Logger* logger : live.loggers) logger->before_fork();
      // The loggers' sinks_mutex is held now: their sink lists stay as they are.
      std::unordered_set<Sink*> seen;
      live.forking_sinks.clear();
      for (Logger* logger : live.loggers) {
        for (const auto* list : {&logger->impl_->sinks, &logger->impl_->retired_sinks}) {
          for (const auto& sink : *list) {
            if (seen.insert(sink.get()).second) live.forking_sinks.push_back(sink.get());
          }
        }
      }
      for (Sink* sink : live.forking_sinks) sink->before_fork();
      break;
    }
    case ForkStage::parent:
    case ForkStage::child:
      if (stage == ForkStage::child) t_thread_id = 0;
      for (Sink* sink : live.forking_sinks) sink->after_fork(stage == ForkStage::child);
      live.forking_sinks.clear();
      for (Logger* logger : live.loggers) logger->after_fork(stage == ForkStage::child);
      live.mutex.unlock();
      break;
  }
}

void Logger::before_fork() {
  impl_->reconfigure_mutex.lock();
  if (engine_ != nullptr) {
    engine_->before_fork();  // drains the queues and flushes the sinks
  } else {
    impl_->flush_all();
  }
  impl_->flusher_mutex.lock();
  impl_->sinks_mutex.lock();
}

void Logger::after_fork(bool in_child) {
  impl_->sinks_mutex.unlock();
  impl_->reconfigure_mutex.unlock();
  if (in_child && impl_->flusher) {
    (void)impl_->flusher.release();  // the parent's thread: nothing to join here
    impl_->flusher_mutex.unlock();
    if (engine_ != nullptr) engine_->after_fork(true);
    if (!impl_->stopping) impl_->start_flusher(impl_->flush_period);
    return;
  }
  impl_->flusher_mutex.unlock();
  if (engine_ != nullptr) engine_->after_fork(in_child);
}

void Logger::preallocate() {
  if (engine_ != nullptr) engine_->preallocate();
}

void Logger::flush_sinks() {
  if (detail::in_crash_handler()) {
    impl_->emergency_flush_all();  // this thread may hold sinks_mutex
    return;
  }
  impl_->flush_all();
}

void Logger::emergency_flush() noexcept {
  try {
    if (engine_ != nullptr) engine_->emergency_drain();
    impl_->emergency_flush_all();
  } catch (...) {  // nothing can be done about it in a crash
  }
}

void detail::pause_backend_for_test(Logger& logger, bool paused) {
  if (logger.engine_ != nullptr) logger.engine_->pause_backend_for_test(paused);
}

void detail::advance_stall_clock_for_test(Logger& logger, std::chrono::nanoseconds by) {
  if (logger.engine_ != nullptr) logger.engine_->advance_stall_clock_for_test(by);
}

void Logger::reopen() {
  impl_->reopen_all();
}

void Logger::reconfigure(LoggerConfig config) {
  Impl& im = *impl_;
  std::lock_guard guard(im.reconfigure_mutex);
  const auto fixed = [](const char* key) {
    throw ConfigError(std::string(key) +
                      ": cannot change while the logger runs (it is fixed at construction)");
  };
  if (config.name != im.config.name) fixed("name");
  if (config.mode != im.config.mode) fixed("mode");
  if (!(config.async == im.config.async)) fixed("async");
  if (config.default_layer != im.config.default_layer) fixed("default_layer");
  // Unset static fields keep the logger's (zero-config may have added
  // detected resource fields); different ones are refused.
  if (config.static_fields.empty()) config.static_fields = im.config.static_fields;
  if (config.layers.empty()) apply_zero_config_and_variables(config);
  if (config.static_fields != im.config.static_fields) fixed("static_fields");

  SinkTable reuse;
  {
    std::lock_guard lock(im.sinks_mutex);
    reuse = im.sink_by_identity;
  }
  Impl::Built built = Impl::build(config, reuse);  // throws before anything changes

  // Async mode: what was logged before the call goes where it was logged to.
  if (engine_ != nullptr) engine_->flush();
  if (config.protector) im.protectors.push_back(config.protector);
  std::vector<std::unique_ptr<detail::Route>> old_routes;
  {
    std::unique_lock lock(im.slots_mutex);
    old_routes = std::exchange(im.routes, std::move(built.routes));
    im.config.layers = std::move(config.layers);
    im.config.default_level = config.default_level;
    im.config.protector = config.protector;
    im.protector.store(config.protector.get(), std::memory_order_release);
    for (detail::LayerSlot& s : im.slots) {
      const detail::Route& route = im.resolve(s.name);
      s.route.store(&route, std::memory_order_release);
      s.level.store(im.level_of(s.name, route), std::memory_order_relaxed);
      Impl::refresh_threshold(s);
    }
  }
  im.attach_notice_formatters(im.routes);  // (routes change only under reconfigure_mutex)

  std::vector<std::shared_ptr<Sink>> removed;
  {
    std::lock_guard lock(im.sinks_mutex);
    for (const auto& s : im.sinks) {
      if (s != im.last_resort.destinations.back().sink &&
          std::find(built.sinks.begin(), built.sinks.end(), s) == built.sinks.end()) {
        removed.push_back(s);
      }
    }
    im.sinks = std::move(built.sinks);
    im.sinks.push_back(im.last_resort.destinations.back().sink);
    im.sink_by_identity = std::move(built.sink_by_identity);
    if (engine_ == nullptr) {
      im.retired_sinks.insert(im.retired_sinks.end(), removed.begin(), removed.end());
    }
  }
  if (engine_ != nullptr) {
    // Only the backend (or a caller holding its lock) delivers: once it has
    // written everything queued, nothing uses the old routes.
    engine_->flush();
    old_routes.clear();
    for (const auto& s : removed) s->flush();
  } else {
    for (const auto& s : removed) s->flush();
    for (auto& r : old_routes) im.retired_routes.push_back(std::move(r));
  }

  if (built.flush_period != im.flush_period) {
    im.stop_flusher();
    im.flush_period = built.flush_period;
    if (built.flush_period.count() > 0) im.start_flusher(built.flush_period);
  }
  if (config.crash_handler && !im.config.crash_handler) {
    im.config.crash_handler = true;
    install_crash_handler();
  }
  im.generation.fetch_add(1, std::memory_order_release);
}

std::uint64_t Logger::generation() const noexcept {
  return impl_->generation.load(std::memory_order_acquire);
}

void Logger::shutdown() {
  if (engine_ != nullptr) engine_->stop();
  impl_->stop_flusher();
  impl_->flush_all();
}

const std::string& Logger::name() const noexcept {
  return impl_->config.name;
}

LoggerMetrics Logger::metrics() const {
  LoggerMetrics m;
  m.records = impl_->sequence.load(std::memory_order_relaxed);
  m.fallback_records = impl_->fallback_records.load(std::memory_order_relaxed);
  m.format_errors = impl_->format_errors.load(std::memory_order_relaxed);
  m.protect_dropped = impl_->protect_dropped.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(impl_->sinks_mutex);
    for (const auto& s : impl_->sinks) {
      m.write_errors += s->write_errors();
      m.sink_dropped_records += s->dropped_records();
      m.sink_dropped_bytes += s->dropped_bytes();
    }
  }
  if (engine_ != nullptr) m.async = engine_->metrics();
  return m;
}

namespace {

bool format_message(DispatchScratch& scratch, const detail::Capture& capture) {
  return detail::render_message(capture.text, capture.has_names, capture.args,
                                capture.values.size(), scratch.message, scratch.stripped,
                                scratch.names, &scratch.spans, capture.literal);
}

}  // namespace

namespace {

// Claims this thread's scratch storage, or fresh storage for a nested call
// (a sink or formatter that logs).
class ScratchLease {
 public:
  ScratchLease() : scratch_(own_.busy ? nested_.emplace() : own_) { scratch_.busy = true; }
  ~ScratchLease() { scratch_.busy = false; }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  DispatchScratch& operator*() { return scratch_; }

 private:
  DispatchScratch& own_ = detail::thread_instance<DispatchScratch>();  // the thread's
  std::optional<DispatchScratch> nested_;  // built only when nested: it is large
  DispatchScratch& scratch_;
};

}  // namespace

void Logger::process(const detail::Capture& capture) noexcept {
  ScratchLease lease;
  DispatchScratch& scratch = *lease;
  try {
    std::string_view message = capture.text;
    scratch.fields.assign(impl_->static_fields.begin(), impl_->static_fields.end());
    scratch.field_spans.clear();
    if (!capture.preformatted) {
      if (!format_message(scratch, capture)) {
        impl_->format_errors.fetch_add(1, std::memory_order_relaxed);
      }
      message = std::string_view(scratch.message.data(), scratch.message.size());
      const std::size_t named = std::min(scratch.names.size(), capture.values.size());
      const bool spans = scratch.spans.size() == scratch.names.size();
      for (std::size_t i = 0; i < named; ++i) {
        if (!scratch.names[i].empty()) {
          if (spans) {
            scratch.field_spans.push_back({static_cast<std::uint32_t>(scratch.fields.size()),
                                           scratch.spans[i].first, scratch.spans[i].second});
          }
          scratch.fields.push_back(Field{scratch.names[i], capture.values[i]});
        }
      }
    }
    scratch.fields.insert(scratch.fields.end(), capture.extra.begin(), capture.extra.end());
    scratch.fields.insert(scratch.fields.end(), capture.context.begin(), capture.context.end());
    deliver(scratch, capture, message);
  } catch (const std::exception& e) {
    impl_->report_lost(e);
  }
}

namespace {

// Who and where, fixed for the life of the process (host, name, OS user).
struct ProcessIdentity {
  std::string host;
  std::string process;
  std::string user;
};

const ProcessIdentity& process_identity() {
  static const ProcessIdentity identity = [] {
    ProcessIdentity id;
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) == 0) id.host = host.data();
    if (program_invocation_short_name != nullptr) id.process = program_invocation_short_name;
    const uid_t uid = ::geteuid();
    std::array<char, 4096> buffer{};
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
      id.user = found->pw_name;
    } else {
      id.user = std::to_string(uid);
    }
    return id;
  }();
  return identity;
}

// Numbers every security, audit and compliance record of the process, in the
// order they are written, across loggers: a gap shows a record went missing.
std::atomic<std::uint64_t> g_accountable_sequence{0};

}  // namespace

void Logger::add_accountability_fields(std::vector<Field>& fields, std::uint64_t thread_id) {
  const ProcessIdentity& id = process_identity();
  const std::size_t given = fields.size();
  // A field the caller gave keeps its value: no key appears twice.
  const auto add = [&](std::string_view key, FieldValue value) {
    for (std::size_t i = 0; i < given; ++i) {
      if (fields[i].key == key) return;
    }
    fields.push_back(Field{key, value});
  };
  add("host", FieldValue(std::string_view(id.host)));
  add("pid", FieldValue(detail::process_id()));
  add("process", FieldValue(std::string_view(id.process)));
  add("os_user", FieldValue(std::string_view(id.user)));
  add("thread", FieldValue(thread_id));
  add("seq", FieldValue(g_accountable_sequence.fetch_add(1, std::memory_order_relaxed) + 1));
}

void Logger::count_format_error() noexcept {
  impl_->format_errors.fetch_add(1, std::memory_order_relaxed);
}

void Logger::process_now(detail::LayerSlot& slot, Level level, std::span<const Field> extra,
                         std::string_view text, bool has_names, bool preformatted,
                         const SourceLocation& source, fmt::format_args args,
                         std::span<const FieldValue> values, bool literal) noexcept {
  process_at(std::chrono::system_clock::now(), slot, level, extra, text, has_names, preformatted,
             source, args, values, literal);
}

void Logger::process_at(std::chrono::system_clock::time_point time, detail::LayerSlot& slot,
                        Level level, std::span<const Field> extra, std::string_view text,
                        bool has_names, bool preformatted, const SourceLocation& source,
                        fmt::format_args args, std::span<const FieldValue> values,
                        bool literal) noexcept {
  detail::Capture capture;
  capture.slot = &slot;
  capture.level = level;
  capture.time = time;
  capture.thread_id = detail::current_thread_id();
  capture.text = text;
  capture.has_names = has_names;
  capture.preformatted = preformatted;
  capture.literal = literal;
  capture.source = source;
  capture.args = args;
  capture.values = values;
  capture.extra = extra;
  capture.context = current_context();
  process(capture);
}

void Logger::write_to(detail::LayerSlot& slot, Level level, std::string_view message,
                      std::span<const Field> fields, const SourceLocation& source) {
  if (!enabled(slot, level)) return;
  if (engine_ != nullptr) {
    engine_->enqueue_message(slot, level, message, fields, source);
    return;
  }
  process_now(slot, level, fields, message, false, true, source, {}, {});
}

// The stages after the message exists: record, route, destinations.
// `scratch.fields` holds all the record's fields.
void Logger::deliver(DispatchScratch& scratch, const detail::Capture& capture,
                     std::string_view message) {
  Impl& im = *impl_;
  detail::LayerSlot& slot = *capture.slot;
  const Level level = capture.level;
  if (level == Level::security || level == Level::audit || level == Level::compliance) {
    add_accountability_fields(scratch.fields, capture.thread_id);
  }
  Record record;
  record.time = capture.time;
  record.level = level;
  record.layer = slot.name;
  record.logger = im.config.name;
  record.message = message;
  record.fields = scratch.fields;
  record.field_spans = scratch.field_spans;
  record.source = capture.source;
  record.thread_id = capture.thread_id;
  record.sequence = im.sequence.fetch_add(1, std::memory_order_relaxed);

  im.check_reopen();
  const detail::Route& route = *slot.route.load(std::memory_order_acquire);
  if (route.last_resort) {
    im.fallback_records.fetch_add(1, std::memory_order_relaxed);
    im.notice_fallback(slot);
  }
  // The protect stage: run once, when the first destination that takes the
  // protected record is reached; the others get the record as it is.
  const Protector* protector = im.protector.load(std::memory_order_acquire);
  const bool always_protect =
      level == Level::security || level == Level::audit || level == Level::compliance;
  Record protected_record;
  enum class Stage : std::uint8_t { not_run, unchanged, changed, dropped };
  Stage stage = protector == nullptr ? Stage::unchanged : Stage::not_run;
  for (const detail::Destination& dest : route.destinations) {
    if (!passes(level, dest.level)) continue;
    const Record* out = &record;
    if (protector != nullptr && (dest.protect || always_protect)) {
      if (stage == Stage::not_run) {
        scratch.protect.clear();
        switch (protector->protect(record, scratch.protect)) {
          case Protector::Verdict::unchanged: stage = Stage::unchanged; break;
          case Protector::Verdict::drop:
            stage = Stage::dropped;
            im.protect_dropped.fetch_add(1, std::memory_order_relaxed);
            break;
          case Protector::Verdict::changed: {
            stage = Stage::changed;
            protected_record = record;
            const ProtectedParts& p = scratch.protect;
            if (p.message_changed) {
              protected_record.message = std::string_view(p.message.data(), p.message.size());
              protected_record.field_spans = {};  // places in the old text
            }
            if (p.fields_changed) protected_record.fields = p.fields;
            break;
          }
        }
      }
      if (stage == Stage::dropped) continue;
      if (stage == Stage::changed) out = &protected_record;
    }
    scratch.line.clear();
    try {
      dest.formatter->format(*out, scratch.line);
      dest.sink->write(*out, std::string_view(scratch.line.data(), scratch.line.size()));
    } catch (const std::exception& e) {
      // A formatter or sink of the caller's own that throws loses this
      // destination's copy (reported, counted); the others still get theirs.
      im.report_lost(e);
    }
  }
}

}  // namespace hydra
