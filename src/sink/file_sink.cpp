#include "hydra/sink/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "fd_io.hpp"
#include "hydra/core/error.hpp"

namespace hydra {

namespace {

// While records are being lost, stderr says so at most this often.
constexpr std::chrono::seconds kLossReportInterval{5};

std::string records_and_bytes(std::uint64_t records, std::uint64_t bytes) {
  return fmt::format("{} record{} ({} bytes)", records, records == 1 ? "" : "s", bytes);
}

// Whether `path`, a file with status `st`, is a non-empty regular file that
// does not end in '\n' (a process was killed in the middle of writing a line).
bool ends_mid_line(const struct stat& st, const std::string& path) {
  if (!S_ISREG(st.st_mode) || st.st_size == 0) return false;
  const int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader < 0) return false;
  char last = '\n';
  const bool read = ::pread(reader, &last, 1, st.st_size - 1) == 1;
  ::close(reader);
  return read && last != '\n';
}

// Takes the last `count` bytes off the file open as `fd` (O_APPEND), if they
// are still its last bytes: the offset after our last write is the file's
// end, so no one has appended since.
bool cut_file_tail(int fd, std::size_t count) {
  const off_t end = ::lseek(fd, 0, SEEK_CUR);
  struct stat st {};
  if (end < 0 || static_cast<std::uint64_t>(end) < count || ::fstat(fd, &st) != 0 ||
      st.st_size != end) {
    return false;
  }
  int rc = 0;
  do {
    rc = ::ftruncate(fd, end - static_cast<off_t>(count));
  } while (rc != 0 && errno == EINTR);
  return rc == 0;
}

// A line on stderr from the crash handler: formatted on the stack, no
// allocation (the handler may have interrupted the allocator).
template <typename... Args>
void note_in_crash(fmt::format_string<Args...> format, Args&&... args) noexcept {
  try {
    char line[1024];
    const auto result =
        fmt::format_to_n(line, sizeof(line) - 1, format, std::forward<Args>(args)...);
    std::size_t size = std::min(result.size, sizeof(line) - 1);
    line[size++] = '\n';
    (void)detail::write_all(STDERR_FILENO, {line, size}, std::chrono::milliseconds(100));
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to say it with
  }
}

}  // namespace

FileSink::FileSink(FileSinkOptions options)
    : options_(std::move(options)), pending_(options_.buffer_size) {
  if (!options_.clock) options_.clock = [] { return std::chrono::steady_clock::now(); };
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
    if (fd_.load(std::memory_order_relaxed) < 0) {
      throw ConfigError("file '" + options_.path + "': cannot open: " + detail::errno_text(error) +
                        (error == ENXIO ? " (a FIFO with no reader)" : ""));
    }
  }
}

FileSink::~FileSink() {
  std::lock_guard lock(mutex_);
  flush_locked();
  take_back_partial_record();  // the file must not end inside a record
  report_losses(true);         // those since the last report, whatever the pace
  if (!pending_.empty()) {
    const std::uint64_t records = pending_.records();
    const std::uint64_t bytes = pending_.size();
    dropped_records_.fetch_add(records, std::memory_order_relaxed);
    dropped_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    detail::report_to_stderr("file '" + options_.path + "': " + records_and_bytes(records, bytes) +
                             " could not be written before close and are lost");
  }
  const int fd = fd_.exchange(-1);
  if (fd >= 0) ::close(fd);
}

void FileSink::write(const Record& record, std::string_view bytes) {
  if (detail::in_crash_handler()) [[unlikely]] {
    write_in_crash(record, bytes);
    return;
  }
  std::lock_guard lock(mutex_);
  try {
    write_locked(record, bytes);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a report ran out of memory; the
                   // record was kept or counted before it
  }
}

