// hydra plugin check PATH.so: the conformance kit. Loads a plugin into a
// private registry, the way a configuration would, and puts every type it
// declares through what the host will ask of it: creation from its options
// (and refusal of bad ones), many threads at once, hostile records, the
// lifecycle. Prints one row per check as it completes (so a plugin that
// crashes the process is caught in the act) and exits 0 only when every
// check passed. docs/plugins-sdk.md says what each check means.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <hydra/core/error.hpp>
#include <hydra/core/record.hpp>
#include <hydra/plugin/loader.hpp>
#include <hydra/plugin/registry.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "help.hpp"

namespace hydra::tools {
namespace {

namespace fs = std::filesystem;
using plugin::Kind;
using plugin::OptionSpec;
using plugin::OptionType;
using plugin::TypeInfo;

constexpr std::string_view kCommand = "plugin check";

// What the command line asked for.
struct Settings {
  fs::path plugin;
  int threads = 4;
  int records = 1000;
  std::map<std::string, plugin::Options, std::less<>> options;  // by type name
};

// A check that found the plugin at fault: the row's detail.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The table, printed a row at a time.
class Report {
 public:
  // Runs `check`, which returns the detail of a pass (or throws CheckFailed,
  // or anything the plugin let out), and prints its row.
  void run(const std::string& name, const std::function<std::string()>& check) {
    try {
      row("PASS", name, check());
      ++passed_;
    } catch (const CheckFailed& e) {
      fail(name, e.what());
    } catch (const ConfigError& e) {  // the host refused: the message says why
      fail(name, e.what());
    } catch (const std::exception& e) {
      fail(name, std::string("threw: ") + e.what());
    } catch (...) {
      fail(name, "threw something that is not a std::exception");
    }
  }
  void skip(const std::string& name, std::string_view why) {
    row("SKIP", name, why);
    ++skipped_;
  }
  void fail(const std::string& name, std::string_view why) {
    row("FAIL", name, why);
    ++failed_;
  }
  // Makes the name column at least `width` wide.
  void widen(std::size_t width) { width_ = std::max(width_, width); }
  bool passed() const noexcept { return failed_ == 0; }
  void summary() const {
    std::printf("%d passed, %d failed, %d skipped\n", passed_, failed_, skipped_);
  }

