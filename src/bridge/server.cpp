// The bridge's network side, on Boost.Beast: one io_context on one thread
// runs the acceptor, every HTTP and WebSocket session, the hub and its tick
// timer, so that none of them needs a lock (only publish() and the logger
// pointer cross threads). Each WebSocket session has one write in flight
// and a queue the hub bounds (client_queue_bytes). The sessions are
// templates on their stream: a TCP stream, or with tls_cert and tls_key a
// TLS stream over it (OpenSSL, through Asio's ssl::context).
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <pthread.h>

#include <atomic>
#include <deque>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <thread>

#include "hydra/bridge/bridge.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/detail/percent.hpp"
#include "hydra/core/logger.hpp"

namespace hydra::bridge {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

namespace {

std::mutex g_running_mutex;
std::set<std::string> g_running;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kReadPiece = 64 * 1024;  // a frame is read in pieces of at most this
constexpr auto kHttpTimeout = std::chrono::seconds(30);

using hydra::detail::trim_blanks;

std::string cookie_value(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    const auto semi = cookies.find(';');
    const std::string_view part = trim_blanks(cookies.substr(0, semi));
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    if (semi == std::string_view::npos) break;
    cookies.remove_prefix(semi + 1);
  }
  return {};
}

std::string query_value(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return hydra::detail::percent_decoded(part.substr(name.size() + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string_view content_type(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  return "text/plain; charset=utf-8";
}

// A request path that names a file under the dashboard's folder, or empty.
std::string safe_file_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > 256) return {};
  if (path == "/") return "index.html";
  std::string_view rest = path.substr(1);
  for (const char c : rest) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == '/';
    if (!ok) return {};
  }
  if (rest.find("..") != std::string_view::npos || rest.find("//") != std::string_view::npos)
    return {};
  return std::string(rest);
}

constexpr std::string_view kPlaceholderPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>Hydra bridge</title></head>
<body><h1>Hydra bridge</h1>
<p>The dashboard is not installed here. The WebSocket of protocol v1 is at <code>/ws</code>,
the intake at <code>POST /intake</code>, the counters at <code>/healthz</code>.</p>
</body></html>
)";

struct Listen {
  std::string host;
  std::uint16_t port = 0;
};

Listen parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw BridgeError("bridge: listen '" + listen + "': expected host:port");
  }
  Listen l;
  l.host = listen.substr(0, colon);
  if (l.host.size() > 2 && l.host.front() == '[' && l.host.back() == ']') {
    l.host = l.host.substr(1, l.host.size() - 2);
  }
  if (l.host == "localhost") l.host = "127.0.0.1";
  const std::string port = listen.substr(colon + 1);
  char* end = nullptr;
  const unsigned long p = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p > 65535) {
    throw BridgeError("bridge: listen '" + listen + "': port '" + port + "' is not 0 to 65535");
  }
  l.port = static_cast<std::uint16_t>(p);
  return l;
}

// The server's TLS context: TLS 1.2 or later, the certificate chain and key
// of the options; an error names the option, the path and OpenSSL's reason.
std::unique_ptr<ssl::context> tls_context(const BridgeOptions& o) {
  if (o.tls_cert.empty() && o.tls_key.empty()) return nullptr;
  if (o.tls_cert.empty() || o.tls_key.empty()) {
    throw BridgeError(std::string("bridge: ") + (o.tls_cert.empty() ? "tls_key" : "tls_cert") +
                      " is set without " + (o.tls_cert.empty() ? "tls_cert" : "tls_key") +
                      ": TLS needs both (the certificate chain and its private key, PEM)");
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(o.tls_cert, ec);
  if (ec) throw BridgeError("bridge: tls_cert '" + o.tls_cert + "': " + ec.message());
  ctx->use_private_key_file(o.tls_key, ssl::context::pem, ec);
  // (OpenSSL checks here that the key is the certificate's: "key values mismatch".)
  if (ec) throw BridgeError("bridge: tls_key '" + o.tls_key + "': " + ec.message());
  return ctx;
}

std::string random_instance() {
  std::random_device rd;
  const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return fmt::format("{:016x}", v);
}

}  // namespace

