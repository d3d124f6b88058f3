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
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "../config/factory.hpp"
#include "../plugin/guard.hpp"
#include "delivery_fields.hpp"
#include "hydra/async/crash_handler.hpp"
#include "hydra/config/detect.hpp"
#include "hydra/config/limits.hpp"
#include "hydra/core/context.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/detail/thread_instance.hpp"
#include "hydra/core/error.hpp"
#include "hydra/core/protector.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/format/text_formatter.hpp"
#include "hydra/plugin/analytics.hpp"
#include "hydra/plugin/filter.hpp"
#include "hydra/plugin/registry.hpp"
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
  plugin::RecordEdit edit;  // what the filters change
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

namespace {

// Security, audit and compliance records: they carry accountability fields,
// are protected everywhere, and no filter drops or moves them.
constexpr bool is_accountable(Level level) noexcept {
  return level == Level::security || level == Level::audit || level == Level::compliance;
}

// A filter or analytics instance as the pipeline calls it: behind a guard.
template <typename T>
struct PluginSlot {
  std::shared_ptr<T> instance;
  std::string type;         // the registered type, or "custom" for code's own
  plugin::Options options;  // as checked by the registry (empty for code's own)
  bool from_registry = false;
  std::unique_ptr<plugin::detail::Guard> guard;
};

}  // namespace

// The filters and analytics of one configuration. Replaced whole by
// reconfigure(); a replaced set stays alive while a call may still use it.
struct detail::PluginSet {
  std::vector<PluginSlot<plugin::Filter>> filters;
  std::vector<PluginSlot<plugin::Analytics>> analytics;
  bool empty() const { return filters.empty() && analytics.empty(); }
};
using detail::PluginSet;

namespace {

template <typename T>
std::string_view kind_word() {
  if constexpr (std::is_same_v<T, plugin::Filter>) {
    return "filters";
  } else {
    return "analytics";
  }
}

// The slots of one list of LoggerConfig (filters or analytics). An entry of
// the same type at the same place as in `old` keeps its instance: unchanged
// options need nothing, changed ones go to the instance's reconfigure()
// (`to_reconfigure`, done once the whole configuration is known to be
// good). New instances go to `to_start`.
template <typename T>
std::vector<PluginSlot<T>> build_slots(const std::vector<PluginConfig>& list,
                                       const std::vector<PluginSlot<T>>* old, int limit,
                                       std::atomic<std::uint64_t>* failures,
                                       std::vector<std::shared_ptr<plugin::Plugin>>& to_start,
                                       std::vector<std::size_t>& to_reconfigure) {
  constexpr plugin::Kind kind =
      std::is_same_v<T, plugin::Filter> ? plugin::Kind::filter : plugin::Kind::analytics;
  std::vector<PluginSlot<T>> slots;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const PluginConfig& pc = list[i];
    const std::string where = fmt::format("{}[{}]", kind_word<T>(), i);
    PluginSlot<T> slot;
    try {
      if (pc.instance) {
        slot.instance = std::dynamic_pointer_cast<T>(pc.instance);
        if (!slot.instance) {
          throw ConfigError(fmt::format("the instance is not a plugin::{}",
                                        kind == plugin::Kind::filter ? "Filter" : "Analytics"));
        }
        slot.type = pc.type.empty() ? "custom" : pc.type;
        const bool running =
            old != nullptr && i < old->size() && (*old)[i].instance == slot.instance;
        if (!running) to_start.push_back(slot.instance);
      } else {
        if (pc.type.empty()) {
          throw ConfigError(fmt::format("needs a type (registered {} types: {})",
                                        plugin::kind_name(kind),
                                        plugin::Registry::global().names(kind)));
        }
        slot.type = pc.type;
        slot.from_registry = true;
        slot.options = plugin::Registry::global().check(kind, pc.type, pc.options);
        const PluginSlot<T>* before = old != nullptr && i < old->size() ? &(*old)[i] : nullptr;
        if (before != nullptr && before->from_registry && before->type == slot.type) {
          slot.instance = before->instance;
          if (!(before->options == slot.options)) to_reconfigure.push_back(i);
        } else {
          if constexpr (kind == plugin::Kind::filter) {
            slot.instance = plugin::Registry::global().make_filter(pc.type, pc.options);
          } else {
            slot.instance = plugin::Registry::global().make_analytics(pc.type, pc.options);
          }
          to_start.push_back(slot.instance);
        }
      }
    } catch (const ConfigError& e) {
      throw ConfigError(where + ": " + e.what());
    }
    slot.guard = std::make_unique<plugin::detail::Guard>(
        fmt::format("{} '{}'", kind == plugin::Kind::filter ? "filter" : "analytics", slot.type),
        limit, failures);
    slots.push_back(std::move(slot));
  }
  return slots;
}