 private:
  void row(std::string_view outcome, std::string_view name, std::string_view detail) const {
    // The detail may quote what the plugin produced: one line, escaped.
    std::string shown = quote(detail);
    shown = shown.substr(1, shown.size() - 2);
    constexpr std::size_t kMaxDetail = 300;
    if (shown.size() > kMaxDetail) shown = shown.substr(0, kMaxDetail) + "...";
    std::printf("%.*s  %-*.*s  %s\n", static_cast<int>(outcome.size()), outcome.data(),
                static_cast<int>(width_), static_cast<int>(name.size()), name.data(),
                shown.c_str());
    std::fflush(stdout);
  }
  std::size_t width_ = 40;
  int passed_ = 0;
  int failed_ = 0;
  int skipped_ = 0;
};

// A directory of the kit's own for the files sinks write; removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "hydra-check-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error(fmt::format("cannot create {}: {}", pattern, std::strerror(errno)));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

// --- options -----------------------------------------------------------------

bool names_a_path(std::string_view name) {
  return name.find("path") != std::string_view::npos || name.find("file") != std::string_view::npos;
}

std::string number_text(double value, OptionType type) {
  if (type == OptionType::integer || type == OptionType::duration)
    return std::to_string(static_cast<long long>(value));
  return fmt::format("{}", value);
}

// A value of the option's type that its bounds allow.
std::string derived_value(const OptionSpec& spec, const fs::path& file) {
  const bool bounded = spec.min <= spec.max;
  switch (spec.type) {
    case OptionType::string:
      return names_a_path(spec.name) ? file.string() : std::string("hydra-check");
    case OptionType::integer:
    case OptionType::number: return number_text(bounded ? std::max(spec.min, 1.0) : 1, spec.type);
    case OptionType::duration:
      return number_text(bounded ? std::max(spec.min, 1000.0) : 1000, spec.type);
    case OptionType::boolean: return "false";
    case OptionType::string_list: return "hydra-check";
  }
  return {};
}

// The options an instance is made with: --option values, else the declared
// defaults, else (for required options) values the kit derives. An option
// that names a path or file points into the scratch directory even when it
// has a default, so that the kit never writes where it was started.
struct Made {
  plugin::Options options;
  std::optional<fs::path> file;  // where a path option points
};
Made options_for(const TypeInfo& type, const Settings& settings, const fs::path& scratch) {
  Made made;
  if (const auto given = settings.options.find(type.name); given != settings.options.end())
    made.options = given->second;
  const fs::path file = scratch / (type.name + ".out");
  for (const OptionSpec& spec : type.options) {
    if (made.options.has(spec.name)) {
      if (spec.type == OptionType::string && names_a_path(spec.name))
        made.file = made.options.text(spec.name);
      continue;
    }
    const bool path = spec.type == OptionType::string && names_a_path(spec.name);
    if (!path && (spec.default_value || !spec.required)) continue;
    made.options.set(spec.name, derived_value(spec, file));
    if (path) made.file = file;
  }
  return made;
}

// --- instances -----------------------------------------------------------------

// One instance of a type, whatever its kind.
struct Instance {
  std::shared_ptr<Sink> sink;
  std::shared_ptr<const Formatter> formatter;
  std::shared_ptr<plugin::Filter> filter;
  std::shared_ptr<const plugin::Detector> detector;
  std::shared_ptr<plugin::Analytics> analytics;

  bool empty() const noexcept { return !sink && !formatter && !filter && !detector && !analytics; }
  // Its lifecycle: a filter's, detector's or analytics'; a sink's or
  // formatter's only when the host's adapter is a plugin::Plugin too.
  plugin::Plugin* lifecycle() const {
    if (filter) return filter.get();
    if (analytics) return analytics.get();
    if (detector) return const_cast<plugin::Detector*>(detector.get());
    if (sink) return dynamic_cast<plugin::Plugin*>(sink.get());
    if (formatter)
      return const_cast<plugin::Plugin*>(dynamic_cast<const plugin::Plugin*>(formatter.get()));
    return nullptr;
  }
};

Instance make(const plugin::Registry& registry, const TypeInfo& type,
              const plugin::Options& options) {
  Instance i;
  switch (type.kind) {
    case Kind::sink: i.sink = registry.make_sink(type.name, options); break;
    case Kind::formatter: i.formatter = registry.make_formatter(type.name, options); break;
    case Kind::filter: i.filter = registry.make_filter(type.name, options); break;
    case Kind::detector: i.detector = registry.make_detector(type.name, options); break;
    case Kind::analytics: i.analytics = registry.make_analytics(type.name, options); break;
  }
  if (i.empty()) throw CheckFailed("the registry made no instance");
  return i;
}

std::string describe(const plugin::Options& options) {
  std::string text;
  for (const auto& [key, value] : options.values()) {
    if (!text.empty()) text += ' ';
    text += key + '=' + value;
  }
  return text.empty() ? "no options" : text;
}

// --- records ---------------------------------------------------------------------

// A record and the storage its views point into.
struct TestRecord {
  std::string label;  // for failures: "CR/LF and ESC in the message"
  std::string message;
  std::vector<std::pair<std::string, std::string>> string_fields;
  std::vector<Field> fields;
  Level level = Level::info;
  std::uint64_t sequence = 0;

  TestRecord(std::string label_, std::string message_,
             std::vector<std::pair<std::string, std::string>> fields_ = {})
      : label(std::move(label_)), message(std::move(message_)), string_fields(std::move(fields_)) {}
  TestRecord(const TestRecord&) = delete;
  TestRecord& operator=(const TestRecord&) = delete;