void FileSink::write_locked(const Record& record, std::string_view bytes) {
  const std::size_t size = bytes.size();
  bool tried = false;
  if (!pending_.empty() && pending_.size() + size > options_.buffer_size) {
    flush_locked();
    tried = true;
  }
  // Keeping the oldest records and refusing new ones costs the same for every
  // record, however much is held, and leaves the file without a gap before
  // the notice that counts the loss. Each record still gets its one attempt,
  // so that a device that works again is noticed at once.
  if (failing_ && pending_.size() + size > options_.max_pending) {
    if (!tried) {
      flush_locked();
      tried = true;
    }
    if (failing_ && pending_.size() + size > options_.max_pending) {
      drop_locked(size);
      return;
    }
  }
  try {
    pending_.append(bytes);
  } catch (const std::bad_alloc&) {
    drop_locked(size);
    return;
  }
  if (tried && failing_) return;  // one write(2) attempt per record while the device fails
  if (pending_.size() >= options_.buffer_size || passes(record.level, options_.flush_level)) {
    flush_locked();
  }
}

void FileSink::flush() {
  if (detail::in_crash_handler()) [[unlikely]] {
    emergency_flush();
    return;
  }
  std::lock_guard lock(mutex_);
  flush_locked();
}

void FileSink::reopen() {
  std::lock_guard lock(mutex_);
  flush_locked();  // what fails stays buffered and goes to the new file
  if (!take_back_partial_record()) drop_rest_of_partial_record();
  // -1 first: the crash handler must never write to a number being reused.
  const int fd = fd_.exchange(-1);
  if (fd >= 0) ::close(fd);
  needs_newline_ = false;
  if (!open_locked(false)) note_failure("cannot reopen", errno);
}

void FileSink::set_notice_formatter(const NoticeFormatter& format) {
  std::lock_guard lock(mutex_);
  notice_formatter_ = format;
}

void FileSink::before_fork() {
  mutex_.lock_first();
  flush_locked();
  take_back_partial_record();  // so that the child's first record starts a line
}

void FileSink::after_fork(bool in_child) {
  if (in_child) {
    pending_.clear();
    partial_ = 0;
  }
  mutex_.unlock();
}

std::size_t FileSink::pending_bytes() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

void FileSink::drop_record(std::size_t size) {
  std::lock_guard lock(mutex_);
  drop_locked(size);
}

void FileSink::inject_write_failures(int count, int error) {
  std::lock_guard lock(mutex_);
  inject_count_ = count;
  inject_errno_ = error;
}

