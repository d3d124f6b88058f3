// The Redactor's contracts: output, actions, structured fields, custom
// patterns, configuration errors, hostile input and concurrent use.
#include <gtest/gtest.h>
#include <hydra/core/error.hpp>
#include <hydra/protect/redactor.hpp>

#include <chrono>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protect/pseudonym.hpp"

// Counts the allocations of the calling thread, to check that clean text
// costs none.
namespace {
thread_local std::size_t allocations = 0;
}  // namespace

// (GCC 12 warns about free() on memory from operator new, not knowing that
// this operator new is malloc.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace {

using hydra::Field;
using hydra::FieldValue;
using hydra::protect::Action;
using hydra::protect::CustomDetector;
using hydra::protect::Detector;
using hydra::protect::Outcome;
using hydra::protect::RedactedFields;
using hydra::protect::Redactor;
using hydra::protect::RedactorOptions;

RedactorOptions with_action(Detector d, Action a, std::string key = "") {
  RedactorOptions o;
  o.detector(d).action = a;
  o.hash_key = std::move(key);
  return o;
}

using hydra::test::hmac_hex12;

// ---------------------------------------------------------------------------
// Output contract

TEST(Redactor, CleanTextLeavesTheOutputUntouchedAndAllocatesNothing) {
  const Redactor r;
  const std::string clean =
      "2026-11-27T10:13:12.345678Z INFO [APP] request completed method=GET status=200 "
      "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 uuid=550e8400-e29b-41d4-a716-446655440000";
  std::string out = "kept";
  fmt::memory_buffer buffer;
  const std::size_t before = allocations;
  EXPECT_EQ(r.redact(clean, out), Outcome::unchanged);
  EXPECT_EQ(r.redact(clean, buffer), Outcome::unchanged);
  EXPECT_EQ(allocations, before);
  EXPECT_EQ(out, "kept");
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(r.redacted(clean), clean);
}

TEST(Redactor, AppendsTheRedactedTextToEitherBufferType) {
  const Redactor r;
  std::string out = "prefix|";
  EXPECT_EQ(r.redact("mail bob@example.com please", out), Outcome::redacted);
  EXPECT_EQ(out, "prefix|mail [REDACTED_EMAIL] please");
  fmt::memory_buffer buffer;
  EXPECT_EQ(r.redact("card 4111111111111111", buffer), Outcome::redacted);
  EXPECT_EQ(fmt::to_string(buffer), "card [REDACTED_CREDIT_CARD]");
}

TEST(Redactor, EmptyTextIsUnchanged) {
  std::string out;
  EXPECT_EQ(Redactor().redact("", out), Outcome::unchanged);
}

TEST(Redactor, KeyStaysVisibleInKeyValueForms) {
  const Redactor r;
  EXPECT_EQ(
      r.redacted("password=hunter2 token: abc \"api_key\": \"k1\""),
      "password=[REDACTED_PASSWORD] token: [REDACTED_TOKEN] \"api_key\": \"[REDACTED_API_KEY]\"");
}

TEST(Redactor, RedactingTwiceChangesNothingMore) {
  const Redactor r;
  for (const std::string text :
       {"password=hunter2 mail a@b.io card 4111 1111 1111 1111 ssn 123-45-6789",
        "Authorization: Bearer abc postgres://u:p@h/db +1 415 555 0132 AKIAIOSFODNN7EXAMPLE"}) {
    const std::string once = r.redacted(text);
    ASSERT_NE(once, text);
    EXPECT_EQ(r.redacted(once), once);
  }
}

TEST(Redactor, DisabledDetectorsFindNothing) {
  RedactorOptions o;
  for (auto& d : o.detectors) d.enabled = false;
  const Redactor r(o);
  const std::string text = "password=x a@b.io 4111111111111111 AKIAIOSFODNN7EXAMPLE";
  EXPECT_EQ(r.redacted(text), text);
  o.detector(Detector::email).enabled = true;
  EXPECT_EQ(Redactor(o).redacted(text),
            "password=x [REDACTED_EMAIL] 4111111111111111 AKIAIOSFODNN7EXAMPLE");
}

