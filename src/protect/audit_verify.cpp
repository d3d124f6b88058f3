#include "hydra/protect/audit_verify.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "audit_format.hpp"
#include "hydra/core/error.hpp"
#include "hydra/protect/audit_chain.hpp"

namespace hydra::protect {
namespace {

using detail::LineKind;
using detail::Mac;
using detail::ParsedLine;

// Where a line is: the file (index into the list), the byte offset of the
// line's start, and its 1-based line number.
struct Position {
  std::size_t file = 0;
  std::uint64_t offset = 0;
  std::uint64_t line = 1;
};

// Reads the lines of several files in order, as a stream, from a position.
class LineCursor {
 public:
  LineCursor(std::span<const std::string> files, Position start) : files_(files), next_(start) {}
  ~LineCursor() { close(); }
  LineCursor(const LineCursor&) = delete;
  LineCursor& operator=(const LineCursor&) = delete;

  // The next line, without its '\n'; `complete` is false for a last line
  // without one. `at` is where the line starts. False after the last file.
  bool next(std::string& text, bool& complete, Position& at) {
    text.clear();
    for (;;) {
      if (fd_ < 0 && !open_next()) return false;
      at = next_;
      for (;;) {
        if (begin_ == end_ && !fill()) break;
        const std::string_view chunk(buffer_.get() + begin_, end_ - begin_);
        const std::size_t newline = chunk.find('\n');
        if (newline != std::string_view::npos) {
          text.append(chunk.substr(0, newline));
          begin_ += newline + 1;
          next_.offset += text.size() + 1;
          ++next_.line;
          complete = true;
          return true;
        }
        text.append(chunk);
        begin_ = end_;
      }
      close();  // the end of this file
      const Position ended = next_;
      next_ = {ended.file + 1, 0, 1};
      if (!text.empty()) {
        complete = false;
        return true;
      }
    }
  }

  // Where the next line starts.
  const Position& position() const { return next_; }
  const std::string& file_name(std::size_t index) const { return files_[index]; }

 private:
  bool open_next() {
    while (next_.file < files_.size()) {
      const std::string& path = files_[next_.file];
      do {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      } while (fd_ < 0 && errno == EINTR);
      if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "audit: cannot open '" + path + "'");
      }
      if (next_.offset > 0 &&
          ::lseek(fd_, static_cast<off_t>(next_.offset), SEEK_SET) == static_cast<off_t>(-1)) {
        throw std::system_error(errno, std::generic_category(),
                                "audit: cannot seek '" + path + "'");
      }
      begin_ = end_ = 0;
      return true;
    }
    return false;
  }

  bool fill() {
    ssize_t n = 0;
    do {
      n = ::read(fd_, buffer_.get(), kBufferSize);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "audit: cannot read '" + files_[next_.file] + "'");
    }
    begin_ = 0;
    end_ = static_cast<std::size_t>(n);
    return n > 0;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::span<const std::string> files_;
  Position next_;
  int fd_ = -1;
  static constexpr std::size_t kBufferSize = std::size_t{1} << 16;
  std::unique_ptr<char[]> buffer_ = std::make_unique<char[]>(kBufferSize);
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

class Verifier {
 public:
  Verifier(std::span<const std::string> files, std::string_view key)
      : files_(files), key_(key), key_id_(detail::key_id(key)) {}

  AuditVerifyResult run(const AuditVerifyOptions& options);

 private:
  // Whether `line` is the chain's line `seq` after a line whose MAC is
  // `prev`: the number, the MAC and, for a header, its link and key id.
  bool links(const ParsedLine& line, std::uint64_t seq, const Mac& prev) const {
    if (line.seq != seq ||
        detail::chain_mac(key_, prev, line.kind, seq, line.payload) != line.mac) {
      return false;
    }
    if (line.kind != LineKind::header) return true;
    const auto link = detail::parse_link_payload(line.payload, "prev");
    return link && link->key_id == key_id_ && link->mac == prev;
  }