struct Bridge::Impl {
  template <class Stream>
  class WsSession;
  template <class Stream>
  class HttpSession;

  explicit Impl(BridgeOptions o)
      : options(std::move(o)),
        ring(options.buffer_records, options.buffer_bytes),
        stream(!options.stream.empty()
                   ? options.stream
                   : (options.service.empty() ? std::string("hydra") : options.service) + "/" +
                         random_instance()),
        hub(options, stream, ring, make_callbacks()),
        acceptor(ioc),
        timer(ioc),
        tls(tls_context(options)),
        dashboard(find_dashboard(options.dashboard_dir)) {}

  // The folder served at /: the option's, else the installed dashboard or
  // this source tree's build of it, whichever has an index.html.
  static std::string find_dashboard(const std::string& configured) {
    if (!configured.empty()) return configured;
#ifdef HYDRA_BRIDGE_DASHBOARD_DIRS
    std::string_view dirs = HYDRA_BRIDGE_DASHBOARD_DIRS;
    while (!dirs.empty()) {
      const auto colon = dirs.find(':');
      const std::string dir(dirs.substr(0, colon));
      if (std::ifstream(dir + "/index.html").good()) return dir;
      if (colon == std::string_view::npos) break;
      dirs.remove_prefix(colon + 1);
    }
#endif
    return {};
  }

  Callbacks make_callbacks() {
    Callbacks cb;
    cb.intake = [this](const Identity& who, const ClientInfo& info,
                       std::vector<Submitted>& records) {
      std::shared_lock lock(logger_mutex);
      if (logger == nullptr) return false;
      auto layer = logger->layer(options.intake_layer);
      std::vector<Field> fields;
      for (const Submitted& s : records) {
        detail::record_fields(s.fields, fields);
        fields.push_back({"submitted_by", FieldValue(who.subject)});
        fields.push_back({"client.address", FieldValue(info.address)});
        layer.write(s.level, s.message, fields);
      }
      return true;
    };
    cb.auth_failed = [this](const ClientInfo& info, std::string_view reason) {
      std::shared_lock lock(logger_mutex);
      if (logger == nullptr) return;
      logger->with({{"client.address", info.address}, {"reason", reason}, {"bridge", stream}})
          .security("bridge: authentication failed");
    };
    return cb;
  }

