#include "hydra/plugin/index.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "file_util.hpp"
#include "hydra/plugin/download.hpp"
#include "hydra/plugin/loader.hpp"

namespace hydra::plugin {
namespace {

using Json = nlohmann::ordered_json;

// A downloaded index (or signature) larger than this is refused.
constexpr std::uint64_t kMaxIndexBytes = std::uint64_t{16} << 20;

bool is_plugin_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool is_sha256(std::string_view hex) {
  return hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Json entry_json(const IndexEntry& e) {
  return {{"name", e.name},
          {"version", e.version},
          {"description", e.description},
          {"kinds", e.kinds},
          {"abi", e.abi},
          {"sha256", e.sha256},
          {"location", e.location},
          {"publisher", e.publisher},
          {"key_id", e.key_id}};
}

// One entry, checked; `where` is "index 'FILE': plugin #N" until the name is known.
IndexEntry parse_entry(const nlohmann::json& j, const std::string& origin, std::size_t number) {
  std::string where = "index '" + origin + "': plugin #" + std::to_string(number + 1);
  if (!j.is_object()) throw PluginError(where + ": not an object");
  const auto text = [&](const char* key, bool may_be_empty) -> std::string {
    const auto it = j.find(key);
    if (it == j.end()) throw PluginError(where + ": no \"" + key + "\"");
    if (!it->is_string()) throw PluginError(where + ": \"" + key + "\" is not a string");
    std::string value = it->get<std::string>();
    if (value.empty() && !may_be_empty) throw PluginError(where + ": \"" + key + "\" is empty");
    return value;
  };
  IndexEntry e;
  e.name = text("name", false);
  if (!is_plugin_name(e.name)) {
    throw PluginError(where + ": name '" + e.name + "' is not [a-z0-9_-]+");
  }
  where = "index '" + origin + "': plugin '" + e.name + "'";
  e.version = text("version", false);
  e.description = text("description", true);
  e.abi = text("abi", false);
  e.sha256 = text("sha256", false);
  if (!is_sha256(e.sha256)) {
    throw PluginError(where + ": sha256 '" + e.sha256 + "' is not 64 lowercase hex digits");
  }
  e.location = text("location", false);
  e.publisher = text("publisher", true);
  e.key_id = text("key_id", true);
  const auto kinds = j.find("kinds");
  if (kinds == j.end() || !kinds->is_array()) {
    throw PluginError(where + ": \"kinds\" is not a list");
  }
  for (const auto& kind : *kinds) {
    if (!kind.is_string()) throw PluginError(where + ": \"kinds\" holds a non-string");
    e.kinds.push_back(kind.get<std::string>());
  }
  return e;
}

std::filesystem::path absolute_path(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path out = std::filesystem::absolute(path, ec);
  return ec ? path : out.lexically_normal();
}

}  // namespace

const IndexEntry* PluginIndex::find(std::string_view name) const {
  const auto it = std::find_if(plugins.begin(), plugins.end(),
                               [&](const IndexEntry& e) { return e.name == name; });
  return it == plugins.end() ? nullptr : &*it;
}

std::vector<const IndexEntry*> PluginIndex::search(std::string_view term) const {
  const std::string needle = lower(term);
  std::vector<const IndexEntry*> found;
  for (const auto& e : plugins) {
    bool match = lower(e.name).find(needle) != std::string::npos ||
                 lower(e.description).find(needle) != std::string::npos;
    for (const auto& kind : e.kinds) match = match || lower(kind).find(needle) != std::string::npos;
    if (match) found.push_back(&e);
  }
  return found;
}

std::string to_json(const PluginIndex& index) {
  std::vector<const IndexEntry*> sorted;
  for (const auto& e : index.plugins) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const IndexEntry* a, const IndexEntry* b) { return a->name < b->name; });
  Json plugins = Json::array();
  for (const IndexEntry* e : sorted) plugins.push_back(entry_json(*e));
  const Json doc = {{"hydra_plugin_index", kIndexFormat}, {"plugins", std::move(plugins)}};
  return doc.dump(2) + "\n";
}

void write_index(const std::filesystem::path& file, const PluginIndex& index) {
  detail::write_file_atomically(file, to_json(index));
}

PluginIndex parse_index(std::string_view json, std::string_view origin) {
  const std::string name(origin);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw PluginError("index '" + name + "': not JSON (" + e.what() + ")");
  }
  if (!doc.is_object()) throw PluginError("index '" + name + "': not a JSON object");
  const auto format = doc.find("hydra_plugin_index");
  if (format == doc.end() || !format->is_number_integer()) {
    throw PluginError("index '" + name + "': no \"hydra_plugin_index\" format number");
  }
  if (format->get<int>() > kIndexFormat || format->get<int>() < 1) {
    throw PluginError("index '" + name + "': format " + std::to_string(format->get<int>()) +
                      ", this hydra reads format " + std::to_string(kIndexFormat));
  }
  const auto plugins = doc.find("plugins");
  if (plugins == doc.end() || !plugins->is_array()) {
    throw PluginError("index '" + name + "': \"plugins\" is not a list");
  }
  PluginIndex index;
  for (std::size_t i = 0; i < plugins->size(); ++i) {
    IndexEntry e = parse_entry((*plugins)[i], name, i);
    if (index.find(e.name) != nullptr) {
      throw PluginError("index '" + name + "': plugin '" + e.name + "' is listed twice");
    }
    index.plugins.push_back(std::move(e));
  }
  return index;
}

