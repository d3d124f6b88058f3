// The plugin development kit: write a Hydra plugin as C++ classes (a sink, a
// formatter, a filter, a detector, an analytics) and let this header speak
// the C ABI of hydra/plugin/abi.h for you. It is header-only and needs
// nothing of the hydra library: a plugin links none of it, so it keeps
// working with any host of the same ABI major version.
//
//   class Stdout : public hydra::sdk::Sink {
//    public:
//     explicit Stdout(const hydra::sdk::Options&) {}
//     void write(const hydra::sdk::Record&, std::string_view bytes) override {
//       std::fwrite(bytes.data(), 1, bytes.size(), stdout);
//     }
//   };
//   HYDRA_PLUGIN("my-plugin", "1.0.0", "writes to stdout",
//                hydra::sdk::sink_kind<Stdout>("my_stdout", "writes to stdout"))
//
// What the kit guarantees at the boundary:
// - Every callback catches whatever your code throws: the call fails (a
//   negative return) with the exception's what() as the reason, on one line.
//   A constructor that throws refuses the options (create() returns NULL).
// - No C++ type crosses the boundary: records, options and edits are views of
//   the host's C structs (valid for the call only: copy what you keep), and
//   what you hand back (a formatted line, spans, emitted records, JSON) is
//   copied by the host before the callback returns.
// - reconfigure() is offered to the host only when your class overrides it
//   (otherwise the host makes a new instance on a reload).
// - Unless a kind is given HYDRA_KIND_THREAD_SAFE, the host calls one
//   instance from one thread at a time; with it, guard your state.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "hydra/plugin/abi.h"

