// The plugin index: one JSON file listing plugins a publisher offers (name,
// version, kinds, ABI version, SHA-256, where the file is, publisher, key
// id), signed by a detached Ed25519 signature beside it (INDEX.sig, see
// hydra/plugin/signature.hpp). Publishers make one with build_index() and
// sign_index(); `hydra plugin install` reads one, from a file or an https
// URL, with open_index(), which refuses an unsigned, untrusted or altered
// index unless told to allow it.
// The format and the messages: docs/plugin-index.md.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/plugin/download.hpp"
#include "hydra/plugin/signature.hpp"

namespace hydra::plugin {

// The "hydra_plugin_index" number of the format this library writes and reads.
inline constexpr int kIndexFormat = 1;

struct IndexEntry {
  std::string name;  // [a-z0-9_-]+, as the plugin's descriptor says
  std::string version;
  std::string description;
  std::vector<std::string> kinds;  // "sink:example_sink", "filter:drop_health"
  std::string abi;                 // "1.1": the ABI version the plugin was built against
  std::string sha256;              // of the file, 64 lowercase hex digits
  // Where the file is: a path relative to the index file's directory, an
  // absolute path, or an https URL.
  std::string location;
  std::string publisher;
  std::string key_id;  // of the key that signs the index; empty before signing
};

struct PluginIndex {
  std::vector<IndexEntry> plugins;  // by name, names unique

  // The entry named `name`, or null.
  const IndexEntry* find(std::string_view name) const;
  // The entries whose name, description or kinds contain `term` (ASCII
  // case-insensitively); every entry for an empty term.
  std::vector<const IndexEntry*> search(std::string_view term) const;
};

// The index as JSON (2-space indented, entries by name, a final newline).
std::string to_json(const PluginIndex& index);

// Writes to_json(index) to `file` (through a temporary file and a rename).
void write_index(const std::filesystem::path& file, const PluginIndex& index);

// Reads an index's JSON. `origin` names it in errors, which name the entry
// and the field at fault. Throws PluginError for malformed JSON, a missing or
// mistyped field, a bad name or digest, a repeated name, or a format newer
// than kIndexFormat. Unknown fields are ignored.
PluginIndex parse_index(std::string_view json, std::string_view origin);

struct IndexBuildOptions {
  std::string publisher = "unknown";
  // Empty: each location is the file's path relative to `index_dir`. Else
  // base_url + "/" + the file name (an https URL where the files will be).
  std::string base_url;
  // The directory the index will be written to.
  std::filesystem::path index_dir;
};

// One entry for each *.so in `dir` (by file name), from what
// inspect_plugin() reads in it: the plugin is dlopen()ed, so build indexes
// only of plugins you would load. Throws PluginError naming the file that
// cannot be inspected, or two files of one plugin name.
PluginIndex build_index(const std::filesystem::path& dir, const IndexBuildOptions& options);

// The signature file of an index: "<index>.sig".
std::filesystem::path signature_path(const std::filesystem::path& index_file);

// Signs the index file with the Ed25519 private key in `private_key`: sets
// every entry's key_id to the key's (rewriting the file if one differed)
// and writes signature_path(index_file). Returns the key id.
std::string sign_index(const std::filesystem::path& index_file,
                       const std::filesystem::path& private_key);

// An index as read for use, and how far it can be trusted.
struct OpenedIndex {
  std::string location;  // the index file's absolute path, or its https URL
  PluginIndex index;
  // The trusted key that verified the signature, or nothing when the index
  // is used unverified (allow_unsigned).
  std::optional<PublicKey> signer;
  // Why it is unverified (empty when verified): "not signed (no
  // 'index.json.sig')", or the verification error.
  std::string problem;
};

// Reads the index at `location` (a file, or an https URL fetched with
// `download`) and checks its signature (location + ".sig") with `trusted`
// (see verify_detached) and that every entry's key_id is the signer's.
// Throws PluginError when the index cannot be read, fetched or parsed, or,
// unless `allow_unsigned`, when it is unsigned or does not verify; the
// message names the index, the key id and the entry at fault.
OpenedIndex open_index(const std::string& location, std::span<const PublicKey> trusted,
                       bool allow_unsigned, const DownloadOptions& download = {});

// The index `hydra plugin` uses without --index: $HYDRA_PLUGIN_INDEX.
// Throws PluginError when it is not set.
std::string default_index();

// Where an entry's file is: its location resolved against the index's (an
// absolute path, or an https URL for a remote index or an https location).
// Throws PluginError for a local path named by a remote index.
std::string entry_location(const OpenedIndex& index, const IndexEntry& entry);

}  // namespace hydra::plugin
