// Internal: hex digits and %XX decoding, written once for those who read
// percent-encoded text (OTEL_RESOURCE_ATTRIBUTES values, the bridge's query
// strings). Not part of the public API.
#pragma once

#include <string>
#include <string_view>

namespace hydra::detail {

// The value of a hex digit, or -1.
constexpr int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `s` with each %XX escape decoded; a malformed escape stays as it is. With
// `plus_is_space` (a URL's query), '+' is a space.
inline std::string percent_decoded(std::string_view s, bool plus_is_space = false) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

}  // namespace hydra::detail
