#include "hydra/format/text_formatter.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "hydra/core/detail/notice.hpp"
#include "hydra/core/detail/thread_instance.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra {
namespace {

// ---------------------------------------------------------------------------
// Options: code, then environment, then default.

// Where an option's value came from, to name it in errors.
struct ResolvedOption {
  std::string value;
  std::string label;  // "message_format" or "message_format (from HYDRA_LOG_MESSAGE_FORMAT)"
};

// One of the four options: its member, name, variable and default.
struct TextOption {
  std::optional<std::string> TextFormatOptions::*member;
  std::string_view name;
  const char* variable;
  std::string_view fallback;
};
constexpr TextOption kDateOption{&TextFormatOptions::date_format, "date_format",
                                 "HYDRA_LOG_DATE_FORMAT", kDefaultDateFormat};
constexpr TextOption kTimeOption{&TextFormatOptions::time_format, "time_format",
                                 "HYDRA_LOG_TIME_FORMAT", kDefaultTimeFormat};
constexpr TextOption kLoggerNameOption{&TextFormatOptions::logger_name_format, "logger_name_format",
                                       "HYDRA_LOG_LOGGER_NAME_FORMAT", kDefaultLoggerNameFormat};
constexpr TextOption kMessageOption{&TextFormatOptions::message_format, "message_format",
                                    "HYDRA_LOG_MESSAGE_FORMAT", kDefaultMessageFormat};
constexpr std::array<const TextOption*, 4> kTextOptions = {&kDateOption, &kTimeOption,
                                                           &kLoggerNameOption, &kMessageOption};

// The option's variable, when set and not empty.
const char* variable_of(const TextOption& option) {
  // Read while building a formatter; the library never modifies the environment.
  const char* env = std::getenv(option.variable);  // NOLINT(concurrency-mt-unsafe)
  return env != nullptr && *env != '\0' ? env : nullptr;
}

ResolvedOption resolve(const TextFormatOptions& in, const TextOption& option) {
  if (const auto& in_code = in.*option.member) return {*in_code, std::string(option.name)};
  if (const char* env = variable_of(option)) {
    return {env, fmt::format("{} (from {})", option.name, option.variable)};
  }
  return {std::string(option.fallback), std::string(option.name)};
}

[[noreturn]] void fail(const std::string& label, std::string_view what) {
  throw ConfigError(fmt::format("{}: {}", label, what));
}

// Literal text of a format must itself be one safe line.
void check_literal(const std::string& label, std::string_view literal) {
  if (detail::needs_text_escape(literal)) {
    fail(label, fmt::format("'{}' holds a control character or invalid UTF-8 (a record must stay "
                            "one line)",
                            detail::to_printable(literal)));
  }
}

// ---------------------------------------------------------------------------
// Date and time patterns (strftime-like).

enum class TimeToken : std::uint8_t {
  literal,
  year,         // %Y
  year2,        // %y
  month,        // %m
  month_name,   // %b
  day,          // %d
  day_of_year,  // %j
  hour,         // %H
  minute,       // %M
  second,       // %S
  am_pm,        // %p
  utc_offset,   // %z
  millis,       // %L
  micros,       // %f
  nanos,        // %N
};

struct TimePart {
  TimeToken token;
  std::string literal;
};

struct TokenSpec {
  char letter;
  TimeToken token;
};
constexpr std::array<TokenSpec, 6> kDateTokens = {{{'Y', TimeToken::year},
                                                   {'m', TimeToken::month},
                                                   {'d', TimeToken::day},
                                                   {'y', TimeToken::year2},
                                                   {'b', TimeToken::month_name},
                                                   {'j', TimeToken::day_of_year}}};
constexpr std::array<TokenSpec, 8> kTimeTokens = {{{'H', TimeToken::hour},
                                                   {'M', TimeToken::minute},
                                                   {'S', TimeToken::second},
                                                   {'p', TimeToken::am_pm},
                                                   {'z', TimeToken::utc_offset},
                                                   {'L', TimeToken::millis},
                                                   {'f', TimeToken::micros},
                                                   {'N', TimeToken::nanos}}};

template <std::size_t N>
std::vector<TimePart> compile_time_pattern(const ResolvedOption& option,
                                           const std::array<TokenSpec, N>& tokens) {
  std::string valid;
  for (const TokenSpec& t : tokens) valid += fmt::format("%{} ", t.letter);
  valid += "%%";
  std::vector<TimePart> parts;
  std::string literal;
  auto flush_literal = [&] {
    if (literal.empty()) return;
    check_literal(option.label, literal);
    parts.push_back({TimeToken::literal, std::move(literal)});
    literal.clear();
  };
  const std::string& s = option.value;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      literal.push_back(s[i]);
      continue;
    }
    if (++i == s.size()) fail(option.label, fmt::format("'%' at the end (valid: {})", valid));
    if (s[i] == '%') {
      literal.push_back('%');
      continue;
    }
    const TokenSpec* found = nullptr;
    for (const TokenSpec& t : tokens) {
      if (t.letter == s[i]) found = &t;
    }
    if (found == nullptr) {
      fail(option.label, fmt::format("unknown token '%{}' (valid: {})",
                                     detail::to_printable(std::string_view(&s[i], 1)), valid));
    }
    flush_literal();
    parts.push_back({found->token, {}});
  }
  flush_literal();
  return parts;
}

