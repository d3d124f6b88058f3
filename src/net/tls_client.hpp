// A TLS client over a connected non-blocking socket, for the stream
// transports (syslog over TLS, RFC 5425), with OpenSSL: the server's
// certificate always verified (against a CA file, else the system's trust
// store) and its name checked; a client certificate when one is given.
// Internal to hydra_net: not a public header.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX and SSL, kept out of this header
struct ssl_st;

namespace hydra::net::detail {

struct TlsOptions {
  std::string ca_file;    // PEM; empty: the system's trust store
  std::string cert_file;  // the client's certificate (PEM, chain after it); empty: none
  std::string key_file;   // its private key (PEM); empty: in cert_file
};

// What every connection shares: the trust store, the client certificate,
// the protocol versions (TLS 1.2 and later).
class TlsContext {
 public:
  // Throws std::invalid_argument naming the option, the file and the reason
  // when a file cannot be read or the key does not match the certificate.
  explicit TlsContext(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* get() const { return ctx_; }

 private:
  ssl_ctx_st* ctx_ = nullptr;
};

// One connection. Every wait for the socket is at most `timeout`. The
// functions return why they failed ("certificate verify failed: self-signed
// certificate", "timed out"), empty on success; the socket is not owned.
class TlsSession {
 public:
  TlsSession() = default;
  ~TlsSession() { close(); }
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // The handshake, as the client of the server called `name` (a host name,
  // also sent as SNI, or an IP address): its certificate must be valid and
  // for that name. When the server asks for a client certificate, the
  // handshake is followed by a wait for its verdict: a server may refuse a
  // certificate (or its absence) only after the handshake, by an alert or
  // by closing (rsyslog does), and records sent at once would be lost. It
  // waits twice as long as the handshake took (at least 100 ms, at most
  // the timeout); silence means yes.
  std::string start(const TlsContext& context, int fd, const std::string& name,
                    std::chrono::milliseconds timeout);
  // All of `bytes`.
  std::string write_all(std::string_view bytes);
  // Reads what the server sent, without waiting: empty while the
  // connection is good; else why not (an alert, a close). A syslog server
  // says nothing, so anything else it sends is ignored.
  std::string check();
  // Sends close_notify if it can without waiting, and frees the session.
  void close();
  bool open() const { return ssl_ != nullptr; }

 private:
  static void on_message(int write_p, int version, int content_type, const void* buf,
                         std::size_t len, ssl_st* ssl, void* arg);
  // After an OpenSSL call that returned `rc`: waits for what it needs and
  // returns empty (call again), or why the connection failed.
  std::string wait_or_fail(int rc);
  bool wait(short events) const;
  using clock = std::chrono::steady_clock;
  std::string await_verdict(clock::duration handshake);

  ssl_ctx_st* context_ = nullptr;
  ssl_st* ssl_ = nullptr;
  int fd_ = -1;
  std::chrono::milliseconds timeout_{0};
  bool asked_for_certificate_ = false;
};

}  // namespace hydra::net::detail
