// The signed plugin index: building one over real plugin files, signing it
// with a key made here, and what open_index() and install refuse (an
// unsigned index, a wrong key, a tampered entry or file), through the
// library and through the real `hydra plugin` command. Keys are made with
// the OpenSSL API; everything lives under $HYDRA_TEST_TMP.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <hydra/plugin/index.hpp>
#include <hydra/plugin/installed.hpp>
#include <hydra/plugin/loader.hpp>
#include <hydra/plugin/signature.hpp>
#include <nlohmann/json.hpp>

#include "support/https_files.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using hydra::plugin::PluginError;
using hydra::test::read_file;
using hydra::test::TempDir;
using hydra::test::write_file;

// A new Ed25519 key pair written as <stem>.pem (private) and <stem>.pub.pem.
struct KeyPair {
  fs::path private_pem;
  fs::path public_pem;
  std::string key_id;
};

KeyPair make_key(const fs::path& dir, const std::string& stem) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
  EXPECT_NE(key, nullptr);
  const auto write_pem = [&](const fs::path& path, bool with_private) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    const int ok = with_private ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr,
                                                           0, nullptr, nullptr)
                                : PEM_write_bio_PUBKEY(bio.get(), key.get());
    EXPECT_EQ(ok, 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    write_file(path, std::string(data, static_cast<std::size_t>(size)));
  };
  KeyPair pair{dir / (stem + ".pem"), dir / (stem + ".pub.pem"), {}};
  write_pem(pair.private_pem, true);
  write_pem(pair.public_pem, false);
  // The key id by its definition: the SHA-256 of the raw public key, 16 hex digits.
  unsigned char raw[32];
  std::size_t raw_size = sizeof raw;
  EXPECT_EQ(EVP_PKEY_get_raw_public_key(key.get(), raw, &raw_size), 1);
  unsigned char digest[32];
  EVP_Digest(raw, raw_size, digest, nullptr, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    pair.key_id += kHex[digest[i] >> 4];
    pair.key_id += kHex[digest[i] & 0xf];
  }
  return pair;
}

// Sets environment variables for one test (the hydra processes it starts
// inherit them) and restores them after.
class ScopedEnv {
 public:
  void set(const char* name, const std::string& value) {
    remember(name);
    ::setenv(name, value.c_str(), 1);
  }
  void unset(const char* name) {
    remember(name);
    ::unsetenv(name);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  void remember(const char* name) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A temporary publisher and user: plugins/ holds copies of the fixture
// plugins (alpha.so, beta.so), a key pair signs, the user's data and
// configuration directories are empty.
class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(plugins_);
    for (const char* name : {"alpha.so", "beta.so"}) {
      fs::copy_file(fs::path(HYDRA_INDEX_FIXTURES) / name, plugins_ / name);
    }
    env_.set("XDG_DATA_HOME", dir_.file("data"));
    env_.set("XDG_CONFIG_HOME", dir_.file("config"));
    env_.unset("HYDRA_PLUGIN_INDEX");
    env_.unset("HYDRA_PLUGIN_PATH");
  }

  // An index of plugins/, signed with `key`, as index.json.
  fs::path signed_index(const KeyPair& key) {
    hydra::plugin::IndexBuildOptions options;
    options.publisher = "hydra-logger";
    options.index_dir = plugins_;
    hydra::plugin::write_index(index_, hydra::plugin::build_index(plugins_, options));
    EXPECT_EQ(hydra::plugin::sign_index(index_, key.private_pem), key.key_id);
    return index_;
  }

  std::vector<hydra::plugin::PublicKey> trust(const KeyPair& key) {
    return {hydra::plugin::read_public_key(key.public_pem)};
  }

  // plugins/ served over https by a server of its own CA, which download_
  // trusts.
  const hydra::test::HttpsFiles& serve_plugins() {
    server_ = std::make_unique<hydra::test::HttpsFiles>(plugins_, dir_.path() / "server");
    download_.ca_file = server_->ca_file();
    return *server_;
  }

  static std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const PluginError& e) {
      return e.what();
    }
    return "";
  }

  TempDir dir_;
  ScopedEnv env_;
  fs::path plugins_ = dir_.path() / "plugins";
  fs::path index_ = plugins_ / "index.json";
  fs::path installed_ = dir_.path() / "data" / "hydra" / "plugins";
  std::unique_ptr<hydra::test::HttpsFiles> server_;
  hydra::plugin::DownloadOptions download_;
};

