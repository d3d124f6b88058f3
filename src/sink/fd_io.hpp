// Internal helpers shared by the sinks: a write(2) loop that survives EINTR,
// partial writes and non-blocking descriptors, `mkdir -p` for a file's
// directories, errno text, and the one-line report to stderr that sinks use
// for "failed once, counting from now on".
#pragma once

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace hydra::detail {

struct WriteResult {
  std::size_t written = 0;  // bytes that reached the descriptor
  int error = 0;            // errno of the failing call; 0: everything written
};

// Writes all of `data` to `fd`. Retries on EINTR and after partial writes. On
// EAGAIN (a non-blocking descriptor that is full) waits for POLLOUT, at most
// `again_budget` in total, then gives up with EAGAIN: a stalled reader never
// blocks the caller for longer than that.
inline WriteResult write_all(int fd, std::string_view data,
                             std::chrono::milliseconds again_budget) {
  WriteResult result;
  auto budget_left = again_budget;
  while (result.written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + result.written, data.size() - result.written);
    if (n >= 0) {
      result.written += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && budget_left.count() > 0) {
      const auto start = std::chrono::steady_clock::now();
      pollfd p{fd, POLLOUT, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(budget_left.count()));
      const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      budget_left -= std::max(spent, std::chrono::milliseconds(1));
      if (ready > 0 || (ready < 0 && errno == EINTR)) continue;
      result.error = ready == 0 ? EAGAIN : errno;
      return result;
    }
    result.error = errno;
    return result;
  }
  return result;
}

// Makes the directories above `path` that do not exist yet, like `mkdir -p`
// (mode 0755, less the umask). Returns 0, or the errno of the first directory
// that cannot be made (ENOTDIR: a file is in the way), with that directory in
// `*failed`.
inline int make_parent_directories(const std::string& path, std::string* failed) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    if (path[slash - 1] == '/') continue;  // "a//b"
    const std::string directory = path.substr(0, slash);
    if (::mkdir(directory.c_str(), 0755) == 0) continue;
    int error = errno;
    struct stat st {};
    if (error == EEXIST) {
      if (::stat(directory.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      error = ENOTDIR;
    }
    *failed = directory;
    return error;
  }
  return 0;
}

// The errno text ("No space left on device"); thread-safe, unlike strerror.
inline std::string errno_text(int error) {
  return std::generic_category().message(error);
}

// Writes "hydra: <message>\n" to stderr in one write(2), so that the report
// never interleaves with other output mid-line. Never throws.
inline void report_to_stderr(std::string_view message) noexcept {
  try {
    std::string line;
    line.reserve(message.size() + 8);
    line += "hydra: ";
    line += message;
    line += '\n';
    (void)write_all(STDERR_FILENO, line, std::chrono::milliseconds(100));
  } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory, nothing to say it with
  }
}

}  // namespace hydra::detail
