#include "hydra/plugin/download.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

#include "hydra/plugin/loader.hpp"

namespace hydra::plugin {
namespace {

constexpr std::string_view kHttps = "https://";

// curl_global_init() once per process, before the first handle.
void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw PluginError("cannot initialise libcurl");
    }
  });
}

struct Transfer {
  std::function<bool(std::string_view)> write;  // false: stop (a write error)
  std::uint64_t received = 0;
  std::uint64_t max_bytes = 0;
  bool too_large = false;
  bool write_failed = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->received + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  t->received += n;
  if (!t->write(std::string_view(data, n))) {
    t->write_failed = true;
    return 0;
  }
  return n;
}

std::string ca_file_of(const DownloadOptions& options) {
  if (!options.ca_file.empty()) return options.ca_file.string();
  const char* env = std::getenv("HYDRA_PLUGIN_CA_FILE");
  return env != nullptr ? env : "";
}

void fetch(std::string_view url, std::string_view what, const DownloadOptions& options,
           std::function<bool(std::string_view)> write) {
  const std::string u(url);
  const std::string where = std::string(what) + " '" + u + "'";
  if (!u.starts_with(kHttps)) {
    throw PluginError(where + ": only https URLs are downloaded" +
                      (u.starts_with("http://") ? " (plain http is refused)" : ""));
  }
  init_curl();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw PluginError(where + ": cannot create a libcurl handle");
  CURL* h = curl.get();
  char error[CURL_ERROR_SIZE] = {};
  Transfer transfer{std::move(write), 0, options.max_bytes, false, false};
  const std::string agent = std::string("hydra-plugin/") + HYDRA_PLUGIN_VERSION;
  const std::string ca_file = ca_file_of(options);
  curl_easy_setopt(h, CURLOPT_URL, u.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  const std::string limit = std::to_string(options.max_bytes);
  if (transfer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    throw PluginError(where + ": larger than the limit of " + limit + " bytes; refused");
  }
  if (transfer.write_failed) throw PluginError(where + ": cannot store what was downloaded");
  if (rc == CURLE_UNSUPPORTED_PROTOCOL) {  // only a redirect gets here: the URL was https
    char* target = nullptr;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &target);
    if (target != nullptr && u != target) {
      throw PluginError(where + ": redirected to '" + target + "', which is not https; refused");
    }
  }
  if (rc != CURLE_OK) {
    const std::string detail = *error != '\0' ? error : curl_easy_strerror(rc);
    throw PluginError(where + ": " + detail);
  }
  if (status != 200) {
    throw PluginError(where + ": the server answered HTTP " + std::to_string(status) +
                      " (expected 200)");
  }
}

}  // namespace

bool is_url(std::string_view location) {
  const auto colon = location.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  for (const char c : location.substr(0, colon)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string download(std::string_view url, std::string_view what, const DownloadOptions& options) {
  std::string body;
  fetch(url, what, options, [&](std::string_view chunk) {
    body.append(chunk);
    return true;
  });
  return body;
}

void download_to_file(std::string_view url, const std::filesystem::path& file,
                      std::string_view what, const DownloadOptions& options) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw PluginError("cannot write '" + file.string() +
                      "': " + std::generic_category().message(errno));
  }
  try {
    fetch(url, what, options, [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return static_cast<bool>(out);
    });
    out.close();
    if (!out) throw PluginError("cannot write '" + file.string() + "'");
  } catch (...) {
    out.close();
    std::error_code ec;
    std::filesystem::remove(file, ec);
    throw;
  }
}

std::string resolve_url(std::string_view base, std::string_view location) {
  if (location.starts_with(kHttps)) return std::string(location);
  if (is_url(location)) {
    throw PluginError("location '" + std::string(location) +
                      "' is not an https URL; only https is downloaded");
  }
  if (location.starts_with('/')) {
    throw PluginError("location '" + std::string(location) + "' is a local path, but the index '" +
                      std::string(base) + "' is remote; a remote index names URLs or paths " +
                      "relative to itself");
  }
  std::string_view path = base.substr(0, base.find_first_of("?#"));
  const std::size_t host = path.find("://");
  const std::size_t start = host == std::string_view::npos ? 0 : host + 3;
  const std::size_t slash = path.find('/', start);
  std::string out;
  if (slash == std::string_view::npos) {
    out = std::string(path) + "/";
  } else {
    out = std::string(path.substr(0, path.rfind('/') + 1));
  }
  return out + std::string(location);
}

}  // namespace hydra::plugin
