#include "scanner.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hydra::protect::detail {
namespace {

// ---------------------------------------------------------------------------
// Byte classes (ASCII only: bytes >= 0x80 belong to no class, so invalid or
// non-ASCII UTF-8 never takes part in a match and never breaks a scan).
enum Class : std::uint16_t {
  kDigit = 1 << 0,
  kUpper = 1 << 1,
  kLower = 1 << 2,
  kHex = 1 << 3,
  kWord = 1 << 4,      // [A-Za-z0-9_]
  kToken = 1 << 5,     // [A-Za-z0-9_-]: base64url, token bodies
  kLocal = 1 << 6,     // an email address's local part
  kDomain = 1 << 7,    // [A-Za-z0-9-]: a domain label
  kUserinfo = 1 << 8,  // the user part of a URL's userinfo
  kValueEnd = 1 << 9,  // ends an unquoted value
  kUrlEnd = 1 << 10,   // ends a URL's authority
  kAnchor = 1 << 11,   // may announce a match (the pre-filter's set)
};

constexpr bool in(std::string_view set, char c) {
  return set.find(c) != std::string_view::npos;
}

constexpr std::array<std::uint16_t, 256> make_classes() {
  std::array<std::uint16_t, 256> t{};
  for (int b = 0; b < 128; ++b) {
    const char c = static_cast<char>(b);
    std::uint16_t m = 0;
    const bool digit = c >= '0' && c <= '9';
    const bool upper = c >= 'A' && c <= 'Z';
    const bool lower = c >= 'a' && c <= 'z';
    const bool alnum = digit || upper || lower;
    if (digit) m |= kDigit;
    if (upper) m |= kUpper;
    if (lower) m |= kLower;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) m |= kHex;
    if (alnum || c == '_') m |= kWord;
    if (alnum || c == '_' || c == '-') m |= kToken;
    if (alnum || in("._%+-", c)) m |= kLocal;
    if (alnum || c == '-') m |= kDomain;
    if (alnum || in("-._~%!$&'()*+,;=", c)) m |= kUserinfo;
    if (in(" \t\r\n\f\v,;&})]\"'<>", c)) m |= kValueEnd;
    if (in(" \t\r\n\f\v/?#\"'<>\\", c)) m |= kUrlEnd;
    if (in(kAnchorChars, c)) m |= kAnchor;  // digits and "@:=+-_AJ"
    t[static_cast<std::size_t>(b)] = m;
  }
  return t;
}
constexpr std::array<std::uint16_t, 256> kClasses = make_classes();

inline bool is(char c, std::uint16_t cls) {
  return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}
inline bool is_digit(char c) {
  return static_cast<unsigned char>(c - '0') < 10;
}
inline bool is_alnum(char c) {
  return is(c, kDigit | kUpper | kLower);
}
inline char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

// The anchors among p[0, 16), as bits (bit k for p[k]), digits apart from
// the others so that the scan can drop digits that cannot matter. Reads
// p[-2, 17): the neighbours of a byte already rule out most anchors (a ':'
// after a digit is a time, not "key:"), so those never reach a handler. The
// handlers check everything again: this is only a filter, and it lets
// through every anchor whose handler could do something.
struct AnchorMasks {
  unsigned digits;
  unsigned after_paren;  // digits just after '(': "(415) 555-0132"
  unsigned others;
};

// Bit k set when bits k..k+10 of `joined` are all set: the byte at k starts
// 11 bytes of joined digits.
inline unsigned eleven_from(unsigned joined) {
  const unsigned two = joined & (joined >> 1);
  const unsigned four = two & (two >> 2);
  const unsigned eight = four & (four >> 4);
  return eight & (eight >> 3);
}

// A quick bound on the digit filter of Scan::run, from the digits of the
// block alone: false when none of `digits` (bit k for p[k]) can start 11
// bytes of joined digits. A joined byte is a digit, or a byte between two
// digits; so counting every byte between two digits, and every byte of the
// next block, as joined only adds bytes, and eleven_from() of that finds every
// digit the exact mask (joined_mask) would let through. (Bits k..k+10 of a
// digit k <= 15 reach bit 25 at most: the shifted-in bits never matter.)
inline bool may_start_eleven(unsigned digits) {
  const unsigned d = digits | 0xffff0000u;
  return (eleven_from(d | ((d << 1) & (d >> 1))) & digits) != 0;
}

#if defined(__SSE2__)
inline __m128i load16(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
inline __m128i eq(__m128i x, char c) {
  return _mm_cmpeq_epi8(x, _mm_set1_epi8(c));
}
inline __m128i either(__m128i a, __m128i b) {
  return _mm_or_si128(a, b);
}
inline unsigned bits_of(__m128i m) {
  return static_cast<unsigned>(_mm_movemask_epi8(m));
}

inline __m128i digit_bytes(__m128i x) {
  const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);  // x - '0' <= 9, unsigned
}

// The bytes of p[0, 16) that belong to a run of digit groups joined by
// single separators: digits, and ' ', '-', '.' with a digit on each side.
// Reads p[-1, 17).
inline unsigned joined_mask(const char* p) {
  const __m128i x = load16(p);
  const __m128i separator = either(either(eq(x, ' '), eq(x, '-')), eq(x, '.'));
  const __m128i between = _mm_and_si128(digit_bytes(load16(p - 1)), digit_bytes(load16(p + 1)));
  return bits_of(either(digit_bytes(x), _mm_and_si128(separator, between)));
}

