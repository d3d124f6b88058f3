// A subscription's filter: layers, minimum level, logger, service, tenant,
// text, regex (RE2: linear time), and field equality; all that are given
// must match. Parsed from the subscribe frame's `filter`, with an error
// that names the key at fault, and run by the bridge on records before any
// is rendered for a client.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hydra/bridge/entry.hpp"

namespace re2 {
class RE2;
}

namespace hydra::bridge {

class Filter {
 public:
  Filter();
  ~Filter();
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;

  // From a subscribe frame's filter object. Throws FilterError.
  static Filter parse(const nlohmann::json& filter);

  bool matches(const Entry& entry) const;
  // Whether matches() scans the message (text or regex): what a filter
  // costs per record grows with the message then.
  bool scans_message() const noexcept { return !text.empty() || re_ != nullptr; }

  std::vector<std::string> layers;  // any of them (compared case-insensitively)
  std::optional<Level> min_level;
  std::string logger, service, tenant, text;
  std::map<std::string, std::string, std::less<>> fields;  // key -> value as text
  std::string regex;

 private:
  std::unique_ptr<re2::RE2> re_;
};

struct FilterError : std::runtime_error {
  FilterError(std::string code, const std::string& message)
      : std::runtime_error(message), code(std::move(code)) {}
  std::string code;  // bad_filter or filter_too_costly
};

}  // namespace hydra::bridge
