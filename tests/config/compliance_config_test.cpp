// [compliance] in configuration files and HYDRA_LOG_COMPLIANCE: the protect
// module's compliance profiles (docs/protect.md, "Compliance profiles"),
// applied over the rest of the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <string>
#include <vector>
#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
#include <hydra/protect/audit_verify.hpp>
#endif

#include "config/config_test_util.hpp"

namespace {

using hydra::test::expect_mentions;
using hydra::test::load_error;
using hydra::test::load_text;
using hydra::test::read_file;
using hydra::test::TempDir;
using hydra::test::write_file;

#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
const std::string kHashKey = "pseudonym-key-of-the-compliance-config-test";
const std::string kAuditKey = "audit-key-of-the-compliance-config-test";

// A file destination writing just the message.
std::string file_destination(const std::string& layer, const std::string& path,
                             const std::string& extra = "") {
  return "[[layers." + layer + ".destinations]]\ntype = \"file\"\npath = \"" + path +
         "\"\nmessage_format = \"{message}\"\n" + extra;
}

// The [compliance.audit] table of a chain in `dir`, its key in a file.
std::string audit_table(const TempDir& dir, const std::string& extra = "") {
  write_file(dir.file("audit.key"), kAuditKey + "\n");
  return "[compliance.audit]\npath = \"" + dir.file("audit.log") + "\"\nkey_file = \"" +
         dir.file("audit.key") + "\"\n" + extra;
}

hydra::protect::AuditVerifyResult verify_chain(const std::vector<std::string>& files,
                                               const std::string& checkpoint) {
  hydra::protect::AuditVerifyOptions v;
  v.checkpoint = checkpoint;
  return hydra::protect::verify_audit_files(files, kAuditKey, v);
}

// gdpr + pci from a file: the email redacted, the card masked (last four
// kept), the user id pseudonymised with the key from the file, and a
// destination that opted out of protection protected all the same.
TEST(ComplianceConfig, GdprAndPciRedactMaskAndPseudonymiseEverywhere) {
  TempDir dir;
  write_file(dir.file("pseudonym.key"), kHashKey + "\n");
  const std::string clean = dir.file("clean.log"), opted_out = dir.file("opted-out.log");
  const hydra::LoggerConfig config =
      load_text(dir, "c.toml",
                "[compliance]\n"
                "profiles = [\"gdpr\", \"pci\"]\n"
                "hash_key_file = \"" +
                    dir.file("pseudonym.key") + "\"\n" + file_destination("APP", clean) +
                    file_destination("APP", opted_out, "protect = false\n"));
  ASSERT_NE(config.protector, nullptr);
  // pci removes the opt-out.
  EXPECT_EQ(config.layers.at("APP").destinations[1].protect, std::optional<bool>(true));
  {
    hydra::Logger log(config);
    log.info("signup {user_id} mail alice@example.com paid with {card}", "alice",
             "4111 1111 1111 1111");
    log.info("again {user_id}", "alice");
    log.flush();
  }
  for (const auto& path : {clean, opted_out}) {
    const auto lines = hydra::test::split_lines(read_file(path));
    ASSERT_EQ(lines.size(), 2u) << path;
    EXPECT_EQ(lines[0].find("alice"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[0].find("4111 1111 1111 1111"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("mail [REDACTED_EMAIL]"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("paid with ***************1111"), std::string::npos) << lines[0];
    // A keyed pseudonym, the same in both records.
    const auto at = lines[0].find("[USER:");
    ASSERT_NE(at, std::string::npos) << lines[0];
    const std::string alias = lines[0].substr(at, lines[0].find(']', at) - at + 1);
    EXPECT_EQ(alias.size(), std::string("[USER:3fcabf0c3717]").size()) << alias;
    EXPECT_EQ(lines[1], "again " + alias);
  }

  // The pseudonyms are keyed by the file's key: another key, another alias.
  const std::string first = read_file(clean);
  write_file(dir.file("pseudonym.key"), "another-pseudonym-key-0123456789\n");
  std::filesystem::remove(clean);
  std::filesystem::remove(opted_out);
  {
    hydra::Logger log(hydra::load_config(dir.file("c.toml"), hydra::env_from_map({})));
    log.info("again {user_id}", "alice");
    log.flush();
  }
  const std::string second = read_file(clean);
  EXPECT_NE(second.find("again [USER:"), std::string::npos) << second;
  EXPECT_EQ(first.find(second), std::string::npos) << first << " / " << second;
}

// The same table in YAML and JSON: one tree, one walk.
TEST(ComplianceConfig, YamlAndJsonTakeTheSameTable) {
  TempDir dir;
  write_file(dir.file("pseudonym.key"), kHashKey);
  const std::string key = dir.file("pseudonym.key");
  const hydra::LoggerConfig yaml = load_text(dir, "c.yaml",
                                             "compliance:\n  profiles: [pci, gdpr]\n"
                                             "  hash_key_file: " +
                                                 key +
                                                 "\nlayers:\n  APP:\n    protect: false\n"
                                                 "    destinations:\n      - type: \"null\"\n");
  const hydra::LoggerConfig json =
      load_text(dir, "c.json",
                R"({"compliance": {"profiles": ["pci"]}, "layers": {"APP": {"protect": false}}})");
  for (const auto* c : {&yaml, &json}) {
    ASSERT_NE(c->protector, nullptr);
    EXPECT_EQ(c->layers.at("APP").protect, std::optional<bool>(true));
  }
  expect_mentions(load_error(dir, "bad.json", R"({"compliance": {"profiles": "pci"}})"),
                  {"bad.json", "compliance.profiles", "a list"});
}

// hipaa: the AUDIT layer writes the chain of [compliance.audit], made when
// the logger is built (loading touches nothing, a reload keeps the live
// sink), and the chain verifies.
TEST(ComplianceConfig, HipaaWritesAVerifiableAuditChain) {
  TempDir dir;
  const std::string app = dir.file("app.log");
  write_file(dir.file("c.toml"), "[compliance]\nprofiles = [\"hipaa\"]\n" +
                                     audit_table(dir, "max_size = \"64MB\"\nbackup_count = 10\n") +
                                     file_destination("APP", app, "protect = false\n"));
  const hydra::Env env = hydra::env_from_map({});
  const hydra::LoggerConfig config = hydra::load_config(dir.file("c.toml"), env);
  EXPECT_FALSE(std::filesystem::exists(dir.file("audit.log")));
  const auto& audit = config.layers.at("AUDIT").destinations;
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].type, "audit");
  EXPECT_EQ(audit[0].path, dir.file("audit.log"));
  {
    hydra::Logger log(config);
    log.with({{"patient_id", "P-1234"}}).info("seen from 192.168.0.7");
    log.audit("record {action}", "viewed");
    // Loading again (a reload, `hydra config explain`) while the chain is
    // held: the live sink is kept, no second one fights for its lock.
    hydra::ConfigSources sources;
    sources.file = dir.file("c.toml");
    sources.env = env;
    log.reconfigure(hydra::resolve_config(sources).config);
    log.audit("record {action}", "exported");
    log.flush();
  }
  const std::string text = read_file(app);
  EXPECT_EQ(text, "seen from [REDACTED_IP_ADDRESS]\n");
  const auto result = verify_chain({dir.file("audit.log")}, dir.file("audit.log.checkpoint"));
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 2u);
  const std::string chain = read_file(dir.file("audit.log"));
  EXPECT_NE(chain.find("record viewed"), std::string::npos) << chain;
  EXPECT_NE(chain.find("record exported"), std::string::npos) << chain;
}

// sox: the chain keeps every rotated file, whatever backup_count says.
TEST(ComplianceConfig, SoxKeepsEveryRotatedAuditFile) {
  TempDir dir;
  const hydra::LoggerConfig config =
      load_text(dir, "c.toml",
                "[compliance]\nprofiles = [\"sox\"]\n" +
                    audit_table(dir, "max_size = 1\nbackup_count = 1\n"));
  {
    hydra::Logger log(config);
    for (int i = 0; i < 4; ++i) log.audit("event {n}", i);
    log.flush();
  }
  // A file takes at least one record: one per file, none deleted.
  std::vector<std::string> files;
  for (int i = 3; i >= 1; --i) {
    const std::string rotated = dir.file("audit.log." + std::to_string(i));
    EXPECT_TRUE(std::filesystem::exists(rotated)) << rotated;
    files.push_back(rotated);
  }
  files.push_back(dir.file("audit.log"));
  const auto result = verify_chain(files, dir.file("audit.log.checkpoint"));
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 4u);

