#include "hydra/sink/rotating_file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "fd_io.hpp"
#include "hydra/core/error.hpp"
#include "rotated_files.hpp"
#include "zstd_compress.hpp"

namespace hydra {

namespace {

using Clock = std::chrono::system_clock;
using std::chrono::minutes;

constexpr minutes kDay{1440};

// One period of a rotation schedule, [start, end), in local wall-clock time.
struct Period {
  Clock::time_point start;
  Clock::time_point end;
  // The wall-clock time of its first boundary, which names it: 02:00 even
  // when a repeated hour (DST ending) puts the instant `start` elsewhere.
  std::tm label{};
};

// The period that holds `time` of the schedule whose boundaries fall at
// `phase` + k * `length` after each local midnight (`length` divides a day).
Period period_holding(Clock::time_point time, minutes length, minutes phase) {
  const std::time_t t = Clock::to_time_t(time);
  std::tm local{};
  localtime_r(&t, &local);
  const long n = length.count();
  const long minute_of_day = local.tm_hour * 60L + local.tm_min;
  const long into_period = ((minute_of_day - phase.count() % n) % n + n) % n;
  const long start_minute = minute_of_day - into_period;  // below 0: yesterday
  const auto at_minute = [&local](long minute) {
    std::tm tm = local;
    tm.tm_hour = 0;
    tm.tm_min = static_cast<int>(minute);  // mktime carries it into the hours and days
    tm.tm_sec = 0;
    tm.tm_isdst = -1;  // let mktime work out DST at the boundary
    return std::mktime(&tm);
  };
  std::time_t start = at_minute(start_minute);
  std::time_t end = at_minute(start_minute + n);
  // A wall-clock time that a DST change skips or repeats can put a boundary
  // on the wrong side of `time`; the schedule still moves forward.
  if (start > t) start = t;
  if (end <= t) end = t + n * 60;
  Period period{Clock::from_time_t(start), Clock::from_time_t(end), local};
  period.label.tm_hour = 0;
  period.label.tm_min = static_cast<int>(start_minute);
  period.label.tm_sec = 0;
  static_cast<void>(::timegm(&period.label));  // carries the minutes over; knows no DST
  return period;
}

// "2026-12-06", or "2026-12-06_14-30" with the time: sortable.
std::string stamp_of(const std::tm& wall_clock, bool with_time) {
  char text[32];
  const std::size_t n =
      std::strftime(text, sizeof text, with_time ? "%Y-%m-%d_%H-%M" : "%Y-%m-%d", &wall_clock);
  return {text, n};
}

// Whether `text` has the shape of a stamp_of() stamp.
bool is_stamp(std::string_view text) {
  constexpr std::string_view kDate = "0000-00-00";
  constexpr std::string_view kDateTime = "0000-00-00_00-00";
  const std::string_view shape = text.size() == kDate.size() ? kDate : kDateTime;
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    if (shape[i] == '0' ? !digit : text[i] != shape[i]) return false;
  }
  return true;
}

RotatingFileSinkOptions validated(RotatingFileSinkOptions options) {
  const std::string& path = options.file.path;
  const auto fail = [&path](const std::string& what) {
    throw ConfigError("rotating_file '" + path + "': " + what);
  };
  if (options.max_size == 0 && options.interval == RotationInterval::none) {
    fail("set max_size and/or rotation (hourly, daily, or an interval such as 15m)");
  }
  if (options.backup_count < 0) {
    fail("backup_count: " + std::to_string(options.backup_count) + " must be >= 0");
  }
  if (options.backup_count > kMaxBackupCount) {
    fail(fmt::format("backup_count: {} is more than {}", options.backup_count, kMaxBackupCount));
  }
  if (options.interval != RotationInterval::none && !options.interval.divides_a_day()) {
    fail(
        fmt::format("rotation: every {} minutes does not divide a day (valid: 1 to 1440 minutes "
                    "that divide 1440, such as 5m, 15m, 1h, 6h, 24h)",
                    options.interval.period.count()));
  }
  if (options.rotation_time < minutes(0) || options.rotation_time >= kDay) {
    fail(fmt::format("rotation_time: {} minutes is not a time of day (valid: 0 to 1439)",
                     options.rotation_time.count()));
  }
  if (options.rotation_time != minutes(0) && options.interval == RotationInterval::none) {
    fail("rotation_time: needs a rotation interval (hourly, daily, or one such as 15m)");
  }
  // Rotation renames and deletes: only ever a regular file's. A link is not
  // followed, since the rename would move the link and leave its file.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const std::string target = std::filesystem::read_symlink(path, ec).string();
      fail("is a symbolic link (to '" + target +
           "'), not a regular file (rotation would move the link, not the file: give the path "
           "of the file itself)");
    }
    fail("is " + detail::file_kind(st.st_mode) +
         ", not a regular file (rotation renames and deletes files: give the path of a regular "
         "file, or of one to be created)");
  }