namespace hydra::sdk {

// ---------------------------------------------------------------------------
// Views of what the host passes.

inline std::string_view view(hydra_str s) noexcept {
  return s.size == 0 ? std::string_view{} : std::string_view(s.data, s.size);
}
inline hydra_str str(std::string_view s) noexcept {
  return {s.data(), s.size()};
}

// Levels, numbered as abi.h (and hydra::Level) number them.
enum class Level : std::int32_t {
  trace = HYDRA_LEVEL_TRACE,
  debug = HYDRA_LEVEL_DEBUG,
  info = HYDRA_LEVEL_INFO,
  warning = HYDRA_LEVEL_WARNING,
  error = HYDRA_LEVEL_ERROR,
  critical = HYDRA_LEVEL_CRITICAL,
  security = HYDRA_LEVEL_SECURITY,
  audit = HYDRA_LEVEL_AUDIT,
  compliance = HYDRA_LEVEL_COMPLIANCE,
};
inline constexpr std::size_t kLevelCount = 9;

// "trace", "debug", "info", ... as configuration writes them; "unknown" for a
// number outside the enum.
constexpr std::string_view level_name(Level level) noexcept {
  constexpr std::string_view names[kLevelCount] = {
      "trace", "debug", "info", "warning", "error", "critical", "security", "audit", "compliance"};
  const auto i = static_cast<std::int32_t>(level);
  return i >= 0 && i < static_cast<std::int32_t>(kLevelCount) ? names[i] : "unknown";
}

// A field's value: a view when it comes from the host, or a value of yours
// for Edit::add_field and Emitter::emit (a string value is a view: it must
// outlive the call that passes it).
class Value {
 public:
  constexpr Value() noexcept { raw_.value.i64 = 0; }
  // Implicit, so that a value reads as itself: add_field("rate", 10).
  // NOLINTBEGIN(google-explicit-constructor)
  constexpr Value(bool v) noexcept : Value(Typed{HYDRA_VALUE_BOOL}) {
    raw_.value.boolean = v ? 1 : 0;
  }
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
           std::is_signed_v<T>) constexpr Value(T v) noexcept
      : Value(Typed{HYDRA_VALUE_INT}) {
    raw_.value.i64 = static_cast<std::int64_t>(v);
  }
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
           std::is_unsigned_v<T>) constexpr Value(T v) noexcept
      : Value(Typed{HYDRA_VALUE_UINT}) {
    raw_.value.u64 = static_cast<std::uint64_t>(v);
  }
  constexpr Value(double v) noexcept : Value(Typed{HYDRA_VALUE_DOUBLE}) { raw_.value.f64 = v; }
  constexpr Value(std::string_view v) noexcept : Value(Typed{HYDRA_VALUE_STRING}) {
    raw_.value.str = {v.data(), v.size()};
  }
  constexpr Value(const char* v) noexcept : Value(std::string_view(v)) {}
  Value(const std::string& v) noexcept : Value(std::string_view(v)) {}
  // NOLINTEND(google-explicit-constructor)

  // The value of a host's field (its key is not kept).
  static Value of(const hydra_field& field) noexcept {
    Value v;
    v.raw_.type = field.type;
    v.raw_.value = field.value;
    return v;
  }

  // enum hydra_value_type
  std::int32_t type() const noexcept { return raw_.type; }
  bool is_null() const noexcept { return raw_.type == HYDRA_VALUE_NULL; }
  bool is_string() const noexcept { return raw_.type == HYDRA_VALUE_STRING; }
  // Each getter gives the value when it has that type, else the type's zero.
  bool as_bool() const noexcept { return raw_.type == HYDRA_VALUE_BOOL && raw_.value.boolean != 0; }
  std::int64_t as_int() const noexcept { return raw_.type == HYDRA_VALUE_INT ? raw_.value.i64 : 0; }
  std::uint64_t as_uint() const noexcept {
    return raw_.type == HYDRA_VALUE_UINT ? raw_.value.u64 : 0;
  }
  double as_double() const noexcept { return raw_.type == HYDRA_VALUE_DOUBLE ? raw_.value.f64 : 0; }
  std::string_view as_string() const noexcept {
    return raw_.type == HYDRA_VALUE_STRING ? view(raw_.value.str) : std::string_view{};
  }
  // The value as plain text: strings raw, booleans true/false, null "null".
  std::string text() const {
    switch (raw_.type) {
      case HYDRA_VALUE_BOOL: return raw_.value.boolean != 0 ? "true" : "false";
      case HYDRA_VALUE_INT: return std::to_string(raw_.value.i64);
      case HYDRA_VALUE_UINT: return std::to_string(raw_.value.u64);
      case HYDRA_VALUE_DOUBLE: {
        char buffer[32];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, raw_.value.f64);
        return std::string(buffer, result.ptr);
      }
      case HYDRA_VALUE_STRING: return std::string(as_string());
      default: return "null";
    }
  }

  // As abi.h spells a field, with `key`.
  hydra_field to_c(std::string_view key) const noexcept {
    hydra_field field = raw_;
    field.key = str(key);
    return field;
  }

 private:
  struct Typed {  // a tag, so that Value(7) is an integer, never a type
    std::int32_t type;
  };
  constexpr explicit Value(Typed typed) noexcept { raw_.type = typed.type; }
  hydra_field raw_{};
};

struct Field {
  std::string_view key;
  Value value;
};

// A record's fields, iterable as Field.
class Fields {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Field;
    iterator() = default;
    explicit iterator(const hydra_field* at) noexcept : at_(at) {}
    Field operator*() const noexcept { return {view(at_->key), Value::of(*at_)}; }
    iterator& operator++() noexcept {
      ++at_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++at_;
      return before;
    }
    friend bool operator==(iterator, iterator) = default;

   private:
    const hydra_field* at_ = nullptr;
  };

  Fields(const hydra_field* fields, std::size_t count) noexcept
      : fields_(count == 0 ? nullptr : fields), count_(fields_ == nullptr ? 0 : count) {}
  iterator begin() const noexcept { return iterator(fields_); }
  iterator end() const noexcept { return iterator(fields_ + count_); }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  Field operator[](std::size_t i) const noexcept { return *iterator(fields_ + i); }
  // The first field named `key`, if any.
  std::optional<Value> find(std::string_view key) const noexcept {
    for (const Field field : *this) {
      if (field.key == key) return field.value;
    }
    return std::nullopt;
  }

 private:
  const hydra_field* fields_;
  std::size_t count_;
};

// One record, as the host passes it: views, valid for the call only.
class Record {
 public:
  explicit Record(const hydra_record& record) noexcept : r_(record) {}