TEST(Redactor, OffByDefaultDetectorsAreOff) {
  const std::string text = "from 203.0.113.7 and 2001:db8::1 to DE89370400440532013000";
  EXPECT_EQ(Redactor().redacted(text), text);
  RedactorOptions o;
  o.detector(Detector::ipv4).enabled = true;
  o.detector(Detector::ipv6).enabled = true;
  o.detector(Detector::iban).enabled = true;
  EXPECT_EQ(Redactor(o).redacted(text),
            "from [REDACTED_IP_ADDRESS] and [REDACTED_IP_ADDRESS] to [REDACTED_IBAN]");
}

// ---------------------------------------------------------------------------
// Actions

TEST(Actions, MaskKeepsTheLastFourCharacters) {
  const Redactor cards(with_action(Detector::credit_card, Action::mask));
  EXPECT_EQ(cards.redacted("card 5555-5555-5555-4444 ok"), "card ***************4444 ok");
  const Redactor ssn(with_action(Detector::ssn, Action::mask));
  EXPECT_EQ(ssn.redacted("ssn 123-45-6789"), "ssn *******6789");
  const Redactor secrets(with_action(Detector::secret, Action::mask));
  // Shorter than eight characters: nothing is kept.
  EXPECT_EQ(secrets.redacted("password=hunter2"), "password=*******");
  EXPECT_EQ(secrets.redacted("token=abcdefghij"), "token=******ghij");
  // Characters, not bytes: the kept tail stays valid UTF-8.
  EXPECT_EQ(secrets.redacted("password=\"pässwörd-ü\""), "password=\"******rd-ü\"");
}

TEST(Actions, HashIsAKeyedStablePseudonym) {
  const Redactor a(with_action(Detector::email, Action::hash, "key-one"));
  const std::string first = a.redacted("user Alice@Example.com logged in");
  EXPECT_EQ(first, "user [EMAIL:" + hmac_hex12("key-one", "alice@example.com") + "] logged in");
  // Stable: the same address (in any case) gives the same pseudonym.
  EXPECT_EQ(a.redacted("user alice@example.com logged in"), first);
  EXPECT_EQ(Redactor(with_action(Detector::email, Action::hash, "key-one"))
                .redacted("user Alice@Example.com logged in"),
            first);
  // Keyed: another key, another pseudonym.
  const Redactor b(with_action(Detector::email, Action::hash, "key-two"));
  EXPECT_NE(b.redacted("user Alice@Example.com logged in"), first);
  // Different addresses differ.
  EXPECT_NE(a.redacted("user bob@example.com logged in"), first);
}

TEST(Actions, HashOfACardIgnoresItsSeparators) {
  const Redactor r(with_action(Detector::credit_card, Action::hash, "k"));
  const std::string expected = "[CREDIT_CARD:" + hmac_hex12("k", "4111111111111111") + "]";
  EXPECT_EQ(r.redacted("4111 1111 1111 1111"), expected);
  EXPECT_EQ(r.redacted("4111-1111-1111-1111"), expected);
  EXPECT_EQ(r.redacted("4111111111111111"), expected);
}

TEST(Actions, HashWithoutAKeyIsAConfigurationError) {
  try {
    Redactor r(with_action(Detector::email, Action::hash));
    FAIL() << "no ConfigError";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'email'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hash_key"), std::string::npos) << e.what();
  }
  // A disabled detector's action does not matter.
  RedactorOptions o = with_action(Detector::email, Action::hash);
  o.detector(Detector::email).enabled = false;
  EXPECT_NO_THROW(Redactor{o});
}

TEST(Actions, DropReportsTheRecordAndStillRedacts) {
  const Redactor r(with_action(Detector::private_key, Action::drop));
  std::string out;
  EXPECT_EQ(r.redact("key -----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", out),
            Outcome::drop);
  EXPECT_EQ(out, "key [REDACTED_PRIVATE_KEY]");
  out.clear();
  EXPECT_EQ(r.redact("only a@b.io here", out), Outcome::redacted);
  out.clear();
  EXPECT_EQ(r.redact("nothing here", out), Outcome::unchanged);
}

