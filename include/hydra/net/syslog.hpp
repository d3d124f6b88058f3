// The `syslog` destination's transport: RFC 5424 messages (the `syslog`
// format) to a syslog server over UDP (RFC 5426: one message a datagram),
// TCP with octet counting (RFC 6587: "LEN SP MSG"), or a local Unix
// datagram socket (/dev/log). TLS (RFC 5425) is not there yet.
//
// Delivery: UDP and the Unix socket have no acknowledgement (what the
// socket took counts as delivered); TCP neither, so a connection that fails
// in the middle of a batch has the whole batch sent again on a new one: at
// least once, a duplicate possible (docs/shipping.md).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "hydra/net/delivery.hpp"

namespace hydra::net {

struct SyslogTarget {
  enum class Protocol : std::uint8_t { udp, tcp, unix_socket };
  Protocol protocol = Protocol::udp;
  std::string host = "127.0.0.1";  // udp, tcp: a name or an address
  int port = 514;
  std::string path = "/dev/log";  // unix_socket
  // Connecting and sending, each.
  std::chrono::milliseconds timeout{10'000};
};

// "udp", "tcp", "unix"; throws std::invalid_argument naming the valid ones.
SyslogTarget::Protocol syslog_protocol(std::string_view name);

std::unique_ptr<Transport> make_syslog_transport(const SyslogTarget& target);

}  // namespace hydra::net
