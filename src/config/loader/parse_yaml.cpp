// YAML (yaml-cpp) → Tree, with the line of every key. Plain scalars are typed
// by the YAML 1.2 core schema (true/false, integers, floats, null); quoted
// scalars are always strings.
#include <yaml-cpp/depthguard.h>
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

// yaml-cpp shares an anchored node among its aliases; this walk copies it
// at each use, so `budget` is what keeps an alias bomb from growing
// exponentially.
Json convert(const YAML::Node& node, const std::string& path, std::size_t depth, Tree& tree,
             DocumentBudget& budget) {
  tree.origins[path] = Origin{tree.source, node.Mark().line + 1};
  budget.count(path, depth);
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) {
        const int key_line = entry.first.Mark().line + 1;
        if (!entry.first.IsScalar()) {
          throw ConfigError(tree.source + ":" + std::to_string(key_line) + ": " +
                            (path.empty() ? "" : path + ": ") + "a key must be a string, not " +
                            (entry.first.IsNull()  ? "null (quote it)"
                             : entry.first.IsMap() ? "a mapping"
                                                   : "a sequence"));
        }
        const std::string key = entry.first.Scalar();
        const std::string child = child_path(path, key);
        if (out.contains(key)) duplicate_key(tree, child, key_line);
        out[key] = convert(entry.second, child, depth + 1, tree, budget);
        // The key's own line reads better than its value's (a block value
        // starts on the next line).
        tree.origins[child].line = key_line;
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (std::size_t i = 0; i < node.size(); ++i) {
        out.push_back(convert(node[i], index_path(path, i), depth + 1, tree, budget));
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
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own guard, far deeper than ours
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": nested more than " +
                      std::to_string(kMaxDocumentDepth) +
                      " tables and lists deep; a configuration is refused past that");
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": YAML parse error: " + e.msg);
  }
  if (root.IsNull() || !root.IsDefined()) return tree;  // an empty file: no settings
  if (!root.IsMap()) {
    throw ConfigError(source + ":" + std::to_string(root.Mark().line + 1) +
                      ": the top level must be a mapping of settings");
  }
  DocumentBudget budget(tree);
  tree.value = convert(root, "", 0, tree, budget);
  tree.origins.erase("");
  return tree;
}

}  // namespace hydra::config_detail