constexpr bool is_fraction(TimeToken t) {
  return t == TimeToken::millis || t == TimeToken::micros || t == TimeToken::nanos;
}

void append_fraction(TimeToken t, std::uint32_t nanos, detail::Buffer& out) {
  switch (t) {
    case TimeToken::millis: detail::append_padded(nanos / 1'000'000, 3, out); break;
    case TimeToken::micros: detail::append_padded(nanos / 1'000, 6, out); break;
    default: detail::append_padded(nanos, 9, out); break;
  }
}

constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Renders the parts that change at most once a second.
void append_whole_second_part(const TimePart& part, const std::tm& tm, detail::Buffer& out) {
  switch (part.token) {
    case TimeToken::literal: detail::append_raw(part.literal, out); break;
    case TimeToken::year: detail::append_decimal(std::int64_t{tm.tm_year} + 1900, out); break;
    case TimeToken::year2:
      detail::append_padded(static_cast<std::uint32_t>((tm.tm_year + 1900) % 100), 2, out);
      break;
    case TimeToken::month: detail::append_padded(tm.tm_mon + 1, 2, out); break;
    case TimeToken::month_name: detail::append_raw(kMonthNames[tm.tm_mon % 12], out); break;
    case TimeToken::day: detail::append_padded(tm.tm_mday, 2, out); break;
    case TimeToken::day_of_year: detail::append_padded(tm.tm_yday + 1, 3, out); break;
    case TimeToken::hour: detail::append_padded(tm.tm_hour, 2, out); break;
    case TimeToken::minute: detail::append_padded(tm.tm_min, 2, out); break;
    case TimeToken::second: detail::append_padded(tm.tm_sec, 2, out); break;
    case TimeToken::am_pm:
      detail::append_raw(std::string_view(tm.tm_hour < 12 ? "AM" : "PM"), out);
      break;
    case TimeToken::utc_offset: {
      const long offset_minutes = tm.tm_gmtoff / 60;
      const long magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
      out.push_back(offset_minutes < 0 ? '-' : '+');
      detail::append_padded(static_cast<std::uint32_t>(magnitude / 60), 2, out);
      detail::append_padded(static_cast<std::uint32_t>(magnitude % 60), 2, out);
      break;
    }
    default: break;  // fractions: per record
  }
}

// ---------------------------------------------------------------------------
// Line patterns ({placeholder} templates).

enum class Part : std::uint8_t {
  literal,
  date,
  time,
  timestamp,
  level,
  logger_name,
  layer,
  logger,
  message,
  fields,
  file,
  line,
  function,
  thread,
  pid,
  sequence,
};

struct Placeholder {
  std::string_view name;
  Part part;
};
constexpr std::array<Placeholder, 15> kLinePlaceholders = {{{"date", Part::date},
                                                            {"time", Part::time},
                                                            {"timestamp", Part::timestamp},
                                                            {"level", Part::level},
                                                            {"logger_name", Part::logger_name},
                                                            {"layer", Part::layer},
                                                            {"logger", Part::logger},
                                                            {"message", Part::message},
                                                            {"fields", Part::fields},
                                                            {"file", Part::file},
                                                            {"line", Part::line},
                                                            {"function", Part::function},
                                                            {"thread", Part::thread},
                                                            {"pid", Part::pid},
                                                            {"sequence", Part::sequence}}};
constexpr std::array<Placeholder, 2> kLoggerNamePlaceholders = {
    {{"layer", Part::layer}, {"logger", Part::logger}}};

enum class Align : std::uint8_t { left, right, center };

struct LinePart {
  Part part;
  std::string literal;
  Align align = Align::left;
  std::size_t width = 0;
};

constexpr std::size_t kMaxLevelWidth = 64;

// "<5", ">8", "^10" or "7" (left).
void parse_level_spec(const ResolvedOption& option, const std::string_view whole_spec,
                      LinePart& part) {
  const auto bad = [&] {
    fail(option.label, fmt::format("'{{level:{}}}' has a bad alignment (valid: {{level:<N}}, "
                                   "{{level:>N}}, {{level:^N}} with N up to {})",
                                   detail::to_printable(whole_spec), kMaxLevelWidth));
  };
  std::string_view spec = whole_spec;
  if (!spec.empty() && (spec[0] == '<' || spec[0] == '>' || spec[0] == '^')) {
    part.align = spec[0] == '<' ? Align::left : spec[0] == '>' ? Align::right : Align::center;
    spec.remove_prefix(1);
  }
  if (spec.empty() || spec.size() > 2) bad();
  std::size_t width = 0;
  for (const char c : spec) {
    if (c < '0' || c > '9') bad();
    width = width * 10 + static_cast<std::size_t>(c - '0');
  }
  if (width > kMaxLevelWidth) bad();
  part.width = width;
}

template <std::size_t N>
std::vector<LinePart> compile_line_pattern(const ResolvedOption& option,
                                           const std::array<Placeholder, N>& placeholders) {
  std::string valid;
  for (const Placeholder& p : placeholders) {
    valid += fmt::format("{}{{{}}}", valid.empty() ? "" : ", ", p.name);
  }
  std::vector<LinePart> parts;
  std::string literal;
  auto flush_literal = [&] {
    if (literal.empty()) return;
    check_literal(option.label, literal);
    parts.push_back({Part::literal, std::move(literal)});
    literal.clear();
  };
  const std::string_view s = option.value;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '}') {
      if (i + 1 < s.size() && s[i + 1] == '}') {
        literal.push_back('}');
        ++i;
        continue;
      }
      fail(option.label, "unmatched '}' (write '}}' for a literal brace)");
    }
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '{') {
      literal.push_back('{');
      ++i;
      continue;
    }
    const std::size_t close = s.find('}', i);
    if (close == std::string_view::npos) {
      fail(option.label, "unmatched '{' (write '{{' for a literal brace)");
    }
    const std::string_view inside = s.substr(i + 1, close - i - 1);
    const std::size_t colon = inside.find(':');
    const std::string_view name = inside.substr(0, colon);
    const Placeholder* found = nullptr;
    for (const Placeholder& p : placeholders) {
      if (p.name == name) found = &p;
    }
    if (found == nullptr) {
      fail(option.label, fmt::format("unknown placeholder '{{{}}}' (valid: {})",
                                     detail::to_printable(inside), valid));
    }
    flush_literal();
    LinePart part{found->part, {}};
    if (colon != std::string_view::npos) {
      if (found->part != Part::level) {
        fail(option.label, fmt::format("'{{{}}}' takes no format spec (only {{level}} takes an "
                                       "alignment, like {{level:<8}})",
                                       detail::to_printable(inside)));
      }
      parse_level_spec(option, inside.substr(colon + 1), part);
    }
    parts.push_back(std::move(part));
    i = close;
  }
  flush_literal();
  return parts;
}