bool FileSink::open_locked(bool truncate) {
  // O_NONBLOCK: opening a FIFO that has no reader fails (ENXIO) instead of
  // hanging the caller; it is cleared at once, so that writes to a FIFO or a
  // terminal wait as they always do. It means nothing to a regular file.
  const int flags =
      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK | (truncate ? O_TRUNC : 0);
  int fd = -1;
  do {
    fd = ::open(options_.path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return false;
  const int status = ::fcntl(fd, F_GETFL);
  if (status != -1) (void)::fcntl(fd, F_SETFL, status & ~O_NONBLOCK);
  struct stat st {};
  const bool known = ::fstat(fd, &st) == 0;
  needs_newline_ = !truncate && known && ends_mid_line(st, options_.path);
  // An empty file gets the header just ahead of its first record
  // (write_pending_locked), so that a file never holds a header alone;
  // records kept while the device failed are this file's first.
  header_due_ = !options_.header.empty() && known && st.st_size == 0;
  header_written_ = 0;
  fd_.store(fd, std::memory_order_release);
  return true;
}

int FileSink::injected_error() {
  if (inject_count_ <= 0) return 0;
  --inject_count_;
  return inject_errno_;
}

bool FileSink::write_ahead_locked(int fd, std::string_view text, std::size_t& done) {
  detail::WriteResult result{0, injected_error()};
  if (result.error == 0) {
    result = detail::write_all(fd, text.substr(done), std::chrono::milliseconds(0));
  }
  done += result.written;
  if (result.error != 0) {
    note_failure("write failed", result.error);
    return false;
  }
  return true;
}

bool FileSink::flush_locked() {
  if (!write_pending_locked()) {
    report_losses(false);
    return false;
  }
  if (failing_) {
    end_failure_episode();  // may add the in-band notice
    return write_pending_locked();
  }
  return true;
}

bool FileSink::write_pending_locked() {
  if (pending_.empty() && !needs_newline_) return true;
  int fd = fd_.load(std::memory_order_relaxed);
  if (fd < 0) {
    if (!open_locked(false)) {
      note_failure("cannot reopen", errno);
      return false;
    }
    fd = fd_.load(std::memory_order_relaxed);
  }
  if (needs_newline_) {
    std::size_t done = 0;
    if (!write_ahead_locked(fd, "\n", done)) return false;
    needs_newline_ = false;
  }
  if (header_due_ && !pending_.empty()) {
    if (!write_ahead_locked(fd, options_.header, header_written_)) return false;
    header_due_ = false;
    header_written_ = 0;
  }
  while (!pending_.empty()) {
    const std::string_view chunk = pending_.front();
    int error = injected_error();
    if (error == 0) {
      // in_flight_end_ tells the crash handler, should it interrupt this
      // thread right after write(2), which bytes count as written.
      in_flight_end_.store(chunk.data() + chunk.size(), std::memory_order_release);
      const ssize_t n = ::write(fd, chunk.data(), chunk.size());
      const int saved = errno;
      if (n > 0) {
        const auto written = static_cast<std::size_t>(n);
        // A block ends with a whole record; elsewhere, what follows the last
        // '\n' written is the start of a record whose rest is still pending.
        const std::size_t newline = chunk.rfind('\n', written - 1);
        if (written == chunk.size()) {
          partial_ = 0;
        } else if (newline == std::string_view::npos) {
          partial_ += written;
        } else {
          partial_ = written - newline - 1;
        }
        in_flight_end_.store(chunk.data() + written, std::memory_order_release);
        pending_.consume(written);
      }
      in_flight_end_.store(nullptr, std::memory_order_release);
      if (n < 0 && saved == EINTR) continue;
      if (n <= 0) error = n < 0 ? saved : EIO;
    }
    if (error != 0) {
      // A partial write leaves the file ending inside a record (partial_):
      // its rest goes there first, by the next attempt, which fails at once
      // while the device stays full (no repeated partial writes). It is
      // taken back out of the file if the file is left before that.
      note_failure("write failed", error);
      return false;
    }
  }
  return true;
}

bool FileSink::take_back_partial_record() {
  if (partial_ == 0) return true;
  const int fd = fd_.load(std::memory_order_relaxed);
  if (fd < 0 || !cut_file_tail(fd, partial_)) return false;
  pending_.unconsume(partial_);  // written whole, later or elsewhere
  partial_ = 0;
  return true;
}

void FileSink::drop_rest_of_partial_record() {
  // The file being left ends inside the first pending record, which could
  // not be taken out of it (another process appended after it, or the file
  // system refused): its rest must not start the next file.
  const std::string_view rest = pending_.front();
  const std::size_t newline = rest.find('\n');
  const std::size_t size = newline == std::string_view::npos ? rest.size() : newline + 1;
  pending_.consume(size);
  partial_ = 0;
  drop_locked(size);
}

void FileSink::note_failure(std::string_view what, int error) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  ++episode_errors_;
  if (failing_) return;
  failing_ = true;
  episode_errors_ = 1;
  episode_error_ = error;
  episode_records_at_start_ = dropped_records_.load(std::memory_order_relaxed);
  episode_bytes_at_start_ = dropped_bytes_.load(std::memory_order_relaxed);
  detail::report_to_stderr("file '" + options_.path + "': " + std::string(what) + ": " +
                           detail::errno_text(error) + " (will retry)");
}

void FileSink::drop_locked(std::size_t size) {
  dropped_records_.fetch_add(1, std::memory_order_relaxed);
  dropped_bytes_.fetch_add(size, std::memory_order_relaxed);
  report_losses(false);
}

void FileSink::report_losses(bool regardless_of_pace) {
  const std::uint64_t records = dropped_records_.load(std::memory_order_relaxed);
  if (records == reported_records_) return;
  const auto time = now();
  if (time < next_loss_report_ && !regardless_of_pace) return;
  const std::uint64_t bytes = dropped_bytes_.load(std::memory_order_relaxed);
  std::string message = "file '" + options_.path + "': " +
                        records_and_bytes(records - reported_records_, bytes - reported_bytes_) +
                        " lost: " + detail::errno_text(failing_ ? episode_error_ : ENOMEM);
  if (failing_) {
    message += " (" + std::to_string(pending_.size()) +
               " bytes wait for the file; new records are dropped until writing works again)";
  }
  reported_records_ = records;
  reported_bytes_ = bytes;
  next_loss_report_ = time + kLossReportInterval;
  detail::report_to_stderr(message);
}

void FileSink::end_failure_episode() {
  failing_ = false;
  const std::uint64_t records =
      dropped_records_.load(std::memory_order_relaxed) - episode_records_at_start_;
  const std::uint64_t bytes =
      dropped_bytes_.load(std::memory_order_relaxed) - episode_bytes_at_start_;
  std::string message = "file '" + options_.path + "': writing again after " +
                        std::to_string(episode_errors_) + " failed attempt(s)";
  if (records > 0) message += "; " + records_and_bytes(records, bytes) + " were lost meanwhile";
  detail::report_to_stderr(message);
  // This report covers them; the next loss is reported at once.
  reported_records_ = dropped_records_.load(std::memory_order_relaxed);
  reported_bytes_ = dropped_bytes_.load(std::memory_order_relaxed);
  next_loss_report_ = {};
  if (records == 0 || !notice_formatter_) return;
  try {
    const Field fields[] = {{"lost_records", FieldValue(records)},
                            {"lost_bytes", FieldValue(bytes)}};
    const std::string text =
        fmt::format("hydra: {} lost: {} (file '{}')", records_and_bytes(records, bytes),
                    detail::errno_text(episode_error_), options_.path);
    Record notice;
    notice.time = std::chrono::system_clock::now();
    notice.level = Level::warning;
    notice.message = text;
    notice.fields = fields;
    pending_.append(notice_formatter_(notice));
  } catch (...) {  // NOLINT(bugprone-empty-catch): the stderr report above stands
  }
}

std::chrono::steady_clock::time_point FileSink::now() const {
  return options_.clock();
}

void FileSink::emergency_flush() noexcept {
  switch (detail::lock_in_crash(mutex_)) {
    case detail::CrashLock::taken:
      write_pending_in_crash();
      mutex_.unlock();
      return;
    case detail::CrashLock::interrupted_holder: write_pending_in_crash(); return;
    case detail::CrashLock::busy:
      note_in_crash(
          "hydra: file '{}': buffered records not written: another thread held the file for "
          "over a second",
          options_.path);
      return;
  }
}

void FileSink::write_in_crash(const Record& record, std::string_view bytes) noexcept {
  switch (detail::lock_in_crash(mutex_)) {
    case detail::CrashLock::taken: try { write_locked(record, bytes);
      } catch (...) {  // NOLINT(bugprone-empty-catch): best effort in a crash
      }
      mutex_.unlock();
      return;
    case detail::CrashLock::interrupted_holder: {
      // No buffering: what waits goes first, then this record, straight to
      // the file (the code this handler interrupted never resumes).
      const int fd = fd_.load(std::memory_order_acquire);
      if (write_pending_in_crash() &&
          detail::write_all(fd, bytes, std::chrono::milliseconds(0)).error == 0) {
        return;
      }
      break;
    }
    case detail::CrashLock::busy: break;
  }
  dropped_records_.fetch_add(1, std::memory_order_relaxed);
  dropped_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
}

bool FileSink::write_pending_in_crash() noexcept {
  const int fd = fd_.load(std::memory_order_acquire);
  const auto write = [fd](const char* data, std::size_t size) {
    return detail::write_all(fd, {data, size}, std::chrono::milliseconds(0)).error == 0;
  };
  if (fd < 0 || (needs_newline_ && !write("\n", 1)) ||
      !pending_.drain_in_crash(in_flight_end_.load(std::memory_order_acquire), write)) {
    note_in_crash("hydra: file '{}': buffered records not written: {}", options_.path,
                  fd < 0 ? "the file is not open" : ::strerrordesc_np(errno));
    return false;
  }
  needs_newline_ = false;
  return true;
}

}  // namespace hydra
