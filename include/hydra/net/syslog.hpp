// The `syslog` destination's transport: RFC 5424 messages (the `syslog`
// format) to a syslog server over UDP (RFC 5426: one message a datagram),
// TCP with octet counting (RFC 6587: "LEN SP MSG"), or a local Unix
// datagram socket (/dev/log), or TLS (RFC 5425: TCP's framing inside TLS
// 1.2 or 1.3, with OpenSSL).
//
// Delivery: UDP and the Unix socket have no acknowledgement (what the
// socket took counts as delivered); TCP and TLS neither, so a connection
// that fails in the middle of a batch has the whole batch sent again on a
// new one: at least once, a duplicate possible (docs/shipping.md).
//
// TLS: the server's certificate is always verified, against `ca_file` or
// else the system's trust store, and must be for `server_name` (else
// `host`). A failed handshake (an untrusted or wrong certificate included)
// is retryable, like a refused connection: the engine keeps trying, and its
// last_error() says why ("TLS handshake with logs:6514: certificate verify
// failed: self-signed certificate").
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "hydra/net/delivery.hpp"

namespace hydra::net {

struct SyslogTarget {
  enum class Protocol : std::uint8_t { udp, tcp, unix_socket, tls };
  Protocol protocol = Protocol::udp;
  std::string host = "127.0.0.1";  // udp, tcp, tls: a name or an address
  int port = 514;                  // tls: usually 6514
  std::string path = "/dev/log";   // unix_socket
  // Connecting, the TLS handshake, and sending, each.
  std::chrono::milliseconds timeout{10'000};
  // tls: the CA certificates (PEM) the server's must chain to; empty: the
  // system's trust store.
  std::string ca_file;
  // tls: a client certificate (PEM, its chain after it) and its key (empty:
  // in cert_file), for a server that asks for one.
  std::string cert_file;
  std::string key_file;
  // tls: the name the server's certificate must be for, and the SNI;
  // empty: host.
  std::string server_name;
};

// "udp", "tcp", "unix", "tls"; throws std::invalid_argument naming the valid ones.
SyslogTarget::Protocol syslog_protocol(std::string_view name);

// Throws std::invalid_argument ("ca_file '/etc/x.pem': No such file or
// directory") when a TLS file cannot be loaded.
std::unique_ptr<Transport> make_syslog_transport(const SyslogTarget& target);

}  // namespace hydra::net