TEST_F(IndexTest, BuildListsEachPluginFileAndSignStampsTheKeyId) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  signed_index(key);
  const auto opened = hydra::plugin::open_index(index_, trust(key), false);
  ASSERT_TRUE(opened.signer.has_value());
  EXPECT_EQ(opened.signer->key_id, key.key_id);
  EXPECT_EQ(opened.problem, "");
  ASSERT_EQ(opened.index.plugins.size(), 2u);
  const auto& alpha = opened.index.plugins[0];
  EXPECT_EQ(alpha.name, "alpha");
  EXPECT_EQ(alpha.version, "0.3.1");
  EXPECT_EQ(alpha.description, "Alpha: a filter that keeps everything");
  EXPECT_EQ(alpha.kinds, std::vector<std::string>{"filter:keep_all"});
  EXPECT_EQ(alpha.abi, "1.2");
  EXPECT_EQ(alpha.sha256, hydra::plugin::sha256_file(plugins_ / "alpha.so"));
  EXPECT_EQ(alpha.location, "alpha.so");
  EXPECT_EQ(alpha.publisher, "hydra-logger");
  EXPECT_EQ(alpha.key_id, key.key_id);
  const auto& beta = opened.index.plugins[1];
  EXPECT_EQ(beta.kinds, (std::vector<std::string>{"sink:beta_sink", "formatter:beta_format"}));
  // The signature file: the documented JSON over the exact bytes of the index.
  const auto sig = nlohmann::json::parse(read_file(index_.string() + ".sig"));
  EXPECT_EQ(sig["algorithm"], "ed25519");
  EXPECT_EQ(sig["key_id"], key.key_id);
  EXPECT_EQ(sig["signature"].get<std::string>().size(), 88u);  // 64 bytes in base64
}

// An index and its plugins served over https (a real TLS server on
// 127.0.0.1 with a CA made for the test): the index and its signature are
// fetched and verified, the plugin downloaded, checked and installed.
TEST_F(IndexTest, AnIndexAndItsPluginsAreInstalledFromAnHttpsServer) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  signed_index(key);
  const hydra::test::HttpsFiles& server = serve_plugins();
  ASSERT_TRUE(server.ok()) << server.errors();
  const std::string url = server.url("/index.json");

  const auto opened = hydra::plugin::open_index(url, trust(key), false, download_);
  ASSERT_TRUE(opened.signer.has_value());
  EXPECT_EQ(opened.signer->key_id, key.key_id);
  EXPECT_EQ(opened.location, url);
  EXPECT_EQ(hydra::plugin::entry_location(opened, *opened.index.find("alpha")),
            server.url("/alpha.so"));
  const auto installed = hydra::plugin::install_plugin(opened, "alpha", installed_, download_);
  EXPECT_EQ(installed.source, url);
  EXPECT_EQ(installed.key_id, key.key_id);
  EXPECT_EQ(read_file(installed_ / "alpha.so"), read_file(plugins_ / "alpha.so"));
  EXPECT_FALSE(fs::exists(installed_ / "alpha.so.download"));
  EXPECT_EQ(read_file(server.request_log()),
            "GET /index.json\nGET /index.json.sig\nGET /alpha.so\n");
}

TEST_F(IndexTest, AnAlteredDownloadIsRefusedAndNothingIsInstalled) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  signed_index(key);
  const std::string expected = hydra::plugin::sha256_file(plugins_ / "alpha.so");
  // A new file, not the old one truncated: building the index loaded the
  // old one into this process, and its mapped pages must stay valid.
  fs::remove(plugins_ / "alpha.so");
  write_file(plugins_ / "alpha.so", "not the plugin the index describes");
  const hydra::test::HttpsFiles& server = serve_plugins();
  ASSERT_TRUE(server.ok()) << server.errors();
  const auto opened =
      hydra::plugin::open_index(server.url("/index.json"), trust(key), false, download_);
  const std::string error =
      error_of([&] { hydra::plugin::install_plugin(opened, "alpha", installed_, download_); });
  EXPECT_EQ(error, "plugin 'alpha': '" + server.url("/alpha.so") + "' has SHA-256 " +
                       hydra::plugin::sha256_file(plugins_ / "alpha.so") + ", the index says " +
                       expected + "; the file is not the one the index describes");
  EXPECT_FALSE(fs::exists(installed_ / "alpha.so"));
  EXPECT_FALSE(fs::exists(installed_ / "alpha.so.download"));
  EXPECT_TRUE(hydra::plugin::installed_plugins(installed_).empty());
}

