// nats-server with JetStream as a child process for tests: on 127.0.0.1, a
// client port and a monitoring port picked free, its store in a directory of
// the test's; restartable on the same ports and store (stop(), start()).
// Needs /usr/sbin/nats-server (scripts/install-deps.sh installs it): start()
// fails, never skips, without it.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "support/child_process.hpp"
#include "support/ports.hpp"
#include "test_util.hpp"

namespace hydra::test {

class NatsServer {
 public:
  explicit NatsServer(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
  }

  // Starts it and waits until JetStream is ready (its health endpoint says
  // so) and the client port accepts connections.
  ::testing::AssertionResult start() {
    constexpr const char* kServer = "/usr/sbin/nats-server";
    if (::access(kServer, X_OK) != 0) {
      return ::testing::AssertionFailure() << kServer << " not found: run scripts/install-deps.sh";
    }
    if (port_ <= 0) port_ = free_port();
    if (monitor_port_ <= 0) monitor_port_ = free_port();
    const std::string conf = (dir_ / "nats.conf").string();
    // Small JetStream limits: the default is a share of the machine's memory and disk.
    write_file(conf, "jetstream { store_dir: \"" + (dir_ / "store").string() +
                         "\", max_mem: 64M, max_file: 256M }\n");
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kServer, "-a", "127.0.0.1", "-p", std::to_string(port_), "-m",
                                 std::to_string(monitor_port_), "-js", "-c", conf},
        dir_ / "nats-server.log");
    // Waiting for an external process to listen: polled, with a generous bound.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto health = http_get("/healthz?js-enabled-only=true");
      if (health && health->find("\"ok\"") != std::string::npos && accepts(port_)) {
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ::testing::AssertionFailure() << "nats-server did not come up within 30 s:\n"
                                         << process_->errors();
  }

  // SIGTERM (JetStream writes its store out), reaped.
  void stop() { process_.reset(); }

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_file(dir_ / "nats-server.log"); }

  // The body of a GET on the monitoring port ("/jsz?streams=true"), or
  // nothing when it does not answer.
  std::optional<std::string> http_get(const std::string& target) const {
    const int fd = connect_to(monitor_port_);
    if (fd < 0) return std::nullopt;
    const std::string request =
        "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      ::close(fd);
      return std::nullopt;
    }
    std::string response;
    char chunk[4096];
    for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;) {
      response.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto body = response.find("\r\n\r\n");
    if (!response.starts_with("HTTP/1.") || body == std::string::npos) return std::nullopt;
    return response.substr(body + 4);
  }

 private:
  static int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  static bool accepts(int port) {
    const int fd = connect_to(port);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  }

  std::filesystem::path dir_;
  int port_ = -1;
  int monitor_port_ = -1;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace hydra::test
