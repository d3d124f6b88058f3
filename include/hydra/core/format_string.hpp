// Compile-time checked message templates. A template uses {fmt} syntax, and a
// placeholder may carry a name: "user {user} from {ip}". Arguments are given
// positionally; a named placeholder also turns its argument into a structured
// field (user=..., ip=...). The check runs at compile time:
//   - without names, {fmt}'s own check applies in full (types and specs);
//   - with names, every placeholder must be named or empty ({} and {name} may
//     mix, explicit indices may not), the number of placeholders must equal
//     the number of arguments, names must be distinct identifiers, and each
//     spec is checked by {fmt} against its argument's type.
// The template also captures the call site (std::source_location) so that
// logging functions need no macro to know file, line and function.
#pragma once

#include <cstddef>
#include <source_location>
#include <string_view>
#include <type_traits>

#include <fmt/core.h>

namespace hydra {

namespace detail {

// Called only in constant evaluation when a template is wrong: the compiler
// error names the function, which names the mistake.
void hydra_format_error_unbalanced_braces();
void hydra_format_error_argument_count_differs_from_placeholder_count();
void hydra_format_error_named_and_indexed_placeholders_mixed();
void hydra_format_error_placeholder_name_is_not_an_identifier();
void hydra_format_error_duplicate_placeholder_name();

constexpr bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// One placeholder found by scan_placeholders.
struct PlaceholderView {
  std::string_view name;  // empty for {} and {:spec}
  std::string_view spec;  // the part after ':', without braces; may be empty
};

// Walks a template, calling on_text(literal) and on_placeholder(name, spec,
// raw) in order. "{{" and "}}" reach on_text as a single brace. Returns false
// on unbalanced braces. Nested braces inside a spec ({:{}}) are kept in spec.
template <typename OnText, typename OnPlaceholder>
constexpr bool scan_template(std::string_view s, OnText&& on_text, OnPlaceholder&& on_placeholder) {
  std::size_t i = 0;
  std::size_t text_start = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '{') {
      if (i + 1 < s.size() && s[i + 1] == '{') {
        on_text(s.substr(text_start, i + 1 - text_start));
        i += 2;
        text_start = i;
        continue;
      }
      on_text(s.substr(text_start, i - text_start));
      std::size_t j = i + 1;
      int depth = 1;
      while (j < s.size() && depth > 0) {
        if (s[j] == '{') ++depth;
        if (s[j] == '}') --depth;
        if (depth > 0) ++j;
      }
      if (j >= s.size()) return false;
      const std::string_view inner = s.substr(i + 1, j - i - 1);
      const std::size_t colon = inner.find(':');
      const std::string_view id = colon == std::string_view::npos ? inner : inner.substr(0, colon);
      const std::string_view spec =
          colon == std::string_view::npos ? std::string_view{} : inner.substr(colon + 1);
      on_placeholder(id, spec);
      i = j + 1;
      text_start = i;
    } else if (c == '}') {
      if (i + 1 < s.size() && s[i + 1] == '}') {
        on_text(s.substr(text_start, i + 1 - text_start));
        i += 2;
        text_start = i;
        continue;
      }
      return false;
    } else {
      ++i;
    }
  }
  on_text(s.substr(text_start));
  return true;
}

struct TemplateShape {
  bool valid = true;
  bool has_names = false;
  bool has_indices = false;
  bool bad_name = false;
  bool duplicate_name = false;
  std::size_t placeholders = 0;
};

constexpr TemplateShape shape_of(std::string_view s) {
  TemplateShape shape;
  constexpr std::size_t kMaxNames = 64;
  std::string_view names[kMaxNames] = {};
  std::size_t name_count = 0;
  shape.valid = scan_template(
      s, [](std::string_view) {},
      [&](std::string_view id, std::string_view) {
        ++shape.placeholders;
        if (id.empty()) return;
        if (is_digit(id[0])) {
          shape.has_indices = true;
          return;
        }
        shape.has_names = true;
        if (!is_ident_start(id[0])) shape.bad_name = true;
        for (char ch : id) {
          if (!is_ident_char(ch)) shape.bad_name = true;
        }
        for (std::size_t k = 0; k < name_count; ++k) {
          if (names[k] == id) shape.duplicate_name = true;
        }
        if (name_count < kMaxNames) names[name_count++] = id;
      });
  return shape;
}

// Writes the template with placeholder names removed ("{user:>8}" -> "{:>8}")
// into out (at least s.size() chars); returns the length written.
constexpr std::size_t strip_names(std::string_view s, char* out) {
  std::size_t n = 0;
  auto put = [&](std::string_view part) {
    for (char ch : part) out[n++] = ch;
  };
  scan_template(
      s,
      [&](std::string_view text) {
        // scan_template passes "{{" as "{" text ending just after the first
        // brace; re-double braces so the stripped text is still a template.
        for (char ch : text) {
          out[n++] = ch;
          if (ch == '{' || ch == '}') out[n++] = ch;
        }
      },
      [&](std::string_view, std::string_view spec) {
        put("{");
        if (!spec.empty()) {
          put(":");
          put(spec);
        }
        put("}");
      });
  return n;
}

}  // namespace detail

// Wraps a template given at runtime (from configuration, a file, user input):
// no compile-time check; mistakes are rendered into the message at runtime.
struct RuntimeFormat {
  std::string_view str;
};
inline RuntimeFormat runtime(std::string_view s) {
  return {s};
}

template <typename... Args>
class basic_format_string {
 public:
  template <std::size_t N>
  consteval basic_format_string(  // NOLINT(google-explicit-constructor)
      const char (&s)[N], std::source_location loc = std::source_location::current())
      : str_(s, N - 1), loc_(loc) {
    constexpr std::size_t kArgs = sizeof...(Args);
    const detail::TemplateShape shape = detail::shape_of(str_);
    has_names_ = shape.has_names;
    if (!shape.valid) detail::hydra_format_error_unbalanced_braces();
    if (shape.has_names) {
      if (shape.has_indices) detail::hydra_format_error_named_and_indexed_placeholders_mixed();
      if (shape.bad_name) detail::hydra_format_error_placeholder_name_is_not_an_identifier();
      if (shape.duplicate_name) detail::hydra_format_error_duplicate_placeholder_name();
      if (shape.placeholders != kArgs)
        detail::hydra_format_error_argument_count_differs_from_placeholder_count();
      char stripped[N + N]{};  // stripping never grows beyond re-doubled braces
      const std::size_t len = detail::strip_names(str_, stripped);
      (void)fmt::format_string<Args...>(std::string_view(stripped, len));
    } else {
      (void)fmt::format_string<Args...>(str_);
    }
  }

  basic_format_string(RuntimeFormat r,  // NOLINT(google-explicit-constructor)
                      std::source_location loc = std::source_location::current())
      : str_(r.str), loc_(loc), runtime_(true) {
    has_names_ = detail::shape_of(str_).has_names;
  }

  constexpr std::string_view get() const noexcept { return str_; }
  constexpr const std::source_location& location() const noexcept { return loc_; }
  constexpr bool has_names() const noexcept { return has_names_; }
  constexpr bool is_runtime() const noexcept { return runtime_; }

 private:
  std::string_view str_;
  std::source_location loc_;
  bool has_names_ = false;
  bool runtime_ = false;
};

template <typename... Args>
using format_string = basic_format_string<std::type_identity_t<Args>...>;

}  // namespace hydra
