// Ed25519 signatures for plugin indexes (hydra/plugin/index.hpp): the keys a
// publisher signs with, the keys a user trusts, and the detached signature
// file. Keys are PEM files as OpenSSL writes them:
//
//   openssl genpkey -algorithm ed25519 -out publisher.pem     (keep secret)
//   openssl pkey -in publisher.pem -pubout -out publisher.pub.pem
//
// A key is named by its key id: the first 16 hex digits of the SHA-256 of
// its raw 32-byte public key. Errors are PluginErrors naming the file and
// the key id. Part of hydra::plugin (docs/plugin-index.md).
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::plugin {

// A public key someone trusts (or a private key's public half).
struct PublicKey {
  std::string key_id;            // 16 lowercase hex digits
  std::string raw;               // the 32 bytes
  std::filesystem::path origin;  // the file it was read from
};

// Reads an Ed25519 public key, or the public half of a private key, from a
// PEM file. Throws PluginError when the file cannot be read or holds no
// Ed25519 key.
PublicKey read_public_key(const std::filesystem::path& pem);

// $XDG_CONFIG_HOME/hydra/trusted-keys, else $HOME/.config/hydra/trusted-keys.
std::filesystem::path trusted_key_dir();

// The keys in `extra` (read as read_public_key does) and every *.pem in
// trusted_key_dir() (when it exists), without repeats.
std::vector<PublicKey> trusted_keys(std::span<const std::filesystem::path> extra = {});

// Copies the public key in `pem` to trusted_key_dir() as <key id>.pem and
// returns it (with the copy as its origin). Only the public half of a
// private key is written.
PublicKey trust_key(const std::filesystem::path& pem);

// The detached signature of `data` with the Ed25519 private key in `pem`,
// as the text of a .sig file:
//   {"algorithm": "ed25519", "key_id": "...", "signature": "<base64>"}
std::string sign_detached(std::string_view data, const std::filesystem::path& pem);

// Checks the .sig text `signature` over `data` with the trusted key whose id
// it names and returns that key. `what` names the signed file in errors
// ("index '/srv/index.json'").
// Throws PluginError when the .sig is malformed, names a key not in
// `trusted` (listing the trusted ids), or does not verify with it.
PublicKey verify_detached(std::string_view data, std::string_view signature,
                          std::span<const PublicKey> trusted, std::string_view what);

}  // namespace hydra::plugin