inline AnchorMasks anchor_masks(const char* p, bool every_colon) {
  const __m128i x = load16(p);
  const __m128i prev = load16(p - 1);
  const __m128i digits = digit_bytes(x);
  const unsigned digit_bits = bits_of(digits);
  const unsigned paren_bits = bits_of(_mm_and_si128(digits, eq(prev, '(')));
  // Every term of `others` below is one of these eight bytes (with a
  // condition on its neighbours); most blocks of log text hold none, and
  // then the neighbours need not be looked at: `others` is 0.
  const __m128i raw =
      either(either(either(eq(x, '@'), eq(x, '+')), either(eq(x, '='), eq(x, ':'))),
             either(either(eq(x, '-'), eq(x, '_')), either(eq(x, 'A'), eq(x, 'J'))));
  if (bits_of(raw) == 0) return {digit_bits, paren_bits, 0};
  const __m128i prev2 = load16(p - 2);
  const __m128i next = load16(p + 1);
  // Before '=' or ':' of key=value: the last letter of a secret key (any
  // case), or a space or quote between the key and the sign.
  const __m128i low = _mm_or_si128(prev, _mm_set1_epi8(0x20));
  const __m128i key_end =
      either(either(either(eq(low, 'd'), eq(low, 'e')), either(eq(low, 't'), eq(low, 'n'))),
             either(either(eq(low, 'y'), eq(prev, ' ')), either(eq(prev, '"'), eq(prev, '\''))));
  __m128i m = either(eq(x, '@'), eq(x, '+'));
  m = either(m, _mm_and_si128(eq(x, '='), key_end));
  const __m128i colon_ok =
      every_colon ? _mm_set1_epi8(-1) : either(key_end, eq(next, '/'));  // "://"
  m = either(m, _mm_and_si128(eq(x, ':'), colon_ok));
  // "-----BEGIN", or the dash of "xoxb-".
  m = either(m, _mm_and_si128(eq(x, '-'), either(eq(next, '-'), eq(prev2, 'x'))));
  // sk_ pk_ rk_ ghp_ gho_ ghu_ ghs_ ghr_ github_.
  const __m128i before_underscore =
      either(either(either(eq(prev, 'k'), eq(prev, 'p')), either(eq(prev, 'o'), eq(prev, 'u'))),
             either(either(eq(prev, 's'), eq(prev, 'r')), eq(prev, 'b')));
  m = either(m, _mm_and_si128(eq(x, '_'), before_underscore));
  // AKIA ASIA AIza; eyJ.
  m = either(
      m, _mm_and_si128(eq(x, 'A'), either(either(eq(next, 'K'), eq(next, 'S')), eq(next, 'I'))));
  m = either(m, _mm_and_si128(eq(x, 'J'), eq(prev, 'y')));
  return {digit_bits, paren_bits, bits_of(m)};
}

// The bytes of p[0, 16) in the class kAnchor, exactly (digits and
// "@:=+-_AJ", whatever their neighbours): what the byte-by-byte loop hands
// to dispatch(). Reads p[0, 16) only.
inline unsigned anchor_bytes(const char* p) {
  const __m128i x = load16(p);
  const __m128i a = either(either(eq(x, '@'), eq(x, ':')), either(eq(x, '='), eq(x, '+')));
  const __m128i b = either(either(eq(x, '-'), eq(x, '_')), either(eq(x, 'A'), eq(x, 'J')));
  return bits_of(either(either(a, b), digit_bytes(x)));
}
#else
inline unsigned joined_mask(const char* p) {
  unsigned bits = 0;
  for (int k = 0; k < 16; ++k) {
    const bool sep = p[k] == ' ' || p[k] == '-' || p[k] == '.';
    if (is(p[k], kDigit) || (sep && is(p[k - 1], kDigit) && is(p[k + 1], kDigit))) bits |= 1u << k;
  }
  return bits;
}

inline AnchorMasks anchor_masks(const char* p, bool /*every_colon*/) {
  AnchorMasks m{0, 0, 0};
  for (unsigned k = 0; k < 16; ++k) {
    if (is(p[k], kDigit)) {
      m.digits |= 1u << k;
      if (p[static_cast<int>(k) - 1] == '(') m.after_paren |= 1u << k;
    } else if (is(p[k], kAnchor)) {
      m.others |= 1u << k;
    }
  }
  return m;
}

inline unsigned anchor_bytes(const char* p) {
  unsigned bits = 0;
  for (unsigned k = 0; k < 16; ++k) {
    if (is(p[k], kAnchor)) bits |= 1u << k;
  }
  return bits;
}
#endif

// ---------------------------------------------------------------------------
// Checks.

