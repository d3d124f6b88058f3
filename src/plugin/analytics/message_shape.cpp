#include "message_shape.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace hydra::plugin::analytics {
namespace {

enum class Byte : std::uint8_t { word, digit, split, quote };

constexpr std::array<Byte, 256> kBytes = [] {
  std::array<Byte, 256> t{};
  t.fill(Byte::word);
  for (char c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = Byte::digit;
  for (const char c : std::string_view(" \t\r\n\v\f,;=:()[]{}<>/|&")) {
    t[static_cast<unsigned char>(c)] = Byte::split;
  }
  t['"'] = Byte::quote;
  t['\''] = Byte::quote;
  return t;
}();

Byte kind(char c) {
  return kBytes[static_cast<unsigned char>(c)];
}

// Appends to a fixed buffer, cutting what does not fit.
class Out {
 public:
  explicit Out(char (&buffer)[kShapeCapacity]) : begin_(buffer), at_(buffer) {}
  void put(std::string_view s) {
    const std::size_t n = std::min(s.size(), room());
    std::memcpy(at_, s.data(), n);
    at_ += n;
  }
  void put(char c) {
    if (room() > 0) *at_++ = c;
  }
  std::size_t size() const { return static_cast<std::size_t>(at_ - begin_); }

 private:
  std::size_t room() const { return kShapeCapacity - size(); }
  char* begin_;
  char* at_;
};

// The shape of text with no placeholder in it (see the header).
void shape_text(std::string_view text, Out& out) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  // Once a quote has no closing one, no later one of its kind has either:
  // remembered, so that a text full of quotes is still read once.
  bool unclosed[2] = {false, false};
  while (i < n) {
    const char c = text[i];
    switch (kind(c)) {
      case Byte::split:
        out.put(c);
        ++i;
        break;
      case Byte::quote: {
        bool& none = unclosed[c == '"' ? 0 : 1];
        const std::size_t close = none ? std::string_view::npos : text.find(c, i + 1);
        if (close != std::string_view::npos) {
          out.put("<s>");
          i = close + 1;
          break;
        }
        none = true;
        // An unclosed quote is an ordinary byte of a word.
        [[fallthrough]];
      }
      case Byte::word:
      case Byte::digit: {
        // A word runs to the next split byte (a quote inside a word, as in
        // "don't", is part of it).
        const std::size_t start = i;
        bool digit = false;
        for (; i < n; ++i) {
          const Byte b = kind(text[i]);
          if (b == Byte::split) break;
          digit = digit || b == Byte::digit;
        }
        if (digit) {
          out.put("<n>");
        } else {
          out.put(text.substr(start, i - start));
        }
        break;
      }
    }
  }
}

}  // namespace

std::size_t message_shape(const Record& record, char (&buffer)[kShapeCapacity]) noexcept {
  Out out(buffer);
  const std::string_view message = record.message.substr(0, kShapeInput);
  std::size_t pos = 0;
  // The spans are checked: in order, inside the text, naming a field.
  for (const FieldSpan& s : record.field_spans) {
    if (s.begin < pos || s.end < s.begin || s.end > message.size() ||
        s.field >= record.fields.size()) {
      continue;
    }
    shape_text(message.substr(pos, s.begin - pos), out);
    out.put('{');
    out.put(record.fields[s.field].key.substr(0, kShapeInput));
    out.put('}');
    pos = s.end;
  }
  shape_text(message.substr(pos), out);
  return out.size();
}

std::uint64_t shape_hash(std::string_view shape) noexcept {
  // 8 bytes a step, each mixed by a multiply (the shapes are short and the
  // table keyed by this hash is small: speed matters more than strength).
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  std::uint64_t h = 0xcbf29ce484222325ULL ^ (shape.size() * kMul);
  std::size_t i = 0;
  for (; i + 8 <= shape.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, shape.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (i < shape.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, shape.data() + i, shape.size() - i);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h ^= h >> 32;
  return h == 0 ? 1 : h;
}

}  // namespace hydra::plugin::analytics
