// Small pieces the destinations share when they turn a record into what
// they send (internal to hydra::net).
#pragma once

#include <cerrno>  // program_invocation_short_name (GNU)
#include <string>
#include <string_view>

namespace hydra::net::detail {

// A formatted record without its line end ("\n", "\r\n"): the destinations
// that frame records themselves (octet counting, a JSON string, a message
// body) send the line alone.
inline std::string_view without_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// The program's name, the default service name (empty when unknown).
inline std::string program_name() {
  return program_invocation_short_name != nullptr ? program_invocation_short_name : "";
}

}  // namespace hydra::net::detail
