// A record as an OTLP LogRecord (opentelemetry/proto/logs/v1/logs.proto), in
// protobuf or in the protobuf JSON mapping OTLP/HTTP uses: keys in
// lowerCamelCase, enums as integers, 64-bit integers as strings, trace and
// span ids as hex strings (not base64).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <variant>

#include "../record_text.hpp"
#include "hydra/config/detect.hpp"
#include "hydra/core/detail/percent.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/net/otlp.hpp"
#include "protobuf.hpp"

namespace hydra::net {
namespace {

namespace pb = detail::protobuf;

// LogRecord's, AnyValue's and KeyValue's field numbers.
enum : std::uint32_t {
  kTimeUnixNano = 1,
  kSeverityNumber = 2,
  kSeverityText = 3,
  kBody = 5,
  kAttributes = 6,
  kTraceId = 9,
  kSpanId = 10,
  kObservedTimeUnixNano = 11,
};
enum : std::uint32_t { kStringValue = 1, kBoolValue = 2, kIntValue = 3, kDoubleValue = 4 };
enum : std::uint32_t { kKey = 1, kValue = 2 };

using hydra::detail::hex_digit;

// The id's bytes when `text` is `size` bytes in hex and not all zero (an
// invalid id, says the spec); else nothing.
std::optional<std::string> id_bytes(std::string_view text, std::size_t size) {
  if (text.size() != 2 * size) return std::nullopt;
  std::string out;
  bool zero = true;
  for (std::size_t i = 0; i < size; ++i) {
    const int hi = hex_digit(text[2 * i]);
    const int lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    zero = zero && hi == 0 && lo == 0;
  }
  if (zero) return std::nullopt;
  return out;
}

std::string hex_of(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// What the encoders need of a record, gathered once.
struct Parts {
  std::int64_t time_ns = 0;
  std::int64_t observed_ns = 0;
  std::optional<std::string> trace_id;  // bytes
  std::optional<std::string> span_id;
  std::size_t trace_field = SIZE_MAX;  // the fields that gave them
  std::size_t span_field = SIZE_MAX;
};

Parts parts_of(const Record& r) {
  Parts p;
  p.time_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count();
  p.observed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    const Field& f = r.fields[i];
    if (!f.value.is_string()) continue;
    if (f.key == "trace_id" && !p.trace_id) {
      p.trace_id = id_bytes(f.value.as_string(), 16);
      if (p.trace_id) p.trace_field = i;
    } else if (f.key == "span_id" && !p.span_id) {
      p.span_id = id_bytes(f.value.as_string(), 8);
      if (p.span_id) p.span_field = i;
    }
  }
  return p;
}

// The attributes a record carries besides its fields.
template <typename Add>
void extra_attributes(const Record& r, Add&& add) {
  add("hydra.layer", FieldValue(r.layer));
  add("logger.name", FieldValue(r.logger));
  if (r.thread_id != 0) add("thread.id", FieldValue(r.thread_id));
  if (has_source(r)) {
    add("code.file.path", FieldValue(r.source.file));
    add("code.function.name", FieldValue(r.source.function));
    add("code.line.number", FieldValue(std::uint64_t{r.source.line}));
  }
}

// ---------------------------------------------------------------------------
// protobuf

void any_value(const FieldValue& value, std::string& out) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          pb::varint_field(kBoolValue, v ? 1 : 0, out);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          pb::varint_field(kIntValue, static_cast<std::uint64_t>(v), out);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          // int_value is signed: beyond its range, the decimal text.
          if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            pb::varint_field(kIntValue, v, out);
          } else {
            pb::bytes_field(kStringValue, std::to_string(v), out);
          }
        } else if constexpr (std::is_same_v<T, double>) {
          pb::double_field(kDoubleValue, v, out);
        } else if constexpr (std::is_same_v<T, std::string_view>) {
          pb::bytes_field(kStringValue, v, out);
        }
        // null: an empty AnyValue
      },
      value.storage());
}

void key_value(std::string_view key, const FieldValue& value, std::string& out) {
  std::string kv;
  pb::bytes_field(kKey, key, kv);
  std::string any;
  any_value(value, any);
  pb::bytes_field(kValue, any, kv);
  pb::bytes_field(kAttributes, kv, out);
}

void encode_protobuf(const Record& r, std::string& out) {
  const Parts p = parts_of(r);
  pb::fixed64_field(kTimeUnixNano, static_cast<std::uint64_t>(p.time_ns), out);
  pb::varint_field(kSeverityNumber, static_cast<std::uint64_t>(otlp_severity_number(r.level)), out);
  pb::bytes_field(kSeverityText, to_string(r.level), out);
  std::string body;
  pb::bytes_field(kStringValue, r.message, body);
  pb::bytes_field(kBody, body, out);
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    if (i == p.trace_field || i == p.span_field) continue;
    key_value(r.fields[i].key, r.fields[i].value, out);
  }
  extra_attributes(r, [&](std::string_view k, const FieldValue& v) { key_value(k, v, out); });
  if (p.trace_id) pb::bytes_field(kTraceId, *p.trace_id, out);
  if (p.span_id) pb::bytes_field(kSpanId, *p.span_id, out);
  pb::fixed64_field(kObservedTimeUnixNano, static_cast<std::uint64_t>(p.observed_ns), out);
}

// ---------------------------------------------------------------------------
// JSON

using hydra::detail::Buffer;

void raw(std::string_view s, Buffer& out) {
  out.append(s);
}

