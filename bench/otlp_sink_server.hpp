// A minimal OTLP/HTTP logs receiver for hydra-ship-bench: HTTP/1.1 on
// 127.0.0.1 (an ephemeral port), keep-alive, one thread per connection.
// It reads each request's Content-Length body, counts the requests, the body
// bytes and the LogRecords in them, and answers 200 with an empty
// ExportLogsServiceResponse: `{}` for JSON, an empty body for protobuf. Just
// enough to keep up with a sender, and to check its counts; not a collector
// (no chunked bodies, no gzip, no validation beyond the framing).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace hydra::bench {

class OtlpSinkServer {
 public:
  OtlpSinkServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error(std::string("OTLP receiver: ") + std::strerror(errno));
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~OtlpSinkServer() {
    stopping_ = true;
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (const int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : handlers_) t.join();
    ::close(listen_fd_);
  }
  OtlpSinkServer(const OtlpSinkServer&) = delete;
  OtlpSinkServer& operator=(const OtlpSinkServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/logs"; }
  std::uint64_t requests() const { return requests_.load(); }
  std::uint64_t body_bytes() const { return body_bytes_.load(); }
  std::uint64_t records() const { return records_.load(); }
  // Requests whose body could not be read as OTLP (records not counted).
  std::uint64_t malformed() const { return malformed_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      handlers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string in;
    char buf[1 << 16];
    for (;;) {
      const std::size_t head_end = in.find("\r\n\r\n");
      if (head_end == std::string::npos) {
        if (!receive(fd, in, buf, sizeof buf)) break;
        continue;
      }
      std::string head = in.substr(0, head_end);
      std::transform(head.begin(), head.end(), head.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const std::size_t body_at = head_end + 4;
      const std::size_t length = header_number(head, "content-length");
      while (in.size() < body_at + length && receive(fd, in, buf, sizeof buf)) {
      }
      if (in.size() < body_at + length) break;
      const std::string_view body(in.data() + body_at, length);
      const bool json = head.find("content-type: application/json") != std::string::npos;
      const std::int64_t n = json ? json_records(body) : protobuf_records(body);
      if (n < 0) {
        ++malformed_;
      } else {
        records_ += static_cast<std::uint64_t>(n);
      }
      body_bytes_ += length;
      ++requests_;
      const std::string_view reply =
          json ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
               : "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                 "Content-Length: 0\r\n\r\n";
      if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(reply.size())) {
        break;
      }
      in.erase(0, body_at + length);
    }
    std::lock_guard lock(mutex_);
    connections_.erase(std::find(connections_.begin(), connections_.end(), fd));
    ::close(fd);
  }

  static bool receive(int fd, std::string& in, char* buf, std::size_t size) {
    const ssize_t n = ::recv(fd, buf, size, 0);
    if (n <= 0) return false;
    in.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  static std::size_t header_number(const std::string& head, std::string_view name) {
    const std::size_t at = head.find("\r\n" + std::string(name) + ":");
    if (at == std::string::npos) return 0;
    return std::strtoull(head.c_str() + at + 3 + name.size(), nullptr, 10);
  }

  // Every OTLP JSON LogRecord has exactly one observedTimeUnixNano (the
  // bench's messages do not contain the word).
  static std::int64_t json_records(std::string_view body) {
    std::int64_t n = 0;
    for (std::size_t at = body.find("\"observedTimeUnixNano\""); at != std::string_view::npos;
         at = body.find("\"observedTimeUnixNano\"", at + 1)) {
      ++n;
    }
    return n;
  }

  // ExportLogsServiceRequest.resource_logs (1) -> ResourceLogs.scope_logs (2)
  // -> ScopeLogs.log_records (2): the LogRecords, counted without decoding
  // them. -1 when the bytes are not a well-formed message.
  static std::int64_t protobuf_records(std::string_view body) {
    std::int64_t n = 0;
    const bool ok = each_field(body, [&](std::uint64_t field, std::string_view resource_logs) {
      return field != 1 ||
             each_field(resource_logs, [&](std::uint64_t f2, std::string_view scope_logs) {
               return f2 != 2 ||
                      each_field(scope_logs, [&](std::uint64_t f3, std::string_view /*record*/) {
                        n += f3 == 2 ? 1 : 0;
                        return true;
                      });
             });
    });
    return ok ? n : -1;
  }

  static bool varint(std::string_view& in, std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
      const auto byte = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      value |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80u) == 0) return true;
    }
    return false;
  }

  // Calls on(field number, bytes) for each length-delimited field of a
  // message, skipping the others; false when it does not parse or on() says so.
  template <typename On>
  static bool each_field(std::string_view in, On&& on) {
    while (!in.empty()) {
      std::uint64_t key = 0;
      std::uint64_t value = 0;
      if (!varint(in, key)) return false;
      switch (key & 7u) {
        case 0:
          if (!varint(in, value)) return false;
          break;
        case 1:
        case 5: {
          const std::size_t size = (key & 7u) == 1 ? 8 : 4;
          if (in.size() < size) return false;
          in.remove_prefix(size);
          break;
        }
        case 2:
          if (!varint(in, value) || value > in.size()) return false;
          if (!on(key >> 3, in.substr(0, value))) return false;
          in.remove_prefix(value);
          break;
        default: return false;
      }
    }
    return true;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> handlers_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> body_bytes_{0};
  std::atomic<std::uint64_t> records_{0};
  std::atomic<std::uint64_t> malformed_{0};
};

}  // namespace hydra::bench