  Level level() const noexcept { return static_cast<Level>(r_.level); }
  std::int64_t time_unix_ns() const noexcept { return r_.time_unix_ns; }
  std::chrono::system_clock::time_point time() const noexcept {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(r_.time_unix_ns)));
  }
  std::string_view layer() const noexcept { return view(r_.layer); }
  std::string_view logger() const noexcept { return view(r_.logger); }
  // Raw: a formatter escapes it (append_escaped_text).
  std::string_view message() const noexcept { return view(r_.message); }
  Fields fields() const noexcept { return {r_.fields, r_.field_count}; }
  // Empty (and line 0) when the record does not know where it was logged.
  std::string_view file() const noexcept { return view(r_.file); }
  std::string_view function() const noexcept { return view(r_.function); }
  std::uint32_t line() const noexcept { return r_.line; }
  std::uint64_t thread_id() const noexcept { return r_.thread_id; }
  std::uint64_t sequence() const noexcept { return r_.sequence; }

  const hydra_record& raw() const noexcept { return r_; }

 private:
  const hydra_record& r_;
};

// ---------------------------------------------------------------------------
// Options: what configuration gave an instance, already checked by the host
// against the kind's hydra_option_specs (types, bounds, required keys) and
// completed with their defaults. A getter throws std::invalid_argument, which
// refuses the options when thrown from a constructor, only for a value the
// host would not have let through.

class Options {
 public:
  Options() = default;
  Options(const hydra_option* options, std::size_t count) : options_(options), count_(count) {
    if (options_ == nullptr) count_ = 0;
  }

  bool has(std::string_view key) const noexcept { return find(key) != nullptr; }
  // The value as text; `fallback` when the option is not given.
  std::string_view text(std::string_view key, std::string_view fallback = {}) const noexcept {
    const hydra_option* option = find(key);
    return option != nullptr ? view(option->value) : fallback;
  }
  std::int64_t integer(std::string_view key, std::int64_t fallback = 0) const {
    const hydra_option* option = find(key);
    if (option == nullptr) return fallback;
    return parse<std::int64_t>(key, view(option->value), "an integer");
  }
  double number(std::string_view key, double fallback = 0) const {
    const hydra_option* option = find(key);
    if (option == nullptr) return fallback;
    return parse<double>(key, view(option->value), "a number");
  }
  bool boolean(std::string_view key, bool fallback = false) const {
    const hydra_option* option = find(key);
    if (option == nullptr) return fallback;
    const std::string_view value = view(option->value);
    if (value == "true") return true;
    if (value == "false") return false;
    throw invalid(key, value, "true or false");
  }
  // The host gives durations in milliseconds; "250ms", "10s", "5m" and "1h"
  // are read too.
  std::chrono::milliseconds duration(std::string_view key,
                                     std::chrono::milliseconds fallback = {}) const {
    const hydra_option* option = find(key);
    if (option == nullptr) return fallback;
    std::string_view value = view(option->value);
    std::int64_t unit = 1;
    const std::pair<std::string_view, std::int64_t> units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
    for (const auto& [suffix, ms] : units) {
      if (value.size() > suffix.size() && value.ends_with(suffix)) {
        value.remove_suffix(suffix.size());
        unit = ms;
        break;
      }
    }
    return std::chrono::milliseconds(parse<std::int64_t>(key, value, "a duration") * unit);
  }
  // "a,b,c" as {"a", "b", "c"} (blanks around items dropped, empty items
  // skipped); empty when not given.
  std::vector<std::string> list(std::string_view key) const {
    std::vector<std::string> items;
    std::string_view rest = text(key);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) items.emplace_back(item);
    }
    return items;
  }

  std::size_t size() const noexcept { return count_; }
  std::span<const hydra_option> raw() const noexcept { return {options_, count_}; }

 private:
  const hydra_option* find(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (view(options_[i].key) == key) return &options_[i];
    }
    return nullptr;
  }
  static std::invalid_argument invalid(std::string_view key, std::string_view value,
                                       std::string_view expected) {
    return std::invalid_argument("option '" + std::string(key) + "': '" + std::string(value) +
                                 "' is not " + std::string(expected));
  }
  template <typename T>
  static T parse(std::string_view key, std::string_view value, std::string_view expected) {
    T result{};
    const char* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, result);
    if (value.empty() || ec != std::errc() || ptr != end) throw invalid(key, value, expected);
    return result;
  }

  const hydra_option* options_ = nullptr;
  std::size_t count_ = 0;
};

