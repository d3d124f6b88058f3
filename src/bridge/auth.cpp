#include "hydra/bridge/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "hydra/core/error.hpp"

namespace hydra::bridge {

std::string_view role_name(Role role) noexcept {
  switch (role) {
    case Role::viewer: return "viewer";
    case Role::submitter: return "submitter";
    case Role::admin: return "admin";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view name) noexcept {
  if (name == "viewer") return Role::viewer;
  if (name == "submitter") return Role::submitter;
  if (name == "admin") return Role::admin;
  return std::nullopt;
}

namespace detail {

// OpenSSL's base64, with the URL alphabet ('-' '_' for '+' '/') and no
// padding (RFC 4648 section 5, as JWTs write it).
std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// Either alphabet, padded or not.
std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string in(text);
  for (char& c : in) c = c == '-' ? '+' : c == '_' ? '/' : c;
  const std::size_t padding = (4 - in.size() % 4) % 4;
  in.append(padding, '=');
  if (in.empty()) return std::string();
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);  // it counts the padding as bytes
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace detail

namespace {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &length);
  return {reinterpret_cast<const char*>(mac.data()), length};
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool is_hex_sha256(std::string_view s) {
  if (s.size() != 64) return false;
  for (const char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

ApiKey parse_api_key(std::string_view entry) {
  const auto fail = [&](std::string_view why) {
    throw ConfigError("bridge: api_keys entry '" + std::string(entry.substr(0, 80)) +
                      "': " + std::string(why) +
                      " (expected <role>:<tenant>:<sha256 hex of the key>, role viewer, "
                      "submitter or admin)");
  };
  const auto first = entry.find(':');
  const auto last = entry.rfind(':');
  if (first == std::string_view::npos || first == last) fail("not three parts");
  ApiKey key;
  const auto role = parse_role(entry.substr(0, first));
  if (!role) fail("unknown role '" + std::string(entry.substr(0, first)) + "'");
  key.role = *role;
  key.tenant = std::string(entry.substr(first + 1, last - first - 1));
  if (key.tenant.empty()) fail("empty tenant");
  if (key.tenant == "*" && key.role != Role::admin) fail("only an admin may have tenant '*'");
  std::string hex(entry.substr(last + 1));
  if (!is_hex_sha256(hex)) fail("the digest is not 64 hex digits");
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  key.sha256_hex = std::move(hex);
  return key;
}

Authenticator::Authenticator(Credentials credentials, std::string bridge_tenant)
    : credentials_(std::move(credentials)), tenant_(std::move(bridge_tenant)) {}

Authenticator::Result Authenticator::authenticate(std::string_view token,
                                                  std::chrono::system_clock::time_point now) const {
  if (credentials_.open()) return {Identity{Role::admin, tenant_, "anonymous", std::nullopt}, {}};
  if (token.empty()) return {std::nullopt, "no token"};
  if (token.size() > 8192) return {std::nullopt, "token too long"};
  // A JWT has two dots; an API key is opaque.
  if (!credentials_.jwt_secret.empty() && std::count(token.begin(), token.end(), '.') == 2) {
    return from_jwt(token, now);
  }
  const std::string digest = detail::sha256_hex(token);
  // Every key is compared, whatever matched, so that the time taken does
  // not tell which keys exist.
  const ApiKey* found = nullptr;
  for (const ApiKey& key : credentials_.api_keys) {
    if (equal_constant_time(key.sha256_hex, digest) && found == nullptr) found = &key;
  }
  if (found == nullptr) return {std::nullopt, "unknown API key"};
  return {
      Identity{found->role, found->tenant, "key:" + found->sha256_hex.substr(0, 12), std::nullopt},
      {}};
}

Authenticator::Result Authenticator::from_jwt(std::string_view token,
                                              std::chrono::system_clock::time_point now) const {
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  const std::string_view signed_part = token.substr(0, dot2);
  const auto signature = detail::base64url_decode(token.substr(dot2 + 1));
  if (!signature) return {std::nullopt, "malformed token"};
  const std::string expected = hmac_sha256(credentials_.jwt_secret, signed_part);
  if (!equal_constant_time(expected, *signature)) return {std::nullopt, "bad signature"};
  const auto header = detail::base64url_decode(token.substr(0, dot1));
  const auto payload = detail::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !payload) return {std::nullopt, "malformed token"};
  const auto h = nlohmann::json::parse(*header, nullptr, false);
  const auto p = nlohmann::json::parse(*payload, nullptr, false);
  if (!h.is_object() || !p.is_object()) return {std::nullopt, "malformed token"};
  // The signature checked above was HS256's: a token that names another
  // algorithm (none, RS256) is refused rather than reinterpreted.
  if (h.value("alg", std::string()) != "HS256") return {std::nullopt, "algorithm is not HS256"};
  if (!p.contains("exp") || !p["exp"].is_number()) return {std::nullopt, "no exp"};
  const auto exp =
      std::chrono::system_clock::time_point(std::chrono::seconds(p["exp"].get<std::int64_t>()));
  if (now >= exp) return {std::nullopt, "expired"};
  const auto role = parse_role(p.value("role", std::string()));
  if (!role) return {std::nullopt, "no valid role"};
  std::string tenant = p.value("tenant", std::string());
  if (tenant.empty() || (tenant == "*" && *role != Role::admin)) {
    return {std::nullopt, "no valid tenant"};
  }
  std::string subject = p.value("sub", std::string());
  if (subject.empty()) subject = "token";
  return {Identity{*role, std::move(tenant), "jwt:" + subject.substr(0, 64), exp}, {}};
}

std::string make_hs256_token(std::string_view secret, std::string_view subject, Role role,
                             std::string_view tenant,
                             std::chrono::system_clock::time_point expires) {
  const nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  const nlohmann::json payload = {
      {"sub", subject},
      {"role", role_name(role)},
      {"tenant", tenant},
      {"exp",
       std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count()}};
  std::string out =
      detail::base64url_encode(header.dump()) + "." + detail::base64url_encode(payload.dump());
  out += "." + detail::base64url_encode(hmac_sha256(secret, out));
  return out;
}

}  // namespace hydra::bridge