TEST(Actions, EachDetectorTakesItsOwnAction) {
  RedactorOptions o;
  o.detector(Detector::email).action = Action::mask;
  o.detector(Detector::secret).action = Action::hash;
  o.hash_key = "k";
  EXPECT_EQ(
      Redactor(o).redacted("bob@example.com password=hunter2 ssn 123-45-6789"),
      "***********.com password=[PASSWORD:" + hmac_hex12("k", "hunter2") + "] ssn [REDACTED_SSN]");
}

// ---------------------------------------------------------------------------
// Structured fields

TEST(Fields, SensitiveNamesAreRedactedWhateverTheValue) {
  const Redactor r;
  const std::vector<Field> fields = {
      {"user", "bob"},           {"password", "hunter2"}, {"db_password", "x"},
      {"X-Api-Key", "k"},        {"userPassword", "y"},   {"Authorization", "Bearer abc"},
      {"set-cookie", "sid=1"},   {"pin_token", 123456},   {"secret", true},
      {"latency_ms", 12.5},      {"pass_wor-d", "z"},     {"d", "one letter"},
      {"__", "only separators"},
  };
  RedactedFields out;
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  const auto f = out.fields();
  ASSERT_EQ(f.size(), fields.size());
  for (std::size_t i = 0; i < f.size(); ++i) EXPECT_EQ(f[i].key, fields[i].key);
  EXPECT_EQ(f[0].value.as_string(), "bob");
  EXPECT_EQ(f[1].value.as_string(), "[REDACTED_PASSWORD]");
  EXPECT_EQ(f[2].value.as_string(), "[REDACTED_PASSWORD]");
  EXPECT_EQ(f[3].value.as_string(), "[REDACTED_API_KEY]");
  EXPECT_EQ(f[4].value.as_string(), "[REDACTED_PASSWORD]");
  EXPECT_EQ(f[5].value.as_string(), "[REDACTED_AUTHORIZATION]");
  EXPECT_EQ(f[6].value.as_string(), "[REDACTED_COOKIE]");
  EXPECT_EQ(f[7].value.as_string(), "[REDACTED_TOKEN]");  // a number, by name
  EXPECT_TRUE(std::get<bool>(f[8].value.storage()));      // a boolean says nothing
  EXPECT_EQ(std::get<double>(f[9].value.storage()), 12.5);
  EXPECT_EQ(f[10].value.as_string(), "[REDACTED_PASSWORD]");  // separators anywhere
  EXPECT_EQ(f[11].value.as_string(), "one letter");
  EXPECT_EQ(f[12].value.as_string(), "only separators");
}

TEST(Fields, OtherStringValuesAreScannedByContent) {
  const Redactor r;
  const std::vector<Field> fields = {
      {"contact", "mail alice@example.com"},
      {"body", "{\"password\":\"x\",\"n\":1}"},
      {"note", "nothing"},
  };
  RedactedFields out;
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  const auto f = out.fields();
  EXPECT_EQ(f[0].value.as_string(), "mail [REDACTED_EMAIL]");
  EXPECT_EQ(f[1].value.as_string(), "{\"password\":\"[REDACTED_PASSWORD]\",\"n\":1}");
  EXPECT_EQ(f[2].value.as_string(), "nothing");
}

