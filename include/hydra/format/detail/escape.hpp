// Internal: the escaping rules, and the number and time rendering, that every
// formatter shares, each written once. They run for every record: they append
// to a Buffer, allocate nothing of their own, and copy runs of bytes that need
// no escaping in one go (eight bytes per step).
// Not part of the public API: include hydra/format/formatter.hpp instead.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "hydra/core/record.hpp"

namespace hydra::detail {

using Buffer = fmt::memory_buffer;

// Appends `bytes` unchanged. Inline, so that a literal compiles to a few moves
// instead of a call into the buffer's general append.
inline void append_raw(std::string_view bytes, Buffer& out) {
  if (bytes.empty()) return;  // data() may be null
  const std::size_t size = out.size();
  out.resize(size + bytes.size());
  std::memcpy(out.data() + size, bytes.data(), bytes.size());
}

// ---------------------------------------------------------------------------
// Text escaping, for line formats (text, logfmt, csv, syslog). The output is
// valid UTF-8 without any control character, so it is always one line and a
// terminal never sees an escape sequence:
//   valid UTF-8             passes through unchanged
//   CR, LF, TAB             \r \n \t
//   other C0 controls, DEL  \xHH (ESC becomes \x1b)
//   C1 controls (U+0080..)  \u00HH
//   a byte that is not part of valid UTF-8   \xHH
// Backslash is not escaped here: the text format is for people.
void append_escaped_text(std::string_view in, Buffer& out);

// append_escaped_text into a new string, for error messages and notices
// (allocates: not for the per-record path).
std::string to_printable(std::string_view in);

// True when append_escaped_text would change `in` (it holds a control
// character or invalid UTF-8).
bool needs_text_escape(std::string_view in) noexcept;

// A logfmt value, also used for the text format's fields: written bare when it
// is non-empty and holds no space, '=', '"' and nothing that needs escaping;
// otherwise in double quotes, with \" and \\ plus the text escaping above.
void append_logfmt_value(std::string_view in, Buffer& out);

// An RFC 4180 CSV value: quoted (quotes doubled) when it holds a comma, a
// quote, CR or LF, and text-escaped, so CR and LF become \r \n and a record
// stays one physical line.
void append_csv_value(std::string_view in, Buffer& out);

// An RFC 5424 SD-PARAM value (without its quotes): '"', '\' and ']' get a
// backslash, plus the text escaping (the RFC leaves other bytes alone, but a
// record must stay one line).
void append_sd_param_value(std::string_view in, Buffer& out);

// Appends `name` with every byte `allowed` rejects replaced by '_', cut to
// `max_length` bytes; an empty name becomes "_". When the result equals one of
// `reserved` (the format's own keys), it is written with a "field_" prefix
// instead, so a field can never pass for the record's own level or message.
struct NameRule {
  bool (*allowed)(unsigned char byte);
  std::size_t max_length;
};
inline constexpr std::size_t kUnlimitedLength = static_cast<std::size_t>(-1);
void append_field_name(std::string_view name, Buffer& out, NameRule rule,
                       std::span<const std::string_view> reserved = {});

// The prefix append_field_name gives a field whose name is reserved.
inline constexpr std::string_view kRenamedFieldPrefix = "field_";

// A field as logfmt's key=value (also the text format's fields): the key
// keeps printable ASCII except '=' and '"' (append_field_name, any length);
// a string value as append_logfmt_value, others as append_scalar_text.
void append_logfmt_field(const Field& field, Buffer& out,
                         std::span<const std::string_view> reserved = {});

// ---------------------------------------------------------------------------
// JSON (RFC 8259). The output is always valid UTF-8 and holds no control
// character: '"' and '\' get a backslash; \b \f \n \r \t use their short
// forms; other C0 controls, DEL and C1 controls become \u00XX; a byte that is
// not part of valid UTF-8 becomes \ufffd.
void append_json_escaped(std::string_view in, Buffer& out);  // no quotes
void append_json_string(std::string_view in, Buffer& out);   // in quotes

// A non-string field value as plain text, exactly as FieldValue::append_text
// writes it (null, true/false, numbers), integers by a faster path.
void append_scalar_text(const FieldValue& value, Buffer& out);

// A field value as JSON: numbers and booleans bare, null as null, strings
// quoted; non-finite doubles as the strings "nan", "inf", "-inf".
void append_json_value(const FieldValue& value, Buffer& out);

// The fields as one JSON object: {"key":value,...} in record order.
void append_json_object(std::span<const Field> fields, Buffer& out);

// ---------------------------------------------------------------------------
// Numbers, time and the process id.
void append_decimal(std::uint64_t value, Buffer& out);
void append_decimal(std::int64_t value, Buffer& out);

// getpid(), without a system call per record (refreshed in a forked child).
std::int64_t process_id() noexcept;

// A time point split into whole seconds since the epoch (rounded down) and
// the nanoseconds past them (0..999'999'999).
struct SplitTime {
  std::int64_t seconds;
  std::uint32_t nanos;
};
SplitTime split_time(std::chrono::system_clock::time_point time) noexcept;

// RFC 3339 in UTC with microseconds: 2026-11-27T10:13:12.345678Z.
void append_rfc3339_utc(std::chrono::system_clock::time_point time, Buffer& out);

// Seconds since the epoch with six decimals: 1795774392.345678.
void append_unix_seconds(std::chrono::system_clock::time_point time, Buffer& out);

// `value` as exactly `width` decimal digits (zero-padded, width <= 9).
void append_padded(std::uint32_t value, int width, Buffer& out);

}  // namespace hydra::detail
