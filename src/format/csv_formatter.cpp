#include "hydra/format/csv_formatter.hpp"

#include "hydra/core/detail/thread_instance.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {
constexpr std::size_t kKeptScratchBytes = std::size_t{64} * 1024;
}  // namespace

CsvFormatter::CsvFormatter(const FormatterOptions& options)
    : header_(options.csv_header), palette_(options.color ? options.palette : Palette{}) {}

std::string_view CsvFormatter::header() const {
  return header_ ? kCsvHeader : std::string_view{};
}

void CsvFormatter::format(const Record& record, Buffer& out) const {
  detail::append_rfc3339_utc(record.time, out);
  out.push_back(',');
  detail::append_raw(palette_.of(record.level), out);
  detail::append_raw(to_lower_string(record.level), out);
  detail::append_raw(palette_.end(record.level), out);
  out.push_back(',');
  detail::append_csv_value(record.layer, out);
  out.push_back(',');
  detail::append_csv_value(record.logger, out);
  out.push_back(',');
  detail::append_csv_value(record.message, out);
  out.push_back(',');
  if (!record.fields.empty()) {
    // The JSON text is valid UTF-8 without control characters; CSV quoting
    // then doubles its quotes. Kept per thread: allocates once, not per record.
    struct CsvFieldsTag;
    Buffer& json = detail::thread_instance<Buffer, CsvFieldsTag>();
    json.clear();
    detail::append_json_object(record.fields, json);
    detail::append_csv_value(std::string_view(json.data(), json.size()), out);
    if (json.capacity() > kKeptScratchBytes) json = Buffer();  // after a huge record
  }
  out.push_back(',');
  detail::append_csv_value(record.source.file, out);
  out.push_back(',');
  // A record without a source (hydra pipe) has no line either: empty, like
  // its file and function, rather than a made-up 0.
  if (has_source(record)) detail::append_decimal(std::uint64_t{record.source.line}, out);
  out.push_back(',');
  detail::append_csv_value(record.source.function, out);
  out.push_back(',');
  detail::append_decimal(record.thread_id, out);
  out.push_back('\n');
}

}  // namespace hydra