// Numbers of 13 digits or more are scanned as "key=value" (only a card
// number can be a bare number); the others are never formatted.
TEST(Fields, LongNumbersAreScannedForCardNumbers) {
  const Redactor r;
  const std::vector<Field> fields = {
      {"count", 4111111111111111ULL},              // Luhn-valid: a card
      {"total", std::int64_t{-5555555555554444}},  // negative too
      {"amount", 4111111111111111.0},              // and as a double
      {"user_id", 5234567890123404ULL},            // an identifier's key: left alone
      {"bytes", 4111111111111112ULL},              // fails Luhn
      {"small", 4242},
  };
  RedactedFields out;
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  const auto f = out.fields();
  ASSERT_EQ(f.size(), fields.size());
  EXPECT_EQ(f[0].value.as_string(), "[REDACTED_CREDIT_CARD]");
  EXPECT_EQ(f[1].value.as_string(), "-[REDACTED_CREDIT_CARD]");
  EXPECT_EQ(f[2].value.as_string(), "[REDACTED_CREDIT_CARD]");
  EXPECT_EQ(std::get<std::uint64_t>(f[3].value.storage()), 5234567890123404ULL);
  EXPECT_EQ(std::get<std::uint64_t>(f[4].value.storage()), 4111111111111112ULL);
  EXPECT_EQ(std::get<std::int64_t>(f[5].value.storage()), 4242);
}

TEST(Fields, CleanFieldsAreUnchangedAndTheScratchIsReused) {
  const Redactor r;
  RedactedFields out;
  const std::vector<Field> dirty = {{"password", "x"}, {"email", "a@b.io"}};
  ASSERT_EQ(r.redact_fields(dirty, out), Outcome::redacted);
  const std::vector<Field> clean = {{"user", "bob"}, {"status", 200}};
  EXPECT_EQ(r.redact_fields(clean, out), Outcome::unchanged);
  EXPECT_TRUE(out.fields().empty());
  // Warmed up: clean fields allocate nothing.
  const std::size_t before = allocations;
  EXPECT_EQ(r.redact_fields(clean, out), Outcome::unchanged);
  EXPECT_EQ(allocations, before);
}

// Short values (under 16 bytes) are first looked over for a byte that could
// start a match, and skip the scan when none does: whatever could match must
// still be scanned and found, in fields as in text.
TEST(Fields, ShortValuesThatCouldMatchAreStillRedacted) {
  const Redactor r;
  const std::vector<Field> fields = {
      {"card", "4222222222222"},        // 13 digits, Luhn-valid
      {"mail", "a@b.co"},               // the shortest address
      {"cmd", "pwd=x"},                 // a key=value secret
      {"tty", "\x1b[31mpwd=x\x1b[0m"},  // inside ANSI escapes
      {"line", "a@b.co\r\n"},           // before CR LF
      {"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"},
      {"aws", "AKIAIOSFODNN7EXAMPLE"},
      {"phone", "+14155550132"},
      {"ssn", "123-45-6789"},
      {"worker", "alpha"},         // nothing that could match
      {"state", "\xff\xfe@\xc3"},  // invalid UTF-8 never matches
      {"empty", ""},
  };
  RedactedFields out;
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  const auto f = out.fields();
  ASSERT_EQ(f.size(), fields.size());
  EXPECT_EQ(f[0].value.as_string(), "[REDACTED_CREDIT_CARD]");
  EXPECT_EQ(f[1].value.as_string(), "[REDACTED_EMAIL]");
  EXPECT_EQ(f[2].value.as_string(), "pwd=[REDACTED_PASSWORD]");
  EXPECT_EQ(f[3].value.as_string(), "\x1b[31mpwd=[REDACTED_PASSWORD]");
  EXPECT_EQ(f[4].value.as_string(), "[REDACTED_EMAIL]\r\n");
  EXPECT_EQ(f[5].value.as_string(), "[REDACTED_JWT]");
  EXPECT_EQ(f[6].value.as_string(), "[REDACTED_AWS_KEY]");
  EXPECT_EQ(f[7].value.as_string(), "[REDACTED_PHONE]");
  EXPECT_EQ(f[8].value.as_string(), "[REDACTED_SSN]");
  EXPECT_EQ(f[9].value.as_string(), "alpha");
  EXPECT_EQ(f[10].value.as_string(), "\xff\xfe@\xc3");
  EXPECT_EQ(f[11].value.as_string(), "");
  // The same values as text.
  for (std::size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(r.redacted(fields[i].value.as_string()), f[i].value.as_string()) << i;
  }
}