// ---------------------------------------------------------------------------
// The per-second cache of the rendered local date and time, per thread (so
// formatting takes no lock). A few slots, so that a thread writing to several
// text destinations does not thrash.

struct SecondCache {
  std::uint64_t owner = 0;  // TextFormatter id, 0 = free
  std::int64_t second = std::numeric_limits<std::int64_t>::min();
  std::string date;
  std::string time;                                          // without its sub-second parts...
  std::vector<std::pair<std::size_t, TimeToken>> fractions;  // ...which go at these offsets
};

constexpr std::size_t kCacheSlots = 4;

// A stretch of the line pattern rendered as one piece.
struct Run {
  enum Kind : std::uint8_t {
    literal,     // text only: rendered once, at construction
    per_key,     // level, layer, logger and literals: depends on those three alone
    per_record,  // one part that changes with every record (time, message, ...)
  };
  Kind kind;
  std::size_t begin, end;  // parts [begin, end) of the line
  std::string text;        // literal runs
};

// Whether a part's rendering depends only on the record's level, layer and
// logger name (so that it can be rendered once per combination).
bool depends_on_key_only(Part p) {
  return p == Part::literal || p == Part::level || p == Part::logger_name || p == Part::layer ||
         p == Part::logger;
}

// The per-thread cache of rendered per_key runs.
struct KeyRunCache {
  std::uint64_t owner = 0;  // TextFormatter id, 0 = free
  std::size_t run = 0;
  Level level = Level::info;
  std::string layer;
  std::string logger;
  std::string text;
};
constexpr std::size_t kKeyRunSlots = 32;

