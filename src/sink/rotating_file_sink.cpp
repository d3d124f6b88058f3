#include "hydra/sink/rotating_file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "fd_io.hpp"
#include "hydra/core/error.hpp"
#include "zstd_compress.hpp"

namespace hydra {

namespace {

using Clock = std::chrono::system_clock;

// The first local-time hour or day boundary strictly after `time`.
Clock::time_point next_boundary_after(Clock::time_point time, RotationInterval interval) {
  const std::time_t t = Clock::to_time_t(time);
  std::tm local{};
  localtime_r(&t, &local);
  local.tm_sec = 0;
  local.tm_min = 0;
  if (interval == RotationInterval::hourly) {
    local.tm_hour += 1;
  } else {
    local.tm_hour = 0;
    local.tm_mday += 1;
  }
  local.tm_isdst = -1;  // let mktime work out DST at the boundary
  std::time_t next = std::mktime(&local);
  if (next <= t) next = t + (interval == RotationInterval::hourly ? 3600 : 86400);
  return Clock::from_time_t(next);
}

RotatingFileSinkOptions validated(RotatingFileSinkOptions options) {
  const std::string& path = options.file.path;
  if (options.max_size == 0 && options.interval == RotationInterval::none) {
    throw ConfigError("rotating_file '" + path + "': set max_size and/or rotation (hourly, daily)");
  }
  if (options.backup_count < 0) {
    throw ConfigError("rotating_file '" + path +
                      "': backup_count: " + std::to_string(options.backup_count) + " must be >= 0");
  }
#if !HYDRA_WITH_ZSTD
  if (options.compress) {
    throw ConfigError("rotating_file '" + path +
                      "': compress: this build of Hydra has no zstd support (rebuild with "
                      "libzstd-dev and HYDRA_WITH_ZSTD=ON, or set compress to false)");
  }
#endif
  if (!options.clock) options.clock = [] { return Clock::now(); };
  return options;
}

}  // namespace

struct RotatingFileSink::Impl {
  explicit Impl(RotatingFileSinkOptions o);
  ~Impl();

  const std::string& path() const { return options.file.path; }
  // "path.3" or "path.3.zst".
  std::string backup_name(int index, bool compressed) const {
    return path() + "." + std::to_string(index) + (compressed ? ".zst" : "");
  }

  // All below run with `mutex` held.
  void rotate_if_due(std::size_t incoming);
  void rotate();
  bool move_backup(int from, int to);
  void remove_backups_above(int count);
  void take_current_size();
  void rotation_failed(const std::string& what, int error);
  void start_compression(int index);
  // In a fork()ed child: the compressor thread is the parent's, and so are
  // the queued jobs (their descriptors share the parent's file offsets).
  void restart_compression_in_child();

  // Background compression of rotated files (path.1 -> path.1.zst).
  void compress_loop();
  std::string temp_name() const { return path() + ".zst-tmp"; }

  RotatingFileSinkOptions options;
  std::mutex mutex;  // rotation state, backup names, compression queue
  FileSink file;     // the current file: buffering, flush and error handling
  std::uint64_t current_size = 0;
  Clock::time_point next_boundary;
  std::atomic<std::uint64_t> rotation_count{0};
  std::atomic<std::uint64_t> rotation_errors{0};
  bool rotation_failing = false;