TEST_F(IndexTest, ARemoteIndexWithoutSignatureOrWithAnotherKeyIsRefused) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  const KeyPair other = make_key(dir_.path(), "other");
  signed_index(key);
  const hydra::test::HttpsFiles& server = serve_plugins();
  ASSERT_TRUE(server.ok()) << server.errors();
  const std::string url = server.url("/index.json");
  std::string error =
      error_of([&] { hydra::plugin::open_index(url, trust(other), false, download_); });
  EXPECT_NE(error.find("is signed with key id " + key.key_id + ", which is not a trusted key"),
            std::string::npos)
      << error;
  fs::remove(index_.string() + ".sig");  // now the server answers 404 for it
  error = error_of([&] { hydra::plugin::open_index(url, trust(key), false, download_); });
  EXPECT_EQ(error, "index '" + url + "' is not signed (no '" + url +
                       ".sig'); refusing it (--allow-unsigned uses it anyway)");
  // A server that cannot be trusted is a failure to read the index, never
  // "unsigned": --allow-unsigned does not get past it.
  error = error_of([&] { hydra::plugin::open_index(url, trust(key), true, {}); });
  EXPECT_TRUE(error.starts_with("index '" + url + "': SSL certificate problem")) << error;
}

TEST_F(IndexTest, BaseUrlLocationsAreDownloadedFromThere) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  const hydra::test::HttpsFiles& server = serve_plugins();
  ASSERT_TRUE(server.ok()) << server.errors();
  hydra::plugin::IndexBuildOptions options;
  options.base_url = server.url("/");
  options.index_dir = dir_.path();
  const fs::path local_index = dir_.path() / "index.json";  // a local index naming https files
  hydra::plugin::write_index(local_index, hydra::plugin::build_index(plugins_, options));
  hydra::plugin::sign_index(local_index, key.private_pem);
  const auto opened = hydra::plugin::open_index(local_index, trust(key), false);
  EXPECT_EQ(opened.index.plugins[0].location, server.url("/alpha.so"));
  hydra::plugin::install_plugin(opened, "beta", installed_, download_);
  EXPECT_EQ(read_file(installed_ / "beta.so"), read_file(plugins_ / "beta.so"));
}

TEST_F(IndexTest, AnUnsignedIndexIsRefusedUnlessAllowed) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  signed_index(key);
  fs::remove(index_.string() + ".sig");
  const std::string error = error_of([&] { hydra::plugin::open_index(index_, trust(key), false); });
  EXPECT_EQ(error, "index '" + index_.string() + "' is not signed (no '" + index_.string() +
                       ".sig'); refusing it (--allow-unsigned uses it anyway)");
  const auto opened = hydra::plugin::open_index(index_, trust(key), true);
  EXPECT_FALSE(opened.signer.has_value());
  EXPECT_NE(opened.problem.find("is not signed"), std::string::npos) << opened.problem;
  // Allowed: installed, and recorded as unverified; the digest was still checked.
  const auto installed = hydra::plugin::install_plugin(opened, "alpha", installed_);
  EXPECT_EQ(installed.key_id, "");
  EXPECT_EQ(hydra::plugin::sha256_file(installed_ / "alpha.so"), installed.sha256);
}

TEST_F(IndexTest, AnIndexSignedWithAnUntrustedKeyIsRefused) {
  const KeyPair publisher = make_key(dir_.path(), "publisher");
  const KeyPair other = make_key(dir_.path(), "other");
  signed_index(publisher);
  std::string error = error_of([&] { hydra::plugin::open_index(index_, trust(other), false); });
  EXPECT_NE(error.find("index '" + index_.string() + "' is signed with key id " + publisher.key_id +
                       ", which is not a trusted key (trusted: " + other.key_id + ";"),
            std::string::npos)
      << error;
  error = error_of([&] { hydra::plugin::open_index(index_, {}, false); });
  EXPECT_NE(error.find("(trusted: none;"), std::string::npos) << error;

  // A signature by the publisher's key that claims to be the trusted key's.
  auto sig = nlohmann::json::parse(read_file(index_.string() + ".sig"));
  sig["key_id"] = other.key_id;
  write_file(index_.string() + ".sig", sig.dump());
  error = error_of([&] { hydra::plugin::open_index(index_, trust(other), false); });
  EXPECT_NE(error.find("index '" + index_.string() +
                       "': the signature does not verify with key id " + other.key_id),
            std::string::npos)
      << error;
}

