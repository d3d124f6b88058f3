// rsyslogd as a child process for hydra-ship-bench (the tests have their own,
// tests/support/rsyslog.hpp, built on gtest): its own configuration and work
// directory, listening on 127.0.0.1 with two TCP inputs, each writing the raw
// messages it receives, one a line, to a file of its own:
//   "octet" (octet counting, RFC 6587, as Hydra's syslog destination frames),
//   "lf"    (octet counting off: one message a line, as spdlog's tcp_sink).
// Stopped (SIGTERM, then reaped) by the destructor. Throws std::runtime_error
// when rsyslogd is missing or does not listen.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hydra::bench {

// A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it).
inline int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Counts the lines of a file another process appends to, reading only what
// is new since the last call (a bench polls files of hundreds of MB).
class LineCounter {
 public:
  explicit LineCounter(std::filesystem::path path) : path_(std::move(path)) {}
  ~LineCounter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  LineCounter(const LineCounter&) = delete;
  LineCounter& operator=(const LineCounter&) = delete;

  std::uint64_t count() {
    if (file_ == nullptr) file_ = std::fopen(path_.c_str(), "rb");
    if (file_ == nullptr) return 0;
    char buf[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) {
      bytes_ += n;
      for (std::size_t i = 0; i < n; ++i) lines_ += buf[i] == '\n' ? 1 : 0;
    }
    std::clearerr(file_);  // at the end for now; rsyslog may write more
    return lines_;
  }
  // The bytes read by the last count().
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
};

class RsyslogServer {
 public:
  explicit RsyslogServer(std::filesystem::path dir) : dir_(std::move(dir)) {
    constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";
    if (::access(kRsyslogd, X_OK) != 0) {
      throw std::runtime_error(std::string(kRsyslogd) + " not found: run scripts/install-deps.sh");
    }
    std::filesystem::create_directories(dir_ / "work");
    octet_port_ = free_tcp_port();
    lf_port_ = free_tcp_port();
    std::string text =
        "global(workDirectory=\"" + (dir_ / "work").string() +
        "\" maxMessageSize=\"64k\" parser.escapeControlCharactersOnReceive=\"off\")\n"
        "module(load=\"imtcp\")\n"
        "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n";
    for (const char* input : {"octet", "lf"}) {
      text += std::string("ruleset(name=\"") + input + "\") { action(type=\"omfile\" file=\"" +
              file(input).string() + "\" template=\"raw\") }\n";
    }
    text += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + std::to_string(octet_port_) +
            "\" ruleset=\"octet\")\n";
    text += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + std::to_string(lf_port_) +
            "\" ruleset=\"lf\" supportOctetCountedFraming=\"off\")\n";
    const std::string conf = (dir_ / "rsyslog.conf").string();
    std::ofstream(conf) << text;

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
    if (rc != 0) throw std::runtime_error("posix_spawn rsyslogd failed");
    // An external process coming up: polled, with a generous bound.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!(listening(octet_port_) && listening(lf_port_))) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("rsyslogd exited at start-up; see " + out);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("rsyslogd did not listen within 30 s; see " + out);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RsyslogServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  RsyslogServer(const RsyslogServer&) = delete;
  RsyslogServer& operator=(const RsyslogServer&) = delete;

  int octet_port() const { return octet_port_; }
  int lf_port() const { return lf_port_; }
  std::filesystem::path file(const std::string& input) const { return dir_ / (input + ".txt"); }

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
  int octet_port_ = -1;
  int lf_port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace hydra::bench
