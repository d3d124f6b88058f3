// Internal: the audit trail's file format, written once for the sink, the
// verifier and the checkpoint (docs/protect.md, "Audit trail", spells it out
// for third-party verifiers). Not part of the public API.
//
//   line       = kind " " seq " " mac " " payload "\n"
//   kind       = "H" (a file's header) | "R" (a record)
//   seq        = decimal, no leading zeros; every line is the previous + 1
//   mac        = 64 lower-case hex digits of
//                HMAC-SHA256(key, prev_mac[32] || kind[1] || be64(seq) ||
//                            be64(payload size) || payload)
//   H payload  = "hydra-audit/1 key=<16 hex> prev=<64 hex>"
//   checkpoint = "C " seq " " mac " hydra-audit/1 key=<16 hex> last=<64 hex>\n"
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::protect::detail {

using Mac = std::array<unsigned char, 32>;
inline constexpr Mac kZeroMac{};
inline constexpr std::string_view kAuditFormat = "hydra-audit/1";

enum class LineKind : char { header = 'H', record = 'R', checkpoint = 'C' };

// HMAC-SHA256(key, prev || kind || be64(seq) || be64(payload.size()) || payload).
// Every input before the payload has a fixed size, so no two different lines
// share an input.
Mac chain_mac(std::string_view key, const Mac& prev, LineKind kind, std::uint64_t seq,
              std::string_view payload);

// The first 8 bytes of HMAC-SHA256(key, "hydra-audit key id"), in hex: names
// the key without revealing it, so a verifier can tell "wrong key" apart.
std::string key_id(std::string_view key);

std::string to_hex(const Mac& mac);
std::optional<Mac> mac_from_hex(std::string_view hex);

struct ParsedLine {
  LineKind kind = LineKind::record;
  std::uint64_t seq = 0;
  Mac mac{};
  std::string_view payload;
};

// Parses one line without its '\n'. On failure returns nullopt and says why.
std::optional<ParsedLine> parse_line(std::string_view line, std::string& why);

// Appends "kind seq mac payload\n".
void append_line(std::string& out, LineKind kind, std::uint64_t seq, const Mac& mac,
                 std::string_view payload);

// The payload of a header ("prev=") or a checkpoint ("last="): the format,
// the key id and a MAC.
std::string link_payload(std::string_view key_id, std::string_view mac_name, const Mac& mac);
struct LinkPayload {
  std::string key_id;
  Mac mac{};
};
std::optional<LinkPayload> parse_link_payload(std::string_view payload, std::string_view mac_name);

// Appends `bytes` with every C0 control character but TAB, and DEL, written
// as \xHH: a payload is always one line and never drives a terminal.
void append_escaped_payload(std::string_view bytes, std::string& out);

// Reads a whole file into `out`; returns 0 or the errno of the failure.
int read_whole_file(const std::string& path, std::string& out);

// The checkpoint sidecar: the chain's last line (seq and MAC) when it was
// written, MACed itself.
struct Checkpoint {
  std::uint64_t seq = 0;
  Mac mac{};
};
enum class CheckpointState : std::uint8_t { ok, missing, malformed, wrong_key, not_authentic };
struct CheckpointRead {
  CheckpointState state = CheckpointState::missing;
  Checkpoint checkpoint;
  std::string detail;  // for the states other than ok
};
// Throws std::system_error when the file exists but cannot be read.
CheckpointRead read_checkpoint(const std::string& path, std::string_view key);
std::string checkpoint_text(std::string_view key, const Checkpoint& checkpoint);

}  // namespace hydra::protect::detail