  void start() {
    const Listen l = parse_listen(options.listen);
    boost::system::error_code ec;
    const auto address = net::ip::make_address(l.host, ec);
    if (ec) {
      throw BridgeError("bridge: listen '" + options.listen + "': '" + l.host +
                        "' is not an IP address (or localhost)");
    }
    if (!address.is_loopback() && options.credentials.open()) {
      throw BridgeError("bridge: listen '" + options.listen +
                        "' is not a loopback address: set api_keys or jwt_secret (an open "
                        "bridge serves only 127.0.0.1)");
    }
    const tcp::endpoint endpoint(address, l.port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw BridgeError("bridge: listen '" + options.listen + "': " + ec.message());
    bound_port = acceptor.local_endpoint().port();
    host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    own_origins = {scheme() + "://" + host + ":" + std::to_string(bound_port),
                   scheme() + "://localhost:" + std::to_string(bound_port)};
    keeping.store(options.keep_when_idle, std::memory_order_relaxed);
    accept();
    schedule_tick();
    thread = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "hydra-bridge");  // in top -H, perf, gdb
      ioc.run();
    });
    std::lock_guard lock(g_running_mutex);
    g_running.insert(url());
  }

  void stop() {
    {
      std::lock_guard lock(g_running_mutex);
      g_running.erase(url());
    }
    net::post(ioc, [this] {
      stopping = true;
      boost::system::error_code ec;
      acceptor.close(ec);
      hub.close_all();
      timer.cancel();
      // Give the close handshakes a moment, then stop regardless.
      auto deadline = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(500));
      deadline->async_wait([this, deadline](const boost::system::error_code&) { ioc.stop(); });
    });
    if (thread.joinable()) thread.join();
  }

  // Whether publish() keeps records: while a client is connected, for
  // resume_window after the last one left, or always (keep_when_idle).
  void update_keeping(Clock::time_point now) {
    if (hub.client_count() > 0) last_watched = now;
    keeping.store(options.keep_when_idle || hub.client_count() > 0 ||
                      now - last_watched < options.resume_window,
                  std::memory_order_relaxed);
  }

  std::string scheme() const {
    return tls ? "https" : "http";
  }
  std::string url() const {
    return scheme() + "://" + host + ":" + std::to_string(bound_port) + "/";
  }

  bool origin_allowed(std::string_view origin) const {
    if (origin.empty()) return true;  // not a browser; the token decides
    for (const auto& o : own_origins) {
      if (o == origin) return true;
    }
    for (const auto& o : options.allowed_origins) {
      if (o == "*" || o == origin) return true;
    }
    return false;
  }

  void accept();
  void schedule_tick() {
    timer.expires_after(options.batch_window);
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      const auto now = Clock::now();
      hub.tick(now);
      update_keeping(now);
      {
        std::lock_guard lock(stats_mutex);
        last_stats = hub.stats();
      }
      schedule_tick();
    });
  }

  const BridgeOptions options;
  Ring ring;
  const std::string stream;
  net::io_context ioc{1};
  Hub hub;
  tcp::acceptor acceptor;
  net::steady_timer timer;
  const std::unique_ptr<ssl::context> tls;  // null: plain TCP
  std::thread thread;
  std::uint16_t bound_port = 0;
  std::string host;
  std::vector<std::string> own_origins;
  const std::string dashboard;  // served at /; empty: a placeholder page
  bool stopping = false;
  std::atomic<bool> keeping{false};
  Clock::time_point last_watched = Clock::now() - std::chrono::hours(24 * 365);

  mutable std::shared_mutex logger_mutex;
  Logger* logger = nullptr;
  mutable std::mutex stats_mutex;
  HubStats last_stats;
};