  // A rotated file waiting to be compressed. `index` follows the file as later
  // rotations shift it (path.1 -> path.2); past backup_count it was deleted
  // and the compressed result is thrown away. The front job is the one being
  // compressed; it leaves the queue when its result is in place.
  struct CompressionJob {
    int fd;
    int index;
  };
  std::deque<CompressionJob> jobs;
  std::condition_variable jobs_changed;
  bool stopping = false;
  std::thread compressor;  // last member: started when everything else exists
};

RotatingFileSink::Impl::Impl(RotatingFileSinkOptions o)
    : options(validated(std::move(o))), file(options.file) {
  take_current_size();
  if (options.interval != RotationInterval::none) {
    // A file last written in an earlier interval is rotated at the first write.
    Clock::time_point start = options.clock();
    struct stat st {};
    if (current_size > 0 && ::stat(path().c_str(), &st) == 0) {
      start = Clock::from_time_t(st.st_mtime);
    }
    next_boundary = next_boundary_after(start, options.interval);
  }
  if (options.compress && options.backup_count > 0) {
    std::lock_guard lock(mutex);
    ::unlink(temp_name().c_str());  // from a run that stopped mid-compression
    // Finish what an earlier run left uncompressed.
    for (int i = 1; i <= options.backup_count; ++i) {
      struct stat st {};
      if (::stat(backup_name(i, false).c_str(), &st) != 0) continue;
      if (::stat(backup_name(i, true).c_str(), &st) == 0) {
        ::unlink(backup_name(i, false).c_str());  // compressed, but not yet removed
      } else {
        start_compression(i);
      }
    }
    compressor = std::thread([this] { compress_loop(); });
  }
}

RotatingFileSink::Impl::~Impl() {
  if (compressor.joinable()) {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    jobs_changed.notify_all();
    compressor.join();  // finishes the queued jobs first
  }
}

void RotatingFileSink::Impl::take_current_size() {
  struct stat st {};
  current_size = ::stat(path().c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  current_size += file.pending_bytes();  // held for this file while its device fails
}

void RotatingFileSink::Impl::rotate_if_due(std::size_t incoming) {
  if (options.interval != RotationInterval::none) {
    const Clock::time_point now = options.clock();
    if (now >= next_boundary) {
      if (current_size > 0) rotate();  // no empty backups for quiet intervals
      next_boundary = next_boundary_after(now, options.interval);
    }
  }
  if (options.max_size > 0 && current_size > 0 && current_size + incoming > options.max_size) {
    rotate();
  }
}

void RotatingFileSink::Impl::rotate() {
  file.flush();  // what cannot be written now stays buffered for the new file
  // Nothing of this file reached the device (it fails): renaming it would
  // only make an empty backup.
  if (current_size <= file.pending_bytes()) return;
  const int count = options.backup_count;
  if (count == 0) {
    if (::truncate(path().c_str(), 0) != 0) {
      rotation_failed("truncate '" + path() + "'", errno);
      current_size = 0;  // try again at the next rotation point, not at every write
      return;
    }
  } else {
    for (int i = count; i >= 1; --i) {
      if (!move_backup(i, i + 1)) {
        current_size = 0;  // try again at the next rotation point, not at every write
        return;
      }
      for (auto& job : jobs) {
        if (job.index == i) job.index = i + 1;
      }
    }
    if (::rename(path().c_str(), backup_name(1, false).c_str()) != 0) {
      rotation_failed("rename '" + path() + "' -> '" + backup_name(1, false) + "'", errno);
      current_size = 0;
      return;
    }
    file.reopen();
  }
  remove_backups_above(count);
  take_current_size();
  rotation_count.fetch_add(1, std::memory_order_relaxed);
  rotation_failing = false;
  if (options.compress && count > 0) {
    start_compression(1);
    jobs_changed.notify_one();
  }
}

// Moves both variants (plain and .zst) of backup `from` to `to`; a backup
// moved past backup_count is deleted instead.
bool RotatingFileSink::Impl::move_backup(int from, int to) {
  for (const bool compressed : {false, true}) {
    const std::string source = backup_name(from, compressed);
    if (to > options.backup_count) {
      if (::unlink(source.c_str()) != 0 && errno != ENOENT) {
        rotation_failed("delete '" + source + "'", errno);
        return false;
      }
      continue;
    }
    const std::string target = backup_name(to, compressed);
    if (::rename(source.c_str(), target.c_str()) == 0) continue;
    if (errno == ENOENT) {
      ::unlink(target.c_str());  // a stale variant must not survive next to the new one
      continue;
    }
    rotation_failed(fmt::format("rename '{}' -> '{}'", source, target), errno);
    return false;
  }
  return true;
}

// Deletes path.N and path.N.zst for every N > count, including leftovers of a
// run with a larger backup_count.
void RotatingFileSink::Impl::remove_backups_above(int count) {
  namespace fs = std::filesystem;
  const fs::path current(path());
  const std::string prefix = current.filename().string() + ".";
  fs::path directory = current.parent_path();
  if (directory.empty()) directory = ".";
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string_view rest = std::string_view(name).substr(prefix.size());
    if (rest.ends_with(".zst")) rest.remove_suffix(4);
    if (rest.empty() || rest.front() == '0') continue;
    long index = 0;
    const auto [end_of_number, parse_error] =
        std::from_chars(rest.data(), rest.data() + rest.size(), index);
    if (parse_error != std::errc() || end_of_number != rest.data() + rest.size()) continue;
    if (index > count) ::unlink(it->path().c_str());
  }
}

void RotatingFileSink::Impl::rotation_failed(const std::string& what, int error) {
  rotation_errors.fetch_add(1, std::memory_order_relaxed);
  if (rotation_failing) return;
  rotation_failing = true;
  detail::report_to_stderr("rotating_file '" + path() + "': rotation failed: " + what + ": " +
                           detail::errno_text(error) + " (will retry at the next rotation point)");
}

void RotatingFileSink::Impl::start_compression(int index) {
  const std::string source = backup_name(index, false);
  const int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rotation_failed("open '" + source + "' for compression", errno);
    return;
  }
  jobs.push_back({fd, index});
}

