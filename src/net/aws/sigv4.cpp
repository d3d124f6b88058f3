#include "hydra/net/aws_sigv4.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace hydra::net::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr char kHex[] = "0123456789abcdef";

std::string hex(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xf];
  }
  return out;
}

using Mac = std::array<unsigned char, 32>;

Mac hmac(std::string_view key, std::string_view data) {
  Mac out{};
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                out.size(), &size) == nullptr ||
      size != out.size()) {
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  }
  return out;
}

std::string_view view(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

// SigV4's URI encoding: unreserved characters as they are, every other byte
// %XX in upper case (and '/' kept when `keep_slash`).
std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kUpper[c >> 4];
      out += kUpper[c & 0xf];
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded; a '%' not followed by two hex digits stays as it is.
std::string uri_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// The path with "." and ".." segments resolved and empty segments (repeated
// slashes) dropped; a trailing slash stays.
std::string normalize(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing = false;
  std::size_t at = 0;
  while (at <= path.size()) {
    const std::size_t end = std::min(path.find('/', at), path.size());
    const std::string_view segment = path.substr(at, end - at);
    trailing = segment.empty() || segment == "." || segment == "..";
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    at = end + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (trailing && !segments.empty()) out += '/';
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t at = 0;
  while (at <= query.size() && !query.empty()) {
    const std::size_t end = std::min(query.find('&', at), query.size());
    const std::string_view piece = query.substr(at, end - at);
    if (!piece.empty()) {
      const std::size_t eq = piece.find('=');
      const std::string_view key = piece.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
      pairs.emplace_back(uri_encode(uri_decode(key), false), uri_encode(uri_decode(value), false));
    }
    at = end + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += '&';
    out += key + '=' + value;
  }
  return out;
}

// A header value as SigV4 signs it: trimmed, each run of whitespace (folded
// lines included) one space.
std::string canonical_value(std::string_view value) {
  std::string out;
  bool space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// "20150830T123600Z" and "20150830".
std::pair<std::string, std::string> amz_times(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return {stamp, std::string(stamp, 8)};
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char digest[32];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  }
  return hex(digest, size);
}

Signature sign(const Request& request, const Credentials& credentials,
               const SigningOptions& options) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    throw std::invalid_argument("AWS signing: no credentials (access key id and secret key)");
  }
  if (options.region.empty()) throw std::invalid_argument("AWS signing: no region");
  if (options.service.empty()) throw std::invalid_argument("AWS signing: no service");
  const auto [amz_date, date] = amz_times(options.time);
  const std::string payload_hash = sha256_hex(request.body);

  Signature out;
  // The headers signed: the request's (those SigV4 adds are replaced by
  // ours), by lower-case name, repeated names' values joined with ','.
  std::map<std::string, std::string> canonical;
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    const std::string key = lower(trim(name));
    if (key == "x-amz-date" || key == "authorization" || key == "x-amz-security-token" ||
        key == "x-amz-content-sha256") {
      continue;
    }
    has_host = has_host || key == "host";
    auto [it, fresh] = canonical.try_emplace(key, canonical_value(value));
    if (!fresh) it->second += "," + canonical_value(value);
  }
  if (!has_host) throw std::invalid_argument("AWS signing: the request has no Host header");
  out.headers.emplace_back("X-Amz-Date", amz_date);
  canonical["x-amz-date"] = amz_date;
  if (!credentials.session_token.empty()) {
    out.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
    if (options.sign_session_token) canonical["x-amz-security-token"] = credentials.session_token;
  }
  if (options.content_sha256_header) {
    out.headers.emplace_back("X-Amz-Content-Sha256", payload_hash);
    canonical["x-amz-content-sha256"] = payload_hash;
  }
  std::string header_lines;
  std::string signed_headers;
  for (const auto& [name, value] : canonical) {
    header_lines += name + ':' + value + '\n';
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }

  const std::string path = options.normalize_path ? normalize(request.path) : request.path;
  out.canonical_request = request.method + '\n' + uri_encode(path, true) + '\n' +
                          canonical_query(request.query) + '\n' + header_lines + '\n' +
                          signed_headers + '\n' + payload_hash;
  const std::string scope = date + '/' + options.region + '/' + options.service + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + '\n' + amz_date + '\n' + scope + '\n' +
                       sha256_hex(out.canonical_request);
  const Mac k_date = hmac("AWS4" + credentials.secret_access_key, date);
  const Mac k_region = hmac(view(k_date), options.region);
  const Mac k_service = hmac(view(k_region), options.service);
  const Mac k_signing = hmac(view(k_service), "aws4_request");
  const Mac signature = hmac(view(k_signing), out.string_to_sign);
  out.signature = hex(signature.data(), signature.size());
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + '/' +
                      scope + ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  out.headers.emplace_back("Authorization", out.authorization);
  return out;
}

Credentials parse_credentials_file(std::string_view text, const std::string& profile,
                                   const std::string& origin) {
  Credentials found;
  bool in_profile = false, seen_profile = false;
  int line_number = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = trim(text.substr(at, end - at));
    at = end + 1;
    ++line_number;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const std::string where = origin + ":" + std::to_string(line_number);
    if (line[0] == '[') {
      if (line.back() != ']') throw std::runtime_error(where + ": a section without its ']'");
      in_profile = trim(std::string_view(line).substr(1, line.size() - 2)) == profile;
      seen_profile = seen_profile || in_profile;
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) {
      throw std::runtime_error(where + ": expected 'key = value', found '" + line + "'");
    }
    if (!in_profile) continue;
    const std::string key = lower(trim(std::string_view(line).substr(0, eq)));
    const std::string value = trim(std::string_view(line).substr(eq + 1));
    if (key == "aws_access_key_id") found.access_key_id = value;
    if (key == "aws_secret_access_key") found.secret_access_key = value;
    if (key == "aws_session_token") found.session_token = value;
  }
  if (!seen_profile) {
    throw std::runtime_error(origin + ": no profile [" + profile + "]");
  }
  if (found.access_key_id.empty() || found.secret_access_key.empty()) {
    throw std::runtime_error(
        origin + ": profile [" + profile + "] lacks " +
        (found.access_key_id.empty() ? "aws_access_key_id" : "aws_secret_access_key"));
  }
  found.origin = origin + " [" + profile + "]";
  return found;
}

Credentials find_credentials(const std::string& profile) {
  const auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  const std::string key = env("AWS_ACCESS_KEY_ID");
  const std::string secret = env("AWS_SECRET_ACCESS_KEY");
  if (!key.empty() || !secret.empty()) {
    if (key.empty() || secret.empty()) {
      throw std::runtime_error(std::string("AWS credentials: ") +
                               (key.empty() ? "AWS_SECRET_ACCESS_KEY is set but not "
                                              "AWS_ACCESS_KEY_ID"
                                            : "AWS_ACCESS_KEY_ID is set but not "
                                              "AWS_SECRET_ACCESS_KEY"));
    }
    return {key, secret, env("AWS_SESSION_TOKEN"), "environment"};
  }
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty()) {
    const std::string home = env("HOME");
    if (home.empty()) {
      throw std::runtime_error(
          "AWS credentials: none in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), "
          "and no HOME to find ~/.aws/credentials");
    }
    file = home + "/.aws/credentials";
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw std::runtime_error(
        "AWS credentials: none in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), "
        "and '" +
        file + "' cannot be read");
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::string name = profile;
  if (name.empty()) name = env("AWS_PROFILE");
  if (name.empty()) name = "default";
  return parse_credentials_file(text, name, file);
}

}  // namespace hydra::net::aws
