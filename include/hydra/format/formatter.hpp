// A formatter turns one record into bytes for one destination: exactly one
// line (ending in '\n') for every line-based format, whatever the record holds
// (CR, LF, control characters, ANSI escapes and invalid UTF-8 are escaped).
// Formatters are built once per destination and must be safe to call from
// several threads at once (they keep no mutable state, or guard it).
//
// Your own formatter (DestinationConfig::formatter) is called exactly as the
// built-in ones are:
// - format() gets one record and an empty `out` to append its bytes to; the
//   logger hands those bytes to the destination's sink unchanged. The views
//   in `record` live only for the call: copy what you keep.
// - Threads: in sync mode every logging thread formats its own records, so
//   format() runs on several threads at once. In async mode one logger's
//   records are formatted one at a time (by its backend, or by a caller doing
//   the backend's work under its lock), but a formatter shared with another
//   logger, or with a sync one, still runs concurrently. Hydra adds no lock
//   around it: keep no mutable state, or guard it (an atomic counter, a
//   mutex, thread_local scratch).
// - It should not throw. If it does, that destination loses the record
//   (reported on stderr, counted in LoggerMetrics::format_errors); the
//   record's other destinations still get it.
// - It may log to other loggers, never to one it formats for (each record
//   would make another).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "hydra/core/record.hpp"
#include "hydra/format/color.hpp"

namespace hydra {

using Buffer = fmt::memory_buffer;

class Formatter {
 public:
  virtual ~Formatter() = default;
  // Appends the rendering of `record` to `out`.
  virtual void format(const Record& record, Buffer& out) const = 0;

  // The line every file of this format starts with (csv's header), '\n'
  // included; empty for none. It belongs to the file, not to a record: Hydra's
  // file sinks write it first into each file they start empty (a new file,
  // one emptied by rotation, one reopened after an external rotation), before
  // that file's first record, and never into a file that already has content
  // (a restart appending to it); a console sink writes it once, before its
  // first record. Sinks of your own (to_sink) are not given it.
  virtual std::string_view header() const { return {}; }
};

// Building blocks for formatters of your own, with the rules the built-in
// formats follow (docs/formats.md, "Escaping"): whatever the input holds, what
// they append is valid UTF-8 without a control character, so content can
// never break a line, forge one, or reach a terminal as an escape sequence.
// Text: CR, LF and TAB as \r \n \t, other controls (ESC too) and invalid
// bytes as \xHH.
void append_escaped_text(std::string_view text, Buffer& out);
// A JSON string, quotes included.
void append_json_string(std::string_view text, Buffer& out);
// key=value as logfmt (and the text format's fields) writes it.
void append_logfmt_field(const Field& field, Buffer& out);
// RFC 3339 in UTC with microseconds: 2026-11-27T10:13:12.345678Z.
void append_rfc3339_utc(std::chrono::system_clock::time_point time, Buffer& out);

// The text format's four shaping options. Unset options fall back to the
// HYDRA_LOG_DATE_FORMAT / _TIME_FORMAT / _LOGGER_NAME_FORMAT / _MESSAGE_FORMAT
// environment variables, then to the defaults.
struct TextFormatOptions {
  // strftime-like date: %Y %m %d %y %b %j (default "%Y-%m-%d").
  std::optional<std::string> date_format;
  // strftime-like time: %H %M %S %p %z plus %L (millis), %f (micros),
  // %N (nanos) (default "%H:%M:%S.%L").
  std::optional<std::string> time_format;
  // How the layer/logger name is shown: {layer} and {logger} (default
  // "[{layer}]").
  std::optional<std::string> logger_name_format;
  // The line: {date} {time} {timestamp} {level} {logger_name} {layer}
  // {logger} {message} {fields} {file} {line} {function} {thread} {pid}
  // {sequence}; {level} takes an alignment like {level:<8}
  // (default "{date} {time} {level:<5} {logger_name} {message}{fields}").
  std::optional<std::string> message_format;
};

// Everything a formatter may need; each format reads what applies to it.
struct FormatterOptions {
  bool color = false;       // emit ANSI colour (decided by the destination)
  Palette palette;          // used when color is on
  TextFormatOptions text;   // "text" only
  bool csv_header = false;  // "csv": files start with a header line (Formatter::header)
  std::string app_name;     // syslog APP-NAME, GELF/Logstash; default: program name
  std::string hostname;     // syslog HOSTNAME, GELF host; default: gethostname()
  int syslog_facility = 1;  // RFC 5424 facility (1 = user-level)
};

// The format names make_formatter accepts, for error messages. gcp_json is
// JSON Lines with Google Cloud Logging's names (JsonDialect::gcp).
inline constexpr std::string_view kFormatChoices =
    "text, json, logfmt, csv, syslog, gelf, logstash, gcp_json";

// Whether make_formatter knows `name` (one of kFormatChoices,
// case-insensitively). The one check of a format's name: zero-config and the
// config component use it for HYDRA_LOG_FORMAT.
bool is_format_name(std::string_view name) noexcept;

// Builds the formatter for a format name. Throws ConfigError naming the format
// (and the valid choices) or the bad option (an unknown placeholder in
// message_format, for example).
std::unique_ptr<Formatter> make_formatter(std::string_view format, const FormatterOptions& options);

}  // namespace hydra
