// Internal: turning a call's arguments into field values (for named
// placeholders), in sync mode on the caller, in async mode on the backend.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "hydra/core/record.hpp"

namespace hydra::detail {

// Storage for field values that must be rendered to text before dispatch
// (arguments of user types named by a placeholder). Reused per thread.
class FieldScratch {
 public:
  std::string_view keep(std::string s);
  void clear() noexcept { used_ = 0; }

 private:
  std::deque<std::string> slots_;  // deque: a view stays valid as slots are added
  std::size_t used_ = 0;
};

template <typename T>
FieldValue to_field_value(const T& v, FieldScratch& scratch) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, char>) {
    return FieldValue(scratch.keep(std::string(1, v)));
  } else if constexpr (std::is_arithmetic_v<U>) {  // bool, integers, floating point
    return FieldValue(v);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return FieldValue(std::string_view(v));
  } else if constexpr (std::is_enum_v<U> && !fmt::is_formattable<U>::value) {
    return FieldValue(static_cast<std::underlying_type_t<U>>(v));
  } else {
    return FieldValue(scratch.keep(fmt::format("{}", v)));
  }
}

FieldScratch& thread_field_scratch();

}  // namespace hydra::detail