void json_any_value(const FieldValue& value, Buffer& out) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          raw(v ? "{\"boolValue\":true}" : "{\"boolValue\":false}", out);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          raw("{\"intValue\":\"" + std::to_string(v) + "\"}", out);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          const bool fits =
              v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
          raw(std::string(fits ? "{\"intValue\":\"" : "{\"stringValue\":\"") + std::to_string(v) +
                  "\"}",
              out);
        } else if constexpr (std::is_same_v<T, double>) {
          // The protobuf JSON mapping's strings for what JSON has no number for.
          if (std::isnan(v)) {
            raw("{\"doubleValue\":\"NaN\"}", out);
          } else if (std::isinf(v)) {
            raw(v > 0 ? "{\"doubleValue\":\"Infinity\"}" : "{\"doubleValue\":\"-Infinity\"}", out);
          } else {
            raw("{\"doubleValue\":", out);
            hydra::detail::append_json_value(FieldValue(v), out);
            raw("}", out);
          }
        } else if constexpr (std::is_same_v<T, std::string_view>) {
          raw("{\"stringValue\":", out);
          hydra::detail::append_json_string(v, out);
          raw("}", out);
        } else {
          raw("{}", out);
        }
      },
      value.storage());
}

void encode_json(const Record& r, std::string& out) {
  const Parts p = parts_of(r);
  Buffer b;
  raw("{\"timeUnixNano\":\"" + std::to_string(p.time_ns) + "\",\"observedTimeUnixNano\":\"" +
          std::to_string(p.observed_ns) + "\",\"severityNumber\":" +
          std::to_string(otlp_severity_number(r.level)) + ",\"severityText\":\"",
      b);
  raw(to_string(r.level), b);
  raw("\",\"body\":{\"stringValue\":", b);
  hydra::detail::append_json_string(r.message, b);
  raw("},\"attributes\":[", b);
  bool first = true;
  const auto add = [&](std::string_view key, const FieldValue& value) {
    raw(first ? "{\"key\":" : ",{\"key\":", b);
    first = false;
    hydra::detail::append_json_string(key, b);
    raw(",\"value\":", b);
    json_any_value(value, b);
    raw("}", b);
  };
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    if (i == p.trace_field || i == p.span_field) continue;
    add(r.fields[i].key, r.fields[i].value);
  }
  extra_attributes(r, add);
  raw("]", b);
  if (p.trace_id) raw(",\"traceId\":\"" + hex_of(*p.trace_id) + "\"", b);
  if (p.span_id) raw(",\"spanId\":\"" + hex_of(*p.span_id) + "\"", b);
  raw("}", b);
  out.append(b.data(), b.size());
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

}  // namespace

OtlpEncoding otlp_encoding(std::string_view name) {
  if (name == "protobuf") return OtlpEncoding::protobuf;
  if (name == "json") return OtlpEncoding::json;
  throw std::invalid_argument("encoding '" + std::string(name) +
                              "' is not one (valid: protobuf, json)");
}

int otlp_severity_number(Level level) noexcept {
  switch (level) {
    case Level::trace: return 1;
    case Level::debug: return 5;
    case Level::info:
    case Level::audit:
    case Level::compliance: return 9;
    case Level::warning:
    case Level::security: return 13;
    case Level::error: return 17;
    case Level::critical: return 21;
    case Level::off: return 0;
  }
  return 0;
}

std::vector<std::pair<std::string, std::string>> otlp_resource(
    std::string service_name, const std::vector<std::string>& extra, const Environment* detected) {
  std::vector<std::pair<std::string, std::string>> attributes;
  const auto add = [&](std::string_view pair, bool encoded) {
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return;
    std::string key(trim(pair.substr(0, eq)));
    for (const auto& kv : attributes) {
      if (kv.first == key) return;
    }
    std::string value(trim(pair.substr(eq + 1)));
    attributes.emplace_back(std::move(key),
                            encoded ? hydra::detail::percent_decoded(value) : value);
  };
  for (const auto& e : extra) add(e, false);
  // key=value,key=value, values percent-encoded (the OpenTelemetry SDK
  // environment variables).
  if (const char* env = std::getenv("OTEL_RESOURCE_ATTRIBUTES"); env != nullptr) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      add(rest.substr(0, comma), true);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  // Then what detection found (Kubernetes, the cloud), for keys not given.
  if (detected != nullptr) {
    for (const auto& [key, value] : detected->resource_fields()) {
      add(key + "=" + value, false);
    }
  }
  // service.name: the option, else $OTEL_SERVICE_NAME, else one of the
  // attributes, else the program's name.
  const char* env = std::getenv("OTEL_SERVICE_NAME");
  if (service_name.empty() && env != nullptr) service_name = env;
  std::vector<std::pair<std::string, std::string>> out{{"service.name", service_name},
                                                       {"host.name", host_name()}};
  for (auto& kv : attributes) {
    if (kv.first == "service.name") {
      if (out[0].second.empty()) out[0].second = std::move(kv.second);
    } else if (kv.first == "host.name") {
      out[1].second = std::move(kv.second);
    } else {
      out.push_back(std::move(kv));
    }
  }
  if (out[0].second.empty()) out[0].second = detail::program_name();
  return out;
}

RecordEncoder make_otlp_encoder(OtlpEncoding encoding) {
  if (encoding == OtlpEncoding::json) {
    return [](const Record& r, std::string_view, std::string& out) { encode_json(r, out); };
  }
  return [](const Record& r, std::string_view, std::string& out) { encode_protobuf(r, out); };
}

}  // namespace hydra::net
