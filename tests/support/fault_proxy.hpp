// A TCP proxy for fault tests: it sits between a destination and its server
// (on 127.0.0.1, a port of its own) and, on command, refuses connections,
// stalls (takes bytes from the client but forwards none), slows down, or
// cuts a connection (a reset on both sides) once it has forwarded a given
// number of bytes to the server: in the middle of a batch, in the middle of
// a record. The server's answers always pass. One thread, poll().
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hydra::test {

class FaultProxy {
 public:
  enum class Mode : std::uint8_t {
    pass,    // forward both ways
    refuse,  // stop listening: connecting is refused (ECONNREFUSED); open ones pass
    stall,   // forward nothing to the server (the client's sends fill up and time out)
  };

  explicit FaultProxy(int server_port) : server_port_(server_port) {
    if (!listen_on(0) || ::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("fault proxy: ") + std::strerror(errno));
    }
    thread_ = std::thread([this] { run(); });
  }
  ~FaultProxy() {
    stop_ = true;
    wake();
    thread_.join();
    for (auto& c : conns_) close_pair(c, false);
    if (listener_ >= 0) ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }

  // Returns once the proxy's thread acts on it.
  void set_mode(Mode mode) {
    mode_ = mode;
    wake();
    while (applied_.load() != mode) std::this_thread::yield();
  }
  // The next connection (or the current one) is reset once `bytes` more
  // bytes have gone to the server; once only.
  void cut_after(std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    cut_budget_ = static_cast<std::int64_t>(bytes);
    wake();
  }
  // At most this many bytes a millisecond to the server (0: no limit).
  void set_rate(std::uint64_t bytes_per_ms) {
    rate_ = bytes_per_ms;
    wake();
  }
  // Resets every open connection now.
  void reset_all() {
    reset_all_ = true;
    wake();
  }

  std::uint64_t connections() const { return accepted_.load(); }
  std::uint64_t cuts() const { return cuts_.load(); }
  std::uint64_t forwarded() const { return forwarded_.load(); }  // to the server

 private:
  struct Pair {
    int client = -1;
    int server = -1;
    std::string to_server;  // read from the client, not yet forwarded
    std::string to_client;
    bool dead = false;
  };

  void wake() { [[maybe_unused]] auto n = ::write(wake_[1], "x", 1); }

  // Listens on 127.0.0.1:port (0: a free one, kept in port_).
  bool listen_on(int port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t len = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (listener_ >= 0) ::close(listener_);
      listener_ = -1;
      return false;
    }
    port_ = ntohs(a.sin_port);
    return true;
  }

  static void reset(int fd) {
    if (fd < 0) return;
    linger l{1, 0};  // close with a reset, as a crash or a middlebox would
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }
  void close_pair(Pair& p, bool with_reset) {
    if (with_reset) {
      reset(p.client);
      reset(p.server);
    } else {
      if (p.client >= 0) ::close(p.client);
      if (p.server >= 0) ::close(p.server);
    }
    p.client = p.server = -1;
    p.dead = true;
  }

  int connect_server() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(server_port_));
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (fd >= 0) ::close(fd);
      return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  void accept_all() {
    for (;;) {
      const int c = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;
      ++accepted_;
      const int s = connect_server();
      if (s < 0) {
        reset(c);
        continue;
      }
      conns_.push_back(Pair{c, s, {}, {}, false});
    }
  }

  // Forwards what `p` holds for the server, within the rate and the cut.
  void pump_to_server(Pair& p, std::uint64_t& allowance) {
    if (mode_ == Mode::stall || p.to_server.empty()) return;
    std::size_t n = std::min<std::size_t>(p.to_server.size(), allowance);
    bool cut = false;
    {
      std::lock_guard lock(mutex_);
      if (cut_budget_ >= 0 && static_cast<std::int64_t>(n) >= cut_budget_) {
        n = static_cast<std::size_t>(cut_budget_);
        cut = true;
      }
    }
    std::size_t done = 0;
    while (done < n) {
      const ssize_t w = ::send(p.server, p.to_server.data() + done, n - done, MSG_NOSIGNAL);
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    p.to_server.erase(0, done);
    forwarded_ += done;
    allowance -= std::min<std::uint64_t>(allowance, done);
    std::lock_guard lock(mutex_);
    if (cut_budget_ >= 0) cut_budget_ -= static_cast<std::int64_t>(done);
    if (cut && cut_budget_ == 0) {
      cut_budget_ = -1;
      ++cuts_;
      close_pair(p, true);
    }
  }

  void run() {
    std::vector<pollfd> fds;
    auto last = std::chrono::steady_clock::now();
    while (!stop_) {
      if (reset_all_.exchange(false)) {
        for (auto& c : conns_) close_pair(c, true);
      }
      std::erase_if(conns_, [](const Pair& p) { return p.dead; });
      if (mode_ == Mode::refuse && listener_ >= 0) {
        ::close(listener_);  // what waits in the backlog is reset
        listener_ = -1;
      } else if (mode_ != Mode::refuse && listener_ < 0) {
        listen_on(port_);  // the same port again
      }
      applied_ = mode_.load();
      fds.clear();
      fds.push_back({listener_, POLLIN, 0});
      fds.push_back({wake_[0], POLLIN, 0});
      for (auto& c : conns_) {
        // Read from the client only while little is held for the server, so
        // that a stall pushes back on the client's sends.
        const short client_events = static_cast<short>(
            (c.to_server.size() < (64u << 10) ? POLLIN : 0) | (c.to_client.empty() ? 0 : POLLOUT));
        fds.push_back({c.client, client_events, 0});
        fds.push_back({c.server, static_cast<short>(POLLIN), 0});
      }
      const bool limited = rate_ > 0 || mode_ == Mode::stall;
      ::poll(fds.data(), fds.size(), limited ? 1 : 100);
      char sink[64];
      while (::read(wake_[0], sink, sizeof sink) > 0) {
      }
      if ((fds[0].revents & POLLIN) != 0) accept_all();
      const auto now = std::chrono::steady_clock::now();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - last).count();
      std::uint64_t allowance = UINT64_MAX;
      if (rate_ > 0) {
        if (ms < 1) continue;
        allowance = rate_ * static_cast<std::uint64_t>(ms);
      }
      last = now;
      for (std::size_t i = 0; i < conns_.size(); ++i) {
        Pair& p = conns_[i];
        if (p.dead) continue;
        char buf[16384];
        // From the client.
        for (;;) {
          if (p.to_server.size() >= (64u << 10)) break;
          const ssize_t r = ::recv(p.client, buf, sizeof buf, 0);
          if (r > 0) {
            p.to_server.append(buf, static_cast<std::size_t>(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            // The client left: pass on what it sent, then close.
            pump_to_server(p, allowance);
            if (!p.dead && p.to_server.empty()) close_pair(p, false);
          }
          break;
        }
        if (p.dead) continue;
        pump_to_server(p, allowance);
        if (p.dead) continue;
        // From the server.
        for (;;) {
          const ssize_t r = ::recv(p.server, buf, sizeof buf, 0);
          if (r > 0) {
            p.to_client.append(buf, static_cast<std::size_t>(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) close_pair(p, false);
          break;
        }
        if (p.dead) continue;
        while (!p.to_client.empty()) {
          const ssize_t w = ::send(p.client, p.to_client.data(), p.to_client.size(), MSG_NOSIGNAL);
          if (w <= 0) break;
          p.to_client.erase(0, static_cast<std::size_t>(w));
        }
      }
    }
  }

  int server_port_;
  int listener_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{Mode::pass};
  std::atomic<Mode> applied_{Mode::pass};  // the mode the thread last acted on
  std::atomic<std::uint64_t> rate_{0};
  std::atomic<bool> reset_all_{false};
  std::mutex mutex_;
  std::int64_t cut_budget_ = -1;  // under mutex_; -1: no cut planned
  std::vector<Pair> conns_;       // the thread's
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> cuts_{0};
  std::atomic<std::uint64_t> forwarded_{0};
};

}  // namespace hydra::test