  Record record() {
    fields.clear();
    for (const auto& [key, value] : string_fields) fields.push_back({key, value});
    fields.push_back({"count", std::int64_t{42}});
    fields.push_back({"ratio", 0.5});
    fields.push_back({"ok", true});
    Record r;
    r.time = std::chrono::system_clock::now();
    r.level = level;
    r.layer = "APP";
    r.logger = "hydra-check";
    r.message = message;
    r.fields = fields;
    r.source = {__FILE__, "check", static_cast<std::uint32_t>(__LINE__)};
    r.thread_id = 1;
    r.sequence = sequence;
    return r;
  }
};

// Records built to break a careless plugin: line breaks, terminal escapes,
// bytes that are not UTF-8, megabyte values, a thousand fields.
std::vector<std::unique_ptr<TestRecord>> hostile_records() {
  constexpr std::size_t kMegabyte = 1 << 20;
  std::vector<std::unique_ptr<TestRecord>> all;
  const auto add = [&](std::string label, std::string message,
                       std::vector<std::pair<std::string, std::string>> fields = {}) {
    all.push_back(
        std::make_unique<TestRecord>(std::move(label), std::move(message), std::move(fields)));
  };
  add("CR/LF in the message", "first line\r\nforged line\nthird\rfourth");
  add("ANSI escapes in the message", "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J");
  add("invalid UTF-8 in the message", "\xff\xfe \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf");
  add("control characters in the message",
      std::string(std::string_view("nul\0bell\a del\x7f c1\xc2\x85", 19)));
  add("CR/LF and ESC in a field", "field", {{"key\nwith\r\nbreaks", "value\n\x1b[1mbold"}});
  add("a 1 MB message", std::string(kMegabyte, 'm'));
  add("a 1 MB field", "big field", {{"big", std::string(kMegabyte, 'f')}});
  {
    std::vector<std::pair<std::string, std::string>> many;
    for (int i = 0; i < 1000; ++i) many.emplace_back("k" + std::to_string(i), std::to_string(i));
    add("1000 fields", "many fields", std::move(many));
  }
  add("an empty message", "");
  for (std::size_t i = 0; i < all.size(); ++i) {
    all[i]->sequence = i;
    all[i]->level = static_cast<Level>(i % 9);  // every level but off
  }
  return all;
}

// Why a formatter's output is not exactly one safe line, or nothing.
std::optional<std::string> line_problem(std::string_view out) {
  if (out.empty()) return "an empty output";
  if (out.back() != '\n') return "no '\\n' at the end";
  const std::string_view body = out.substr(0, out.size() - 1);
  if (const auto at = body.find('\n'); at != std::string_view::npos)
    return fmt::format("a raw LF at byte {} of {}", at, out.size());
  if (const auto at = body.find('\r'); at != std::string_view::npos)
    return fmt::format("a raw CR at byte {} of {}", at, out.size());
  if (const auto at = body.find('\x1b'); at != std::string_view::npos)
    return fmt::format("a raw ESC at byte {} of {}", at, out.size());
  return std::nullopt;
}

// Why a detector's spans break the contract, or nothing.
std::optional<std::string> spans_problem(
    std::string_view text, const std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::size_t last_end = 0;
  for (const auto& [begin, end] : spans) {
    if (begin >= end) return fmt::format("an empty or reversed span [{}, {})", begin, end);
    if (end > text.size())
      return fmt::format("span [{}, {}) past the end of a {}-byte text", begin, end, text.size());
    if (begin < last_end)
      return fmt::format("span [{}, {}) overlaps or precedes the one before", begin, end);
    last_end = end;
  }
  return std::nullopt;
}

bool is_json_object(std::string_view text) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  return !json.is_discarded() && json.is_object();
}

// Emits nothing anywhere: counts what analytics write from tick().
class CountingEmitter final : public plugin::Emitter {
 public:
  void emit(Level, std::string_view, std::string_view, std::span<const Field>) override { ++count; }
  int count = 0;
};

// --- the checks ------------------------------------------------------------------

// Runs body(thread, i) on `threads` threads, `records` times each, and
// returns how many calls threw (the first reason in `first_error`).
template <typename Body>
int on_threads(const Settings& settings, std::string& first_error, Body body) {
  std::atomic<int> errors{0};
  std::mutex mutex;
  std::vector<std::thread> workers;
  for (int t = 0; t < settings.threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < settings.records; ++i) {
        std::string why;
        try {
          body(t, i);
          continue;
        } catch (const std::exception& e) {
          why = e.what();
        } catch (...) {
          why = "something that is not a std::exception";
        }
        if (errors.fetch_add(1) == 0) {
          const std::lock_guard lock(mutex);
          first_error = why;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return errors.load();
}

std::string concurrency(const Instance& instance, const Made& made, const Settings& settings) {
  const int total = settings.threads * settings.records;
  std::string first_error;
  const auto line_of = [](int t, int i) { return fmt::format("hydra-check {} {}", t, i); };
  const auto threw = [&](int errors) {
    if (errors != 0)
      throw CheckFailed(
          fmt::format("{} of {} calls failed, first: {}", errors, total, first_error));
  };

  if (instance.sink) {
    threw(on_threads(settings, first_error, [&](int t, int i) {
      TestRecord r("", line_of(t, i));
      r.sequence = static_cast<std::uint64_t>(t * settings.records + i);
      const std::string bytes = r.message + '\n';
      instance.sink->write(r.record(), bytes);
    }));
    instance.sink->flush();
    if (instance.sink->write_errors() != 0 || instance.sink->dropped_records() != 0)
      throw CheckFailed(fmt::format("{} write errors, {} records dropped",
                                    instance.sink->write_errors(),
                                    instance.sink->dropped_records()));
    if (!made.file) return fmt::format("{} writes and a flush succeeded", total);
    // A file-like sink: every record must be there, once.
    std::ifstream in(*made.file, std::ios::binary);
    if (!in)
      throw CheckFailed(
          fmt::format("{} writes succeeded but {} cannot be read", total, made.file->string()));
    std::map<std::string, int> seen;
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("hydra-check ")) ++seen[line];
    }
    int missing = 0, doubled = 0;
    std::string example;
    for (int t = 0; t < settings.threads; ++t) {
      for (int i = 0; i < settings.records; ++i) {
        const auto it = seen.find(line_of(t, i));
        const int n = it == seen.end() ? 0 : it->second;
        if (n == 0 && missing++ == 0) example = line_of(t, i);
        if (n > 1) ++doubled;
      }
    }
    if (missing != 0 || doubled != 0)
      throw CheckFailed(fmt::format("{}: {} of {} records missing (first: '{}'), {} written twice",
                                    made.file->string(), missing, total, example, doubled));
    return fmt::format("{} records, each in {} once", total, made.file->filename().string());
  }

  if (instance.formatter) {
    std::atomic<int> bad{0};
    std::string first_bad;
    std::mutex mutex;
    threw(on_threads(settings, first_error, [&](int t, int i) {
      TestRecord r("", line_of(t, i), {{"thread", std::to_string(t)}});
      Buffer out;
      instance.formatter->format(r.record(), out);
      if (const auto problem = line_problem({out.data(), out.size()})) {
        if (bad.fetch_add(1) == 0) {
          const std::lock_guard lock(mutex);
          first_bad = *problem;
        }
      }
    }));
    if (bad != 0)
      throw CheckFailed(fmt::format("{} of {} lines bad: {}", bad.load(), total, first_bad));
    return fmt::format("{} records, one line each", total);
  }

  if (instance.filter) {
    std::atomic<int> kept{0}, dropped{0};
    threw(on_threads(settings, first_error, [&](int t, int i) {
      thread_local plugin::RecordEdit edit;
      edit.clear();
      TestRecord r("", line_of(t, i));
      const auto verdict = instance.filter->filter(r.record(), edit);
      ++(verdict == plugin::Filter::Verdict::keep ? kept : dropped);
    }));
    if (kept + dropped != total)
      throw CheckFailed(
          fmt::format("{} kept + {} dropped != {} sent", kept.load(), dropped.load(), total));
    return fmt::format("{} records: {} kept, {} dropped", total, kept.load(), dropped.load());
  }

  if (instance.detector) {
    std::atomic<int> bad{0};
    std::string first_bad;
    std::mutex mutex;
    threw(on_threads(settings, first_error, [&](int t, int i) {
      const std::string text =
          fmt::format("user {} card 4111111111111111 mail a{}@example.com", t, i);
      std::vector<std::pair<std::size_t, std::size_t>> spans;
      instance.detector->detect(text, spans);
      if (const auto problem = spans_problem(text, spans)) {
        if (bad.fetch_add(1) == 0) {
          const std::lock_guard lock(mutex);
          first_bad = *problem;
        }
      }
    }));
    if (bad != 0)
      throw CheckFailed(fmt::format("{} of {} texts: {}", bad.load(), total, first_bad));
    return fmt::format("{} texts, spans in order and in bounds", total);
  }

  // Analytics: observe from every thread while this one ticks and asks for
  // insights, as the logger's housekeeping thread does.
  std::atomic<bool> done{false};
  CountingEmitter emitter;
  int ticks = 0;
  std::string tick_error;
  std::thread ticker([&] {
    try {
      // A tick now and then, not a busy loop that would starve the observers.
      constexpr int kMaxTicks = 1000;
      while (!done.load() && ticks < kMaxTicks) {
        instance.analytics->tick(std::chrono::system_clock::now(), emitter);
        (void)instance.analytics->insights();
        ++ticks;
        std::this_thread::yield();
      }
    } catch (const std::exception& e) {
      tick_error = e.what();
    }
  });
  const int errors = on_threads(settings, first_error, [&](int t, int i) {
    TestRecord r("", line_of(t, i));
    instance.analytics->observe(r.record());
  });
  done = true;
  ticker.join();
  threw(errors);
  if (!tick_error.empty()) throw CheckFailed("tick or insights failed: " + tick_error);
  const std::string insights = instance.analytics->insights();
  if (!is_json_object(insights)) throw CheckFailed("insights() is not a JSON object: " + insights);
  return fmt::format("{} records observed, {} ticks ({} records emitted); insights {}", total,
                     ticks, emitter.count, insights);
}

std::string hostile(const Instance& instance) {
  auto records = hostile_records();
  std::vector<std::string> problems;
  for (auto& r : records) {
    try {
      const Record record = r->record();
      if (instance.sink) {
        instance.sink->write(record, r->message + '\n');
      } else if (instance.formatter) {
        Buffer out;
        instance.formatter->format(record, out);
        if (const auto problem = line_problem({out.data(), out.size()}))
          problems.push_back(r->label + ": " + *problem);
      } else if (instance.filter) {
        plugin::RecordEdit edit;
        (void)instance.filter->filter(record, edit);
      } else if (instance.detector) {
        std::vector<std::pair<std::size_t, std::size_t>> spans;
        instance.detector->detect(r->message, spans);
        if (const auto problem = spans_problem(r->message, spans))
          problems.push_back(r->label + ": " + *problem);
      } else {
        instance.analytics->observe(record);
      }
    } catch (const std::exception& e) {
      problems.push_back(r->label + ": threw: " + e.what());
    }
  }
  if (instance.sink) {
    instance.sink->flush();
    if (instance.sink->write_errors() != 0 || instance.sink->dropped_records() != 0)
      problems.push_back(fmt::format("{} write errors, {} records dropped",
                                     instance.sink->write_errors(),
                                     instance.sink->dropped_records()));
  }
  if (instance.analytics && !is_json_object(instance.analytics->insights()))
    problems.push_back("insights() is not a JSON object after them");
  if (!problems.empty()) {
    std::string text = fmt::format("{} of {}: ", problems.size(), records.size());
    for (std::size_t i = 0; i < problems.size(); ++i) text += (i ? "; " : "") + problems[i];
    throw CheckFailed(text);
  }
  return fmt::format("{} records (CR/LF, ESC, bad UTF-8, 1 MB values, 1000 fields)",
                     records.size());
}

std::string lifecycle(const plugin::Registry& registry, const TypeInfo& type, Instance& instance,
                      const Made& made) {
  plugin::Plugin* plugin = instance.lifecycle();
  std::vector<std::string> done;
  if (plugin != nullptr) {
    const std::string health = plugin->health();
    if (!is_json_object(health)) throw CheckFailed("health() is not a JSON object: " + health);
    done.push_back("health " + health);
    // As a reload would: the same options, checked and completed by the host.
    const bool took = plugin->reconfigure(registry.check(type.kind, type.name, made.options));
    done.push_back(took ? "reconfigure taken" : "reconfigure declined (a reload makes a new one)");
  }
  if (instance.sink) {
    TestRecord r("", "hydra-check after reconfigure");
    instance.sink->write(r.record(), r.message + '\n');
    instance.sink->flush();
    if (instance.sink->write_errors() != 0)
      throw CheckFailed(fmt::format("{} write errors", instance.sink->write_errors()));
    done.emplace_back("flush");
  }
  if (plugin != nullptr) {
    plugin->stop();
    done.emplace_back("stop");
  }
  instance = {};  // destroy
  done.emplace_back("destroy");
  std::string text;
  for (const auto& d : done) text += (text.empty() ? "" : ", ") + d;
  return text;
}

// The bad configurations a type must refuse with a ConfigError naming the
// option.
struct BadOptions {
  std::string what;
  std::string option;
  plugin::Options options;
};
std::vector<BadOptions> bad_options(const TypeInfo& type, const plugin::Options& good) {
  std::vector<BadOptions> all;
  plugin::Options unknown = good;
  unknown.set("hydra_check_no_such_option", "1");
  all.push_back({"an unknown option", "hydra_check_no_such_option", unknown});
  for (const OptionSpec& spec : type.options) {
    if (spec.type == OptionType::string || spec.type == OptionType::string_list) continue;
    plugin::Options wrong = good;
    wrong.set(spec.name, "hydra-check-not-a-value");
    all.push_back({fmt::format("a wrong {} for {}", plugin::option_type_name(spec.type), spec.name),
                   spec.name, wrong});
    if (spec.min <= spec.max && spec.type != OptionType::boolean) {
      plugin::Options out_of_range = good;
      out_of_range.set(spec.name, number_text(spec.max + 1, spec.type));
      all.push_back({fmt::format("{} out of range", spec.name), spec.name, out_of_range});
    }
    break;  // one typed option is enough
  }
  return all;
}

std::string refuses(const plugin::Registry& registry, const TypeInfo& type,
                    const plugin::Options& good) {
  std::vector<std::string> refused;
  for (const BadOptions& bad : bad_options(type, good)) {
    try {
      (void)make(registry, type, bad.options);
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      if (message.find(bad.option) == std::string::npos)
        throw CheckFailed(
            fmt::format("{}: the error does not name '{}': {}", bad.what, bad.option, message));
      refused.push_back(bad.what);
      continue;
    }
    throw CheckFailed(fmt::format("{} was accepted", bad.what));
  }
  std::string text = "refused with the option named:";
  for (const auto& r : refused) text += ' ' + r + ';';
  text.pop_back();
  return text;
}

// --- the command -------------------------------------------------------------------

std::optional<int> parse_count(std::string_view text, int max) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > max)
    return std::nullopt;
  return value;
}

