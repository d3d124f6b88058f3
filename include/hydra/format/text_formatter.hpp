// The text format, for people: one line per record, shaped by
// TextFormatOptions, e.g.
//   2026-11-27 10:13:12.345 INFO  [APP] user alice logged in user=alice
// Date and time are local time. Content (message, fields, names) is escaped
// so a line stays one line and never carries a raw ANSI sequence; colour,
// when on, wraps only the level name and the layer part.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "hydra/format/formatter.hpp"

namespace hydra {

inline constexpr std::string_view kDefaultDateFormat = "%Y-%m-%d";
inline constexpr std::string_view kDefaultTimeFormat = "%H:%M:%S.%L";
inline constexpr std::string_view kDefaultLoggerNameFormat = "[{layer}]";
inline constexpr std::string_view kDefaultMessageFormat =
    "{date} {time} {level:<5} {logger_name} {message}{fields}";

// For zero-config, which must not stop a program over a variable: `options`
// with each option left unset whose HYDRA_LOG_*_FORMAT variable does not
// compile set to its default instead, after one notice on stderr naming the
// variable, its value and the error. A TextFormatter built from the result
// cannot fail because of the environment. (With options set in code, or a
// configuration, a bad variable stays a ConfigError: see TextFormatter.)
TextFormatOptions without_bad_format_variables(TextFormatOptions options);

class TextFormatter final : public Formatter {
 public:
  // Resolves each of the four options (set in code, else its HYDRA_LOG_*
  // environment variable when set and non-empty, else the default) and
  // compiles it once. Throws ConfigError naming the option, the bad token or
  // placeholder and the valid ones.
  explicit TextFormatter(const FormatterOptions& options = {});
  ~TextFormatter() override;
  TextFormatter(const TextFormatter&) = delete;
  TextFormatter& operator=(const TextFormatter&) = delete;

  void format(const Record& record, Buffer& out) const override;

  // The options in effect, every one set.
  const TextFormatOptions& resolved_options() const noexcept;

 private:
  struct Compiled;
  std::unique_ptr<const Compiled> compiled_;
};

}  // namespace hydra