// Declaring options: a kind's table of hydra_option_spec. Use these rather
// than aggregate initialisation, whose zero bounds would mean "0 to 0".
//   static constexpr hydra_option_spec kOptions[] = {
//       hydra::sdk::required_option("path", HYDRA_OPTION_STRING, "the file to append to"),
//       hydra::sdk::option("rate", HYDRA_OPTION_INTEGER, "10", "keep 1 in N", 1, 1e6),
//   };
constexpr hydra_option_spec option(const char* name, std::int32_t type, const char* default_value,
                                   const char* doc, double min = 1, double max = 0) noexcept {
  return {name, type, 0, default_value, doc, min, max};
}
constexpr hydra_option_spec required_option(const char* name, std::int32_t type, const char* doc,
                                            double min = 1, double max = 0) noexcept {
  return {name, type, 1, nullptr, doc, min, max};
}

// ---------------------------------------------------------------------------
// What a plugin hands back.

// The changes a filter asks for. The host copies every string.
class Edit {
 public:
  explicit Edit(const hydra_record_edit* edit) noexcept : e_(edit) {}
  void add_field(std::string_view key, Value value) const {
    if (e_ != nullptr && e_->add_field != nullptr) {
      const hydra_field field = value.to_c(key);
      e_->add_field(e_->context, &field);
    }
  }
  void set_level(Level level) const {
    if (e_ != nullptr && e_->set_level != nullptr)
      e_->set_level(e_->context, static_cast<std::int32_t>(level));
  }
  void set_layer(std::string_view layer) const {
    if (e_ != nullptr && e_->set_layer != nullptr) e_->set_layer(e_->context, str(layer));
  }

 private:
  const hydra_record_edit* e_;
};

// Writes records of an analytics plugin into the logger's pipeline (from
// tick()). The host copies them.
class Emitter {
 public:
  explicit Emitter(const hydra_emitter* emitter) noexcept : e_(emitter) {}
  void emit(Level level, std::string_view layer, std::string_view message,
            std::initializer_list<Field> fields = {}) const {
    emit(level, layer, message, std::span<const Field>(fields.begin(), fields.size()));
  }
  void emit(Level level, std::string_view layer, std::string_view message,
            std::span<const Field> fields) const {
    if (e_ == nullptr || e_->emit == nullptr) return;
    std::vector<hydra_field> raw;
    raw.reserve(fields.size());
    for (const Field& field : fields) raw.push_back(field.value.to_c(field.key));
    e_->emit(e_->context, static_cast<std::int32_t>(level), str(layer), str(message), raw.data(),
             raw.size());
  }

 private:
  const hydra_emitter* e_;
};

// Appends `text` as Hydra's line formats do (docs/formats.md, "Escaping"),
// so that content can never break a line, forge one or reach a terminal as an
// escape sequence: CR, LF and TAB as \r \n \t, other ASCII control characters
// (ESC, DEL) and bytes that are not valid UTF-8 as \xHH, C1 controls as \u00HH.
inline void append_escaped_text(std::string_view text, std::string& out) {
  constexpr char hex[] = "0123456789abcdef";
  const auto escape_byte = [&](std::string_view prefix, unsigned char c) {
    out += prefix;
    out += hex[c >> 4];
    out += hex[c & 0xf];
  };
  // The length of the valid UTF-8 sequence at text[i], or 0.
  const auto utf8_length = [&](std::size_t i) -> std::size_t {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = at(i);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the bounds of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return 0;
    }
    if (i + n > text.size() || at(i + 1) < lo || at(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k) {
      if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
    }
    return n;
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (const std::size_t n = c >= 0x80 ? utf8_length(i) : 0; n != 0) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      if (c == 0xc2 && second < 0xa0) {
        escape_byte("\\u00", second);  // a C1 control, U+0080..U+009F
      } else {
        out.append(text.data() + i, n);
      }
      i += n;
    } else {
      escape_byte("\\x", c);
      ++i;
    }
  }
}

// ---------------------------------------------------------------------------
// The classes a plugin derives from. Each kind's class is constructed from
// its Options (throw to refuse them) and destroyed when the host lets go.

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual void start() {}
  virtual void stop() {}
  // Applies the options of a reloaded configuration. Return false when the
  // instance cannot take them: the host then makes a new one. Override it
  // only if you can do better than that.
  virtual bool reconfigure(const Options& /*options*/) { return false; }
  // A JSON object: {"ok": true} and whatever you want to add.
  virtual std::string health() const { return R"({"ok":true})"; }
};

