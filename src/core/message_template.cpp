#include "message_template.hpp"

#include <fmt/compile.h>

#include <array>
#include <limits>
#include <memory>
#include <type_traits>

#include "hydra/core/format_string.hpp"

namespace hydra::detail {

ParsedTemplate::ParsedTemplate(std::string_view tmpl) : key_(tmpl.data()), text_(tmpl) {
  if (tmpl.size() > std::numeric_limits<std::uint32_t>::max()) return;
  const auto offset = [&](std::string_view part) {
    return static_cast<std::uint32_t>(part.data() - tmpl.data());
  };
  bool ok = true;
  bool automatic = false;
  bool indexed = false;
  std::size_t next_arg = 0;
  Piece current;
  const bool valid = scan_template(
      tmpl,
      [&](std::string_view text) {
        // Literal pieces arrive in order; "{{" arrives as a piece ending in
        // one brace, so pieces are contiguous only when no escape lies between.
        if (text.empty()) return;
        if (current.text_size != 0) {
          pieces_.push_back(current);
          current = Piece{};
        }
        current.text_offset = offset(text);
        current.text_size = static_cast<std::uint32_t>(text.size());
      },
      [&](std::string_view id, std::string_view spec) {
        if (spec.find_first_of("{}") != std::string_view::npos) ok = false;  // {:{}}
        std::size_t index = 0;
        if (!id.empty() && is_digit(id.front())) {
          indexed = true;
          for (char c : id) {
            if (!is_digit(c) || index > 1'000'000) {
              ok = false;
              break;
            }
            index = index * 10 + static_cast<std::size_t>(c - '0');
          }
        } else {
          automatic = true;  // {} or {name}: the next argument
          index = next_arg++;
          current.name_offset = offset(id);
          current.name_size = static_cast<std::uint32_t>(id.size());
        }
        current.arg = static_cast<std::int32_t>(index);
        if (!spec.empty()) current.spec_format = fmt::format("{{:{}}}", spec);
        max_arg_ = std::max(max_arg_, index + 1);
        pieces_.push_back(std::move(current));
        current = Piece{};
      });
  if (current.text_size != 0) pieces_.push_back(current);
  usable_ = valid && ok && !(automatic && indexed);
}

namespace {

// Writes one argument with an empty spec, as {fmt}'s "{}" would.
struct PlainWriter {
  fmt::memory_buffer& out;
  const fmt::basic_format_arg<fmt::format_context>& arg;

  template <typename T>
  void operator()(T value) const {
    using V = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<V, fmt::string_view>) {
      out.append(value.data(), value.data() + value.size());
    } else if constexpr (std::is_same_v<V, const char*>) {
      const std::string_view s = value;
      out.append(s.data(), s.data() + s.size());
    } else if constexpr (std::is_same_v<V, int> || std::is_same_v<V, unsigned> ||
                         std::is_same_v<V, long long> || std::is_same_v<V, unsigned long long> ||
                         std::is_same_v<V, bool> || std::is_same_v<V, char> ||
                         std::is_same_v<V, double> || std::is_same_v<V, float>) {
      fmt::format_to(fmt::appender(out), FMT_COMPILE("{}"), value);
    } else {
      // Custom types, pointers, 128-bit and long double: {fmt}'s own path.
      fmt::vformat_to(fmt::appender(out), "{}", fmt::format_args(&arg, 1));
    }
  }
};

}  // namespace

// Writes one argument with the piece's spec.
struct SpecWriter {
  const ParsedTemplate::Piece& piece;
  fmt::memory_buffer& out;
  const fmt::basic_format_arg<fmt::format_context>& arg;

  template <typename T>
  void operator()(T value) const {
    using F = fmt::formatter<std::remove_cv_t<T>>;
    if constexpr (std::is_constructible_v<decltype(piece.spec_formatter), F>) {
      F* f = std::get_if<F>(&piece.spec_formatter);
      if (f == nullptr) {
        // spec_format is "{:spec}": the parser reads "spec}" and stops at '}'.
        const std::string_view spec(piece.spec_format.data() + 2, piece.spec_format.size() - 2);
        fmt::format_parse_context parse(spec);
        F fresh;
        if (fresh.parse(parse) != spec.data() + spec.size() - 1) {
          generic();  // not all of the spec was understood: let {fmt} say why
          return;
        }
        f = &piece.spec_formatter.template emplace<F>(fresh);
      }
      fmt::format_context ctx(fmt::appender(out), {});
      f->format(value, ctx);
    } else {
      generic();
    }
  }

  void generic() const {
    fmt::vformat_to(fmt::appender(out), piece.spec_format, fmt::format_args(&arg, 1));
  }
};

bool ParsedTemplate::render(std::string_view tmpl, fmt::format_args args, fmt::memory_buffer& out,
                            std::vector<std::string_view>* names,
                            std::vector<std::pair<std::uint32_t, std::uint32_t>>* spans) const {
  // Arguments are contiguous: the highest index used exists, or one is missing.
  if (max_arg_ != 0 && !args.get(static_cast<int>(max_arg_ - 1))) return false;
  for (const Piece& p : pieces_) {
    out.append(tmpl.data() + p.text_offset, tmpl.data() + p.text_offset + p.text_size);
    if (p.arg < 0) continue;
    const auto arg = args.get(p.arg);
    const auto begin = static_cast<std::uint32_t>(out.size());
    if (p.spec_format.empty()) {
      fmt::visit_format_arg(PlainWriter{out, arg}, arg);
    } else {
      fmt::visit_format_arg(SpecWriter{p, out, arg}, arg);
    }
    if (names != nullptr) names->push_back(tmpl.substr(p.name_offset, p.name_size));
    if (spans != nullptr) spans->emplace_back(begin, static_cast<std::uint32_t>(out.size()));
  }
  return true;
}

const ParsedTemplate& parsed_template(std::string_view tmpl) {
  // Direct-mapped on the template's address; a hit also compares the text
  // (a few bytes), so a runtime template in a reused buffer is never stale.
  constexpr std::size_t kSlots = 256;
  thread_local std::array<std::unique_ptr<ParsedTemplate>, kSlots> cache;
  const auto address = reinterpret_cast<std::uintptr_t>(tmpl.data());
  std::unique_ptr<ParsedTemplate>& slot = cache[(address >> 3 ^ address >> 11) % kSlots];
  if (!slot || slot->key() != tmpl.data() || !slot->matches(tmpl)) {
    slot = std::make_unique<ParsedTemplate>(tmpl);
  }
  return *slot;
}

}  // namespace hydra::detail
