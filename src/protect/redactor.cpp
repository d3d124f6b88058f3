#include "hydra/protect/redactor.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <variant>

#include "hydra/core/error.hpp"
#include "scanner.hpp"

namespace hydra::protect {
namespace {

// How a value is normalised before it is hashed, so that one card number
// written with spaces or dashes, or one address in two cases, gets one
// pseudonym.
enum class Canonical : std::uint8_t { raw, digits, alnum_upper, lower };

Canonical canonical_for(Detector d) {
  switch (d) {
    case Detector::credit_card:
    case Detector::ssn:
    case Detector::phone: return Canonical::digits;
    case Detector::iban: return Canonical::alnum_upper;
    case Detector::email: return Canonical::lower;
    default: return Canonical::raw;
  }
}

// A span to replace and how.
struct Finding {
  std::size_t begin;
  std::size_t end;
  std::string_view type;
  Action action;
  Canonical canonical;
};

void append(std::string& out, std::string_view s) {
  out.append(s);
}
void append(fmt::memory_buffer& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

bool valid_type(std::string_view type) {
  return !type.empty() && std::all_of(type.begin(), type.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
bool is_separator(char c) {
  return c == '_' || c == '-' || c == '.';
}

// A field name lower-cased, without '_', '-' and '.'.
std::string normalise_name(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (!is_separator(c)) out.push_back(ascii_lower(c));
  }
  return out;
}

// Whether `key`, normalised as above, ends with `suffix` (already normalised).
bool name_ends_with(std::string_view key, std::string_view suffix) {
  std::size_t k = key.size();
  for (std::size_t s = suffix.size(); s > 0; --s) {
    while (k > 0 && is_separator(key[k - 1])) --k;
    if (k == 0 || ascii_lower(key[k - 1]) != suffix[s - 1]) return false;
    --k;
  }
  return true;
}

// Whether a number has the 13 digits or more of a card number (the only
// detector a bare number can match).
bool may_be_card_number(const FieldValue& v) {
  constexpr double kLeast = 1e12;
  if (const auto* i = std::get_if<std::int64_t>(&v.storage())) {
    return *i >= static_cast<std::int64_t>(kLeast) || *i <= -static_cast<std::int64_t>(kLeast);
  }
  if (const auto* u = std::get_if<std::uint64_t>(&v.storage())) {
    return *u >= static_cast<std::uint64_t>(kLeast);
  }
  if (const auto* d = std::get_if<double>(&v.storage())) return std::fabs(*d) >= kLeast;
  return false;
}

// The index of each name character (a letter of either case, a digit) among
// the 36 of them, kNotNameChar for any other byte: a bit of a name_ends entry
// (bit 63 is for names of one character).
constexpr std::uint8_t kNotNameChar = 0xff;
constexpr std::array<std::uint8_t, 256> kNameCharIndex = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(kNotNameChar);
  for (std::size_t c = 0; c < 26; ++c) {
    t['a' + c] = static_cast<std::uint8_t>(c);
    t['A' + c] = static_cast<std::uint8_t>(c);
  }
  for (std::size_t c = 0; c < 10; ++c) t['0' + c] = static_cast<std::uint8_t>(26 + c);
  return t;
}();

constexpr std::uint64_t kOneCharacterName = std::uint64_t{1} << 63;

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

}  // namespace

// The compiled options; what a Redactor holds.
class detail::Engine {
 public:
  struct Custom {
    std::string type;
    Action action;
    std::unique_ptr<RE2> re;
    bool group;  // replace the first capturing group rather than the match
  };
  struct FieldRule {
    std::string normalised;
    std::string type;
    Action action;
  };
  struct Plugin {
    std::shared_ptr<const hydra::plugin::Detector> detector;
    std::string type;  // its token(), read once
    Action action;
  };

  explicit Engine(RedactorOptions o);

  // Inline: most calls (short field values, keys) end at the first checks,
  // and a call's setup would cost more than those.
  template <typename Out>
  Outcome redact(std::string_view in, Out& out) const {
    if (in.empty()) return Outcome::unchanged;
    // Short texts (most field values: names, states, ids) rarely hold a
    // byte that could start a match; when none does, the scan would find
    // nothing, so its setup is skipped. Custom patterns and plugins can match
    // anything: they run.
    if (in.size() < kQuickCheckSize && custom.empty() && plugins.empty() &&
        !scanner.may_match(in)) {
      return Outcome::unchanged;
    }
    return scan(in, out);
  }
  // redact() without its first checks: `in` is not empty.
  template <typename Out>
  [[gnu::noinline]] Outcome scan(std::string_view in, Out& out) const;