// Appends `text` as a JSON string.
void append_json(std::string& out, std::string_view text) {
  Buffer b;
  append_json_string(text, b);
  out.append(b.data(), b.size());
}

std::uint64_t protect_failures_of(const Protector* protector) noexcept {
  return protector == nullptr ? 0 : protector->plugin_failures();
}

}  // namespace

struct Logger::Impl {
  Logger* owner = nullptr;
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
  // metrics().plugin_failures counts the failures of the protectors' own
  // plugin calls (Protector::plugin_failures()) while this logger held them:
  // config.protector's count plus this base, which reconfigure() moves on so
  // that the count of a retired protector stays in, and which leaves out what
  // a protector counted before (arithmetic modulo 2^64: the base may wrap).
  // Under reconfigure_mutex.
  std::uint64_t protect_failures_base = 0;
  // Views of config.static_fields: the first fields of every record.
  std::vector<Field> static_fields;

  // Plugins: the filters and analytics (null when there are none: one load
  // per record), every set made (the current one last), and the counters.
  std::atomic<const PluginSet*> plugin_set{nullptr};
  std::vector<std::unique_ptr<PluginSet>> plugin_sets;  // under reconfigure_mutex
  std::atomic<std::uint64_t> filter_dropped{0};
  std::atomic<std::uint64_t> plugin_failures{0};
  // Notices of plugins disabled, to be written in-band: by the pipeline
  // after the record in hand, or by the housekeeping thread.
  std::mutex plugin_notice_mutex;
  std::vector<std::string> plugin_notices;
  std::atomic<bool> has_plugin_notices{false};

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

