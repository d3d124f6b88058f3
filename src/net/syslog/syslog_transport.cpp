#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "../../sink/fd_io.hpp"
#include "../record_text.hpp"
#include "../tls_client.hpp"
#include "hydra/net/syslog.hpp"

namespace hydra::net {
namespace {

using hydra::detail::errno_text;  // sink/fd_io.hpp

// The message without the line end the formatter put after it.
std::string_view message_of(const QueuedRecord& r) {
  return detail::without_line_end(r.bytes);
}

class SyslogTransport final : public Transport {
 public:
  explicit SyslogTransport(SyslogTarget target) : target_(std::move(target)) {
    if (target_.protocol == SyslogTarget::Protocol::tls) {
      tls_context_ = std::make_unique<detail::TlsContext>(
          detail::TlsOptions{target_.ca_file, target_.cert_file, target_.key_file});
    }
  }
  ~SyslogTransport() override { disconnect(); }

  std::string describe() const override {
    switch (target_.protocol) {
      case SyslogTarget::Protocol::udp:
        return "syslog udp " + target_.host + ":" + std::to_string(target_.port);
      case SyslogTarget::Protocol::tcp:
        return "syslog tcp " + target_.host + ":" + std::to_string(target_.port);
      case SyslogTarget::Protocol::unix_socket: return "syslog unix " + target_.path;
      case SyslogTarget::Protocol::tls: return "syslog tls " + peer();
    }
    return "syslog";
  }

  SendResult send(std::span<const QueuedRecord> batch) override {
    // A TLS server that closed the connection said so on it: found out
    // before the batch goes into it.
    if (tls_.open()) {
      if (const std::string why = tls_.check(); !why.empty()) disconnect();
    }
    if (fd_ < 0) {
      std::string why = connect();
      if (!why.empty()) return SendResult::retry(std::move(why));
    }
    if (target_.protocol == SyslogTarget::Protocol::tcp ||
        target_.protocol == SyslogTarget::Protocol::tls) {
      return send_stream(batch);
    }
    return send_datagrams(batch);
  }

 private:
  std::string peer() const { return target_.host + ":" + std::to_string(target_.port); }

  void disconnect() {
    tls_.close();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // The TLS handshake on the connected socket.
  std::string start_tls() {
    const std::string& name = target_.server_name.empty() ? target_.host : target_.server_name;
    const std::string why = tls_.start(*tls_context_, fd_, name, target_.timeout);
    return why.empty() ? why : "TLS handshake with " + peer() + ": " + why;
  }

  // Waits for `events` on fd_ within the timeout; false on timeout or error.
  bool wait(short events) {
    pollfd p{fd_, events, 0};
    for (;;) {
      const int n = ::poll(&p, 1, static_cast<int>(target_.timeout.count()));
      if (n < 0 && errno == EINTR) continue;
      return n > 0 && (p.revents & (events | POLLERR | POLLHUP)) != 0;
    }
  }

  std::string connect() {
    // Every socket is non-blocking: a reader that stalls makes a send wait
    // at most `timeout` (then it is retried), so the sender, and shutdown,
    // never hang on it.
    if (target_.protocol == SyslogTarget::Protocol::unix_socket) {
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      if (target_.path.size() >= sizeof addr.sun_path) return "path too long: " + target_.path;
      std::memcpy(addr.sun_path, target_.path.c_str(), target_.path.size() + 1);
      fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd_ < 0) return "socket: " + errno_text(errno);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int e = errno;
        disconnect();
        return "connect " + target_.path + ": " + errno_text(e);
      }
      return {};
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = target_.protocol == SyslogTarget::Protocol::udp ? SOCK_DGRAM : SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(target_.port);
    if (const int rc = ::getaddrinfo(target_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return "resolve " + target_.host + ": " + ::gai_strerror(rc);
    }
    std::string why = "no address for " + target_.host;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd_ < 0) {
        why = "socket: " + errno_text(errno);
        continue;
      }
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
      if (errno == EINPROGRESS && wait(POLLOUT)) {
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error == 0) break;
        why = "connect " + describe() + ": " + errno_text(error);
      } else {
        why = "connect " + describe() + ": " +
              (errno == EINPROGRESS ? std::string("timed out") : errno_text(errno));
      }
      disconnect();
    }
    ::freeaddrinfo(found);
    if (fd_ < 0) return why;
    if (target_.protocol != SyslogTarget::Protocol::tls) return {};
    why = start_tls();
    if (!why.empty()) disconnect();
    return why;
  }

