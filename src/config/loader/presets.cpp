// The magic preset registry and the built-in presets. Each built-in's layers
// and destinations are tabled in docs/configuration.md; keep the two in step.
// `auto` is the one whose contents depend on where the process runs
// (hydra/config/detect.hpp).
//
// The general destinations sit on DEFAULT rather than APP: DEFAULT is where
// every layer without its own route goes (APP included, as the default
// layer), so a program's own layers (DATABASE, ...) are never left on the
// last-resort stderr route.
#include "hydra/config/presets.hpp"

#include <map>
#include <mutex>
#include <utility>

#include "hydra/config/detect.hpp"
#include "hydra/core/error.hpp"

namespace hydra {

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

std::string in_dir(const MagicOptions& o, std::string_view name) {
  if (o.log_dir.empty()) return std::string(name);
  std::string path = o.log_dir;
  if (path.back() != '/') path += '/';
  path += name;
  return path;
}

DestinationConfig at_level(DestinationConfig d, Level level) {
  d.level = level;
  return d;
}

DestinationConfig daily(std::string path, int backups, std::string format) {
  DestinationConfig d = rotating_file(std::move(path), 0, backups, std::move(format));
  d.rotation = RotationInterval::daily;
  return d;
}

LoggerConfig base(LoggerMode mode, Level level) {
  LoggerConfig c;
  c.mode = mode;
  c.default_level = level;
  if (mode == LoggerMode::async) {
    c.async.overflow = OverflowPolicy::automatic;
    c.crash_handler = true;  // production-style: queued records survive a crash
  }
  return c;
}

LoggerConfig production(const MagicOptions& o) {
  LoggerConfig c = base(LoggerMode::async, Level::info);
  c.layers["DEFAULT"].destinations = {
      console(),
      rotating_file(in_dir(o, "app.jsonl"), 50 * kMiB, 10, "json"),
      at_level(rotating_file(in_dir(o, "errors.log"), 50 * kMiB, 10), Level::error),
  };
  c.layers["SECURITY"].destinations = {
      rotating_file(in_dir(o, "security.jsonl"), 50 * kMiB, 20, "json")};
  c.layers["PERFORMANCE"].destinations = {
      rotating_file(in_dir(o, "performance.jsonl"), 50 * kMiB, 5, "json")};
  return c;
}

LoggerConfig development(const MagicOptions& o) {
  LoggerConfig c = base(LoggerMode::sync, Level::debug);
  c.layers["DEFAULT"].destinations = {console(), file(in_dir(o, "development.log"))};
  return c;
}

LoggerConfig testing(const MagicOptions&) {
  LoggerConfig c = base(LoggerMode::sync, Level::debug);
  c.layers["DEFAULT"].destinations = {console("text", ColorMode::never)};
  return c;
}

LoggerConfig microservice(const MagicOptions&) {
  LoggerConfig c = base(LoggerMode::async, Level::info);
  c.layers["DEFAULT"].destinations = {console("json", ColorMode::never)};
  return c;
}

LoggerConfig web_app(const MagicOptions& o) {
  LoggerConfig c = base(LoggerMode::sync, Level::info);
  c.layers["DEFAULT"].destinations = {
      console(),
      rotating_file(in_dir(o, "app.log"), 20 * kMiB, 5),
      at_level(rotating_file(in_dir(o, "errors.log"), 20 * kMiB, 5), Level::error),
  };
  c.layers["ACCESS"].destinations = {daily(in_dir(o, "access.log"), 14, "logfmt")};
  c.layers["SECURITY"].destinations = {
      rotating_file(in_dir(o, "security.jsonl"), 20 * kMiB, 10, "json")};
  return c;
}

LoggerConfig api_service(const MagicOptions& o) {
  LoggerConfig c = base(LoggerMode::async, Level::info);
  c.layers["DEFAULT"].destinations = {
      console("json", ColorMode::never),
      rotating_file(in_dir(o, "api.jsonl"), 50 * kMiB, 10, "json"),
      at_level(rotating_file(in_dir(o, "errors.jsonl"), 50 * kMiB, 10, "json"), Level::error),
  };
  c.layers["REQUEST"].destinations = {daily(in_dir(o, "requests.jsonl"), 7, "json")};
  c.layers["AUTH"].destinations = {rotating_file(in_dir(o, "auth.jsonl"), 20 * kMiB, 10, "json")};
  c.layers["SECURITY"].destinations = {
      rotating_file(in_dir(o, "security.jsonl"), 20 * kMiB, 20, "json")};
  return c;
}

LoggerConfig background_worker(const MagicOptions& o) {
  LoggerConfig c = base(LoggerMode::async, Level::info);
  c.async.overflow = OverflowPolicy::block;  // a batch job can wait; it must not drop
  c.layers["DEFAULT"].destinations = {
      console(),
      rotating_file(in_dir(o, "worker.log"), 50 * kMiB, 5),
      at_level(rotating_file(in_dir(o, "errors.log"), 50 * kMiB, 5), Level::error),
  };
  c.layers["JOBS"].destinations = {rotating_file(in_dir(o, "jobs.jsonl"), 50 * kMiB, 5, "json")};
  return c;
}

DestinationConfig big_buffered_file(const MagicOptions& o) {
  DestinationConfig d = file(in_dir(o, "app.log"));
  d.buffer_size = kMiB;
  d.flush_interval = std::chrono::milliseconds{1000};
  return d;
}

LoggerConfig high_performance(const MagicOptions& o) {
  LoggerConfig c = base(LoggerMode::async, Level::info);
  c.async.overflow = OverflowPolicy::block;
  c.async.queue_capacity = 4 * kMiB;
  DestinationConfig errors = at_level(console("text", ColorMode::never), Level::error);
  errors.stream = "stderr";
  c.layers["DEFAULT"].destinations = {big_buffered_file(o), errors};
  return c;
}

LoggerConfig bare_metal(const MagicOptions& o) {
  LoggerConfig c = base(LoggerMode::async, Level::info);
  c.async.overflow = OverflowPolicy::block;
  c.async.queue_capacity = 4 * kMiB;
  DestinationConfig d = big_buffered_file(o);
  d.text.message_format = "{time} {level} {message}";
  c.layers["DEFAULT"].destinations = {d};
  return c;
}

// The `auto` preset's shapes, strongest signal first: a person at a terminal;
// CI, whose log a person reads in a web page; standard output read by a log
// agent (Kubernetes, a cloud runtime, a container); none of these (a pipe, a
// file, a service manager).
enum class AutoShape { terminal, ci, collected, plain };

struct AutoDecision {
  AutoShape shape;
  std::string reason;
};

AutoDecision decide(const Environment& e) {
  if (e.stdout_is_tty) return {AutoShape::terminal, "terminal (stdout is a TTY)"};
  if (e.ci) return {AutoShape::ci, "ci " + e.ci->name + " (" + e.ci->evidence + ")"};
  if (e.cloud && e.stdout_is_collected()) {
    return {AutoShape::collected,
            std::string(to_string(e.cloud->platform)) + " (" + e.cloud->evidence + ")"};
  }
  if (e.kubernetes) return {AutoShape::collected, "kubernetes (" + e.kubernetes->evidence + ")"};
  if (e.container) {
    return {AutoShape::collected, std::string(to_string(e.container->runtime)) + " container (" +
                                      e.container->evidence + ")"};
  }
  return {AutoShape::plain, "no terminal, CI, container or cloud runtime"};
}

LoggerConfig auto_preset(const MagicOptions& o) {
  const Environment env = o.environment ? *o.environment : detect_environment();
  LoggerConfig c;
  switch (decide(env).shape) {
    case AutoShape::terminal:  // as development, without the file
      c = base(LoggerMode::sync, Level::debug);
      c.layers["DEFAULT"].destinations = {console()};
      break;
    case AutoShape::ci:  // as testing
      c = base(LoggerMode::sync, Level::debug);
      c.layers["DEFAULT"].destinations = {console("text", ColorMode::never)};
      break;
    case AutoShape::collected:  // as microservice, in the platform's JSON
      c = base(LoggerMode::async, Level::info);
      c.layers["DEFAULT"].destinations = {
          console(std::string(json_format_for(env)), ColorMode::never)};
      c.static_fields = env.resource_fields();
      break;
    case AutoShape::plain:
      c = base(LoggerMode::sync, Level::info);
      c.layers["DEFAULT"].destinations = {console()};
      break;
  }
  return c;
}

struct Entry {
  std::string description;
  MagicFactory factory;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Entry, std::less<>> entries;