std::atomic<std::uint64_t> g_next_formatter_id{1};

}  // namespace

struct TextFormatter::Compiled {
  std::uint64_t id = g_next_formatter_id.fetch_add(1, std::memory_order_relaxed);
  TextFormatOptions resolved;
  std::vector<TimePart> date;
  std::vector<TimePart> time;
  std::vector<LinePart> logger_name;
  std::vector<LinePart> line;
  bool color = false;
  Palette palette;

  std::vector<Run> runs;

  const SecondCache& local_time(std::int64_t second) const;
  const std::string& key_run(std::size_t run, const Record& record) const;
  void append_level(const LinePart& part, Level level, Buffer& out) const;
  // `in_logger_name`: rendering the logger-name part, which is coloured as a
  // whole, so its {layer} is not coloured again.
  void append_part(const LinePart& part, const Record& record, Buffer& out,
                   bool in_logger_name = false) const;
};

const SecondCache& TextFormatter::Compiled::local_time(std::int64_t second) const {
  struct TimeCache {
    std::array<SecondCache, kCacheSlots> slots;
    std::size_t next_victim = 0;
  };
  TimeCache& cache = detail::thread_instance<TimeCache>();
  auto& slots = cache.slots;
  std::size_t& next_victim = cache.next_victim;
  SecondCache* slot = nullptr;
  for (SecondCache& s : slots) {
    if (s.owner == id) slot = &s;
  }
  if (slot == nullptr) {
    slot = &slots[next_victim];
    next_victim = (next_victim + 1) % kCacheSlots;
    slot->owner = id;
    slot->second = std::numeric_limits<std::int64_t>::min();
  }
  if (slot->second == second) return *slot;

  std::tm tm{};
  const auto t = static_cast<std::time_t>(second);
  ::localtime_r(&t, &tm);
  Buffer b;
  for (const TimePart& p : date) append_whole_second_part(p, tm, b);
  slot->date.assign(b.data(), b.size());
  b.clear();
  slot->fractions.clear();
  for (const TimePart& p : time) {
    if (is_fraction(p.token)) {
      slot->fractions.emplace_back(b.size(), p.token);
    } else {
      append_whole_second_part(p, tm, b);
    }
  }
  slot->time.assign(b.data(), b.size());
  slot->second = second;
  return *slot;
}

