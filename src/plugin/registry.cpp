#include "hydra/plugin/registry.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "builtins.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra::plugin {

struct Registry::Entry {
  TypeInfo info;
  std::shared_ptr<const void> factory;  // the kind's Factory
};

namespace {

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Names that configuration already gives a meaning.
bool builtin_name(Kind kind, std::string_view name) {
  if (kind == Kind::sink) {
    for (std::string_view b : {"console", "file", "rotating_file", "null", "audit", "custom"}) {
      if (name == b) return true;
    }
  }
  if (kind == Kind::formatter) return name == "auto" || is_format_name(name);
  return false;
}

template <typename Factory>
const Factory& factory_of(const std::shared_ptr<const void>& f) {
  return *static_cast<const Factory*>(f.get());
}

// Calls a factory; what it throws becomes a ConfigError naming the type.
template <typename Make>
auto call_factory(Kind kind, std::string_view name, Make&& make) {
  try {
    auto made = make();
    if (!made) {
      throw ConfigError(fmt::format("{} '{}': its factory made nothing", kind_name(kind), name));
    }
    return made;
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{} '{}': {}", kind_name(kind), name, e.what()));
  }
}

}  // namespace

std::string_view kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::sink: return "sink";
    case Kind::formatter: return "formatter";
    case Kind::filter: return "filter";
    case Kind::detector: return "detector";
    case Kind::analytics: return "analytics";
  }
  return "plugin";
}

Registry::Registry() = default;

Registry& Registry::global() {
  static Registry* registry = [] {
    auto* r = new Registry;  // NOLINT: never destroyed, instances may outlive statics
    detail::register_builtins(*r);
    return r;
  }();
  return *registry;
}

void Registry::add(TypeInfo info, std::shared_ptr<const void> factory) {
  const std::string what =
      fmt::format("{} type '{}'", kind_name(info.kind), hydra::detail::to_printable(info.name));
  if (!valid_name(info.name)) {
    throw ConfigError(what + ": a type name is made of a-z, 0-9 and '_'");
  }
  if (builtin_name(info.kind, info.name)) {
    throw ConfigError(what + ": the name is Hydra's own");
  }
  std::lock_guard lock(mutex_);
  auto entry = std::make_shared<Entry>(Entry{std::move(info), std::move(factory)});
  for (auto& e : entries_) {
    if (e->info.kind != entry->info.kind || e->info.name != entry->info.name) continue;
    if (e->info.origin != entry->info.origin) {
      throw ConfigError(fmt::format("{}: already registered by {} (this one from {})", what,
                                    e->info.origin, entry->info.origin));
    }
    e = std::move(entry);
    return;
  }
  entries_.push_back(std::move(entry));
}

void Registry::add_sink(TypeInfo info, SinkFactory make) {
  info.kind = Kind::sink;
  add(std::move(info), std::make_shared<const SinkFactory>(std::move(make)));
}
void Registry::add_formatter(TypeInfo info, FormatterFactory make) {
  info.kind = Kind::formatter;
  add(std::move(info), std::make_shared<const FormatterFactory>(std::move(make)));
}
void Registry::add_filter(TypeInfo info, FilterFactory make) {
  info.kind = Kind::filter;
  add(std::move(info), std::make_shared<const FilterFactory>(std::move(make)));
}
void Registry::add_detector(TypeInfo info, DetectorFactory make) {
  info.kind = Kind::detector;
  add(std::move(info), std::make_shared<const DetectorFactory>(std::move(make)));
}
void Registry::add_analytics(TypeInfo info, AnalyticsFactory make) {
  info.kind = Kind::analytics;
  add(std::move(info), std::make_shared<const AnalyticsFactory>(std::move(make)));
}

std::shared_ptr<const Registry::Entry> Registry::entry(Kind kind, std::string_view name) const {
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (e->info.kind == kind && e->info.name == name) return e;
  }
  return nullptr;
}

bool Registry::has(Kind kind, std::string_view name) const {
  return entry(kind, name) != nullptr;
}

std::optional<TypeInfo> Registry::find(Kind kind, std::string_view name) const {
  const auto e = entry(kind, name);
  if (!e) return std::nullopt;
  return e->info;
}

std::vector<TypeInfo> Registry::list(Kind kind) const {
  std::vector<TypeInfo> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
      if (e->info.kind == kind) out.push_back(e->info);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TypeInfo& a, const TypeInfo& b) { return a.name < b.name; });
  return out;
}

std::string Registry::names(Kind kind) const {
  std::string out;
  for (const TypeInfo& t : list(kind)) out += (out.empty() ? "" : ", ") + t.name;
  return out.empty() ? "none" : out;
}

Options Registry::check(Kind kind, std::string_view name, const Options& given) const {
  const auto e = entry(kind, name);
  if (!e) {
    throw ConfigError(fmt::format("'{}' is not a registered {} type (registered: {})",
                                  hydra::detail::to_printable(name), kind_name(kind), names(kind)));
  }
  return validate_options(fmt::format("{} '{}'", kind_name(kind), name), e->info.options, given);
}

namespace {

template <typename Factory>
auto make(const Registry& registry, Kind kind, std::string_view name, const Options& given,
          const std::shared_ptr<const void>& factory) {
  const Options options = registry.check(kind, name, given);
  return call_factory(kind, name, [&] { return factory_of<Factory>(factory)(options); });
}

}  // namespace

#define HYDRA_REGISTRY_MAKE(Result, member, Factory, kind_value)               \
  Result Registry::member(std::string_view name, const Options& given) const { \
    const auto e = entry(kind_value, name);                                    \
    if (!e) (void)check(kind_value, name, given); /* throws: unknown type */   \
    return make<Factory>(*this, kind_value, name, given, e->factory);          \
  }

HYDRA_REGISTRY_MAKE(std::shared_ptr<Sink>, make_sink, SinkFactory, Kind::sink)
HYDRA_REGISTRY_MAKE(std::shared_ptr<const Formatter>, make_formatter, FormatterFactory,
                    Kind::formatter)
HYDRA_REGISTRY_MAKE(std::shared_ptr<Filter>, make_filter, FilterFactory, Kind::filter)
HYDRA_REGISTRY_MAKE(std::shared_ptr<const Detector>, make_detector, DetectorFactory, Kind::detector)
HYDRA_REGISTRY_MAKE(std::shared_ptr<Analytics>, make_analytics, AnalyticsFactory, Kind::analytics)
#undef HYDRA_REGISTRY_MAKE

}  // namespace hydra::plugin