void RotatingFileSink::Impl::restart_compression_in_child() {
  if (!compressor.joinable()) return;
  // The handle names a thread that does not exist here: it is let go without
  // join or detach. The condition variable may still count the parent
  // thread's wait, so it is made afresh rather than notified or destroyed.
  (void)new std::thread(std::move(compressor));  // NOLINT: intentionally leaked
  new (&jobs_changed) std::condition_variable();
  for (const CompressionJob& job : jobs) ::close(job.fd);
  jobs.clear();
  compressor = std::thread([this] { compress_loop(); });
}

void RotatingFileSink::Impl::compress_loop() {
#if HYDRA_WITH_ZSTD
  std::unique_lock lock(mutex);
  for (;;) {
    jobs_changed.wait(lock, [this] { return stopping || !jobs.empty(); });
    if (jobs.empty()) return;  // stopping, and nothing left to do
    const int fd = jobs.front().fd;
    lock.unlock();
    // The rotated file is read through its descriptor, so later rotations may
    // rename it meanwhile; write() never waits for this.
    const std::string error = detail::zstd_compress_file(fd, temp_name());
    ::close(fd);
    lock.lock();
    const int index = jobs.front().index;
    jobs.pop_front();
    if (!error.empty()) {
      ::unlink(temp_name().c_str());
      rotation_errors.fetch_add(1, std::memory_order_relaxed);
      detail::report_to_stderr("rotating_file '" + path() + "': compression of '" +
                               backup_name(index, false) + "' failed: " + error +
                               " (the file is kept uncompressed)");
      continue;
    }
    if (index > options.backup_count) {  // rotated away while being compressed
      ::unlink(temp_name().c_str());
      continue;
    }
    // The plain file goes only once its compressed copy is complete and named.
    if (::rename(temp_name().c_str(), backup_name(index, true).c_str()) != 0) {
      rotation_failed("rename '" + temp_name() + "' -> '" + backup_name(index, true) + "'", errno);
      ::unlink(temp_name().c_str());
      continue;
    }
    ::unlink(backup_name(index, false).c_str());
  }
#endif
}

RotatingFileSink::RotatingFileSink(RotatingFileSinkOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

RotatingFileSink::~RotatingFileSink() = default;

void RotatingFileSink::write(const Record& record, std::string_view bytes) {
  if (detail::in_crash_handler()) [[unlikely]] {
    impl_->file.write(record, bytes);  // no rotation in a crash handler, no waiting for our lock
    return;
  }
  std::lock_guard lock(impl_->mutex);
  Impl& im = *impl_;
  im.rotate_if_due(bytes.size());
  // Still past max_size after rotate_if_due with bytes held: the device
  // fails, and they wait for this file. The record has no room in it; it is
  // dropped (and counted) rather than make the file too large or start the
  // next one before this one is complete.
  if (im.options.max_size > 0 && im.current_size + bytes.size() > im.options.max_size &&
      im.file.pending_bytes() > 0) {
    im.file.drop_record(bytes.size());
    return;
  }
  const std::uint64_t dropped = im.file.dropped_records();
  im.file.write(record, bytes);
  if (im.file.dropped_records() == dropped) im.current_size += bytes.size();
}

void RotatingFileSink::flush() {
  if (detail::in_crash_handler()) [[unlikely]] {
    impl_->file.emergency_flush();
    return;
  }
  std::lock_guard lock(impl_->mutex);
  impl_->file.flush();
}

void RotatingFileSink::reopen() {
  std::lock_guard lock(impl_->mutex);
  impl_->file.reopen();
  impl_->take_current_size();
}

std::uint64_t RotatingFileSink::write_errors() const {
  return impl_->file.write_errors() + impl_->rotation_errors.load(std::memory_order_relaxed);
}

std::uint64_t RotatingFileSink::rotations() const {
  return impl_->rotation_count.load(std::memory_order_relaxed);
}

std::uint64_t RotatingFileSink::dropped_records() const {
  return impl_->file.dropped_records();
}

std::uint64_t RotatingFileSink::dropped_bytes() const {
  return impl_->file.dropped_bytes();
}

void RotatingFileSink::set_notice_formatter(const NoticeFormatter& format) {
  impl_->file.set_notice_formatter(format);
}

void RotatingFileSink::before_fork() {
  impl_->mutex.lock();
  impl_->file.before_fork();
}

void RotatingFileSink::after_fork(bool in_child) {
  impl_->file.after_fork(in_child);
  if (in_child) impl_->restart_compression_in_child();
  impl_->mutex.unlock();
}

void RotatingFileSink::emergency_flush() noexcept {
  impl_->file.emergency_flush();  // the file has its own lock; rotation state is not needed
}

}  // namespace hydra