  // RFC 6587 octet counting, the whole batch in as few writes as it takes.
  SendResult send_stream(std::span<const QueuedRecord> batch) {
    // One buffer for the batch, sized once and kept across batches (a
    // batch is about a megabyte: growing it as it fills cost the sender
    // half its time).
    std::size_t size = 0;
    for (const auto& r : batch) size += r.bytes.size() + 12;
    std::string& out = out_;
    out.clear();
    out.reserve(size);
    for (const auto& r : batch) {
      const std::string_view m = message_of(r);
      char digits[24];
      const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, m.size());
      out.append(digits, end);
      out += ' ';
      out += m;
    }
    if (tls_.open()) {
      if (std::string why = tls_.write_all(out); !why.empty()) {
        disconnect();
        return SendResult::retry("send to " + describe() + ": " + why);  // again whole
      }
      return SendResult::ok();
    }
    std::size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait(POLLOUT)) continue;
      const int e = n < 0 ? errno : EPIPE;
      disconnect();
      // Part of the batch may have reached the server: it goes again whole
      // (at least once).
      return SendResult::retry(
          "send to " + describe() + ": " +
          (n < 0 && (e == EAGAIN || e == EWOULDBLOCK) ? "timed out" : errno_text(e)));
    }
    return SendResult::ok();
  }

  // One message a datagram. A message the socket refuses for its size is
  // rejected alone; a refused peer (ECONNREFUSED: nothing listening) makes
  // the rest of the batch retryable.
  SendResult send_datagrams(std::span<const QueuedRecord> batch) {
    SendResult result;
    result.status = SendResult::Status::partial;
    bool all_ok = true;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string_view m = message_of(batch[i]);
      ssize_t n = -1;
      for (;;) {
        n = ::send(fd_, m.data(), m.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) &&
            wait(POLLOUT)) {
          continue;
        }
        break;
      }
      using O = SendResult::Item::Outcome;
      if (n >= 0) {
        result.items.push_back({O::delivered, {}});
      } else if (errno == EMSGSIZE) {
        all_ok = false;
        result.items.push_back({O::rejected, "message of " + std::to_string(m.size()) +
                                                 " bytes too large for a datagram"});
      } else {
        const std::string why = "send to " + describe() + ": " + errno_text(errno);
        disconnect();
        if (i == 0) return SendResult::retry(why);
        for (std::size_t k = i; k < batch.size(); ++k) result.items.push_back({O::retry, {}});
        return result;
      }
    }
    if (all_ok) return SendResult::ok();
    return result;
  }

  SyslogTarget target_;
  int fd_ = -1;
  std::unique_ptr<detail::TlsContext> tls_context_;  // tls
  std::string out_;                                  // send_stream()'s buffer
  detail::TlsSession tls_;                           // tls, while connected
};

}  // namespace

SyslogTarget::Protocol syslog_protocol(std::string_view name) {
  if (name == "udp") return SyslogTarget::Protocol::udp;
  if (name == "tcp") return SyslogTarget::Protocol::tcp;
  if (name == "unix") return SyslogTarget::Protocol::unix_socket;
  if (name == "tls") return SyslogTarget::Protocol::tls;
  throw std::invalid_argument("protocol '" + std::string(name) +
                              "' is not one (valid: udp, tcp, unix, tls)");
}

std::unique_ptr<Transport> make_syslog_transport(const SyslogTarget& target) {
  return std::make_unique<SyslogTransport>(target);
}

}  // namespace hydra::net