  expect_mentions(load_error(dir, "rotating.toml",
                             "[compliance]\nprofiles = [\"sox\"]\n" + audit_table(dir) +
                                 "[[layers.AUDIT.destinations]]\ntype = \"rotating_file\"\n"
                                 "path = \"" +
                                 dir.file("old.log") + "\"\nmax_size = \"1MB\"\n"),
                  {"rotating.toml:1", "compliance", "sox", "layers.AUDIT.destinations[0]"});
}

// [compliance.audit] backup_count: 1 to 100000, as for an audit destination.
TEST(ComplianceConfig, AuditBackupCountOutOfRangeNamesFileLineAndKey) {
  TempDir dir;
  for (const std::string count : {"0", "100001", "2147483647"}) {
    expect_mentions(
        load_error(dir, "c.toml",
                   "[compliance]\nprofiles = [\"hipaa\"]\n" +
                       audit_table(dir, "backup_count = " + count + "\n")),
        {"c.toml:6", "compliance.audit.backup_count", count, "out of range (valid: 1 to 100000)"});
  }
}

TEST(ComplianceConfig, MistakesNameTheKey) {
  TempDir dir;
  write_file(dir.file("pseudonym.key"), kHashKey);
  const std::string key_line = "hash_key_file = \"" + dir.file("pseudonym.key") + "\"\n";

  expect_mentions(load_error(dir, "a.toml", "[compliance]\nprofiles = [\"gdpr\", \"ccpa\"]\n"),
                  {"a.toml:2", "compliance.profiles[1]", "'ccpa'", "gdpr, pci, hipaa, sox"});
  expect_mentions(
      load_error(dir, "b.toml", "[compliance]\nprofiles = [\"pci\"]\nhash_key = \"x\"\n"),
      {"b.toml:3", "compliance.hash_key", "unknown key", "hash_key_file", "hash_key_env"});
  expect_mentions(
      load_error(dir, "c.toml",
                 "[compliance]\nprofiles = [\"hipaa\"]\n" + audit_table(dir, "keyfile = \"k\"\n")),
      {"c.toml", "compliance.audit.keyfile", "unknown key", "key_file"});
  // Missing key material.
  expect_mentions(load_error(dir, "d.toml", "[compliance]\nprofiles = [\"gdpr\"]\n"),
                  {"d.toml:1", "compliance", "gdpr", "hash_key_file", "hash_key_env"});
  expect_mentions(load_error(dir, "e.toml", "[compliance]\nprofiles = [\"hipaa\"]\n"),
                  {"e.toml:1", "compliance", "hipaa", "[compliance.audit]"});
  expect_mentions(
      load_error(dir, "f.toml",
                 "[compliance]\nprofiles = [\"sox\"]\n[compliance.audit]\npath = \"a.log\"\n"),
      {"f.toml", "compliance.audit", "key_file", "key_env", "unsigned"});
  expect_mentions(load_error(dir, "g.toml",
                             "[compliance]\nprofiles = [\"gdpr\"]\nhash_key_file = \"" +
                                 dir.file("missing.key") + "\"\n"),
                  {"g.toml:3", "compliance.hash_key_file", "missing.key", "cannot read"});
  expect_mentions(load_error(dir, "h.toml",
                             "[compliance]\nprofiles = [\"gdpr\"]\n" + key_line +
                                 "hash_key_env = \"PSEUDONYM_KEY\"\n"),
                  {"h.toml", "compliance", "at most one of hash_key_file and hash_key_env"});
  expect_mentions(load_error(dir, "i.toml", "[compliance]\n" + key_line),
                  {"i.toml", "compliance", "needs profiles", "gdpr, pci, hipaa, sox"});
  expect_mentions(load_error(dir, "j.toml", "[compliance]\nprofiles = []\n"),
                  {"j.toml:2", "compliance.profiles", "must not be empty"});
  expect_mentions(load_error(dir, "k.toml", "compliance = \"pci\"\n"),
                  {"k.toml:1", "compliance", "a table"});
}

