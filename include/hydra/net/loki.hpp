// The `loki` destination: the Loki push API (POST {url}/loki/api/v1/push,
// JSON, optionally gzip-compressed) over one kept-alive connection
// (hydra/net/http.hpp).
//
// Each record is queued as its stream's labels and its line (the
// destination's formatted record) when it is written; a batch is grouped by
// label set into streams. Labels are low-cardinality only: service, layer,
// level and the static labels of the configuration, never a field.
//
// Delivery is at least once: a batch whose response was lost is sent again
// whole. A 400 that names the entries Loki refused (timestamp too old or too
// new, line too long) dead-letters only those and counts the others
// delivered; a 400 whose body cannot be matched to entries rejects the whole
// batch (docs/shipping.md). 429 and 5xx are retried, honouring Retry-After.
// No answer stops the destination: after a 400 the next batch goes as any.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hydra/net/delivery.hpp"
#include "hydra/net/http.hpp"
#include "hydra/net/network_sink.hpp"

namespace hydra::net {

struct LokiTarget {
  // Loki's base URL; the push path is added ("http://loki:3100").
  std::string url = "http://127.0.0.1:3100";
  // X-Scope-OrgID, for a multi-tenant Loki; empty: not sent.
  std::string tenant;
  // The `service` label; empty: the program's name.
  std::string service;
  // Static labels beside service, layer and level (names [a-zA-Z_][a-zA-Z0-9_]*).
  std::vector<std::pair<std::string, std::string>> labels;
  // timeout, ca_file, gzip (compression = gzip), headers.
  HttpOptions http;
};

// Whether `name` is a valid Loki (Prometheus) label name.
bool loki_label_name_valid(std::string_view name) noexcept;

// Queues, for each record, its stream's labels and its line: the formatted
// record without its final newline.
RecordEncoder make_loki_encoder(const LokiTarget& target);

// Sends batches of what make_loki_encoder(target) made.
std::unique_ptr<Transport> make_loki_transport(const LokiTarget& target);

// What a push's 400 body says of the batch (exposed for tests): per record,
// rejected (with Loki's message) or delivered; empty when the body cannot be
// matched to the batch's entries (a message about no entry of the batch, a
// message this does not know, or one cut short: "and N more errors").
std::vector<SendResult::Item> loki_rejections(std::string_view body,
                                              std::span<const QueuedRecord> batch);

}  // namespace hydra::net
