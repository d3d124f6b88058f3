// Downloads over https (hydra/plugin/download.hpp) from a real TLS server on
// 127.0.0.1 (tests/support/https_files.py) with a CA made for the test: the
// body arrives whole, and each refusal names the URL and the reason: a
// server the CA does not vouch for, a host name the certificate does not
// name, plain http (also behind a redirect), an HTTP error status, a body
// over the size limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include <hydra/plugin/download.hpp>
#include <hydra/plugin/loader.hpp>

#include "support/https_files.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using hydra::plugin::DownloadOptions;
using hydra::plugin::PluginError;
using hydra::test::read_file;
using hydra::test::TempDir;
using hydra::test::write_file;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(no error)";
}

class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_);
    // Binary content with every byte value, larger than one TLS record.
    for (int i = 0; i < 70000; ++i) body_ += static_cast<char>(i * 7 % 256);
    write_file(root_ / "blob.bin", body_);
    ASSERT_TRUE(server_.ok()) << server_.errors();
    trusted_.ca_file = server_.ca_file();
  }

  TempDir dir_;
  fs::path root_ = dir_.path() / "www";
  std::string body_;
  hydra::test::HttpsFiles server_{root_, dir_.path() / "server"};
  DownloadOptions trusted_;
};

TEST_F(DownloadTest, FetchesTheWholeBodyFromAServerTheCaVouchesFor) {
  EXPECT_EQ(hydra::plugin::download(server_.url("/blob.bin"), "plugin 'x'", trusted_), body_);
  const fs::path file = dir_.path() / "blob.copy";
  hydra::plugin::download_to_file(server_.url("/blob.bin"), file, "plugin 'x'", trusted_);
  EXPECT_EQ(read_file(file), body_);
}

TEST_F(DownloadTest, AServerTheCaDoesNotVouchForIsRefused) {
  DownloadOptions system_store;  // Debian's CAs: they never signed the test server's certificate
  const std::string url = server_.url("/blob.bin");
  const std::string error =
      error_of([&] { hydra::plugin::download(url, "plugin 'x'", system_store); });
  EXPECT_TRUE(error.starts_with("plugin 'x' '" + url + "': SSL certificate problem")) << error;

  // Nothing of it is left behind when it was bound for a file.
  const fs::path file = dir_.path() / "blob.copy";
  EXPECT_NE(
      error_of([&] { hydra::plugin::download_to_file(url, file, "plugin 'x'", system_store); }),
      "(no error)");
  EXPECT_FALSE(fs::exists(file));
}

TEST_F(DownloadTest, AHostNameTheCertificateDoesNotNameIsRefused) {
  // The certificate names IP 127.0.0.1 only; "localhost" reaches the same
  // server under a name it does not carry.
  const std::string url = "https://localhost:" + std::to_string(server_.port()) + "/blob.bin";
  const std::string error = error_of([&] { hydra::plugin::download(url, "index", trusted_); });
  EXPECT_NE(error.find("index '" + url + "': "), std::string::npos) << error;
  EXPECT_NE(error.find("localhost"), std::string::npos) << error;
  EXPECT_EQ(error.find("(no error)"), std::string::npos);
}

TEST_F(DownloadTest, PlainHttpAndOtherSchemesAreRefusedEvenBehindARedirect) {
  const std::string http = "http://127.0.0.1:" + std::to_string(server_.port()) + "/blob.bin";
  EXPECT_EQ(error_of([&] { hydra::plugin::download(http, "index", trusted_); }),
            "index '" + http + "': only https URLs are downloaded (plain http is refused)");
  EXPECT_EQ(error_of([&] { hydra::plugin::download("ftp://127.0.0.1/x", "index", trusted_); }),
            "index 'ftp://127.0.0.1/x': only https URLs are downloaded");
  // An https URL that redirects to plain http.
  const std::string redirect = server_.url("/redirect-http/blob.bin");
  const std::string error = error_of([&] { hydra::plugin::download(redirect, "index", trusted_); });
  EXPECT_EQ(error, "index '" + redirect + "': redirected to 'http://127.0.0.1:" +
                       std::to_string(server_.port()) + "/blob.bin', which is not https; refused");
}

TEST_F(DownloadTest, AnHttpErrorStatusIsNamed) {
  for (const int status : {404, 403, 500, 503}) {
    const std::string url = server_.url("/status/" + std::to_string(status));
    EXPECT_EQ(error_of([&] { hydra::plugin::download(url, "index", trusted_); }),
              "index '" + url + "': the server answered HTTP " + std::to_string(status) +
                  " (expected 200)");
  }
  const std::string missing = server_.url("/no-such-file.so");
  EXPECT_EQ(error_of([&] { hydra::plugin::download(missing, "plugin 'x'", trusted_); }),
            "plugin 'x' '" + missing + "': the server answered HTTP 404 (expected 200)");
}

TEST_F(DownloadTest, ABodyOverTheLimitIsRefused) {
  DownloadOptions small = trusted_;
  small.max_bytes = 1000;
  const std::string url = server_.url("/blob.bin");
  EXPECT_EQ(error_of([&] { hydra::plugin::download(url, "plugin 'x'", small); }),
            "plugin 'x' '" + url + "': larger than the limit of 1000 bytes; refused");
  small.max_bytes = body_.size();  // exactly the limit is fine
  EXPECT_EQ(hydra::plugin::download(url, "plugin 'x'", small), body_);
}

TEST_F(DownloadTest, TheCaFileMayComeFromTheEnvironment) {
  ::setenv("HYDRA_PLUGIN_CA_FILE", server_.ca_file().c_str(), 1);
  std::string got;
  const std::string error =
      error_of([&] { got = hydra::plugin::download(server_.url("/blob.bin"), "index", {}); });
  ::unsetenv("HYDRA_PLUGIN_CA_FILE");
  EXPECT_EQ(error, "(no error)");
  EXPECT_EQ(got, body_);
}

TEST(ResolveUrlTest, RelativeLocationsResolveAgainstTheIndexDirectory) {
  using hydra::plugin::resolve_url;
  EXPECT_EQ(resolve_url("https://h.example/hydra/index.json", "alpha.so"),
            "https://h.example/hydra/alpha.so");
  EXPECT_EQ(resolve_url("https://h.example/hydra/index.json?v=2#top", "sub/alpha.so"),
            "https://h.example/hydra/sub/alpha.so");
  EXPECT_EQ(resolve_url("https://h.example", "alpha.so"), "https://h.example/alpha.so");
  EXPECT_EQ(resolve_url("https://h.example/index.json", "https://cdn.example/a.so"),
            "https://cdn.example/a.so");
  EXPECT_EQ(error_of([] { resolve_url("https://h.example/index.json", "/usr/lib/a.so"); }),
            "location '/usr/lib/a.so' is a local path, but the index "
            "'https://h.example/index.json' is remote; a remote index names URLs or paths "
            "relative to itself");
  EXPECT_EQ(error_of([] { resolve_url("https://h.example/index.json", "http://h.example/a.so"); }),
            "location 'http://h.example/a.so' is not an https URL; only https is downloaded");
  EXPECT_TRUE(hydra::plugin::is_url("https://x"));
  EXPECT_FALSE(hydra::plugin::is_url("plugins/x.so"));
  EXPECT_FALSE(hydra::plugin::is_url("/a://b"));
}

}  // namespace