// One WebSocket client: the Outbox the hub writes to.
template <class Stream>
class Bridge::Impl::WsSession : public Outbox,
                                public std::enable_shared_from_this<WsSession<Stream>> {
  using std::enable_shared_from_this<WsSession<Stream>>::shared_from_this;

 public:
  WsSession(Impl& bridge, Stream&& stream, ClientInfo info)
      : bridge_(bridge), ws_(std::move(stream)), info_(std::move(info)) {}

  void start(http::request<http::string_body> request) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::sec_websocket_protocol, "hydra.v1");
      res.set(http::field::server, "hydra-bridge");
    }));
    // The frame limit is enforced in on_read, which closes 1009 with its
    // reason; Beast's own limit (which closes without one) is only a backstop.
    ws_.read_message_max(bridge_.options.max_frame_bytes * 2 + 65536);
    if (bridge_.options.permessage_deflate) {
      // RFC 7692, when the client offers it. The frame limit above and in
      // on_read applies to what a message inflates to, so a small
      // compressed frame cannot become a huge one here.
      websocket::permessage_deflate deflate;
      deflate.server_enable = true;
      deflate.compLevel = 3;  // most of the gain on repetitive JSON, at a fraction of 8's CPU
      ws_.set_option(deflate);
    }
    ws_.control_callback([this](websocket::frame_type, beast::string_view) {
      if (id_ != 0) bridge_.hub.heard(id_, Clock::now());
    });
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->id_ = self->bridge_.hub.connect(self, self->info_, Clock::now());
      self->bridge_.update_keeping(Clock::now());  // from this record on
      if (self->id_ != 0) self->read();
    });
  }

  void send(std::string frame) override {
    if (closing_) return;
    queued_ += frame.size();
    queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void ping() override {
    if (closing_ || pinging_) return;
    pinging_ = true;
    ws_.async_ping({}, [self = shared_from_this()](beast::error_code) { self->pinging_ = false; });
  }

  void close(std::uint16_t code, std::string_view reason) override {
    if (closing_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code),
                                            beast::string_view(reason.data(), reason.size()));
    if (!writing_) do_close();
  }

  std::size_t queued_bytes() const override { return queued_; }

 private:
  void read() {
    ws_.async_read_some(
        buffer_, kReadPiece,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      finish();
      return;
    }
    if (buffer_.size() > bridge_.options.max_frame_bytes) {
      buffer_.consume(buffer_.size());
      close(1009, "frame_too_large");
      drain();
      return;
    }
    if (!ws_.is_message_done()) {
      read();
      return;
    }
    if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      close(1003, "binary_frame");
      drain();
      return;
    }
    const auto data = buffer_.data();
    const std::string_view text(static_cast<const char*>(data.data()), data.size());
    bridge_.hub.receive(id_, text, Clock::now());
    buffer_.consume(buffer_.size());
    read();
  }

  // After a close: reads (and drops) until the close handshake ends.
  void drain() {
    ws_.async_read_some(buffer_, kReadPiece,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          self->buffer_.consume(self->buffer_.size());
                          if (ec) {
                            self->finish();
                          } else {
                            self->drain();
                          }
                        });
  }

  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (closing_) do_close();
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->queued_ -= self->queue_.front().size();
                      self->bridge_.hub.recycle(std::move(self->queue_.front()));
                      self->queue_.pop_front();
                      if (ec) {
                        self->queue_.clear();
                        self->queued_ = 0;
                        self->writing_ = false;
                        return;
                      }
                      self->write_next();
                    });
  }

  void do_close() {
    if (close_sent_) return;
    close_sent_ = true;
    queue_.clear();
    queued_ = 0;
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {});
  }

  void finish() {
    if (id_ != 0) bridge_.hub.disconnect(id_);
    id_ = 0;
  }

  Impl& bridge_;
  websocket::stream<Stream> ws_;
  ClientInfo info_;
  beast::flat_buffer buffer_;
  Hub::ClientId id_ = 0;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  bool writing_ = false;
  bool pinging_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  websocket::close_reason close_reason_;
};

