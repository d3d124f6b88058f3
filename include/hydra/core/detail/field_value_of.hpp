// Internal: turning a call's arguments into field values (for named
// placeholders), in sync mode on the caller, in async mode on the backend.
#pragma once

#include <deque>
#include <span>
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

// A call's arguments as the paths that format at once take them: {fmt}'s
// arguments and, when the template names its placeholders, one field value
// per argument (none otherwise). `use(args, values)` runs while both live.
template <typename Use, typename... Args>
void with_call_arguments(bool has_names, Use&& use, const Args&... args) {
  const auto stored = fmt::make_format_args(args...);
  if constexpr (sizeof...(Args) != 0) {
    if (has_names) {
      FieldScratch& scratch = thread_field_scratch();
      scratch.clear();
      const FieldValue values[] = {to_field_value(args, scratch)...};
      use(fmt::format_args(stored), std::span<const FieldValue>(values));
      return;
    }
  }
  use(fmt::format_args(stored), std::span<const FieldValue>());
}

}  // namespace hydra::detail