// Gets each record as its destination formatted it. It may block (the host
// calls it from its own threads) but should not for long.
class Sink : public Plugin {
 public:
  virtual void write(const Record& record, std::string_view bytes) = 0;
  virtual void flush() {}

  // A sink that ships records over a network: its accounting
  // (docs/shipping.md, "Accounting"), its destination's name and its last
  // error, which the host lists in metrics().destinations. Return false
  // (the default) when it has none. Make stop() end the deliveries, so
  // that the counts read after it are final.
  struct Delivery {
    hydra_delivery_counts counts{};
    std::string name;
    std::string last_error;
  };
  virtual bool delivery(Delivery& /*out*/) const { return false; }
};

// Turns one record into exactly one line, '\n' included, that holds no raw
// control character (use append_escaped_text for what the record holds).
class Formatter : public Plugin {
 public:
  virtual void format(const Record& record, std::string& out) = 0;
};

// Sees each record before routing; may drop it or change it through `edit`.
class Filter : public Plugin {
 public:
  enum class Verdict : std::uint8_t { keep, drop };
  virtual Verdict filter(const Record& record, Edit& edit) = 0;
};

// Reports the sensitive spans of `text`: [begin, end) byte ranges, in
// increasing order, not overlapping. The host replaces each with
// [REDACTED_<token>] (the kind's token).
class Detector : public Plugin {
 public:
  virtual void detect(std::string_view text,
                      std::vector<std::pair<std::size_t, std::size_t>>& spans) = 0;
};

// Observes every record (after redaction, read-only), is ticked on the
// host's interval, and answers insights() with a JSON object. observe() runs
// concurrently with tick() and insights() when the kind is THREAD_SAFE.
class Analytics : public Plugin {
 public:
  virtual void observe(const Record& record) = 0;
  virtual void tick(std::chrono::system_clock::time_point /*now*/, Emitter& /*emit*/) {}
  virtual std::string insights() const = 0;
};

// ---------------------------------------------------------------------------
// The C callbacks, one set per class. Internals: use the *_kind functions.

namespace detail {

// Writes `message` to `error` on one line (control characters as blanks).
inline void report(hydra_buffer* error, const char* message) noexcept {
  if (error == nullptr || error->append == nullptr || message == nullptr) return;
  const char* start = message;
  const char* p = message;
  for (; *p != '\0'; ++p) {
    if (static_cast<unsigned char>(*p) < 0x20 || *p == 0x7f) {
      if (p != start) error->append(error->context, start, static_cast<std::size_t>(p - start));
      error->append(error->context, " ", 1);
      start = p + 1;
    }
  }
  if (p != start) error->append(error->context, start, static_cast<std::size_t>(p - start));
}

// Runs `body`, turning an exception into -1 with its reason in `error`.
template <typename Body>
int guard(hydra_buffer* error, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    report(error, e.what());
  } catch (...) {
    report(error, "unknown exception");
  }
  return -1;
}

inline void append(hydra_buffer* out, std::string_view bytes) noexcept {
  if (out != nullptr && out->append != nullptr)
    out->append(out->context, bytes.data(), bytes.size());
}

// Whether T overrides Plugin::reconfigure (`&T::reconfigure` names the class
// that declares the member it finds).
template <typename T>
inline constexpr bool overrides_reconfigure =
    !std::is_same_v<decltype(&T::reconfigure), bool (Plugin::*)(const Options&)>;

template <typename T>
struct Callbacks {
  static T& self(void* p) noexcept { return *static_cast<T*>(p); }

