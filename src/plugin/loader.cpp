// The host side of the plugin C ABI: opens a shared object, checks its
// descriptor under the version and size rules of hydra/plugin/abi.h, and
// registers adapters that turn each kind into the C++ interface the pipeline
// calls (Sink, Formatter, plugin::Filter, plugin::Detector,
// plugin::Analytics). A callback's failure (a negative return) becomes a
// PluginCallError here, which the pipeline's guard counts.
#include "hydra/plugin/loader.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "hydra/format/detail/escape.hpp"
#include "hydra/plugin/abi.h"
#include "hydra/plugin/delivery_counts.hpp"

#ifndef HYDRA_PLUGIN_INSTALL_DIR
#define HYDRA_PLUGIN_INSTALL_DIR "/usr/local/lib/hydra/plugins"
#endif

namespace hydra::plugin {
namespace {

namespace fs = std::filesystem;

// The sizes of ABI 1.0's structs: a plugin built against 1.0 declares these.
constexpr std::size_t kDescriptorMinSize =
    offsetof(hydra_plugin_descriptor, kind_size) + sizeof(std::uint32_t);
constexpr std::size_t kKindMinSize = offsetof(hydra_kind, health);
constexpr std::size_t kMaxKinds = 64;
constexpr std::size_t kMaxOptions = 256;

std::string printable(std::string_view s) {
  return hydra::detail::to_printable(s);
}

// A NUL-terminated string of the plugin's, bounded so that a missing NUL
// cannot run away.
std::optional<std::string> c_string(const char* s, std::size_t max = 4096) {
  if (s == nullptr) return std::nullopt;
  const void* end = std::memchr(s, '\0', max);
  if (end == nullptr) return std::nullopt;
  return std::string(s, static_cast<const char*>(end));
}

bool valid_name(std::string_view name, bool dash_ok) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [dash_ok](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  (dash_ok && c == '-');
         });
}

// Collects what a plugin appends into a string, bounded.
struct StringBuffer {
  std::string text;
  std::size_t limit;
  hydra_buffer c{};
  explicit StringBuffer(std::size_t max = 1024) : limit(max) {
    c.context = this;
    c.append = [](void* context, const char* data, std::size_t size) {
      auto* self = static_cast<StringBuffer*>(context);
      if (data == nullptr || self->text.size() >= self->limit) return;
      self->text.append(data, std::min(size, self->limit - self->text.size()));
    };
  }
  StringBuffer(const StringBuffer&) = delete;
  StringBuffer& operator=(const StringBuffer&) = delete;
};

// Appends into a formatter's output buffer.
hydra_buffer buffer_into(Buffer& out) {
  hydra_buffer b{};
  b.context = &out;
  b.append = [](void* context, const char* data, std::size_t size) {
    if (data != nullptr) static_cast<Buffer*>(context)->append(data, data + size);
  };
  return b;
}

hydra_str str_of(std::string_view s) {
  return hydra_str{s.data(), s.size()};
}
std::string_view view_of(hydra_str s) {
  return s.data == nullptr ? std::string_view{} : std::string_view(s.data, s.size);
}

hydra_field field_of(const Field& f) {
  hydra_field c{};
  c.key = str_of(f.key);
  std::visit(
      [&c](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          c.type = HYDRA_VALUE_NULL;
        } else if constexpr (std::is_same_v<T, bool>) {
          c.type = HYDRA_VALUE_BOOL;
          c.value.boolean = v ? 1 : 0;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          c.type = HYDRA_VALUE_INT;
          c.value.i64 = v;
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          c.type = HYDRA_VALUE_UINT;
          c.value.u64 = v;
        } else if constexpr (std::is_same_v<T, double>) {
          c.type = HYDRA_VALUE_DOUBLE;
          c.value.f64 = v;
        } else {
          c.type = HYDRA_VALUE_STRING;
          c.value.str = str_of(v);
        }
      },
      f.value.storage());
  return c;
}

