#include "hydra/plugin/options.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra::plugin {
namespace {

std::optional<std::int64_t> parse_integer(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// "250ms", "10s", "5m", "1h", or a plain number of milliseconds.
std::optional<std::int64_t> parse_duration_ms(std::string_view s) {
  struct Unit {
    std::string_view suffix;
    std::int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  for (const Unit& u : kUnits) {
    if (s.size() > u.suffix.size() && s.ends_with(u.suffix)) {
      const auto n = parse_integer(s.substr(0, s.size() - u.suffix.size()));
      if (!n || *n < 0 || *n > (std::int64_t{1} << 40) / u.ms) return std::nullopt;
      return *n * u.ms;
    }
  }
  const auto n = parse_integer(s);
  if (!n || *n < 0) return std::nullopt;
  return n;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = s.find(',');
    const std::string_view item = hydra::detail::trim_blanks(s.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

bool bounded(const OptionSpec& spec) {
  return spec.min <= spec.max;
}

std::string bounds_text(const OptionSpec& spec) {
  if (!bounded(spec)) return {};
  if (spec.type == OptionType::duration) {
    return fmt::format(" from {}ms to {}ms", spec.min, spec.max);
  }
  return fmt::format(" from {} to {}", spec.min, spec.max);
}

std::string valid_text(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::string: return "a string";
    case OptionType::integer: return "an integer" + bounds_text(spec);
    case OptionType::number: return "a number" + bounds_text(spec);
    case OptionType::boolean: return "true or false";
    case OptionType::duration: return "a duration such as 250ms, 10s, 5m or 1h" + bounds_text(spec);
    case OptionType::string_list: return "a comma-separated list";
  }
  return "a value";
}

// The canonical text of `value` for `spec`, or nothing when it is not valid.
std::optional<std::string> canonical(const OptionSpec& spec, std::string_view value) {
  const auto in_bounds = [&spec](double v) {
    return !bounded(spec) || (v >= spec.min && v <= spec.max);
  };
  switch (spec.type) {
    case OptionType::string: return std::string(value);
    case OptionType::integer: {
      const auto v = parse_integer(hydra::detail::trim_blanks(value));
      if (!v || !in_bounds(static_cast<double>(*v))) return std::nullopt;
      return std::to_string(*v);
    }
    case OptionType::number: {
      const auto v = parse_number(hydra::detail::trim_blanks(value));
      if (!v || !in_bounds(*v)) return std::nullopt;
      return fmt::format("{}", *v);
    }
    case OptionType::boolean: {
      const std::string_view v = hydra::detail::trim_blanks(value);
      if (hydra::detail::iequals(v, "true")) return "true";
      if (hydra::detail::iequals(v, "false")) return "false";
      return std::nullopt;
    }
    case OptionType::duration: {
      const auto v = parse_duration_ms(hydra::detail::trim_blanks(value));
      if (!v || !in_bounds(static_cast<double>(*v))) return std::nullopt;
      return std::to_string(*v);
    }
    case OptionType::string_list: {
      std::string out;
      for (const std::string& item : split_list(value)) {
        if (!out.empty()) out += ',';
        out += item;
      }
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view option_type_name(OptionType type) noexcept {
  switch (type) {
    case OptionType::string: return "string";
    case OptionType::integer: return "integer";
    case OptionType::number: return "number";
    case OptionType::boolean: return "boolean";
    case OptionType::duration: return "duration";
    case OptionType::string_list: return "list";
  }
  return "value";
}

std::string_view Options::text(std::string_view key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? std::string_view{} : std::string_view(it->second);
}

std::int64_t Options::integer(std::string_view key) const {
  return parse_integer(text(key)).value_or(0);
}

double Options::number(std::string_view key) const {
  return parse_number(text(key)).value_or(0.0);
}

bool Options::boolean(std::string_view key) const {
  return hydra::detail::iequals(hydra::detail::trim_blanks(text(key)), "true");
}

std::chrono::milliseconds Options::duration(std::string_view key) const {
  return std::chrono::milliseconds(parse_duration_ms(text(key)).value_or(0));
}

std::vector<std::string> Options::list(std::string_view key) const {
  return split_list(text(key));
}

Options validate_options(std::string_view what, std::span<const OptionSpec> specs,
                         const Options& given) {
  for (const auto& [key, value] : given.values()) {
    bool known = false;
    for (const OptionSpec& s : specs) known = known || s.name == key;
    if (known) continue;
    std::string valid;
    for (const OptionSpec& s : specs) valid += (valid.empty() ? "" : ", ") + s.name;
    throw ConfigError(fmt::format("{}: unknown option '{}' (valid options: {})", what,
                                  hydra::detail::to_printable(key),
                                  valid.empty() ? "none" : valid));
  }
  Options out;
  for (const OptionSpec& s : specs) {
    std::optional<std::string> value;
    if (given.has(s.name)) {
      value = std::string(given.text(s.name));
    } else if (s.default_value) {
      value = *s.default_value;
    } else if (s.required) {
      throw ConfigError(
          fmt::format("{}: option '{}' is required ({}: {})", what, s.name, valid_text(s), s.doc));
    }
    if (!value) continue;
    auto text = canonical(s, *value);
    if (!text) {
      throw ConfigError(fmt::format("{}: option '{}': '{}' is not valid (valid: {})", what, s.name,
                                    hydra::detail::to_printable(*value), valid_text(s)));
    }
    out.set(s.name, std::move(*text));
  }
  return out;
}

std::string describe_option(const OptionSpec& spec) {
  std::string out = fmt::format("{} ({}", spec.name, option_type_name(spec.type));
  if (bounded(spec)) out += fmt::format(" {}..{}", spec.min, spec.max);
  if (spec.required) out += ", required";
  if (spec.default_value) out += fmt::format(", default '{}'", *spec.default_value);
  out += ")";
  if (!spec.doc.empty()) out += ": " + spec.doc;
  return out;
}

}  // namespace hydra::plugin
