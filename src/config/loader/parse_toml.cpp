// TOML (toml++) → Tree, with the line of every key.
#include <toml++/toml.h>
#include <sstream>

#include "hydra/core/error.hpp"
#include "tree.hpp"

namespace hydra::config_detail {

namespace {

Json convert(const toml::node& node, const std::string& path, std::size_t depth, Tree& tree,
             DocumentBudget& budget) {
  tree.origins[path] = Origin{tree.source, static_cast<int>(node.source().begin.line)};
  budget.count(path, depth);
  if (const auto* table = node.as_table()) {
    Json out = Json::object();
    for (const auto& [key, child] : *table) {
      const std::string name(key.str());
      out[name] = convert(child, child_path(path, name), depth + 1, tree, budget);
    }
    return out;
  }
  if (const auto* array = node.as_array()) {
    Json out = Json::array();
    for (std::size_t i = 0; i < array->size(); ++i) {
      out.push_back(convert(*array->get(i), index_path(path, i), depth + 1, tree, budget));
    }
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  // Dates and times: no setting takes one; keep their text for the message.
  std::ostringstream text;
  node.visit([&text](const auto& n) { text << n; });
  return text.str();
}

}  // namespace

Tree parse_toml(std::string_view text, const std::string& source) {
  Tree tree;
  tree.source = source;
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(source + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) +
                      ": TOML parse error: " + std::string(e.description()));
  }
  DocumentBudget budget(tree);
  tree.value = convert(table, "", 0, tree, budget);
  tree.origins.erase("");
  return tree;
}

}  // namespace hydra::config_detail
