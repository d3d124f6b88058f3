// The `otlp` destination: OTLP/HTTP logs (opentelemetry.io/docs/specs/otlp)
// to a collector's /v1/logs, as protobuf (the default) or JSON, optionally
// gzip-compressed, over one kept-alive connection (hydra/net/http.hpp).
//
// Each record becomes an OTLP LogRecord when it is written (the encoder, on
// the caller's thread: NetworkSink's RecordEncoder); a batch goes out as one
// ExportLogsServiceRequest with one resource (service.name, host.name, what
// `resource` adds) and one scope, "hydra-logger".
//
// Delivery is at least once: a batch whose response was lost (a timeout, a
// reset) is sent again whole, so a duplicate is possible. A partial success
// (rejected_log_records N > 0) counts N records of the batch as rejected,
// never retried (docs/shipping.md).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hydra/core/level.hpp"
#include "hydra/net/delivery.hpp"
#include "hydra/net/http.hpp"
#include "hydra/net/network_sink.hpp"

namespace hydra {
struct Environment;  // hydra/config/detect.hpp
}  // namespace hydra

namespace hydra::net {

enum class OtlpEncoding : std::uint8_t { protobuf, json };

struct OtlpTarget {
  std::string endpoint = "http://127.0.0.1:4318/v1/logs";
  OtlpEncoding encoding = OtlpEncoding::protobuf;
  // timeout, ca_file, gzip (compression = gzip), headers.
  HttpOptions http;
  // The resource's attributes, in order (otlp_resource() makes the usual ones).
  std::vector<std::pair<std::string, std::string>> resource;
};

// "protobuf", "json"; throws std::invalid_argument naming the valid ones.
OtlpEncoding otlp_encoding(std::string_view name);

// The OTLP SeverityNumber of a level: trace 1, debug 5, info 9, warning 13,
// error 17, critical 21; security 13 (WARN, as its severity is warning's),
// audit and compliance 9 (INFO, as theirs is info's). severityText is the
// level's name ("SECURITY"), so they stay apart.
int otlp_severity_number(Level level) noexcept;

// The resource's attributes: service.name (`service_name`, else
// $OTEL_SERVICE_NAME, else a service.name among the attributes, else the
// program's name), host.name (the host's, unless given), then the
// `key=value` pairs of `extra` (the configuration's resource_attributes),
// then those of $OTEL_RESOURCE_ATTRIBUTES (values percent-decoded), then
// what environment detection found in `detected` (hydra/config/detect.hpp:
// service.version, the Kubernetes pod, namespace and node, the cloud's
// provider, platform and region); each key once, the first wins. The
// `otlp` destination passes detect_environment().
std::vector<std::pair<std::string, std::string>> otlp_resource(
    std::string service_name, const std::vector<std::string>& extra = {},
    const Environment* detected = nullptr);

// Encodes a record as one LogRecord: time, observed time (now), severity,
// body (the message), attributes (the record's fields, hydra.layer,
// logger.name, thread.id, code.file.path, code.function.name,
// code.line.number), traceId and spanId from the fields trace_id (32 hex
// digits) and span_id (16). JSON: a LogRecord object; protobuf: the
// message's bytes.
RecordEncoder make_otlp_encoder(OtlpEncoding encoding);

// Sends batches of what make_otlp_encoder(target.encoding) made.
std::unique_ptr<Transport> make_otlp_transport(const OtlpTarget& target);

}  // namespace hydra::net
