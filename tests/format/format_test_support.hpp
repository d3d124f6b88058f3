// Shared by the format tests: fixed records (a plain one and a hostile one),
// a scoped environment, and small checks (one line, valid UTF-8, CSV parsing).
#pragma once

#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chrono>

#include "hydra/format/formatter.hpp"

namespace hydra::test {

// Sets or unsets environment variables for one scope and restores them after.
// Setting TZ also calls tzset().
class ScopedEnv {
 public:
  ScopedEnv() = default;
  explicit ScopedEnv(const std::map<std::string, std::optional<std::string>>& vars) {
    for (const auto& [name, value] : vars) set(name, value);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) apply(it->first, it->second);
  }

  void set(const std::string& name, const std::optional<std::string>& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
    apply(name, value);
  }

 private:
  static void apply(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
    if (name == "TZ") ::tzset();
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Every variable that changes how formats and colours behave, unset; TZ=UTC.
class CleanEnv : public ScopedEnv {
 public:
  CleanEnv() {
    for (const char* name :
         {"NO_COLOR", "TERM", "FORCE_COLOR", "HYDRA_LOG_FORCE_COLOR", "HYDRA_LOG_NO_COLOR",
          "HYDRA_LOG_DATE_FORMAT", "HYDRA_LOG_TIME_FORMAT", "HYDRA_LOG_LOGGER_NAME_FORMAT",
          "HYDRA_LOG_MESSAGE_FORMAT", "HYDRA_LOG_LAYER_COLOR", "HYDRA_LOG_COLOR_TRACE",
          "HYDRA_LOG_COLOR_DEBUG", "HYDRA_LOG_COLOR_INFO", "HYDRA_LOG_COLOR_WARNING",
          "HYDRA_LOG_COLOR_ERROR", "HYDRA_LOG_COLOR_CRITICAL", "HYDRA_LOG_COLOR_SECURITY",
          "HYDRA_LOG_COLOR_AUDIT", "HYDRA_LOG_COLOR_COMPLIANCE"}) {
      set(name, std::nullopt);
    }
    set("TZ", "UTC");
  }
};

// 2026-11-27T10:13:12.345678901Z
inline std::chrono::system_clock::time_point fixed_time() {
  using namespace std::chrono;
  return system_clock::time_point(duration_cast<system_clock::duration>(
      sys_days(year(2026) / November / 27).time_since_epoch() + hours(10) + minutes(13) +
      seconds(12) + nanoseconds(345'678'901)));
}

// A record with everything set, and storage for its fields.
struct TestRecord {
  std::vector<Field> fields;
  Record record;

  TestRecord(const TestRecord&) = delete;
  TestRecord& operator=(const TestRecord&) = delete;
  explicit TestRecord(std::vector<Field> f) : fields(std::move(f)) {
    record.time = fixed_time();
    record.level = Level::info;
    record.layer = "APP";
    record.logger = "hydra";
    record.message = "user alice logged in";
    record.fields = fields;
    record.source = SourceLocation{"app.cpp", "main", 12};
    record.thread_id = 1234;
    record.sequence = 7;
  }
};

// user=alice n=3 ok=true
inline std::vector<Field> plain_fields() {
  return {{"user", "alice"}, {"n", 3}, {"ok", true}};
}

// The hostile message: CR/LF with a forged line, ANSI escapes, invalid UTF-8,
// quotes, a comma and a ']'.
inline constexpr std::string_view kHostileMessage =
    "evil\r\n2026-11-27 INFO forged \x1b[31mred\x1b[0m \xff\xfe \"q\" a,b ]";

// Hostile keys and values: a space and LF, the syslog/logfmt specials, a key
// that collides with a format's own, invalid UTF-8.
inline std::vector<Field> hostile_fields() {
  return {{"us er", "a\nb"}, {"]=\"", "x]\"\\y"}, {"level", "forged"}, {"bad", "\xff\xfe"}};
}

// The hostile record: message above, layer "A P\x1b", logger "hy\"dra".
struct HostileRecord : TestRecord {
  HostileRecord() : TestRecord(hostile_fields()) {
    record.message = kHostileMessage;
    record.layer = "A P\x1b";
    record.logger = "hy\"dra";
  }
};

inline std::string render(const Formatter& formatter, const Record& record) {
  Buffer out;
  formatter.format(record, out);
  return fmt::to_string(out);
}

inline std::string render(std::string_view format, const Record& record,
                          const FormatterOptions& options = {}) {
  return render(*make_formatter(format, options), record);
}

// Options with a fixed identity, so syslog/GELF/Logstash output is fixed.
inline FormatterOptions fixed_identity() {
  FormatterOptions o;
  o.hostname = "web1";
  o.app_name = "shop";
  return o;
}

// Exactly one '\n', at the end, and no other line break or control byte.
inline bool is_one_safe_line(std::string_view s) {
  if (s.empty() || s.back() != '\n') return false;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Well-formed UTF-8 (Unicode table 3-7), written independently of the library.
inline bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      n = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

// Parses one CSV record (RFC 4180) without its line ending; nullopt when it
// is malformed (a stray quote, an unterminated quoted value).
inline std::optional<std::vector<std::string>> parse_csv_line(std::string_view line) {
  std::vector<std::string> values;
  std::string value;
  std::size_t i = 0;
  while (true) {
    value.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            value.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',') return std::nullopt;
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"' || line[i] == '\r' || line[i] == '\n') return std::nullopt;
        value.push_back(line[i++]);
      }
    }
    values.push_back(value);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return values;
}

}  // namespace hydra::test