// Parses the command line into `settings`; a usage error's exit code otherwise.
std::optional<int> parse(Args args, Settings& settings) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (is_help_option(arg)) return print_help(kCommand);
    const auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (arg == "--threads" || arg == "--records") {
      const auto text = value();
      if (!text) return usage_error(kCommand, std::string(arg) + " needs a value");
      const int max = arg == "--threads" ? 256 : 1'000'000;
      const auto n = parse_count(*text, max);
      if (!n)
        return option_error(
            kCommand, fmt::format("{}: {} is not a count from 1 to {}", arg, quote(*text), max));
      (arg == "--threads" ? settings.threads : settings.records) = *n;
    } else if (arg == "--option") {
      const auto text = value();
      if (!text) return usage_error(kCommand, "--option needs TYPE.KEY=VALUE");
      const auto dot = text->find('.');
      const auto equals = text->find('=');
      if (dot == std::string_view::npos || equals == std::string_view::npos || dot == 0 ||
          equals < dot + 2)
        return option_error(kCommand, "--option: " + quote(*text) + " is not TYPE.KEY=VALUE");
      settings.options[std::string(text->substr(0, dot))].set(
          std::string(text->substr(dot + 1, equals - dot - 1)),
          std::string(text->substr(equals + 1)));
    } else if (is_option(arg) || !settings.plugin.empty()) {
      return unknown_argument(kCommand, arg);
    } else {
      settings.plugin = arg;
    }
  }
  if (settings.plugin.empty()) return usage_error(kCommand, "which plugin? (PATH.so)");
  return std::nullopt;
}

}  // namespace

