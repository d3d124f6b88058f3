#include "hydra/format/detail/escape.hpp"
#include "hydra/format/formatter.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <variant>

namespace hydra::detail {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex_byte(std::string_view prefix, unsigned char byte, Buffer& out) {
  append_raw(prefix, out);
  out.push_back(kHexDigits[byte >> 4]);
  out.push_back(kHexDigits[byte & 0x0f]);
}

constexpr bool is_continuation(unsigned char byte) noexcept {
  return (byte & 0xc0) == 0x80;
}

// Length of the well-formed UTF-8 sequence (Unicode table 3-7) that starts at
// `p`, whose first byte is >= 0x80; 0 when the bytes there are not one.
std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned char lead = *p;
  const auto available = static_cast<std::size_t>(end - p);
  if (lead >= 0xc2 && lead <= 0xdf) return available >= 2 && is_continuation(p[1]) ? 2 : 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (lead == 0xe0) low = 0xa0;   // no overlong forms
    if (lead == 0xed) high = 0x9f;  // no surrogates
    return available >= 3 && p[1] >= low && p[1] <= high && is_continuation(p[2]) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (lead == 0xf0) low = 0x90;   // no overlong forms
    if (lead == 0xf4) high = 0x8f;  // nothing above U+10FFFF
    return available >= 4 && p[1] >= low && p[1] <= high && is_continuation(p[2]) &&
                   is_continuation(p[3])
               ? 4
               : 0;
  }
  return 0;
}

// Escaping rules. Each names the printable ASCII bytes it escapes
// (`kSpecials`) and says how to write them, the other ASCII controls, a C1
// control and a byte of invalid UTF-8. Printable ASCII that is not special,
// and valid UTF-8 above U+009F, pass unchanged.
struct TextRules {
  static constexpr std::string_view kSpecials{};
  static void ascii(unsigned char c, Buffer& out) {
    switch (c) {
      case '\r': append_raw("\\r", out); break;
      case '\n': append_raw("\\n", out); break;
      case '\t': append_raw("\\t", out); break;
      default: append_hex_byte("\\x", c, out); break;
    }
  }
  static void c1(unsigned char low_byte, Buffer& out) { append_hex_byte("\\u00", low_byte, out); }
  static void invalid(unsigned char c, Buffer& out) { append_hex_byte("\\x", c, out); }
};

// Inside a double-quoted logfmt value: '"' and '\' take a backslash.
struct QuotedTextRules : TextRules {
  static constexpr std::string_view kSpecials = "\"\\";
  static void ascii(unsigned char c, Buffer& out) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      TextRules::ascii(c, out);
    }
  }
};

// What a bare (unquoted) logfmt value may hold; only checked, never escaped.
struct BareValueRules : TextRules {
  static constexpr std::string_view kSpecials = " =\"";
};

// RFC 5424 PARAM-VALUE: '"', '\' and ']' take a backslash.
struct SdParamRules : TextRules {
  static constexpr std::string_view kSpecials = "\"\\]";
  static void ascii(unsigned char c, Buffer& out) {
    if (c == ']') {
      append_raw("\\]", out);
    } else {
      QuotedTextRules::ascii(c, out);
    }
  }
};

// Inside a quoted RFC 4180 value: '"' is doubled.
struct CsvQuotedRules : TextRules {
  static constexpr std::string_view kSpecials = "\"";
  static void ascii(unsigned char c, Buffer& out) {
    if (c == '"') {
      append_raw("\"\"", out);
    } else {
      TextRules::ascii(c, out);
    }
  }
};

struct JsonRules {
  static constexpr std::string_view kSpecials = "\"\\";
  static void ascii(unsigned char c, Buffer& out) {
    switch (c) {
      case '"': append_raw("\\\"", out); break;
      case '\\': append_raw("\\\\", out); break;
      case '\b': append_raw("\\b", out); break;
      case '\f': append_raw("\\f", out); break;
      case '\n': append_raw("\\n", out); break;
      case '\r': append_raw("\\r", out); break;
      case '\t': append_raw("\\t", out); break;
      default: append_hex_byte("\\u00", c, out); break;
    }
  }
  static void c1(unsigned char low_byte, Buffer& out) { append_hex_byte("\\u00", low_byte, out); }
  static void invalid(unsigned char /*c*/, Buffer& out) { append_raw("\\ufffd", out); }
};

template <typename Rules>
constexpr bool is_plain(unsigned char c) {
  return c >= 0x20 && c < 0x7f &&
         Rules::kSpecials.find(static_cast<char>(c)) == std::string_view::npos;
}

template <typename Rules>
constexpr std::array<bool, 256> make_plain_table() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = is_plain<Rules>(static_cast<unsigned char>(c));
  return table;
}

template <typename Rules>
constexpr std::array<bool, 256> kPlain = make_plain_table<Rules>();

// Eight bytes at a time: true when none is a control, DEL, non-ASCII or
// special (the classic "has a byte less than n" bit tricks).
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

constexpr bool has_byte_below(std::uint64_t x, unsigned char n) {
  return ((x - kOnes * n) & ~x & kHighBits) != 0;
}
constexpr bool has_byte(std::uint64_t x, char c) {
  return has_byte_below(x ^ (kOnes * static_cast<unsigned char>(c)), 1);
}