const std::string& TextFormatter::Compiled::key_run(std::size_t run, const Record& record) const {
  auto& slots = detail::thread_instance<std::array<KeyRunCache, kKeyRunSlots>>();
  const std::size_t hash =
      (id * 131 + run * 31 + static_cast<std::size_t>(record.level) * 7 + record.layer.size() +
       (record.layer.empty() ? 0 : static_cast<unsigned char>(record.layer.back()) * 3) +
       record.logger.size() * 5) %
      kKeyRunSlots;
  KeyRunCache& slot = slots[hash];
  if (slot.owner == id && slot.run == run && slot.level == record.level &&
      slot.layer == record.layer && slot.logger == record.logger) {
    return slot.text;
  }
  Buffer b;
  for (std::size_t i = runs[run].begin; i < runs[run].end; ++i) append_part(line[i], record, b);
  slot.owner = id;
  slot.run = run;
  slot.level = record.level;
  slot.layer.assign(record.layer);
  slot.logger.assign(record.logger);
  slot.text.assign(b.data(), b.size());
  return slot.text;
}

void TextFormatter::Compiled::append_level(const LinePart& part, Level level, Buffer& out) const {
  const std::string_view name = to_string(level);
  const std::size_t pad = part.width > name.size() ? part.width - name.size() : 0;
  const std::size_t before = part.align == Align::right    ? pad
                             : part.align == Align::center ? pad / 2
                                                           : 0;
  for (std::size_t i = 0; i < before; ++i) out.push_back(' ');
  const std::string& colour = palette.of(level);
  const bool wrap = color && !colour.empty();
  if (wrap) detail::append_raw(colour, out);
  detail::append_raw(name, out);
  if (wrap) detail::append_raw(palette.reset, out);
  for (std::size_t i = before; i < pad; ++i) out.push_back(' ');
}

void TextFormatter::Compiled::append_part(const LinePart& part, const Record& record, Buffer& out,
                                          bool in_logger_name) const {
  switch (part.part) {
    case Part::literal: detail::append_raw(part.literal, out); break;
    case Part::date:
      detail::append_raw(local_time(detail::split_time(record.time).seconds).date, out);
      break;
    case Part::time: {
      const detail::SplitTime t = detail::split_time(record.time);
      const SecondCache& cache = local_time(t.seconds);
      const std::string_view text = cache.time;
      std::size_t from = 0;
      for (const auto& [offset, token] : cache.fractions) {
        detail::append_raw(text.substr(from, offset - from), out);
        append_fraction(token, t.nanos, out);
        from = offset;
      }
      detail::append_raw(text.substr(from), out);
      break;
    }
    case Part::timestamp: detail::append_rfc3339_utc(record.time, out); break;
    case Part::level: append_level(part, record.level, out); break;
    case Part::logger_name: {
      const bool wrap = color && !palette.layer.empty();
      if (wrap) detail::append_raw(palette.layer, out);
      for (const LinePart& p : logger_name) append_part(p, record, out, true);
      if (wrap) detail::append_raw(palette.reset, out);
      break;
    }
    case Part::layer: {
      const bool wrap = color && !palette.layer.empty() && !in_logger_name;
      if (wrap) detail::append_raw(palette.layer, out);
      detail::append_escaped_text(record.layer, out);
      if (wrap) detail::append_raw(palette.reset, out);
      break;
    }
    case Part::logger: detail::append_escaped_text(record.logger, out); break;
    case Part::message: detail::append_escaped_text(record.message, out); break;
    case Part::fields:
      for (const Field& f : record.fields) {
        out.push_back(' ');
        detail::append_logfmt_field(f, out);
      }
      break;
    case Part::file: detail::append_escaped_text(record.source.file, out); break;
    case Part::line:  // empty without a source, like {file} and {function}
      if (has_source(record)) detail::append_decimal(std::uint64_t{record.source.line}, out);
      break;
    case Part::function: detail::append_escaped_text(record.source.function, out); break;
    case Part::thread: detail::append_decimal(record.thread_id, out); break;
    case Part::pid: detail::append_decimal(detail::process_id(), out); break;
    case Part::sequence: detail::append_decimal(record.sequence, out); break;
  }
}

