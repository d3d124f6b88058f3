// The `otlp` destination's transport: a batch of encoded LogRecords wrapped
// into ExportLogsServiceRequest{resource_logs[{resource, scope_logs[{scope,
// log_records}]}]} and POSTed; the response classified as the OTLP/HTTP
// specification says (docs/shipping.md).
#include <charconv>
#include <cstdlib>

#include "hydra/format/detail/escape.hpp"
#include "hydra/net/otlp.hpp"
#include "protobuf.hpp"

namespace hydra::net {
namespace {

namespace pb = detail::protobuf;

constexpr std::string_view kScopeName = "hydra-logger";

// The request up to its first log record and after its last, made once:
// every batch has the same resource and scope.
struct Envelope {
  std::string head;
  std::string tail;
};

Envelope json_envelope(const OtlpTarget& t) {
  hydra::detail::Buffer b;
  b.append(std::string_view("{\"resourceLogs\":[{\"resource\":{\"attributes\":["));
  bool first = true;
  for (const auto& [key, value] : t.resource) {
    b.append(std::string_view(first ? "{\"key\":" : ",{\"key\":"));
    first = false;
    hydra::detail::append_json_string(key, b);
    b.append(std::string_view(",\"value\":{\"stringValue\":"));
    hydra::detail::append_json_string(value, b);
    b.append(std::string_view("}}"));
  }
  b.append(std::string_view("]},\"scopeLogs\":[{\"scope\":{\"name\":\""));
  b.append(kScopeName);
  b.append(std::string_view("\"},\"logRecords\":["));
  return {std::string(b.data(), b.size()), "]}]}]}"};
}

// The protobuf Resource and InstrumentationScope, each as its field.
std::string protobuf_resource(const OtlpTarget& t) {
  std::string resource;
  for (const auto& [key, value] : t.resource) {
    std::string any;
    pb::bytes_field(1, value, any);  // AnyValue.string_value
    std::string kv;
    pb::bytes_field(1, key, kv);       // KeyValue.key
    pb::bytes_field(2, any, kv);       // KeyValue.value
    pb::bytes_field(1, kv, resource);  // Resource.attributes
  }
  std::string out;
  pb::bytes_field(1, resource, out);  // ResourceLogs.resource
  return out;
}

// What a 2xx response's partial_success says: the records rejected and the
// server's message.
struct Partial {
  std::int64_t rejected = 0;
  std::string message;
};

Partial partial_of_protobuf(std::string_view body) {
  Partial p;
  pb::Reader response(body);
  while (const auto f = response.next()) {
    if (f->number != 1 || f->type != pb::len) continue;  // partial_success
    pb::Reader partial(f->bytes);
    while (const auto g = partial.next()) {
      if (g->number == 1 && g->type == pb::varint) p.rejected = static_cast<std::int64_t>(g->value);
      if (g->number == 2 && g->type == pb::len) p.message = std::string(g->bytes);
    }
  }
  return p;
}

// The JSON response, read only as far as needed (no JSON library in the
// net module): "rejectedLogRecords" as a number or a string, and
// "errorMessage" up to its closing quote.
Partial partial_of_json(std::string_view body) {
  Partial p;
  const auto value_after = [&](std::string_view key) -> std::string_view {
    const auto at = body.find(key);
    if (at == std::string_view::npos) return {};
    auto rest = body.substr(at + key.size());
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n' || rest.front() == '\t' ||
                             rest.front() == '\r')) {
      rest.remove_prefix(1);
    }
    return rest;
  };
  if (auto v = value_after("\"rejectedLogRecords\""); !v.empty()) {
    if (v.front() == '"') v.remove_prefix(1);
    std::from_chars(v.data(), v.data() + v.size(), p.rejected);
  }
  if (auto v = value_after("\"errorMessage\""); v.starts_with('"')) {
    v.remove_prefix(1);
    std::size_t end = 0;
    while (end < v.size() && v[end] != '"') end += v[end] == '\\' ? 2 : 1;
    p.message = std::string(v.substr(0, std::min(end, v.size())));
  }
  return p;
}

class OtlpTransport final : public Transport {
 public:
  explicit OtlpTransport(OtlpTarget target)
      : target_(std::move(target)), client_(target_.endpoint, target_.http) {
    if (target_.encoding == OtlpEncoding::json) {
      envelope_ = json_envelope(target_);
    } else {
      resource_ = protobuf_resource(target_);
      std::string scope;
      pb::bytes_field(1, kScopeName, scope);    // InstrumentationScope.name
      pb::bytes_field(1, scope, scope_field_);  // ScopeLogs.scope
    }
  }

  std::string describe() const override { return "otlp " + target_.endpoint; }

  SendResult send(std::span<const QueuedRecord> batch) override {
    const bool json = target_.encoding == OtlpEncoding::json;
    const HttpResponse response =
        client_.post(json ? json_request(batch) : protobuf_request(batch),
                     json ? "application/json" : "application/x-protobuf");
    SendResult result = http_result(response, target_.endpoint);
    if (result.status != SendResult::Status::delivered) return result;
    const Partial partial =
        json ? partial_of_json(response.body) : partial_of_protobuf(response.body);
    if (partial.rejected <= 0) return result;
    // OTLP does not say which records were rejected, only how many: the
    // last N of the batch are counted rejected (dead-lettered), the others
    // delivered, so that the counts agree with the server's. Never retried.
    const std::string why = "otlp partial success: " + std::to_string(partial.rejected) + " of " +
                            std::to_string(batch.size()) + " log records rejected" +
                            (partial.message.empty() ? "" : ": " + partial.message);
    const auto rejected = static_cast<std::size_t>(
        std::min<std::int64_t>(partial.rejected, static_cast<std::int64_t>(batch.size())));
    if (rejected == batch.size()) return SendResult::reject(why);
    result.status = SendResult::Status::partial;
    using O = SendResult::Item::Outcome;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (i < batch.size() - rejected) {
        result.items.push_back({O::delivered, {}});
      } else {
        result.items.push_back({O::rejected, why});
      }
    }
    return result;
  }

 private:
  std::string json_request(std::span<const QueuedRecord> batch) const {
    std::size_t size = envelope_.head.size() + envelope_.tail.size();
    for (const auto& r : batch) size += r.bytes.size() + 1;
    std::string out;
    out.reserve(size);
    out += envelope_.head;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (i > 0) out += ',';
      out += batch[i].bytes;
    }
    out += envelope_.tail;
    return out;
  }

  std::string protobuf_request(std::span<const QueuedRecord> batch) const {
    std::string scope_logs = scope_field_;
    for (const auto& r : batch) pb::bytes_field(2, r.bytes, scope_logs);  // log_records
    std::string resource_logs = resource_;
    pb::bytes_field(2, scope_logs, resource_logs);  // ResourceLogs.scope_logs
    std::string request;
    pb::bytes_field(1, resource_logs, request);  // ExportLogsServiceRequest.resource_logs
    return request;
  }

  OtlpTarget target_;
  HttpClient client_;
  Envelope envelope_;        // json
  std::string resource_;     // protobuf: ResourceLogs.resource
  std::string scope_field_;  // protobuf: ScopeLogs.scope
};

}  // namespace

std::unique_ptr<Transport> make_otlp_transport(const OtlpTarget& target) {
  return std::make_unique<OtlpTransport>(target);
}

}  // namespace hydra::net
