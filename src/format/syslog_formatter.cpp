#include "hydra/format/syslog_formatter.hpp"

#include <array>

#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {

// RFC 5424 section 6: header fields are PRINTUSASCII (33..126) with these
// maximum lengths; SD-NAMEs also exclude '=', ']' and '"'.
constexpr std::size_t kMaxHostname = 255;
constexpr std::size_t kMaxAppName = 48;
constexpr std::size_t kMaxMsgId = 32;
constexpr std::size_t kMaxSdName = 32;

bool is_print_us_ascii(unsigned char c) {
  return c >= 33 && c <= 126;
}
bool is_sd_name_byte(unsigned char c) {
  return is_print_us_ascii(c) && c != '=' && c != ']' && c != '"';
}

// The structured data's own parameters; a field with one of these names is
// renamed.
constexpr std::array<std::string_view, 5> kReservedParams = {"logger", "file", "line", "function",
                                                             "thread"};

// A header field: "-" (NILVALUE) when empty, else sanitised and cut.
void append_header_field(std::string_view value, std::size_t max_length, Buffer& out) {
  if (value.empty()) {
    out.push_back('-');
  } else {
    detail::append_field_name(value, out, {is_print_us_ascii, max_length});
  }
}

std::string header_field(std::string_view value, std::size_t max_length) {
  Buffer b;
  append_header_field(value, max_length, b);
  return fmt::to_string(b);
}

void append_sd_param(std::string_view name, std::string_view value, Buffer& out) {
  out.push_back(' ');
  detail::append_raw(name, out);
  detail::append_raw("=\"", out);
  detail::append_sd_param_value(value, out);
  out.push_back('"');
}

}  // namespace

SyslogFormatter::SyslogFormatter(const FormatterOptions& options)
    : facility_(options.syslog_facility),
      hostname_(header_field(options.hostname, kMaxHostname)),
      app_name_(header_field(options.app_name, kMaxAppName)),
      palette_(options.color ? options.palette : Palette{}) {
  if (facility_ < 0 || facility_ > 23) {
    throw ConfigError(
        fmt::format("syslog_facility: {} is not a syslog facility (valid: 0..23)", facility_));
  }
}

void SyslogFormatter::format(const Record& record, Buffer& out) const {
  detail::append_raw(palette_.of(record.level), out);
  out.push_back('<');
  detail::append_decimal(std::int64_t{facility_ * 8 + syslog_severity(record.level)}, out);
  out.push_back('>');
  detail::append_raw(palette_.end(record.level), out);
  detail::append_raw("1 ", out);
  detail::append_rfc3339_utc(record.time, out);
  out.push_back(' ');
  detail::append_raw(hostname_, out);
  out.push_back(' ');
  detail::append_raw(app_name_, out);
  out.push_back(' ');
  detail::append_decimal(detail::process_id(), out);
  out.push_back(' ');
  append_header_field(record.layer, kMaxMsgId, out);

  out.push_back(' ');
  out.push_back('[');
  detail::append_raw(kSyslogSdId, out);
  append_sd_param("logger", record.logger, out);
  if (has_source(record)) {
    append_sd_param("file", record.source.file, out);
    detail::append_raw(" line=\"", out);
    detail::append_decimal(std::uint64_t{record.source.line}, out);
    out.push_back('"');
    append_sd_param("function", record.source.function, out);
  }
  detail::append_raw(" thread=\"", out);
  detail::append_decimal(record.thread_id, out);
  out.push_back('"');
  for (const Field& f : record.fields) {
    out.push_back(' ');
    detail::append_field_name(f.key, out, {is_sd_name_byte, kMaxSdName}, kReservedParams);
    detail::append_raw("=\"", out);
    if (f.value.is_string()) {
      detail::append_sd_param_value(f.value.as_string(), out);
    } else {
      detail::append_scalar_text(f.value, out);
    }
    out.push_back('"');
  }
  out.push_back(']');

  if (!record.message.empty()) {  // MSG is optional, and so is the space before it
    out.push_back(' ');
    detail::append_escaped_text(record.message, out);
  }
  out.push_back('\n');
}

}  // namespace hydra
