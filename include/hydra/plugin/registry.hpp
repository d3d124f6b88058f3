// The registry maps type names to factories, one table per kind: sinks,
// formatters, filters, detectors and analytics. Configuration names a type
// (`type = "rates"` in [[analytics]], a destination's `type` or `format`)
// and the registry makes the instance, after checking its options against
// the type's declared OptionSpecs. Hydra's built-in plugin types (the
// analytics `rates` and `security_bursts`) are registered from the start;
// loadable plugins (hydra/plugin/loader.hpp) add theirs when loaded; code
// adds its own with the add_* members.
//
//   hydra::plugin::Registry::global().add_filter(
//       {.name = "drop_health", .description = "drops GET /health records"},
//       [](const hydra::plugin::Options&) { return std::make_shared<DropHealth>(); });
//
// Thread-safe. Types are never removed (instances may outlive a reload).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/format/formatter.hpp"
#include "hydra/plugin/analytics.hpp"
#include "hydra/plugin/detector.hpp"
#include "hydra/plugin/filter.hpp"
#include "hydra/plugin/options.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::plugin {

enum class Kind : std::uint8_t { sink, formatter, filter, detector, analytics };
inline constexpr Kind kKinds[] = {Kind::sink, Kind::formatter, Kind::filter, Kind::detector,
                                  Kind::analytics};
// "sink", "formatter", "filter", "detector", "analytics".
std::string_view kind_name(Kind kind) noexcept;

// What a type declares.
struct TypeInfo {
  Kind kind = Kind::filter;
  std::string name{};  // [a-z0-9_]+
  std::string description{};
  std::vector<OptionSpec> options{};
  // "built-in", "code", or the plugin file that provides it.
  std::string origin = "code";
  // Sinks: the format a destination of this type gets when it names none
  // (empty: "text", as for every destination). `syslog` gives "syslog".
  std::string default_format{};
};

using SinkFactory = std::function<std::shared_ptr<Sink>(const Options&)>;
using FormatterFactory = std::function<std::shared_ptr<const Formatter>(const Options&)>;
using FilterFactory = std::function<std::shared_ptr<Filter>(const Options&)>;
using DetectorFactory = std::function<std::shared_ptr<const Detector>(const Options&)>;
using AnalyticsFactory = std::function<std::shared_ptr<Analytics>(const Options&)>;

class Registry {
 public:
  Registry();  // empty; global() has the built-ins
  // The process's registry, which configuration files use.
  static Registry& global();

  // Registers a type. Throws ConfigError when the name is not [a-z0-9_]+, a
  // built-in sink type or format name, or taken by a type of another origin;
  // registering the same name from the same origin again replaces it.
  void add_sink(TypeInfo info, SinkFactory make);
  void add_formatter(TypeInfo info, FormatterFactory make);
  void add_filter(TypeInfo info, FilterFactory make);
  void add_detector(TypeInfo info, DetectorFactory make);
  void add_analytics(TypeInfo info, AnalyticsFactory make);

  bool has(Kind kind, std::string_view name) const;
  // The type, or nothing.
  std::optional<TypeInfo> find(Kind kind, std::string_view name) const;
  // Every type of a kind, by name.
  std::vector<TypeInfo> list(Kind kind) const;
  // "rates, security_bursts" (or "none"), for errors.
  std::string names(Kind kind) const;

  // The options an instance of the type gets (validate_options). Throws
  // ConfigError for an unknown type, listing the registered ones.
  Options check(Kind kind, std::string_view name, const Options& given) const;

  // Make an instance: check(), then the factory. A factory's exception
  // becomes a ConfigError naming the kind and type.
  std::shared_ptr<Sink> make_sink(std::string_view name, const Options& given) const;
  std::shared_ptr<const Formatter> make_formatter(std::string_view name,
                                                  const Options& given) const;
  std::shared_ptr<Filter> make_filter(std::string_view name, const Options& given) const;
  std::shared_ptr<const Detector> make_detector(std::string_view name, const Options& given) const;
  std::shared_ptr<Analytics> make_analytics(std::string_view name, const Options& given) const;

 private:
  struct Entry;
  void add(TypeInfo info, std::shared_ptr<const void> factory);
  std::shared_ptr<const Entry> entry(Kind kind, std::string_view name) const;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const Entry>> entries_;
};

}  // namespace hydra::plugin
