#include "hydra/plugin/installed.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "file_util.hpp"
#include "hydra/plugin/abi.h"
#include "hydra/plugin/download.hpp"

namespace hydra::plugin {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kManifestFormat = 1;

void write_manifest(const std::filesystem::path& dir, std::vector<InstalledPlugin> plugins) {
  std::sort(plugins.begin(), plugins.end(),
            [](const InstalledPlugin& a, const InstalledPlugin& b) { return a.name < b.name; });
  Json list = Json::array();
  for (const auto& p : plugins) {
    list.push_back({{"name", p.name},
                    {"version", p.version},
                    {"sha256", p.sha256},
                    {"file", p.file},
                    {"source", p.source},
                    {"key_id", p.key_id}});
  }
  const Json doc = {{"hydra_installed_plugins", kManifestFormat}, {"plugins", std::move(list)}};
  detail::write_file_atomically(manifest_path(dir), doc.dump(2) + "\n");
}

// Whether this build loads a plugin of ABI version `abi` ("1.1"): the same
// major version, a minor version no newer than ours.
bool loadable_abi(std::string_view abi) {
  const auto dot = abi.find('.');
  if (dot == std::string_view::npos) return false;
  int major = -1, minor = -1;
  const auto a = std::from_chars(abi.data(), abi.data() + dot, major);
  const auto b = std::from_chars(abi.data() + dot + 1, abi.data() + abi.size(), minor);
  if (a.ec != std::errc() || a.ptr != abi.data() + dot || b.ec != std::errc() ||
      b.ptr != abi.data() + abi.size()) {
    return false;
  }
  return major == HYDRA_PLUGIN_ABI_MAJOR && minor >= 0 && minor <= HYDRA_PLUGIN_ABI_MINOR;
}

// Copies `from` to <dir>/<name>.so through a temporary file, checks the
// copy's digest (what was checked is what is installed) and records it.
InstalledPlugin place(const std::filesystem::path& from, InstalledPlugin plugin,
                      const std::filesystem::path& dir) {
  plugin.file = plugin.name + ".so";
  const std::filesystem::path to = dir / plugin.file;
  const std::filesystem::path temp = dir / (plugin.file + ".tmp");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw PluginError("cannot create '" + dir.string() + "': " + ec.message());
  std::filesystem::copy_file(from, temp, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    throw PluginError("cannot copy '" + from.string() + "' to '" + temp.string() +
                      "': " + ec.message());
  }
  const std::string copied = sha256_file(temp);
  if (copied != plugin.sha256) {
    std::filesystem::remove(temp, ec);
    throw PluginError("plugin '" + plugin.name + "': '" + from.string() +
                      "' changed while it was installed (SHA-256 " + copied + ", expected " +
                      plugin.sha256 + ")");
  }
  std::filesystem::rename(temp, to, ec);
  if (ec) throw PluginError("cannot write '" + to.string() + "': " + ec.message());
  std::vector<InstalledPlugin> all = installed_plugins(dir);
  std::erase_if(all, [&](const InstalledPlugin& p) { return p.name == plugin.name; });
  all.push_back(plugin);
  write_manifest(dir, std::move(all));
  return plugin;
}

}  // namespace

std::filesystem::path manifest_path(const std::filesystem::path& dir) {
  return dir / "installed.json";
}

