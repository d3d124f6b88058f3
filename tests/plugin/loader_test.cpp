// The loader's accept/refuse matrix through the library (the conformance kit's
// tests run the same files through `hydra plugin check`), and the audit record
// every load writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <hydra/hydra.hpp>
#include <hydra/plugin/loader.hpp>
#include <string>

#include "test_util.hpp"
#if defined(HYDRA_PLUGIN_TEST_WITH_CONFIG)
#include <hydra/config/loader.hpp>
#include <hydra/protect/audit_verify.hpp>
#endif

namespace {

std::string fixture(const std::string& name) {
  // (Appended, not `std::string(...) + "/" + name`: GCC 12 warns falsely
  // (-Warray-bounds) on that chain of operator+.)
  std::string path(HYDRA_PLUGIN_FIXTURES);
  path += '/';
  path += name;
  return path;
}

// The PluginError message of loading `path` into a fresh registry.
std::string refusal(const std::string& path) {
  hydra::plugin::Registry registry;
  try {
    hydra::plugin::load_plugin(path, registry);
  } catch (const hydra::plugin::PluginError& e) {
    return e.what();
  }
  return "";
}

TEST(PluginLoader, AnOlderMinorVersionIsAcceptedAndReadOnlyWithinItsSize) {
  hydra::plugin::Registry registry;
  const auto file = hydra::plugin::load_plugin(fixture("abi_older_minor.so"), registry);
  EXPECT_EQ(file.abi_major, 1);
  EXPECT_EQ(file.abi_minor, 0);
  EXPECT_EQ(file.sha256, hydra::plugin::sha256_file(fixture("abi_older_minor.so")));
  EXPECT_EQ(file.sha256.size(), 64u);
  ASSERT_FALSE(file.types.empty());
  for (const auto& t : file.types) {
    EXPECT_TRUE(registry.has(t.kind, t.name)) << t.name;
    EXPECT_EQ(t.origin, file.path.string());
  }
  // Loading it again is the first load.
  EXPECT_EQ(hydra::plugin::load_plugin(fixture("abi_older_minor.so"), registry).sha256,
            file.sha256);
}

TEST(PluginLoader, EveryRefusalNamesTheFileAndBothVersions) {
  std::string e = refusal(fixture("abi_newer_minor.so"));
  EXPECT_NE(e.find("abi_newer_minor.so"), std::string::npos) << e;
  EXPECT_NE(e.find("built for plugin ABI 1.3, newer than this host's 1.2"), std::string::npos) << e;

  e = refusal(fixture("abi_other_major.so"));
  EXPECT_NE(e.find("abi_other_major.so"), std::string::npos) << e;
  EXPECT_NE(e.find("built for plugin ABI 2."), std::string::npos) << e;
  EXPECT_NE(e.find("this host speaks 1.2: the major versions must match"), std::string::npos) << e;

  e = refusal(fixture("bad_size.so"));
  EXPECT_NE(e.find("bad_size.so"), std::string::npos) << e;
  EXPECT_NE(e.find("descriptor size"), std::string::npos) << e;

  e = refusal(fixture("no_entry.so"));
  EXPECT_NE(e.find("no_entry.so': exports no hydra_plugin_entry() function"), std::string::npos)
      << e;

  hydra::test::TempDir dir;
  hydra::test::write_file(dir.file("corrupt.so"), std::string(512, '\x7f'));
  e = refusal(dir.file("corrupt.so"));
  EXPECT_NE(e.find("corrupt.so': cannot be loaded"), std::string::npos) << e;
  e = refusal(dir.file("missing.so"));
  EXPECT_NE(e.find("missing.so': no such file"), std::string::npos) << e;
}

TEST(PluginLoader, NamesAreLookedUpInThePluginPath) {
  hydra::test::TempDir dir;
  std::filesystem::copy_file(fixture("sdk_extra.so"), dir.file("libmine.so"));
  ::setenv("HYDRA_PLUGIN_PATH", ("/nonexistent:" + dir.path().string()).c_str(), 1);
  EXPECT_EQ(hydra::plugin::find_plugin("mine", "/"), dir.path() / "libmine.so");
  ::unsetenv("HYDRA_PLUGIN_PATH");
  // A path is relative to the configuration's directory.
  EXPECT_EQ(hydra::plugin::find_plugin("./x.so", "/etc/app"),
            std::filesystem::path("/etc/app/./x.so"));
}

#if defined(HYDRA_PLUGIN_TEST_WITH_CONFIG)
TEST(PluginLoader, EveryLoadIsAnAuditRecordInTheAuditChain) {
  hydra::test::TempDir dir;
  const std::string key = "key-of-the-plugin-loader-test-0123";
  hydra::test::write_file(dir.file("c.toml"),
                          "plugins = [\"" + std::string(HYDRA_EXAMPLE_PLUGIN) +
                              "\"]\n[[layers.AUDIT.destinations]]\ntype = \"audit\"\npath = \"" +
                              dir.file("audit.log") + "\"\nkey_env = \"TEST_AUDIT_KEY\"\n");
  ::setenv("TEST_AUDIT_KEY", key.c_str(), 1);
  const hydra::LoggerConfig cfg = hydra::load_config(dir.file("c.toml"));
  ASSERT_EQ(cfg.plugins.size(), 1u);
  EXPECT_EQ(cfg.plugins[0].sha256, hydra::plugin::sha256_file(HYDRA_EXAMPLE_PLUGIN));
  {
    hydra::Logger log(cfg);
    log.flush();
  }
  ::unsetenv("TEST_AUDIT_KEY");
  const std::string chain = hydra::test::read_file(dir.file("audit.log"));
  EXPECT_NE(chain.find("plugin loaded"), std::string::npos) << chain;
  EXPECT_NE(chain.find(cfg.plugins[0].sha256), std::string::npos) << chain;
  EXPECT_NE(chain.find("\"plugin.name\":\"" + cfg.plugins[0].name + "\""), std::string::npos)
      << chain;
  const std::vector<std::string> files = {dir.file("audit.log")};
  hydra::protect::AuditVerifyOptions v;
  v.checkpoint = dir.file("audit.log.checkpoint");
  const auto result = hydra::protect::verify_audit_files(files, key, v);
  EXPECT_TRUE(result.ok()) << result.describe();
}
#endif

}  // namespace
