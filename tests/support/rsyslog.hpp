// rsyslogd as a child process for tests: its own configuration, work
// directory and pidfile, listening on 127.0.0.1 (a TCP port, a UDP port) and
// on a Unix socket of its own, each input writing the raw messages it
// receives, one a line, to a file of its own (tcp.txt, udp.txt, unix.txt);
// with a TlsInput, also a TLS input (RFC 5425, rsyslog's gtls stream
// driver) on a port of its own, to tls.txt. Stopped (SIGTERM, then reaped) by stop() or the
// destructor. Needs /usr/sbin/rsyslogd (scripts/install-deps.sh installs it, and rsyslog-gnutls for
// TLS): start() fails, never skips, without it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/ports.hpp"
#include "test_util.hpp"

namespace hydra::test {

// The TLS input's certificates (PEM) and how it checks its clients':
// "anon" (it does not ask), "x509/certvalid" (a certificate from ca_file
// required), "x509/name" (and for a permitted peer name).
struct TlsInput {
  std::filesystem::path ca_file;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::string auth_mode = "anon";
};

class RsyslogServer {
 public:
  explicit RsyslogServer(std::filesystem::path dir, std::optional<TlsInput> tls = std::nullopt)
      : dir_(std::move(dir)), tls_(std::move(tls)) {
    std::filesystem::create_directories(dir_);
    // The Unix socket in a short directory of its own: a socket's path must
    // fit in 108 bytes, which a test's directory under the build tree may not.
    char short_dir[] = "/tmp/hydra-rsyslog-XXXXXX";
    if (::mkdtemp(short_dir) != nullptr) socket_dir_ = short_dir;
  }
  ~RsyslogServer() {
    stop();
    std::error_code ec;
    if (!socket_dir_.empty()) std::filesystem::remove_all(socket_dir_, ec);
  }
  RsyslogServer(const RsyslogServer&) = delete;
  RsyslogServer& operator=(const RsyslogServer&) = delete;

  // Starts it (on the same ports as before when restarted) and waits until
  // the TCP input accepts connections.
  ::testing::AssertionResult start() {
    constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";
    if (::access(kRsyslogd, X_OK) != 0) {
      return ::testing::AssertionFailure()
             << kRsyslogd << " not found: run scripts/install-deps.sh";
    }
    if (tcp_port_ <= 0) tcp_port_ = free_port(SOCK_STREAM);
    if (udp_port_ <= 0) udp_port_ = free_port(SOCK_DGRAM);
    if (tls_ && tls_port_ <= 0) tls_port_ = free_port(SOCK_STREAM);
    const std::filesystem::path work = dir_ / "work";
    std::filesystem::create_directories(work);
    const std::string conf = (dir_ / "rsyslog.conf").string();
    std::string text =
        "global(workDirectory=\"" + work.string() +
        "\" maxMessageSize=\"64k\" parser.escapeControlCharactersOnReceive=\"off\")\n"
        "module(load=\"imtcp\")\nmodule(load=\"imudp\")\n"
        "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
        "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n";
    for (const char* input : {"tcp", "udp", "unix", "tls"}) {
      text += std::string("ruleset(name=\"") + input + "\") { action(type=\"omfile\" file=\"" +
              file(input).string() + "\" template=\"raw\") }\n";
    }
    text += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + std::to_string(tcp_port_) +
            "\" ruleset=\"tcp\")\n";
    // A large receive buffer: UDP loses what overflows it, and a test run
    // shares the machine.
    text += "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" + std::to_string(udp_port_) +
            "\" ruleset=\"udp\" rcvbufSize=\"16m\")\n";
    text += "input(type=\"imuxsock\" Socket=\"" + socket_path() +
            "\" ruleset=\"unix\" CreatePath=\"on\")\n";
    if (tls_) {
      // The stream driver set on the input, not the module, so that the
      // TCP input stays plain.
      text += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + std::to_string(tls_port_) +
              "\" ruleset=\"tls\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\"" +
              " streamDriver.authMode=\"" + tls_->auth_mode + "\" streamDriver.CAFile=\"" +
              tls_->ca_file.string() + "\" streamDriver.CertFile=\"" + tls_->cert_file.string() +
              "\" streamDriver.KeyFile=\"" + tls_->key_file.string() + "\")\n";
    }
    write_file(conf, text);
    const std::string out = (dir_ / "rsyslogd.out").string();
    const std::string pidfile = (dir_ / "rsyslogd.pid").string();
    std::vector<std::string> argv = {kRsyslogd, "-n", "-f", conf, "-i", pidfile};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = ::posix_spawn(&pid_, kRsyslogd, &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return ::testing::AssertionFailure() << "posix_spawn rsyslogd: " << std::strerror(rc);
    }
    // Waiting for an external process to listen: polled, with a generous bound.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return ::testing::AssertionFailure() << "rsyslogd exited at start-up:\n" << output();
      }
      // (rsyslogd logs the TLS probe as a failed handshake: harmless.)
      const bool up = listening(tcp_port_) && (!tls_ || listening(tls_port_));
      if (up && std::filesystem::exists(socket_path())) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ::testing::AssertionFailure() << "rsyslogd did not listen within 30 s:\n" << output();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int tcp_port() const { return tcp_port_; }
  int udp_port() const { return udp_port_; }
  int tls_port() const { return tls_port_; }
  std::string socket_path() const { return (socket_dir_ / "log.sock").string(); }
  std::filesystem::path file(const std::string& input) const { return dir_ / (input + ".txt"); }

  // The messages an input wrote, once there are `count` (or 30 s passed:
  // then fewer). rsyslog writes its file on its own time: polled.
  std::vector<std::string> wait_for(const std::string& input, std::size_t count) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const std::string text = read_file(file(input));
      std::vector<std::string> lines = split_lines(text.substr(0, text.rfind('\n') + 1));
      if (lines.size() >= count || std::chrono::steady_clock::now() > deadline) return lines;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string output() const { return read_file(dir_ / "rsyslogd.out"); }

 private:
  static bool listening(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return up;
  }

  std::filesystem::path dir_;
  std::filesystem::path socket_dir_;
  std::optional<TlsInput> tls_;
  int tcp_port_ = -1;
  int tls_port_ = -1;
  int udp_port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace hydra::test
