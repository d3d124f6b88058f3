// The tamper-evident audit trail: a sink that writes every record it gets as
// one line carrying a sequence number and an HMAC-SHA256 over the previous
// line's MAC and this line, so that a changed, removed, added or moved line
// breaks the chain (docs/protect.md, "Audit trail", has the file format).
//
//   hydra::protect::AuditChainOptions audit;
//   audit.path = "/var/log/app/audit.log";
//   audit.key.file = "/etc/app/audit.key";  // or key.env = "APP_AUDIT_KEY"
//   audit.max_size = 64 << 20;              // rotate: audit.log.1, .2, ...
//   cfg.layers["AUDIT"].destinations = {hydra::protect::audit_file(audit)};
//   ...
//   // later: hydra audit verify --key-file /etc/app/audit.key audit.log.2 audit.log.1 audit.log
//
// Guarantees:
// - No key, no chain: a missing, unreadable, empty or short key is a
//   hydra::ConfigError when the sink is built, never an unsigned log.
// - Reopening continues the chain: an existing file is verified first and
//   appended to from its last line; a file that does not verify (or ends
//   before its checkpoint) is a ConfigError, never silently restarted.
// - Rotation continues the chain: each file starts with a header line that
//   links to the previous file's last line. A rotation reads the directory
//   once and moves only the rotated files present, so it costs what is on
//   disk, not backup_count.
// - Only a regular file holds a chain: the path must be one or not exist yet
//   (a symbolic link is followed only when the chain does not rotate). A
//   path that becomes something else is neither rotated nor reopened.
// - A checkpoint file ("<path>.checkpoint", replaced atomically) holds the
//   last seq and MAC written, every checkpoint_every lines, after
//   checkpoint_interval, on flush() and on close, so a verifier notices a
//   tail cut before it.
// - One writer per chain: the sink holds an exclusive lock ("<path>.lock")
//   while it lives.
// - Thread-safe (one mutex: the audit path is not the hot path). Each record
//   is written with write(2) at once; nothing waits in a user-space buffer
//   unless the device fails (then lines wait in order, up to max_pending).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "hydra/config/config.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::protect {

// Where the HMAC key comes from; set exactly one.
struct AuditKeySource {
  // A file holding the key's raw bytes (one trailing newline is ignored, so
  // `openssl rand -hex 32 > audit.key` works). Keep it readable by the
  // writer and the auditors only.
  std::string file{};
  // The name of an environment variable holding the key.
  std::string env{};
  // The key itself.
  std::string value{};
};

// AuditChainOptions::backup_count for a chain that deletes no rotated file.
inline constexpr int kKeepAllAuditFiles = -1;

// Keys shorter than this are refused.
inline constexpr std::size_t kMinAuditKeySize = 16;

// Loads the key. Throws hydra::ConfigError naming the file (and the errno
// text) or the variable when it is missing, unreadable, empty or shorter than
// kMinAuditKeySize bytes, when no source is set, or when more than one is.
std::string load_audit_key(const AuditKeySource& source);

struct AuditChainOptions {
  // The live file: a regular file, or none yet. Rotated files are path.1
  // (the newest) to path.N.
  std::string path;
  AuditKeySource key;
  // Rotate when the next record would take the file past this many bytes
  // (0: never). A file always takes at least one record.
  std::uint64_t max_size = 0;
  // Rotated files kept; older ones are deleted (verification then starts at
  // the oldest file kept). At least 1 when max_size is set, at most
  // hydra::kMaxBackupCount. kKeepAllAuditFiles: none is ever deleted (the sox
  // compliance profile), and each rotation renames every file kept.
  int backup_count = 5;
  // A checkpoint is written after this many lines...
  std::uint64_t checkpoint_every = 100;
  // ...or at the first record after this much time since the last one, and
  // on flush() and on close.
  std::chrono::milliseconds checkpoint_interval{1000};
  // fdatasync the file, and fsync the checkpoint, at each checkpoint: the
  // checkpoint never claims lines that a power loss could take back.
  bool durable = true;
  // How long to wait for another writer's lock before giving up (0: fail at
  // once). `hydra audit append` waits, so shell scripts take turns.
  std::chrono::milliseconds lock_timeout{0};
  // Lines kept while the device fails; records beyond this are refused
  // (counted in dropped_records(), and noted by a chained record once writing
  // works again).
  std::size_t max_pending = std::size_t{16} * 1024 * 1024;
};

class AuditChainSink final : public hydra::Sink {
 public:
  // Loads the key, takes the lock, verifies an existing file (and its
  // checkpoint) and continues its chain, or starts a file with its header.
  // Throws hydra::ConfigError ("audit '<path>': ...") for a key problem, a
  // backup_count out of range, a path that is not a regular file (naming
  // what it is) or cannot be opened, another writer, or an existing chain
  // that does not verify (naming the first bad line and the kind of damage).
  explicit AuditChainSink(AuditChainOptions options);
  // Writes what is pending and a final checkpoint, and releases the lock.
  ~AuditChainSink() override;
  AuditChainSink(const AuditChainSink&) = delete;
  AuditChainSink& operator=(const AuditChainSink&) = delete;

  // One record, one line: `bytes` without its trailing newline, control
  // characters (but TAB) written as \xHH, is the line's payload.
  void write(const Record& record, std::string_view bytes) override;
  // Writes what is pending and a checkpoint.
  void flush() override;
  // After an external rename: continues the chain in a new file at `path`
  // (starting with a header), or keeps writing where it was when the file at
  // `path` is not this chain's or not a regular file (counted, reported).
  void reopen() override;
  std::uint64_t write_errors() const override;
  bool is_audit_trail() const override { return true; }

  // The seq of the chain's last line (header or record).
  std::uint64_t last_seq() const;
  std::uint64_t rotations() const;
  // Records refused because the device failed and max_pending was reached.
  std::uint64_t dropped_records() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A destination that writes the audit chain in `format` (JSON Lines by
// default; any line format works). Builds the sink at once, so a bad key or
// a damaged chain throws hydra::ConfigError here.
DestinationConfig audit_file(AuditChainOptions options, std::string format = "json");

// The same destination with its sink made when a Logger is built from the
// configuration (DestinationConfig::make_sink): a configuration that only
// describes the chain opens, verifies and locks nothing, so it can be made,
// explained or reloaded while a logger holds the chain (a reconfigure that
// keeps the destination keeps the live sink). A bad key or a damaged chain
// throws hydra::ConfigError when the logger is built.
DestinationConfig audit_destination(AuditChainOptions options, std::string format = "json");

}  // namespace hydra::protect