  // The first line: a header, which anchors the chain.
  bool anchor(const ParsedLine& line, const Position& at);
  // Names the damage at `line` (which does not link), looking ahead from `after`.
  void classify(const ParsedLine& line, const Position& at, const Position& after);
  void check_checkpoint(const AuditVerifyOptions& options);

  void fail(AuditDamage damage, const Position& at, std::optional<std::uint64_t> seq,
            std::string detail) {
    result_.damage = damage;
    result_.file = files_[at.file];
    result_.line = at.line;
    result_.seq = seq;
    result_.expected_seq = expected_;
    result_.detail = std::move(detail);
  }
  std::string where(const Position& at) const {
    return fmt::format("{}:{}", files_[at.file], at.line);
  }

  std::span<const std::string> files_;
  std::string_view key_;
  std::string key_id_;
  AuditVerifyResult result_;
  bool anchored_ = false;
  std::uint64_t expected_ = 0;  // the seq the next line must carry
  Mac prev_{};                  // the MAC of the last line that verified
  Position last_at_;            // where that line is
  std::optional<detail::Checkpoint> checkpoint_;
  std::optional<Mac> mac_at_checkpoint_;  // the chain's MAC at the checkpoint's seq
};

bool Verifier::anchor(const ParsedLine& line, const Position& at) {
  if (line.kind != LineKind::header) {
    fail(AuditDamage::deleted, at, line.seq,
         "the chain does not start with a header line: its beginning is missing");
    return false;
  }
  const auto link = detail::parse_link_payload(line.payload, "prev");
  if (!link) {
    fail(AuditDamage::malformed, at, line.seq,
         "a header's payload must be 'hydra-audit/1 key=<16 hex> prev=<64 hex>'");
    return false;
  }
  if (link->key_id != key_id_) {
    fail(AuditDamage::wrong_key, at, line.seq,
         fmt::format("the chain was written with key id {}; this key's id is {}", link->key_id,
                     key_id_));
    return false;
  }
  if (detail::chain_mac(key_, link->mac, LineKind::header, line.seq, line.payload) != line.mac) {
    fail(AuditDamage::modified, at, line.seq,
         "the header does not authenticate (it was changed; the key id matches)");
    return false;
  }
  anchored_ = true;
  result_.first_seq = line.seq;
  result_.from_genesis = line.seq == 0 && link->mac == detail::kZeroMac;
  return true;
}

void Verifier::classify(const ParsedLine& line, const Position& at, const Position& after) {
  const std::uint64_t e = expected_;
  const std::uint64_t s = line.seq;
  const LineKind other = line.kind == LineKind::header ? LineKind::record : LineKind::header;
  if (s == e && detail::chain_mac(key_, prev_, other, e, line.payload) == line.mac) {
    fail(AuditDamage::modified, at, s,
         fmt::format("its kind was changed from '{}' to '{}'", static_cast<char>(other),
                     static_cast<char>(line.kind)));
    return;
  }
  if (line.kind == LineKind::header) {
    const auto link = detail::parse_link_payload(line.payload, "prev");
    if (!link) {
      fail(AuditDamage::malformed, at, s,
           "a header's payload must be 'hydra-audit/1 key=<16 hex> prev=<64 hex>'");
      return;
    }
    if (link->key_id != key_id_) {
      fail(AuditDamage::wrong_key, at, s,
           fmt::format("this file was written with key id {}; this key's id is {}", link->key_id,
                       key_id_));
      return;
    }
  }
  if (s != e && detail::chain_mac(key_, prev_, line.kind, e, line.payload) == line.mac) {
    fail(AuditDamage::modified, at, s,
         fmt::format("its sequence number was changed from {} to {}", e, s));
    return;
  }

  std::string text;
  bool complete = false;
  Position pos;
  std::string why;
  {
    // Does the chain go on right after this line, as if it were not there?
    LineCursor ahead(files_, after);
    std::optional<ParsedLine> next;
    if (ahead.next(text, complete, pos) && complete) next = detail::parse_line(text, why);
    if (next && links(*next, e, prev_)) {
      std::uint64_t want = e + 1;
      Mac mac = next->mac;
      while (ahead.next(text, complete, pos)) {
        const auto parsed = complete ? detail::parse_line(text, why) : std::nullopt;
        if (!parsed || !links(*parsed, want, mac)) break;
        ++want;
        mac = parsed->mac;
      }
      // It stops where this line belongs, and the line authenticates there:
      // it was moved here from further on.
      if (want == s && detail::chain_mac(key_, mac, line.kind, s, line.payload) == line.mac) {
        fail(AuditDamage::reordered, at, s,
             fmt::format("seq {} belongs after seq {}, further on: lines were moved", s, s - 1));
      } else if (s < e) {
        fail(AuditDamage::inserted, at, s,
             fmt::format("seq {} appears again (a duplicated or replayed line)", s));
      } else {
        fail(AuditDamage::inserted, at, s,
             "a line that is not part of the chain: the chain goes on after it");
      }
      return;
    }
  }
  if (s > e) {
    LineCursor ahead(files_, after);
    while (ahead.next(text, complete, pos)) {
      const auto parsed = complete ? detail::parse_line(text, why) : std::nullopt;
      if (parsed && parsed->seq == e) {
        fail(AuditDamage::reordered, at, s,
             fmt::format("seq {} comes here, but seq {} comes later, at {}", s, e, where(pos)));
        return;
      }
    }
    fail(AuditDamage::deleted, at, s,
         s - e == 1 ? fmt::format("seq {} is missing (1 line)", e)
                    : fmt::format("seq {}..{} are missing ({} lines)", e, s - 1, s - e));
    return;
  }
  if (s < e) {
    if (line.kind == LineKind::header && at.line == 1 && at.file > 0) {
      fail(AuditDamage::reordered, at, s,
           fmt::format("this file's chain starts at seq {}, before the end of the previous file "
                       "(seq {}): give the files oldest first",
                       s, e - 1));
    } else {
      fail(AuditDamage::inserted, at, s,
           fmt::format("seq {} repeats or goes back (a duplicated or replayed line)", s));
    }
    return;
  }
  fail(AuditDamage::modified, at, s,
       line.kind == LineKind::header
           ? std::string("the header does not authenticate or does not link to the line before")
           : std::string("the line does not authenticate: its payload, MAC or kind was changed"));
}

void Verifier::check_checkpoint(const AuditVerifyOptions& options) {
  if (options.checkpoint.empty()) return;
  const detail::CheckpointRead read = detail::read_checkpoint(options.checkpoint, key_);
  const Position end{last_at_.file, 0, last_at_.line + 1};
  switch (read.state) {
    case detail::CheckpointState::ok: break;
    case detail::CheckpointState::missing:
      if (options.require_checkpoint) {
        fail(AuditDamage::checkpoint, end, std::nullopt,
             read.detail + ": a cut tail cannot be noticed without it");
      }
      return;
    case detail::CheckpointState::malformed:
    case detail::CheckpointState::wrong_key:
    case detail::CheckpointState::not_authentic:
      fail(AuditDamage::checkpoint, end, std::nullopt, read.detail);
      return;
  }
  const detail::Checkpoint& cp = read.checkpoint;
  result_.checkpoint_seq = cp.seq;
  if (cp.seq > result_.last_seq) {
    const std::uint64_t missing = cp.seq - result_.last_seq;
    fail(AuditDamage::truncated, end, std::nullopt,
         fmt::format("the chain ends at seq {}, but its checkpoint records seq {}: {} line{} "
                     "at the end {} missing",
                     result_.last_seq, cp.seq, missing, missing == 1 ? "" : "s",
                     missing == 1 ? "is" : "are"));
    return;
  }
  if (cp.seq >= result_.first_seq && mac_at_checkpoint_ != cp.mac) {
    fail(AuditDamage::checkpoint, end, std::nullopt,
         fmt::format("the checkpoint's MAC for seq {} is not the chain's: it belongs to another "
                     "chain",
                     cp.seq));
  }
}

AuditVerifyResult Verifier::run(const AuditVerifyOptions& options) {
  if (!options.checkpoint.empty()) {
    // Read first, so the walk can note the chain's MAC at its seq.
    const detail::CheckpointRead read = detail::read_checkpoint(options.checkpoint, key_);
    if (read.state == detail::CheckpointState::ok) checkpoint_ = read.checkpoint;
  }
  LineCursor cursor(files_, {});
  std::string text;
  std::string why;
  bool complete = false;
  Position at;
  while (cursor.next(text, complete, at)) {
    if (!complete) {
      fail(AuditDamage::truncated, at, std::nullopt,
           "the last line of the file is incomplete: it was cut mid-record");
      return result_;
    }
    const auto line = detail::parse_line(text, why);
    if (!line) {
      fail(AuditDamage::malformed, at, std::nullopt, "not an audit line: " + why);
      return result_;
    }
    if (!anchored_) {
      if (!anchor(*line, at)) return result_;
    } else if (!links(*line, expected_, prev_)) {
      classify(*line, at, cursor.position());
      return result_;
    }
    expected_ = line->seq + 1;
    prev_ = line->mac;
    last_at_ = at;
    ++result_.lines;
    if (line->kind == LineKind::record) ++result_.records;
    result_.last_seq = line->seq;
    if (checkpoint_ && checkpoint_->seq == line->seq) mac_at_checkpoint_ = line->mac;
  }
  if (!anchored_) {
    last_at_ = {files_.empty() ? 0 : files_.size() - 1, 0, 0};
    fail(AuditDamage::truncated, {last_at_.file, 0, 1}, std::nullopt,
         "no audit lines at all (empty files)");
    return result_;
  }
  result_.last_mac = detail::to_hex(prev_);
  check_checkpoint(options);
  return result_;
}

}  // namespace