template <typename Rules>
bool word_is_plain(std::uint64_t x) noexcept {
  if (has_byte_below(x, 0x20) || (((x + kOnes) | x) & kHighBits) != 0) return false;
  for (const char special : Rules::kSpecials) {
    if (has_byte(x, special)) return false;
  }
  return true;
}

// The first byte at or after `p` that is not plain ASCII for `Rules`.
template <typename Rules>
const unsigned char* skip_plain(const unsigned char* p, const unsigned char* end) noexcept {
  while (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    if (!word_is_plain<Rules>(word)) break;
    p += 8;
  }
  while (p != end && kPlain<Rules>[*p]) ++p;
  return p;
}

// Length of the UTF-8 sequence at `p` (lead byte >= 0x80) that passes
// unchanged: well-formed and not a C1 control (C2 80..C2 9F). 0 otherwise.
std::size_t passing_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const std::size_t n = utf8_sequence_length(p, end);
  if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) return 0;
  return n;
}

// The one walker behind every escaping rule: copies runs of bytes that pass
// unchanged in one append, and hands every other byte to the rules.
template <typename Rules>
void escape(std::string_view in, Buffer& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* const end = p + in.size();
  const auto* run = p;
  auto flush_run = [&] {
    append_raw(
        std::string_view(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run)),
        out);
  };
  while ((p = skip_plain<Rules>(p, end)) != end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      flush_run();
      Rules::ascii(c, out);
      run = ++p;
      continue;
    }
    if (const std::size_t n = passing_sequence_length(p, end); n != 0) {
      p += n;
      continue;
    }
    flush_run();
    if (utf8_sequence_length(p, end) == 2) {  // a C1 control, U+0080..U+009F
      Rules::c1(p[1], out);
      p += 2;
    } else {
      Rules::invalid(c, out);
      ++p;
    }
    run = p;
  }
  flush_run();
}

// True when every byte of `in` passes `Rules` unchanged.
template <typename Rules>
bool passes_unchanged(std::string_view in) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* const end = p + in.size();
  while ((p = skip_plain<Rules>(p, end)) != end) {
    const std::size_t n = *p < 0x80 ? 0 : passing_sequence_length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

// A CSV value is quoted when it holds one of these.
struct CsvQuoteTriggers {
  static constexpr std::string_view kSpecials = ",\"";
};

bool csv_needs_quotes(std::string_view in) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* const end = p + in.size();
  for (; (p = skip_plain<CsvQuoteTriggers>(p, end)) != end; ++p) {
    if (*p == ',' || *p == '"' || *p == '\r' || *p == '\n') return true;
  }
  return false;
}

bool is_logfmt_key_byte(unsigned char c) {
  return is_plain<BareValueRules>(c);
}

// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
constexpr CivilDate civil_from_days(std::int64_t days) noexcept {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

// Writes `value` as `width` digits, right to left, into `at`.
void put_digits(std::uint32_t value, int width, char* at) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void append_escaped_text(std::string_view in, Buffer& out) {
  escape<TextRules>(in, out);
}

std::string to_printable(std::string_view in) {
  Buffer b;
  escape<TextRules>(in, b);
  return fmt::to_string(b);
}

bool needs_text_escape(std::string_view in) noexcept {
  return !passes_unchanged<TextRules>(in);
}

void append_logfmt_value(std::string_view in, Buffer& out) {
  if (!in.empty() && passes_unchanged<BareValueRules>(in)) {
    append_raw(in, out);
    return;
  }
  out.push_back('"');
  escape<QuotedTextRules>(in, out);
  out.push_back('"');
}

void append_logfmt_field(const Field& field, Buffer& out,
                         std::span<const std::string_view> reserved) {
  append_field_name(field.key, out, NameRule{is_logfmt_key_byte, kUnlimitedLength}, reserved);
  out.push_back('=');
  if (field.value.is_string()) {
    append_logfmt_value(field.value.as_string(), out);
  } else {
    append_scalar_text(field.value, out);
  }
}

void append_csv_value(std::string_view in, Buffer& out) {
  if (!csv_needs_quotes(in)) {
    escape<TextRules>(in, out);
    return;
  }
  out.push_back('"');
  escape<CsvQuotedRules>(in, out);
  out.push_back('"');
}

void append_sd_param_value(std::string_view in, Buffer& out) {
  escape<SdParamRules>(in, out);
}

void append_field_name(std::string_view name, Buffer& out, NameRule rule,
                       std::span<const std::string_view> reserved) {
  auto write = [&](std::string_view prefix) {
    append_raw(prefix, out);
    if (name.empty()) {
      out.push_back('_');
      return;
    }
    const std::size_t room = rule.max_length > prefix.size() ? rule.max_length - prefix.size() : 1;
    const std::size_t n = std::min(name.size(), room);
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(name[i]);
      out.push_back(rule.allowed(c) ? static_cast<char>(c) : '_');
    }
  };
  const std::size_t mark = out.size();
  write({});
  const std::string_view written(out.data() + mark, out.size() - mark);
  for (std::string_view r : reserved) {
    if (written == r) {
      out.resize(mark);
      write(kRenamedFieldPrefix);
      return;
    }
  }
}

