#include "message_template.hpp"

#include <fmt/compile.h>

#include <array>
#include <bit>
#include <limits>
#include <memory>
#include <type_traits>

#include "hydra/core/detail/thread_instance.hpp"
#include "hydra/core/format_string.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra::detail {
namespace {

// N when `spec` is exactly ".Nf" with N <= kMaxFixedPrecision, else -1.
std::int8_t fixed_precision_of(std::string_view spec) {
  if (spec.size() < 3 || spec.size() > 4 || spec.front() != '.' || spec.back() != 'f') return -1;
  int n = 0;
  for (const char c : spec.substr(1, spec.size() - 2)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  if (spec.size() == 4 && spec[1] == '0') return -1;  // ".05f": leave odd spellings to {fmt}
  return n <= kMaxFixedPrecision ? static_cast<std::int8_t>(n) : std::int8_t{-1};
}

constexpr std::array<std::uint64_t, kMaxFixedPrecision + 1> kPowersOf10 = [] {
  std::array<std::uint64_t, kMaxFixedPrecision + 1> p{};
  p[0] = 1;
  for (std::size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
  return p;
}();

}  // namespace

bool append_fixed(double value, int precision, fmt::memory_buffer& out) noexcept {
#if !defined(__SIZEOF_INT128__)
  (void)value;
  (void)out;
  return false;  // {fmt} writes it
#else
  if (precision < 0 || precision > kMaxFixedPrecision) return false;
  const auto bits = std::bit_cast<std::uint64_t>(value);
  const bool negative = (bits >> 63) != 0;
  const auto exponent_bits = static_cast<int>((bits >> 52) & 0x7ff);
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  if (exponent_bits == 0x7ff) return false;  // inf, nan
  // value = mantissa * 2^exponent, exactly.
  const std::uint64_t mantissa =
      exponent_bits == 0 ? fraction : fraction | (std::uint64_t{1} << 52);
  const int exponent = (exponent_bits == 0 ? 1 : exponent_bits) - 1075;
  const std::uint64_t scale = kPowersOf10[static_cast<std::size_t>(precision)];
  // value * 10^precision = mantissa * scale * 2^exponent; mantissa * scale
  // < 2^53 * 10^15 < 2^103 fits in 128 bits.
  __extension__ using u128 = unsigned __int128;
  const u128 scaled = static_cast<u128>(mantissa) * scale;
  std::uint64_t units = 0;  // value * 10^precision, rounded half to even
  if (exponent >= 0) {
    if (exponent >= 64 || (scaled >> (64 - exponent)) != 0) return false;
    units = static_cast<std::uint64_t>(scaled << exponent);
  } else if (-exponent < 128) {
    const int shift = -exponent;
    const u128 whole = scaled >> shift;
    if ((whole >> 64) != 0) return false;
    units = static_cast<std::uint64_t>(whole);
    const u128 rest = scaled & ((u128{1} << shift) - 1);
    const u128 half = u128{1} << (shift - 1);
    if (rest > half || (rest == half && (units & 1) != 0)) {
      if (units == ~std::uint64_t{0}) return false;
      ++units;
    }
  }  // else: below 2^-74 after scaling, which rounds to 0
  if (negative) out.push_back('-');
  const fmt::format_int whole(units / scale);
  append_raw(std::string_view(whole.data(), whole.size()), out);
  if (precision > 0) {
    out.push_back('.');
    char digits[kMaxFixedPrecision];
    std::uint64_t rest = units % scale;
    for (int i = precision - 1; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + rest % 10);
      rest /= 10;
    }
    append_raw(std::string_view(digits, static_cast<std::size_t>(precision)), out);
  }
  return true;
#endif
}

ParsedTemplate::ParsedTemplate(std::string_view tmpl, bool literal)
    : key_(tmpl.data()), text_(tmpl), literal_(literal) {
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
        if (!spec.empty()) {
          current.spec_format = fmt::format("{{:{}}}", spec);
          current.fixed_precision = fixed_precision_of(spec);
        }
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
      append_raw(std::string_view(value.data(), value.size()), out);
    } else if constexpr (std::is_same_v<V, const char*>) {
      const std::string_view s = value;
      append_raw(s, out);
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
    if constexpr (std::is_same_v<std::remove_cv_t<T>, double>) {
      if (piece.fixed_precision >= 0 && append_fixed(value, piece.fixed_precision, out)) return;
    }
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
    // One memcpy ({fmt}'s buffer::append copies in a generic loop).
    append_raw(tmpl.substr(p.text_offset, p.text_size), out);
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

const ParsedTemplate& parsed_template(std::string_view tmpl, bool literal) {
  // Direct-mapped on the template's address; a hit also compares the text
  // (a few bytes), so a runtime template in a reused buffer is never stale.
  constexpr std::size_t kSlots = 256;
  using Cache = std::array<std::unique_ptr<ParsedTemplate>, kSlots>;
  Cache& cache = thread_instance<Cache>();
  const auto address = reinterpret_cast<std::uintptr_t>(tmpl.data());
  std::unique_ptr<ParsedTemplate>& slot = cache[(address >> 3 ^ address >> 11) % kSlots];
  if (slot && slot->key() == tmpl.data()) {
    if (literal && slot->literal() && slot->size() == tmpl.size()) return *slot;
    if (slot->matches(tmpl)) return *slot;
  }
  slot = std::make_unique<ParsedTemplate>(tmpl, literal);
  return *slot;
}

}  // namespace hydra::detail
