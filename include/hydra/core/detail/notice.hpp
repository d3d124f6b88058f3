// Internal: one-time notices on stderr, for what Hydra ignores rather than
// fails on (a colour it cannot read, a bad environment variable in
// zero-config). Not part of the public API.
#pragma once

#include <string_view>

namespace hydra::detail {

// Writes "hydra: <message>\n" to stderr the first time `key` is given (per
// process; a variable's name and value, say) and nothing after that, so that
// a bad setting read at every logger's construction is reported once.
// `message` must already be printable (detail::to_printable).
void notice_once(std::string_view key, std::string_view message);

}  // namespace hydra::detail