std::string_view audit_damage_name(AuditDamage damage) noexcept {
  switch (damage) {
    case AuditDamage::none: return "none";
    case AuditDamage::modified: return "modified";
    case AuditDamage::deleted: return "deleted";
    case AuditDamage::inserted: return "inserted";
    case AuditDamage::reordered: return "reordered";
    case AuditDamage::truncated: return "truncated";
    case AuditDamage::wrong_key: return "wrong_key";
    case AuditDamage::malformed: return "malformed";
    case AuditDamage::checkpoint: return "checkpoint";
  }
  return "unknown";
}

std::string AuditVerifyResult::describe() const {
  if (ok()) {
    std::string text = fmt::format("intact: {} record{}, seq {}..{}", records,
                                   records == 1 ? "" : "s", first_seq, last_seq);
    if (!from_genesis) text += fmt::format(" (the chain starts before seq {})", first_seq);
    if (!checkpoint_seq) {
      text += "; no checkpoint checked";
    } else if (*checkpoint_seq >= first_seq) {
      text += fmt::format("; checkpoint at seq {} matches", *checkpoint_seq);
    } else {
      text += fmt::format("; checkpoint at seq {} precedes these files", *checkpoint_seq);
    }
    return text;
  }
  std::string text = fmt::format("{}:{}: ", file, line);
  if (seq) text += fmt::format("seq {}: ", *seq);
  text += fmt::format("{}: {}", audit_damage_name(damage), detail);
  return text;
}

AuditVerifyResult verify_audit_files(std::span<const std::string> files, std::string_view key,
                                     const AuditVerifyOptions& options) {
  if (key.size() < kMinAuditKeySize) {
    throw ConfigError(fmt::format("audit: the key is {} bytes; at least {} are needed", key.size(),
                                  kMinAuditKeySize));
  }
  Verifier verifier(files, key);
  return verifier.run(options);
}

}  // namespace hydra::protect
