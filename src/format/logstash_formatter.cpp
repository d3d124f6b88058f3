#include "hydra/format/logstash_formatter.hpp"

#include <algorithm>
#include <array>

#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {

// The keys the format writes itself; a field with one of these names is
// written as field_<name>.
constexpr std::array<std::string_view, 12> kReservedKeys = {
    "@timestamp",         "@version", "message",     "logger_name",      "level",
    "level_value",        "layer",    "thread_name", "caller_file_name", "caller_line_number",
    "caller_method_name", "app_name"};

// Logback's numeric levels, by severity (trace..critical).
constexpr std::array<int, 7> kLevelValues = {5000, 10000, 20000, 30000, 40000, 50000, 60000};

}  // namespace

LogstashFormatter::LogstashFormatter(const FormatterOptions& options) {
  if (!options.app_name.empty()) {
    Buffer b;
    b.append(std::string_view(R"(,"app_name":)"));
    detail::append_json_string(options.app_name, b);
    app_name_json_ = fmt::to_string(b);
  }
}

void LogstashFormatter::format(const Record& record, Buffer& out) const {
  using namespace std::string_view_literals;
  detail::append_raw(R"({"@timestamp":")"sv, out);
  detail::append_rfc3339_utc(record.time, out);
  detail::append_raw(R"(","@version":"1","message":)"sv, out);
  detail::append_json_string(record.message, out);
  detail::append_raw(R"(,"logger_name":)"sv, out);
  detail::append_json_string(record.logger, out);
  detail::append_raw(R"(,"level":")"sv, out);
  detail::append_raw(to_string(record.level), out);
  detail::append_raw(R"(","level_value":)"sv, out);
  detail::append_decimal(std::int64_t{kLevelValues[severity(record.level)]}, out);
  detail::append_raw(R"(,"layer":)"sv, out);
  detail::append_json_string(record.layer, out);
  detail::append_raw(R"(,"thread_name":")"sv, out);
  detail::append_decimal(record.thread_id, out);
  out.push_back('"');
  if (has_source(record)) {
    detail::append_raw(R"(,"caller_file_name":)"sv, out);
    detail::append_json_string(record.source.file, out);
    detail::append_raw(R"(,"caller_line_number":)"sv, out);
    detail::append_decimal(std::uint64_t{record.source.line}, out);
    detail::append_raw(R"(,"caller_method_name":)"sv, out);
    detail::append_json_string(record.source.function, out);
  }
  detail::append_raw(app_name_json_, out);
  for (const Field& f : record.fields) {
    detail::append_raw(R"(,")"sv, out);
    if (std::find(kReservedKeys.begin(), kReservedKeys.end(), f.key) != kReservedKeys.end()) {
      detail::append_raw(detail::kRenamedFieldPrefix, out);
    }
    detail::append_json_escaped(f.key, out);
    detail::append_raw(R"(":)"sv, out);
    detail::append_json_value(f.value, out);
  }
  detail::append_raw("}\n"sv, out);
}

}  // namespace hydra
