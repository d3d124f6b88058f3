// AWS Signature Version 4 (header signing), for the `cloudwatch` destination:
// the canonical request, the string to sign, the signature and the headers
// to add, as AWS documents them ("Create a signed AWS API request"), checked
// against AWS's published signing test suite (tests/net/sigv4_test.cpp).
// And the credentials, from the environment or the shared credentials file;
// never from an instance metadata server.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra::net::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term credentials
  // Where they came from, for messages: "environment", "/home/ada/.aws/credentials [default]".
  std::string origin;
};

// A request as it will be sent.
struct Request {
  std::string method;                                        // "POST"
  std::string path = "/";                                    // as sent, before any '?'
  std::string query;                                         // as sent, after '?' (may be empty)
  std::vector<std::pair<std::string, std::string>> headers;  // as sent; must include Host
  std::string_view body;
};

struct SigningOptions {
  std::string region;   // "eu-west-1"
  std::string service;  // "logs"
  std::chrono::system_clock::time_point time;
  // Remove "." and ".." segments and repeated slashes from the path before
  // it is canonicalised (every service but S3).
  bool normalize_path = true;
  // Add and sign X-Amz-Content-Sha256 (S3 wants it; others accept it).
  bool content_sha256_header = false;
  // Sign X-Amz-Security-Token (true), or add it after signing (false).
  bool sign_session_token = true;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // 64 lowercase hex digits
  std::string authorization;  // the Authorization header's value
  // The headers to add to the request, in this order: X-Amz-Date, then
  // X-Amz-Security-Token and X-Amz-Content-Sha256 when they apply, then
  // Authorization.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Signs `request`. Throws std::invalid_argument for a request without a Host
// header, or missing credentials, region or service, naming what is missing.
Signature sign(const Request& request, const Credentials& credentials,
               const SigningOptions& options);

// The SHA-256 of `data` in lowercase hex.
std::string sha256_hex(std::string_view data);

// Credentials as the AWS SDKs find them, without the metadata server:
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN) when
// set; else the profile `profile` (empty: $AWS_PROFILE, else "default") of
// the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials). Throws std::runtime_error saying where it looked and
// what is missing: the file and line of a malformed entry, a profile not in
// the file, a profile without both keys.
Credentials find_credentials(const std::string& profile = {});

// Parses a shared credentials file's text (INI: [profile] sections of
// key = value, '#' and ';' comments) for `profile`; `origin` names the file
// in errors. Throws std::runtime_error as find_credentials() does.
Credentials parse_credentials_file(std::string_view text, const std::string& profile,
                                   const std::string& origin);

}  // namespace hydra::net::aws