// One HTTP connection: files, /healthz, POST /intake, or the upgrade to /ws.
// Over TLS it begins with the handshake, in the same time limit as a request.
template <class Stream>
class Bridge::Impl::HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
  using std::enable_shared_from_this<HttpSession<Stream>>::shared_from_this;

 public:
  HttpSession(Impl& bridge, tcp::socket&& socket) requires(!kTls<Stream>)
      : bridge_(bridge), stream_(std::move(socket)) {}
  HttpSession(Impl& bridge, tcp::socket&& socket, ssl::context& tls) requires kTls<Stream>
      : bridge_(bridge), stream_(std::move(socket), tls) {}

  void start() {
    if constexpr (kTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(kHttpTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read();
                              });
    } else {
      read();
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(bridge_.options.max_frame_bytes);
    beast::get_lowest_layer(stream_).expires_after(kHttpTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      respond(simple(http::status::payload_too_large,
                     R"({"type":"error","code":"frame_too_large","message":"body over the limit"})",
                     "application/json"),
              false);
      return;
    }
    if (ec) return;  // closed, timed out or malformed: nothing to answer
    auto request = parser_->release();
    const std::string origin(request[http::field::origin]);
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = path_of(target);
    if (websocket::is_upgrade(request)) {
      upgrade(std::move(request), origin, path);
      return;
    }
    const bool keep = request.keep_alive();
    if (path == "/intake") {
      respond(intake(request, origin, target), keep);
    } else if (path == "/healthz" && request.method() == http::verb::get) {
      respond(simple(http::status::ok, healthz(), "application/json"), keep);
    } else if (request.method() == http::verb::get || request.method() == http::verb::head) {
      respond(file(path), keep);
    } else {
      respond(simple(http::status::method_not_allowed, "method not allowed\n", "text/plain"), keep);
    }
  }

  void upgrade(http::request<http::string_body> request, const std::string& origin,
               std::string_view path) {
    if (path != "/ws") {
      respond(simple(http::status::not_found, "the WebSocket is at /ws\n", "text/plain"), false);
      return;
    }
    if (!bridge_.origin_allowed(origin)) {
      respond(simple(http::status::forbidden, "origin not allowed\n", "text/plain"), false);
      return;
    }
    // Sec-WebSocket-Protocol: hydra.v1 and maybe hydra.token.<base64url>.
    bool speaks = false;
    ClientInfo info = client_info(request);
    std::string_view offered(request[http::field::sec_websocket_protocol].data(),
                             request[http::field::sec_websocket_protocol].size());
    while (!offered.empty()) {
      const auto comma = offered.find(',');
      const std::string_view p = trim_blanks(offered.substr(0, comma));
      if (p == "hydra.v1") speaks = true;
      if (p.substr(0, 12) == "hydra.token.") {
        if (auto t = detail::base64url_decode(p.substr(12))) info.token = std::move(*t);
      }
      if (comma == std::string_view::npos) break;
      offered.remove_prefix(comma + 1);
    }
    if (!speaks) {
      auto res = simple(http::status::upgrade_required,
                        "offer the subprotocol hydra.v1 (docs/bridge-protocol.md)\n", "text/plain");
      res.set(http::field::sec_websocket_protocol, "hydra.v1");
      respond(std::move(res), false);
      return;
    }
    std::make_shared<WsSession<Stream>>(bridge_, std::move(stream_), std::move(info))
        ->start(std::move(request));
  }

  ClientInfo client_info(const http::request<http::string_body>& request) {
    ClientInfo info;
    beast::error_code ec;
    const auto remote = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) info.address = remote.address().to_string() + ":" + std::to_string(remote.port());
    info.user_agent = std::string(request[http::field::user_agent].substr(0, 1024));
    const std::string_view cookies(request[http::field::cookie].data(),
                                   request[http::field::cookie].size());
    info.token = cookie_value(cookies, "hydra_token");
    return info;
  }

  http::response<http::string_body> intake(const http::request<http::string_body>& request,
                                           const std::string& origin, std::string_view target) {
    if (!bridge_.origin_allowed(origin)) {
      return simple(http::status::forbidden,
                    R"({"type":"error","code":"forbidden","message":"origin not allowed"})",
                    "application/json");
    }
    if (request.method() == http::verb::options) {
      auto res = simple(http::status::no_content, "", "text/plain");
      cors(res, origin);
      res.set(http::field::access_control_allow_methods, "POST");
      res.set(http::field::access_control_allow_headers, "content-type, authorization");
      return res;
    }
    if (request.method() != http::verb::post) {
      return simple(http::status::method_not_allowed, "POST only\n", "text/plain");
    }
    ClientInfo info = client_info(request);
    const std::string_view authorization(request[http::field::authorization].data(),
                                         request[http::field::authorization].size());
    if (authorization.substr(0, 7) == "Bearer ") {
      info.token = std::string(trim_blanks(authorization.substr(7)));
    } else if (auto q = query_value(target, "token"); !q.empty()) {
      info.token = std::move(q);
    }
    const HttpAnswer a = bridge_.hub.intake(request.body(), info, Clock::now());
    auto res = simple(static_cast<http::status>(a.status), a.body, "application/json");
    if (a.retry_after) res.set(http::field::retry_after, std::to_string(*a.retry_after));
    cors(res, origin);
    return res;
  }

  static void cors(http::response<http::string_body>& res, const std::string& origin) {
    if (origin.empty()) return;
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::vary, "Origin");
  }

  std::string healthz() {
    const HubStats s = bridge_.hub.stats();
    return fmt::format(
        R"({{"status":"ok","stream":"{}","next_seq":"{}","first_seq":"{}","clients":{},)"
        R"("connections":{},"records_sent":{},"frames_sent":{},"gaps":{{"slow_client":{},)"
        R"("evicted":{},"sampled":{}}},"auth_failures":{},"submitted":{{"accepted":{},)"
        R"("rejected":{},"rate_limited_batches":{}}},"filter_too_costly":{}}})",
        bridge_.stream, bridge_.ring.next_seq(), bridge_.ring.first_kept(), s.clients,
        s.connections, s.records_sent, s.frames_sent, s.gaps_slow_client, s.gaps_evicted,
        s.gaps_sampled, s.auth_failures, s.submitted_accepted, s.submitted_rejected,
        s.submit_rate_limited, s.filter_too_costly);
  }

  http::response<http::string_body> file(std::string_view path) {
    const std::string rel = safe_file_path(path);
    if (rel.empty()) return simple(http::status::not_found, "not found\n", "text/plain");
    if (bridge_.dashboard.empty()) {
      if (rel == "index.html") {
        return simple(http::status::ok, std::string(kPlaceholderPage), "text/html; charset=utf-8");
      }
      return simple(http::status::not_found, "not found\n", "text/plain");
    }
    std::ifstream in(bridge_.dashboard + "/" + rel, std::ios::binary);
    if (!in) return simple(http::status::not_found, "not found\n", "text/plain");
    std::ostringstream body;
    body << in.rdbuf();
    auto res = simple(http::status::ok, body.str(), content_type(rel));
    res.set(http::field::cache_control, "no-cache");
    return res;
  }

  static http::response<http::string_body> simple(http::status status, std::string body,
                                                  std::string_view type) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::server, "hydra-bridge");
    res.set(http::field::content_type, beast::string_view(type.data(), type.size()));
    res.set("X-Content-Type-Options", "nosniff");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  void respond(http::response<http::string_body> res, bool keep_alive) {
    res.keep_alive(keep_alive);
    auto shared = std::make_shared<http::response<http::string_body>>(std::move(res));
    http::async_write(
        stream_, *shared,
        [self = shared_from_this(), shared, keep_alive](beast::error_code ec, std::size_t) {
          if (ec) return;
          if (keep_alive) {
            self->read();
          } else if constexpr (kTls<Stream>) {
            self->stream_.async_shutdown([self](beast::error_code) {});
          } else {
            beast::error_code ignored;
            self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
          }
        });
  }

  Impl& bridge_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