#if !HYDRA_WITH_ZSTD
  if (options.compress) {
    fail(
        "compress: this build of Hydra has no zstd support (rebuild with libzstd-dev and "
        "HYDRA_WITH_ZSTD=ON, or set compress to false)");
  }
#endif
  if (!options.clock) options.clock = [] { return Clock::now(); };
  return options;
}

}  // namespace

struct RotatingFileSink::Impl {
  explicit Impl(RotatingFileSinkOptions o);
  ~Impl();

  // A backup found on disk: its name without ".zst", and which of the plain
  // and the compressed file exist.
  struct Backup {
    std::string name;  // path.3, path.2026-12-06, path.2026-12-06.1
    bool plain = false;
    bool compressed = false;
    long index = 0;     // index naming: 3 of path.3; date naming: the counter (0: none)
    std::string stamp;  // date naming: 2026-12-06
  };

  const std::string& path() const { return options.file.path; }
  // "path.3".
  std::string backup_name(long index) const { return path() + "." + std::to_string(index); }

  // All below run with `mutex` held.
  void rotate_if_due(std::size_t incoming);
  void rotate(Clock::time_point now);
  bool path_is_regular_file();
  bool list_backups(std::vector<Backup>& backups);
  bool parse_backup(std::string_view suffix, Backup& backup) const;
  std::string dated_name(const std::vector<Backup>& backups, Clock::time_point now) const;
  bool rename_backup(const Backup& backup, const std::string& to);
  bool remove_backup(const Backup& backup);
  void take_current_file();
  Period schedule_period(Clock::time_point time) const {
    return period_holding(time, options.interval.period, options.rotation_time);
  }
  void rotation_failed(const std::string& what_and_why);
  void rotation_failed(const std::string& what, int error) {
    rotation_failed(what + ": " + detail::errno_text(error));
  }
  void start_compression(const std::string& name);
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
  // When the current file was started: at its first record, or its last
  // change for a file found on disk. Unset while it is empty. Names dated
  // backups.
  std::optional<Clock::time_point> file_start;
  Clock::time_point next_boundary;
  std::atomic<std::uint64_t> rotation_count{0};
  std::atomic<std::uint64_t> rotation_errors{0};
  bool rotation_failing = false;

  // A rotated file waiting to be compressed. `name` follows the file as later
  // rotations rename it (path.1 -> path.2); it is cleared when the file is
  // deleted, and the compressed result is then thrown away. The front job is
  // the one being compressed; it leaves the queue when its result is in place.
  struct CompressionJob {
    int fd;
    std::string name;
  };
  std::deque<CompressionJob> jobs;
  std::condition_variable jobs_changed;
  bool stopping = false;
  std::thread compressor;  // last member: started when everything else exists
};

