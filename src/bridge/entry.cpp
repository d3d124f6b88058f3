#include "hydra/bridge/entry.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>

#include "hydra/format/detail/escape.hpp"

namespace hydra::bridge {

Entry::Entry(const Record& record, std::string_view tenant_name, std::string_view service_name)
    : time(record.time), level(record.level) {
  static_assert(std::is_trivially_copyable_v<Field> && std::is_trivially_destructible_v<Field>);
  static_assert(alignof(Field) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  const std::size_t n = record.fields.size();
  std::size_t text = record.layer.size() + record.logger.size() + record.message.size() +
                     tenant_name.size() + service_name.size();
  for (const Field& f : record.fields) text += f.key.size() + f.value.as_string().size();
  storage_size_ = n * sizeof(Field) + text;
  storage_ = std::make_unique_for_overwrite<std::byte[]>(std::max<std::size_t>(storage_size_, 1));
  Field* const copies = reinterpret_cast<Field*>(storage_.get());
  char* at = reinterpret_cast<char*>(storage_.get() + n * sizeof(Field));
  const auto keep = [&at](std::string_view s) {
    if (!s.empty()) std::memcpy(at, s.data(), s.size());
    const std::string_view kept(at, s.size());
    at += s.size();
    return kept;
  };
  layer = keep(record.layer);
  logger = keep(record.logger);
  message = keep(record.message);
  tenant = keep(tenant_name);
  service = keep(service_name);
  for (std::size_t i = 0; i < n; ++i) {
    const Field& f = record.fields[i];
    Field* copy = ::new (static_cast<void*>(copies + i)) Field{keep(f.key), f.value};
    if (f.value.is_string()) copy->value = keep(f.value.as_string());
  }
  fields = std::span<const Field>(copies, n);
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

namespace {

// What a record frame carries of one record at most: a client (the Python
// one's default, a browser tab) must never get a frame it refuses or
// chokes on because the application logged something huge.
constexpr std::size_t kMaxMessageBytes = 64 * 1024;
constexpr std::size_t kMaxFieldBytes = 8 * 1024;
constexpr std::size_t kMaxFieldsBytes = 192 * 1024;

// `text` cut to at most `max` bytes, at a UTF-8 character boundary.
std::string_view clip(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

const std::string& Entry::json_members() const {
  if (!json_.empty()) return json_;
  using hydra::detail::append_json_string;
  using hydra::detail::append_raw;
  hydra::detail::Buffer out;
  bool truncated = false;
  append_raw("\"time\":\"", out);
  hydra::detail::append_rfc3339_utc(time, out);
  append_raw("\",\"level\":\"", out);
  append_raw(to_lower_string(level), out);
  append_raw("\",\"layer\":", out);
  append_json_string(layer, out);
  append_raw(",\"logger\":", out);
  append_json_string(logger, out);
  append_raw(",\"message\":", out);
  const std::string_view shown = clip(message, kMaxMessageBytes);
  truncated |= shown.size() < message.size();
  append_json_string(shown, out);
  const auto spans = redacted_spans(shown);
  if (!spans.empty()) {
    append_raw(",\"redacted\":[", out);
    for (std::size_t i = 0; i < spans.size(); ++i) {
      fmt::format_to(std::back_inserter(out), "{}[{},{},\"{}\"]", i == 0 ? "" : ",", spans[i].begin,
                     spans[i].end, spans[i].type);
    }
    append_raw("]", out);
  }
  append_raw(",\"fields\":{", out);
  const std::size_t fields_start = out.size();
  for (const Field& f : fields) {
    if (out.size() - fields_start > kMaxFieldsBytes) {
      truncated = true;
      break;
    }
    if (out.size() > fields_start) out.push_back(',');
    append_json_string(clip(f.key, 256), out);
    out.push_back(':');
    if (f.value.is_string()) {
      const std::string_view value = clip(f.value.as_string(), kMaxFieldBytes);
      truncated |= value.size() < f.value.as_string().size();
      append_json_string(value, out);
    } else {
      hydra::detail::append_json_value(f.value, out);
    }
  }
  append_raw("},\"service\":", out);
  append_json_string(service, out);
  append_raw(",\"tenant\":", out);
  append_json_string(tenant, out);
  if (truncated) append_raw(",\"truncated\":true", out);
  json_.assign(out.data(), out.size());
  return json_;
}

}  // namespace hydra::bridge