void Bridge::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec || stopping) return;
    if (tls) {
      std::make_shared<HttpSession<TlsStream>>(*this, std::move(socket), *tls)->start();
    } else {
      std::make_shared<HttpSession<beast::tcp_stream>>(*this, std::move(socket))->start();
    }
    accept();
  });
}

Bridge::Bridge(BridgeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->start();
}

Bridge::~Bridge() {
  impl_->stop();
}

void Bridge::publish(const Record& record) {
  if (!impl_->keeping.load(std::memory_order_relaxed)) {
    impl_->ring.skip();
    return;
  }
  impl_->ring.push(std::make_shared<Entry>(record, impl_->options.tenant, impl_->options.service));
}

bool Bridge::publish(const Record& record, std::string_view tenant, std::string_view service,
                     std::uint64_t seq) {
  return impl_->ring.push(std::make_shared<Entry>(record, tenant, service), seq);
}

void Bridge::start_stream_at(std::uint64_t seq) {
  impl_->ring.start_at(seq);
}

void Bridge::attach(Logger* logger) {
  std::unique_lock lock(impl_->logger_mutex);
  impl_->logger = logger;
}

void Bridge::detach(Logger* logger) {
  std::unique_lock lock(impl_->logger_mutex);
  if (impl_->logger == logger) impl_->logger = nullptr;
}

std::string Bridge::url() const {
  return impl_->url();
}
std::uint16_t Bridge::port() const noexcept {
  return impl_->bound_port;
}
const std::string& Bridge::stream() const noexcept {
  return impl_->stream;
}
const BridgeOptions& Bridge::options() const noexcept {
  return impl_->options;
}
HubStats Bridge::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->last_stats;
}

std::vector<std::string> running_bridges() {
  std::lock_guard lock(g_running_mutex);
  return {g_running.begin(), g_running.end()};
}

}  // namespace hydra::bridge
