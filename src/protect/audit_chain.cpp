#include "hydra/protect/audit_chain.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "../sink/fd_io.hpp"
#include "../sink/rotated_files.hpp"
#include "audit_format.hpp"
#include "hydra/core/error.hpp"
#include "hydra/protect/audit_verify.hpp"

namespace hydra::protect {
namespace {

using Clock = std::chrono::steady_clock;
using detail::LineKind;
using detail::Mac;

std::string checked_key(std::string key, const std::string& what) {
  if (key.empty()) throw ConfigError(what + ": the key is empty");
  if (key.size() < kMinAuditKeySize) {
    throw ConfigError(
        fmt::format("{}: the key is {} bytes; at least {} are needed (e.g. `openssl rand -hex 32`)",
                    what, key.size(), kMinAuditKeySize));
  }
  return key;
}

int open_for_append(const std::string& path) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Closes its descriptor when it goes (also when a constructor throws).
class FileDescriptor {
 public:
  FileDescriptor() = default;
  ~FileDescriptor() { reset(); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The chain's position: the seq and MAC of a line (none before the genesis
// header).
struct ChainHead {
  std::uint64_t seq = 0;
  Mac mac{};
};

ChainHead head_of(const AuditVerifyResult& result) {
  return {result.last_seq, *detail::mac_from_hex(result.last_mac)};
}

}  // namespace

std::string load_audit_key(const AuditKeySource& source) {
  const int sources = static_cast<int>(!source.file.empty()) +
                      static_cast<int>(!source.env.empty()) +
                      static_cast<int>(!source.value.empty());
  if (sources == 0) {
    throw ConfigError(
        "no key: set key_file, key_env or key (an audit chain is never written unsigned)");
  }
  if (sources > 1) throw ConfigError("set only one of key_file, key_env and key");
  if (!source.file.empty()) {
    std::string key;
    if (const int error = detail::read_whole_file(source.file, key); error != 0) {
      throw ConfigError(fmt::format("key_file '{}': cannot read: {}", source.file,
                                    hydra::detail::errno_text(error)));
    }
    // One trailing newline is not part of the key (`openssl rand -hex 32 > f`).
    if (key.ends_with('\n')) key.pop_back();
    if (key.ends_with('\r')) key.pop_back();
    return checked_key(std::move(key), "key_file '" + source.file + "'");
  }
  if (!source.env.empty()) {
    const char* value = std::getenv(source.env.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
      throw ConfigError("key_env: the environment variable '" + source.env + "' is not set");
    }
    return checked_key(value, "key_env '" + source.env + "'");
  }
  return checked_key(source.value, "key");
}

struct AuditChainSink::Impl {
  explicit Impl(AuditChainOptions o);
  ~Impl();

  [[noreturn]] void config_error(const std::string& what) const {
    throw ConfigError("audit '" + options.path + "': " + what);
  }
  // Why the chain cannot be kept at the path ("" when it can): it must be a
  // regular file or not exist yet, and a symbolic link is followed only
  // when the chain is not rotated. With `advice`, what to do about it.
  std::string path_problem(bool advice) const;
  void take_lock();
  // Where the chain stands before this sink writes: the live file's last
  // line, else the checkpoint, else the newest rotated file's last line.
  // Empty: a new chain. Sets `resume_file` when the live file goes on.
  std::optional<ChainHead> find_head();
  void report(const std::string& what) const { hydra::detail::report_to_stderr(what); }

  // All below run with `mutex` held.
  void add_line(LineKind kind, std::string_view payload);
  void add_header();
  bool write_pending();
  void maybe_checkpoint();
  void checkpoint();
  void rotate();
  bool path_is_regular_file();
  bool list_rotated_files(std::vector<long>& indices);
  bool shift_backups();
  void note_failure(const std::string& what, int error);
  void rotation_failed(const std::string& what_and_why);
  void rotation_failed(const std::string& what, int error) {
    rotation_failed(what + ": " + hydra::detail::errno_text(error));
  }
  std::string backup_name(long index) const { return options.path + "." + std::to_string(index); }

  AuditChainOptions options;
  std::string key;
  std::string key_id;
  std::string checkpoint_path;
  FileDescriptor lock_fd;  // holds the writer's lock while it lives
  FileDescriptor fd;       // the live file
  bool resume_file = false;