void append_json_escaped(std::string_view in, Buffer& out) {
  escape<JsonRules>(in, out);
}

void append_json_string(std::string_view in, Buffer& out) {
  out.push_back('"');
  escape<JsonRules>(in, out);
  out.push_back('"');
}

void append_scalar_text(const FieldValue& value, Buffer& out) {
  if (const auto* i = std::get_if<std::int64_t>(&value.storage())) {
    append_decimal(*i, out);
  } else if (const auto* u = std::get_if<std::uint64_t>(&value.storage())) {
    append_decimal(*u, out);
  } else {
    value.append_text(out);
  }
}

void append_json_value(const FieldValue& value, Buffer& out) {
  if (value.is_string()) {
    append_json_string(value.as_string(), out);
  } else if (const auto* d = std::get_if<double>(&value.storage());
             d != nullptr && !std::isfinite(*d)) {
    out.push_back('"');
    value.append_text(out);  // nan, inf, -inf
    out.push_back('"');
  } else {
    append_scalar_text(value, out);  // null, true/false, numbers
  }
}

void append_json_object(std::span<const Field> fields, Buffer& out) {
  out.push_back('{');
  bool first = true;
  for (const Field& f : fields) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(f.key, out);
    out.push_back(':');
    append_json_value(f.value, out);
  }
  out.push_back('}');
}

void append_decimal(std::uint64_t value, Buffer& out) {
  const fmt::format_int text(value);
  append_raw(std::string_view(text.data(), text.size()), out);
}

void append_decimal(std::int64_t value, Buffer& out) {
  const fmt::format_int text(value);
  append_raw(std::string_view(text.data(), text.size()), out);
}

std::int64_t process_id() noexcept {
  static std::atomic<std::int64_t> cached{0};
  static const bool forget_in_child = [] {
    ::pthread_atfork(nullptr, nullptr, [] { cached.store(0, std::memory_order_relaxed); });
    return true;
  }();
  (void)forget_in_child;
  std::int64_t pid = cached.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = ::getpid();
    cached.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

SplitTime split_time(std::chrono::system_clock::time_point time) noexcept {
  const std::int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  const std::int64_t seconds = floor_div(ns, 1'000'000'000);
  return {seconds, static_cast<std::uint32_t>(ns - seconds * 1'000'000'000)};
}

void append_rfc3339_utc(std::chrono::system_clock::time_point time, Buffer& out) {
  // 2026-11-27T10:13:12.345678Z; the part up to the seconds is kept per
  // thread and redone only when the second changes.
  thread_local std::int64_t cached_second = std::numeric_limits<std::int64_t>::min();
  thread_local char text[27] = {'0', '0', '0', '0', '-', '0', '0', '-', '0',
                                '0', 'T', '0', '0', ':', '0', '0', ':', '0',
                                '0', '.', '0', '0', '0', '0', '0', '0', 'Z'};
  const SplitTime t = split_time(time);
  if (t.seconds != cached_second) {
    const std::int64_t days = floor_div(t.seconds, 86400);
    const auto second_of_day = static_cast<std::uint32_t>(t.seconds - days * 86400);
    const CivilDate date = civil_from_days(days);
    put_digits(static_cast<std::uint32_t>(date.year < 0 ? 0 : date.year % 10000), 4, text);
    put_digits(date.month, 2, text + 5);
    put_digits(date.day, 2, text + 8);
    put_digits(second_of_day / 3600, 2, text + 11);
    put_digits(second_of_day / 60 % 60, 2, text + 14);
    put_digits(second_of_day % 60, 2, text + 17);
    cached_second = t.seconds;
  }
  put_digits(t.nanos / 1000, 6, text + 20);
  append_raw(std::string_view(text, sizeof(text)), out);
}

void append_unix_seconds(std::chrono::system_clock::time_point time, Buffer& out) {
  const std::int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const std::uint64_t magnitude =
      micros < 0 ? 0 - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
  if (micros < 0) out.push_back('-');
  append_decimal(magnitude / 1'000'000, out);
  out.push_back('.');
  append_padded(static_cast<std::uint32_t>(magnitude % 1'000'000), 6, out);
}

void append_padded(std::uint32_t value, int width, Buffer& out) {
  char text[9];
  width = std::clamp(width, 1, 9);
  put_digits(value, width, text);
  append_raw(std::string_view(text, static_cast<std::size_t>(width)), out);
}

}  // namespace hydra::detail

namespace hydra {

void append_escaped_text(std::string_view text, Buffer& out) {
  detail::append_escaped_text(text, out);
}

void append_json_string(std::string_view text, Buffer& out) {
  detail::append_json_string(text, out);
}

void append_logfmt_field(const Field& field, Buffer& out) {
  detail::append_logfmt_field(field, out);
}

void append_rfc3339_utc(std::chrono::system_clock::time_point time, Buffer& out) {
  detail::append_rfc3339_utc(time, out);
}

}  // namespace hydra