FieldValue value_of(const hydra_field& f) {
  switch (f.type) {
    case HYDRA_VALUE_BOOL: return FieldValue(f.value.boolean != 0);
    case HYDRA_VALUE_INT: return FieldValue(f.value.i64);
    case HYDRA_VALUE_UINT: return FieldValue(f.value.u64);
    case HYDRA_VALUE_DOUBLE: return FieldValue(f.value.f64);
    case HYDRA_VALUE_STRING: return FieldValue(view_of(f.value.str));
    default: return FieldValue();
  }
}

std::optional<Level> level_of(std::int32_t level) {
  if (level < 0 || level >= static_cast<std::int32_t>(Level::off)) return std::nullopt;
  return static_cast<Level>(level);
}

// A record as the C ABI shows it; the fields' array lives in `fields`.
struct CRecord {
  hydra_record c{};
  std::vector<hydra_field> fields;
  explicit CRecord(const Record& r) {
    fields.reserve(r.fields.size());
    for (const Field& f : r.fields) fields.push_back(field_of(f));
    c.size = sizeof(hydra_record);
    c.level = static_cast<std::int32_t>(r.level);
    c.time_unix_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count();
    c.layer = str_of(r.layer);
    c.logger = str_of(r.logger);
    c.message = str_of(r.message);
    c.fields = fields.data();
    c.field_count = fields.size();
    if (has_source(r)) {
      c.file = str_of(r.source.file);
      c.function = str_of(r.source.function);
      c.line = r.source.line;
    }
    c.thread_id = r.thread_id;
    c.sequence = r.sequence;
  }
};

// A callback that failed: negative return, with the plugin's reason.
class PluginCallError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedKind {
  hydra_kind kind{};  // zero past what the plugin declared
  std::string plugin;
  std::string type;
};