// Luhn over the digits of p[begin, end) (separators skipped).
bool luhn_valid(const char* p, std::size_t begin, std::size_t end) {
  int sum = 0;
  bool twice = false;
  for (std::size_t k = end; k > begin; --k) {
    const char c = p[k - 1];
    if (!is_digit(c)) continue;
    int d = c - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

int three_digits(const char* p) {
  return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

// The two-letter codes of the countries that use IBANs (SWIFT registry).
constexpr std::string_view kIbanCountries =
    "ADAEALATAZBABEBGBHBIBRBYCHCRCYCZDEDJDKDOEEEGESFIFKFOFRGBGEGIGLGRGTHNHRHUIEILIQISITJOKWKZ"
    "LBLCLILTLULVLYMCMDMEMKMNMRMTMUNINLNOOMPKPLPSPTQAROPSRSRUSASCSDSESISKSMSOSTSVTLTNTRUAVAVG"
    "XKYE";

bool iban_country(char a, char b) {
  for (std::size_t k = 0; k + 1 < kIbanCountries.size(); k += 2) {
    if (kIbanCountries[k] == a && kIbanCountries[k + 1] == b) return true;
  }
  return false;
}

// ISO 13616 check: the first four characters moved to the end, letters as
// 10..35, the number mod 97 must be 1.
bool iban_valid(const char* chars, std::size_t size) {
  unsigned remainder = 0;
  for (std::size_t k = 0; k < size; ++k) {
    const char c = chars[(k + 4) % size];
    if (is_digit(c)) {
      remainder = (remainder * 10 + static_cast<unsigned>(c - '0')) % 97;
    } else {
      remainder = (remainder * 100 + static_cast<unsigned>(c - 'A' + 10)) % 97;
    }
  }
  return remainder == 1;
}

inline bool is_key_separator(char c) {
  return c == '_' || c == '-' || c == '.';
}

// A key ends with `suffix` when, read backwards, lower-cased and ignoring
// '_', '-' and '.', its last characters spell `suffix` (which is written
// lower-case without separators).
bool key_ends_with(const char* p, std::size_t begin, std::size_t end, std::string_view suffix) {
  std::size_t s = suffix.size();
  std::size_t k = end;
  while (s > 0) {
    while (k > begin && is_key_separator(p[k - 1])) --k;
    if (k == begin || lower(p[k - 1]) != suffix[s - 1]) return false;
    --k;
    --s;
  }
  return true;
}

// Keys whose value is a secret, most specific first. The key may carry
// anything before the suffix: db_password, client_secret, X-Api-Key.
struct KeyRule {
  std::string_view suffix;
  Detector detector;
  std::string_view type;
};
constexpr std::array<KeyRule, 12> kKeyRules{{
    {"password", Detector::secret, "PASSWORD"},
    {"passwd", Detector::secret, "PASSWORD"},
    {"pwd", Detector::secret, "PASSWORD"},
    {"passphrase", Detector::secret, "PASSWORD"},
    {"secretaccesskey", Detector::aws_key, "AWS_KEY"},
    {"awssecretkey", Detector::aws_key, "AWS_KEY"},
    {"secretkey", Detector::secret, "SECRET"},
    {"privatekey", Detector::secret, "SECRET"},
    {"secret", Detector::secret, "SECRET"},
    {"token", Detector::secret, "TOKEN"},
    {"apikey", Detector::secret, "API_KEY"},
    {"authorization", Detector::authorization, "AUTHORIZATION"},
}};

// The last letters of the suffixes above: a quick rejection of most keys.
bool may_end_secret_key(char c) {
  switch (lower(c)) {
    case 'd':
    case 'e':
    case 't':
    case 'n':
    case 'y': return true;
    default: return false;
  }
}

// Authorization schemes kept visible before the redacted credentials.
bool is_auth_scheme(std::string_view word) {
  constexpr std::array<std::string_view, 8> kSchemes{
      "bearer", "basic", "token", "digest", "negotiate", "ntlm", "apikey", "aws4-hmac-sha256"};
  for (const std::string_view s : kSchemes) {
    if (s.size() != word.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < s.size() && same; ++k) same = lower(word[k]) == s[k];
    if (same) return true;
  }
  return false;
}

constexpr std::string_view kEmail = "EMAIL";
constexpr std::string_view kPhone = "PHONE";
constexpr std::string_view kPassword = "PASSWORD";
constexpr std::string_view kIpAddress = "IP_ADDRESS";

}  // namespace

// ---------------------------------------------------------------------------
// One scan of one text. Handlers take the position of an anchor byte and
// return where the scan goes on (always further). Matches are reported in
// order; `floor_` is the end of the last one, and no handler looks back
// before it, so a match never overlaps one already reported.
class Scan {
 public:
  Scan(const Scanner& scanner, std::string_view text, MatchSink& sink)
      : s_(scanner), text_(text), p_(text.data()), n_(text.size()), sink_(sink) {}

  void run() {
    // Sixteen bytes at a time: the anchors of a block are handled in order,
    // each handler saying where the scan goes on; a block is loaded once
    // however many anchors it holds.
    //
    // Digits are most of the anchors in log text (times, counts, sizes), and
    // most cannot matter: a card number, an SSN and a phone number (but for
    // "(415) ..." and "+...", anchored elsewhere) each start with 11 bytes
    // or more of digits joined by single separators, so a digit that does
    // not is dropped here. (IPv4 addresses and IBANs need fewer: with those
    // detectors on, every digit counts.)
    //
    // The first two bytes go byte by byte (the masks read two bytes back).
    std::size_t i = 0;
    while (i < 2 && i < n_) i = is(p_[i], kAnchor) ? dispatch(i) : i + 1;
    // The joined mask of the block after the last one filtered, kept for
    // when the scan gets there.
    std::size_t joined_at = n_;
    unsigned joined_there = 0;
    while (i + 17 <= n_) {
      const AnchorMasks m = anchor_masks(p_ + i, s_.on(Detector::ipv6));
      unsigned digits = s_.numeric_ ? m.digits : 0;
      if (digits != 0 && s_.digit_filter_ && !may_start_eleven(digits)) {
        // (What the filter below would keep: eleven_from() of the joined
        // bytes finds none of these digits.)
        digits = m.after_paren;
      } else if (digits != 0 && s_.digit_filter_) {
        const unsigned here = joined_at == i ? joined_there : joined_mask(p_ + i);
        // (Near the end of the text, the next block counts as all joined.)
        unsigned following = 0xffffu;
        if (i + 33 <= n_) {
          following = joined_mask(p_ + i + 16);
          joined_at = i + 16;
          joined_there = following;
        }
        digits &= eleven_from(here | following << 16) | m.after_paren;
      }
      unsigned bits = m.others | digits;
      std::size_t next = i + 16;
      while (bits != 0) {
        const std::size_t r = dispatch(i + static_cast<std::size_t>(__builtin_ctz(bits)));
        if (r >= i + 16) {
          next = r;
          break;
        }
        bits &= ~0u << (r - i);
      }
      i = next;
    }
    if (i < n_ && n_ >= 16) {
      // The tail: fewer than 17 bytes are left (i >= n_ - 16), too few for
      // the masks above, which read past the block. Every anchor byte there
      // goes to dispatch() in order, exactly as a byte-by-byte loop would
      // hand them over, but the anchors are found 16 at a time in the text's
      // last 16 bytes (bits below i masked off; no byte outside the text is
      // read).
      const std::size_t base = n_ - 16;
      unsigned bits = anchor_bytes(p_ + base) & (~0u << (i - base));
      while (bits != 0) {
        const std::size_t r = dispatch(base + static_cast<std::size_t>(__builtin_ctz(bits)));
        if (r >= n_) return;
        bits &= ~0u << (r - base);
      }
      return;
    }
    while (i < n_) i = is(p_[i], kAnchor) ? dispatch(i) : i + 1;
  }

 private:
  // The handler of the anchor at k. The cheapest rejections are made here,
  // inline; the handlers do the rest.
  std::size_t dispatch(std::size_t k) {
    const char c = p_[k];
    if (is_digit(c)) return on_digit(k);
    switch (c) {
      case '@': return on_at(k);
      case ':':
        if (at(k + 1) == '/' && at(k + 2) == '/') {
          return on(Detector::url_credentials) ? url_credentials(k) : k + 3;
        }
        return on_key_value(k);
      case '=': return on_key_value(k);
      case '+': return on_plus(k);
      case '-':
        // "-----BEGIN", or the dash of "xoxb-".
        if (at(k + 1) != '-' && (k < 2 || p_[k - 2] != 'x')) return k + 1;
        return on_dash(k);
      case '_':
        // The letter before: sk_ pk_ rk_ ghp_ gho_ ghu_ ghs_ ghr_ github_.
        if (k == 0) return 1;
        switch (p_[k - 1]) {
          case 'k':
          case 'p':
          case 'o':
          case 'u':
          case 's':
          case 'r':
          case 'b': return on_underscore(k);
          default: return k + 1;
        }
      case 'A': return on_upper_a(k);
      case 'J': return on_upper_j(k);
      default: return k + 1;
    }
  }

  bool on(Detector d) const { return s_.on(d); }
  char at(std::size_t k) const { return k < n_ ? p_[k] : '\0'; }

  std::size_t emit(std::size_t begin, std::size_t end, Detector d, std::string_view type) {
    sink_.on_match(begin, end, d, type);
    floor_ = end;
    return end;
  }

  std::size_t skip(std::size_t k, std::uint16_t cls) const {
    while (k < n_ && is(p_[k], cls)) ++k;
    return k;
  }

  bool starts_with(std::size_t k, std::string_view s) const {
    return n_ - k >= s.size() && std::memcmp(p_ + k, s.data(), s.size()) == 0;
  }

  // True when a number ending at `e` runs on into a word: "12ab", "12@x",
  // "12-ab", "1.2.x" (but not "12." at the end of a sentence, "12-" or "12 ").
  bool glued_after(std::size_t e) const {
    if (e >= n_) return false;
    const char c = p_[e];
    if (is(c, kWord) || c == '@') return true;
    return (c == '-' || c == '.') && is_alnum(at(e + 1));
  }

  // ---- digits: card numbers, SSNs, NANP phones, IPv4, IBAN -----------------

  std::size_t on_digit(std::size_t i) {
    if (i > 0 && is(p_[i - 1], kWord)) {  // inside a word: an IBAN, or nothing
      if (on(Detector::iban) && i >= 2 && i - 2 >= floor_) {
        if (const std::size_t e = iban(i - 2)) return e;
      }
      return skip(i, kDigit | kUpper | kLower);
    }
    if (!s_.numeric_) return skip(i, kDigit);
    if (on(Detector::phone) && i >= 1 && p_[i - 1] == '(' && i - 1 >= floor_) {
      const std::size_t e = paren_nanp(i - 1);
      if (e != 0 && !glued_after(e) && !after_id_key(i - 1)) {
        return emit(i - 1, e, Detector::phone, kPhone);
      }
    }
    // Most numbers are one short group that nothing can use.
    const std::size_t k = skip(i, kDigit);
    const char c = at(k);
    if (k - i < 13 && !((c == ' ' || c == '-' || c == '.') && is_digit(at(k + 1)))) {
      return is_alnum(c) ? skip(k, kDigit | kUpper | kLower) : k;
    }
    return number_run(i);
  }

  // A run of digit groups joined by single separators (' ', '-', '.'), then
  // the leftmost sub-run that some detector accepts. A sub-run may start or
  // end inside the run only where the join is a space: "id 4111 1111 1111
  // 1111" yields the card, "2024-123-45-6789" yields nothing.
  std::size_t number_run(std::size_t i) {
    struct Group {
      std::size_t begin;
      std::size_t end;
      char sep;  // the separator before this group; 0 for the first
    };
    constexpr int kMaxGroups = 8;
    Group g[kMaxGroups];
    int count = 0;
    std::size_t digits = 0;
    std::size_t k = i;
    char sep = 0;
    for (;;) {
      const std::size_t b = k;
      k = skip(k, kDigit);
      g[count++] = {b, k, sep};
      digits += k - b;
      if (count == kMaxGroups) break;
      const char c = at(k);
      if ((c == ' ' || c == '-' || c == '.') && is_digit(at(k + 1))) {
        sep = c;
        ++k;
        continue;
      }
      break;
    }
    const std::size_t end = k;
    const bool glued_back = glued_after(end);
    const std::size_t resume =
        glued_back && is_alnum(at(end)) ? skip(end, kDigit | kUpper | kLower) : end;
    // Fast exit for dates, decimals and versions: an SSN has 9 digits, a
    // phone 10, a card 13; only an IPv4 address has fewer (in 4 groups).
    if (digits < 9 && !(count >= 4 && on(Detector::ipv4))) return resume;
    if (count == 1 && digits < 13) return resume;
    const bool glued_front =
        i >= 2 && (p_[i - 1] == '-' || p_[i - 1] == '.') && is_alnum(p_[i - 2]);

    for (int a = 0; a < count; ++a) {
      if (a == 0 ? glued_front : g[a].sep != ' ') continue;
      for (int b = count - 1; b >= a; --b) {
        const bool end_ok = b == count - 1 ? !glued_back : g[b + 1].sep == ' ';
        if (!end_ok) continue;
        const std::optional<Detector> d = classify(g, a, b);
        if (!d) continue;
        if (*d != Detector::ipv4 && after_id_key(g[a].begin)) return resume;
        return emit(g[a].begin, g[b].end, *d, detector_type(*d));
      }
    }
    return resume;
  }

  template <typename Group>
  std::optional<Detector> classify(const Group* g, int a, int b) const {
    auto len = [&](int x) { return g[x].end - g[x].begin; };
    auto first = [&](int x) { return p_[g[x].begin]; };
    // One separator for the whole sub-run (0 when it is a single group).
    const char sep = a < b ? g[a + 1].sep : 0;
    for (int x = a + 2; x <= b; ++x) {
      if (g[x].sep != sep) return std::nullopt;
    }
    std::size_t digits = 0;
    for (int x = a; x <= b; ++x) digits += len(x);

    // Cards: 13-19 digits, bare or in groups (4-4-4-4, 4-6-5, ...), an
    // issuer's first digit (2-6: no timestamp in ms or ns starts so), Luhn.
    if (on(Detector::credit_card) && digits >= 13 && digits <= 19 && first(a) >= '2' &&
        first(a) <= '6') {
      bool shape = a == b;
      if (!shape && (sep == ' ' || sep == '-') && len(a) == 4) {
        shape = true;
        for (int x = a + 1; x <= b; ++x) shape = shape && len(x) >= 3 && len(x) <= 6;
      }
      if (shape && luhn_valid(p_, g[a].begin, g[b].end)) return Detector::credit_card;
    }
    // SSN: AAA-GG-SSSS (or spaced); area not 000, 666 or 9xx, group not 00,
    // serial not 0000.
    if (on(Detector::ssn) && b == a + 2 && (sep == '-' || sep == ' ') && len(a) == 3 &&
        len(a + 1) == 2 && len(a + 2) == 4) {
      const int area = three_digits(p_ + g[a].begin);
      const bool group_ok = !(first(a + 1) == '0' && p_[g[a + 1].begin + 1] == '0');
      const bool serial_ok = std::memcmp(p_ + g[a + 2].begin, "0000", 4) != 0;
      if (area != 0 && area != 666 && area < 900 && group_ok && serial_ok) return Detector::ssn;
    }
    // NANP: 415-555-0132, 415.555.0132; with the country code also spaced:
    // 1-800-555-0199, 1 800 555 0199 (but not "415 555 0132": three numbers
    // in a row are too often something else). The area code starts with 2-9.
    if (on(Detector::phone)) {
      int x = a;
      bool sep_ok = sep == '-' || sep == '.';
      if (b == a + 3 && len(a) == 1 && first(a) == '1') {
        ++x;
        sep_ok = sep_ok || sep == ' ';
      }
      if (sep_ok && b == x + 2 && len(x) == 3 && len(x + 1) == 3 && len(x + 2) == 4 &&
          first(x) >= '2') {
        return Detector::phone;
      }
    }
    if (on(Detector::ipv4) && b == a + 3 && sep == '.') {
      bool ok = true;
      for (int x = a; x <= b && ok; ++x) {
        ok = len(x) <= 3;
        int value = 0;
        for (std::size_t k = g[x].begin; k < g[x].end && ok; ++k)
          value = value * 10 + (p_[k] - '0');
        ok = ok && value <= 255;
      }
      if (ok) return Detector::ipv4;
    }
    return std::nullopt;
  }

  // "(415) 555-0132", "(415)555-0132", "(415) 555 0132": the end, or 0.
  std::size_t paren_nanp(std::size_t q) const {
    std::size_t k = q + 1;
    if (!(at(k) >= '2' && at(k) <= '9' && is_digit(at(k + 1)) && is_digit(at(k + 2)))) return 0;
    k += 3;
    if (at(k) != ')') return 0;
    ++k;
    if (at(k) == ' ') ++k;
    if (!(is_digit(at(k)) && is_digit(at(k + 1)) && is_digit(at(k + 2)))) return 0;
    k += 3;
    if (at(k) != '-' && at(k) != '.' && at(k) != ' ') return 0;
    ++k;
    for (int d = 0; d < 4; ++d, ++k) {
      if (!is_digit(at(k))) return 0;
    }
    return k;
  }

  // Whether the number at `pos` is the value of a key naming an identifier
  // (id, user_id, traceId, request-ids): those are left alone.
  bool after_id_key(std::size_t pos) const {
    std::size_t j = pos;
    if (j > 0 && (p_[j - 1] == '"' || p_[j - 1] == '\'')) --j;
    for (int s = 0; s < 3 && j > 0 && p_[j - 1] == ' '; ++s) --j;
    if (j == 0 || (p_[j - 1] != '=' && p_[j - 1] != ':')) return false;
    --j;
    if (j > 0 && (p_[j - 1] == '"' || p_[j - 1] == '\'')) --j;
    if (j > 0 && lower(p_[j - 1]) == 's') --j;  // ids
    if (j < 2 || lower(p_[j - 1]) != 'd' || lower(p_[j - 2]) != 'i') return false;
    // "id" alone or after a separator, or a camel-case "Id"/"ID"; not "paid".
    const std::size_t i_pos = j - 2;
    return p_[i_pos] == 'I' || i_pos == 0 || !is(p_[i_pos - 1], kUpper | kLower);
  }

  // IBAN at `b` (two capital letters, then the check digits): compact
  // (DE89370400440532013000) or in groups of four (DE89 3704 0044 0532 0130
  // 00). The end, or 0.
  std::size_t iban(std::size_t b) {
    if (!is(p_[b], kUpper) || !is(p_[b + 1], kUpper) || !is_digit(at(b + 3))) return 0;
    if (b > 0 && is(p_[b - 1], kWord)) return 0;
    if (!iban_country(p_[b], p_[b + 1])) return 0;
    constexpr std::size_t kMax = 34;
    char chars[kMax];
    std::size_t size = 0;
    std::size_t ends[kMax];  // text position after each possible last group
    std::size_t sizes[kMax];
    int candidates = 0;
    std::size_t k = b;
    for (;;) {
      const std::size_t group = k;
      while (k < n_ && is(p_[k], kUpper | kDigit) && size < kMax) chars[size++] = p_[k++];
      if (k < n_ && is(p_[k], kWord)) break;  // glued to more text (or too long)
      ends[candidates] = k;
      sizes[candidates++] = size;
      // Grouped form: groups of exactly four, separated by one space.
      if (k - group != 4 || at(k) != ' ' || !is(at(k + 1), kUpper | kDigit)) break;
      ++k;
    }
    for (int c = candidates - 1; c >= 0; --c) {
      if (sizes[c] >= 15 && iban_valid(chars, sizes[c])) {
        return emit(b, ends[c], Detector::iban, detector_type(Detector::iban));
      }
    }
    return 0;
  }

  // ---- '+': E.164 and +1 NANP ------------------------------------------------

  std::size_t on_plus(std::size_t i) {
    if (!on(Detector::phone) || (i > 0 && is(p_[i - 1], kWord))) return i + 1;
    if (!(at(i + 1) >= '1' && at(i + 1) <= '9')) return i + 1;
    const std::size_t b = i + 1;
    const std::size_t k = skip(b, kDigit);
    const std::size_t first = k - b;
    if (first >= 8) {  // +14155550132
      if (first <= 15 && !glued_after(k)) return emit(i, k, Detector::phone, kPhone);
      return i + 1;
    }
    if (first == 1 && p_[b] == '1') {  // +1 (415) 555-0132, +1 415 555 0132, +1-415-555-0132
      std::size_t q = k;
      if (at(q) == ' ' || at(q) == '-' || at(q) == '.') ++q;
      std::size_t e = 0;
      if (at(q) == '(') {
        e = paren_nanp(q);
      } else if (q > k) {
        e = nanp_groups(q);
      }
      if (e != 0 && !glued_after(e)) return emit(i, e, Detector::phone, kPhone);
      return i + 1;
    }
    if (first > 3) return i + 1;  // a country code has 1-3 digits
    // +44 20 7946 0958, +33-1-23-45-67-89: groups joined by one kind of
    // separator, 8 to 15 digits in all; the longest such prefix that does
    // not run on into a word.
    const char sep = at(k);
    if (sep != ' ' && sep != '-') return i + 1;
    constexpr int kMaxGroups = 8;
    std::size_t ends[kMaxGroups];
    std::size_t digits_at[kMaxGroups];
    int groups = 0;
    std::size_t digits = first;
    std::size_t e = k;
    while (groups < kMaxGroups && at(e) == sep && is_digit(at(e + 1))) {
      const std::size_t m = skip(e + 1, kDigit);
      if (digits + (m - e - 1) > 15) break;
      digits += m - e - 1;
      e = m;
      ends[groups] = e;
      digits_at[groups++] = digits;
    }
    for (int g = groups - 1; g >= 0 && digits_at[g] >= 8; --g) {
      if (!glued_after(ends[g])) return emit(i, ends[g], Detector::phone, kPhone);
    }
    return i + 1;
  }

  // "415 555 0132", "415-555-0132", "415.555.0132" at q: the end, or 0.
  std::size_t nanp_groups(std::size_t q) const {
    const int sizes[3] = {3, 3, 4};
    std::size_t k = q;
    if (!(at(k) >= '2' && at(k) <= '9')) return 0;
    for (int g = 0; g < 3; ++g) {
      if (g > 0) {
        if (at(k) != ' ' && at(k) != '-' && at(k) != '.') return 0;
        ++k;
      }
      for (int d = 0; d < sizes[g]; ++d, ++k) {
        if (!is_digit(at(k))) return 0;
      }
    }
    return k;
  }

  // ---- '@': email addresses ---------------------------------------------------

  std::size_t on_at(std::size_t a) {
    if (!on(Detector::email)) return a + 1;
    const std::size_t limit = std::max(floor_, a >= 64 ? a - 64 : std::size_t{0});
    std::size_t j = a;
    while (j > limit && is(p_[j - 1], kLocal)) --j;
    while (j < a && p_[j] == '.') ++j;
    if (j == a || p_[a - 1] == '.') return a + 1;
    // scheme://user@host is a URL's user name, not an address.
    if (j >= 2 && p_[j - 1] == '/' && p_[j - 2] == '/') return a + 1;
    std::size_t k = a + 1;
    std::size_t labels = 0;
    std::size_t last_label = 0;
    std::size_t domain_end = 0;
    for (;;) {
      const std::size_t lb = k;
      while (k < n_ && k - a <= 253 && is(p_[k], kDomain)) ++k;
      if (k == lb || p_[lb] == '-' || p_[k - 1] == '-') break;
      ++labels;
      last_label = lb;
      domain_end = k;
      if (at(k) == '.' && is(at(k + 1), kDomain)) {
        ++k;
        continue;
      }
      break;
    }
    if (labels < 2 || domain_end - last_label < 2) return a + 1;
    for (std::size_t t = last_label; t < domain_end; ++t) {
      if (!is(p_[t], kUpper | kLower)) return a + 1;  // the top-level domain is letters
    }
    return emit(j, domain_end, Detector::email, kEmail);
  }

  // ---- ':' and '=': key=value secrets, URL credentials, IPv6 ----------------

  // At ':' (not of "://") or '='.
  std::size_t on_key_value(std::size_t a) {
    if (s_.keyed_) {
      if (const std::size_t e = key_value(a)) return e;
    }
    if (p_[a] == ':' && on(Detector::ipv6)) {
      if (const std::size_t e = ipv6(a)) return e;
    }
    return a + 1;
  }

  // scheme://user:PASSWORD@host, at the ':' of "://". The password ends at
  // the last '@' before the path (an unencoded '@' in a password is common
  // enough). Where the scan goes on.
  std::size_t url_credentials(std::size_t a) {
    std::size_t k = a + 3;
    while (k < n_ && k - a < 128 && is(p_[k], kUserinfo)) ++k;
    if (at(k) != ':') return a + 3;
    const std::size_t colon = k;
    std::size_t last_at = 0;
    for (k = colon + 1; k < n_ && k - colon <= 256 && !is(p_[k], kUrlEnd); ++k) {
      if (p_[k] == '@') last_at = k;
    }
    if (last_at <= colon + 1 || last_at + 1 >= n_ || is(p_[last_at + 1], kUrlEnd)) return a + 3;
    return emit(colon + 1, last_at, Detector::url_credentials, kPassword);
  }

  // key=value, key: value, "key": "value", 'key': 'value', \"key\":\"value\"
  // at the '=' or ':' a. The key must end with a KeyRule suffix; the value
  // is replaced, the key and any quotes stay. The resume position, or 0.
  std::size_t key_value(std::size_t a) {
    std::size_t j = a;
    for (int s = 0; s < 3 && j > floor_ && p_[j - 1] == ' '; ++s) --j;
    if (j > floor_ && (p_[j - 1] == '"' || p_[j - 1] == '\'')) {
      --j;
      if (j > floor_ && p_[j - 1] == '\\') --j;
    }
    const std::size_t key_end = j;
    if (key_end <= floor_ || !may_end_secret_key(p_[key_end - 1])) return 0;
    // The key's last two letters pick the rules worth comparing in full.
    const char last = lower(p_[key_end - 1]);
    std::size_t q = key_end - 1;
    while (q > floor_ && is_key_separator(p_[q - 1])) --q;
    const char second = q > floor_ ? lower(p_[q - 1]) : '\0';
    const KeyRule* rule = nullptr;
    for (const KeyRule& r : kKeyRules) {
      const std::size_t size = r.suffix.size();
      if (r.suffix[size - 1] == last && r.suffix[size - 2] == second &&
          key_ends_with(p_, floor_, key_end, r.suffix)) {
        rule = &r;
        break;
      }
    }
    if (rule == nullptr || !on(rule->detector)) return 0;

    // The value: quoted (to the closing quote, or to the end of the text
    // when it never comes), or bare (to a space or a delimiter).
    std::size_t v = a + 1;
    for (int s = 0; s < 8 && (at(v) == ' ' || at(v) == '\t'); ++s) ++v;
    if (v >= n_) return 0;
    enum class Quote { none, plain, escaped } quote = Quote::none;
    char qc = 0;
    if (p_[v] == '\\' && at(v + 1) == '"') {
      quote = Quote::escaped;
      v += 2;
    } else if (p_[v] == '"' || p_[v] == '\'') {
      quote = Quote::plain;
      qc = p_[v];
      ++v;
    }
    if (rule->detector == Detector::authorization) {
      // Keep the scheme: "Bearer [REDACTED_AUTHORIZATION]".
      const std::size_t w = skip(v, kToken);
      if (w > v && at(w) == ' ' && is_auth_scheme(text_.substr(v, w - v))) {
        v = w;
        while (at(v) == ' ') ++v;
      }
    }
    std::size_t ve = v;
    switch (quote) {
      case Quote::escaped: {
        const std::size_t close = text_.find("\\\"", v);
        ve = close == std::string_view::npos ? n_ : close;
        break;
      }
      case Quote::plain:
        while (ve < n_ && p_[ve] != qc) ve += p_[ve] == '\\' ? 2 : 1;
        ve = std::min(ve, n_);
        break;
      case Quote::none:
        while (ve < n_ && !is(p_[ve], kValueEnd)) ++ve;
        break;
    }
    if (ve == v) return 0;
    const std::string_view value = text_.substr(v, ve - v);
    // Already redacted or masked, a JSON null, or the shell's PWD: not secrets.
    if (value.starts_with("[REDACTED") || value.find_first_not_of('*') == std::string_view::npos ||
        (quote == Quote::none && value == "null")) {
      return ve;
    }
    if (rule->suffix == "pwd" && (value[0] == '/' || value[0] == '~')) return 0;
    return emit(v, ve, rule->detector, rule->type);
  }

  // An IPv6 address around the ':' at a: the end, or 0.
  std::size_t ipv6(std::size_t a) {
    std::size_t t = a;
    while (t > floor_ && a - t < 40 && (is(p_[t - 1], kHex) || p_[t - 1] == ':')) --t;
    if (t > 0 && (is(p_[t - 1], kWord) || p_[t - 1] == '.')) return 0;
    const std::size_t e = ipv6_end(t);
    if (e <= a + 1) return 0;
    if (e < n_ && (is(p_[e], kWord) || p_[e] == ':' || p_[e] == '.')) return 0;
    bool digit = false;
    for (std::size_t k = t; k < e && !digit; ++k) digit = is_digit(p_[k]);
    if (!digit) return 0;  // "dead::beef", "a::b": words more often than addresses
    return emit(t, e, Detector::ipv6, kIpAddress);
  }

  // RFC 4291 text forms: eight groups, or fewer with one "::", optionally
  // ending in a dotted IPv4 address. The end, or 0.
  std::size_t ipv6_end(std::size_t t) const {
    std::size_t k = t;
    int groups = 0;
    bool compressed = false;
    std::size_t end = t;
    if (at(k) == ':') {
      if (at(k + 1) != ':') return 0;
      compressed = true;
      k += 2;
      end = k;
    }
    while (groups < 8) {
      std::size_t g = k;
      while (g < n_ && g - k < 4 && is(p_[g], kHex)) ++g;
      if (g == k) break;
      if (is(at(g), kHex)) return 0;  // five or more hex digits
      if (at(g) == '.') {
        const std::size_t v4 = ipv4_end(k);
        if (v4 != 0 && groups <= 6) {
          groups += 2;
          end = v4;
        }
        break;
      }
      ++groups;
      k = end = g;
      if (at(k) == ':' && at(k + 1) == ':') {
        if (compressed) break;
        compressed = true;
        k = end = k + 2;
        continue;
      }
      if (at(k) == ':' && is(at(k + 1), kHex)) {
        ++k;
        continue;
      }
      break;
    }
    if (compressed ? (groups > 7 || groups == 0) : groups != 8) return 0;
    return end;
  }

  // A dotted quad at k: the end, or 0.
  std::size_t ipv4_end(std::size_t k) const {
    for (int part = 0; part < 4; ++part) {
      if (part > 0) {
        if (at(k) != '.') return 0;
        ++k;
      }
      const std::size_t b = k;
      int value = 0;
      while (k < n_ && is_digit(p_[k]) && k - b < 3) value = value * 10 + (p_[k++] - '0');
      if (k == b || value > 255) return 0;
    }
    return is_digit(at(k)) ? 0 : k;
  }

  // ---- '-': PEM private keys, Slack tokens -------------------------------------

  std::size_t on_dash(std::size_t i) {
    if (on(Detector::private_key) && at(i + 1) == '-') {
      if (const std::size_t e = private_key(i)) return e;
    }
    if (on(Detector::slack_token) && i >= 4 && i - 4 >= floor_ && p_[i - 4] == 'x' &&
        p_[i - 3] == 'o' && p_[i - 2] == 'x' && in("abprs", p_[i - 1]) &&
        (i == 4 || !is(p_[i - 5], kToken))) {
      const std::size_t e = skip(i + 1, kDigit | kUpper | kLower | kToken);
      if (e - i - 1 >= 10) return emit(i - 4, e, Detector::slack_token, "SLACK_TOKEN");
    }
    return i + 1;
  }

  // "-----BEGIN <label> PRIVATE KEY-----" through the matching END line, or
  // to the end of the text when the block is cut off. The end, or 0.
  std::size_t private_key(std::size_t i) {
    constexpr std::string_view kBegin = "-----BEGIN ";
    if (!starts_with(i, kBegin)) return 0;
    const std::size_t label = i + kBegin.size();
    const std::size_t close = text_.substr(label, 80).find("-----");
    if (close == std::string_view::npos) return 0;
    if (text_.substr(label, close).find("PRIVATE KEY") == std::string_view::npos) return 0;
    const std::size_t end_line = text_.find("-----END ", label + close + 5);
    std::size_t e = n_;
    if (end_line != std::string_view::npos) {
      const std::size_t end_close = text_.find("-----", end_line + 9);
      if (end_close != std::string_view::npos) e = end_close + 5;
    }
    return emit(i, e, Detector::private_key, "PRIVATE_KEY");
  }

  // ---- '_': GitHub tokens, Stripe keys -------------------------------------------

  std::size_t on_underscore(std::size_t i) {
    if (!on(Detector::github_token) && !on(Detector::stripe_key)) return i + 1;
    std::size_t w = i;
    while (w > floor_ && i - w < 7 && is_alnum(p_[w - 1])) --w;
    if (w > 0 && is(p_[w - 1], kToken)) return i + 1;
    const std::string_view word = text_.substr(w, i - w);
    if (on(Detector::stripe_key) && (word == "sk" || word == "pk" || word == "rk") &&
        (starts_with(i, "_live_") || starts_with(i, "_test_"))) {
      const std::size_t e = skip(i + 6, kDigit | kUpper | kLower);
      if (e - i - 6 >= 10 && !is(at(e), kWord)) {
        return emit(w, e, Detector::stripe_key, "STRIPE_KEY");
      }
    } else if (on(Detector::github_token) && word.size() == 3 && word[0] == 'g' && word[1] == 'h' &&
               in("pousr", word[2])) {
      const std::size_t e = skip(i + 1, kDigit | kUpper | kLower);
      if (e - i - 1 >= 30 && !is(at(e), kWord)) {
        return emit(w, e, Detector::github_token, "GITHUB_TOKEN");
      }
    } else if (on(Detector::github_token) && word == "github" && starts_with(i, "_pat_")) {
      const std::size_t e = skip(i + 5, kWord);
      if (e - i - 5 >= 22) return emit(w, e, Detector::github_token, "GITHUB_TOKEN");
    }
    return i + 1;
  }

  // ---- 'A': AWS access key ids, Google API keys ------------------------------

  std::size_t on_upper_a(std::size_t i) {
    if (i > 0 && is(p_[i - 1], kToken)) return i + 1;
    if (on(Detector::aws_key) && (starts_with(i, "AKIA") || starts_with(i, "ASIA")) &&
        n_ - i >= 20) {
      bool ok = true;
      for (std::size_t k = i + 4; k < i + 20 && ok; ++k) ok = is(p_[k], kUpper | kDigit);
      if (ok && !is_alnum(at(i + 20))) return emit(i, i + 20, Detector::aws_key, "AWS_KEY");
    }
    if (on(Detector::google_api_key) && starts_with(i, "AIza") && n_ - i >= 39) {
      const std::size_t e = skip(i + 4, kToken);
      if (e == i + 39) return emit(i, e, Detector::google_api_key, "GOOGLE_API_KEY");
    }
    return i + 1;
  }

  // ---- 'J': JSON Web Tokens (eyJ...) --------------------------------------------

  std::size_t on_upper_j(std::size_t i) {
    if (!on(Detector::jwt) || i < 2 || p_[i - 1] != 'y' || p_[i - 2] != 'e') return i + 1;
    const std::size_t b = i - 2;
    if (b < floor_ || (b > 0 && (is(p_[b - 1], kToken) || p_[b - 1] == '.'))) return i + 1;
    // header.payload.signature, base64url; the payload is JSON too ("ey").
    std::size_t k = skip(b, kToken);
    if (k - b < 10 || at(k) != '.' || at(k + 1) != 'e' || at(k + 2) != 'y') return i + 1;
    const std::size_t payload = k + 1;
    k = skip(payload, kToken);
    if (k - payload < 10 || at(k) != '.') return i + 1;
    k = skip(k + 1, kToken);  // the signature (empty for alg "none")
    while (at(k) == '.' && is(at(k + 1), kToken)) k = skip(k + 1, kToken);  // JWE: 5 parts
    return emit(b, k, Detector::jwt, "JWT");
  }

  const Scanner& s_;
  std::string_view text_;
  const char* p_;
  std::size_t n_;
  MatchSink& sink_;
  std::size_t floor_ = 0;
};

Scanner::Scanner(const std::array<DetectorSetting, kDetectorCount>& settings) noexcept {
  for (std::size_t d = 0; d < kDetectorCount; ++d) {
    on_[d] = settings[d].enabled;
    any_ = any_ || on_[d];
  }
  numeric_ = on(Detector::credit_card) || on(Detector::ssn) || on(Detector::phone) ||
             on(Detector::ipv4) || on(Detector::iban);
  keyed_ = on(Detector::secret) || on(Detector::authorization) || on(Detector::aws_key);
  digit_filter_ = !on(Detector::ipv4) && !on(Detector::iban);
}

void Scanner::scan(std::string_view text, MatchSink& sink) const {
  if (!any_ || text.empty()) return;
  Scan(*this, text, sink).run();
}

}  // namespace hydra::protect::detail
