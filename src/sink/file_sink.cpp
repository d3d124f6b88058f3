#include "hydra/sink/file_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <new>
#include <string>
#include <utility>

#include "fd_io.hpp"
#include "hydra/core/error.hpp"

namespace hydra {

FileSink::FileSink(FileSinkOptions options) : options_(std::move(options)) {
  if (!open_locked(options_.truncate)) {
    int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      std::string directory;
      error = detail::make_parent_directories(options_.path, &directory);
      if (error != 0) {
        throw ConfigError("file '" + options_.path + "': cannot create directory '" + directory +
                          "': " + detail::errno_text(error));
      }
      if (!open_locked(options_.truncate)) error = errno;
    }
    if (fd_ < 0) {
      throw ConfigError("file '" + options_.path + "': cannot open: " + detail::errno_text(error));
    }
  }
  buffer_.reserve(options_.buffer_size);
}

FileSink::~FileSink() {
  std::lock_guard lock(mutex_);
  flush_locked();
  if (!buffer_.empty()) {
    dropped_.fetch_add(buffer_.size(), std::memory_order_relaxed);
    detail::report_to_stderr("file '" + options_.path + "': " + std::to_string(buffer_.size()) +
                             " bytes could not be written before close and are lost");
  }
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::write(const Record& record, std::string_view bytes) {
  std::lock_guard lock(mutex_);
  try {
    if (!buffer_.empty() && buffer_.size() + bytes.size() > options_.buffer_size &&
        !flush_locked()) {
      // The device is failing: keep the record with the others (up to the
      // cap) and try again at the next flush.
      buffer_.append(bytes);
      cap_pending();
      return;
    }
    buffer_.append(bytes);
    if (buffer_.size() >= options_.buffer_size || passes(record.level, options_.flush_level)) {
      flush_locked();
    }
  } catch (const std::bad_alloc&) {
    dropped_.fetch_add(bytes.size(), std::memory_order_relaxed);
  }
}

void FileSink::flush() {
  std::lock_guard lock(mutex_);
  flush_locked();
}

void FileSink::reopen() {
  std::lock_guard lock(mutex_);
  flush_locked();  // what fails stays buffered and goes to the new file
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!open_locked(false)) note_failure("cannot reopen", errno);
}

void FileSink::inject_write_failures(int count, int error) {
  std::lock_guard lock(mutex_);
  inject_count_ = count;
  inject_errno_ = error;
}

bool FileSink::open_locked(bool truncate) {
  const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  int fd = -1;
  do {
    fd = ::open(options_.path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  fd_ = fd;
  return fd >= 0;
}

bool FileSink::flush_locked() {
  if (buffer_.empty()) return true;
  if (fd_ < 0 && !open_locked(false)) {
    note_failure("cannot reopen", errno);
    cap_pending();
    return false;
  }
  detail::WriteResult result;
  if (inject_count_ > 0) {
    --inject_count_;
    result.error = inject_errno_;
  } else {
    result = detail::write_all(fd_, buffer_, std::chrono::milliseconds(0));
  }
  buffer_.erase(0, result.written);
  if (result.error != 0) {
    note_failure("write failed", result.error);
    cap_pending();
    return false;
  }
  if (failing_) {
    failing_ = false;
    const std::uint64_t dropped =
        dropped_.load(std::memory_order_relaxed) - episode_dropped_at_start_;
    std::string message = "file '" + options_.path + "': writing again after " +
                          std::to_string(episode_errors_) + " failed attempt(s)";
    if (dropped > 0) message += "; " + std::to_string(dropped) + " bytes were dropped meanwhile";
    detail::report_to_stderr(message);
    // Give back what the buffer grew to while the device was failing.
    std::string().swap(buffer_);
    buffer_.reserve(options_.buffer_size);
  }
  return true;
}

void FileSink::note_failure(std::string_view what, int error) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  ++episode_errors_;
  if (failing_) return;
  failing_ = true;
  episode_errors_ = 1;
  episode_dropped_at_start_ = dropped_.load(std::memory_order_relaxed);
  detail::report_to_stderr("file '" + options_.path + "': " + std::string(what) + ": " +
                           detail::errno_text(error) + " (will retry)");
}

void FileSink::cap_pending() {
  if (buffer_.size() <= options_.max_pending) return;
  // Drop the oldest whole lines, so the file never gets half a record.
  const std::size_t excess = buffer_.size() - options_.max_pending;
  const std::size_t newline = buffer_.find('\n', excess - 1);
  const std::size_t cut = newline == std::string::npos ? buffer_.size() : newline + 1;
  buffer_.erase(0, cut);
  dropped_.fetch_add(cut, std::memory_order_relaxed);
}

}  // namespace hydra