  Registry() {
    entries["production"] = {
        "async; console + JSON file + errors file, SECURITY and PERFORMANCE files", production};
    entries["development"] = {"sync, debug; colour console + text file", development};
    entries["testing"] = {"sync, debug; plain text on stdout, no files", testing};
    entries["microservice"] = {"async; JSON Lines on stdout, no files", microservice};
    entries["web_app"] = {"sync; console + app and errors files, ACCESS (logfmt, daily), SECURITY",
                          web_app};
    entries["api_service"] = {"async; JSON console + files, REQUEST, AUTH, SECURITY files",
                              api_service};
    entries["background_worker"] = {"async (block); console + worker and errors files, JOBS",
                                    background_worker};
    entries["high_performance"] = {"async, 4 MiB queues; one buffered text file, errors on stderr",
                                   high_performance};
    entries["bare_metal"] = {"async, 4 MiB queues; one buffered file, compact format", bare_metal};
    entries["auto"] = {
        "from the environment: colour text on a terminal, plain text in CI, JSON Lines with "
        "resource fields on stdout in containers, Kubernetes and clouds",
        auto_preset};
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_magic(std::string name, std::string description, MagicFactory factory) {
  if (name.empty()) throw ConfigError("register_magic: the preset name must not be empty");
  if (!factory) throw ConfigError("register_magic '" + name + "': the factory is empty");
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  r.entries[std::move(name)] = {std::move(description), std::move(factory)};
}

bool has_magic(std::string_view name) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  return r.entries.find(name) != r.entries.end();
}

std::vector<MagicInfo> list_magic() {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  std::vector<MagicInfo> out;
  for (const auto& [name, entry] : r.entries) out.push_back({name, entry.description});
  return out;
}

LoggerConfig magic(std::string_view name, const MagicOptions& options) {
  MagicFactory factory;
  std::string names;
  {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    if (auto it = r.entries.find(name); it != r.entries.end()) {
      factory = it->second.factory;
    } else {
      for (const auto& [n, entry] : r.entries) names += (names.empty() ? "" : ", ") + n;
    }
  }
  if (!factory) {
    throw ConfigError("'" + std::string(name) + "' is not a preset (valid: " + names + ")");
  }
  return factory(options);  // outside the lock: a factory may call magic() itself
}

std::string auto_reason(const Environment& environment) {
  return decide(environment).reason;
}

}  // namespace hydra
