#include "tls_client.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "../sink/fd_io.hpp"

namespace hydra::net::detail {
namespace {

using hydra::detail::errno_text;  // sink/fd_io.hpp

// The reason of OpenSSL's latest error ("certificate verify failed").
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return reason != nullptr ? reason : "unknown TLS error";
}

void check_file(const char* option, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    throw std::invalid_argument(std::string(option) + " '" + path + "': " + errno_text(errno));
  }
}

[[noreturn]] void file_failed(const char* option, const std::string& path) {
  throw std::invalid_argument(std::string(option) + " '" + path + "': " + openssl_reason());
}

// Before each OpenSSL call, so that what is seen after it is its own.
void clear_errors() {
  ERR_clear_error();
  errno = 0;
}

bool is_ip_address(const std::string& name) {
  unsigned char address[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

}  // namespace

TlsContext::TlsContext(const TlsOptions& options) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) throw std::runtime_error("SSL_CTX_new: " + openssl_reason());
  try {
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    ERR_clear_error();
    if (!options.ca_file.empty()) {
      check_file("ca_file", options.ca_file);
      if (SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr) != 1) {
        file_failed("ca_file", options.ca_file);
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
      throw std::invalid_argument("the system's trust store: " + openssl_reason());
    }
    if (!options.cert_file.empty()) {
      check_file("cert_file", options.cert_file);
      if (SSL_CTX_use_certificate_chain_file(ctx_, options.cert_file.c_str()) != 1) {
        file_failed("cert_file", options.cert_file);
      }
      const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
      check_file("key_file", key);
      if (SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        file_failed("key_file", key);
      }
      if (SSL_CTX_check_private_key(ctx_) != 1) file_failed("key_file", key);
    } else if (!options.key_file.empty()) {
      throw std::invalid_argument("key_file '" + options.key_file + "' without a cert_file");
    }
  } catch (...) {
    SSL_CTX_free(ctx_);
    throw;
  }
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

void TlsSession::on_message(int write_p, int, int content_type, const void* buf, std::size_t len,
                            ssl_st*, void* arg) {
  if (write_p == 0 && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
      *static_cast<const unsigned char*>(buf) == SSL3_MT_CERTIFICATE_REQUEST) {
    static_cast<TlsSession*>(arg)->asked_for_certificate_ = true;
  }
}

std::string TlsSession::start(const TlsContext& context, int fd, const std::string& name,
                              std::chrono::milliseconds timeout) {
  close();
  context_ = context.get();
  fd_ = fd;
  timeout_ = timeout;
  asked_for_certificate_ = false;
  const auto begun = clock::now();
  ERR_clear_error();
  ssl_ = SSL_new(context.get());
  if (ssl_ == nullptr) return "SSL_new: " + openssl_reason();
  SSL_set_msg_callback(ssl_, &TlsSession::on_message);
  SSL_set_msg_callback_arg(ssl_, this);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool named = false;
  if (is_ip_address(name)) {
    named = X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1;
  } else {
    // SNI carries host names only (RFC 6066), never an address.
    named = X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) == 1 &&
            SSL_set_tlsext_host_name(ssl_, name.c_str()) == 1;
  }
  if (!named || SSL_set_fd(ssl_, fd) != 1) {
    const std::string why = "cannot check the name '" + name + "': " + openssl_reason();
    close();
    return why;
  }
  for (;;) {
    clear_errors();
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return asked_for_certificate_ ? await_verdict(clock::now() - begun) : "";
    if (std::string why = wait_or_fail(rc); !why.empty()) {
      close();
      return why;
    }
  }
}

std::string TlsSession::write_all(std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    clear_errors();
    std::size_t n = 0;
    const int rc = SSL_write_ex(ssl_, bytes.data() + sent, bytes.size() - sent, &n);
    if (rc == 1) {
      sent += n;
      continue;
    }
    if (std::string why = wait_or_fail(rc); !why.empty()) return why;
  }
  return {};
}

std::string TlsSession::check() {
  char ignored[512];
  for (;;) {
    clear_errors();
    std::size_t n = 0;
    const int rc = SSL_read_ex(ssl_, ignored, sizeof ignored, &n);
    if (rc == 1) continue;
    const int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return {};
    return wait_or_fail(rc);  // not a want: it does not wait
  }
}

std::string TlsSession::await_verdict(clock::duration handshake) {
  // The server's refusal leaves it about one round trip after the client's
  // last handshake message; the handshake took at least one.
  const auto bound = std::min<clock::duration>(
      std::max<clock::duration>(2 * handshake, std::chrono::milliseconds(100)), timeout_);
  pollfd p{fd_, POLLIN, 0};
  const auto deadline = clock::now() + bound;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    const int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(left, 0)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};  // silence: accepted
    std::string why = check();
    if (!why.empty()) {
      close();
      const bool has_certificate = SSL_CTX_get0_certificate(context_) != nullptr;
      return "the server refused the connection after the handshake (" + why + "): " +
             (has_certificate ? "it did not accept the client certificate (cert_file)"
                              : "it asked for a client certificate, and there is none (cert_file)");
    }
    if (clock::now() >= deadline) return {};
  }
}

void TlsSession::close() {
  if (ssl_ == nullptr) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // close_notify, if the socket takes it now
  SSL_free(ssl_);
  ssl_ = nullptr;
  ERR_clear_error();
}

std::string TlsSession::wait_or_fail(int rc) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ: return wait(POLLIN) ? std::string() : "timed out";
    case SSL_ERROR_WANT_WRITE: return wait(POLLOUT) ? std::string() : "timed out";
    case SSL_ERROR_ZERO_RETURN: return "the server closed the connection";
    case SSL_ERROR_SYSCALL:
      return saved_errno != 0 ? errno_text(saved_errno) : "the server closed the connection";
    case SSL_ERROR_SSL: {
      const unsigned long e = ERR_peek_last_error();
      std::string why = openssl_reason();
      if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        why += ": ";
        why += X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
      }
      return why;
    }
    default: return openssl_reason();
  }
}

bool TlsSession::wait(short events) const {
  pollfd p{fd_, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & (events | POLLERR | POLLHUP)) != 0;
  }
}

}  // namespace hydra::net::detail