  // Working storage of scan() for custom patterns and plugins.
  struct Scratch {
    std::vector<Finding> found;
    std::vector<std::pair<std::size_t, std::size_t>> spans;  // one plugin's
    bool busy = false;
  };
  // Fills scratch.found with the custom patterns' findings, then the
  // plugins', sorted by start.
  void collect_custom(std::string_view in, Scratch& scratch) const;
  // Marks a Scratch busy for its lifetime.
  class ScratchLease {
   public:
    explicit ScratchLease(Scratch* s) : s_(s) {
      if (s_ != nullptr) s_->busy = true;
    }
    ~ScratchLease() {
      if (s_ != nullptr) s_->busy = false;
    }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;

   private:
    Scratch* s_;
  };
  void collect_plugins(std::string_view in, Scratch& scratch) const;

  const FieldRule* field_rule(std::string_view key) const {
    std::size_t k = key.size();
    while (k > 0 && is_separator(key[k - 1])) --k;
    if (k == 0) return nullptr;
    const std::uint64_t before = name_ends[static_cast<unsigned char>(key[k - 1])];
    if (before == 0) return nullptr;  // no name ends with this byte
    if ((before & kOneCharacterName) == 0) {
      // The key's last two characters must end a name.
      std::size_t j = k - 1;
      while (j > 0 && is_separator(key[j - 1])) --j;
      if (j == 0) return nullptr;
      const std::uint8_t x = kNameCharIndex[static_cast<unsigned char>(key[j - 1])];
      if (x == kNotNameChar || ((before >> x) & 1) == 0) return nullptr;
    }
    return field_rule_ending(key, key[k - 1]);
  }
  // The first rule whose name `key` ends with, among those ending in `last`
  // (the key's last byte but separators).
  [[gnu::noinline]] const FieldRule* field_rule_ending(std::string_view key, char last) const;

  template <typename Out>
  void write_replacement(std::string_view value, std::string_view type, Action action,
                         Canonical canonical, Out& out) const;

  std::array<DetectorSetting, kDetectorCount> detectors;
  detail::Scanner scanner;
  std::string hash_key;
  std::vector<Custom> custom;
  std::vector<Plugin> plugins;
  // detect() calls that threw (Redactor::plugin_failures()).
  mutable std::atomic<std::uint64_t> plugin_failures{0};
  std::vector<FieldRule> fields;
  // Indexes into `fields` by the last byte of the normalised name, in
  // order: a key can only match rules ending in its own last byte, so a
  // lookup compares one or two names instead of all of them.
  std::array<std::vector<std::uint32_t>, 256> fields_by_last;
  // The last two characters of every name, by last byte: for each byte
  // (either case) that ends some normalised name, the name characters
  // (kNameCharIndex) that come before it in those names, as bits, and
  // kOneCharacterName for a name of that one character. Zero when no name
  // ends with the byte (fields_by_last[its lower case] is empty): one load
  // rejects most keys, one bit most of the rest.
  std::array<std::uint64_t, 256> name_ends{};

  // Texts shorter than this are looked over by Scanner::may_match before
  // a scan is set up (see redact()).
  static constexpr std::size_t kQuickCheckSize = 16;
};

namespace {

// Writes the redacted text: the bytes between findings unchanged, each
// finding's replacement in its place. Built-in findings arrive in order from
// the scanner; custom ones (sorted) are merged in by start. Overlapping
// findings are united under the first one's replacement, so no byte of
// either is ever written in clear. Nothing is written until the first
// finding: clean text leaves `out` untouched.
template <typename Out>
class Writer final : public detail::MatchSink {
 public:
  Writer(const detail::Engine& engine, std::string_view in, Out& out,
         const std::vector<Finding>* custom)
      : engine_(engine), in_(in), out_(out), custom_(custom) {}

  void on_match(std::size_t begin, std::size_t end, Detector detector,
                std::string_view type) override {
    flush_custom(begin);
    add({begin, end, type, engine_.detectors[static_cast<std::size_t>(detector)].action,
         canonical_for(detector)});
  }

  Outcome finish() {
    flush_custom(std::numeric_limits<std::size_t>::max());
    if (!changed_) return Outcome::unchanged;
    append(out_, in_.substr(pos_));
    return drop_ ? Outcome::drop : Outcome::redacted;
  }

 private:
  void flush_custom(std::size_t up_to) {
    if (custom_ == nullptr) return;
    while (next_custom_ < custom_->size() && (*custom_)[next_custom_].begin <= up_to) {
      add((*custom_)[next_custom_++]);
    }
  }

