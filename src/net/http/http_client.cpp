#include <curl/curl.h>
#include <zlib.h>
#ifdef HYDRA_NET_WITH_ZSTD
#include <zstd.h>
#endif

#include <algorithm>
#include <cctype>
#include <new>
#include <stdexcept>

#include "hydra/net/http.hpp"

namespace hydra::net {
namespace {

constexpr std::size_t kMaxBody = std::size_t{1} << 20;

bool init_curl() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  const std::size_t n = size * count;
  r->body.append(data, std::min(n, kMaxBody - std::min(kMaxBody, r->body.size())));
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  // A new status line (after a 100 Continue): the headers before it were
  // not the final response's.
  if (line.starts_with("HTTP/")) {
    r->headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && r->headers.size() < 200) {
    r->headers.emplace_back(lower(trim(line.substr(0, colon))),
                            std::string(trim(line.substr(colon + 1))));
  }
  return n;
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [k, v] : headers) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

struct HttpClient::Impl {
  std::string url;
  HttpOptions options;
  CURL* curl = nullptr;
};

HttpClient::HttpClient(std::string url, HttpOptions options)
    : impl_(std::make_unique<Impl>(Impl{std::move(url), std::move(options), nullptr})) {}

HttpClient::~HttpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

const std::string& HttpClient::url() const noexcept {
  return impl_->url;
}

HttpResponse HttpClient::post(std::string_view body, std::string_view content_type) {
  return post(body, content_type, {});
}

HttpResponse HttpClient::post(std::string_view body, std::string_view content_type,
                              const std::vector<std::pair<std::string, std::string>>& extra) {
  HttpResponse response;
  const std::string where = "POST " + impl_->url;
  curl_slist* headers = nullptr;
  try {
    if (impl_->curl == nullptr) {
      if (!init_curl() || (impl_->curl = curl_easy_init()) == nullptr) {
        response.error = where + ": cannot initialise libcurl";
        return response;
      }
    }
    CURL* h = impl_->curl;
    const HttpOptions& o = impl_->options;
    std::string compressed;
    if (o.compression == HttpCompression::gzip) {
      compressed = gzip_compress(body);
      body = compressed;
    } else if (o.compression == HttpCompression::zstd) {
      compressed = zstd_compress(body);
      body = compressed;
    }
    const auto add = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(headers, line.c_str());
      if (next == nullptr) throw std::bad_alloc();
      headers = next;
    };
    add("Content-Type: " + std::string(content_type));
    if (o.compression == HttpCompression::gzip) add("Content-Encoding: gzip");
    if (o.compression == HttpCompression::zstd) add("Content-Encoding: zstd");
    add("Expect:");  // no 100-continue round trip
    for (const auto& [name, value] : o.headers) add(name + ": " + value);
    for (const auto& [name, value] : extra) add(name + ": " + value);

    char error[CURL_ERROR_SIZE] = {};
    // The handle keeps its connection between requests; its options are set
    // again each time (cheap), so that nothing of a request stays behind.
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, impl_->url.c_str());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!o.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_USERAGENT, o.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.timeout.count()));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);
    const CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    headers = nullptr;
    if (rc != CURLE_OK) {
      response.status = 0;
      response.headers.clear();
      response.body.clear();
      response.error = where + ": " + curl_easy_strerror(rc);
      if (*error != '\0') response.error += std::string(": ") + error;
      return response;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  } catch (const std::exception& e) {
    curl_slist_free_all(headers);
    response = {};
    response.error = where + ": " + e.what();
  }
  return response;
}

SendResult http_result(const HttpResponse& response, std::string_view url) {
  if (response.status == 0) return SendResult::retry(response.error);
  if (response.status >= 200 && response.status < 300) return SendResult::ok();
  std::string why = "POST " + std::string(url) + ": HTTP " + std::to_string(response.status);
  if (!response.body.empty()) {
    std::string_view b = response.body;
    if (b.size() > 200) b = b.substr(0, 200);
    why += ": ";
    for (const char c : b) {
      why += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    }
  }
  const long s = response.status;
  if (s == 429 || s == 502 || s == 503 || s == 504) {
    std::optional<std::chrono::milliseconds> after;
    if (const auto v = response.header("retry-after")) {
      after = parse_retry_after(*v, std::chrono::system_clock::now());
    }
    return SendResult::retry(std::move(why), after);
  }
  return SendResult::reject(std::move(why));
}

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: cannot initialise zlib");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: zlib failed to compress");
  out.resize(written);
  return out;
}

std::string zstd_compress(std::string_view data) {
#ifdef HYDRA_NET_WITH_ZSTD
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n) != 0) {
    throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
#else
  (void)data;
  throw std::runtime_error("zstd: this build has no zstd (HYDRA_WITH_ZSTD=OFF)");
#endif
}

HttpCompression http_compression(std::string_view name, bool zstd_allowed) {
  if (name == "none") return HttpCompression::none;
  if (name == "gzip") return HttpCompression::gzip;
#ifdef HYDRA_NET_WITH_ZSTD
  constexpr bool built_with_zstd = true;
#else
  constexpr bool built_with_zstd = false;
#endif
  if (name == "zstd" && zstd_allowed && built_with_zstd) return HttpCompression::zstd;
  std::string why = "compression '" + std::string(name) + "' is not one (valid: none, gzip";
  why += zstd_allowed && built_with_zstd ? ", zstd)" : ")";
  if (name == "zstd" && zstd_allowed) why += ": this build has no zstd (HYDRA_WITH_ZSTD=OFF)";
  if (name == "zstd" && !zstd_allowed) why += ": this API does not take zstd bodies";
  throw std::invalid_argument(why);
}

}  // namespace hydra::net
