#include "hydra/format/gelf_formatter.hpp"

#include <array>

#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {

// GELF additional field names match ^[\w\.\-]*$ (ASCII word characters).
bool is_gelf_name_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Names (after the '_') the format writes itself, plus "id": "_id" is
// forbidden by the GELF spec. A field with one of these names is renamed.
constexpr std::array<std::string_view, 8> kReservedNames = {
    "id", "layer", "logger", "file", "line", "function", "thread", "app_name"};

std::string json_member(std::string_view prefix, std::string_view value) {
  Buffer b;
  b.append(prefix);
  detail::append_json_string(value, b);
  return fmt::to_string(b);
}

}  // namespace

GelfFormatter::GelfFormatter(const FormatterOptions& options)
    : host_json_(json_member(R"("host":)",
                             options.hostname.empty() ? std::string_view("-") : options.hostname)),
      app_name_json_(options.app_name.empty() ? std::string()
                                              : json_member(R"(,"_app_name":)", options.app_name)) {
}

void GelfFormatter::format(const Record& record, Buffer& out) const {
  using namespace std::string_view_literals;
  detail::append_raw(R"({"version":"1.1",)"sv, out);
  detail::append_raw(host_json_, out);
  detail::append_raw(R"(,"short_message":)"sv, out);
  // Graylog rejects an empty short_message.
  detail::append_json_string(record.message.empty() ? "-"sv : record.message, out);
  detail::append_raw(R"(,"timestamp":)"sv, out);
  detail::append_unix_seconds(record.time, out);
  detail::append_raw(R"(,"level":)"sv, out);
  detail::append_decimal(std::int64_t{syslog_severity(record.level)}, out);
  detail::append_raw(R"(,"_layer":)"sv, out);
  detail::append_json_string(record.layer, out);
  detail::append_raw(R"(,"_logger":)"sv, out);
  detail::append_json_string(record.logger, out);
  if (has_source(record)) {
    detail::append_raw(R"(,"_file":)"sv, out);
    detail::append_json_string(record.source.file, out);
    detail::append_raw(R"(,"_line":)"sv, out);
    detail::append_decimal(std::uint64_t{record.source.line}, out);
    detail::append_raw(R"(,"_function":)"sv, out);
    detail::append_json_string(record.source.function, out);
  }
  detail::append_raw(R"(,"_thread":)"sv, out);
  detail::append_decimal(record.thread_id, out);
  detail::append_raw(app_name_json_, out);
  for (const Field& f : record.fields) {
    detail::append_raw(R"(,"_)"sv, out);
    detail::append_field_name(f.key, out, {is_gelf_name_byte, detail::kUnlimitedLength},
                              kReservedNames);
    detail::append_raw(R"(":)"sv, out);
    if (f.value.is_string() || f.value.is_number()) {
      detail::append_json_value(f.value, out);
    } else {  // GELF values are strings or numbers: true, false, null as text
      out.push_back('"');
      detail::append_scalar_text(f.value, out);
      out.push_back('"');
    }
  }
  detail::append_raw("}\n"sv, out);
}

}  // namespace hydra
