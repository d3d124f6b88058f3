#include "hydra/bridge/filter.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "hydra/core/detail/ascii.hpp"

namespace hydra::bridge {

namespace {

constexpr std::size_t kMaxRegexBytes = 256;
constexpr std::size_t kMaxTextBytes = 1024;
constexpr std::size_t kMaxFieldFilters = 16;
// RE2's program size bound: past it a regex costs too much per record.
constexpr int kMaxRegexProgram = 2000;

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  const auto it = std::search(
      haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char x, char y) {
        return hydra::detail::ascii_lower(x) == hydra::detail::ascii_lower(y);
      });
  return it != haystack.end();
}

std::string value_text(const FieldValue& v) {
  if (v.is_string()) return std::string(v.as_string());
  fmt::memory_buffer out;
  v.append_text(out);
  return {out.data(), out.size()};
}

std::string string_member(const nlohmann::json& j, const char* key, std::size_t max) {
  if (!j.contains(key)) return {};
  const auto& v = j[key];
  if (!v.is_string())
    throw FilterError("bad_filter", std::string("filter.") + key + ": not a string");
  auto s = v.get<std::string>();
  if (s.size() > max) {
    throw FilterError("bad_filter", std::string("filter.") + key + ": longer than " +
                                        std::to_string(max) + " bytes");
  }
  return s;
}

}  // namespace

Filter::Filter() = default;
Filter::~Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;

Filter Filter::parse(const nlohmann::json& j) {
  if (!j.is_object()) throw FilterError("bad_filter", "filter: not an object");
  static const std::vector<std::string> kKnown = {"layers", "min_level", "logger", "service",
                                                  "tenant", "text",      "regex",  "fields"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      throw FilterError("bad_filter", "filter." + key.substr(0, 64) +
                                          ": unknown key (known: layers, min_level, logger, "
                                          "service, tenant, text, regex, fields)");
    }
  }
  Filter f;
  if (j.contains("layers")) {
    const auto& layers = j["layers"];
    if (!layers.is_array() || layers.size() > 64) {
      throw FilterError("bad_filter", "filter.layers: not an array of at most 64 names");
    }
    for (const auto& l : layers) {
      if (!l.is_string() || l.get_ref<const std::string&>().size() > 128) {
        throw FilterError("bad_filter", "filter.layers: not an array of names");
      }
      f.layers.push_back(l.get<std::string>());
    }
  }
  if (j.contains("min_level")) {
    const std::string name = string_member(j, "min_level", 32);
    f.min_level = parse_level(name);
    if (!f.min_level) {
      throw FilterError("bad_filter", "filter.min_level: unknown level '" + name +
                                          "' (trace, debug, info, warning, error, critical)");
    }
  }
  f.logger = string_member(j, "logger", 256);
  f.service = string_member(j, "service", 256);
  f.tenant = string_member(j, "tenant", 256);
  f.text = string_member(j, "text", kMaxTextBytes);
  f.regex = string_member(j, "regex", kMaxRegexBytes);
  if (j.contains("fields")) {
    const auto& fields = j["fields"];
    if (!fields.is_object() || fields.size() > kMaxFieldFilters) {
      throw FilterError("bad_filter", "filter.fields: not an object of at most 16 keys");
    }
    for (const auto& [key, value] : fields.items()) {
      if (value.is_string()) {
        f.fields.emplace(key, value.get<std::string>());
      } else if (value.is_number() || value.is_boolean()) {
        f.fields.emplace(key, value.dump());
      } else {
        throw FilterError("bad_filter", "filter.fields." + key.substr(0, 64) +
                                            ": not a string, number or boolean");
      }
    }
  }
  if (!f.regex.empty()) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(1 << 20);
    auto re = std::make_unique<RE2>(f.regex, options);
    if (!re->ok()) throw FilterError("bad_filter", "filter.regex: " + re->error());
    if (re->ProgramSize() > kMaxRegexProgram) {
      throw FilterError("filter_too_costly", "filter.regex: program size " +
                                                 std::to_string(re->ProgramSize()) + " is over " +
                                                 std::to_string(kMaxRegexProgram));
    }
    f.re_ = std::move(re);
  }
  return f;
}

bool Filter::matches(const Entry& e) const {
  if (min_level && !passes(e.level, *min_level)) return false;
  if (!layers.empty() && std::none_of(layers.begin(), layers.end(), [&](const std::string& l) {
        return hydra::detail::iequals(l, e.layer);
      })) {
    return false;
  }
  if (!logger.empty() && logger != e.logger) return false;
  if (!service.empty() && service != e.service) return false;
  if (!tenant.empty() && tenant != e.tenant) return false;
  if (!text.empty() && !icontains(e.message, text)) return false;
  for (const auto& [key, value] : fields) {
    const auto it = std::find_if(e.fields.begin(), e.fields.end(),
                                 [&](const Field& f) { return f.key == key; });
    if (it == e.fields.end() || value_text(it->value) != value) return false;
  }
  if (re_ && !RE2::PartialMatch(re2::StringPiece(e.message.data(), e.message.size()), *re_)) {
    return false;
  }
  return true;
}

}  // namespace hydra::bridge