  static void* create(const hydra_option* options, std::size_t count,
                      hydra_buffer* error) noexcept {
    try {
      return new T(Options(options, count));
    } catch (const std::exception& e) {
      report(error, e.what());
    } catch (...) {
      report(error, "unknown exception");
    }
    return nullptr;
  }
  static int start(void* p, hydra_buffer* error) noexcept {
    return guard(error, [&] {
      self(p).start();
      return 0;
    });
  }
  static int reconfigure(void* p, const hydra_option* options, std::size_t count,
                         hydra_buffer* error) noexcept {
    return guard(error, [&] {
      return self(p).reconfigure(Options(options, count)) ? 0 : HYDRA_RECONFIGURE_DECLINED;
    });
  }
  static void stop(void* p) noexcept {
    try {
      self(p).stop();
    } catch (...) {  // NOLINT(bugprone-empty-catch): stop() cannot report; the instance goes anyway
    }
  }
  static void destroy(void* p) noexcept { delete static_cast<T*>(p); }
  static int health(void* p, hydra_buffer* out, hydra_buffer* error) noexcept {
    return guard(error, [&] {
      append(out, self(p).health());
      return 0;
    });
  }

  static int delivery(void* p, hydra_delivery_counts* counts, hydra_buffer* name,
                      hydra_buffer* last_error, hydra_buffer* error) noexcept {
    return guard(error, [&] {
      Sink::Delivery d;
      if (!self(p).delivery(d)) return HYDRA_DELIVERY_NONE;
      if (counts != nullptr) {
        // Never past the host's size; its own size stays.
        const std::uint32_t size = counts->size;
        d.counts.size = size;
        std::memcpy(counts, &d.counts, std::min<std::size_t>(size, sizeof d.counts));
      }
      append(name, d.name);
      append(last_error, d.last_error);
      return 0;
    });
  }

  static int write(void* p, const hydra_record* record, hydra_str bytes,
                   hydra_buffer* error) noexcept {
    return guard(error, [&] {
      self(p).write(Record(*record), view(bytes));
      return 0;
    });
  }
  static int flush(void* p, hydra_buffer* error) noexcept {
    return guard(error, [&] {
      self(p).flush();
      return 0;
    });
  }
  static int format(void* p, const hydra_record* record, hydra_buffer* out,
                    hydra_buffer* error) noexcept {
    return guard(error, [&] {
      thread_local std::string line;  // keeps its capacity from call to call
      line.clear();
      self(p).format(Record(*record), line);
      append(out, line);
      return 0;
    });
  }
  static int filter(void* p, const hydra_record* record, const hydra_record_edit* edit,
                    hydra_buffer* error) noexcept {
    return guard(error, [&] {
      Edit changes(edit);
      return self(p).filter(Record(*record), changes) == Filter::Verdict::drop ? HYDRA_FILTER_DROP
                                                                               : HYDRA_FILTER_KEEP;
    });
  }
  static int detect(void* p, hydra_str text, const hydra_span_sink* spans,
                    hydra_buffer* error) noexcept {
    return guard(error, [&] {
      thread_local std::vector<std::pair<std::size_t, std::size_t>> found;
      found.clear();
      self(p).detect(view(text), found);
      if (spans != nullptr && spans->add != nullptr) {
        for (const auto& [begin, end] : found) spans->add(spans->context, begin, end);
      }
      return 0;
    });
  }
  static int observe(void* p, const hydra_record* record, hydra_buffer* error) noexcept {
    return guard(error, [&] {
      self(p).observe(Record(*record));
      return 0;
    });
  }
  static int tick(void* p, std::int64_t now_unix_ns, const hydra_emitter* emit,
                  hydra_buffer* error) noexcept {
    return guard(error, [&] {
      Emitter emitter(emit);
      self(p).tick(std::chrono::system_clock::time_point(
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::nanoseconds(now_unix_ns))),
                   emitter);
      return 0;
    });
  }
  static int insights(void* p, hydra_buffer* out, hydra_buffer* error) noexcept {
    return guard(error, [&] {
      append(out, self(p).insights());
      return 0;
    });
  }
};

template <typename T>
constexpr hydra_kind lifecycle(std::int32_t kind, const char* type_name, const char* description,
                               std::span<const hydra_option_spec> options,
                               std::uint32_t flags) noexcept {
  using C = Callbacks<T>;
  hydra_kind k{};
  k.size = sizeof(hydra_kind);
  k.kind = kind;
  k.type_name = type_name;
  k.description = description;
  k.options = options.empty() ? nullptr : options.data();
  k.option_count = options.size();
  k.flags = flags;
  k.create = &C::create;
  k.start = &C::start;
  k.reconfigure = overrides_reconfigure<T> ? &C::reconfigure : nullptr;
  k.stop = &C::stop;
  k.destroy = &C::destroy;
  k.health = &C::health;
  return k;
}

}  // namespace detail