// A custom pattern can match bytes no built-in detector looks at: short
// values are then always searched.
TEST(Fields, ShortValuesMeetCustomPatternsWhateverTheirBytes) {
  RedactorOptions o;
  o.custom.push_back({"worker", "alpha", "WORKER"});
  const Redactor r(o);
  const std::vector<Field> fields = {{"worker", "alpha"}, {"other", "beta"}};
  RedactedFields out;
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  EXPECT_EQ(out.fields()[0].value.as_string(), "[REDACTED_WORKER]");
  EXPECT_EQ(out.fields()[1].value.as_string(), "beta");
  EXPECT_EQ(r.redacted("alpha"), "[REDACTED_WORKER]");
}

// Keys are rejected by their last two characters before any name is
// compared: keys that end like a name, in any case and with separators
// anywhere, still match; others that share a last letter do not.
TEST(Fields, NamesMatchWhateverTheCaseAndSeparatorsOfTheKey) {
  const Redactor r;
  const std::vector<Field> fields = {
      {"DB_PASSWORD__", "a"},
      {"x.api-KEY", "b"},
      {"pass.wd", "c"},
      {"Cookie-", "d"},
      {"user_credentials", "e"},
      {"id", "f"},
      {"ms", "g"},
      {"worker", "h"},
      {"word", "i"},
      {"keys", "j"},
      {"tokens", "k"},
      {"P", "l"},
      {"-d", "m"},
      {"\xff\xfe\x64", "n"},  // invalid UTF-8, then 'd'
      {"PWD", "o"},
      {"xpwd_", "p"},
  };
  RedactedFields out;
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  const auto f = out.fields();
  ASSERT_EQ(f.size(), fields.size());
  EXPECT_EQ(f[0].value.as_string(), "[REDACTED_PASSWORD]");
  EXPECT_EQ(f[1].value.as_string(), "[REDACTED_API_KEY]");
  EXPECT_EQ(f[2].value.as_string(), "[REDACTED_PASSWORD]");
  EXPECT_EQ(f[3].value.as_string(), "[REDACTED_COOKIE]");
  EXPECT_EQ(f[4].value.as_string(), "[REDACTED_CREDENTIALS]");
  for (std::size_t i = 5; i <= 13; ++i)
    EXPECT_EQ(f[i].value.as_string(), fields[i].value.as_string()) << i;
  EXPECT_EQ(f[14].value.as_string(), "[REDACTED_PASSWORD]");
  EXPECT_EQ(f[15].value.as_string(), "[REDACTED_PASSWORD]");
}

TEST(Fields, TheNameListIsConfigurableAndTakesActions) {
  RedactorOptions o;
  o.sensitive_fields = {{"session_id", "SESSION", Action::hash}, {"card", "CARD", Action::drop}};
  o.hash_key = "k";
  const Redactor r(o);
  RedactedFields out;
  std::vector<Field> fields = {{"sessionId", "abc"}, {"password", "not listed any more"}};
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  EXPECT_EQ(out.fields()[0].value.as_string(), "[SESSION:" + hmac_hex12("k", "abc") + "]");
  EXPECT_EQ(out.fields()[1].value.as_string(), "not listed any more");
  fields = {{"billing.card", "x"}};
  EXPECT_EQ(r.redact_fields(fields, out), Outcome::drop);
}

TEST(Fields, AOneCharacterNameMatchesEveryKeyEndingInIt) {
  RedactorOptions o;
  o.sensitive_fields = {{"x", "X"}, {"token", "TOKEN"}};
  const Redactor r(o);
  RedactedFields out;
  const std::vector<Field> fields = {
      {"max", "1"}, {"X", "2"}, {"a.x_", "3"}, {"xa", "4"}, {"csrf-token", "5"}};
  ASSERT_EQ(r.redact_fields(fields, out), Outcome::redacted);
  const auto f = out.fields();
  EXPECT_EQ(f[0].value.as_string(), "[REDACTED_X]");
  EXPECT_EQ(f[1].value.as_string(), "[REDACTED_X]");
  EXPECT_EQ(f[2].value.as_string(), "[REDACTED_X]");
  EXPECT_EQ(f[3].value.as_string(), "4");
  EXPECT_EQ(f[4].value.as_string(), "[REDACTED_TOKEN]");
}

