#include "hydra/net/destinations.hpp"

#include <stdexcept>
#include <vector>

#include "hydra/core/error.hpp"
#include "hydra/net/network_sink.hpp"
#include "hydra/net/syslog.hpp"

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
}

}  // namespace hydra::net