RotatingFileSink::Impl::Impl(RotatingFileSinkOptions o)
    : options(validated(std::move(o))), file(options.file) {
  take_current_file();
  if (options.interval != RotationInterval::none) {
    // A file last written in an earlier period is rotated at the first write.
    next_boundary = schedule_period(file_start.value_or(options.clock())).end;
  }
  if (options.compress && options.backup_count > 0) {
    std::lock_guard lock(mutex);
    ::unlink(temp_name().c_str());  // from a run that stopped mid-compression
    // Finish what an earlier run left uncompressed, of the backups that
    // retention keeps: with index naming path.1 .. path.<backup_count>,
    // with date naming the newest backup_count (the list is oldest first).
    std::vector<Backup> backups;
    if (list_backups(backups)) {
      const auto count = static_cast<std::size_t>(options.backup_count);
      const std::size_t first_kept = backups.size() > count ? backups.size() - count : 0;
      for (std::size_t i = 0; i < backups.size(); ++i) {
        const Backup& b = backups[i];
        const bool kept = options.backup_naming == BackupNaming::index
                              ? b.index <= options.backup_count
                              : i >= first_kept;
        if (!kept || !b.plain) continue;
        if (b.compressed) {
          ::unlink(b.name.c_str());  // compressed, but not yet removed
        } else {
          start_compression(b.name);
        }
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

void RotatingFileSink::Impl::take_current_file() {
  struct stat st {};
  const bool found = ::stat(path().c_str(), &st) == 0;
  current_size = found ? static_cast<std::uint64_t>(st.st_size) : 0;
  file_start.reset();
  if (current_size > 0) file_start = Clock::from_time_t(st.st_mtime);
  current_size += file.pending_bytes();  // held for this file while its device fails
}

void RotatingFileSink::Impl::rotate_if_due(std::size_t incoming) {
  std::optional<Clock::time_point> now;  // read once, and only when needed
  const auto clock_now = [&] {
    if (!now) now = options.clock();
    return *now;
  };
  if (options.interval != RotationInterval::none && clock_now() >= next_boundary) {
    if (current_size > 0) rotate(*now);  // no empty backups for quiet periods
    next_boundary = schedule_period(*now).end;
  }
  if (options.max_size > 0 && current_size > 0 && current_size + incoming > options.max_size) {
    rotate(clock_now());
  }
  if (!file_start && options.backup_naming == BackupNaming::date) file_start = clock_now();
}

void RotatingFileSink::Impl::rotate(Clock::time_point now) {
  file.flush();  // what cannot be written now stays buffered for the new file
  // Nothing of this file reached the device (it fails): renaming it would
  // only make an empty backup.
  if (current_size <= file.pending_bytes()) return;
  // After a failure, current_size = 0: the rotation is tried again at the
  // next rotation point, not at every write.
  if (!path_is_regular_file()) {
    current_size = 0;
    return;
  }
  std::vector<Backup> backups;  // oldest first
  if (!list_backups(backups)) {
    current_size = 0;
    return;
  }
  const int count = options.backup_count;
  bool clean = true;  // no failure at all: a failure episode ends
  std::string rotated;
  if (count == 0) {
    if (::truncate(path().c_str(), 0) != 0) {
      rotation_failed("truncate '" + path() + "'", errno);
      current_size = 0;
      return;
    }
    if (!options.file.header.empty()) file.reopen();  // sees the empty file: header due
    for (const Backup& b : backups) clean = remove_backup(b) && clean;
  } else if (options.backup_naming == BackupNaming::index) {
    // Highest index first, so that each moves to a name already vacated.
    for (const Backup& b : backups) {
      const bool done =
          b.index >= count ? remove_backup(b) : rename_backup(b, backup_name(b.index + 1));
      if (!done) {
        current_size = 0;
        return;
      }
    }
    rotated = backup_name(1);
  } else {
    rotated = dated_name(backups, now);
  }
  if (!rotated.empty()) {
    if (::rename(path().c_str(), rotated.c_str()) != 0) {
      rotation_failed("rename '" + path() + "' -> '" + rotated + "'", errno);
      current_size = 0;
      return;
    }
    file.reopen();
  }
  if (count > 0 && options.backup_naming == BackupNaming::date) {
    // The oldest beyond backup_count go. The new backup counts and is kept,
    // whatever its date says (a clock set back).
    const auto others_kept = static_cast<std::size_t>(count - 1);
    for (std::size_t i = 0; i + others_kept < backups.size(); ++i) {
      clean = remove_backup(backups[i]) && clean;
    }
  }
  take_current_file();
  rotation_count.fetch_add(1, std::memory_order_relaxed);
  if (clean) rotation_failing = false;
  if (options.compress && !rotated.empty()) {
    start_compression(rotated);
    jobs_changed.notify_one();
  }
}

// Rotation renames or truncates the path: only while it is a regular file.
bool RotatingFileSink::Impl::path_is_regular_file() {
  struct stat st {};
  if (::lstat(path().c_str(), &st) != 0) {
    rotation_failed("lstat '" + path() + "'", errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    rotation_failed("'" + path() + "' is now " + detail::file_kind(st.st_mode) +
                    ", not a regular file");
    return false;
  }
  return true;
}

// Reads the directory once. Lists path.N (index naming) or path.<stamp> and
// path.<stamp>.N (date naming), each with or without .zst; nothing else in
// the directory is listed, so nothing else is ever renamed or deleted.
bool RotatingFileSink::Impl::list_backups(std::vector<Backup>& backups) {
  std::map<std::string, Backup, std::less<>> found;  // by name
  const std::error_code ec = detail::for_each_suffix_of(path(), [&](std::string_view suffix) {
    const bool compressed = suffix.ends_with(".zst");
    if (compressed) suffix.remove_suffix(4);
    Backup parsed;
    if (!parse_backup(suffix, parsed)) return;
    parsed.name = path() + "." + std::string(suffix);
    Backup& b = found.try_emplace(parsed.name, std::move(parsed)).first->second;
    (compressed ? b.compressed : b.plain) = true;
  });
  if (ec) {
    // A partial list could let a rename replace a backup it did not see.
    rotation_failed("read the directory '" + detail::directory_of(path()).string() + "'",
                    ec.value());
    return false;
  }
  backups.clear();
  for (auto& [name, b] : found) backups.push_back(std::move(b));
  if (options.backup_naming == BackupNaming::index) {
    std::sort(backups.begin(), backups.end(),
              [](const Backup& a, const Backup& b) { return a.index > b.index; });
  } else {
    std::sort(backups.begin(), backups.end(), [](const Backup& a, const Backup& b) {
      return std::tie(a.stamp, a.index) < std::tie(b.stamp, b.index);
    });
  }
  return true;
}

// Whether `suffix` (what follows "path.", without .zst) names a backup of
// this sink's naming; fills its index and stamp.
bool RotatingFileSink::Impl::parse_backup(std::string_view suffix, Backup& backup) const {
  if (options.backup_naming == BackupNaming::index) {
    const auto index = detail::positive_number(suffix);
    if (index) backup.index = *index;
    return index.has_value();
  }
  constexpr std::size_t kDateTimeSize = 16;  // 2026-12-06_14-30
  constexpr std::size_t kDateSize = 10;      // 2026-12-06
  const std::size_t stamp_size =
      suffix.size() >= kDateTimeSize && is_stamp(suffix.substr(0, kDateTimeSize)) ? kDateTimeSize
                                                                                  : kDateSize;
  if (suffix.size() < stamp_size || !is_stamp(suffix.substr(0, stamp_size))) return false;
  backup.stamp = std::string(suffix.substr(0, stamp_size));
  const std::string_view rest = suffix.substr(stamp_size);
  if (rest.empty()) return true;
  const auto counter = rest.front() == '.' ? detail::positive_number(rest.substr(1)) : std::nullopt;
  if (counter) backup.index = *counter;
  return counter.has_value();
}

// path.<stamp of the period the current file started in>, with a counter
// after it when that name is taken (a second file in one period, from size
// rotation or a restart): path.2026-12-06, path.2026-12-06.1, ...
std::string RotatingFileSink::Impl::dated_name(const std::vector<Backup>& backups,
                                               Clock::time_point now) const {
  const bool timed = options.interval != RotationInterval::none;
  const bool with_time = timed && options.interval.period < kDay;
  const Clock::time_point start = file_start.value_or(now);
  const Period period = timed ? schedule_period(start) : period_holding(start, kDay, minutes(0));
  const std::string stamp = stamp_of(period.label, with_time);
  long last_counter = -1;  // -1: the stamp is free
  for (const Backup& b : backups) {
    if (b.stamp == stamp) last_counter = std::max(last_counter, b.index);
  }
  const std::string name = path() + "." + stamp;
  return last_counter < 0 ? name : name + "." + std::to_string(last_counter + 1);
}

// Renames both files of a backup (plain and .zst, those that exist).
bool RotatingFileSink::Impl::rename_backup(const Backup& backup, const std::string& to) {
  for (const bool compressed : {false, true}) {
    if (!(compressed ? backup.compressed : backup.plain)) continue;
    const std::string source = backup.name + (compressed ? ".zst" : "");
    const std::string target = to + (compressed ? ".zst" : "");
    if (::rename(source.c_str(), target.c_str()) != 0 && errno != ENOENT) {
      rotation_failed(fmt::format("rename '{}' -> '{}'", source, target), errno);
      return false;
    }
  }
  for (auto& job : jobs) {
    if (job.name == backup.name) job.name = to;
  }
  return true;
}

// Deletes both files of a backup.
bool RotatingFileSink::Impl::remove_backup(const Backup& backup) {
  for (const bool compressed : {false, true}) {
    if (!(compressed ? backup.compressed : backup.plain)) continue;
    const std::string source = backup.name + (compressed ? ".zst" : "");
    if (::unlink(source.c_str()) != 0 && errno != ENOENT) {
      rotation_failed("delete '" + source + "'", errno);
      return false;
    }
  }
  for (auto& job : jobs) {
    if (job.name == backup.name) job.name.clear();
  }
  return true;
}

void RotatingFileSink::Impl::rotation_failed(const std::string& what_and_why) {
  rotation_errors.fetch_add(1, std::memory_order_relaxed);
  if (rotation_failing) return;
  rotation_failing = true;
  detail::report_to_stderr("rotating_file '" + path() + "': rotation failed: " + what_and_why +
                           " (will retry at the next rotation point)");
}

void RotatingFileSink::Impl::start_compression(const std::string& name) {
  // Non-blocking, so that a FIFO put in a backup's place cannot hang us.
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    rotation_failed("open '" + name + "' for compression", errno);
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    rotation_failed("'" + name + "' is not a regular file: not compressed");
    return;
  }
  jobs.push_back({fd, name});
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
    const std::string name = std::move(jobs.front().name);
    jobs.pop_front();
    if (name.empty()) {  // deleted by retention while being compressed
      ::unlink(temp_name().c_str());
      continue;
    }
    if (!error.empty()) {
      ::unlink(temp_name().c_str());
      rotation_errors.fetch_add(1, std::memory_order_relaxed);
      detail::report_to_stderr(
          fmt::format("rotating_file '{}': compression of '{}' failed: {} (the file is kept "
                      "uncompressed)",
                      path(), name, error));
      continue;
    }
    // The plain file goes only once its compressed copy is complete and named.
    const std::string compressed = name + ".zst";
    if (::rename(temp_name().c_str(), compressed.c_str()) != 0) {
      rotation_failed("rename '" + temp_name() + "' -> '" + compressed + "'", errno);
      ::unlink(temp_name().c_str());
      continue;
    }
    ::unlink(name.c_str());
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
  // An empty file starts with the header (FileSinkOptions::header).
  if (im.current_size == 0) im.current_size = im.options.file.header.size();
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
  // Whatever replaced the path must be a regular file too: opening a FIFO
  // would block, and a link would be rotated as a link.
  struct stat st {};
  if (::lstat(impl_->path().c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    impl_->rotation_errors.fetch_add(1, std::memory_order_relaxed);
    detail::report_to_stderr("rotating_file '" + impl_->path() + "': not reopened: it is now " +
                             detail::file_kind(st.st_mode) +
                             ", not a regular file (writing goes on into the file open before)");
    return;
  }
  impl_->file.reopen();
  impl_->take_current_file();
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
