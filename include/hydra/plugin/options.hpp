// A plugin type's options: what it declares (OptionSpec) and what an instance
// is given (Options). Configuration files and code go through one check,
// validate_options(), which is as strict as for Hydra's own options: an
// unknown key, a missing required one, a wrong type or a value out of bounds
// is a ConfigError that names the plugin, the key, the value and what is
// valid.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra::plugin {

enum class OptionType : std::uint8_t {
  string,
  integer,      // within [min, max]
  number,       // within [min, max]
  boolean,      // true / false
  duration,     // "250ms", "10s", "5m", "1h" (or a number of milliseconds)
  string_list,  // "a,b,c" (a list in configuration files)
};
std::string_view option_type_name(OptionType type) noexcept;

struct OptionSpec {
  std::string name{};  // [a-z0-9_]+
  OptionType type = OptionType::string;
  bool required = false;
  std::optional<std::string> default_value{};  // as text; unset: none
  std::string doc{};                           // one line
  // integer, number, duration (milliseconds): the bounds; min > max: none.
  double min = 1;
  double max = 0;
};

// Option values as text ("10", "true", "2s", "a,b"), by key. After
// validate_options() every declared option with a value or a default is
// present, in canonical form (durations in milliseconds, lists without
// blanks), and the getters cannot fail for a declared option.
class Options {
 public:
  Options() = default;
  Options(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values) {}

  void set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }
  bool has(std::string_view key) const { return values_.find(key) != values_.end(); }
  // The value as text; empty when unset.
  std::string_view text(std::string_view key) const;
  std::string_view string(std::string_view key) const { return text(key); }
  std::int64_t integer(std::string_view key) const;
  double number(std::string_view key) const;
  bool boolean(std::string_view key) const;
  std::chrono::milliseconds duration(std::string_view key) const;
  std::vector<std::string> list(std::string_view key) const;

  const std::map<std::string, std::string, std::less<>>& values() const noexcept { return values_; }
  friend bool operator==(const Options&, const Options&) = default;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Checks `given` against `specs` and returns the complete, canonical options.
// `what` names the instance in errors ("filter 'sample'"). Throws ConfigError:
//   filter 'sample': option 'rate': 'ten' is not an integer (valid: an
//   integer from 1 to 1000000)
//   filter 'sample': unknown option 'rat' (valid options: rate, key)
Options validate_options(std::string_view what, std::span<const OptionSpec> specs,
                         const Options& given);

// "rate (integer 1..1000000, default 1): keep one record in N" for `hydra
// config explain` and `hydra plugin info`.
std::string describe_option(const OptionSpec& spec);

}  // namespace hydra::plugin