// One instance made by a kind's create(): stopped and destroyed with the
// last reference. Calls are serialised unless the kind is thread-safe.
class Instance {
 public:
  Instance(std::shared_ptr<const LoadedKind> kind, void* self)
      : kind_(std::move(kind)),
        self_(self),
        serial_((kind_->kind.flags & HYDRA_KIND_THREAD_SAFE) == 0) {}
  ~Instance() {
    if (started_ && kind_->kind.stop != nullptr) kind_->kind.stop(self_);
    kind_->kind.destroy(self_);
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  const hydra_kind& kind() const { return kind_->kind; }
  void* self() const { return self_; }

  // Runs `call(error_buffer)` (returning the callback's int), under the lock
  // when serial; throws PluginCallError on a negative result.
  template <typename Call>
  int invoke(const char* what, Call&& call) const {
    StringBuffer error;
    int rc = 0;
    if (serial_) {
      std::lock_guard lock(mutex_);
      rc = call(&error.c);
    } else {
      rc = call(&error.c);
    }
    if (rc < 0) {
      // The caller's messages name the instance ("sink 'x' disabled ...").
      throw PluginCallError(fmt::format(
          "{} failed: {}", what, error.text.empty() ? "no reason given" : printable(error.text)));
    }
    return rc;
  }

  void start() {
    if (kind().start != nullptr) {
      invoke("start", [&](hydra_buffer* e) { return kind().start(self_, e); });
    }
    started_ = true;
  }
  void stop() {
    if (started_ && kind().stop != nullptr) {
      std::lock_guard lock(mutex_);
      kind().stop(self_);
    }
    started_ = false;
  }
  bool reconfigure(const Options& options) {
    if (kind().reconfigure == nullptr) return false;
    std::vector<hydra_option> c = c_options(options);
    return invoke("reconfigure", [&](hydra_buffer* e) {
             return kind().reconfigure(self_, c.data(), c.size(), e);
           }) != HYDRA_RECONFIGURE_DECLINED;
  }
  std::string health() const {
    if (kind().health == nullptr) return R"({"ok":true})";
    StringBuffer out(64 * 1024);
    invoke("health", [&](hydra_buffer* e) { return kind().health(self_, &out.c, e); });
    return out.text;
  }

  // A network sink's accounting (ABI 1.2, hydra_kind.delivery); none when
  // the kind has no such callback or the instance ships nothing.
  std::optional<DestinationMetrics> delivery() const {
    if (kind().delivery == nullptr) return std::nullopt;
    hydra_delivery_counts c{};
    c.size = sizeof c;
    StringBuffer name(4096), last_error(4096);
    const int rc = invoke("delivery", [&](hydra_buffer* e) {
      return kind().delivery(self_, &c, &name.c, &last_error.c, e);
    });
    if (rc != 0) return std::nullopt;
    DestinationMetrics m;
    m.name = printable(name.text);
    m.last_error = printable(last_error.text);
    m.counts = from_abi(c);
    return m;
  }

  static std::vector<hydra_option> c_options(const Options& options) {
    std::vector<hydra_option> c;
    for (const auto& [key, value] : options.values()) c.push_back({str_of(key), str_of(value)});
    return c;
  }

 private:
  std::shared_ptr<const LoadedKind> kind_;
  void* self_;
  bool serial_;
  bool started_ = false;
  mutable std::mutex mutex_;
};

std::shared_ptr<Instance> create(const std::shared_ptr<const LoadedKind>& kind,
                                 const Options& options) {
  std::vector<hydra_option> c = Instance::c_options(options);
  StringBuffer error;
  void* self = kind->kind.create(c.data(), c.size(), &error.c);
  if (self == nullptr) {
    throw ConfigError(error.text.empty() ? std::string("create failed, no reason given")
                                         : printable(error.text));
  }
  auto instance = std::make_shared<Instance>(kind, self);
  return instance;
}

// Sinks and formatters are also plugin::Plugin, so that their health and
// reconfigure are reachable (hydra plugin check); they are started when
// made and stopped with their last reference.
class CSink final : public Sink, public Plugin {
 public:
  explicit CSink(std::shared_ptr<Instance> i) : i_(std::move(i)) { i_->start(); }
  void stop() override { i_->stop(); }
  bool reconfigure(const Options& o) override { return i_->reconfigure(o); }
  std::string health() const override { return i_->health(); }
  void write(const Record& record, std::string_view bytes) override {
    const CRecord r(record);
    i_->invoke("write", [&](hydra_buffer* e) {
      return i_->kind().write(i_->self(), &r.c, str_of(bytes), e);
    });
  }
  void flush() override {
    if (i_->kind().flush == nullptr) return;
    i_->invoke("flush", [&](hydra_buffer* e) { return i_->kind().flush(i_->self(), e); });
  }
  // A network sink's counts, as the built-in destinations give theirs.
  std::optional<DestinationMetrics> destination_metrics() const override {
    try {
      return i_->delivery();
    } catch (const PluginCallError&) {
      return std::nullopt;  // a plugin that cannot say is left out
    }
  }
  // The logger ends: a network sink stops (ABI 1.2: ends its deliveries),
  // so that the counts read after it, for the audit trail, are final.
  void finish() override {
    if (destination_metrics()) i_->stop();
  }

 private:
  std::shared_ptr<Instance> i_;
};

class CFormatter final : public Formatter, public Plugin {
 public:
  explicit CFormatter(std::shared_ptr<Instance> i) : i_(std::move(i)) { i_->start(); }
  void stop() override { i_->stop(); }
  bool reconfigure(const Options& o) override { return i_->reconfigure(o); }
  std::string health() const override { return i_->health(); }
  void format(const Record& record, Buffer& out) const override {
    const CRecord r(record);
    hydra_buffer b = buffer_into(out);
    i_->invoke("format",
               [&](hydra_buffer* e) { return i_->kind().format(i_->self(), &r.c, &b, e); });
  }

