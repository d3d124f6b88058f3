// The shape of a message: its text with the parts that vary from call to
// call collapsed, so that "user 42 logged in" and "user 7 logged in" count as
// one template. A Record does not carry the format string it was made from,
// so the shape is worked out from the formatted text:
//
//   - a named placeholder's value, where the record knows its place
//     (Record::field_spans), becomes {name}:  "user {user} logged in";
//   - a word holding a digit becomes <n>: numbers, ids, hex digests, UUIDs,
//     IP addresses, versions, durations ("12ms");
//   - a quoted string ("..." or '...', opened at the start of a word and
//     closed in the same text) becomes <s>.
//
// Words are split at blanks and at , ; = : ( ) [ ] { } < > / | & (so
// "path=/api/v1/users/42" gives "path=/api/<n>/users/<n>"). Only the first
// kShapeInput bytes of a message are looked at: the cost per record is
// bounded, and messages alike in those bytes share a shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hydra/core/record.hpp"

namespace hydra::plugin::analytics {

inline constexpr std::size_t kShapeInput = 256;
// Room for a shape: at worst each input byte becomes "<n>" (3 bytes), and a
// placeholder's name is cut at kShapeInput bytes.
inline constexpr std::size_t kShapeCapacity = 4 * kShapeInput;

// Writes the shape of `record`'s message into `out`; returns its size.
std::size_t message_shape(const Record& record, char (&out)[kShapeCapacity]) noexcept;

// A 64-bit hash of a shape (never 0): the key shapes are counted under.
std::uint64_t shape_hash(std::string_view shape) noexcept;

}  // namespace hydra::plugin::analytics
