// The plugins a user installed (`hydra plugin install|list|remove|verify`):
// files in user_plugin_dir(), where find_plugin() looks for them, and a
// manifest beside them (installed.json) recording where each came from and
// its SHA-256, so that a file changed since can be told. Installing from an
// index checks the file's digest against the index entry; the index's own
// signature is checked by open_index() (hydra/plugin/index.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/plugin/index.hpp"
#include "hydra/plugin/loader.hpp"

namespace hydra::plugin {

struct InstalledPlugin {
  std::string name;
  std::string version;
  std::string sha256;
  std::string file;    // its file name in the plugin directory: "<name>.so"
  std::string source;  // the index it came from (path or URL), or the file installed as is
  std::string key_id;  // the key that signed that index; empty: installed unverified
};

// <dir>/installed.json.
std::filesystem::path manifest_path(const std::filesystem::path& dir);

// What the manifest in `dir` lists, by name (none when there is no
// manifest). Throws PluginError for a manifest that cannot be read.
std::vector<InstalledPlugin> installed_plugins(const std::filesystem::path& dir);

// Copies entry `name` of `index` to <dir>/<name>.so (replacing an earlier
// install) and records it; an https location is fetched with `download`
// first. Throws PluginError, naming the plugin and the file or URL, when the
// index has no such entry (listing those it has), the file is missing or
// cannot be fetched, its SHA-256 is not the entry's ("has SHA-256 <actual>,
// the index says <expected>"), or its ABI version is one this build cannot
// load. Nothing is installed then.
InstalledPlugin install_plugin(const OpenedIndex& index, std::string_view name,
                               const std::filesystem::path& dir,
                               const DownloadOptions& download = {});

// Installs a plugin file that no index vouches for (--allow-unsigned): its
// name and version from inspect_plugin(), which dlopen()s it.
InstalledPlugin install_plugin_file(const std::filesystem::path& file,
                                    const std::filesystem::path& dir);

// Deletes the plugin's file and its manifest entry. Throws PluginError when
// no plugin of that name is installed.
void remove_plugin(std::string_view name, const std::filesystem::path& dir);

struct InstalledCheck {
  InstalledPlugin plugin;
  std::string problem;  // empty: the file is there with the recorded SHA-256
};

// Re-checks the installed files (all, or the one named) against the
// manifest. Throws PluginError when `name` is given and not installed.
std::vector<InstalledCheck> verify_installed(const std::filesystem::path& dir,
                                             std::string_view name = {});

}  // namespace hydra::plugin
