// The Python Hydra-Logger's configuration schema, rewritten into this one so
// that its users' files load unchanged (docs/configuration.md, "Files of the
// Python Hydra-Logger"). Done on the tree, before the strict walk: what a
// rewrite adds carries the line it came from, which `hydra config explain`
// shows, and the walk itself knows one spelling of each setting.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "hydra/config/limits.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "tree.hpp"

namespace hydra::config_detail {

namespace {

// Its format names, and the format each is here; `colored` also colours.
struct PythonFormat {
  std::string_view name;
  std::string_view format;
  bool colored;
};
constexpr std::array<PythonFormat, 3> kPythonFormats = {
    {{"plain-text", "text", false}, {"json-lines", "json", false}, {"colored", "text", true}}};

// Its `file` rotates when it has max_size or backup_count, the other taking
// the Python default.
constexpr std::uint64_t kPythonMaxSize = 5 * limits::kMiB;
constexpr int kPythonBackupCount = 3;

using hydra::detail::iequals;

// Whether a size as written is zero ("0", "0MB", 0): Python's
// RotatingFileHandler never rotates then. Anything else, valid or not, is
// left to the strict walk.
bool is_zero_size(const Json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>() == 0;
  if (!v.is_string()) return false;
  const auto& text = v.get_ref<const std::string&>();
  const auto digits = text.find_first_not_of("0123456789");
  const std::string_view number = std::string_view(text).substr(0, digits);
  return !number.empty() && number.find_first_not_of('0') == std::string_view::npos;
}

// Adds `key` = `value` to the destination at `path`, credited to where
// `because` (a key path) was written.
void add(Tree& tree, Json& destination, const std::string& path, std::string_view key, Json value,
         const std::string& because) {
  const std::string at = child_path(path, key);
  destination[std::string(key)] = std::move(value);
  if (auto it = tree.origins.find(because); it != tree.origins.end()) {
    tree.origins[at] = it->second;
  }
}

void rewrite_destination(Tree& tree, Json& d, const std::string& path) {
  if (d.contains("format") && d["format"].is_string()) {
    const std::string name = d["format"].get<std::string>();
    for (const PythonFormat& python : kPythonFormats) {
      if (!iequals(name, python.name)) continue;
      d["format"] = python.format;
      if (python.colored && !d.contains("color_mode")) {
        add(tree, d, path, "color_mode", "always", child_path(path, "format"));
      }
    }
  }
  const bool rotates = d.contains("max_size") || d.contains("backup_count");
  if (!rotates || !d.contains("type") || !d["type"].is_string() ||
      !iequals(d["type"].get<std::string>(), "file")) {
    return;
  }
  if (d.contains("max_size") && is_zero_size(d["max_size"])) {
    d.erase("max_size");  // never rotates: a plain file
    d.erase("backup_count");
    return;
  }
  const std::string type_at = child_path(path, "type");
  d["type"] = "rotating_file";
  if (!d.contains("max_size")) add(tree, d, path, "max_size", kPythonMaxSize, type_at);
  if (!d.contains("backup_count")) add(tree, d, path, "backup_count", kPythonBackupCount, type_at);
}

}  // namespace

void apply_python_schema(Tree& tree) {
  Json& top = tree.value;
  if (!top.is_object() || !top.contains("layers") || !top["layers"].is_object()) return;
  for (auto& [name, layer] : top["layers"].items()) {
    if (!layer.is_object() || !layer.contains("destinations")) continue;
    Json& list = layer["destinations"];
    if (!list.is_array()) continue;
    const std::string at = child_path(child_path("layers", name), "destinations");
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i].is_object()) rewrite_destination(tree, list[i], index_path(at, i));
    }
  }
}

}  // namespace hydra::config_detail