// ---------------------------------------------------------------------------
// A kind for each class: list them in HYDRA_PLUGIN. `type_name` is what
// configuration names ([a-z0-9_]+), `options` the kind's option table
// (static), `flags` HYDRA_KIND_THREAD_SAFE when one instance may be called
// from several threads at once.

template <typename T>
requires std::is_base_of_v<Sink, T>
constexpr hydra_kind sink_kind(const char* type_name, const char* description,
                               std::span<const hydra_option_spec> options = {},
                               std::uint32_t flags = 0) noexcept {
  hydra_kind k = detail::lifecycle<T>(HYDRA_KIND_SINK, type_name, description, options, flags);
  k.write = &detail::Callbacks<T>::write;
  k.flush = &detail::Callbacks<T>::flush;
  k.delivery = &detail::Callbacks<T>::delivery;
  return k;
}

template <typename T>
requires std::is_base_of_v<Formatter, T>
constexpr hydra_kind formatter_kind(const char* type_name, const char* description,
                                    std::span<const hydra_option_spec> options = {},
                                    std::uint32_t flags = 0) noexcept {
  hydra_kind k = detail::lifecycle<T>(HYDRA_KIND_FORMATTER, type_name, description, options, flags);
  k.format = &detail::Callbacks<T>::format;
  return k;
}

template <typename T>
requires std::is_base_of_v<Filter, T>
constexpr hydra_kind filter_kind(const char* type_name, const char* description,
                                 std::span<const hydra_option_spec> options = {},
                                 std::uint32_t flags = 0) noexcept {
  hydra_kind k = detail::lifecycle<T>(HYDRA_KIND_FILTER, type_name, description, options, flags);
  k.filter = &detail::Callbacks<T>::filter;
  return k;
}

// `token`: the <TYPE> of [REDACTED_<TYPE>], [A-Za-z0-9_]+.
template <typename T>
requires std::is_base_of_v<Detector, T>
constexpr hydra_kind detector_kind(const char* type_name, const char* description,
                                   const char* token,
                                   std::span<const hydra_option_spec> options = {},
                                   std::uint32_t flags = 0) noexcept {
  hydra_kind k = detail::lifecycle<T>(HYDRA_KIND_DETECTOR, type_name, description, options, flags);
  k.token = token;
  k.detect = &detail::Callbacks<T>::detect;
  return k;
}

template <typename T>
requires std::is_base_of_v<Analytics, T>
constexpr hydra_kind analytics_kind(const char* type_name, const char* description,
                                    std::span<const hydra_option_spec> options = {},
                                    std::uint32_t flags = 0) noexcept {
  hydra_kind k = detail::lifecycle<T>(HYDRA_KIND_ANALYTICS, type_name, description, options, flags);
  k.observe = &detail::Callbacks<T>::observe;
  k.tick = &detail::Callbacks<T>::tick;
  k.insights = &detail::Callbacks<T>::insights;
  return k;
}

}  // namespace hydra::sdk

// Defines the plugin's entry point, hydra_plugin_entry(): its name
// ([a-z0-9_-]+), its version, a one-line description, then its kinds (the
// *_kind functions, or hydra_kind values of your own). Use it once per shared
// object, at namespace scope.
#define HYDRA_PLUGIN(name, version, description, ...)                              \
  extern "C" __attribute__((visibility("default"))) const hydra_plugin_descriptor* \
  hydra_plugin_entry(void) {                                                       \
    static const hydra_kind hydra_sdk_kinds[] = {__VA_ARGS__};                     \
    static const hydra_plugin_descriptor hydra_sdk_descriptor = {                  \
        sizeof(hydra_plugin_descriptor),                                           \
        HYDRA_PLUGIN_ABI_MAJOR,                                                    \
        HYDRA_PLUGIN_ABI_MINOR,                                                    \
        name,                                                                      \
        version,                                                                   \
        description,                                                               \
        hydra_sdk_kinds,                                                           \
        sizeof(hydra_sdk_kinds) / sizeof(hydra_sdk_kinds[0]),                      \
        sizeof(hydra_kind)};                                                       \
    return &hydra_sdk_descriptor;                                                  \
  }
