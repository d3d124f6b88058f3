#include "hydra/format/logfmt_formatter.hpp"

#include <array>

#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {

// The format's own keys; a field with one of these names is renamed.
constexpr std::array<std::string_view, 8> kReservedKeys = {"ts",  "level",  "layer",    "logger",
                                                           "msg", "source", "function", "thread"};

}  // namespace

void LogfmtFormatter::format(const Record& record, Buffer& out) const {
  using namespace std::string_view_literals;
  detail::append_raw("ts="sv, out);
  detail::append_rfc3339_utc(record.time, out);
  detail::append_raw(" level="sv, out);
  detail::append_raw(palette_.of(record.level), out);
  detail::append_raw(to_lower_string(record.level), out);
  detail::append_raw(palette_.end(record.level), out);
  detail::append_raw(" layer="sv, out);
  detail::append_logfmt_value(record.layer, out);
  detail::append_raw(" logger="sv, out);
  detail::append_logfmt_value(record.logger, out);
  detail::append_raw(" msg="sv, out);
  detail::append_logfmt_value(record.message, out);
  for (const Field& f : record.fields) {
    out.push_back(' ');
    detail::append_logfmt_field(f, out, kReservedKeys);
  }
  if (has_source(record)) {
    detail::append_raw(" source="sv, out);
    fmt::memory_buffer source;  // file:line; inline storage, no allocation for usual paths
    source.append(std::string_view(record.source.file));
    source.push_back(':');
    detail::append_decimal(std::uint64_t{record.source.line}, source);
    detail::append_logfmt_value(std::string_view(source.data(), source.size()), out);
    detail::append_raw(" function="sv, out);
    detail::append_logfmt_value(record.source.function, out);
  }
  detail::append_raw(" thread="sv, out);
  detail::append_decimal(record.thread_id, out);
  out.push_back('\n');
}

}  // namespace hydra