TEST(Fields, BadFieldRulesAreConfigurationErrors) {
  RedactorOptions o;
  o.sensitive_fields = {{"__", "X"}};
  EXPECT_THROW(Redactor{o}, hydra::ConfigError);
  o.sensitive_fields = {{"pin!", "PIN"}};
  EXPECT_THROW(Redactor{o}, hydra::ConfigError);
  o.sensitive_fields = {{"pin", "BAD TYPE"}};
  EXPECT_THROW(Redactor{o}, hydra::ConfigError);
  o.sensitive_fields = {{"pin", "PIN", Action::hash}};
  EXPECT_THROW(Redactor{o}, hydra::ConfigError);
}

// ---------------------------------------------------------------------------
// Custom detectors

TEST(Custom, APatternRedactsItsMatches) {
  RedactorOptions o;
  o.custom.push_back({"employee", R"(\bEMP-\d{6}\b)", "EMPLOYEE_ID"});
  const Redactor r(o);
  EXPECT_EQ(r.redacted("by EMP-123456 and EMP-654321, not EMP-12"),
            "by [REDACTED_EMPLOYEE_ID] and [REDACTED_EMPLOYEE_ID], not EMP-12");
}

TEST(Custom, ACapturingGroupKeepsTheRestVisible) {
  RedactorOptions o;
  o.custom.push_back({"order", R"(order_secret=(\w+))", "ORDER"});
  EXPECT_EQ(Redactor(o).redacted("x order_secret=abc123 y"), "x order_secret=[REDACTED_ORDER] y");
}

TEST(Custom, ActionsApplyToCustomDetectors) {
  RedactorOptions o;
  o.hash_key = "k";
  o.custom.push_back({"badge", R"(BADGE\d+)", "BADGE", Action::hash});
  o.custom.push_back({"vip", R"(VIP-\w+)", "VIP", Action::drop});
  const Redactor r(o);
  EXPECT_EQ(r.redacted("badge BADGE42"), "badge [BADGE:" + hmac_hex12("k", "BADGE42") + "]");
  std::string out;
  EXPECT_EQ(r.redact("VIP-alice arrived", out), Outcome::drop);
  EXPECT_EQ(out, "[REDACTED_VIP] arrived");
}

TEST(Custom, OverlapsWithBuiltInMatchesLeakNothing) {
  RedactorOptions o;
  o.custom.push_back({"mailbox", R"(mailbox \S+)", "MAILBOX"});
  const Redactor r(o);
  // The custom match starts first and covers part of the email: both are
  // hidden under one replacement.
  EXPECT_EQ(r.redacted("open mailbox alice@example.com now"), "open [REDACTED_MAILBOX] now");
  o.custom = {{"tail", R"(example\.com now)", "TAIL"}};
  EXPECT_EQ(Redactor(o).redacted("open mailbox alice@example.com now"),
            "open mailbox [REDACTED_EMAIL]");
}

TEST(Custom, AnEmptyMatchIsNeverAReplacementAndNeverALoop) {
  RedactorOptions o;
  o.custom.push_back({"stars", "x*", "X"});
  EXPECT_EQ(Redactor(o).redacted("abc xx d"), "abc [REDACTED_X] d");
}

TEST(Custom, AnInvalidPatternFailsNamingThePatternAndTheError) {
  RedactorOptions o;
  o.custom.push_back({"broken", "(unclosed[", "BROKEN"});
  try {
    Redactor r(o);
    FAIL() << "no ConfigError";
  } catch (const hydra::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'broken'"), std::string::npos) << what;
    EXPECT_NE(what.find("'(unclosed['"), std::string::npos) << what;
    EXPECT_NE(what.find("missing"), std::string::npos) << what;  // RE2's own words
  }
}

