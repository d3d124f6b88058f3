// The `elasticsearch` destination (OpenSearch too): the bulk API (POST
// {url}/_bulk, NDJSON), optionally gzip-compressed, over one kept-alive
// connection (hydra/net/http.hpp).
//
// Each record is a JSON document made when it is written (@timestamp,
// level, layer, logger, message, fields, source, thread: the json format's
// names, with the time as @timestamp), sent with a `create` action whose
// _id is the record's key (record_key(): the same for every retry and
// replay). A retry of a document Elasticsearch already has answers 409,
// which counts as delivered: effectively once. `create` also suits data
// streams (the default index, logs-hydra-default, is one).
//
// Whole-request 429 and 5xx are retried (honouring Retry-After), other 4xx
// rejected. Per item: 2xx and 409 delivered, 429 and 5xx retried (only
// those), other 4xx rejected with the error's type and reason.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "hydra/net/delivery.hpp"
#include "hydra/net/http.hpp"
#include "hydra/net/network_sink.hpp"

namespace hydra::net {

// What a destination's transport saw besides its counts.
struct ElasticsearchStats {
  // Items answered 409 (the document was already there: a retry or a replay
  // of a record it had), counted delivered.
  std::atomic<std::uint64_t> duplicates{0};
};

struct ElasticsearchTarget {
  // The cluster's base URL ("https://es.internal:9200").
  std::string url = "http://127.0.0.1:9200";
  // The index or data stream each document goes to.
  std::string index = "logs-hydra-default";
  // timeout, ca_file, gzip, headers (Authorization: ApiKey ... or Basic ...).
  HttpOptions http;
  // Shared with whoever wants to read it; made when null.
  std::shared_ptr<ElasticsearchStats> stats;
};

// "Authorization: Basic <base64(user:password)>"'s value.
std::string basic_authorization(std::string_view user, std::string_view password);

// The record as a JSON document (one line).
RecordEncoder make_elasticsearch_encoder();

// Sends batches of what make_elasticsearch_encoder() made.
std::unique_ptr<Transport> make_elasticsearch_transport(ElasticsearchTarget target);

}  // namespace hydra::net