// HYDRA_LOG_COMPLIANCE sets the profiles; the key material stays the file's;
// `explain` credits the profiles and what they changed to the variable.
TEST(ComplianceConfig, EnvironmentSetsTheProfiles) {
  TempDir dir;
  write_file(dir.file("pseudonym.key"), kHashKey);
  const std::string out = dir.file("app.log");
  write_file(dir.file("c.toml"), "[compliance]\nprofiles = [\"pci\"]\nhash_key_file = \"" +
                                     dir.file("pseudonym.key") + "\"\n" +
                                     file_destination("APP", out, "protect = false\n"));
  hydra::ConfigSources sources;
  sources.file = dir.file("c.toml");
  sources.env = hydra::env_from_map({{"HYDRA_LOG_COMPLIANCE", " gdpr, pci "}});
  const hydra::ResolvedConfig r = hydra::resolve_config(sources);
  EXPECT_EQ(r.values.at("compliance.profiles"), R"(["gdpr","pci"])");
  EXPECT_EQ(r.origins.at("compliance.profiles"), "environment HYDRA_LOG_COMPLIANCE");
  EXPECT_EQ(r.values.at("layers.APP.destinations[0].protect"), "true");
  EXPECT_EQ(r.origins.at("layers.APP.destinations[0].protect"), "environment HYDRA_LOG_COMPLIANCE");
  {
    hydra::Logger log(r.config);
    log.info("order by {user_id}", "alice");  // gdpr, from the environment
    log.flush();
  }
  EXPECT_NE(read_file(out).find("order by [USER:"), std::string::npos) << read_file(out);

  // Without the variable: the file's profiles, credited to its line.
  sources.env = hydra::env_from_map({});
  const hydra::ResolvedConfig from_file = hydra::resolve_config(sources);
  EXPECT_EQ(from_file.values.at("compliance.profiles"), R"(["pci"])");
  EXPECT_EQ(from_file.origins.at("compliance.profiles"), dir.file("c.toml") + ":2");

  // HYDRA_LOG_REDACT_SENSITIVE does not turn the profiles' protection off.
  sources.env = hydra::env_from_map({{"HYDRA_LOG_REDACT_SENSITIVE", "0"}});
  EXPECT_NE(hydra::resolve_config(sources).config.protector, nullptr);

  // No file: pci needs no key.
  hydra::ConfigSources no_file;
  no_file.env = hydra::env_from_map({{"HYDRA_LOG_COMPLIANCE", "pci"}});
  const hydra::ResolvedConfig env_only = hydra::resolve_config(no_file);
  EXPECT_NE(env_only.config.protector, nullptr);
  EXPECT_EQ(env_only.values.at("compliance.profiles"), R"(["pci"])");

  // Bad values name the variable.
  no_file.env = hydra::env_from_map({{"HYDRA_LOG_COMPLIANCE", "gdpr,ccpa"}});
  expect_mentions(hydra::test::config_error_of([&] { hydra::resolve_config(no_file); }),
                  {"environment HYDRA_LOG_COMPLIANCE", "'ccpa'", "gdpr, pci, hipaa, sox"});
  no_file.env = hydra::env_from_map({{"HYDRA_LOG_COMPLIANCE", "gdpr"}});
  expect_mentions(hydra::test::config_error_of([&] { hydra::resolve_config(no_file); }),
                  {"environment HYDRA_LOG_COMPLIANCE", "gdpr", "hash_key_file"});
}

#if defined(HYDRA_CLI)
// `hydra config explain` on a file with compliance: the profiles listed,
// and the audit chain not opened.
TEST(ComplianceConfig, ExplainShowsTheProfiles) {
  TempDir dir;
  write_file(dir.file("pseudonym.key"), kHashKey);
  const std::string path = dir.file("c.toml");
  write_file(path, "name = \"clinic\"\n[compliance]\nprofiles = [\"gdpr\", \"hipaa\"]\n" +
                       std::string("hash_key_file = \"") + dir.file("pseudonym.key") + "\"\n" +
                       audit_table(dir));
  const auto r = hydra::test::run_process({HYDRA_CLI, "config", "explain", path}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("compliance.profiles = [\"gdpr\",\"hipaa\"]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# " + path + ":3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("layers.AUDIT.destinations[0].type = \"audit\""), std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("audit.log")));
}
#endif

#else
TEST(ComplianceConfig, NeedsTheProtectModule) {
  TempDir dir;
  expect_mentions(load_error(dir, "c.toml", "[compliance]\nprofiles = [\"pci\"]\n"),
                  {"c.toml:1", "compliance", "protect module"});
}
#endif

}  // namespace
