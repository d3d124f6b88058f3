// A formatter turns one record into bytes for one destination: exactly one
// line (ending in '\n') for every line-based format, whatever the record holds
// (CR, LF, control characters, ANSI escapes and invalid UTF-8 are escaped).
// Formatters are built once per destination and must be safe to call from
// several threads at once (they keep no mutable state, or guard it).
#pragma once

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
};

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
  bool csv_header = false;  // "csv": write a header line before the first record
  std::string app_name;     // syslog APP-NAME, GELF/Logstash; default: program name
  std::string hostname;     // syslog HOSTNAME, GELF host; default: gethostname()
  int syslog_facility = 1;  // RFC 5424 facility (1 = user-level)
};

// The format names make_formatter accepts, for error messages. gcp_json is
// JSON Lines with Google Cloud Logging's names (JsonDialect::gcp).
inline constexpr std::string_view kFormatChoices =
    "text, json, logfmt, csv, syslog, gelf, logstash, gcp_json";

// Builds the formatter for a format name. Throws ConfigError naming the format
// (and the valid choices) or the bad option (an unknown placeholder in
// message_format, for example).
std::unique_ptr<Formatter> make_formatter(std::string_view format, const FormatterOptions& options);

}  // namespace hydra
