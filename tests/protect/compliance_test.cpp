// Compliance profiles: what each turns on, seen from the sinks, in both modes.
#include <gtest/gtest.h>

#include <filesystem>
#include <hydra/hydra.hpp>
#include <hydra/protect/audit_verify.hpp>
#include <hydra/protect/compliance.hpp>
#include <string>
#include <vector>

#include "core/recording_sink.hpp"
#include "protect/pseudonym.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::LoggerMode;
using hydra::protect::ComplianceOptions;
using hydra::protect::ComplianceProfile;
using hydra::test::RecordingSink;

const std::string kHashKey = "pseudonym-key-for-tests-0123456789";
const std::string kAuditKey = "audit-key-for-the-compliance-tests";

std::string error_of(LoggerConfig& cfg, const ComplianceOptions& c) {
  try {
    hydra::protect::apply_compliance(cfg, c);
  } catch (const hydra::ConfigError& e) {
    return e.what();
  }
  return "";
}

class Compliance : public ::testing::TestWithParam<LoggerMode> {
 protected:
  LoggerConfig config() {
    LoggerConfig cfg;
    cfg.name = "compliance";
    cfg.mode = GetParam();
    cfg.default_level = Level::trace;
    auto clear = hydra::to_sink(opted_out);
    clear.protect = false;  // an opt-out the strict profiles remove
    cfg.layers["APP"].destinations = {hydra::to_sink(app), clear};
    return cfg;
  }
  std::shared_ptr<RecordingSink> app = std::make_shared<RecordingSink>();
  std::shared_ptr<RecordingSink> opted_out = std::make_shared<RecordingSink>();
};

INSTANTIATE_TEST_SUITE_P(BothModes, Compliance,
                         ::testing::Values(LoggerMode::sync, LoggerMode::async),
                         [](const auto& info) {
                           return info.param == LoggerMode::sync ? "sync" : "async";
                         });

TEST_P(Compliance, GdprPseudonymisesIdentifiersAndRedactsContactData) {
  LoggerConfig cfg = config();
  ComplianceOptions c;
  c.profiles = {ComplianceProfile::gdpr};
  c.hash_key = kHashKey;
  hydra::protect::apply_compliance(cfg, c);
  hydra::Logger log(cfg);
  log.info("order by {user_id} from 10.1.2.3, mail bob@example.com, call +44 20 7946 0958",
           "alice");
  log.info("second order by {user_id}", "alice");
  log.flush();
  const auto recs = app->records();
  ASSERT_EQ(recs.size(), 2u);
  const std::string alias = "[USER:" + hydra::test::hmac_hex12(kHashKey, "alice") + "]";
  EXPECT_EQ(recs[0].field("user_id"), alias);
  EXPECT_EQ(recs[1].field("user_id"), alias);  // stable: records still correlate
  EXPECT_EQ(recs[0].message.find("bob@example.com"), std::string::npos) << recs[0].message;
  EXPECT_NE(recs[0].message.find("[REDACTED_IP_ADDRESS]"), std::string::npos) << recs[0].message;
  EXPECT_NE(recs[0].message.find("[REDACTED_PHONE]"), std::string::npos) << recs[0].message;
  EXPECT_EQ(recs[0].bytes.find("alice"), std::string::npos) << recs[0].bytes;
}

TEST_P(Compliance, GdprWithoutAKeyIsAnError) {
  LoggerConfig cfg = config();
  ComplianceOptions c;
  c.profiles = {ComplianceProfile::gdpr};
  const std::string e = error_of(cfg, c);
  EXPECT_NE(e.find("gdpr"), std::string::npos) << e;
  EXPECT_NE(e.find("hash key"), std::string::npos) << e;
}

TEST_P(Compliance, PciMasksCardsEvenWhereProtectionWasTurnedOff) {
  LoggerConfig cfg = config();
  ComplianceOptions c;
  c.profiles = {ComplianceProfile::pci};
  hydra::protect::apply_compliance(cfg, c);
  hydra::Logger log(cfg);
  log.with({{"cvv", "123"}}).info("paid with {card}", "4111 1111 1111 1111");
  log.flush();
  for (const auto* sink : {app.get(), opted_out.get()}) {
    const auto recs = sink->records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].field("card"), "***************1111");
    EXPECT_EQ(recs[0].field("cvv"), "[REDACTED_CVV]");
    EXPECT_EQ(recs[0].bytes.find("4111 1111 1111 1111"), std::string::npos) << recs[0].bytes;
  }
}

