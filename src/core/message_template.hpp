// Internal: message templates parsed once and rendered many times.
//
// {fmt}'s vformat_to parses the whole template on every call: it scans the
// literal text for braces and parses each replacement field. A logger renders
// the same few hundred templates millions of times, so the pipeline keeps a
// small per-thread cache of parsed templates (keyed by the template's address
// and verified by its content, so a reused buffer can never render stale
// text) and renders from the parsed pieces: literal text is appended as is,
// a plain {} argument is written directly, and a field with a spec is written
// by {fmt}'s formatter for its type, whose spec was parsed once.
//
// Templates the cache cannot express (explicit and automatic indices mixed,
// nested replacement fields such as {:{}}, unbalanced braces, too few
// arguments) report so, and the caller renders them the ordinary way, which
// also produces {fmt}'s error text for broken runtime templates.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hydra::detail {

class ParsedTemplate {
 public:
  // Parses `tmpl`. usable() says whether render() can be used for it.
  explicit ParsedTemplate(std::string_view tmpl, bool literal = false);

  bool usable() const noexcept { return usable_; }
  bool matches(std::string_view tmpl) const noexcept {
    return tmpl == text_;  // by content: a reused buffer may hold new text
  }
  const char* key() const noexcept { return key_; }
  std::size_t size() const noexcept { return text_.size(); }
  // Parsed from a string literal (see parsed_template).
  bool literal() const noexcept { return literal_; }

  // Appends the message to `out` and, when `names` is not null, one entry per
  // placeholder (its name, empty for {}) viewing into `tmpl` (the same text
  // this was parsed from). Returns false, having written nothing, when an
  // argument is missing; throws what {fmt} throws for a bad spec.
  // With `spans`, also each placeholder's [begin, end) in `out`.
  bool render(std::string_view tmpl, fmt::format_args args, fmt::memory_buffer& out,
              std::vector<std::string_view>* names,
              std::vector<std::pair<std::uint32_t, std::uint32_t>>* spans = nullptr) const;

 private:
  struct Piece {
    std::uint32_t text_offset = 0;  // literal text before the field, in the template
    std::uint32_t text_size = 0;
    std::int32_t arg = -1;          // the argument's index; -1: literal only
    std::uint32_t name_offset = 0;  // the placeholder's name, in the template
    std::uint32_t name_size = 0;
    std::string spec_format;  // "{:spec}" when the field has a spec, else empty
    // The spec is exactly ".Nf" (N <= kMaxFixedPrecision): a double is
    // written by append_fixed (the same text, several times faster); -1: not.
    std::int8_t fixed_precision = -1;
    // The spec parsed by {fmt}'s formatter for the type last seen here (a
    // template's argument types rarely change; when they do, parsed again).
    mutable std::variant<std::monostate, fmt::formatter<int>, fmt::formatter<unsigned>,
                         fmt::formatter<long long>, fmt::formatter<unsigned long long>,
                         fmt::formatter<bool>, fmt::formatter<char>, fmt::formatter<float>,
                         fmt::formatter<double>, fmt::formatter<const char*>,
                         fmt::formatter<fmt::string_view>>
        spec_formatter;
  };
  friend struct SpecWriter;

  const char* key_ = nullptr;
  std::string text_;
  std::vector<Piece> pieces_;
  std::size_t max_arg_ = 0;  // one past the highest argument index used
  bool usable_ = false;
  bool literal_ = false;
};

// Appends `value` with `precision` digits after the point, exactly as
// {fmt}'s "{:.<precision>f}" does (the exact binary value rounded half to
// even), when it is finite and |value| * 10^precision < 2^64; otherwise
// returns false having written nothing. About a tenth of {fmt}'s cost for
// the small precisions log lines use.
inline constexpr int kMaxFixedPrecision = 15;
bool append_fixed(double value, int precision, fmt::memory_buffer& out) noexcept;

// This thread's parsed copy of `tmpl` (parsed now if not cached). The
// reference stays valid until this thread's next call.
// `literal`: tmpl is a string literal, found by its address and size alone
// (no runtime text can live at a literal's address, and a literal never
// changes; the one exception, a shared library unloaded and another loaded
// at its address, is one every logger keyed by call site shares); other
// text is also compared byte for byte.
const ParsedTemplate& parsed_template(std::string_view tmpl, bool literal = false);

}  // namespace hydra::detail