 private:
  std::shared_ptr<Instance> i_;
};

class CFilter final : public Filter {
 public:
  explicit CFilter(std::shared_ptr<Instance> i) : i_(std::move(i)) {}
  void start() override { i_->start(); }
  void stop() override { i_->stop(); }
  bool reconfigure(const Options& o) override { return i_->reconfigure(o); }
  std::string health() const override { return i_->health(); }
  Verdict filter(const Record& record, RecordEdit& edit) override {
    const CRecord r(record);
    hydra_record_edit c{};
    c.context = &edit;
    c.add_field = [](void* context, const hydra_field* f) {
      if (f == nullptr) return;
      static_cast<RecordEdit*>(context)->add_field(view_of(f->key), value_of(*f));
    };
    c.set_level = [](void* context, std::int32_t level) {
      if (auto l = level_of(level)) static_cast<RecordEdit*>(context)->set_level(*l);
    };
    c.set_layer = [](void* context, hydra_str layer) {
      static_cast<RecordEdit*>(context)->set_layer(view_of(layer));
    };
    const int verdict = i_->invoke(
        "filter", [&](hydra_buffer* e) { return i_->kind().filter(i_->self(), &r.c, &c, e); });
    return verdict == HYDRA_FILTER_DROP ? Verdict::drop : Verdict::keep;
  }

 private:
  std::shared_ptr<Instance> i_;
};

class CDetector final : public Detector {
 public:
  CDetector(std::shared_ptr<Instance> i, std::string token)
      : i_(std::move(i)), token_(std::move(token)) {}
  void start() override { i_->start(); }
  void stop() override { i_->stop(); }
  std::string health() const override { return i_->health(); }
  void detect(std::string_view text,
              std::vector<std::pair<std::size_t, std::size_t>>& spans) const override {
    hydra_span_sink sink{};
    sink.context = &spans;
    sink.add = [](void* context, std::size_t begin, std::size_t end) {
      static_cast<std::vector<std::pair<std::size_t, std::size_t>>*>(context)->emplace_back(begin,
                                                                                            end);
    };
    const std::size_t before = spans.size();
    i_->invoke("detect", [&](hydra_buffer* e) {
      return i_->kind().detect(i_->self(), str_of(text), &sink, e);
    });
    // A hostile plugin's spans never reach the redactor out of range.
    auto end = std::remove_if(
        spans.begin() + static_cast<std::ptrdiff_t>(before), spans.end(),
        [&text](const auto& s) { return s.first >= s.second || s.second > text.size(); });
    spans.erase(end, spans.end());
  }
  std::string_view token() const override { return token_; }

 private:
  std::shared_ptr<Instance> i_;
  std::string token_;
};

class CAnalytics final : public Analytics {
 public:
  explicit CAnalytics(std::shared_ptr<Instance> i) : i_(std::move(i)) {}
  void start() override { i_->start(); }
  void stop() override { i_->stop(); }
  bool reconfigure(const Options& o) override { return i_->reconfigure(o); }
  std::string health() const override { return i_->health(); }
  void observe(const Record& record) override {
    const CRecord r(record);
    i_->invoke("observe", [&](hydra_buffer* e) { return i_->kind().observe(i_->self(), &r.c, e); });
  }
  void tick(std::chrono::system_clock::time_point now, Emitter& emit) override {
    if (i_->kind().tick == nullptr) return;
    hydra_emitter c{};
    c.context = &emit;
    c.emit = [](void* context, std::int32_t level, hydra_str layer, hydra_str message,
                const hydra_field* fields, std::size_t count) {
      const auto l = level_of(level);
      if (!l) return;
      std::vector<Field> converted;
      for (std::size_t i = 0; fields != nullptr && i < count; ++i) {
        converted.push_back(Field{view_of(fields[i].key), value_of(fields[i])});
      }
      static_cast<Emitter*>(context)->emit(*l, view_of(layer), view_of(message), converted);
    };
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    i_->invoke("tick", [&](hydra_buffer* e) { return i_->kind().tick(i_->self(), ns, &c, e); });
  }
  std::string insights() const override {
    StringBuffer out(1024 * 1024);
    i_->invoke("insights",
               [&](hydra_buffer* e) { return i_->kind().insights(i_->self(), &out.c, e); });
    return out.text;
  }

