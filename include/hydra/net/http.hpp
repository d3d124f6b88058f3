// The HTTP client the HTTP destinations (`otlp`, and Loki, Elasticsearch,
// Splunk HEC after it) send with: POST on libcurl, one connection kept alive
// per client, the body gzip- or zstd-compressed on request, a timeout on every
// request, https with the server's certificate verified (against the
// system's CAs or a CA file). A request never throws: what went wrong is in
// the response, as text naming the URL and curl's reason.
//
// http_result() is the classification every HTTP destination starts from:
// 2xx delivered; 429, 502, 503, 504 and a failed connection retryable
// (honouring Retry-After); every other status permanent.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hydra/net/delivery.hpp"

namespace hydra::net {

// gzip: every HTTP API here takes it. zstd: OTLP collectors (the
// OpenTelemetry Collector's HTTP receivers) take it; Loki, Elasticsearch and
// Splunk HEC do not, and their destinations refuse it.
enum class HttpCompression { none, gzip, zstd };

// The compression named `name` (none, gzip, or zstd where `zstd_allowed`).
// Throws std::invalid_argument naming it and the valid ones.
HttpCompression http_compression(std::string_view name, bool zstd_allowed);

struct HttpOptions {
  // For the whole request (connecting included).
  std::chrono::milliseconds timeout{10'000};
  // https: a PEM file of CAs to verify the server by; empty: the system's.
  std::string ca_file;
  // The body's compression, sent as its Content-Encoding.
  HttpCompression compression = HttpCompression::none;
  // Sent with every request ("Authorization", "Bearer ...").
  std::vector<std::pair<std::string, std::string>> headers;
  std::string user_agent = "hydra-logger";
};

struct HttpResponse {
  // 0: no response (error says why: refused, reset, timed out, TLS).
  long status = 0;
  std::string error;
  // The final response's headers, names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // at most 1 MiB of it is kept

  // The first header of that name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

class HttpClient {
 public:
  // `url`: http:// or https://. Nothing is connected until the first post.
  HttpClient(std::string url, HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` with that Content-Type; blocks up to the timeout. Never
  // throws. One request at a time (a client is its sender thread's).
  HttpResponse post(std::string_view body, std::string_view content_type);
  // The same, with `headers` sent on this request only, after the client's
  // own (a request signature: SigV4's X-Amz-Date and Authorization).
  HttpResponse post(std::string_view body, std::string_view content_type,
                    const std::vector<std::pair<std::string, std::string>>& headers);

  const std::string& url() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The batch's result from the response: delivered (2xx), retryable (no
// response; 429, 502, 503, 504, with the Retry-After the server sent), or
// permanent (any other status). The reason names the URL, the status and
// the start of the body.
SendResult http_result(const HttpResponse& response, std::string_view url);

// `data` as a gzip member (RFC 1952), deflate at the default level.
std::string gzip_compress(std::string_view data);
// `data` as one zstd frame (RFC 8878) that records its size, at level 3,
// zstd's default. Throws std::runtime_error when the build has no zstd
// (HYDRA_WITH_ZSTD=OFF), which http_compression() refuses before.
std::string zstd_compress(std::string_view data);

}  // namespace hydra::net
