// TEMPORARY, branch p-index only: enough of loader.cpp/registry.cpp (which
// are written on main) for the index code and its tests to link and run.
// Deleted when main is merged.
#include <dlfcn.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "hydra/plugin/abi.h"
#include "hydra/plugin/loader.hpp"

namespace hydra::plugin {

std::string_view kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::sink: return "sink";
    case Kind::formatter: return "formatter";
    case Kind::filter: return "filter";
    case Kind::detector: return "detector";
    case Kind::analytics: return "analytics";
  }
  return "?";
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PluginError("'" + path.string() + "': " + std::strerror(errno));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buffer[1 << 14];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx, buffer, static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx, digest, &size);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0xf];
  }
  return hex;
}

std::filesystem::path user_plugin_dir() {
  if (const char* data = std::getenv("XDG_DATA_HOME"); data != nullptr && *data == '/') {
    return std::filesystem::path(data) / "hydra" / "plugins";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/") / ".local/share/hydra/plugins";
}

PluginFile inspect_plugin(const std::filesystem::path& path) {
  const std::filesystem::path absolute = std::filesystem::absolute(path);
  void* handle = ::dlopen(absolute.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw PluginError("'" + path.string() + "': " + ::dlerror());
  const auto entry =
      reinterpret_cast<hydra_plugin_entry_fn>(::dlsym(handle, HYDRA_PLUGIN_ENTRY_NAME));
  if (entry == nullptr) throw PluginError("'" + path.string() + "': no " HYDRA_PLUGIN_ENTRY_NAME);
  const hydra_plugin_descriptor* d = entry();
  PluginFile file;
  file.path = absolute;
  file.name = d->name;
  file.version = d->version;
  file.description = d->description;
  file.abi_major = d->abi_major;
  file.abi_minor = d->abi_minor;
  file.sha256 = sha256_file(path);
  for (std::size_t i = 0; i < d->kind_count; ++i) {
    const auto* k = reinterpret_cast<const hydra_kind*>(reinterpret_cast<const char*>(d->kinds) +
                                                        i * d->kind_size);
    TypeInfo type;
    type.kind = static_cast<Kind>(k->kind - 1);
    type.name = k->type_name;
    type.description = k->description;
    file.types.push_back(std::move(type));
  }
  return file;
}

}  // namespace hydra::plugin
