// Who a bridge client is: API keys (kept as their SHA-256, compared in
// constant time) and HS256 tokens (JWT with sub, role, tenant, exp), each
// giving a role and a tenant. A bridge with neither runs open (every client
// an admin of the bridge's tenant), which it allows only on loopback.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::bridge {

enum class Role : std::uint8_t {
  viewer,     // subscribes
  submitter,  // submits
  admin,      // both, any tenant
};
std::string_view role_name(Role role) noexcept;
std::optional<Role> parse_role(std::string_view name) noexcept;

struct Identity {
  Role role = Role::viewer;
  std::string tenant;   // "*": any (admins only)
  std::string subject;  // the key's or token's name, for rate limits and records
  std::optional<std::chrono::system_clock::time_point> expires;  // a token's exp
  bool can_view() const noexcept { return role != Role::submitter; }
  bool can_submit() const noexcept { return role != Role::viewer; }
  bool sees_tenant(std::string_view t) const noexcept { return tenant == "*" || tenant == t; }
};

struct ApiKey {
  std::string sha256_hex;  // of the key, lower-case hex
  Role role = Role::viewer;
  std::string tenant;
};

// "<role>:<tenant>:<sha256 hex>", as the `api_keys` option writes them.
// Throws ConfigError naming the entry and what is wrong.
ApiKey parse_api_key(std::string_view entry);

struct Credentials {
  std::vector<ApiKey> api_keys;
  std::string jwt_secret;  // HS256; empty: no tokens
  bool open() const noexcept { return api_keys.empty() && jwt_secret.empty(); }
};

class Authenticator {
 public:
  Authenticator(Credentials credentials, std::string bridge_tenant);

  // The identity a token gives, or why not ("no token", "unknown API key",
  // "bad signature", "expired", ...). An open bridge takes anything.
  struct Result {
    std::optional<Identity> identity;
    std::string reason;
  };
  Result authenticate(std::string_view token, std::chrono::system_clock::time_point now) const;
  bool open() const noexcept { return credentials_.open(); }

 private:
  Result from_jwt(std::string_view token, std::chrono::system_clock::time_point now) const;
  Credentials credentials_;
  std::string tenant_;
};

// An HS256 token, as an identity provider makes them (for tests and tools).
std::string make_hs256_token(std::string_view secret, std::string_view subject, Role role,
                             std::string_view tenant,
                             std::chrono::system_clock::time_point expires);

namespace detail {
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
std::string sha256_hex(std::string_view bytes);
}  // namespace detail

}  // namespace hydra::bridge
