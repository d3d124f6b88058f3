// The protect stage in the logger's pipeline, in both modes: what sinks see.
#include <gtest/gtest.h>

#include <hydra/hydra.hpp>
#include <hydra/protect/protector.hpp>

#include "core/recording_sink.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::LoggerMode;
using hydra::test::RecordingSink;

class ProtectPipeline : public ::testing::TestWithParam<LoggerMode> {
 protected:
  LoggerConfig config(hydra::protect::RedactorOptions options = {}) {
    LoggerConfig cfg;
    cfg.name = "protect";
    cfg.mode = GetParam();
    cfg.default_level = Level::trace;
    cfg.protector = hydra::protect::make_protector(std::move(options));
    cfg.layers["APP"].destinations = {hydra::to_sink(app)};
    cfg.layers["RAW"].destinations = {hydra::to_sink(raw)};
    cfg.layers["RAW"].protect = false;
    auto unprotected = hydra::to_sink(both_clear);
    unprotected.protect = false;
    cfg.layers["BOTH"].destinations = {hydra::to_sink(both_protected), unprotected};
    return cfg;
  }
  std::shared_ptr<RecordingSink> app = std::make_shared<RecordingSink>();
  std::shared_ptr<RecordingSink> raw = std::make_shared<RecordingSink>();
  std::shared_ptr<RecordingSink> both_protected = std::make_shared<RecordingSink>();
  std::shared_ptr<RecordingSink> both_clear = std::make_shared<RecordingSink>();
};

TEST_P(ProtectPipeline, MessageAndFieldsAreRedactedBeforeTheSink) {
  hydra::Logger log(config());
  {
    hydra::ScopedContext ctx({{"contact", "ops@example.com"}});
    log.with({{"password", "hunter2"}, {"attempt", 3}})
        .info("login {user} card {card}", "alice@example.com", "4111 1111 1111 1111");
  }
  log.info("nothing sensitive here: build 1.2.3 took 42 ms");
  log.flush();
  const auto recs = app->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "login [REDACTED_EMAIL] card [REDACTED_CREDIT_CARD]");
  EXPECT_EQ(recs[0].field("user"), "[REDACTED_EMAIL]");
  EXPECT_EQ(recs[0].field("card"), "[REDACTED_CREDIT_CARD]");
  EXPECT_EQ(recs[0].field("password"), "[REDACTED_PASSWORD]");
  EXPECT_EQ(recs[0].field("attempt"), "3");
  EXPECT_EQ(recs[0].field("contact"), "[REDACTED_EMAIL]");
  EXPECT_EQ(recs[0].bytes.find("alice@example.com"), std::string::npos) << recs[0].bytes;
  EXPECT_EQ(recs[0].bytes.find("hunter2"), std::string::npos) << recs[0].bytes;
  EXPECT_EQ(recs[1].message, "nothing sensitive here: build 1.2.3 took 42 ms");
}

TEST_P(ProtectPipeline, LayersAndDestinationsMayOptOutButSecurityRecordsMayNot) {
  hydra::Logger log(config());
  log.layer("RAW").info("raw {email}", "bob@example.com");
  log.layer("RAW").security("intrusion by {email}", "eve@example.com");
  log.layer("BOTH").info("both {email}", "carol@example.com");
  log.layer("BOTH").audit("audited {email}", "dave@example.com");
  log.flush();
  const auto r = raw->records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].message, "raw bob@example.com");
  EXPECT_EQ(r[1].message, "intrusion by [REDACTED_EMAIL]");
  const auto p = both_protected->records();
  const auto c = both_clear->records();
  ASSERT_EQ(p.size(), 2u);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(p[0].message, "both [REDACTED_EMAIL]");
  EXPECT_EQ(c[0].message, "both carol@example.com");
  EXPECT_EQ(p[1].message, "audited [REDACTED_EMAIL]");
  EXPECT_EQ(c[1].message, "audited [REDACTED_EMAIL]");
}