TEST_F(IndexTest, ATamperedEntryBreaksTheSignatureAndItsDigestIsStillChecked) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  signed_index(key);
  // Someone swaps beta's file for alpha's and makes the entry match.
  auto doc = nlohmann::ordered_json::parse(read_file(index_));
  const std::string beta_sha = doc["plugins"][1]["sha256"];
  doc["plugins"][1]["location"] = "alpha.so";
  write_file(index_, doc.dump(2) + "\n");
  std::string error = error_of([&] { hydra::plugin::open_index(index_, trust(key), false); });
  EXPECT_EQ(error, "index '" + index_.string() + "': the signature does not verify with key id " +
                       key.key_id + " ('" + key.public_pem.string() +
                       "'): the file was changed after it was signed, or signed with another " +
                       "key; refusing it (--allow-unsigned uses it anyway)");
  // Even when allowed, the file must be the one the entry describes.
  const auto opened = hydra::plugin::open_index(index_, trust(key), true);
  error = error_of([&] { hydra::plugin::install_plugin(opened, "beta", installed_); });
  const std::string alpha_sha = hydra::plugin::sha256_file(plugins_ / "alpha.so");
  EXPECT_EQ(error, "plugin 'beta': '" + (plugins_ / "alpha.so").string() + "' has SHA-256 " +
                       alpha_sha + ", the index says " + beta_sha +
                       "; the file is not the one the index describes");
  EXPECT_FALSE(fs::exists(installed_ / "beta.so"));
}

TEST_F(IndexTest, AChangedPluginFileIsRefusedNamingBothDigests) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  signed_index(key);
  const std::string expected = hydra::plugin::sha256_file(plugins_ / "alpha.so");
  // A new file in its place (build_index loaded the old one in this process:
  // writing into it would pull the pages from under it).
  write_file(plugins_ / "alpha.new", read_file(plugins_ / "alpha.so") + "tail");
  fs::rename(plugins_ / "alpha.new", plugins_ / "alpha.so");
  const auto opened = hydra::plugin::open_index(index_, trust(key), false);
  const std::string error =
      error_of([&] { hydra::plugin::install_plugin(opened, "alpha", installed_); });
  EXPECT_EQ(error, "plugin 'alpha': '" + (plugins_ / "alpha.so").string() + "' has SHA-256 " +
                       hydra::plugin::sha256_file(plugins_ / "alpha.so") + ", the index says " +
                       expected + "; the file is not the one the index describes");
}

TEST_F(IndexTest, AnEntryOfAnotherKeyIsRefused) {
  const KeyPair key = make_key(dir_.path(), "publisher");
  signed_index(key);
  // Re-signed as is (sign_index would fix the key id): a validly signed
  // index whose entry names another key.
  auto doc = nlohmann::ordered_json::parse(read_file(index_));
  doc["plugins"][0]["key_id"] = "0123456789abcdef";
  const std::string bytes = doc.dump(2) + "\n";
  write_file(index_, bytes);
  write_file(index_.string() + ".sig", hydra::plugin::sign_detached(bytes, key.private_pem));
  const std::string error = error_of([&] { hydra::plugin::open_index(index_, trust(key), false); });
  EXPECT_NE(error.find("index '" + index_.string() +
                       "': plugin 'alpha' names key id '0123456789abcdef', but the index is "
                       "signed with key id " +
                       key.key_id),
            std::string::npos)
      << error;
}

TEST_F(IndexTest, MalformedIndexesNameTheEntryAndField) {
  const auto error_for = [&](const std::string& plugins) {
    return error_of([&] {
      hydra::plugin::parse_index(R"({"hydra_plugin_index": 1, "plugins": [)" + plugins + "]}",
                                 "i.json");
    });
  };
  const std::string sha(64, 'a');
  const auto entry = [&](const std::string& name, const std::string& digest) {
    return R"({"name": ")" + name + R"(", "version": "1", "description": "", "kinds": [],
               "abi": "1.1", "sha256": ")" +
           digest + R"(", "location": "x.so", "publisher": "p", "key_id": ""})";
  };
  EXPECT_EQ(error_for(entry("ok", sha)), "");
  EXPECT_EQ(error_for(entry("../evil", sha)),
            "index 'i.json': plugin #1: name '../evil' is not [a-z0-9_-]+");
  EXPECT_EQ(error_for(entry("ok", "ABC")),
            "index 'i.json': plugin 'ok': sha256 'ABC' is not 64 lowercase hex digits");
  EXPECT_EQ(error_for(entry("ok", sha) + "," + entry("ok", sha)),
            "index 'i.json': plugin 'ok' is listed twice");
  EXPECT_EQ(error_for(R"({"name": "ok"})"), "index 'i.json': plugin 'ok': no \"version\"");
  EXPECT_EQ(error_of([] {
              hydra::plugin::parse_index(R"({"hydra_plugin_index": 2, "plugins": []})", "i.json");
            }),
            "index 'i.json': format 2, this hydra reads format 1");
}

