// type = "audit" in configuration files: the protect module's chain, made
// when the logger is built, kept across a reload.
#include <gtest/gtest.h>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <nlohmann/json.hpp>
#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
#include <hydra/protect/audit_verify.hpp>
#endif

#include "config/config_test_util.hpp"

namespace {

using hydra::test::TempDir;

#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
const std::string kKey = "key-of-the-audit-config-test-0123";

std::string audit_toml(const TempDir& dir, const std::string& level) {
  return "[layers.AUDIT]\nlevel = \"" + level +
         "\"\n[[layers.AUDIT.destinations]]\ntype = \"audit\"\npath = \"" + dir.file("audit.log") +
         "\"\nkey_env = \"TEST_AUDIT_KEY\"\n";
}

TEST(AuditConfig, AnAuditDestinationWritesAVerifiableChainAndSurvivesAReload) {
  TempDir dir;
  const hydra::Env env = hydra::env_from_map({{"TEST_AUDIT_KEY", kKey}});
  hydra::test::write_file(dir.file("c.toml"), audit_toml(dir, "info"));
  const hydra::LoggerConfig cfg = hydra::load_config(dir.file("c.toml"), env);
  // Loading (and explaining) touches nothing: the sink is made with the logger.
  EXPECT_FALSE(std::filesystem::exists(dir.file("audit.log")));
  const auto json = nlohmann::json::parse(hydra::config_to_json(cfg));
  EXPECT_EQ(json["layers"]["AUDIT"]["destinations"][0]["type"], "audit");
  ::setenv("TEST_AUDIT_KEY", kKey.c_str(), 1);
  {
    hydra::Logger log(cfg);
    log.audit("first {n}", 1);
    // The same destination again: the live sink is kept (a second one could
    // not take the chain's lock).
    log.reconfigure(hydra::load_config(dir.file("c.toml"), env));
    log.audit("second {n}", 2);
    log.flush();
  }
  ::unsetenv("TEST_AUDIT_KEY");
  const std::vector<std::string> files = {dir.file("audit.log")};
  hydra::protect::AuditVerifyOptions v;
  v.checkpoint = dir.file("audit.log.checkpoint");
  const auto result = hydra::protect::verify_audit_files(files, kKey, v);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 2u);
  const std::string text = hydra::test::read_file(dir.file("audit.log"));
  EXPECT_NE(text.find("\"message\":\"first 1\""), std::string::npos) << text;  // JSON payloads
}

TEST(AuditConfig, AnAuditDestinationWithoutAKeyIsAnError) {
  TempDir dir;
  const std::string e = hydra::test::load_error(
      dir, "c.toml",
      "[[layers.AUDIT.destinations]]\ntype = \"audit\"\npath = \"" + dir.file("a.log") + "\"\n");
  hydra::test::expect_mentions(
      e, {"c.toml", "layers.AUDIT.destinations[0]", "key_file", "key_env", "unsigned"});
}
// An audit chain keeps 1 to 100000 rotated files (kMaxBackupCount); it took
// up to 2147483647, and a rotation then tried every number.
TEST(AuditConfig, BackupCountOutOfRangeNamesFileLineAndKey) {
  TempDir dir;
  for (const std::string count : {"0", "100001", "2147483647"}) {
    hydra::test::expect_mentions(hydra::test::load_error(dir, "b.toml",
                                                         "[[layers.AUDIT.destinations]]\n"
                                                         "type = \"audit\"\n"
                                                         "path = \"audit.log\"\n"
                                                         "key_env = \"TEST_AUDIT_KEY\"\n"
                                                         "backup_count = " +
                                                             count + "\n"),
                                 {"b.toml:5", "layers.AUDIT.destinations[0].backup_count", count,
                                  "out of range (valid: 1 to 100000)"});
  }
  hydra::test::expect_mentions(
      hydra::test::load_error(dir, "b.yaml",
                              "layers:\n  AUDIT:\n    destinations:\n"
                              "      - type: audit\n        path: audit.log\n"
                              "        key_env: TEST_AUDIT_KEY\n"
                              "        max_size: 1MB\n        backup_count: 100001\n"),
      {"b.yaml:8", "layers.AUDIT.destinations[0].backup_count", "100001",
       "out of range (valid: 1 to 100000)"});
  const hydra::LoggerConfig ok =
      hydra::test::load_text(dir, "ok.toml",
                             "[[layers.AUDIT.destinations]]\ntype = \"audit\"\n"
                             "path = \"audit.log\"\nkey_env = \"TEST_AUDIT_KEY\"\n"
                             "backup_count = 100000\n");
  EXPECT_EQ(ok.layers.at("AUDIT").destinations.size(), 1u);
}
#else
TEST(AuditConfig, NeedsTheProtectModule) {
  TempDir dir;
  const std::string e = hydra::test::load_error(
      dir, "c.toml", "[[layers.AUDIT.destinations]]\ntype = \"audit\"\npath = \"a.log\"\n");
  hydra::test::expect_mentions(e, {"protect module"});
}
#endif

}  // namespace
