// Fetching plugin indexes and plugin files over https (libcurl), for
// `hydra plugin search|info|install --index https://...` and index entries
// whose location is an https URL. Only https: plain http and every other
// scheme are refused, redirects may only lead to https, and the server's
// certificate and host name are always verified. What is fetched is then
// checked like a local file (the index's Ed25519 signature, the plugin's
// SHA-256), so a download is trusted no more than a file on disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace hydra::plugin {

struct DownloadOptions {
  // The CA certificates (PEM) that verify the server. Empty:
  // $HYDRA_PLUGIN_CA_FILE when set, else the system's store.
  std::filesystem::path ca_file;
  // A larger body is refused (the transfer stops there).
  std::uint64_t max_bytes = std::uint64_t{256} << 20;
  std::chrono::seconds connect_timeout{15};
  // The whole transfer; a transfer that sends nothing for 30 s also fails.
  std::chrono::seconds timeout{300};
};

// Whether `location` is a URL ("scheme://..."), as opposed to a file path.
bool is_url(std::string_view location);

// The body of a GET of `url`. `what` names it in errors ("index", "plugin
// 'x'"), which also name the URL and say what failed: the scheme, the
// connection, the certificate (curl's words), the HTTP status, the size or
// the time. Throws PluginError.
std::string download(std::string_view url, std::string_view what, const DownloadOptions& options);

// The same, written to `file` (created or truncated; removed again when the
// download fails).
void download_to_file(std::string_view url, const std::filesystem::path& file,
                      std::string_view what, const DownloadOptions& options);

// `location` resolved against the URL `base` of the document that names
// it: an https URL stays as it is; a relative path replaces everything after
// the last '/' of base's path. Throws PluginError for an absolute file path
// or another scheme.
std::string resolve_url(std::string_view base, std::string_view location);

}  // namespace hydra::plugin