int plugin_check(Args args) {
  Settings settings;
  if (const auto exit_code = parse(args, settings)) return *exit_code;

  Report report;
  plugin::Registry registry;
  plugin::PluginFile file;
  const std::string threads =
      fmt::format("{} threads x {} records", settings.threads, settings.records);
  report.run("load", [&] {
    file = plugin::load_plugin(fs::absolute(settings.plugin), registry);
    if (file.types.empty()) throw CheckFailed("the plugin declares no type");
    // One column for every row's name: "analytics NAME: 4 threads x 1000 records".
    for (const TypeInfo& type : file.types)
      report.widen(plugin::kind_name(type.kind).size() + type.name.size() + 3 + threads.size());
    return fmt::format("{} {} (ABI {}.{}): {} types, sha256 {:.12}", file.name, file.version,
                       file.abi_major, file.abi_minor, file.types.size(), file.sha256);
  });
  if (!report.passed()) {
    report.summary();
    return 1;
  }
  for (const auto& [type_name, options] : settings.options) {
    if (std::none_of(file.types.begin(), file.types.end(),
                     [&](const TypeInfo& t) { return t.name == type_name; }))
      report.fail("--option " + type_name, "the plugin has no type of that name");
  }

  ScratchDir scratch;
  for (const TypeInfo& type : file.types) {
    const std::string name = fmt::format("{} {}: ", plugin::kind_name(type.kind), type.name);
    const Made made = options_for(type, settings, scratch.path());
    Instance instance;
    report.run(name + "create", [&] {
      instance = make(registry, type, made.options);
      if (plugin::Plugin* p = instance.lifecycle()) p->start();
      return describe(registry.check(type.kind, type.name, made.options)) + ", started";
    });
    report.run(name + "bad options", [&] { return refuses(registry, type, made.options); });
    if (instance.empty()) {
      for (const std::string& check :
           {threads, std::string("hostile records"), std::string("lifecycle")})
        report.skip(name + check, "not created");
      continue;
    }
    report.run(name + threads, [&] { return concurrency(instance, made, settings); });
    report.run(name + "hostile records", [&] { return hostile(instance); });
    report.run(name + "lifecycle", [&] { return lifecycle(registry, type, instance, made); });
  }
  report.summary();
  return report.passed() ? 0 : 1;
}

}  // namespace hydra::tools
