#include "hydra/net/destinations.hpp"

#include <stdexcept>
#include <vector>

#include "hydra/config/detect.hpp"
#include "hydra/core/error.hpp"
#include "hydra/net/elasticsearch.hpp"
#include "hydra/net/loki.hpp"
#include "hydra/net/nats.hpp"
#include "hydra/net/network_sink.hpp"
#include "hydra/net/otlp.hpp"
#include "hydra/net/syslog.hpp"
#include "record_text.hpp"

namespace hydra::net {
namespace {

using plugin::OptionSpec;
using plugin::OptionType;

std::vector<OptionSpec> common_options() {
  const double kDay = 24.0 * 3600 * 1000;
  return {
      {"queue_max_bytes", OptionType::integer, false, "8388608",
       "the queue's bound in bytes of formatted records", 1024, 1e12},
      {"overflow", OptionType::string, false, "drop_newest",
       "when the queue is full: block, drop_newest, drop_oldest or spool"},
      {"batch_max_records", OptionType::integer, false, "1000", "records a batch holds at most", 1,
       1e6},
      {"batch_max_bytes", OptionType::integer, false, "1048576", "bytes a batch holds at most", 1,
       1e9},
      {"linger", OptionType::duration, false, "200ms", "how long a batch waits to fill", 0, 60'000},
      {"retry_initial", OptionType::duration, false, "200ms", "the first retry's wait, at most", 1,
       kDay},
      {"retry_max", OptionType::duration, false, "30s", "any retry's wait, at most", 1, kDay},
      {"retry_max_elapsed", OptionType::duration, false, "0",
       "give a batch up after retrying this long (0: never; with a spool it waits there)", 0,
       30 * kDay},
      {"spool_dir", OptionType::string, false, std::nullopt,
       "a directory for the disk spool (none: no spool)"},
      {"spool_max_size", OptionType::integer, false, "268435456", "the spool's hard cap in bytes",
       65536, 1e13},
      {"dead_letter_path", OptionType::string, false, std::nullopt,
       "JSON Lines of what the destination rejects for good, with the reason"},
  };
}

Overflow overflow_of(std::string_view name) {
  if (name == "block") return Overflow::block;
  if (name == "drop_newest") return Overflow::drop_newest;
  if (name == "drop_oldest") return Overflow::drop_oldest;
  if (name == "spool") return Overflow::spool;
  throw ConfigError("option 'overflow': '" + std::string(name) +
                    "' is not a policy (valid: block, drop_newest, drop_oldest, spool)");
}

// "Name=value" (a header, a resource attribute) split at its first '='.
std::pair<std::string, std::string> pair_of(std::string_view option, std::string_view item) {
  const auto eq = item.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw ConfigError("option '" + std::string(option) + "': '" + std::string(item) +
                      "' is not name=value");
  }
  return {std::string(item.substr(0, eq)), std::string(item.substr(eq + 1))};
}

// The options every HTTP destination shares: compression, timeout, ca_file.
// zstd only where the API takes it (hydra/net/http.hpp).
void http_options(const plugin::Options& o, HttpOptions& http, bool zstd_allowed = false) {
  try {
    http.compression = http_compression(o.string("compression"), zstd_allowed);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("option ") + e.what());
  }
  http.timeout = o.duration("timeout");
  if (o.has("ca_file")) http.ca_file = std::string(o.string("ca_file"));
}

// delivery_options() and `senders`; the destination's name from a
// transport `make` makes (nothing is connected until a send).
DeliveryOptions http_delivery_options(const plugin::Options& o, const TransportFactory& make) {
  DeliveryOptions d = delivery_options(o, make()->describe());
  d.senders = static_cast<std::size_t>(o.integer("senders"));
  return d;
}

// The HTTP destinations' options. The order of batches does not matter to
// their APIs, so they take `senders`.
std::vector<OptionSpec> http_option_specs(bool zstd_allowed = false) {
  return {
      {"senders", OptionType::integer, false, "1",
       "sender threads, each with its own connection (more than 1: batches in no set order)", 1,
       64},
      {"compression", OptionType::string, false, "none",
       zstd_allowed ? "none, gzip or zstd" : "none or gzip"},
      {"timeout", OptionType::duration, false, "10s", "a request, connecting included", 1, 600'000},
      {"ca_file", OptionType::string, false, std::nullopt,
       "https: a PEM file of CAs to verify the server by (default: the system's)"},
  };
}

// `otlp`: OTLP/HTTP logs (hydra/net/otlp.hpp).
void register_otlp(plugin::Registry& registry) {
  plugin::TypeInfo otlp;
  otlp.name = "otlp";
  otlp.description = "OTLP/HTTP logs (protobuf or JSON) to an OpenTelemetry collector";
  otlp.origin = "built-in";
  otlp.default_format = "text";  // unused: each record is encoded as an OTLP LogRecord
  otlp.options = {
      {"endpoint", OptionType::string, false, "http://127.0.0.1:4318/v1/logs",
       "the collector's logs URL (http or https)"},
      {"encoding", OptionType::string, false, "protobuf", "protobuf or json"},
      {"headers", OptionType::string_list, false, std::nullopt,
       "Name=value headers sent with every request"},
      {"service_name", OptionType::string, false, std::nullopt,
       "the resource's service.name (default: $OTEL_SERVICE_NAME, else the program's name)"},
      {"resource_attributes", OptionType::string_list, false, std::nullopt,
       "key=value attributes of the resource, besides service.name and host.name"},
  };
  for (auto& o : http_option_specs(/*zstd_allowed=*/true)) otlp.options.push_back(std::move(o));
  for (auto& o : common_options()) otlp.options.push_back(std::move(o));
  registry.add_sink(std::move(otlp), [](const plugin::Options& o) -> std::shared_ptr<Sink> {
    OtlpTarget target;
    target.endpoint = std::string(o.string("endpoint"));
    try {
      target.encoding = otlp_encoding(o.string("encoding"));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("option ") + e.what());
    }
    http_options(o, target.http, /*zstd_allowed=*/true);
    if (o.has("headers")) {
      for (const auto& h : o.list("headers")) target.http.headers.push_back(pair_of("headers", h));
    }
    std::vector<std::string> extra;
    if (o.has("resource_attributes")) {
      extra = o.list("resource_attributes");
      for (const auto& a : extra) (void)pair_of("resource_attributes", a);
    }
    const Environment detected = detect_environment();
    target.resource = otlp_resource(
        o.has("service_name") ? std::string(o.string("service_name")) : "", extra, &detected);
    const TransportFactory make = [target] { return make_otlp_transport(target); };
    return std::make_shared<NetworkSink>(http_delivery_options(o, make), make,
                                         std::chrono::seconds(5), std::chrono::seconds(5),
                                         make_otlp_encoder(target.encoding));
  });
}

// `nats`: JetStream (hydra/net/nats.hpp).
void register_nats(plugin::Registry& registry) {
  plugin::TypeInfo nats;
  nats.name = "nats";
  nats.description =
      "NATS JetStream: a message a record on hydra.logs.<tenant>.<service>.<layer>, "
      "acknowledged, deduplicated by Nats-Msg-Id";
  nats.origin = "built-in";
  nats.default_format = "json";
  nats.options = {
      {"url", OptionType::string, false, "nats://127.0.0.1:4222",
       "the server (a comma-separated list is fine)"},
      {"tenant", OptionType::string, false, "default", "the subject's tenant token"},
      {"service", OptionType::string, false, std::nullopt,
       "the subject's service token (default: the program's name)"},
      {"stream", OptionType::string, false, std::nullopt,
       "a stream to create with the subjects hydra.logs.> if it does not exist"},
      {"credentials", OptionType::string, false, std::nullopt,
       "a NATS credentials file (user JWT and NKey seed)"},
      {"timeout", OptionType::duration, false, "10s",
       "connecting, and waiting for a batch's acknowledgements, each", 1, 600'000},
  };
  for (auto& o : common_options()) nats.options.push_back(std::move(o));
  registry.add_sink(std::move(nats), [](const plugin::Options& o) -> std::shared_ptr<Sink> {
    NatsTarget target;
    target.url = std::string(o.string("url"));
    if (o.has("stream")) target.stream = std::string(o.string("stream"));
    if (o.has("credentials")) target.credentials = std::string(o.string("credentials"));
    target.timeout = o.duration("timeout");
    std::string service = o.has("service") ? std::string(o.string("service")) : std::string();
    if (service.empty()) service = detail::program_name();
    auto transport = make_nats_transport(target);
    const std::string name = transport->describe();
    return std::make_shared<NetworkSink>(delivery_options(o, name), std::move(transport),
                                         std::chrono::seconds(5), std::chrono::seconds(5),
                                         nats_encoder(std::string(o.string("tenant")), service));
  });
}

// `loki`: the Loki push API (hydra/net/loki.hpp).
void register_loki(plugin::Registry& registry) {
  plugin::TypeInfo loki;
  loki.name = "loki";
  loki.description = "the Loki push API: a stream per label set (service, layer, level)";
  loki.origin = "built-in";
  loki.default_format = "json";  // each entry's line
  loki.options = {
      {"url", OptionType::string, false, "http://127.0.0.1:3100",
       "Loki's base URL (http or https); /loki/api/v1/push is added"},
      {"tenant", OptionType::string, false, std::nullopt,
       "X-Scope-OrgID, for a multi-tenant Loki (default: not sent)"},
      {"service", OptionType::string, false, std::nullopt,
       "the service label (default: the program's name)"},
      {"labels", OptionType::string_list, false, std::nullopt,
       "static key=value labels beside service, layer and level"},
  };
  for (auto& o : http_option_specs()) loki.options.push_back(std::move(o));
  for (auto& o : common_options()) loki.options.push_back(std::move(o));
  registry.add_sink(std::move(loki), [](const plugin::Options& o) -> std::shared_ptr<Sink> {
    LokiTarget target;
    target.url = std::string(o.string("url"));
    if (o.has("tenant")) target.tenant = std::string(o.string("tenant"));
    if (o.has("service")) target.service = std::string(o.string("service"));
    if (o.has("labels")) {
      for (const auto& l : o.list("labels")) {
        auto label = pair_of("labels", l);
        if (!loki_label_name_valid(label.first) || label.first == "service" ||
            label.first == "layer" || label.first == "level") {
          throw ConfigError("option 'labels': '" + label.first +
                            "' is not a label name of its own ([a-zA-Z_][a-zA-Z0-9_]*, not "
                            "service, layer or level)");
        }
        target.labels.push_back(std::move(label));
      }
    }
    http_options(o, target.http);
    const TransportFactory make = [target] { return make_loki_transport(target); };
    return std::make_shared<NetworkSink>(http_delivery_options(o, make), make,
                                         std::chrono::seconds(5), std::chrono::seconds(5),
                                         make_loki_encoder(target));
  });
}

// `elasticsearch`: the bulk API, Elasticsearch or OpenSearch
// (hydra/net/elasticsearch.hpp).
void register_elasticsearch(plugin::Registry& registry) {
  plugin::TypeInfo es;
  es.name = "elasticsearch";
  es.description = "the Elasticsearch (or OpenSearch) bulk API: create, _id the record's key";
  es.origin = "built-in";
  es.default_format = "json";  // unused: each record is encoded as a document
  es.options = {
      {"url", OptionType::string, false, "http://127.0.0.1:9200",
       "the cluster's base URL (http or https); /_bulk is added"},
      {"index", OptionType::string, false, "logs-hydra-default", "the index or data stream"},
      {"api_key", OptionType::string, false, std::nullopt,
       "sent as Authorization: ApiKey <api_key> (the encoded key)"},
      {"username", OptionType::string, false, std::nullopt, "basic authentication's user"},
      {"password", OptionType::string, false, std::nullopt, "basic authentication's password"},
  };
  for (auto& o : http_option_specs()) es.options.push_back(std::move(o));
  for (auto& o : common_options()) es.options.push_back(std::move(o));
  registry.add_sink(std::move(es), [](const plugin::Options& o) -> std::shared_ptr<Sink> {
    ElasticsearchTarget target;
    target.url = std::string(o.string("url"));
    target.index = std::string(o.string("index"));
    if (target.index.empty()) throw ConfigError("option 'index': empty");
    http_options(o, target.http);
    if (o.has("api_key") && o.has("username")) {
      throw ConfigError("options 'api_key' and 'username': one or the other, not both");
    }
    if (o.has("username") != o.has("password")) {
      throw ConfigError("options 'username' and 'password': both or neither");
    }
    if (o.has("api_key")) {
      target.http.headers.emplace_back("Authorization",
                                       "ApiKey " + std::string(o.string("api_key")));
    } else if (o.has("username")) {
      target.http.headers.emplace_back(
          "Authorization", basic_authorization(o.string("username"), o.string("password")));
    }
    const TransportFactory make = [target] { return make_elasticsearch_transport(target); };
    return std::make_shared<NetworkSink>(http_delivery_options(o, make), make,
                                         std::chrono::seconds(5), std::chrono::seconds(5),
                                         make_elasticsearch_encoder());
  });
}

}  // namespace

DeliveryOptions delivery_options(const plugin::Options& o, std::string name) {
  DeliveryOptions d;
  d.name = std::move(name);
  d.queue_max_bytes = static_cast<std::size_t>(o.integer("queue_max_bytes"));
  d.overflow = overflow_of(o.string("overflow"));
  d.batch_max_records = static_cast<std::size_t>(o.integer("batch_max_records"));
  d.batch_max_bytes = static_cast<std::size_t>(o.integer("batch_max_bytes"));
  d.linger = o.duration("linger");
  d.retry = {o.duration("retry_initial"), o.duration("retry_max")};
  d.retry_max_elapsed = o.duration("retry_max_elapsed");
  if (o.has("spool_dir") && !o.string("spool_dir").empty()) {
    SpoolOptions s;
    s.dir = std::string(o.string("spool_dir"));
    s.max_bytes = static_cast<std::uint64_t>(o.integer("spool_max_size"));
    s.segment_bytes = std::min<std::uint64_t>(s.segment_bytes, s.max_bytes / 4);
    d.spool = s;
  } else if (d.overflow == Overflow::spool) {
    throw ConfigError("option 'overflow': 'spool' needs a spool_dir");
  }
  if (o.has("dead_letter_path")) d.dead_letter_path = std::string(o.string("dead_letter_path"));
  return d;
}

void register_destinations(plugin::Registry& registry) {
  plugin::TypeInfo syslog;
  syslog.name = "syslog";
  syslog.description =
      "RFC 5424 to a syslog server over UDP, TCP (octet counting), TLS or a Unix socket";
  syslog.origin = "built-in";
  syslog.default_format = "syslog";
  syslog.options = {
      {"protocol", OptionType::string, false, "udp", "udp, tcp, tls or unix"},
      {"host", OptionType::string, false, "127.0.0.1", "the server (udp, tcp, tls)"},
      {"port", OptionType::integer, false, std::nullopt,
       "the server's port (udp, tcp: 514; tls: 6514)", 1, 65535},
      {"socket_path", OptionType::string, false, "/dev/log", "the local socket (unix)"},
      {"timeout", OptionType::duration, false, "10s",
       "connecting, the TLS handshake and sending, each", 1, 600'000},
      {"ca_file", OptionType::string, false, std::nullopt,
       "tls: the CA certificates (PEM) to verify the server's with (none: the system's)"},
      {"cert_file", OptionType::string, false, std::nullopt,
       "tls: a client certificate (PEM), for a server that asks for one"},
      {"key_file", OptionType::string, false, std::nullopt,
       "tls: the client certificate's key (PEM; none: in cert_file)"},
      {"server_name", OptionType::string, false, std::nullopt,
       "tls: the name the server's certificate must be for, and SNI (none: host)"},
  };
  for (auto& o : common_options()) syslog.options.push_back(std::move(o));
  registry.add_sink(std::move(syslog), [](const plugin::Options& o) -> std::shared_ptr<Sink> {
    SyslogTarget target;
    target.host = std::string(o.string("host"));
    target.path = std::string(o.string("socket_path"));
    target.timeout = o.duration("timeout");
    target.ca_file = std::string(o.string("ca_file"));
    target.cert_file = std::string(o.string("cert_file"));
    target.key_file = std::string(o.string("key_file"));
    target.server_name = std::string(o.string("server_name"));
    std::unique_ptr<Transport> transport;
    try {
      target.protocol = syslog_protocol(o.string("protocol"));
      const bool tls = target.protocol == SyslogTarget::Protocol::tls;
      target.port = o.has("port") ? static_cast<int>(o.integer("port")) : tls ? 6514 : 514;
      transport = make_syslog_transport(target);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("option ") + e.what());
    }
    const std::string name = transport->describe();
    return std::make_shared<NetworkSink>(delivery_options(o, name), std::move(transport));
  });
  register_otlp(registry);
  register_nats(registry);
  register_loki(registry);
  register_elasticsearch(registry);
}

}  // namespace hydra::net
