#include "hydra/format/json_formatter.hpp"

#include "hydra/format/detail/escape.hpp"

namespace hydra {

void JsonFormatter::format(const Record& record, Buffer& out) const {
  using namespace std::string_view_literals;
  detail::append_raw(R"({"timestamp":")"sv, out);
  detail::append_rfc3339_utc(record.time, out);
  detail::append_raw(R"(","level":")"sv, out);
  detail::append_raw(to_lower_string(record.level), out);
  detail::append_raw(R"(","layer":)"sv, out);
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
    detail::append_raw(R"(,"source":{"file":)"sv, out);
    detail::append_json_string(record.source.file, out);
    detail::append_raw(R"(,"line":)"sv, out);
    detail::append_decimal(std::uint64_t{record.source.line}, out);
    detail::append_raw(R"(,"function":)"sv, out);
    detail::append_json_string(record.source.function, out);
    out.push_back('}');
  }
  detail::append_raw(R"(,"thread":)"sv, out);
  detail::append_decimal(record.thread_id, out);
  detail::append_raw("}\n"sv, out);
}

}  // namespace hydra
