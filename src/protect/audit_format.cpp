#include "audit_format.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <iterator>
#include <system_error>

namespace hydra::protect::detail {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical
}

void put_be64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xffU));
  }
}

Mac hmac(std::string_view key, std::string_view data) {
  Mac mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
  return mac;
}

}  // namespace

Mac chain_mac(std::string_view key, const Mac& prev, LineKind kind, std::uint64_t seq,
              std::string_view payload) {
  // One contiguous input per line; reused per thread (the sink holds a lock,
  // the verifier is single-threaded), so steady state allocates nothing.
  thread_local std::string input;
  input.clear();
  input.append(reinterpret_cast<const char*>(prev.data()), prev.size());
  input.push_back(static_cast<char>(kind));
  put_be64(input, seq);
  put_be64(input, payload.size());
  input.append(payload);
  return hmac(key, input);
}

std::string key_id(std::string_view key) {
  return to_hex(hmac(key, "hydra-audit key id")).substr(0, 16);
}

std::string to_hex(const Mac& mac) {
  std::string out(mac.size() * 2, '0');
  for (std::size_t i = 0; i < mac.size(); ++i) {
    out[2 * i] = kHex[mac[i] >> 4U];
    out[2 * i + 1] = kHex[mac[i] & 0xfU];
  }
  return out;
}

std::optional<Mac> mac_from_hex(std::string_view hex) {
  Mac mac{};
  if (hex.size() != mac.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    mac[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return mac;
}

std::optional<ParsedLine> parse_line(std::string_view line, std::string& why) {
  ParsedLine parsed;
  if (line.size() < 2 || line[1] != ' ' || (line[0] != 'H' && line[0] != 'R')) {
    why = "does not start with 'H ' or 'R '";
    return std::nullopt;
  }
  parsed.kind = static_cast<LineKind>(line[0]);
  line.remove_prefix(2);
  const std::size_t space = line.find(' ');
  const std::string_view digits = line.substr(0, space);
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), parsed.seq);
  if (space == std::string_view::npos || digits.empty() || error != std::errc() ||
      end != digits.data() + digits.size() || (digits.size() > 1 && digits[0] == '0')) {
    why = "no valid sequence number";
    return std::nullopt;
  }
  line.remove_prefix(space + 1);
  const auto mac = mac_from_hex(line.substr(0, 64));
  if (!mac || line.size() < 65 || line[64] != ' ') {
    why = "no valid MAC (64 lower-case hex digits and a space)";
    return std::nullopt;
  }
  parsed.mac = *mac;
  parsed.payload = line.substr(65);
  return parsed;
}

void append_line(std::string& out, LineKind kind, std::uint64_t seq, const Mac& mac,
                 std::string_view payload) {
  out.push_back(static_cast<char>(kind));
  out.push_back(' ');
  char digits[24];
  const auto result = std::to_chars(std::begin(digits), std::end(digits), seq);
  out.append(digits, result.ptr);
  out.push_back(' ');
  out.append(to_hex(mac));
  out.push_back(' ');
  out.append(payload);
  out.push_back('\n');
}

std::string link_payload(std::string_view key_id, std::string_view mac_name, const Mac& mac) {
  std::string out(kAuditFormat);
  out.append(" key=").append(key_id);
  out.append(" ").append(mac_name).append("=").append(to_hex(mac));
  return out;
}

std::optional<LinkPayload> parse_link_payload(std::string_view payload, std::string_view mac_name) {
  // Exactly: "hydra-audit/1 key=<16 hex> <mac_name>=<64 hex>".
  const std::size_t expected = kAuditFormat.size() + 5 + 16 + 1 + mac_name.size() + 1 + 64;
  if (payload.size() != expected || !payload.starts_with(kAuditFormat)) return std::nullopt;
  std::string_view rest = payload.substr(kAuditFormat.size());
  if (!rest.starts_with(" key=")) return std::nullopt;
  LinkPayload link;
  link.key_id = std::string(rest.substr(5, 16));
  for (const char c : link.key_id) {
    if (hex_value(c) < 0) return std::nullopt;
  }
  rest.remove_prefix(5 + 16);
  if (rest.size() < mac_name.size() + 2 || rest[0] != ' ' ||
      rest.substr(1, mac_name.size()) != mac_name || rest[1 + mac_name.size()] != '=') {
    return std::nullopt;
  }
  const auto mac = mac_from_hex(rest.substr(mac_name.size() + 2));
  if (!mac) return std::nullopt;
  link.mac = *mac;
  return link;
}

void append_escaped_payload(std::string_view bytes, std::string& out) {
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
      out.append("\\x");
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0xfU]);
    } else {
      out.push_back(c);
    }
  }
}

std::string checkpoint_text(std::string_view key, const Checkpoint& checkpoint) {
  const std::string payload = link_payload(key_id(key), "last", checkpoint.mac);
  std::string out;
  append_line(out, LineKind::checkpoint, checkpoint.seq,
              chain_mac(key, checkpoint.mac, LineKind::checkpoint, checkpoint.seq, payload),
              payload);
  return out;
}

int read_whole_file(const std::string& path, std::string& out) {
  out.clear();
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;
  char buffer[1 << 14];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return 0;
}

CheckpointRead read_checkpoint(const std::string& path, std::string_view key) {
  CheckpointRead result;
  std::string text;
  if (const int error = read_whole_file(path, text); error != 0) {
    if (error == ENOENT) {
      result.detail = "checkpoint '" + path + "' does not exist";
      return result;
    }
    throw std::system_error(error, std::generic_category(),
                            "audit: cannot read checkpoint '" + path + "'");
  }
  result.state = CheckpointState::malformed;
  result.detail = "checkpoint '" + path + "' is not one checkpoint line";
  if (text.size() < 2 || text.back() != '\n' || text.find('\n') != text.size() - 1 ||
      text[0] != 'C') {
    return result;
  }
  // The checkpoint line has the shape of a chain line with kind 'C'.
  std::string line = text.substr(0, text.size() - 1);
  line[0] = 'R';
  std::string why;
  const auto parsed = parse_line(line, why);
  if (!parsed) return result;
  const auto link = parse_link_payload(parsed->payload, "last");
  if (!link) return result;
  if (link->key_id != key_id(key)) {
    result.state = CheckpointState::wrong_key;
    result.detail = "checkpoint '" + path + "' was written with key id " + link->key_id +
                    ", this key's id is " + key_id(key);
    return result;
  }
  if (chain_mac(key, link->mac, LineKind::checkpoint, parsed->seq, parsed->payload) !=
      parsed->mac) {
    result.state = CheckpointState::not_authentic;
    result.detail = "checkpoint '" + path + "' does not authenticate (it was modified)";
    return result;
  }
  result.state = CheckpointState::ok;
  result.detail.clear();
  result.checkpoint = {parsed->seq, link->mac};
  return result;
}

}  // namespace hydra::protect::detail