 private:
  std::shared_ptr<Instance> i_;
};

// What a loaded file offers, checked.
struct Opened {
  PluginFile file;
  std::vector<std::shared_ptr<const LoadedKind>> kinds;
};

std::string abi_text(int major, int minor) {
  return fmt::format("{}.{}", major, minor);
}

[[noreturn]] void refuse(const fs::path& path, const std::string& why) {
  throw PluginError(fmt::format("plugin '{}': {}", printable(path.string()), why));
}

OptionSpec spec_of(const fs::path& path, const std::string& type, const hydra_option_spec& c) {
  OptionSpec s;
  const auto name = c_string(c.name, 65);
  if (!name || !valid_name(*name, false)) {
    refuse(path, fmt::format("type '{}' declares an option whose name is not [a-z0-9_]+", type));
  }
  s.name = *name;
  if (c.type < HYDRA_OPTION_STRING || c.type > HYDRA_OPTION_STRING_LIST) {
    refuse(path, fmt::format("type '{}': option '{}' has unknown type {}", type, s.name, c.type));
  }
  s.type = static_cast<OptionType>(c.type);
  s.required = c.required != 0;
  if (c.default_value != nullptr) s.default_value = c_string(c.default_value).value_or("");
  s.doc = c_string(c.doc).value_or("");
  s.min = c.min;
  s.max = c.max;
  return s;
}

Opened open_plugin(const fs::path& given) {
  std::error_code ec;
  const fs::path path = fs::absolute(given, ec).lexically_normal();
  if (!fs::exists(path, ec)) refuse(path, "no such file");
  if (!fs::is_regular_file(path, ec)) refuse(path, "not a regular file");
  Opened out;
  out.file.path = path;
  out.file.sha256 = sha256_file(path);

  // RTLD_LOCAL: a plugin's symbols never resolve another plugin's.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    refuse(path, fmt::format("cannot be loaded: {}", why != nullptr ? why : "unknown error"));
  }
  // Never dlclose()d: instances, and records they keep views into, may
  // outlive any logger (docs/plugins.md).
  void* entry = ::dlsym(handle, HYDRA_PLUGIN_ENTRY_NAME);
  if (entry == nullptr) {
    refuse(path, "exports no " HYDRA_PLUGIN_ENTRY_NAME
                 "() function: not a Hydra plugin (see hydra/plugin/abi.h)");
  }
  const auto* d = reinterpret_cast<hydra_plugin_entry_fn>(entry)();
  if (d == nullptr) refuse(path, HYDRA_PLUGIN_ENTRY_NAME "() returned no descriptor");

  // The size and the version come first in every version of the ABI.
  if (d->size < offsetof(hydra_plugin_descriptor, name)) {
    refuse(path, fmt::format("descriptor size {} is too small to hold a version", d->size));
  }
  const std::string host = abi_text(HYDRA_PLUGIN_ABI_MAJOR, HYDRA_PLUGIN_ABI_MINOR);
  const std::string theirs = abi_text(d->abi_major, d->abi_minor);
  out.file.abi_major = d->abi_major;
  out.file.abi_minor = d->abi_minor;
  if (d->abi_major != HYDRA_PLUGIN_ABI_MAJOR) {
    refuse(path, fmt::format("built for plugin ABI {}, this host speaks {}: the major versions "
                             "must match (rebuild the plugin against this hydra)",
                             theirs, host));
  }
  if (d->abi_minor > HYDRA_PLUGIN_ABI_MINOR) {
    refuse(path, fmt::format("built for plugin ABI {}, newer than this host's {}: upgrade hydra, "
                             "or rebuild the plugin against this one",
                             theirs, host));
  }
  if (d->size < kDescriptorMinSize) {
    refuse(path, fmt::format("descriptor size {} is smaller than ABI {}'s {} (ABI {} here)",
                             d->size, theirs, kDescriptorMinSize, host));
  }
  hydra_plugin_descriptor desc{};
  std::memcpy(&desc, d, std::min<std::size_t>(d->size, sizeof desc));