PluginIndex build_index(const std::filesystem::path& dir, const IndexBuildOptions& options) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so" && entry.is_regular_file()) files.push_back(entry.path());
  }
  if (ec) throw PluginError("plugin directory '" + dir.string() + "': " + ec.message());
  std::sort(files.begin(), files.end());
  const std::filesystem::path index_dir =
      absolute_path(options.index_dir.empty() ? dir : options.index_dir);
  PluginIndex index;
  std::map<std::string, std::filesystem::path> seen;  // name -> file
  for (const auto& file : files) {
    const PluginFile plugin = inspect_plugin(file);
    if (const auto [it, added] = seen.emplace(plugin.name, file); !added) {
      throw PluginError("'" + file.string() + "' and '" + it->second.string() +
                        "' are both plugin '" + plugin.name + "'");
    }
    IndexEntry e;
    e.name = plugin.name;
    e.version = plugin.version;
    e.description = plugin.description;
    for (const auto& type : plugin.types) {
      e.kinds.push_back(std::string(kind_name(type.kind)) + ":" + type.name);
    }
    e.abi = std::to_string(plugin.abi_major) + "." + std::to_string(plugin.abi_minor);
    e.sha256 = plugin.sha256;
    if (options.base_url.empty()) {
      e.location = absolute_path(file).lexically_proximate(index_dir).generic_string();
    } else {
      std::string base = options.base_url;
      while (base.ends_with('/')) base.pop_back();
      e.location = base + "/" + file.filename().string();
    }
    e.publisher = options.publisher;
    index.plugins.push_back(std::move(e));
  }
  std::sort(index.plugins.begin(), index.plugins.end(),
            [](const IndexEntry& a, const IndexEntry& b) { return a.name < b.name; });
  return index;
}

std::filesystem::path signature_path(const std::filesystem::path& index_file) {
  return index_file.string() + ".sig";
}

std::string sign_index(const std::filesystem::path& index_file,
                       const std::filesystem::path& private_key) {
  std::string bytes = detail::read_whole_file(index_file, "index");
  PluginIndex index = parse_index(bytes, index_file.string());
  const std::string key_id = read_public_key(private_key).key_id;
  bool stamped = false;
  for (auto& e : index.plugins) {
    if (e.key_id != key_id) {
      e.key_id = key_id;
      stamped = true;
    }
  }
  if (stamped) {
    bytes = to_json(index);
    write_index(index_file, index);
  }
  detail::write_file_atomically(signature_path(index_file), sign_detached(bytes, private_key));
  return key_id;
}

OpenedIndex open_index(const std::string& location, std::span<const PublicKey> trusted,
                       bool allow_unsigned, const DownloadOptions& download_options) {
  OpenedIndex opened;
  const bool remote = is_url(location);
  opened.location = remote ? location : absolute_path(location).string();
  const std::string name = location;
  const std::string sig_location = location + ".sig";
  DownloadOptions index_download = download_options;
  index_download.max_bytes = std::min<std::uint64_t>(index_download.max_bytes, kMaxIndexBytes);
  const std::string bytes = remote ? download(location, "index", index_download)
                                   : detail::read_whole_file(location, "index");
  opened.index = parse_index(bytes, name);
  try {
    std::optional<std::string> signature;
    if (remote) {
      // A missing signature is an answer (404), not a failure to reach the
      // server: the index was just fetched from it.
      try {
        signature = download(sig_location, "signature", index_download);
      } catch (const PluginError& e) {
        if (std::string_view(e.what()).find("HTTP 404") == std::string_view::npos) throw;
      }
    } else {
      std::error_code ec;
      if (std::filesystem::exists(sig_location, ec)) {
        signature = detail::read_whole_file(sig_location, "signature");
      }
    }
    if (!signature) {
      throw PluginError("index '" + name + "' is not signed (no '" + sig_location + "')");
    }
    PublicKey signer = verify_detached(bytes, *signature, trusted, "index '" + name + "'");
    for (const auto& e : opened.index.plugins) {
      if (e.key_id != signer.key_id) {
        throw PluginError("index '" + name + "': plugin '" + e.name + "' names key id '" +
                          e.key_id + "', but the index is signed with key id " + signer.key_id);
      }
    }
    opened.signer = std::move(signer);
  } catch (const PluginError& e) {
    if (!allow_unsigned) {
      throw PluginError(std::string(e.what()) + "; refusing it (--allow-unsigned uses it anyway)");
    }
    opened.problem = e.what();
  }
  return opened;
}

std::string default_index() {
  const char* env = std::getenv("HYDRA_PLUGIN_INDEX");
  if (env == nullptr || *env == '\0') {
    throw PluginError("which index? give --index FILE|URL or set HYDRA_PLUGIN_INDEX");
  }
  return env;
}

std::string entry_location(const OpenedIndex& index, const IndexEntry& entry) {
  if (is_url(index.location)) return resolve_url(index.location, entry.location);
  if (is_url(entry.location)) return entry.location;  // download() refuses all but https
  const std::filesystem::path location(entry.location);
  if (location.is_absolute()) return location.string();
  return (std::filesystem::path(index.location).parent_path() / location)
      .lexically_normal()
      .string();
}

}  // namespace hydra::plugin
