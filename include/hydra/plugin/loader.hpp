// Loadable plugins: shared objects that speak the C ABI of
// hydra/plugin/abi.h. load_plugin() opens one, checks its descriptor under
// the ABI's version rules and registers every type it provides; the
// configuration key `plugins = [...]` does it for a file. Part of the
// optional hydra::plugin component (link hydra::plugin; it needs OpenSSL for
// the file digests).
//
// A loaded plugin stays loaded for the life of the process (instances may
// outlive any logger that used them), and loading the same file again is a
// no-op that returns the first load's PluginFile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/core/error.hpp"
#include "hydra/plugin/registry.hpp"

namespace hydra::plugin {

// A plugin file that could not be loaded: missing, not a shared object,
// without the entry point, of another ABI version, with a malformed
// descriptor, or of a digest other than the one expected. The message names
// the file and, for versions, both the plugin's and the host's.
class PluginError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// What a plugin file declares.
struct PluginFile {
  std::filesystem::path path;  // absolute
  std::string name;
  std::string version;
  std::string description;
  int abi_major = 0;
  int abi_minor = 0;
  std::string sha256;  // of the file, lowercase hex
  std::vector<TypeInfo> types;
};

// Opens `path`, checks it and registers its types in `registry` (each type's
// origin is the path). Throws PluginError.
PluginFile load_plugin(const std::filesystem::path& path, Registry& registry = Registry::global());

// The same checks without registering anything (for `hydra plugin check`
// and `hydra plugin index build`). The file is still opened with dlopen(),
// so its static constructors run: inspect only files you would load.
PluginFile inspect_plugin(const std::filesystem::path& path);

// Where `plugins = [...]` entries are looked for. An entry with a '/' or
// ending in ".so" is a path (relative to `base_dir`, the configuration
// file's directory); a name N is looked for as N.so, libN.so and
// hydra-N.so in each directory of HYDRA_PLUGIN_PATH (':'-separated), then in
// user_plugin_dir(), then in install_plugin_dir(). Throws PluginError listing
// the places it looked.
std::filesystem::path find_plugin(std::string_view entry, const std::filesystem::path& base_dir);

// $XDG_DATA_HOME/hydra/plugins, else $HOME/.local/share/hydra/plugins: where
// `hydra plugin install` puts plugins.
std::filesystem::path user_plugin_dir();
// <prefix>/lib/hydra/plugins of this installation.
std::filesystem::path install_plugin_dir();

// SHA-256 of a file's bytes, lowercase hex. Throws PluginError naming the
// path and the errno text.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace hydra::plugin