  const auto name = c_string(desc.name, 65);
  if (!name || !valid_name(*name, true)) refuse(path, "its name is missing or not [a-z0-9_-]+");
  out.file.name = *name;
  out.file.version = c_string(desc.version, 65).value_or("");
  if (out.file.version.empty()) refuse(path, "its version is missing");
  out.file.description = c_string(desc.description).value_or("");
  if (desc.kind_count > kMaxKinds) {
    refuse(path, fmt::format("declares {} kinds (at most {})", desc.kind_count, kMaxKinds));
  }
  if (desc.kind_count > 0 && desc.kinds == nullptr) refuse(path, "declares kinds but lists none");
  if (desc.kind_count > 0 && desc.kind_size < kKindMinSize) {
    refuse(path, fmt::format("kind size {} is smaller than ABI {}'s {} (ABI {} here)",
                             desc.kind_size, theirs, kKindMinSize, host));
  }
  for (std::size_t i = 0; i < desc.kind_count; ++i) {
    const auto* raw = reinterpret_cast<const unsigned char*>(desc.kinds) + i * desc.kind_size;
    std::uint32_t declared = 0;
    std::memcpy(&declared, raw, sizeof declared);
    const std::size_t size = std::min<std::size_t>(declared, desc.kind_size);
    if (size < kKindMinSize) {
      refuse(path, fmt::format("kind #{} declares size {}, smaller than ABI {}'s {}", i, declared,
                               theirs, kKindMinSize));
    }
    auto loaded = std::make_shared<LoadedKind>();
    std::memcpy(&loaded->kind, raw, std::min(size, sizeof(hydra_kind)));
    hydra_kind& k = loaded->kind;
    const auto type = c_string(k.type_name, 65);
    if (!type || !valid_name(*type, false)) {
      refuse(path, fmt::format("kind #{}: its type name is missing or not [a-z0-9_]+", i));
    }
    loaded->plugin = out.file.name;
    loaded->type = *type;
    const auto need = [&](const void* fn, const char* what) {
      if (fn == nullptr) {
        refuse(path, fmt::format("type '{}': its kind needs a {} callback", *type, what));
      }
    };
    need(reinterpret_cast<const void*>(k.create), "create");
    need(reinterpret_cast<const void*>(k.destroy), "destroy");
    TypeInfo info;
    info.name = *type;
    info.description = c_string(k.description).value_or("");
    info.origin = path.string();
    switch (k.kind) {
      case HYDRA_KIND_SINK:
        info.kind = Kind::sink;
        need(reinterpret_cast<const void*>(k.write), "write");
        break;
      case HYDRA_KIND_FORMATTER:
        info.kind = Kind::formatter;
        need(reinterpret_cast<const void*>(k.format), "format");
        break;
      case HYDRA_KIND_FILTER:
        info.kind = Kind::filter;
        need(reinterpret_cast<const void*>(k.filter), "filter");
        break;
      case HYDRA_KIND_DETECTOR: {
        info.kind = Kind::detector;
        need(reinterpret_cast<const void*>(k.detect), "detect");
        const auto token = c_string(k.token, 65);
        if (!token || token->empty() || !std::all_of(token->begin(), token->end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
            })) {
          refuse(path,
                 fmt::format("detector '{}': its token is missing or not [A-Za-z0-9_]+", *type));
        }
        break;
      }
      case HYDRA_KIND_ANALYTICS:
        info.kind = Kind::analytics;
        need(reinterpret_cast<const void*>(k.observe), "observe");
        need(reinterpret_cast<const void*>(k.insights), "insights");
        break;
      default: refuse(path, fmt::format("type '{}' has unknown kind {}", *type, k.kind));
    }
    if (k.option_count > kMaxOptions) {
      refuse(path, fmt::format("type '{}' declares {} options (at most {})", *type, k.option_count,
                               kMaxOptions));
    }
    if (k.option_count > 0 && k.options == nullptr) {
      refuse(path, fmt::format("type '{}' declares options but lists none", *type));
    }
    for (std::size_t o = 0; o < k.option_count; ++o) {
      info.options.push_back(spec_of(path, *type, k.options[o]));
    }
    out.file.types.push_back(std::move(info));
    out.kinds.push_back(std::move(loaded));
  }
  return out;
}