  void add(const Finding& f) {
    if (f.end <= f.begin) return;
    drop_ = drop_ || f.action == Action::drop;
    if (changed_ && f.begin < pos_) {  // overlaps the previous replacement
      pos_ = std::max(pos_, f.end);
      return;
    }
    append(out_, in_.substr(pos_, f.begin - pos_));
    engine_.write_replacement(in_.substr(f.begin, f.end - f.begin), f.type, f.action, f.canonical,
                              out_);
    pos_ = f.end;
    changed_ = true;
  }

  const detail::Engine& engine_;
  std::string_view in_;
  Out& out_;
  const std::vector<Finding>* custom_;
  std::size_t next_custom_ = 0;
  std::size_t pos_ = 0;
  bool changed_ = false;
  bool drop_ = false;
};

}  // namespace

detail::Engine::Engine(RedactorOptions o)
    : detectors(o.detectors), scanner(o.detectors), hash_key(std::move(o.hash_key)) {
  // Every `hash` needs a key: say which one asked for it.
  auto require_key = [&](Action action, const std::string& who) {
    if (action == Action::hash && hash_key.empty()) {
      throw ConfigError("protect: " + who + " uses action 'hash' but hash_key is empty");
    }
  };
  for (std::size_t d = 0; d < kDetectorCount; ++d) {
    if (detectors[d].enabled) {
      require_key(detectors[d].action,
                  "detector '" + std::string(detector_name(static_cast<Detector>(d))) + "'");
    }
  }

  for (SensitiveField& f : o.sensitive_fields) {
    std::string normalised = normalise_name(f.name);
    if (normalised.empty()) {
      throw ConfigError("protect: sensitive field name '" + f.name +
                        "' is empty (or only '_', '-' and '.')");
    }
    if (!valid_type(f.type)) {
      throw ConfigError("protect: sensitive field '" + f.name + "': type '" + f.type +
                        "' must be letters, digits and '_'");
    }
    require_key(f.action, "sensitive field '" + f.name + "'");
    std::uint64_t before = kOneCharacterName;
    if (normalised.size() >= 2) {
      const std::uint8_t x = kNameCharIndex[static_cast<unsigned char>(normalised.end()[-2])];
      if (x == kNotNameChar ||
          kNameCharIndex[static_cast<unsigned char>(normalised.back())] == kNotNameChar) {
        throw ConfigError("protect: sensitive field name '" + f.name +
                          "' must end in two letters or digits");
      }
      before = std::uint64_t{1} << x;
    }
    fields_by_last[static_cast<unsigned char>(normalised.back())].push_back(
        static_cast<std::uint32_t>(fields.size()));
    // The key's byte may be either case: field_rule compares it lower-cased.
    const char last = normalised.back();
    name_ends[static_cast<unsigned char>(last)] |= before;
    if (last >= 'a' && last <= 'z') name_ends[static_cast<unsigned char>(last - 32)] |= before;
    fields.push_back({std::move(normalised), std::move(f.type), f.action});
  }

  for (CustomDetector& c : o.custom) {
    if (c.name.empty()) {
      throw ConfigError("protect: a custom detector (pattern '" + c.pattern + "') has no name");
    }
    if (!valid_type(c.type)) {
      throw ConfigError("protect: custom detector '" + c.name + "': type '" + c.type +
                        "' must be letters, digits and '_'");
    }
    require_key(c.action, "custom detector '" + c.name + "'");
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(c.pattern, options);
    if (!re->ok()) {
      throw ConfigError("protect: custom detector '" + c.name + "': invalid pattern '" + c.pattern +
                        "': " + re->error());
    }
    const bool group = re->NumberOfCapturingGroups() > 0;
    custom.push_back({std::move(c.type), c.action, std::move(re), group});
  }

  for (std::size_t i = 0; i < o.plugin_detectors.size(); ++i) {
    PluginDetector& p = o.plugin_detectors[i];
    const std::string who = "detector plugin #" + std::to_string(i + 1);
    if (p.detector == nullptr) throw ConfigError("protect: " + who + " is null");
    std::string type;
    try {
      type = std::string(p.detector->token());
    } catch (const std::exception& e) {
      throw ConfigError("protect: " + who + ": token() threw: " + e.what());
    }
    if (!valid_type(type)) {
      throw ConfigError("protect: " + who + ": token '" + type +
                        "' must be letters, digits and '_'");
    }
    require_key(p.action, who + " (token '" + type + "')");
    plugins.push_back({std::move(p.detector), std::move(type), p.action});
  }
}

void detail::Engine::collect_custom(std::string_view in, Scratch& scratch) const {
  std::vector<Finding>& found = scratch.found;
  found.clear();
  const re2::StringPiece text(in.data(), in.size());
  for (const Custom& c : custom) {
    re2::StringPiece match[2];
    const int wanted = c.group ? 2 : 1;
    std::size_t pos = 0;
    while (pos <= in.size() && c.re->Match(text, pos, in.size(), RE2::UNANCHORED, match, wanted)) {
      const auto begin = static_cast<std::size_t>(match[0].data() - in.data());
      const std::size_t end = begin + match[0].size();
      const re2::StringPiece& part = match[wanted - 1];
      if (part.data() != nullptr && !part.empty()) {
        const auto part_begin = static_cast<std::size_t>(part.data() - in.data());
        found.push_back({part_begin, part_begin + part.size(), c.type, c.action, Canonical::raw});
      }
      pos = end > begin ? end : end + 1;  // step over an empty match
    }
  }
  collect_plugins(in, scratch);
  std::sort(found.begin(), found.end(), [](const Finding& a, const Finding& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
}

// A plugin is code we do not control: its spans are checked one by one (an
// empty one or one that starts past the text is ignored, one that ends past
// it is cut at the end; order and overlaps are the Writer's business after
// the sort), and a detect() that throws is counted and contributes nothing,
// not even the spans it appended before throwing.
void detail::Engine::collect_plugins(std::string_view in, Scratch& scratch) const {
  std::vector<std::pair<std::size_t, std::size_t>>& spans = scratch.spans;
  for (const Plugin& p : plugins) {
    spans.clear();
    try {
      p.detector->detect(in, spans);
    } catch (...) {
      plugin_failures.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    for (const auto& [begin, end_given] : spans) {
      const std::size_t end = std::min(end_given, in.size());
      if (begin >= end) continue;
      scratch.found.push_back({begin, end, p.type, p.action, Canonical::raw});
    }
  }
}

template <typename Out>
Outcome detail::Engine::scan(std::string_view in, Out& out) const {
  const std::vector<Finding>* custom_found = nullptr;
  // One Scratch per thread: after warm-up, custom patterns and plugins
  // allocate nothing. A plugin's detect() may redact on the same thread
  // (when it logs): that nested scan gets a Scratch of its own.
  thread_local Scratch own;
  std::optional<Scratch> nested;
  Scratch* scratch = nullptr;
  if (!custom.empty() || !plugins.empty()) scratch = own.busy ? &nested.emplace() : &own;
  const ScratchLease lease(scratch);
  if (scratch != nullptr) {
    collect_custom(in, *scratch);
    custom_found = &scratch->found;
  }
  Writer<Out> writer(*this, in, out, custom_found);
  scanner.scan(in, writer);
  return writer.finish();
}

template <typename Out>
void detail::Engine::write_replacement(std::string_view value, std::string_view type, Action action,
                                       Canonical canonical, Out& out) const {
  switch (action) {
    case Action::redact:
    case Action::drop:
      append(out, "[REDACTED_");
      append(out, type);
      append(out, "]");
      return;
    case Action::mask: {
      // Keep the last four characters (code points, so UTF-8 stays valid)
      // of a span of eight or more; one '*' for each other character.
      std::size_t chars = 0;
      for (const char c : value) chars += is_continuation(c) ? 0 : 1;
      const std::size_t keep = chars >= 8 ? 4 : 0;
      std::size_t seen = 0;
      std::size_t k = 0;
      for (; k < value.size() && seen < chars - keep; ++k) {
        if (is_continuation(value[k])) continue;
        append(out, "*");
        ++seen;
      }
      while (k < value.size() && is_continuation(value[k])) ++k;
      append(out, value.substr(k));
      return;
    }
    case Action::hash: {
      std::string canonical_value;
      canonical_value.reserve(value.size());
      for (const char c : value) {
        const bool digit = c >= '0' && c <= '9';
        switch (canonical) {
          case Canonical::raw: canonical_value.push_back(c); break;
          case Canonical::digits:
            if (digit) canonical_value.push_back(c);
            break;
          case Canonical::alnum_upper:
            if (digit || (c >= 'A' && c <= 'Z')) canonical_value.push_back(c);
            if (c >= 'a' && c <= 'z') canonical_value.push_back(static_cast<char>(c - 32));
            break;
          case Canonical::lower: canonical_value.push_back(ascii_lower(c)); break;
        }
      }
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int mac_size = 0;
      HMAC(EVP_sha256(), hash_key.data(), static_cast<int>(hash_key.size()),
           reinterpret_cast<const unsigned char*>(canonical_value.data()), canonical_value.size(),
           mac, &mac_size);
      constexpr char kHex[] = "0123456789abcdef";
      char hex[12];
      for (std::size_t b = 0; b < 6; ++b) {
        hex[2 * b] = kHex[mac[b] >> 4];
        hex[2 * b + 1] = kHex[mac[b] & 0x0f];
      }
      append(out, "[");
      append(out, type);
      append(out, ":");
      append(out, std::string_view(hex, sizeof hex));
      append(out, "]");
      return;
    }
  }
}

const detail::Engine::FieldRule* detail::Engine::field_rule_ending(std::string_view key,
                                                                   char last) const {
  for (const std::uint32_t i : fields_by_last[static_cast<unsigned char>(ascii_lower(last))]) {
    if (name_ends_with(key, fields[i].normalised)) return &fields[i];
  }
  return nullptr;
}

Redactor::Redactor() : Redactor(RedactorOptions{}) {}
Redactor::Redactor(RedactorOptions options)
    : engine_(std::make_unique<const detail::Engine>(std::move(options))) {}
Redactor::~Redactor() = default;
Redactor::Redactor(Redactor&&) noexcept = default;
Redactor& Redactor::operator=(Redactor&&) noexcept = default;

Outcome Redactor::redact(std::string_view in, std::string& out) const {
  return engine_->redact(in, out);
}

Outcome Redactor::redact(std::string_view in, fmt::memory_buffer& out) const {
  return engine_->redact(in, out);
}

std::uint64_t Redactor::plugin_failures() const noexcept {
  return engine_->plugin_failures.load(std::memory_order_relaxed);
}

std::string Redactor::redacted(std::string_view in) const {
  std::string out;
  if (engine_->redact(in, out) == Outcome::unchanged) return std::string(in);
  return out;
}

namespace {

// A card number logged as a number: scanned as "key=value", so that an
// identifier's key (user_id=...) spares it as it does in text. Appends the
// value's replacement to `out` unless unchanged. (Out of line: rare.)
[[gnu::noinline]] Outcome redact_number(const detail::Engine& engine, const Field& field,
                                        std::string& out) {
  fmt::memory_buffer pair;
  pair.append(field.key);
  pair.push_back('=');
  const std::size_t prefix = pair.size();
  field.value.append_text(pair);
  fmt::memory_buffer redacted;
  const Outcome o = engine.redact(std::string_view(pair.data(), pair.size()), redacted);
  if (o == Outcome::unchanged) return o;
  std::string_view value(redacted.data(), redacted.size());
  if (value.substr(0, prefix) == std::string_view(pair.data(), prefix)) value.remove_prefix(prefix);
  out.append(value);
  return o;
}

}  // namespace

Outcome Redactor::redact_fields(std::span<const Field> in, RedactedFields& out) const {
  out.fields_.clear();
  out.replaced_.clear();
  out.text_.clear();
  bool drop = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const Field& field = in[i];
    const std::size_t before = out.text_.size();
    if (const detail::Engine::FieldRule* rule = engine_->field_rule(field.key)) {
      const FieldValue& v = field.value;
      if (!v.is_string() && !v.is_number()) continue;  // true/false/null say nothing
      fmt::memory_buffer number;
      std::string_view text = v.as_string();
      if (v.is_number()) {
        v.append_text(number);
        text = std::string_view(number.data(), number.size());
      }
      engine_->write_replacement(text, rule->type, rule->action, Canonical::raw, out.text_);
      drop = drop || rule->action == Action::drop;
    } else if (field.value.is_string()) {
      const Outcome o = engine_->redact(field.value.as_string(), out.text_);
      if (o == Outcome::unchanged) continue;
      drop = drop || o == Outcome::drop;
    } else if (may_be_card_number(field.value)) {
      const Outcome o = redact_number(*engine_, field, out.text_);
      if (o == Outcome::unchanged) continue;
      drop = drop || o == Outcome::drop;
    } else {
      continue;
    }
    out.replaced_.push_back({i, before, out.text_.size() - before});
  }
  if (out.replaced_.empty()) return Outcome::unchanged;
  // Point the replaced values into the text only now that it has stopped
  // growing (and moving).
  out.fields_.assign(in.begin(), in.end());
  for (const RedactedFields::Replaced& r : out.replaced_) {
    out.fields_[r.index].value = FieldValue(std::string_view(out.text_).substr(r.offset, r.size));
  }
  return drop ? Outcome::drop : Outcome::redacted;
}

}  // namespace hydra::protect