TEST_P(ProtectPipeline, DropActionWithholdsTheRecordAndCountsIt) {
  hydra::protect::RedactorOptions options;
  options.detector(hydra::protect::Detector::credit_card).action = hydra::protect::Action::drop;
  hydra::Logger log(config(options));
  log.info("before");
  log.info("paid with {card}", "4111-1111-1111-1111");
  log.layer("RAW").info("raw paid with {card}", "4111-1111-1111-1111");
  log.info("after");
  log.flush();
  const auto recs = app->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "before");
  EXPECT_EQ(recs[1].message, "after");
  ASSERT_EQ(raw->records().size(), 1u) << "an unprotected destination still gets it";
  EXPECT_EQ(log.metrics().protect_dropped, 1u);
}

TEST_P(ProtectPipeline, PreformattedRecordsAreProtectedToo) {
  hydra::Logger log(config());
  log.layer("APP").write(Level::warning, "Authorization: Bearer abc.def.ghi from 10.0.0.1");
  log.flush();
  const auto recs = app->records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].message.find("abc.def.ghi"), std::string::npos) << recs[0].message;
}

INSTANTIATE_TEST_SUITE_P(BothModes, ProtectPipeline,
                         ::testing::Values(LoggerMode::sync, LoggerMode::async),
                         [](const ::testing::TestParamInfo<LoggerMode>& info) {
                           return info.param == LoggerMode::sync ? "sync" : "async";
                         });

}  // namespace

namespace {

// A value redacted because of its field's name is also redacted where its
// placeholder put it in the message, which no detector would recognise.
TEST_P(ProtectPipeline, AFieldRedactedByNameIsRedactedInTheMessageToo) {
  hydra::Logger log(config());
  log.info("reset {password} for {user} after {tries} tries", "hunter2", "bob", 3);
  // A runtime template (async: formatted on the caller, places unknown).
  const std::string tmpl = "rotated {api_key} at {when}";
  log.info(hydra::runtime(tmpl), "k-7f3a9c2e", "noon");
  log.flush();
  const auto recs = app->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "reset [REDACTED_PASSWORD] for bob after 3 tries");
  EXPECT_EQ(recs[0].field("password"), "[REDACTED_PASSWORD]");
  EXPECT_EQ(recs[0].bytes.find("hunter2"), std::string::npos) << recs[0].bytes;
  EXPECT_EQ(recs[1].message.find("k-7f3a9c2e"), std::string::npos) << recs[1].message;
  EXPECT_NE(recs[1].message.find("at noon"), std::string::npos) << recs[1].message;
  EXPECT_EQ(recs[1].bytes.find("k-7f3a9c2e"), std::string::npos) << recs[1].bytes;
}

// A card number logged as an integer is a card number too: a JSON or logfmt
// sink writes the field's value, not the message. An identifier key keeps its
// value, as it does in text ("user_id=5234567890123404").
TEST_P(ProtectPipeline, NumbersInFieldsAreScannedLikeText) {
  hydra::Logger log(config());
  log.info("charged {card} for {user_id} in {ms} ms", std::uint64_t{4111111111111111},
           std::int64_t{5234567890123404}, 12);
  log.with({{"pan", std::int64_t{5555555555554444}}, {"big", 4111111111111111.0}}).info("settled");
  log.flush();
  const auto recs = app->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].field("card"), "[REDACTED_CREDIT_CARD]");
  EXPECT_EQ(recs[0].field("user_id"), "5234567890123404");
  EXPECT_EQ(recs[0].field("ms"), "12");
  EXPECT_TRUE(recs[0].message.starts_with("charged [REDACTED_CREDIT_CARD] for "))
      << recs[0].message;
  EXPECT_EQ(recs[1].field("pan"), "[REDACTED_CREDIT_CARD]");
  EXPECT_EQ(recs[1].field("big"), "[REDACTED_CREDIT_CARD]");
  for (const auto& r : recs) {
    EXPECT_EQ(r.bytes.find("4111111111111111"), std::string::npos) << r.bytes;
    EXPECT_EQ(r.bytes.find("5555555555554444"), std::string::npos) << r.bytes;
  }
}

}  // namespace
