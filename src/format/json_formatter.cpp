#include "hydra/format/json_formatter.hpp"

#include <array>

#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {

// Cloud Logging's LogSeverity names, which follow syslog's severities 0..7.
constexpr std::array<std::string_view, 8> kGcpSeverities = {
    "EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};

}  // namespace

void JsonFormatter::format(const Record& record, Buffer& out) const {
  using namespace std::string_view_literals;
  const bool gcp = dialect_ == JsonDialect::gcp;
  detail::append_raw(gcp ? R"({"time":")"sv : R"({"timestamp":")"sv, out);
  detail::append_rfc3339_utc(record.time, out);
  if (gcp) {
    detail::append_raw(R"(","severity":")"sv, out);
    detail::append_raw(kGcpSeverities[static_cast<std::size_t>(syslog_severity(record.level))],
                       out);
  }
  detail::append_raw(R"(","level":)"sv, out);
  detail::append_raw(palette_.of(record.level), out);
  out.push_back('"');
  detail::append_raw(to_lower_string(record.level), out);
  out.push_back('"');
  detail::append_raw(palette_.end(record.level), out);
  detail::append_raw(R"(,"layer":)"sv, out);
  detail::append_json_string(record.layer, out);
  detail::append_raw(R"(,"logger":)"sv, out);
  detail::append_json_string(record.logger, out);
  detail::append_raw(R"(,"message":)"sv, out);
  detail::append_json_string(record.message, out);
  if (!record.fields.empty()) {
    detail::append_raw(R"(,"fields":)"sv, out);
    detail::append_json_object(record.fields, out);
  }
  if (has_source(record)) {
    detail::append_raw(
        gcp ? R"(,"logging.googleapis.com/sourceLocation":{"file":)"sv : R"(,"source":{"file":)"sv,
        out);
    detail::append_json_string(record.source.file, out);
    detail::append_raw(gcp ? R"(,"line":")"sv : R"(,"line":)"sv, out);
    detail::append_decimal(std::uint64_t{record.source.line}, out);
    detail::append_raw(gcp ? R"(","function":)"sv : R"(,"function":)"sv, out);
    detail::append_json_string(record.source.function, out);
    out.push_back('}');
  }
  detail::append_raw(R"(,"thread":)"sv, out);
  detail::append_decimal(record.thread_id, out);
  detail::append_raw("}\n"sv, out);
}

}  // namespace hydra