TEST_F(IndexTest, SearchMatchesNameDescriptionAndKinds) {
  hydra::plugin::IndexBuildOptions options;
  options.index_dir = plugins_;
  const auto index = hydra::plugin::build_index(plugins_, options);
  const auto names = [&](const std::string& term) {
    std::vector<std::string> out;
    for (const auto* e : index.search(term)) out.push_back(e->name);
    return out;
  };
  EXPECT_EQ(names("SINK"), std::vector<std::string>{"beta"});
  EXPECT_EQ(names("keeps"), std::vector<std::string>{"alpha"});
  EXPECT_EQ(names("filter:"), std::vector<std::string>{"alpha"});
  EXPECT_EQ(names(""), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(names("nothing"), std::vector<std::string>{});
}

// --- the hydra command ---------------------------------------------------

hydra::test::ProcessResult hydra_plugin(std::vector<std::string> args) {
  args.insert(args.begin(), {HYDRA_CLI, "plugin"});
  return hydra::test::run_process(args, "");
}

// The life of the project's own index, as CI runs it: built over the plugin
// files, signed with a throw-away key, installed from, listed, verified,
// removed.
TEST_F(IndexTest, CommandBuildsSignsInstallsListsVerifiesAndRemoves) {
  const KeyPair key = make_key(dir_.path(), "ci");
  const std::string index = index_.string();

  auto r = hydra_plugin({"index", "build", plugins_.string(), "--publisher", "hydra-logger"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            index + ": 2 plugins (sign it: hydra plugin index sign --key KEY.pem " + index + ")\n");
  r = hydra_plugin({"index", "sign", "--key", key.private_pem.string(), index});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, index + ".sig: signed with key id " + key.key_id + "\n");

  // Not trusted yet: refused, and nothing installed.
  r = hydra_plugin({"install", "alpha", "--index", index});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is signed with key id " + key.key_id +
                       ", which is not a trusted key (trusted: none;"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(installed_ / "alpha.so"));

  r = hydra_plugin({"install", "alpha", "--index", index, "--key", key.public_pem.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "installed alpha 0.3.1 to " + (installed_ / "alpha.so").string() +
                       " (signed by key id " + key.key_id + ")\n");
  EXPECT_EQ(read_file(installed_ / "alpha.so"), read_file(plugins_ / "alpha.so"));

  // Trusted for good, and the index from the environment.
  r = hydra_plugin({"trust", key.public_pem.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(
      fs::exists(dir_.path() / "config" / "hydra" / "trusted-keys" / (key.key_id + ".pem")));
  env_.set("HYDRA_PLUGIN_INDEX", index);
  r = hydra_plugin({"install", "beta"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = hydra_plugin({"search", "sink"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "beta 0.3.1  Beta: a sink that writes nowhere and its formatter "
            "[sink:beta_sink, formatter:beta_format]\n");
  EXPECT_EQ(r.err, "");
  r = hydra_plugin({"info", "alpha"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kinds:       filter:keep_all\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signature:   verified with trusted key " + key.key_id), std::string::npos)
      << r.out;

  const std::string alpha_sha = hydra::plugin::sha256_file(plugins_ / "alpha.so");
  const std::string beta_sha = hydra::plugin::sha256_file(plugins_ / "beta.so");
  r = hydra_plugin({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "alpha  0.3.1  " + alpha_sha + "  key " + key.key_id + "\n" + "beta   0.3.1  " +
                       beta_sha + "  key " + key.key_id + "\n");

  r = hydra_plugin({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok       alpha 0.3.1\nok       beta 0.3.1\n");
  write_file(installed_ / "beta.so", "not the plugin");
  r = hydra_plugin({"verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      r.out.find("CHANGED  beta 0.3.1: '" + (installed_ / "beta.so").string() + "' has SHA-256 "),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(", installed with " + beta_sha), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "hydra plugin verify: 1 of 2 installed plugins changed\n");

  r = hydra_plugin({"remove", "beta"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(installed_ / "beta.so"));
  r = hydra_plugin({"list"});
  EXPECT_EQ(r.out, "alpha  0.3.1  " + alpha_sha + "  key " + key.key_id + "\n");
  r = hydra_plugin({"remove", "beta"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "hydra plugin remove: no plugin 'beta' is installed in '" + installed_.string() +
                       "'\n");
}

TEST_F(IndexTest, CommandInstallsFromAnHttpsIndexWithTheCaItIsGiven) {
  const KeyPair key = make_key(dir_.path(), "ci");
  signed_index(key);
  const hydra::test::HttpsFiles& server = serve_plugins();
  ASSERT_TRUE(server.ok()) << server.errors();
  const std::string url = server.url("/index.json");
  env_.unset("HYDRA_PLUGIN_CA_FILE");

  // Without the test's CA the server is not trusted: refused, nothing installed.
  auto r = hydra_plugin({"install", "alpha", "--index", url, "--key", key.public_pem.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      r.err.starts_with("hydra plugin install: index '" + url + "': SSL certificate problem"))
      << r.err;
  EXPECT_FALSE(fs::exists(installed_ / "alpha.so"));

  r = hydra_plugin({"install", "alpha", "--index", url, "--key", key.public_pem.string(),
                    "--ca-file", server.ca_file().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "installed alpha 0.3.1 to " + (installed_ / "alpha.so").string() +
                       " (signed by key id " + key.key_id + ")\n");
  EXPECT_EQ(read_file(installed_ / "alpha.so"), read_file(plugins_ / "alpha.so"));

  env_.set("HYDRA_PLUGIN_CA_FILE", server.ca_file().string());
  r = hydra_plugin({"search", "sink", "--index", url, "--key", key.public_pem.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("beta 0.3.1  ")) << r.out;
  EXPECT_EQ(r.err, "");

  r = hydra_plugin({"install", "--allow-unsigned", server.url("/beta.so")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "hydra plugin install: '" + server.url("/beta.so") +
                       "' is a URL; plugins are downloaded only through a signed index that "
                       "lists them (--index URL, then the name)\n");
}

TEST_F(IndexTest, CommandRefusesUnsignedIndexesAndFilesUnlessAllowed) {
  const KeyPair key = make_key(dir_.path(), "ci");
  signed_index(key);
  fs::remove(index_.string() + ".sig");
  auto r = hydra_plugin({"install", "alpha", "--index", index_.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "hydra plugin install: index '" + index_.string() + "' is not signed (no '" +
                       index_.string() + ".sig'); refusing it (--allow-unsigned uses it anyway)\n");
  r = hydra_plugin({"install", "alpha", "--index", index_.string(), "--allow-unsigned"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: index '" + index_.string() + "' is not signed"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find(" (unverified)\n"), std::string::npos) << r.out;

  const std::string beta = (plugins_ / "beta.so").string();
  r = hydra_plugin({"install", beta});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "hydra plugin install: '" + beta +
                       "' is a file that no signed index vouches for; refusing it "
                       "(--allow-unsigned installs it anyway)\n");
  r = hydra_plugin({"install", "--allow-unsigned", beta});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = hydra_plugin({"list"});
  EXPECT_NE(r.out.find("beta   0.3.1  " + hydra::plugin::sha256_file(beta) + "  unverified\n"),
            std::string::npos)
      << r.out;
}

TEST_F(IndexTest, CommandUsageErrors) {
  auto r = hydra_plugin({"install"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_TRUE(
      r.err.starts_with("hydra plugin install: missing operand\nusage: hydra plugin install"))
      << r.err;
  r = hydra_plugin({"install", "alpha"});  // no --index, no HYDRA_PLUGIN_INDEX
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "hydra plugin install: which index? give --index FILE|URL or set "
            "HYDRA_PLUGIN_INDEX\n");
  r = hydra_plugin({"index", "sign", "x.json"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_TRUE(r.err.starts_with("hydra plugin index sign: give one --key PRIVATE.pem\n")) << r.err;
  r = hydra_plugin({"list", "--bogus"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_TRUE(r.err.starts_with("hydra plugin list: unknown option '--bogus'\n")) << r.err;
  r = hydra_plugin({"frobnicate"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_TRUE(r.err.starts_with("hydra plugin: unknown subcommand 'frobnicate'")) << r.err;
  r = hydra_plugin({"index", "build", "--base-url", "http://x", plugins_.string()});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_EQ(r.err,
            "hydra plugin index build: option '--base-url': 'http://x' is not an https "
            "URL\n");
}

}  // namespace