  // The housekeeping thread: flushes files every flush_period and ticks the
  // analytics every tick_period.
  std::mutex flusher_mutex;
  std::condition_variable flusher_cv;
  bool stopping = false;
  std::chrono::milliseconds flush_period{0};
  std::chrono::milliseconds tick_period{0};
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
  // Sinks and formatters from the plugin registry are put behind a guard.
  Built build(const LoggerConfig& config, const SinkTable& reuse) {
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
          if (!dc.sink && !dc.make_sink && !detail::is_builtin_sink_type(dc.type) &&
              plugin::Registry::global().has(plugin::Kind::sink, dc.type)) {
            auto guarded = std::make_shared<plugin::detail::GuardedSink>(
                plugin::Registry::global().make_sink(dc.type, dc.sink_options),
                "sink '" + dc.type + "'", config.plugin_failure_limit, &plugin_failures);
            guarded->set_notify([this](const std::string& n) { queue_plugin_notice(n); });
            dc.sink = std::move(guarded);
          }
          route->destinations.push_back(detail::build_destination(dc));
          if (!dc.formatter && !detail::iequals(dc.format, "auto") && !is_format_name(dc.format)) {
            auto guarded = std::make_shared<plugin::detail::GuardedFormatter>(
                route->destinations.back().formatter, "formatter '" + dc.format + "'",
                config.plugin_failure_limit, &plugin_failures);
            guarded->set_notify([this](const std::string& n) { queue_plugin_notice(n); });
            route->destinations.back().formatter = std::move(guarded);
          }
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

  void queue_plugin_notice(const std::string& notice) {
    std::lock_guard lock(plugin_notice_mutex);
    plugin_notices.push_back(notice);
    has_plugin_notices.store(true, std::memory_order_release);
  }
  std::vector<std::string> take_plugin_notices() {
    std::lock_guard lock(plugin_notice_mutex);
    has_plugin_notices.store(false, std::memory_order_relaxed);
    return std::exchange(plugin_notices, {});
  }

  // The filters and analytics of `config`, keeping the instances of the
  // running set (`old`) where the same type stays at the same place. Throws
  // ConfigError naming the entry (filters[1]: ...) before anything changes.
  struct BuiltPlugins {
    std::unique_ptr<PluginSet> set;
    std::vector<std::shared_ptr<plugin::Plugin>> to_start;
    std::vector<std::size_t> filters_to_reconfigure;
    std::vector<std::size_t> analytics_to_reconfigure;
  };
  BuiltPlugins build_plugins(const LoggerConfig& c, const PluginSet* old) {
    BuiltPlugins b;
    b.set = std::make_unique<PluginSet>();
    b.set->filters = build_slots<plugin::Filter>(c.filters, old ? &old->filters : nullptr,
                                                 c.plugin_failure_limit, &plugin_failures,
                                                 b.to_start, b.filters_to_reconfigure);
    b.set->analytics = build_slots<plugin::Analytics>(c.analytics, old ? &old->analytics : nullptr,
                                                      c.plugin_failure_limit, &plugin_failures,
                                                      b.to_start, b.analytics_to_reconfigure);
    return b;
  }

  // Makes a built set current: reconfigures the instances it keeps with new
  // options (one that declines, or fails, is replaced by a new instance;
  // if that cannot be made either, the old one goes on with its options,
  // with a notice), starts the new ones.
  void install_plugins(BuiltPlugins b) {
    const auto reconfigure = [this](auto& slot) {
      bool taken = false;
      const auto outcome =
          slot.guard->run([&] { taken = slot.instance->reconfigure(slot.options); });
      if (outcome == plugin::detail::Guard::Outcome::ok && taken) return;
      try {
        if constexpr (std::is_same_v<std::decay_t<decltype(*slot.instance)>, plugin::Filter>) {
          slot.instance = plugin::Registry::global().make_filter(slot.type, slot.options);
        } else {
          slot.instance = plugin::Registry::global().make_analytics(slot.type, slot.options);
        }
        (void)slot.guard->run([&] { slot.instance->start(); });
      } catch (const std::exception& e) {
        queue_plugin_notice(slot.guard->what() +
                            ": the new options were refused, and a new "
                            "instance could not be made (" +
                            e.what() + "); it goes on with its old options");
      }
    };
    for (std::size_t i : b.filters_to_reconfigure) reconfigure(b.set->filters[i]);
    for (std::size_t i : b.analytics_to_reconfigure) reconfigure(b.set->analytics[i]);
    for (const auto& p : b.to_start) {
      try {
        p->start();
      } catch (const std::exception& e) {
        queue_plugin_notice(std::string("a plugin failed to start: ") + e.what());
      }
    }
    plugin_set.store(b.set->empty() ? nullptr : b.set.get(), std::memory_order_release);
    plugin_sets.push_back(std::move(b.set));
  }

  // Stops every instance of every set once (they may be shared by sets).
  void stop_plugins() {
    std::unordered_set<const plugin::Plugin*> stopped;
    const auto stop = [&stopped](auto& slot) {
      if (stopped.insert(slot.instance.get()).second) {
        (void)slot.guard->run([&] { slot.instance->stop(); });
      }
    };
    for (auto& set : plugin_sets) {
      for (auto& f : set->filters) stop(f);
      for (auto& a : set->analytics) stop(a);
    }
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

  // The logger's end: each network destination finishes (its counts are
  // then final), and where an audit trail is configured, each
  // destination's final counts go into it as an `audit` record on the
  // trail's layer, formatted as the trail's destination formats (and so
  // chained). Nothing else gets these records.
  void record_final_counts() {
    std::vector<DestinationMetrics> finals;
    {
      std::lock_guard lock(sinks_mutex);
      for (const auto& s : sinks) {
        if (!s->destination_metrics()) continue;
        s->finish();
        if (auto d = s->destination_metrics()) finals.push_back(std::move(*d));
      }
    }
    if (finals.empty()) return;
    // The audit trails, each once, with the layer and formatter of the
    // first destination that writes to it.
    std::vector<std::pair<std::string, detail::Destination>> trails;
    {
      std::shared_lock lock(slots_mutex);
      std::unordered_set<const Sink*> done;
      for (const auto& route : routes) {
        for (const detail::Destination& d : route->destinations) {
          if (d.sink->is_audit_trail() && done.insert(d.sink.get()).second) {
            trails.emplace_back(route->name, d);
          }
        }
      }
    }
    for (const auto& [layer, d] : trails) {
      for (const DestinationMetrics& f : finals) {
        const auto fields = detail::delivery_fields(f, detail::now_ns());
        Record r;
        r.time = std::chrono::system_clock::now();
        r.level = Level::audit;
        r.layer = layer;
        r.logger = config.name;
        r.message = "hydra: destination final counts";
        r.fields = fields;
        Buffer line;
        d.formatter->format(r, line);
        d.sink->write(r, std::string_view(line.data(), line.size()));
      }
      d.sink->flush();
    }
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

  // Hands the logger to the sinks of `routes` that log into it (the bridge).
  // Only once the logger is whole: such a sink logs from a thread of its own
  // as soon as it has the logger.
  void attach_sinks(const std::vector<std::unique_ptr<detail::Route>>& routes) const {
    std::unordered_set<const Sink*> done;
    for (const auto& route : routes) {
      for (const detail::Destination& d : route->destinations) {
        if (done.insert(d.sink.get()).second) d.sink->attach(*owner);
      }
    }
  }

  // The logger's end: sinks that log into it (the bridge) stop first, while
  // everything still runs; outside sinks_mutex, since they may be waiting
  // for a call of theirs that logs.
  void detach_sinks(Logger& logger) {
    std::vector<std::shared_ptr<Sink>> all;
    {
      std::lock_guard lock(sinks_mutex);
      all.assign(sinks.begin(), sinks.end());
      all.insert(all.end(), retired_sinks.begin(), retired_sinks.end());
    }
    for (const auto& s : all) s->detach(logger);
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

  // Ticks every analytics instance of the current set, then writes the
  // notices of plugins disabled meanwhile.
  void tick_plugins(std::chrono::system_clock::time_point now);

  // The housekeeping thread, when there is something to do: flushing files
  // (flush > 0) and ticking analytics (tick > 0).
  void start_flusher(std::chrono::milliseconds flush, std::chrono::milliseconds tick) {
    flush_period = flush;
    tick_period = tick;
    stopping = false;
    if (flush.count() <= 0 && tick.count() <= 0) return;
    flusher = std::make_unique<std::thread>([this, flush, tick] {
      using Clock = std::chrono::steady_clock;
      constexpr auto never = Clock::time_point::max();
      Clock::time_point next_flush = flush.count() > 0 ? Clock::now() + flush : never;
      Clock::time_point next_tick = tick.count() > 0 ? Clock::now() + tick : never;
      std::unique_lock lock(flusher_mutex);
      while (!stopping) {
        flusher_cv.wait_until(lock, std::min(next_flush, next_tick), [this] { return stopping; });
        if (stopping) break;
        lock.unlock();
        const auto now = Clock::now();
        if (now >= next_flush) {
          check_reopen();
          flush_all();
          next_flush = now + flush;
        }
        if (now >= next_tick) {
          tick_plugins(std::chrono::system_clock::now());
          next_tick = now + tick;
        }
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
  im.owner = this;
  im.config = std::move(config);
  if (im.config.default_layer.empty()) throw ConfigError("default_layer: must not be empty");
  detail::check_limits(im.config.async);
  if (im.config.layers.empty()) apply_zero_config_and_variables(im.config);
  for (const auto& [key, value] : im.config.static_fields) {
    im.static_fields.push_back(Field{key, FieldValue(std::string_view(value))});
  }

  detail::check_plugin_limits(im.config);
  Impl::Built built = im.build(im.config, {});
  Impl::BuiltPlugins plugins = im.build_plugins(im.config, nullptr);
  im.routes = std::move(built.routes);
  im.attach_notice_formatters(im.routes);
  im.sinks = std::move(built.sinks);
  im.sink_by_identity = std::move(built.sink_by_identity);
  if (im.config.protector) im.protectors.push_back(im.config.protector);
  im.protector.store(im.config.protector.get(), std::memory_order_release);
  im.protect_failures_base = 0 - protect_failures_of(im.config.protector.get());

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
  im.install_plugins(std::move(plugins));
  im.start_flusher(built.flush_period,
                   im.plugin_set.load() != nullptr && !im.plugin_set.load()->analytics.empty()
                       ? im.config.analytics_interval
                       : std::chrono::milliseconds(0));
  {
    LiveLoggers& live = LiveLoggers::get();
    std::lock_guard lock(live.mutex);
    live.loggers.insert(this);
  }
  im.attach_sinks(im.routes);
  log_plugin_loads({});
}

void Logger::log_plugin_loads(const std::vector<LoadedPlugin>& before) {
  for (const LoadedPlugin& p : impl_->config.plugins) {
    const bool known = std::any_of(before.begin(), before.end(), [&p](const LoadedPlugin& b) {
      return b.path == p.path && b.sha256 == p.sha256;
    });
    if (known) continue;
    const Field fields[] = {{"plugin.name", FieldValue(std::string_view(p.name))},
                            {"plugin.version", FieldValue(std::string_view(p.version))},
                            {"plugin.sha256", FieldValue(std::string_view(p.sha256))},
                            {"plugin.path", FieldValue(std::string_view(p.path))}};
    write_to(*impl_->audit_slot, Level::audit, "plugin loaded", fields);
  }
}

Logger::~Logger() {
  {
    LiveLoggers& live = LiveLoggers::get();
    std::lock_guard lock(live.mutex);
    live.loggers.erase(this);
  }
  impl_->detach_sinks(*this);
  shutdown();
  impl_->record_final_counts();
  impl_->stop_plugins();
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
    // The parent's flusher waited on this: in the child a notify would wait
    // for that waiter forever (see AsyncEngine::after_fork).
    std::construct_at(&impl_->flusher_cv);
    impl_->flusher_mutex.unlock();
    if (engine_ != nullptr) engine_->after_fork(true);
    if (!impl_->stopping) impl_->start_flusher(impl_->flush_period, impl_->tick_period);
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
  detail::check_plugin_limits(config);

  SinkTable reuse;
  {
    std::lock_guard lock(im.sinks_mutex);
    reuse = im.sink_by_identity;
  }
  Impl::Built built = im.build(config, reuse);  // throws before anything changes
  Impl::BuiltPlugins plugins =
      im.build_plugins(config, im.plugin_sets.empty() ? nullptr : im.plugin_sets.back().get());

  // Async mode: what was logged before the call goes where it was logged to.
  if (engine_ != nullptr) engine_->flush();
  if (config.protector) im.protectors.push_back(config.protector);
  std::vector<std::unique_ptr<detail::Route>> old_routes;
  {
    std::unique_lock lock(im.slots_mutex);
    old_routes = std::exchange(im.routes, std::move(built.routes));
    im.config.layers = std::move(config.layers);
    im.config.default_level = config.default_level;
    im.protect_failures_base += protect_failures_of(im.config.protector.get()) -
                                protect_failures_of(config.protector.get());
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
  im.attach_sinks(im.routes);

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

  // The new filters and analytics. In async mode the old set is out of use
  // once the backend has written what was queued (above): instances it
  // alone had are stopped now; in sync mode a call in flight may still use
  // them, so they stop when the logger is destroyed.
  std::vector<std::unique_ptr<PluginSet>> old_sets;
  if (engine_ != nullptr) old_sets = std::exchange(im.plugin_sets, {});
  im.install_plugins(std::move(plugins));
  if (engine_ != nullptr) {
    engine_->flush();
    std::unordered_set<const plugin::Plugin*> kept;
    for (const auto& f : im.plugin_sets.back()->filters) kept.insert(f.instance.get());
    for (const auto& a : im.plugin_sets.back()->analytics) kept.insert(a.instance.get());
    const auto stop = [&kept](auto& slot) {
      if (kept.insert(slot.instance.get()).second) {
        (void)slot.guard->run([&] { slot.instance->stop(); });
      }
    };
    for (auto& set : old_sets) {
      for (auto& f : set->filters) stop(f);
      for (auto& a : set->analytics) stop(a);
    }
  }
  const std::vector<LoadedPlugin> loaded_before = std::exchange(im.config.plugins, config.plugins);
  im.config.filters = std::move(config.filters);
  im.config.analytics = std::move(config.analytics);
  im.config.analytics_interval = config.analytics_interval;
  im.config.plugin_failure_limit = config.plugin_failure_limit;

  const std::chrono::milliseconds tick =
      im.plugin_set.load() != nullptr && !im.plugin_set.load()->analytics.empty()
          ? config.analytics_interval
          : std::chrono::milliseconds(0);
  if (built.flush_period != im.flush_period || tick != im.tick_period) {
    im.stop_flusher();
    im.start_flusher(built.flush_period, tick);
  }
  if (config.crash_handler && !im.config.crash_handler) {
    im.config.crash_handler = true;
    install_crash_handler();
  }
  im.generation.fetch_add(1, std::memory_order_release);
  log_plugin_loads(loaded_before);
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

std::vector<DestinationMetrics> Logger::destination_metrics() const {
  std::vector<DestinationMetrics> out;
  std::lock_guard lock(impl_->sinks_mutex);
  for (const auto& s : impl_->sinks) {
    if (auto d = s->destination_metrics()) out.push_back(std::move(*d));
  }
  return out;
}

LoggerMetrics Logger::metrics() const {
  LoggerMetrics m;
  m.records = impl_->sequence.load(std::memory_order_relaxed);
  m.fallback_records = impl_->fallback_records.load(std::memory_order_relaxed);
  m.format_errors = impl_->format_errors.load(std::memory_order_relaxed);
  m.protect_dropped = impl_->protect_dropped.load(std::memory_order_relaxed);
  m.filter_dropped = impl_->filter_dropped.load(std::memory_order_relaxed);
  m.plugin_failures = impl_->plugin_failures.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(impl_->sinks_mutex);
    for (const auto& s : impl_->sinks) {
      m.write_errors += s->write_errors();
      m.sink_dropped_records += s->dropped_records();
      m.sink_dropped_bytes += s->dropped_bytes();
      if (auto d = s->destination_metrics()) m.destinations.push_back(std::move(*d));
      if (const auto* g = dynamic_cast<const plugin::detail::GuardedSink*>(s.get())) {
        m.plugins_disabled += g->guard().disabled() ? 1 : 0;
      }
    }
  }
  {
    std::lock_guard lock(impl_->reconfigure_mutex);
    m.plugin_failures +=
        impl_->protect_failures_base + protect_failures_of(impl_->config.protector.get());
    if (const PluginSet* set = impl_->plugin_set.load(std::memory_order_acquire)) {
      for (const auto& f : set->filters) m.plugins_disabled += f.guard->disabled() ? 1 : 0;
      for (const auto& a : set->analytics) m.plugins_disabled += a.guard->disabled() ? 1 : 0;
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
  detail::LayerSlot* slot_ptr = capture.slot;
  Level level = capture.level;
  if (is_accountable(level)) {
    add_accountability_fields(scratch.fields, capture.thread_id);
  }
  Record record;
  record.time = capture.time;
  record.level = level;
  record.layer = slot_ptr->name;
  record.logger = im.config.name;
  record.message = message;
  record.fields = scratch.fields;
  record.field_spans = scratch.field_spans;
  record.source = capture.source;
  record.thread_id = capture.thread_id;
  record.sequence = im.sequence.fetch_add(1, std::memory_order_relaxed);

  // Plugins: filters first, before routing (they may move the record).
  const PluginSet* plugins = im.plugin_set.load(std::memory_order_acquire);
  if (plugins != nullptr && !plugins->filters.empty() &&
      !run_filters(scratch, *plugins, record, slot_ptr)) {
    take_plugin_notices_in_pipeline();
    return;
  }
  level = record.level;
  detail::LayerSlot& slot = *slot_ptr;

  im.check_reopen();
  const detail::Route& route = *slot.route.load(std::memory_order_acquire);
  if (route.last_resort) {
    im.fallback_records.fetch_add(1, std::memory_order_relaxed);
    im.notice_fallback(slot);
  }
  // The protect stage: run once, when the first destination that takes the
  // protected record is reached (or the analytics); the others get the
  // record as it is.
  const Protector* protector = im.protector.load(std::memory_order_acquire);
  const bool always_protect = is_accountable(level);
  Record protected_record;
  enum class Stage : std::uint8_t { not_run, unchanged, changed, dropped };
  Stage stage = protector == nullptr ? Stage::unchanged : Stage::not_run;
  const auto protect = [&] {
    if (stage != Stage::not_run) return;
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
  };
  for (const detail::Destination& dest : route.destinations) {
    if (!passes(level, dest.level)) continue;
    const Record* out = &record;
    if (protector != nullptr && (dest.protect || always_protect)) {
      protect();
      if (stage == Stage::dropped) continue;
      if (stage == Stage::changed) out = &protected_record;
    }
    scratch.line.clear();
    try {
      if (dest.formatted) dest.formatter->format(*out, scratch.line);
      dest.sink->write(*out, std::string_view(scratch.line.data(), scratch.line.size()));
    } catch (const std::exception& e) {
      // A formatter or sink of the caller's own that throws loses this
      // destination's copy (reported, counted); the others still get theirs.
      im.report_lost(e);
    }
  }
  // Analytics: every record, as the protect stage leaves it.
  if (plugins != nullptr && !plugins->analytics.empty()) {
    if (protector != nullptr) protect();
    if (stage != Stage::dropped) {
      const Record& seen = stage == Stage::changed ? protected_record : record;
      for (const auto& a : plugins->analytics) {
        if (a.guard->run([&] { a.instance->observe(seen); }) ==
            plugin::detail::Guard::Outcome::just_disabled) {
          im.queue_plugin_notice(a.guard->disabled_notice());
        }
      }
    }
  }
  if (im.has_plugin_notices.load(std::memory_order_relaxed)) take_plugin_notices_in_pipeline();
}

bool Logger::run_filters(DispatchScratch& scratch, const PluginSet& plugins, Record& record,
                         detail::LayerSlot*& slot) {
  Impl& im = *impl_;
  plugin::RecordEdit& edit = scratch.edit;
  edit.clear();
  std::size_t applied = 0;  // edit.added() already in scratch.fields
  bool moved = false;
  const bool accountable = is_accountable(record.level);
  for (const auto& f : plugins.filters) {
    plugin::Filter::Verdict verdict = plugin::Filter::Verdict::keep;
    const auto outcome = f.guard->run([&] { verdict = f.instance->filter(record, edit); });
    if (outcome == plugin::detail::Guard::Outcome::just_disabled) {
      im.queue_plugin_notice(f.guard->disabled_notice());
    }
    // A filter that fails lets the record through as it stands. Security,
    // audit and compliance records are enriched, never dropped or moved:
    // their trail must stay whole (and seq gapless).
    if (outcome == plugin::detail::Guard::Outcome::ok && verdict == plugin::Filter::Verdict::drop &&
        !accountable) {
      im.filter_dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (edit.empty()) continue;
    if (accountable) edit.keep_fields_only();
    const auto& added = edit.added();
    if (applied < added.size()) {
      scratch.fields.insert(scratch.fields.end(),
                            added.begin() + static_cast<std::ptrdiff_t>(applied), added.end());
      applied = added.size();
      record.fields = scratch.fields;
    }
    if (edit.level() && *edit.level() != record.level) {
      record.level = *edit.level();
      moved = true;
    }
    if (edit.layer() && *edit.layer() != slot->name) {
      slot = &im.slot(*edit.layer());
      record.layer = slot->name;
      moved = true;
    }
  }
  // A record moved to a level its (new) layer does not let through.
  if (moved && !enabled(*slot, record.level)) {
    im.filter_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void Logger::take_plugin_notices_in_pipeline() {
  if (!impl_->has_plugin_notices.load(std::memory_order_acquire)) return;
  for (const std::string& notice : impl_->take_plugin_notices()) {
    process_now(*impl_->default_slot, Level::error, {}, "hydra: " + notice, false, true,
                SourceLocation{}, {}, {});
  }
}

namespace {

// Records an analytics instance writes from tick(): into the logger, with
// plugin=<type> added.
class LoggerEmitter final : public plugin::Emitter {
 public:
  LoggerEmitter(Logger& logger, std::string_view type, std::string_view default_layer)
      : logger_(logger), type_(type), default_layer_(default_layer) {}
  void emit(Level level, std::string_view layer, std::string_view message,
            std::span<const Field> fields) override {
    fields_.assign(fields.begin(), fields.end());
    fields_.push_back(Field{"plugin", FieldValue(type_)});
    logger_.layer(layer.empty() ? default_layer_ : layer).write(level, message, fields_);
  }

 private:
  Logger& logger_;
  std::string_view type_;
  std::string_view default_layer_;
  std::vector<Field> fields_;
};

}  // namespace

void Logger::Impl::tick_plugins(std::chrono::system_clock::time_point now) {
  if (const PluginSet* set = plugin_set.load(std::memory_order_acquire)) {
    for (const auto& a : set->analytics) {
      LoggerEmitter emitter(*owner, a.type, config.default_layer);
      if (a.guard->run([&] { a.instance->tick(now, emitter); }) ==
          plugin::detail::Guard::Outcome::just_disabled) {
        queue_plugin_notice(a.guard->disabled_notice());
      }
    }
  }
  if (!has_plugin_notices.load(std::memory_order_acquire)) return;
  for (const std::string& notice : take_plugin_notices()) {
    owner->write_to(*default_slot, Level::error, "hydra: " + notice);
  }
}

void detail::tick_plugins_for_test(Logger& logger, std::chrono::system_clock::time_point now) {
  logger.impl_->tick_plugins(now);
}

std::string Logger::insights() const {
  std::lock_guard lock(impl_->reconfigure_mutex);
  const PluginSet* set = impl_->plugin_set.load(std::memory_order_acquire);
  std::string out = "{";
  if (set != nullptr) {
    std::map<std::string, int, std::less<>> seen;
    for (const auto& a : set->analytics) {
      const int n = ++seen[a.type];
      std::string snapshot;
      if (a.guard->run([&] { snapshot = a.instance->insights(); }) !=
          plugin::detail::Guard::Outcome::ok) {
        snapshot.clear();
      }
      if (out.size() > 1) out += ',';
      append_json(out, n == 1 ? a.type : a.type + "#" + std::to_string(n));
      out += ':';
      out += snapshot.empty() ? "null" : snapshot;
    }
  }
  out += '}';
  return out;
}

std::string Logger::plugin_health() const {
  std::string out = "[";
  const auto entry = [&out](std::string_view kind, std::string_view type,
                            const plugin::detail::Guard& guard, const std::string& health) {
    if (out.size() > 1) out += ',';
    out += R"({"kind":)";
    append_json(out, kind);
    out += R"(,"type":)";
    append_json(out, type);
    out += fmt::format(R"(,"failures":{},"disabled":{},"health":{}}})", guard.failures(),
                       guard.disabled() ? "true" : "false", health.empty() ? "null" : health);
  };
  {
    std::lock_guard lock(impl_->reconfigure_mutex);
    if (const PluginSet* set = impl_->plugin_set.load(std::memory_order_acquire)) {
      const auto add = [&entry](std::string_view kind, const auto& slot) {
        std::string health;
        if (slot.guard->run([&] { health = slot.instance->health(); }) !=
            plugin::detail::Guard::Outcome::ok) {
          health.clear();
        }
        entry(kind, slot.type, *slot.guard, health);
      };
      for (const auto& f : set->filters) add("filter", f);
      for (const auto& a : set->analytics) add("analytics", a);
    }
  }
  std::lock_guard lock(impl_->sinks_mutex);
  for (const auto& s : impl_->sinks) {
    if (const auto* g = dynamic_cast<const plugin::detail::GuardedSink*>(s.get())) {
      // A loaded plugin's sink is also a plugin::Plugin: its own health
      // (a network plugin's delivery counts), or null when it fails.
      std::string health;
      if (const auto* p = dynamic_cast<const plugin::Plugin*>(&g->inner())) {
        try {
          health = p->health();
        } catch (const std::exception&) {
          health.clear();
        }
      }
      entry("sink", g->guard().what(), g->guard(), health);
    }
  }
  out += ']';
  return out;
}

}  // namespace hydra
