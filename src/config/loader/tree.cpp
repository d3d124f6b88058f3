#include "tree.hpp"

#include <fmt/format.h>

#include <utility>

#include "hydra/core/error.hpp"

namespace hydra::config_detail {

namespace {

// The parent of a key path: "a.b[2]" → "a.b", "a.b" → "a", "a" → "".
std::string_view parent_of(std::string_view path) {
  const auto cut = path.find_last_of(".[");
  return cut == std::string_view::npos ? std::string_view{} : path.substr(0, cut);
}

// Drops the origins of `path` and of everything below it.
void drop_origins_under(Tree& tree, const std::string& path) {
  auto it = tree.origins.lower_bound(path);
  while (it != tree.origins.end() && it->first.starts_with(path)) {
    const std::string& key = it->first;
    if (key.size() == path.size() || key[path.size()] == '.' || key[path.size()] == '[') {
      it = tree.origins.erase(it);
    } else {
      ++it;
    }
  }
}

void merge_value(Tree& base, Json& into, Json&& overlay, const std::string& path) {
  if (into.is_object() && overlay.is_object()) {
    for (auto& [key, value] : overlay.items()) {
      const std::string child = child_path(path, key);
      if (into.contains(key)) {
        merge_value(base, into[key], std::move(value), child);
      } else {
        drop_origins_under(base, child);
        into[key] = std::move(value);
      }
    }
    return;
  }
  drop_origins_under(base, path);
  into = std::move(overlay);
}

// How deep `${A:-${B:-...}}` defaults may nest.
constexpr int kMaxDefaultNesting = 8;

// The index of the '}' that closes the "${" just before `from`, counting the
// "${" opened inside it (a default may hold more); npos when there is none.
std::size_t closing_brace(const std::string& in, std::size_t from) {
  int open = 1;
  for (std::size_t i = from; i < in.size(); ++i) {
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '$') {
      ++i;  // $$: a literal $, opens nothing
    } else if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '{') {
      ++open;
      ++i;
    } else if (in[i] == '}' && --open == 0) {
      return i;
    }
  }
  return std::string::npos;
}

// `in` with ${VAR} and ${VAR:-default} replaced; a default is interpolated
// in turn (`nesting` deep so far), a variable's value never is.
std::string interpolate_string(const Tree& tree, const std::string& path, const std::string& in,
                               const Env& env, int nesting = 0) {
  if (nesting > kMaxDefaultNesting) {
    fail(tree, path, fmt::format("${{...}} defaults nested more than {} deep", kMaxDefaultNesting));
  }
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '$' || i + 1 >= in.size()) {
      out += c;
      continue;
    }
    if (in[i + 1] == '$') {  // $$ → $
      out += '$';
      ++i;
      continue;
    }
    if (in[i + 1] != '{') {
      out += c;
      continue;
    }
    const auto close = closing_brace(in, i + 2);
    if (close == std::string::npos) {
      fail(tree, path, describe(in) + ": '${' without a closing '}' (write $$ for a literal $)");
    }
    const std::string inner = in.substr(i + 2, close - i - 2);
    const auto sep = inner.find(":-");
    const std::string name = inner.substr(0, sep);
    if (name.empty()) fail(tree, path, describe(in) + ": '${}' names no variable");
    if (name.find_first_of("${}") != std::string::npos) {
      fail(tree, path, describe(in) + ": '" + name + "' is not a variable name");
    }
    const std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (sep != std::string::npos) {
      // Shell semantics: the default applies when the variable is unset or empty.
      out += value && !value->empty()
                 ? *value
                 : interpolate_string(tree, path, inner.substr(sep + 2), env, nesting + 1);
    } else if (value) {
      out += *value;
    } else {
      fail(tree, path,
           fmt::format("${{{0}}}: the environment variable {0} is not set (set it, or give a "
                       "default: ${{{0}:-value}})",
                       name));
    }
    i = close;
  }
  return out;
}

void interpolate_value(const Tree& tree, Json& value, const std::string& path, const Env& env) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.find('$') != std::string::npos) value = interpolate_string(tree, path, text, env);
  } else if (value.is_object()) {
    for (auto& [key, child] : value.items()) {
      interpolate_value(tree, child, child_path(path, key), env);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      interpolate_value(tree, value[i], index_path(path, i), env);
    }
  }
}

}  // namespace

std::string Tree::where(std::string_view path) const {
  for (std::string_view p = path;; p = parent_of(p)) {
    if (auto it = origins.find(p); it != origins.end()) return it->second.where();
    if (p.empty()) break;
  }
  return source;
}

std::string child_path(std::string_view parent, std::string_view key) {
  std::string path(parent);
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string describe(const Json& value) {
  std::string text =
      value.is_string() ? "'" + value.get_ref<const std::string&>() + "'" : value.dump();
  constexpr std::size_t kMax = 80;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

void fail(const Tree& tree, std::string_view path, const std::string& what) {
  std::string message = tree.where(path);
  if (!path.empty()) {
    message += ": ";
    message += path;
  }
  message += ": ";
  message += what;
  throw ConfigError(message);
}

void DocumentBudget::count(std::string_view path, std::size_t depth) {
  if (depth > kMaxDocumentDepth) {
    fail(tree_, path,
         fmt::format("nested more than {} tables and lists deep; a configuration is refused "
                     "past that",
                     kMaxDocumentDepth));
  }
  if (++values_ > kMaxDocumentValues) {
    fail(tree_, path,
         fmt::format("more than {} values (YAML aliases count each time they are used); a "
                     "configuration is refused past that",
                     kMaxDocumentValues));
  }
}

void duplicate_key(const Tree& tree, std::string_view path, int line) {
  std::string message = tree.source;
  if (line > 0) message += ":" + std::to_string(line);
  message += ": ";
  message += path;
  message += ": duplicate key";
  if (auto first = tree.origins.find(path); first != tree.origins.end() && first->second.line > 0) {
    message += " (first at line " + std::to_string(first->second.line) + ")";
  }
  throw ConfigError(message);
}

void merge(Tree& base, Tree overlay) {
  merge_value(base, base.value, std::move(overlay.value), "");
  for (auto& [path, origin] : overlay.origins) base.origins[path] = std::move(origin);
  base.source = std::move(overlay.source);
}

void interpolate(Tree& tree, const Env& env) {
  interpolate_value(tree, tree.value, "", env);
}

void flatten(const Json& value, const std::string& path, std::map<std::string, std::string>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) flatten(child, child_path(path, key), out);
  } else if (value.is_array() && !value.empty()) {
    for (std::size_t i = 0; i < value.size(); ++i) flatten(value[i], index_path(path, i), out);
  } else {
    out[path] = value.dump();
  }
}

}  // namespace hydra::config_detail