  mutable std::mutex mutex;
  bool started = false;  // a line exists (else the next is the genesis header)
  ChainHead head;        // the last line made (pending or written)
  ChainHead written;     // the last line fully written to the file
  std::optional<std::uint64_t> checkpoint_seq;
  std::uint64_t lines_since_checkpoint = 0;
  Clock::time_point last_checkpoint = Clock::now();
  std::string pending;  // lines made but not yet written (the device failed)
  std::uint64_t file_size = 0;
  std::uint64_t file_records = 0;
  std::uint64_t unnoted_drops = 0;  // refused records not yet noted in the chain
  bool failing = false;             // in a failure episode (reported once)
  bool rotation_failing = false;    // likewise for rotation, until one succeeds
  std::string payload;              // scratch

  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> rotation_count{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> last_seq{0};
};

AuditChainSink::Impl::Impl(AuditChainOptions o) : options(std::move(o)) {
  if (options.path.empty()) throw ConfigError("audit: path: an audit destination needs a path");
  try {
    key = load_audit_key(options.key);
  } catch (const ConfigError& e) {
    config_error(e.what());
  }
  key_id = detail::key_id(key);
  if (options.max_size > 0 && options.backup_count < 1 &&
      options.backup_count != kKeepAllAuditFiles) {
    config_error(
        fmt::format("backup_count: {} must be >= 1 when max_size is set (an audit "
                    "trail is never rotated by truncation)",
                    options.backup_count));
  }
  if (options.backup_count > kMaxBackupCount) {
    config_error(
        fmt::format("backup_count: {} is more than {} (kKeepAllAuditFiles keeps every "
                    "rotated file)",
                    options.backup_count, kMaxBackupCount));
  }
  if (options.checkpoint_every == 0) config_error("checkpoint_every: must be >= 1");
  if (const std::string problem = path_problem(true); !problem.empty()) config_error(problem);
  checkpoint_path = options.path + ".checkpoint";
  take_lock();
  const std::optional<ChainHead> found = find_head();
  fd.reset(open_for_append(options.path));
  if (fd.get() < 0) config_error("cannot open: " + hydra::detail::errno_text(errno));
  std::lock_guard lock(mutex);
  if (found) {
    started = true;
    head = written = *found;
    last_seq.store(head.seq, std::memory_order_relaxed);
  }
  if (!resume_file) {
    add_header();
    const hydra::detail::WriteResult result =
        hydra::detail::write_all(fd.get(), pending, std::chrono::milliseconds(0));
    if (result.error != 0) config_error("cannot write: " + hydra::detail::errno_text(result.error));
    file_size += result.written;
    pending.clear();
    written = head;
    checkpoint();
  }
}

AuditChainSink::Impl::~Impl() {
  {
    std::lock_guard lock(mutex);
    write_pending();
    if (!pending.empty()) {
      report(fmt::format("audit '{}': {} bytes could not be written before close and are lost",
                         options.path, pending.size()));
    }
    checkpoint();
  }
  // fd, then lock_fd (releasing the lock), close as members.
}

std::string AuditChainSink::Impl::path_problem(bool advice) const {
  const std::string& path = options.path;
  const std::string_view kind_advice =
      " (an audit chain is verified, appended to and rotated as a file: give the path of a "
      "regular file, or of one to be created)";
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return "";  // open() tells more
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(path, ec).string();
    if (options.max_size > 0) {
      return "is a symbolic link (to '" + target + "'), not a regular file" +
             (advice ? " (rotation would move the link, not the file: give the path of the file "
                       "itself)"
                     : "");
    }
    // Without rotation the link is only opened: fine to a regular file, or
    // to none yet (open creates it).
    if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return "";
    return "is a symbolic link to " + hydra::detail::file_kind(st.st_mode) + " ('" + target +
           "'), not a regular file" + (advice ? std::string(kind_advice) : "");
  }
  return "is " + hydra::detail::file_kind(st.st_mode) + ", not a regular file" +
         (advice ? std::string(kind_advice) : "");
}

void AuditChainSink::Impl::take_lock() {
  const std::string lock_path = options.path + ".lock";
  int opened = -1;
  do {
    opened = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  } while (opened < 0 && errno == EINTR);
  lock_fd.reset(opened);
  if (opened < 0) {
    config_error("cannot open the lock file '" + lock_path +
                 "': " + hydra::detail::errno_text(errno));
  }
  const auto deadline = Clock::now() + options.lock_timeout;
  while (::flock(opened, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK || Clock::now() >= deadline) {
      const int error = errno;
      config_error(error == EWOULDBLOCK
                       ? "another writer holds the chain (lock '" + lock_path +
                             "'); a chain has one writer at a time"
                       : "cannot lock '" + lock_path + "': " + hydra::detail::errno_text(error));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::optional<ChainHead> AuditChainSink::Impl::find_head() {
  const auto verify = [&](const std::string& path, const std::string& checkpoint) {
    const std::string files[] = {path};
    try {
      return verify_audit_files(files, key,
                                {.checkpoint = checkpoint, .require_checkpoint = false});
    } catch (const std::system_error& e) {
      config_error(e.what());
    }
  };
  const auto refuse = [&](const AuditVerifyResult& result) {
    config_error("the existing chain does not verify: " + result.describe() +
                 "; refusing to append to it (check it with `hydra audit verify`, move it "
                 "aside, then start again)");
  };
  struct stat st {};
  if (::stat(options.path.c_str(), &st) == 0 && st.st_size > 0) {
    const AuditVerifyResult result = verify(options.path, checkpoint_path);
    if (!result.ok()) refuse(result);
    resume_file = true;
    file_size = static_cast<std::uint64_t>(st.st_size);
    file_records = result.records;
    return head_of(result);
  }
  // No live file (or an empty one): a new file, linked to what came before.
  detail::CheckpointRead read;
  try {
    read = detail::read_checkpoint(checkpoint_path, key);
  } catch (const std::system_error& e) {
    config_error(e.what());
  }
  switch (read.state) {
    case detail::CheckpointState::ok: return ChainHead{read.checkpoint.seq, read.checkpoint.mac};
    case detail::CheckpointState::missing: break;
    case detail::CheckpointState::malformed:
    case detail::CheckpointState::wrong_key:
    case detail::CheckpointState::not_authentic:
      config_error(read.detail + "; refusing to start a chain that cannot be linked");
  }
  if (::stat(backup_name(1).c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      config_error("'" + backup_name(1) + "' is " + hydra::detail::file_kind(st.st_mode) +
                   ", not a rotated file of the chain; refusing to start a chain that cannot be "
                   "linked (move it aside)");
    }
    const AuditVerifyResult result = verify(backup_name(1), "");
    if (!result.ok()) refuse(result);
    return head_of(result);
  }
  return std::nullopt;
}

void AuditChainSink::Impl::add_line(LineKind kind, std::string_view line_payload) {
  const std::uint64_t seq = started ? head.seq + 1 : 0;
  const Mac mac = detail::chain_mac(key, head.mac, kind, seq, line_payload);
  detail::append_line(pending, kind, seq, mac, line_payload);
  started = true;
  head = {seq, mac};
  last_seq.store(seq, std::memory_order_relaxed);
  ++lines_since_checkpoint;
  if (kind == LineKind::record) ++file_records;
}

void AuditChainSink::Impl::add_header() {
  // The genesis header links to 32 zero bytes; a later one to the line before.
  add_line(LineKind::header, detail::link_payload(key_id, "prev", head.mac));
}

bool AuditChainSink::Impl::write_pending() {
  if (pending.empty()) return true;
  const hydra::detail::WriteResult result =
      hydra::detail::write_all(fd.get(), pending, std::chrono::milliseconds(0));
  file_size += result.written;
  pending.erase(0, result.written);
  if (result.error != 0) {
    note_failure("write failed", result.error);
    return false;
  }
  written = head;
  if (failing) {
    failing = false;
    report(fmt::format("audit '{}': writing again", options.path));
  }
  return true;
}

void AuditChainSink::Impl::note_failure(const std::string& what, int error) {
  errors.fetch_add(1, std::memory_order_relaxed);
  if (failing) return;
  failing = true;
  report(fmt::format("audit '{}': {}: {} (will retry)", options.path, what,
                     hydra::detail::errno_text(error)));
}

void AuditChainSink::Impl::maybe_checkpoint() {
  if (lines_since_checkpoint >= options.checkpoint_every ||
      (lines_since_checkpoint > 0 &&
       Clock::now() - last_checkpoint >= options.checkpoint_interval)) {
    checkpoint();
  }
}

void AuditChainSink::Impl::checkpoint() {
  // Only lines in the file: a checkpoint never claims more than a reader finds.
  if (!write_pending() || !started || checkpoint_seq == written.seq) return;
  if (options.durable && ::fdatasync(fd.get()) != 0) {
    note_failure("fdatasync failed", errno);
    return;
  }
  const std::string temp = checkpoint_path + ".tmp";
  const std::string text = detail::checkpoint_text(key, {written.seq, written.mac});
  int cfd = -1;
  do {
    cfd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  } while (cfd < 0 && errno == EINTR);
  if (cfd < 0) {
    note_failure("cannot write the checkpoint '" + temp + "'", errno);
    return;
  }
  const hydra::detail::WriteResult result =
      hydra::detail::write_all(cfd, text, std::chrono::milliseconds(0));
  int error = result.error;
  if (error == 0 && options.durable && ::fsync(cfd) != 0) error = errno;
  ::close(cfd);
  if (error == 0 && ::rename(temp.c_str(), checkpoint_path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temp.c_str());
    note_failure("cannot write the checkpoint '" + checkpoint_path + "'", error);
    return;
  }
  if (options.durable) {
    // The rename itself, so the checkpoint survives a power loss.
    std::string directory = std::filesystem::path(checkpoint_path).parent_path().string();
    if (directory.empty()) directory = ".";
    const int dfd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  checkpoint_seq = written.seq;
  lines_since_checkpoint = 0;
  last_checkpoint = Clock::now();
}

void AuditChainSink::Impl::rotation_failed(const std::string& what_and_why) {
  errors.fetch_add(1, std::memory_order_relaxed);
  if (rotation_failing) return;
  rotation_failing = true;
  report(fmt::format("audit '{}': rotation: {} (will retry at the next record)", options.path,
                     what_and_why));
}

// Rotation renames the path: only while it is a regular file (not a link, a
// device, a FIFO... put there since), and checked before any rotated file
// moves, so that a rotation that cannot finish moves nothing.
bool AuditChainSink::Impl::path_is_regular_file() {
  struct stat st {};
  if (::lstat(options.path.c_str(), &st) != 0) {
    rotation_failed("lstat '" + options.path + "'", errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    rotation_failed("it is now " + hydra::detail::file_kind(st.st_mode) +
                    ", not a regular file: not rotated");
    return false;
  }
  return true;
}

// The numbers of the rotated files present (path.N), highest first, from one
// read of the directory: a rotation costs the files present, whatever
// backup_count allows. Nothing else in the directory is listed, so nothing
// else is renamed or deleted.
bool AuditChainSink::Impl::list_rotated_files(std::vector<long>& indices) {
  indices.clear();
  const std::error_code ec =
      hydra::detail::for_each_suffix_of(options.path, [&](std::string_view suffix) {
        if (const auto index = hydra::detail::positive_number(suffix)) indices.push_back(*index);
      });
  if (ec) {
    // A partial list could let a rename replace a file it did not see.
    rotation_failed(
        "read the directory '" + hydra::detail::directory_of(options.path).string() + "'",
        ec.value());
    return false;
  }
  std::sort(indices.begin(), indices.end(), std::greater<>());
  return true;
}

// Each rotated file present moves up one, highest first (so each goes to a
// name already vacated, and gaps stay); with a backup_count, those at
// backup_count and beyond are deleted. Then the live file becomes path.1.
bool AuditChainSink::Impl::shift_backups() {
  if (!path_is_regular_file()) return false;
  std::vector<long> indices;
  if (!list_rotated_files(indices)) return false;
  const bool keep_all = options.backup_count == kKeepAllAuditFiles;
  if (keep_all && !indices.empty() && indices.front() == std::numeric_limits<long>::max()) {
    rotation_failed("'" + backup_name(indices.front()) + "' cannot move up: no higher number");
    return false;
  }
  for (const long index : indices) {
    const std::string name = backup_name(index);
    if (!keep_all && index >= options.backup_count) {
      if (::unlink(name.c_str()) != 0 && errno != ENOENT) {
        rotation_failed("cannot delete '" + name + "'", errno);
        return false;
      }
    } else if (::rename(name.c_str(), backup_name(index + 1).c_str()) != 0 && errno != ENOENT) {
      rotation_failed("cannot rename '" + name + "' to '" + backup_name(index + 1) + "'", errno);
      return false;
    }
  }
  if (::rename(options.path.c_str(), backup_name(1).c_str()) != 0) {
    rotation_failed("cannot rename to '" + backup_name(1) + "'", errno);
    return false;
  }
  return true;
}

void AuditChainSink::Impl::rotate() {
  // The old file's end is checkpointed before it moves; the new file's header
  // links to it.
  checkpoint();
  if (!pending.empty() || !shift_backups()) return;  // retried at the next record
  const int new_fd = open_for_append(options.path);
  if (new_fd < 0) {
    rotation_failed("cannot open a new file", errno);
    return;  // the old descriptor (now path.1) keeps the chain going
  }
  fd.reset(new_fd);
  file_size = 0;
  file_records = 0;
  rotation_failing = false;
  rotation_count.fetch_add(1, std::memory_order_relaxed);
  add_header();
  write_pending();
  checkpoint();
}

AuditChainSink::AuditChainSink(AuditChainOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

AuditChainSink::~AuditChainSink() = default;

void AuditChainSink::write(const Record& /*record*/, std::string_view bytes) {
  if (bytes.ends_with('\n')) bytes.remove_suffix(1);
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  try {
    if (!im.write_pending() && im.pending.size() >= im.options.max_pending) {
      im.dropped.fetch_add(1, std::memory_order_relaxed);
      ++im.unnoted_drops;
      return;
    }
    if (im.unnoted_drops > 0 && im.pending.empty()) {
      // In-band, chained: the trail itself says records were refused.
      im.add_line(LineKind::record, fmt::format(R"({{"hydra_audit":"records_dropped","count":{}}})",
                                                im.unnoted_drops));
      im.unnoted_drops = 0;
    }
    im.payload.clear();
    detail::append_escaped_payload(bytes, im.payload);
    // "R <seq> <mac> <payload>\n": 68 bytes and the digits besides the payload.
    const std::uint64_t line_size = im.payload.size() + 68 + 20;
    if (im.options.max_size > 0 && im.file_records > 0 &&
        im.file_size + im.pending.size() + line_size > im.options.max_size) {
      im.rotate();
    }
    im.add_line(LineKind::record, im.payload);
    im.write_pending();
    im.maybe_checkpoint();
  } catch (const std::bad_alloc&) {
    im.dropped.fetch_add(1, std::memory_order_relaxed);
    ++im.unnoted_drops;
  }
}

void AuditChainSink::flush() {
  std::lock_guard lock(impl_->mutex);
  impl_->checkpoint();
}

void AuditChainSink::reopen() {
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  if (!im.write_pending()) return;
  struct stat now {};
  struct stat ours {};
  if (::fstat(im.fd.get(), &ours) == 0 && ::stat(im.options.path.c_str(), &now) == 0 &&
      now.st_dev == ours.st_dev && now.st_ino == ours.st_ino) {
    return;  // still the same file
  }
  if (const std::string problem = im.path_problem(false); !problem.empty()) {
    // Opening a FIFO would block; a device or a link would be rotated.
    im.errors.fetch_add(1, std::memory_order_relaxed);
    im.report(fmt::format("audit '{}': reopen: it {}: still writing to the file open before",
                          im.options.path, problem));
    return;
  }
  if (::stat(im.options.path.c_str(), &now) == 0 && now.st_size > 0) {
    im.errors.fetch_add(1, std::memory_order_relaxed);
    im.report(
        fmt::format("audit '{}': reopen: the file now at the path is not this chain's; "
                    "still writing to the one it replaced",
                    im.options.path));
    return;
  }
  const int new_fd = open_for_append(im.options.path);
  if (new_fd < 0) {
    im.note_failure("reopen: cannot open", errno);
    return;
  }
  im.checkpoint();
  im.fd.reset(new_fd);
  im.file_size = 0;
  im.file_records = 0;
  im.add_header();
  im.write_pending();
  im.checkpoint();
}

std::uint64_t AuditChainSink::write_errors() const {
  return impl_->errors.load(std::memory_order_relaxed);
}

std::uint64_t AuditChainSink::last_seq() const {
  return impl_->last_seq.load(std::memory_order_relaxed);
}

std::uint64_t AuditChainSink::rotations() const {
  return impl_->rotation_count.load(std::memory_order_relaxed);
}

std::uint64_t AuditChainSink::dropped_records() const {
  return impl_->dropped.load(std::memory_order_relaxed);
}

DestinationConfig audit_destination(AuditChainOptions options, std::string format) {
  DestinationConfig d;
  d.type = "audit";
  d.path = options.path;
  d.format = std::move(format);
  d.color_mode = ColorMode::never;
  d.make_sink = [options = std::move(options)] {
    return std::make_shared<AuditChainSink>(options);
  };
  return d;
}

DestinationConfig audit_file(AuditChainOptions options, std::string format) {
  DestinationConfig d = audit_destination(options, std::move(format));
  d.sink = std::make_shared<AuditChainSink>(std::move(options));
  d.make_sink = nullptr;
  return d;
}

}  // namespace hydra::protect
