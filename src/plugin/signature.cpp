#include "hydra/plugin/signature.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "file_util.hpp"
#include "hydra/plugin/loader.hpp"

namespace hydra::plugin {
namespace {

constexpr std::size_t kRawKeySize = 32;
constexpr std::size_t kSignatureSize = 64;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

std::string key_id_of(const std::string& raw) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(raw.data(), raw.size(), digest, &size, EVP_sha256(), nullptr);
  return hex(digest, 8);
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Nothing when `text` is not base64.
std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  const auto padding = static_cast<std::size_t>(std::count(text.end() - 2, text.end(), '='));
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

// The key in a PEM file: a private key if it holds one, else a public key.
Pkey read_pem(const std::filesystem::path& pem, bool want_private) {
  const std::string text = detail::read_whole_file(pem, "key file");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key && !want_private) {
    bio.reset(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    throw PluginError("key file '" + pem.string() + "': no " +
                      (want_private ? "private key" : "public or private key") +
                      " in PEM form (make one with: openssl genpkey -algorithm ed25519 -out " +
                      "key.pem)");
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    throw PluginError("key file '" + pem.string() + "': a " +
                      std::string(OBJ_nid2sn(EVP_PKEY_get_id(key.get()))) +
                      " key, where an Ed25519 key is needed");
  }
  return key;
}

PublicKey public_half(EVP_PKEY* key, const std::filesystem::path& origin) {
  PublicKey out;
  out.raw.resize(kRawKeySize);
  std::size_t size = out.raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(out.raw.data()), &size) !=
          1 ||
      size != kRawKeySize) {
    throw PluginError("key file '" + origin.string() + "': cannot read its public key");
  }
  out.key_id = key_id_of(out.raw);
  out.origin = origin;
  return out;
}

std::string list_ids(std::span<const PublicKey> keys) {
  if (keys.empty()) return "none";
  std::string out;
  for (const auto& key : keys) out += (out.empty() ? "" : ", ") + key.key_id;
  return out;
}

}  // namespace

PublicKey read_public_key(const std::filesystem::path& pem) {
  const Pkey key = read_pem(pem, false);
  return public_half(key.get(), pem);
}

std::filesystem::path trusted_key_dir() {
  if (const char* config = std::getenv("XDG_CONFIG_HOME"); config != nullptr && *config == '/') {
    return std::filesystem::path(config) / "hydra" / "trusted-keys";
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    throw PluginError("cannot find the trusted keys: neither XDG_CONFIG_HOME nor HOME is set");
  }
  return std::filesystem::path(home) / ".config" / "hydra" / "trusted-keys";
}

std::vector<PublicKey> trusted_keys(std::span<const std::filesystem::path> extra) {
  std::vector<PublicKey> keys;
  const auto add = [&](const std::filesystem::path& pem) {
    PublicKey key = read_public_key(pem);
    const bool seen = std::any_of(keys.begin(), keys.end(),
                                  [&](const PublicKey& k) { return k.key_id == key.key_id; });
    if (!seen) keys.push_back(std::move(key));
  };
  for (const auto& pem : extra) add(pem);
  const std::filesystem::path dir = trusted_key_dir();
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".pem") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& pem : files) add(pem);
  return keys;
}

PublicKey trust_key(const std::filesystem::path& pem) {
  PublicKey key = read_public_key(pem);
  const Pkey pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key.raw.data()),
      key.raw.size()));
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!pkey || !bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    throw PluginError("key file '" + pem.string() + "': cannot write its public key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  const std::filesystem::path dir = trusted_key_dir();
  key.origin = dir / (key.key_id + ".pem");
  detail::write_file_atomically(key.origin, std::string_view(data, static_cast<std::size_t>(size)));
  return key;
}

std::string sign_detached(std::string_view data, const std::filesystem::path& pem) {
  const Pkey key = read_pem(pem, true);
  const PublicKey pub = public_half(key.get(), pem);
  const MdCtx ctx(EVP_MD_CTX_new());
  std::string signature(kSignatureSize, '\0');
  std::size_t size = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    throw PluginError("key file '" + pem.string() + "': signing failed");
  }
  signature.resize(size);
  const nlohmann::ordered_json sig = {
      {"algorithm", "ed25519"}, {"key_id", pub.key_id}, {"signature", base64(signature)}};
  return sig.dump(2) + "\n";
}

PublicKey verify_detached(std::string_view data, std::string_view signature,
                          std::span<const PublicKey> trusted, std::string_view what) {
  const std::string where = std::string(what) + ": its signature";
  nlohmann::json sig;
  try {
    sig = nlohmann::json::parse(signature);
  } catch (const nlohmann::json::exception& e) {
    throw PluginError(where + ": not JSON (" + e.what() + ")");
  }
  const auto text = [&](const char* key) -> std::string {
    if (!sig.is_object() || !sig.contains(key) || !sig[key].is_string()) {
      throw PluginError(where + ": no \"" + key + "\" string");
    }
    return sig[key].get<std::string>();
  };
  const std::string algorithm = text("algorithm");
  const std::string key_id = text("key_id");
  const std::string encoded = text("signature");
  if (algorithm != "ed25519") {
    throw PluginError(where + ": algorithm '" + algorithm + "' (only ed25519 is supported)");
  }
  const auto bytes = unbase64(encoded);
  if (!bytes || bytes->size() != kSignatureSize) {
    throw PluginError(where + ": \"signature\" is not 64 bytes of base64");
  }
  const auto key = std::find_if(trusted.begin(), trusted.end(),
                                [&](const PublicKey& k) { return k.key_id == key_id; });
  if (key == trusted.end()) {
    throw PluginError(std::string(what) + " is signed with key id " + key_id +
                      ", which is not a trusted key (trusted: " + list_ids(trusted) +
                      "; trust a key with --key PUB.pem or `hydra plugin trust PUB.pem`)");
  }
  const Pkey pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key->raw.data()),
      key->raw.size()));
  const MdCtx ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(bytes->data()),
                       bytes->size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1) {
    throw PluginError(std::string(what) + ": the signature does not verify with key id " + key_id +
                      " ('" + key->origin.string() +
                      "'): the file was changed after it was signed, or signed with another key");
  }
  return *key;
}

}  // namespace hydra::plugin