std::vector<InstalledPlugin> installed_plugins(const std::filesystem::path& dir) {
  const std::filesystem::path file = manifest_path(dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {};
  const std::string where = "manifest '" + file.string() + "'";
  std::vector<InstalledPlugin> plugins;
  try {
    const auto doc = nlohmann::json::parse(detail::read_whole_file(file, "manifest"));
    for (const auto& p : doc.at("plugins")) {
      InstalledPlugin plugin{p.at("name").get<std::string>(),   p.at("version").get<std::string>(),
                             p.at("sha256").get<std::string>(), p.at("file").get<std::string>(),
                             p.at("source").get<std::string>(), p.at("key_id").get<std::string>()};
      if (plugin.file.find('/') != std::string::npos || plugin.file.starts_with('.')) {
        throw PluginError(where + ": plugin '" + plugin.name + "': bad file name '" + plugin.file +
                          "'");
      }
      plugins.push_back(std::move(plugin));
    }
  } catch (const nlohmann::json::exception& e) {
    throw PluginError(where + ": " + e.what());
  }
  return plugins;
}

InstalledPlugin install_plugin(const OpenedIndex& index, std::string_view name,
                               const std::filesystem::path& dir, const DownloadOptions& download) {
  const IndexEntry* entry = index.index.find(name);
  if (entry == nullptr) {
    std::string names;
    for (const auto& e : index.index.plugins) names += (names.empty() ? "" : ", ") + e.name;
    throw PluginError("index '" + index.location + "' has no plugin '" + std::string(name) +
                      "' (it has: " + (names.empty() ? "none" : names) + ")");
  }
  if (!loadable_abi(entry->abi)) {
    throw PluginError("plugin '" + entry->name + "' is built for ABI " + entry->abi +
                      ", this hydra loads ABI " + std::to_string(HYDRA_PLUGIN_ABI_MAJOR) +
                      ".0 to " + std::to_string(HYDRA_PLUGIN_ABI_MAJOR) + "." +
                      std::to_string(HYDRA_PLUGIN_ABI_MINOR));
  }
  const std::string location = entry_location(index, *entry);
  const bool remote = is_url(location);
  std::filesystem::path file = location;
  if (remote) {  // fetched beside its destination, checked, then placed
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw PluginError("cannot create '" + dir.string() + "': " + ec.message());
    file = dir / (entry->name + ".so.download");
    download_to_file(location, file, "plugin '" + entry->name + "'", download);
  }
  struct RemoveDownload {
    const std::filesystem::path* file;
    ~RemoveDownload() {
      std::error_code ec;
      if (file != nullptr) std::filesystem::remove(*file, ec);
    }
  } cleanup{remote ? &file : nullptr};
  const std::string actual = sha256_file(file);
  if (actual != entry->sha256) {
    throw PluginError("plugin '" + entry->name + "': '" + location + "' has SHA-256 " + actual +
                      ", the index says " + entry->sha256 +
                      "; the file is not the one the index describes");
  }
  InstalledPlugin plugin;
  plugin.name = entry->name;
  plugin.version = entry->version;
  plugin.sha256 = entry->sha256;
  plugin.source = index.location;
  plugin.key_id = index.signer ? index.signer->key_id : "";
  return place(file, std::move(plugin), dir);
}

InstalledPlugin install_plugin_file(const std::filesystem::path& file,
                                    const std::filesystem::path& dir) {
  const PluginFile inspected = inspect_plugin(file);
  InstalledPlugin plugin;
  plugin.name = inspected.name;
  plugin.version = inspected.version;
  plugin.sha256 = inspected.sha256;
  plugin.source = inspected.path.string();
  return place(file, std::move(plugin), dir);
}

void remove_plugin(std::string_view name, const std::filesystem::path& dir) {
  std::vector<InstalledPlugin> all = installed_plugins(dir);
  const auto it = std::find_if(all.begin(), all.end(),
                               [&](const InstalledPlugin& p) { return p.name == name; });
  if (it == all.end()) {
    throw PluginError("no plugin '" + std::string(name) + "' is installed in '" + dir.string() +
                      "'");
  }
  std::error_code ec;
  std::filesystem::remove(dir / it->file, ec);
  if (ec) throw PluginError("cannot remove '" + (dir / it->file).string() + "': " + ec.message());
  all.erase(it);
  write_manifest(dir, std::move(all));
}

std::vector<InstalledCheck> verify_installed(const std::filesystem::path& dir,
                                             std::string_view name) {
  std::vector<InstalledCheck> checks;
  for (auto& plugin : installed_plugins(dir)) {
    if (!name.empty() && plugin.name != name) continue;
    InstalledCheck check{std::move(plugin), {}};
    const std::filesystem::path file = dir / check.plugin.file;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      check.problem = "'" + file.string() + "' is missing";
    } else {
      try {
        const std::string actual = sha256_file(file);
        if (actual != check.plugin.sha256) {
          check.problem = "'" + file.string() + "' has SHA-256 " + actual + ", installed with " +
                          check.plugin.sha256;
        }
      } catch (const PluginError& e) {
        check.problem = e.what();
      }
    }
    checks.push_back(std::move(check));
  }
  if (!name.empty() && checks.empty()) {
    throw PluginError("no plugin '" + std::string(name) + "' is installed in '" + dir.string() +
                      "'");
  }
  return checks;
}

}  // namespace hydra::plugin
