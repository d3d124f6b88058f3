// YAML (yaml-cpp) → Tree, with the line of every key. Plain scalars are typed
// by the YAML 1.2 core schema (true/false, integers, floats, null); quoted
// scalars are always strings.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdint>
#include <string>

#include "hydra/core/error.hpp"
#include "tree.hpp"

namespace hydra::config_detail {

namespace {

Json typed_scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: a string, whatever it looks like
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  const char* first = text.data();
  const char* last = first + text.size();
  if (*first == '+') ++first;
  std::int64_t integer = 0;
  if (auto [end, ec] = std::from_chars(first, last, integer); ec == std::errc{} && end == last) {
    return integer;
  }
  double real = 0;
  if (auto [end, ec] = std::from_chars(first, last, real);
      ec == std::errc{} && end == last && text.find_first_of(".eE") != std::string::npos) {
    return real;
  }
  return text;
}

Json convert(const YAML::Node& node, const std::string& path, Tree& tree) {
  tree.origins[path] = Origin{tree.source, node.Mark().line + 1};
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) {
        const std::string key = entry.first.Scalar();
        const std::string child = child_path(path, key);
        out[key] = convert(entry.second, child, tree);
        // The key's own line reads better than its value's (a block value
        // starts on the next line).
        tree.origins[child].line = entry.first.Mark().line + 1;
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (std::size_t i = 0; i < node.size(); ++i) {
        out.push_back(convert(node[i], index_path(path, i), tree));
      }
      return out;
    }
    case YAML::NodeType::Scalar: return typed_scalar(node);
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
  }
  return nullptr;
}

}  // namespace

Tree parse_yaml(std::string_view text, const std::string& source) {
  Tree tree;
  tree.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": YAML parse error: " + e.msg);
  }
  if (root.IsNull() || !root.IsDefined()) return tree;  // an empty file: no settings
  if (!root.IsMap()) {
    throw ConfigError(source + ":" + std::to_string(root.Mark().line + 1) +
                      ": the top level must be a mapping of settings");
  }
  tree.value = convert(root, "", tree);
  tree.origins.erase("");
  return tree;
}

}  // namespace hydra::config_detail