TEST_P(Compliance, HipaaRedactsStrictlyAndWritesTheAuditChain) {
  hydra::test::TempDir dir;
  LoggerConfig cfg = config();
  ComplianceOptions c;
  c.profiles = {ComplianceProfile::hipaa, ComplianceProfile::pci};
  c.audit.path = dir.file("audit.log");
  c.audit.key.value = kAuditKey;
  hydra::protect::apply_compliance(cfg, c);
  {
    hydra::Logger log(cfg);
    log.with({{"patient_id", "P-1234"}, {"mrn", 998877}})
        .info("from 192.168.0.7 card {card} IBAN GB82WEST12345698765432", "4111 1111 1111 1111");
    log.audit("record {action}", "viewed");
    log.flush();
    const auto recs = opted_out->records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].field("patient_id"), "[REDACTED_PATIENT]");
    EXPECT_EQ(recs[0].field("mrn"), "[REDACTED_MEDICAL_RECORD]");
    // hipaa's redact is stricter than pci's mask: the stricter wins.
    EXPECT_EQ(recs[0].field("card"), "[REDACTED_CREDIT_CARD]");
    EXPECT_NE(recs[0].message.find("[REDACTED_IP_ADDRESS]"), std::string::npos) << recs[0].message;
    EXPECT_NE(recs[0].message.find("[REDACTED_IBAN]"), std::string::npos) << recs[0].message;
  }
  const std::vector<std::string> files = {dir.file("audit.log")};
  hydra::protect::AuditVerifyOptions v;
  v.checkpoint = dir.file("audit.log.checkpoint");
  const auto result = hydra::protect::verify_audit_files(files, kAuditKey, v);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 1u);
  EXPECT_NE(hydra::test::read_file(dir.file("audit.log")).find("record viewed"), std::string::npos);
}

TEST_P(Compliance, AuditProfilesNeedTheChainsPath) {
  for (const auto profile : {ComplianceProfile::hipaa, ComplianceProfile::sox}) {
    LoggerConfig cfg = config();
    ComplianceOptions c;
    c.profiles = {profile};
    const std::string e = error_of(cfg, c);
    EXPECT_NE(e.find(std::string(hydra::protect::profile_name(profile))), std::string::npos) << e;
    EXPECT_NE(e.find("audit.path"), std::string::npos) << e;
  }
}

TEST_P(Compliance, SoxKeepsEveryAuditFileAndRefusesOnesThatDeleteThem) {
  hydra::test::TempDir dir;
  {
    LoggerConfig cfg = config();
    cfg.layers["AUDIT"].destinations = {hydra::rotating_file(dir.file("old-audit.log"), 4096, 3)};
    ComplianceOptions c;
    c.profiles = {ComplianceProfile::sox};
    c.audit.path = dir.file("audit.log");
    c.audit.key.value = kAuditKey;
    const std::string e = error_of(cfg, c);
    EXPECT_NE(e.find("sox"), std::string::npos) << e;
    EXPECT_NE(e.find("layers.AUDIT.destinations[0]"), std::string::npos) << e;
  }
  LoggerConfig cfg = config();
  ComplianceOptions c;
  c.profiles = {ComplianceProfile::sox};
  c.audit.path = dir.file("audit.log");
  c.audit.key.value = kAuditKey;
  c.audit.max_size = 600;    // a few records per file
  c.audit.backup_count = 2;  // sox overrides: nothing is deleted
  hydra::protect::apply_compliance(cfg, c);
  constexpr int kRecords = 60;
  {
    hydra::Logger log(cfg);
    for (int i = 0; i < kRecords; ++i) log.audit("approval {n}", i);
    log.flush();
  }
  std::vector<std::string> files;
  for (int i = 1;; ++i) {
    const std::string rotated = dir.file("audit.log." + std::to_string(i));
    if (!std::filesystem::exists(rotated)) break;
    files.insert(files.begin(), rotated);  // oldest first
  }
  EXPECT_GT(files.size(), 3u);  // more than backup_count: none deleted
  files.push_back(dir.file("audit.log"));
  hydra::protect::AuditVerifyOptions v;
  v.checkpoint = dir.file("audit.log.checkpoint");
  const auto result = hydra::protect::verify_audit_files(files, kAuditKey, v);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_TRUE(result.from_genesis);
  EXPECT_EQ(result.records, static_cast<std::uint64_t>(kRecords));
}

TEST(ComplianceNames, ParseAndPrint) {
  for (const auto p : {ComplianceProfile::gdpr, ComplianceProfile::pci, ComplianceProfile::hipaa,
                       ComplianceProfile::sox}) {
    EXPECT_EQ(hydra::protect::parse_compliance_profile(hydra::protect::profile_name(p)), p);
  }
  EXPECT_FALSE(hydra::protect::parse_compliance_profile("hippa").has_value());
}

}  // namespace
