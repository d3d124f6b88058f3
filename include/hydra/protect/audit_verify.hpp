// Verifies an audit trail written by AuditChainSink (or `hydra audit
// append`): every line's sequence number and HMAC, the links between rotated
// files, and the end of the chain against its checkpoint.
//
//   const std::string key = hydra::protect::load_audit_key({.file = "audit.key"});
//   const std::vector<std::string> files = {"audit.log.2", "audit.log.1", "audit.log"};
//   auto result = hydra::protect::verify_audit_files(files, key,
//                                                    {.checkpoint = "audit.log.checkpoint"});
//   if (!result.ok()) std::cerr << result.describe() << '\n';
//   // "audit.log.1:17: seq 212: deleted: seq 210..211 are missing (2 lines)"
//
// The verifier stops at the first damage and names it: the file, the line,
// the sequence number found there, and the kind (AuditDamage). It reads the
// files as a stream (memory does not grow with their size); after a damage
// it reads the rest once more to tell a deletion from a reordering.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hydra::protect {

// What is wrong with a chain, as far as the verifier can tell.
enum class AuditDamage : std::uint8_t {
  none,
  modified,    // a line does not authenticate: its payload, MAC, kind or seq was changed
  deleted,     // lines are missing: the sequence jumps (or the chain's header is gone)
  inserted,    // a line that does not belong: a forged one, or a duplicate of an earlier one
  reordered,   // lines (or files) out of order: the missing seq turns up later
  truncated,   // the chain ends before its checkpoint, or its last line is cut short
  wrong_key,   // the chain was written with another key (its key id differs)
  malformed,   // a line is not in the audit format at all
  checkpoint,  // the checkpoint is missing (when required), modified or of another chain
};

// "modified", "deleted", ... (the enumerator's name).
std::string_view audit_damage_name(AuditDamage damage) noexcept;

struct AuditVerifyOptions {
  // The checkpoint file to compare the chain's end with: the live file's
  // "<path>.checkpoint". Empty: the end is not checked (a cut tail cannot be
  // noticed).
  std::string checkpoint{};
  // With a checkpoint path set: a missing checkpoint file is damage
  // (AuditDamage::checkpoint) rather than skipped.
  bool require_checkpoint = true;
};

struct AuditVerifyResult {
  AuditDamage damage = AuditDamage::none;
  bool ok() const noexcept { return damage == AuditDamage::none; }

  // What verified (everything when ok(), else the part before the damage).
  std::uint64_t records = 0;  // record lines; headers are not counted
  std::uint64_t lines = 0;    // all lines
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::string last_mac;  // hex, of the line last_seq
  // The first file starts the chain (its header is seq 0). When false, older
  // files were not given (or were deleted by rotation): verification starts
  // at the first header, and what came before it is not checked.
  bool from_genesis = false;
  // The checkpoint's seq, when one was read and authenticated.
  std::optional<std::uint64_t> checkpoint_seq;

  // Where the damage is (when !ok()).
  std::string file;
  std::uint64_t line = 0;            // 1-based line in `file`
  std::optional<std::uint64_t> seq;  // the sequence number on that line, if readable
  std::uint64_t expected_seq = 0;    // the one the chain needed there
  std::string detail;                // a sentence for people

  // "FILE:LINE: seq S: KIND: DETAIL" (or "intact: N records ..." when ok()).
  std::string describe() const;
};

// Verifies `files` as one chain, oldest first. `key` is the HMAC key (see
// load_audit_key in audit_chain.hpp). Throws hydra::ConfigError for a key
// shorter than 16 bytes, and std::system_error (naming the path) when a file
// cannot be opened or read; damage is never an exception.
AuditVerifyResult verify_audit_files(std::span<const std::string> files, std::string_view key,
                                     const AuditVerifyOptions& options = {});

}  // namespace hydra::protect
