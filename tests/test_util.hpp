// Helpers shared by the test programs: temporary directories, reading and
// writing files, splitting lines.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hydra/core/error.hpp"

namespace hydra::test {

// A new empty directory under $HYDRA_TEST_TMP (or the system temp dir), named
// after the running test, removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("HYDRA_TEST_TMP");
    const std::filesystem::path root =
        base != nullptr && *base != '\0' ? base : std::filesystem::temp_directory_path();
    std::filesystem::create_directories(root);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info != nullptr ? info->name() : "hydra";
    std::replace(name.begin(), name.end(), '/', '-');  // parameterised tests: "Name/param"
    std::string pattern = (root / (name + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

  // Names of the entries in the directory, sorted.
  std::set<std::string> entries() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      names.insert(e.path().filename().string());
    }
    return names;
  }

 private:
  std::filesystem::path path_;
};

// The message of the ConfigError that `f` throws ("" if none is thrown).
template <typename F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

// Splits on '\n'; a trailing newline does not make an empty last line.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string::size_type start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// How many of this process's descriptors are open on `path`.
inline int open_descriptors_on(const std::filesystem::path& path) {
  int count = 0;
  const auto target = std::filesystem::canonical(path);
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto to = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec && to == target) ++count;
  }
  return count;
}

// What run_process saw: the child's pid, its exit code (-1 if it did not
// exit normally, or could not be started) and what it wrote.
struct ProcessResult {
  pid_t pid = -1;
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path, no shell) with `input` on stdin and waits for it.
// stdout and stderr go through files, so large outputs cannot deadlock.
inline ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input) {
  TempDir dir;
  const std::string in = dir.file("stdin"), out = dir.file("stdout"), err = dir.file("stderr");
  write_file(in, input);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ProcessResult result;
  const int rc = ::posix_spawn(&result.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.pid = -1;
    result.err = "posix_spawn " + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  int status = 0;
  pid_t waited = -1;
  do {
    waited = ::waitpid(result.pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  result.exit_code = waited == result.pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

// Runs argv[0] (a path, no shell) with its stdin on a pipe and its stdout to
// `stdout_path` (if not empty), writes `input`, waits until the child has read
// every byte (FIONREAD on our copy of the read end says 0: a condition, not a
// sleep), then sends `signo` and waits for it. The write end stays open until
// then, so the child never sees end of input. Returns the wait status, or -1
// with `*error` saying what went wrong.
inline int kill_after_input_is_read(const std::vector<std::string>& argv, const std::string& input,
                                    int signo, const std::string& stdout_path, std::string* error) {
  const auto fail = [&](const std::string& what) {
    *error = what + ": " + std::strerror(errno);
    return -1;
  };
  int fds[2];
  if (::pipe(fds) != 0) return fail("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    return fail("posix_spawn " + argv[0]);
  }
  int status = -1;
  const auto finish = [&] {
    ::kill(pid, signo);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(fds[0]);
    ::close(fds[1]);
  };
  for (std::size_t sent = 0; sent < input.size();) {  // the child reads as we write
    const ssize_t n = ::write(fds[1], input.data() + sent, input.size() - sent);
    if (n <= 0) {
      const int saved = errno;
      finish();
      errno = saved;
      return fail("writing the child's input");
    }
    sent += static_cast<std::size_t>(n);
  }
  int unread = 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (unread > 0 && std::chrono::steady_clock::now() < deadline) {
    if (::ioctl(fds[0], FIONREAD, &unread) != 0) break;
    std::this_thread::yield();
  }
  finish();
  if (unread != 0) {
    *error = "the child did not read its input";
    return -1;
  }
  return status;
}

}  // namespace hydra::test