TextFormatter::TextFormatter(const FormatterOptions& options) {
  auto c = std::make_unique<Compiled>();
  const TextFormatOptions& in = options.text;
  const ResolvedOption date = resolve(in, kDateOption);
  const ResolvedOption time = resolve(in, kTimeOption);
  const ResolvedOption logger_name = resolve(in, kLoggerNameOption);
  const ResolvedOption line = resolve(in, kMessageOption);
  c->date = compile_time_pattern(date, kDateTokens);
  c->time = compile_time_pattern(time, kTimeTokens);
  c->logger_name = compile_line_pattern(logger_name, kLoggerNamePlaceholders);
  c->line = compile_line_pattern(line, kLinePlaceholders);
  for (std::size_t i = 0; i < c->line.size();) {
    if (!depends_on_key_only(c->line[i].part)) {
      c->runs.push_back({Run::per_record, i, i + 1, {}});
      ++i;
      continue;
    }
    Run run{Run::literal, i, i, {}};
    while (run.end < c->line.size() && depends_on_key_only(c->line[run.end].part)) {
      if (c->line[run.end].part != Part::literal) run.kind = Run::per_key;
      run.text += c->line[run.end].literal;
      ++run.end;
    }
    i = run.end;
    c->runs.push_back(std::move(run));
  }
  c->resolved = {date.value, time.value, logger_name.value, line.value};
  c->color = options.color;
  if (c->color) c->palette = options.palette;
  compiled_ = std::move(c);
}

TextFormatter::~TextFormatter() = default;

void TextFormatter::format(const Record& record, Buffer& out) const {
  const Compiled& c = *compiled_;
  for (std::size_t r = 0; r < c.runs.size(); ++r) {
    const Run& run = c.runs[r];
    switch (run.kind) {
      case Run::literal: detail::append_raw(run.text, out); break;
      case Run::per_key: detail::append_raw(c.key_run(r, record), out); break;
      case Run::per_record: c.append_part(c.line[run.begin], record, out); break;
    }
  }
  out.push_back('\n');
}

const TextFormatOptions& TextFormatter::resolved_options() const noexcept {
  return compiled_->resolved;
}

TextFormatOptions without_bad_format_variables(TextFormatOptions options) {
  for (const TextOption* option : kTextOptions) {
    if (options.*option->member) continue;  // set in code: the variable is not read
    const char* value = variable_of(*option);
    if (value == nullptr) continue;
    // Compiled alone, with the other three at their defaults.
    FormatterOptions probe;
    for (const TextOption* other : kTextOptions) {
      probe.text.*other->member = std::string(other == option ? value : other->fallback);
    }
    try {
      const TextFormatter check(probe);
    } catch (const ConfigError& e) {
      detail::notice_once(
          std::string(option->variable) + '=' + value,
          fmt::format("{}='{}' is ignored ({}); the default '{}' is used", option->variable,
                      detail::to_printable(value), e.what(), option->fallback));
      options.*option->member = std::string(option->fallback);
    }
  }
  return options;
}

}  // namespace hydra