void register_kinds(const Opened& opened, Registry& registry) {
  for (std::size_t i = 0; i < opened.kinds.size(); ++i) {
    const auto& kind = opened.kinds[i];
    TypeInfo info = opened.file.types[i];
    switch (info.kind) {
      case Kind::sink:
        registry.add_sink(std::move(info), [kind](const Options& o) -> std::shared_ptr<Sink> {
          return std::make_shared<CSink>(create(kind, o));
        });
        break;
      case Kind::formatter:
        registry.add_formatter(std::move(info),
                               [kind](const Options& o) -> std::shared_ptr<const Formatter> {
                                 return std::make_shared<CFormatter>(create(kind, o));
                               });
        break;
      case Kind::filter:
        registry.add_filter(std::move(info), [kind](const Options& o) -> std::shared_ptr<Filter> {
          return std::make_shared<CFilter>(create(kind, o));
        });
        break;
      case Kind::detector:
        registry.add_detector(std::move(info),
                              [kind](const Options& o) -> std::shared_ptr<const Detector> {
                                return std::make_shared<CDetector>(
                                    create(kind, o), c_string(kind->kind.token, 65).value_or(""));
                              });
        break;
      case Kind::analytics:
        registry.add_analytics(std::move(info),
                               [kind](const Options& o) -> std::shared_ptr<Analytics> {
                                 return std::make_shared<CAnalytics>(create(kind, o));
                               });
        break;
    }
  }
}

}  // namespace

PluginFile inspect_plugin(const fs::path& path) {
  return open_plugin(path).file;
}

PluginFile load_plugin(const fs::path& path, Registry& registry) {
  // One load per file and registry: a configuration reload names the same
  // plugins again.
  static std::mutex mutex;
  static std::map<std::pair<const Registry*, std::string>, PluginFile> loaded;
  std::lock_guard lock(mutex);
  std::error_code ec;
  const std::string key = fs::weakly_canonical(fs::absolute(path, ec), ec).string();
  if (auto it = loaded.find({&registry, key}); it != loaded.end()) return it->second;
  const Opened opened = open_plugin(path);
  register_kinds(opened, registry);
  loaded.emplace(std::pair{&registry, key}, opened.file);
  return opened.file;
}

fs::path user_plugin_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "hydra" / "plugins";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : "/") / ".local" / "share" / "hydra" / "plugins";
}

fs::path install_plugin_dir() {
  return fs::path(HYDRA_PLUGIN_INSTALL_DIR);
}

fs::path find_plugin(std::string_view entry, const fs::path& base_dir) {
  if (entry.empty()) throw PluginError("plugins: an entry is empty");
  if (entry.find('/') != std::string_view::npos || entry.ends_with(".so")) {
    fs::path p(entry);
    return p.is_absolute() ? p : base_dir / p;
  }
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("HYDRA_PLUGIN_PATH"); env != nullptr) {
    std::string_view rest = env;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      if (colon != 0) dirs.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.push_back(user_plugin_dir());
  dirs.push_back(install_plugin_dir());
  std::string looked;
  for (const fs::path& dir : dirs) {
    for (const std::string& file : {std::string(entry) + ".so", "lib" + std::string(entry) + ".so",
                                    "hydra-" + std::string(entry) + ".so"}) {
      std::error_code ec;
      const fs::path candidate = dir / file;
      if (fs::is_regular_file(candidate, ec)) return candidate;
    }
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  const std::string name = printable(entry);
  throw PluginError(fmt::format(
      "plugins: no plugin named '{0}' (looked for {0}.so, lib{0}.so and hydra-{0}.so in "
      "HYDRA_PLUGIN_PATH, then {1})",
      name, looked));
}

std::string sha256_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw PluginError(fmt::format("plugin '{}': cannot read: {}", printable(path.string()),
                                  std::strerror(errno)));
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::array<char, 64 * 1024> chunk{};
  ssize_t n = 0;
  while ((n = ::read(fd, chunk.data(), chunk.size())) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      EVP_MD_CTX_free(ctx);
      throw PluginError(fmt::format("plugin '{}': cannot read: {}", printable(path.string()),
                                    std::strerror(err)));
    }
    EVP_DigestUpdate(ctx, chunk.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx, digest.data(), &size);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace hydra::plugin
