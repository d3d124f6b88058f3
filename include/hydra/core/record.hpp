// The record: what one log call produced, as every stage of the pipeline sees
// it. A Record is a view: its strings and fields point into storage owned by
// whoever runs the pipeline (the calling thread in sync mode, the backend in
// async mode) and live only while the record is being dispatched. A sink that
// keeps anything must copy it.
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "hydra/core/level.hpp"

namespace hydra {

// The value of a structured field. Numbers and booleans keep their type so
// that JSON, GELF and friends can render them unquoted.
class FieldValue {
 public:
  using Storage =
      std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string_view>;

  constexpr FieldValue() = default;
  constexpr FieldValue(bool v) : v_(v) {}  // NOLINT(google-explicit-constructor)
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
           std::is_signed_v<T>) constexpr FieldValue(T v)
      : v_(static_cast<std::int64_t>(v)) {}  // NOLINT
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
           std::is_unsigned_v<T>) constexpr FieldValue(T v)
      : v_(static_cast<std::uint64_t>(v)) {}                        // NOLINT
  constexpr FieldValue(double v) : v_(v) {}                         // NOLINT
  constexpr FieldValue(float v) : v_(static_cast<double>(v)) {}     // NOLINT
  constexpr FieldValue(std::string_view v) : v_(v) {}               // NOLINT
  constexpr FieldValue(const char* v) : v_(std::string_view(v)) {}  // NOLINT
  FieldValue(const std::string& v) : v_(std::string_view(v)) {}     // NOLINT

  const Storage& storage() const noexcept { return v_; }
  bool is_null() const noexcept { return std::holds_alternative<std::monostate>(v_); }
  bool is_string() const noexcept { return std::holds_alternative<std::string_view>(v_); }
  bool is_number() const noexcept {
    return std::holds_alternative<std::int64_t>(v_) || std::holds_alternative<std::uint64_t>(v_) ||
           std::holds_alternative<double>(v_);
  }
  std::string_view as_string() const noexcept {
    const auto* s = std::get_if<std::string_view>(&v_);
    return s != nullptr ? *s : std::string_view{};
  }

  // Appends the value as plain text: strings raw, numbers in shortest form,
  // booleans as true/false, null as "null". Formats escape the result.
  void append_text(fmt::memory_buffer& out) const;

 private:
  Storage v_;
};

// One structured field: a key and a value (both views, see Record).
struct Field {
  std::string_view key;
  FieldValue value;
};

// Where a record was logged. Pointers to static strings (source_location or
// macros), never owned.
struct SourceLocation {
  const char* file = "";
  const char* function = "";
  std::uint32_t line = 0;
};

namespace detail {
// The call site as a record carries it.
inline SourceLocation source_of(const std::source_location& loc) noexcept {
  return {loc.file_name(), loc.function_name(), loc.line()};
}
}  // namespace detail

struct Record;
// Whether the record knows where it was logged (records carried in from
// elsewhere, such as `hydra pipe` lines, do not); formats omit the source
// fields when it does not.
bool has_source(const Record& record) noexcept;

// Where a field's value was rendered into the message: fields[field] stands
// at message[begin, end).
struct FieldSpan {
  std::uint32_t field = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

struct Record {
  std::chrono::system_clock::time_point time{};
  Level level = Level::info;
  std::string_view layer;    // the layer the call asked for, as written
  std::string_view logger;   // the logger's name
  std::string_view message;  // fully formatted message text, unescaped
  // Named-placeholder fields first, then explicit key-values, then scoped
  // context (outermost scope first).
  std::span<const Field> fields;
  // The named-placeholder fields' places in `message`, in message order, so
  // that the protect stage redacts a field's value in the message along with
  // the field. Empty when unknown (a message formatted before the pipeline).
  std::span<const FieldSpan> field_spans;
  SourceLocation source;
  std::uint64_t thread_id = 0;  // the OS thread id (gettid)
  std::uint64_t sequence = 0;   // per-logger, increasing in submission order
};

}  // namespace hydra
