#include "hydra/bridge/entry.hpp"

#include "hydra/format/detail/escape.hpp"

namespace hydra::bridge {

Entry::Entry(const Record& record, std::string_view tenant_name, std::string_view service_name)
    : time(record.time), level(record.level) {
  // One allocation for every string: reserved first, so that appending never
  // moves it and each view taken right after its append stays valid.
  std::size_t size = record.layer.size() + record.logger.size() + record.message.size() +
                     tenant_name.size() + service_name.size();
  for (const Field& f : record.fields) size += f.key.size() + f.value.as_string().size();
  text_.reserve(size);
  const auto keep = [this](std::string_view s) {
    const std::size_t at = text_.size();
    text_.append(s);
    return std::string_view(text_.data() + at, s.size());
  };
  layer = keep(record.layer);
  logger = keep(record.logger);
  message = keep(record.message);
  tenant = keep(tenant_name);
  service = keep(service_name);
  fields.reserve(record.fields.size());
  for (const Field& f : record.fields) {
    Field copy{keep(f.key), f.value};
    if (f.value.is_string()) copy.value = keep(f.value.as_string());
    fields.push_back(copy);
  }
}

std::vector<RedactedSpan> redacted_spans(std::string_view message) {
  std::vector<RedactedSpan> out;
  static constexpr std::string_view kOpen = "[REDACTED_";
  std::size_t from = 0;
  while ((from = message.find(kOpen, from)) != std::string_view::npos) {
    std::size_t end = from + kOpen.size();
    while (end < message.size() &&
           ((message[end] >= 'A' && message[end] <= 'Z') ||
            (message[end] >= '0' && message[end] <= '9') || message[end] == '_')) {
      ++end;
    }
    if (end < message.size() && message[end] == ']' && end > from + kOpen.size()) {
      out.push_back({static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(end + 1),
                     message.substr(from + kOpen.size(), end - from - kOpen.size())});
      from = end + 1;
    } else {
      from = end;
    }
  }
  return out;
}

const std::string& Entry::json_members() const {
  if (!json_.empty()) return json_;
  hydra::detail::Buffer out;
  hydra::detail::append_raw("\"time\":\"", out);
  hydra::detail::append_rfc3339_utc(time, out);
  hydra::detail::append_raw("\",\"level\":\"", out);
  hydra::detail::append_raw(to_lower_string(level), out);
  hydra::detail::append_raw("\",\"layer\":", out);
  hydra::detail::append_json_string(layer, out);
  hydra::detail::append_raw(",\"logger\":", out);
  hydra::detail::append_json_string(logger, out);
  hydra::detail::append_raw(",\"message\":", out);
  hydra::detail::append_json_string(message, out);
  const auto spans = redacted_spans(message);
  if (!spans.empty()) {
    hydra::detail::append_raw(",\"redacted\":[", out);
    for (std::size_t i = 0; i < spans.size(); ++i) {
      fmt::format_to(std::back_inserter(out), "{}[{},{},\"{}\"]", i == 0 ? "" : ",", spans[i].begin,
                     spans[i].end, spans[i].type);
    }
    hydra::detail::append_raw("]", out);
  }
  hydra::detail::append_raw(",\"fields\":", out);
  hydra::detail::append_json_object(fields, out);
  hydra::detail::append_raw(",\"service\":", out);
  hydra::detail::append_json_string(service, out);
  hydra::detail::append_raw(",\"tenant\":", out);
  hydra::detail::append_json_string(tenant, out);
  json_.assign(out.data(), out.size());
  return json_;
}

}  // namespace hydra::bridge