TEST(Custom, BacktrackingPatternsStayLinear) {
  // (a+)+b is catastrophic for a backtracking engine on "aaa...a"; RE2 is not.
  RedactorOptions o;
  o.custom.push_back({"evil", "(a+)+b", "EVIL"});
  const Redactor r(o);
  const std::string text(200000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(r.redacted(text), text);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Custom, NamesAndTypesAreChecked) {
  RedactorOptions o;
  o.custom = {{"", "x", "X"}};
  EXPECT_THROW(Redactor{o}, hydra::ConfigError);
  o.custom = {{"n", "x", "has space"}};
  EXPECT_THROW(Redactor{o}, hydra::ConfigError);
  o.custom = {{"n", "x", "X", Action::hash}};
  EXPECT_THROW(Redactor{o}, hydra::ConfigError);
}

// ---------------------------------------------------------------------------
// Names

TEST(Names, DetectorsAndActionsRoundTrip) {
  for (std::size_t d = 0; d < hydra::protect::kDetectorCount; ++d) {
    const auto det = static_cast<Detector>(d);
    EXPECT_EQ(hydra::protect::parse_detector(hydra::protect::detector_name(det)), det);
    EXPECT_NE(hydra::protect::kDetectorChoices.find(hydra::protect::detector_name(det)),
              std::string_view::npos);
  }
  for (const Action a : {Action::redact, Action::mask, Action::hash, Action::drop}) {
    EXPECT_EQ(hydra::protect::parse_action(hydra::protect::action_name(a)), a);
  }
  EXPECT_FALSE(hydra::protect::parse_detector("nope"));
  EXPECT_FALSE(hydra::protect::parse_action("nope"));
}

// ---------------------------------------------------------------------------
// Hostile input

RedactorOptions everything_on() {
  RedactorOptions o;
  for (auto& d : o.detectors) d.enabled = true;
  o.custom.push_back({"c", R"(\d{3}-\w+)", "C"});
  return o;
}

TEST(Hostile, InvalidUtf8PassesThroughAndNeverMatches) {
  const Redactor r(everything_on());
  const std::string text = "\xff\xfe bob@example.com\xc3 \x80password=\xe2\x82 end\xf0";
  EXPECT_EQ(r.redacted(text),
            "\xff\xfe [REDACTED_EMAIL]\xc3 \x80password=[REDACTED_PASSWORD] end\xf0");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  r.redacted(all + all + all);  // no crash, no sanitizer report
  const std::string with_nul("a\0b@example.com\0", 16);
  EXPECT_EQ(r.redacted(with_nul), std::string("a\0[REDACTED_EMAIL]\0", 19));
}

TEST(Hostile, RandomAndHugeInputIsScannedInLinearTime) {
  const Redactor r(everything_on());
  std::mt19937_64 rng(1);
  // Random bytes drawn from the characters the scanners care about.
  const std::string alphabet = "0123456789@:=+-_AJey.ab /\"'\\x( )KIAgh\n";
  std::string text(16 << 20, ' ');
  for (char& c : text) c = alphabet[rng() % alphabet.size()];
  const auto start = std::chrono::steady_clock::now();
  std::string out;
  r.redact(text, out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(Hostile, PathologicalRepetitionsStayFast) {
  const Redactor r(everything_on());
  const std::size_t n = 1 << 20;
  auto repeat = [&](std::string_view unit) {
    std::string s;
    while (s.size() < n) s += unit;
    return s;
  };
  for (const std::string& text : {
           repeat("@"),
           repeat("a@"),
           repeat("a.b@c"),
           repeat(":"),
           repeat("1:"),
           repeat("::1:"),
           repeat("="),
           repeat("password="),
           repeat("password=\""),
           repeat("x://u:"),
           repeat("-----BEGIN PRIVATE KEY-----"),
           repeat("-----BEGIN "),
           repeat("-"),
           repeat("eyJaaaaaaaaaaaa."),
           repeat("xoxb-"),
           repeat("ghp_"),
           repeat("AKIA"),
           repeat("1 "),
           repeat("1-"),
           repeat("1."),
           std::string(n, '7'),
           repeat("+1 "),
           repeat("(415) "),
           repeat("DE89 "),
           repeat("\"token\":\"\\\""),
           repeat("_"),
           "1.2.3." + std::string(n, '9'),
           repeat("1.2.3.4 "),
           repeat("s3://user:"),
       }) {
    const auto start = std::chrono::steady_clock::now();
    std::string out;
    r.redact(text, out);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10))
        << text.substr(0, 20);
  }
}

// The scan handles the first bytes of a text, the 16-byte blocks after them
// and the last bytes each their own way: a match is found the same wherever
// it stands, and the text around it is kept.
TEST(Redactor, MatchesAreFoundWhereverTheyStandInTheText) {
  const Redactor r(everything_on());
  const std::vector<std::string> samples = {
      "alice@example.com", "4111 1111 1111 1111", "4222222222222", "123-45-6789", "(415) 555-0132",
      "415-555-0132", "+44 20 7946 0958", "+14155550132", "password=hunter2", "\"token\": \"abc\"",
      "Authorization: Bearer abc.def", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
      "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "xoxb-1234567890-abcdef",
      "sk_live_abcdefghij0123", "AIzaSyA-1234567890abcdefghijklmnopqrstu",
      "postgres://app:secret@db:5432/prod",
      "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "192.168.1.1",
      "2001:db8::1", "DE89 3704 0044 0532 0130 00",
      // Clean: numbers the digit filter drops, and a card number spared by its key.
      "request 12345 handled in 1.500 ms by worker alpha", "at 2026-11-27T10:13:12.345Z",
      "user_id=4111111111111111", "v1.2.3 (build 20261127)"};
  for (const std::string& sample : samples) {
    const std::string alone = r.redacted(sample);
    for (std::size_t before = 0; before <= 40; ++before) {
      for (std::size_t after = 0; after <= 40; ++after) {
        const std::string pad_before(before, ' ');
        const std::string pad_after(after, ' ');
        ASSERT_EQ(r.redacted(pad_before + sample + pad_after), pad_before + alone + pad_after)
            << "'" << sample << "' after " << before << " spaces, before " << after;
      }
    }
  }
}

TEST(Hostile, CutOffStructuresAtTheEndOfTheText) {
  const Redactor r(everything_on());
  for (const std::string text :
       {"password=\"unterminated", "-----BEGIN RSA PRIVATE KEY-----", "eyJhbGciOiJIUzI1NiJ9.",
        "postgres://u:", "(415) 555-", "+1 415", "a@", "@b.io", "DE89", "AKIAIOSFOD", "ghp_",
        "4111 1111 1111 111", "::", "1.2.3.", "Authorization: Bearer ", "\\\"password\\\":\\\""}) {
    r.redacted(text);
    for (std::size_t cut = 0; cut <= text.size(); ++cut) r.redacted(text.substr(0, cut));
  }
  EXPECT_EQ(r.redacted("password=\"unterminated"), "password=\"[REDACTED_PASSWORD]");
  EXPECT_EQ(r.redacted("key -----BEGIN RSA PRIVATE KEY-----\nMIIE"), "key [REDACTED_PRIVATE_KEY]");
}

// ---------------------------------------------------------------------------
// Concurrency

TEST(Concurrency, OneRedactorServesManyThreads) {
  RedactorOptions o;
  o.custom.push_back({"emp", R"(EMP-\d+)", "EMP"});
  const Redactor r(o);
  const std::string in = "user a@b.io EMP-42 password=x card 4111111111111111";
  const std::string expected =
      "user [REDACTED_EMAIL] [REDACTED_EMP] password=[REDACTED_PASSWORD] card "
      "[REDACTED_CREDIT_CARD]";
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string out;
      for (int i = 0; i < 5000; ++i) {
        out.clear();
        r.redact(in, out);
        if (out != expected) ++wrong[t];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0);
}

}  // namespace
