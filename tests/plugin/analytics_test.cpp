// The built-in analytics, fed records directly and ticked with explicit
// times: `rates` (counts, rates, message templates, bounded memory) and
// `security_bursts` (bursts at the threshold, once per window, per key,
// bounded memory); and message_shape, which makes the templates.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin/analytics/message_shape.hpp"
#include "plugin/analytics/rates.hpp"
#include "plugin/analytics/security_bursts.hpp"

namespace {

using hydra::Field;
using hydra::FieldSpan;
using hydra::Level;
using hydra::Record;
using hydra::plugin::analytics::Rates;
using hydra::plugin::analytics::RatesSettings;
using hydra::plugin::analytics::SecurityBursts;
using hydra::plugin::analytics::SecurityBurstsSettings;
using json = nlohmann::json;
using std::chrono::seconds;
using Time = std::chrono::system_clock::time_point;

// A fixed "now", far from the epoch, on a whole minute.
const Time kT0 = Time(seconds(1'800'000'000));

Record record(Time time, Level level, std::string_view layer, std::string_view message,
              std::span<const Field> fields = {}, std::span<const FieldSpan> spans = {}) {
  Record r;
  r.time = time;
  r.level = level;
  r.layer = layer;
  r.message = message;
  r.fields = fields;
  r.field_spans = spans;
  return r;
}

// What an Emitter was given, copied.
struct Emitted {
  Level level;
  std::string layer;
  std::string message;
  std::map<std::string, std::string> fields;
};

class FakeEmitter final : public hydra::plugin::Emitter {
 public:
  void emit(Level level, std::string_view layer, std::string_view message,
            std::span<const Field> fields) override {
    Emitted e{level, std::string(layer), std::string(message), {}};
    for (const Field& f : fields) {
      fmt::memory_buffer text;
      f.value.append_text(text);
      e.fields[std::string(f.key)] = fmt::to_string(text);
    }
    records.push_back(std::move(e));
  }
  std::vector<Emitted> records;
};

std::string shape(std::string_view message, std::span<const Field> fields = {},
                  std::span<const FieldSpan> spans = {}) {
  char out[hydra::plugin::analytics::kShapeCapacity];
  const Record r = record(kT0, Level::info, "APP", message, fields, spans);
  return std::string(out, hydra::plugin::analytics::message_shape(r, out));
}

// --- message_shape ---------------------------------------------------------

TEST(MessageShape, CollapsesWordsWithDigitsAndQuotedStrings) {
  EXPECT_EQ(shape("user 42 logged in"), "user <n> logged in");
  EXPECT_EQ(shape("GET /api/v1/users/42 took 12ms"), "GET /api/<n>/users/<n> took <n>");
  EXPECT_EQ(shape("from 10.0.0.1:8080 trace=4bf92f3577b34da6a3ce929d0e0e4736"),
            "from <n>:<n> trace=<n>");
  EXPECT_EQ(shape("id 123e4567-e89b-12d3-a456-426614174000 (retry 3)"), "id <n> (retry <n>)");
  EXPECT_EQ(shape(R"(file "/tmp/a b.txt" not found, key 'k1')"), "file <s> not found, key <s>");
  // A quote inside a word, or without its closing one, is text.
  EXPECT_EQ(shape("don't retry 'twice"), "don't retry 'twice");
  EXPECT_EQ(shape("no variable part here"), "no variable part here");
  EXPECT_EQ(shape(""), "");
}

TEST(MessageShape, NamedPlaceholdersBecomeTheirNames) {
  const std::string message = "order 17 shipped to bob in 3 days";
  const Field fields[] = {{"order", 17}, {"customer", "bob"}};
  const FieldSpan spans[] = {{0, 6, 8}, {1, 20, 23}};
  EXPECT_EQ(shape(message, fields, spans), "order {order} shipped to {customer} in <n> days");
  // Spans out of order, out of the text or naming no field are ignored.
  const FieldSpan bad[] = {{1, 20, 23}, {0, 6, 8}, {0, 30, 99}, {5, 0, 1}};
  EXPECT_EQ(shape(message, fields, bad), "order <n> shipped to {customer} in <n> days");
}

TEST(MessageShape, ReadsOnlyTheStartOfALongMessage) {
  const std::string head(hydra::plugin::analytics::kShapeInput, 'a');
  EXPECT_EQ(shape(head + " tail 1"), head);
  EXPECT_EQ(shape(head + " other tail"), head);
  // Digits everywhere: each byte may become "<n>", and it still fits.
  std::string digits;
  for (int i = 0; i < 400; ++i) digits += "1 ";
  const std::string s = shape(digits);
  EXPECT_EQ(s.substr(0, 8), "<n> <n> ");
  EXPECT_EQ(s.size(), 128u * 4);  // 128 "1 " pairs in 256 bytes
}

TEST(MessageShape, HashSeparatesShapes) {
  using hydra::plugin::analytics::shape_hash;
  EXPECT_EQ(shape_hash("user <n> logged in"), shape_hash("user <n> logged in"));
  EXPECT_NE(shape_hash("user <n> logged in"), shape_hash("user <n> logged out"));
  EXPECT_NE(shape_hash("a"), shape_hash(std::string_view("a\0", 2)));
  EXPECT_NE(shape_hash(""), 0u);
}

// --- rates ------------------------------------------------------------------

TEST(Rates, CountsByLayerAndLevelExactly) {
  Rates rates(RatesSettings{});
  for (int i = 0; i < 12; ++i) rates.observe(record(kT0, Level::info, "APP", "hello"));
  for (int i = 0; i < 3; ++i) rates.observe(record(kT0, Level::error, "APP", "boom"));
  for (int i = 0; i < 2; ++i) rates.observe(record(kT0, Level::warning, "DB", "slow"));
  rates.observe(record(kT0, Level::security, "SECURITY", "intrusion"));
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["records"], 18);
  EXPECT_EQ(j["by_layer"], json::parse(R"({"APP":{"info":12,"error":3},"DB":{"warning":2},)"
                                       R"("SECURITY":{"security":1}})"));
  EXPECT_EQ(j["by_level"], json::parse(R"({"info":12,"warning":2,"error":3,"security":1})"));
  EXPECT_EQ(j["templates_tracked"], 4);
  EXPECT_EQ(j["templates_untracked"], 0);
}

TEST(Rates, RatePerSecondIsOverTheWindow) {
  Rates rates(RatesSettings{.window = seconds(10)});
  // 20 records in the window, 7 before it, 3 in the future of `now`.
  for (int i = 0; i < 20; ++i) rates.observe(record(kT0 - seconds(5), Level::info, "APP", "in"));
  for (int i = 0; i < 7; ++i) rates.observe(record(kT0 - seconds(15), Level::info, "APP", "old"));
  for (int i = 0; i < 3; ++i) rates.observe(record(kT0 + seconds(3), Level::info, "DB", "next"));
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["window_s"], 10);
  EXPECT_DOUBLE_EQ(j["rate_per_s"]["APP"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["rate_per_s"]["DB"].get<double>(), 0.0);
  // Later, the old records have left the window and the future ones are in.
  const json later = json::parse(rates.insights_at(kT0 + seconds(4)));
  EXPECT_DOUBLE_EQ(later["rate_per_s"]["APP"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(later["rate_per_s"]["DB"].get<double>(), 0.3);
  const json gone = json::parse(rates.insights_at(kT0 + seconds(60)));
  EXPECT_DOUBLE_EQ(gone["rate_per_s"]["APP"].get<double>(), 0.0);
  EXPECT_EQ(gone["records"], 30);
}

TEST(Rates, TopTemplatesInOrder) {
  Rates rates(RatesSettings{.top = 3});
  for (int i = 0; i < 5; ++i) {
    const std::string m = "user " + std::to_string(100 + i) + " logged in";
    rates.observe(record(kT0, Level::info, "APP", m));
  }
  for (int i = 0; i < 2; ++i) rates.observe(record(kT0, Level::info, "APP", "user 7 logged out"));
  for (int i = 0; i < 3; ++i) {
    const std::string m = "cache miss for key 'k" + std::to_string(i) + "'";
    rates.observe(record(kT0, Level::debug, "CACHE", m));
  }
  const Field fields[] = {{"order", 17}, {"customer", "bob"}};
  const FieldSpan spans[] = {{0, 6, 8}, {1, 20, 23}};
  rates.observe(record(kT0, Level::info, "APP", "order 17 shipped to bob", fields, spans));
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["top_templates"], json::parse(R"([
    {"template":"user <n> logged in","count":5},
    {"template":"cache miss for key <s>","count":3},
    {"template":"user <n> logged out","count":2}])"));
  EXPECT_EQ(j["templates_tracked"], 4);
  Rates all(RatesSettings{});
  all.observe(record(kT0, Level::info, "APP", "order 17 shipped to bob", fields, spans));
  EXPECT_EQ(json::parse(all.insights_at(kT0))["top_templates"][0]["template"],
            "order {order} shipped to {customer}");
}

TEST(Rates, CountsByCallSiteAndGeneralisesItsText) {
  Rates rates(RatesSettings{});
  const hydra::SourceLocation login{"src/auth.cpp", "login", 42};
  const hydra::SourceLocation logout{"src/auth.cpp", "logout", 50};
  const char* const users[] = {"bob", "eve", "mallory"};
  for (int i = 0; i < 10; ++i) {
    const std::string message = "user " + std::string(users[i % 3]) + " logged in";
    Record r = record(kT0, Level::info, "APP", message);
    r.source = login;
    rates.observe(r);
  }
  for (int i = 0; i < 3; ++i) {
    const std::string message = "bob logged out after " + std::to_string(i) + "s";
    Record r = record(kT0, Level::info, "APP", message);
    r.source = logout;
    rates.observe(r);
  }
  // The same text without a call site is counted by its shape, apart.
  rates.observe(record(kT0, Level::info, "APP", "user bob logged in"));
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["top_templates"], json::parse(R"([
    {"template":"user <*> logged in","count":10,"source":"src/auth.cpp:42"},
    {"template":"bob logged out after <n>","count":3,"source":"src/auth.cpp:50"},
    {"template":"user bob logged in","count":1}])"));
}

// A run of records from one statement takes a cached path (its template
// and step remembered); the counts stay exact when the run crosses layers
// and steps, and when the table the cache points into is evicted under it.
TEST(Rates, RunsOfOneStatementStayExactAcrossLayersStepsAndEviction) {
  Rates rates(RatesSettings{.window = seconds(60), .max_templates = 2});
  const hydra::SourceLocation hot{"src/hot.cpp", "work", 7};
  const hydra::SourceLocation other{"src/other.cpp", "other", 9};
  const auto sited = [](Time t, std::string_view layer, const hydra::SourceLocation& at,
                        std::string_view message) {
    Record r = record(t, Level::info, layer, message);
    r.source = at;
    return r;
  };
  // 30 in APP and 10 in DB, alternating, over 4 one-second steps.
  for (int i = 0; i < 40; ++i) {
    const Time t = kT0 - seconds(3) + seconds(i / 10);
    rates.observe(sited(t, i % 4 == 3 ? "DB" : "APP", hot, "job done"));
  }
  rates.observe(sited(kT0, "APP", other, "other thing"));  // the table is full now
  FakeEmitter emitter;
  rates.tick(kT0, emitter);  // asks for room: taken at the next record, under the cache
  for (int i = 0; i < 5; ++i) rates.observe(sited(kT0, "APP", hot, "job done"));
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["records"], 46);
  EXPECT_EQ(j["by_layer"], json::parse(R"({"APP":{"info":36},"DB":{"info":10}})"));
  EXPECT_DOUBLE_EQ(j["rate_per_s"]["APP"].get<double>(), 36.0 / 60);
  EXPECT_DOUBLE_EQ(j["rate_per_s"]["DB"].get<double>(), 10.0 / 60);
  EXPECT_EQ(j["templates_evicted"], 1);
  EXPECT_EQ(j["top_templates"],
            json::parse(R"([{"template":"job done","count":45,"source":"src/hot.cpp:7"}])"));
}

TEST(Rates, ACallSiteOfManyShapesIsCountedByShape) {
  Rates rates(RatesSettings{});
  const hydra::SourceLocation wrapper{"src/log_helper.cpp", "log_it", 7};
  const auto log_it = [&](std::string_view message) {
    Record r = record(kT0, Level::info, "APP", message);
    r.source = wrapper;
    rates.observe(r);
  };
  log_it("disk full");
  log_it("cache cleared in 5 ms");  // its 2nd record: not one statement's shapes
  for (int i = 0; i < 3; ++i) log_it("disk full");
  for (int i = 0; i < 2; ++i) log_it("cache cleared in " + std::to_string(i) + " ms");
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["top_templates"], json::parse(R"([
    {"template":"disk full","count":3},
    {"template":"<*>","count":2,"source":"src/log_helper.cpp:7"},
    {"template":"cache cleared in <n> ms","count":2}])"));
  EXPECT_EQ(j["records"], 7);
}

TEST(Rates, AThreadThatExitsLeavesItsCountsAndItsShardToOthers) {
  Rates rates(RatesSettings{});
  for (int t = 0; t < 3; ++t) {
    std::thread([&] {
      for (int i = 0; i < 100; ++i) rates.observe(record(kT0, Level::info, "APP", "x"));
    }).join();
  }
  rates.observe(record(kT0, Level::error, "APP", "y"));
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["by_layer"]["APP"], json::parse(R"({"info":300,"error":1})"));
  EXPECT_EQ(j["top_templates"][0], json::parse(R"({"template":"x","count":300})"));
}

TEST(Rates, MemoryIsBoundedAndTickMakesRoom) {
  Rates rates(RatesSettings{.top = 10, .max_templates = 4});
  const std::vector<std::string> words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
  // alpha 6 times, beta 5, ... zeta once: the first four fill the table.
  for (std::size_t w = 0; w < words.size(); ++w) {
    for (std::size_t i = 0; i < words.size() - w; ++i) {
      rates.observe(record(kT0, Level::info, "APP", words[w] + " happened"));
    }
  }
  json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["records"], 21);
  EXPECT_EQ(j["templates_tracked"], 4);
  EXPECT_EQ(j["templates_untracked"], 2 + 1);  // epsilon's and zeta's records
  ASSERT_EQ(j["top_templates"].size(), 4u);
  EXPECT_EQ(j["top_templates"][3], json::parse(R"({"template":"delta happened","count":3})"));

  // The table is full: tick() has the more frequent half kept, by the
  // observing thread at its next record.
  FakeEmitter emitter;
  rates.tick(kT0, emitter);
  EXPECT_TRUE(emitter.records.empty());
  for (int i = 0; i < 9; ++i) rates.observe(record(kT0, Level::info, "APP", "late but busy"));
  j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["templates_tracked"], 3);
  EXPECT_EQ(j["templates_evicted"], 2);
  EXPECT_EQ(j["top_templates"][0], json::parse(R"({"template":"late but busy","count":9})"));
  EXPECT_EQ(j["top_templates"][1], json::parse(R"({"template":"alpha happened","count":6})"));
  EXPECT_EQ(j["templates_untracked"], 3);

  // Thousands of distinct templates (words without digits are not
  // collapsed) still leave at most max_templates tracked.
  for (int i = 0; i < 5000; ++i) {
    std::string word;
    for (int n = i; n > 0 || word.empty(); n /= 26) word.push_back(static_cast<char>('a' + n % 26));
    rates.observe(record(kT0, Level::info, "APP", "event " + word));
  }
  j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["templates_tracked"], 4);
  EXPECT_EQ(j["records"], 21 + 9 + 5000);
}

TEST(Rates, ManyLayersShareOneEntryPastTheLimit) {
  Rates rates(RatesSettings{});
  for (std::size_t i = 0; i < Rates::kMaxLayers + 10; ++i) {
    rates.observe(record(kT0, Level::info, "L" + std::to_string(i), "x"));
  }
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["by_layer"].size(), Rates::kMaxLayers + 1);
  EXPECT_EQ(j["by_layer"]["(other)"]["info"], 10);
}

TEST(Rates, ConcurrentObserversLoseNoCount) {
  Rates rates(RatesSettings{});
  constexpr int kThreads = 4;
  constexpr int kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string layer = t % 2 == 0 ? "APP" : "DB";
      for (int i = 0; i < kEach; ++i) {
        rates.observe(record(kT0, Level::info, layer, "request " + std::to_string(i) + " done"));
      }
    });
  }
  // insights() and tick() run meanwhile, as they do in a logger.
  FakeEmitter emitter;
  for (int i = 0; i < 50; ++i) {
    rates.tick(kT0, emitter);
    EXPECT_TRUE(json::parse(rates.insights_at(kT0)).is_object());
  }
  for (std::thread& t : threads) t.join();
  const json j = json::parse(rates.insights_at(kT0));
  EXPECT_EQ(j["records"], kThreads * kEach);
  EXPECT_EQ(j["by_level"]["info"], kThreads * kEach);
  EXPECT_EQ(j["by_layer"]["APP"]["info"], kThreads / 2 * kEach);
  EXPECT_EQ(j["top_templates"][0]["count"], kThreads * kEach);
}

// --- security_bursts --------------------------------------------------------

void fail(SecurityBursts& s, Time time, std::vector<Field> fields,
          std::string_view message = "login failed") {
  s.observe(record(time, Level::warning, "AUTH", message, fields));
}

TEST(SecurityBursts, ABurstAtTheThresholdIsWrittenOncePerWindow) {
  SecurityBursts s(SecurityBurstsSettings{});  // 5 in 60s
  FakeEmitter emitter;
  for (int i = 0; i < 4; ++i) fail(s, kT0 + seconds(i), {{"user", "bob"}});
  s.tick(kT0 + seconds(10), emitter);
  EXPECT_TRUE(emitter.records.empty()) << "below the threshold";

  fail(s, kT0 + seconds(11), {{"user", "bob"}});
  s.tick(kT0 + seconds(12), emitter);
  ASSERT_EQ(emitter.records.size(), 1u);
  const Emitted& e = emitter.records[0];
  EXPECT_EQ(e.level, Level::security);
  EXPECT_EQ(e.layer, "SECURITY");
  EXPECT_EQ(e.message, "burst of 5 failed logins for user=bob within 60s");
  EXPECT_EQ(e.fields, (std::map<std::string, std::string>{
                          {"key", "user"}, {"value", "bob"}, {"count", "5"}, {"window_s", "60"}}));

  // More failures in the same window: no second record.
  fail(s, kT0 + seconds(20), {{"user", "bob"}});
  fail(s, kT0 + seconds(21), {{"user", "bob"}});
  s.tick(kT0 + seconds(22), emitter);
  s.tick(kT0 + seconds(50), emitter);
  EXPECT_EQ(emitter.records.size(), 1u);

  // A window after the first record, a new burst is a new record.
  for (int i = 0; i < 5; ++i) fail(s, kT0 + seconds(100 + i), {{"user", "bob"}});
  s.tick(kT0 + seconds(110), emitter);
  ASSERT_EQ(emitter.records.size(), 2u);
  EXPECT_EQ(emitter.records[1].message, "burst of 5 failed logins for user=bob within 60s");

  const json j = json::parse(s.insights_at(kT0 + seconds(110)));
  EXPECT_EQ(j["bursts"], 2);
  EXPECT_EQ(j["failures"], 12);
  EXPECT_EQ(j["top"], json::parse(R"([{"key":"user","value":"bob","count":5}])"));
}

TEST(SecurityBursts, ForgettingAQuietKeyDoesNotLetASecondRecordThroughEarly) {
  SecurityBursts s(SecurityBurstsSettings{});  // 5 in 60s
  FakeEmitter emitter;
  for (int i = 0; i < 5; ++i) fail(s, kT0 + seconds(i), {{"user", "bob"}});
  s.tick(kT0 + seconds(55), emitter);
  ASSERT_EQ(emitter.records.size(), 1u);
  // No failure for a window: but the burst was reported 11s ago.
  s.tick(kT0 + seconds(66), emitter);
  for (int i = 0; i < 5; ++i) fail(s, kT0 + seconds(67 + i), {{"user", "bob"}});
  s.tick(kT0 + seconds(72), emitter);
  EXPECT_EQ(emitter.records.size(), 1u);
  s.tick(kT0 + seconds(115), emitter);
  ASSERT_EQ(emitter.records.size(), 2u);
}

TEST(SecurityBursts, FailuresSpreadOverMoreThanAWindowAreNoBurst) {
  SecurityBursts s(SecurityBurstsSettings{.threshold = 3, .window = seconds(60)});
  FakeEmitter emitter;
  for (int i = 0; i < 6; ++i) fail(s, kT0 + seconds(i * 40), {{"user", "carol"}});
  s.tick(kT0 + seconds(5 * 40), emitter);
  EXPECT_TRUE(emitter.records.empty());
  EXPECT_EQ(json::parse(s.insights_at(kT0 + seconds(200)))["top"][0]["count"], 2);
}

TEST(SecurityBursts, CountsPerUserAndPerAddressApart) {
  SecurityBursts s(SecurityBurstsSettings{.threshold = 3});
  FakeEmitter emitter;
  // One address trying five users: a burst for the address only.
  for (const char* user : {"a", "b", "c", "d", "e"}) {
    fail(s, kT0, {{"user", user}, {"ip", "203.0.113.9"}});
  }
  // One user from three addresses: a burst for the user only.
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
    fail(s, kT0, {{"user", "mallory"}, {"ip", ip}});
  }
  s.tick(kT0 + seconds(1), emitter);
  ASSERT_EQ(emitter.records.size(), 2u);
  EXPECT_EQ(emitter.records[0].message, "burst of 5 failed logins for ip=203.0.113.9 within 60s");
  EXPECT_EQ(emitter.records[1].message, "burst of 3 failed logins for user=mallory within 60s");
  EXPECT_EQ(json::parse(s.insights_at(kT0))["tracked"], 6 + 4);  // users, addresses
}

TEST(SecurityBursts, WhatCountsAsAFailedLogin) {
  const SecurityBursts s(SecurityBurstsSettings{});
  const auto failure = [&](std::string_view message, std::vector<Field> fields = {}) {
    return s.is_failure(record(kT0, Level::info, "AUTH", message, fields));
  };
  EXPECT_TRUE(failure("Login FAILED for bob"));
  EXPECT_TRUE(failure("user bob: authentication failed (bad token)"));
  EXPECT_TRUE(failure("Invalid Password"));
  EXPECT_TRUE(failure("auth", {{"event", "login_failed"}}));
  EXPECT_TRUE(failure("auth", {{"outcome", "FAILURE"}}));
  EXPECT_FALSE(failure("login succeeded"));
  EXPECT_FALSE(failure("login fail"));
  EXPECT_FALSE(failure("auth", {{"outcome", "success"}, {"event", "login"}}));
  // Its own records, by field or by message.
  EXPECT_FALSE(failure("login failed", {{"plugin", "security_bursts"}}));
  EXPECT_FALSE(failure("burst of 5 failed logins for user=x within 60s"));

  const SecurityBursts custom(SecurityBurstsSettings{.match = {"ACCESS DENIED", ""}});
  EXPECT_TRUE(custom.is_failure(record(kT0, Level::info, "AUTH", "access denied to x")));
  EXPECT_FALSE(custom.is_failure(record(kT0, Level::info, "AUTH", "login failed")));
}

TEST(SecurityBursts, ThePhraseSearchFindsEveryPlaceAndNothingElse) {
  const SecurityBursts s(SecurityBurstsSettings{.match = {"login failed", "Bad PIN", "denied"}});
  const auto failure = [&](std::string_view message) {
    return s.is_failure(record(kT0, Level::info, "AUTH", message));
  };
  for (const char* yes : {"login failed", "LOGIN FAILED: x", "x: login failed", "bad pin",
                          "xx bad pinx", "denied", "access DENIED.", "login faile denied"}) {
    EXPECT_TRUE(failure(yes)) << yes;
  }
  for (const char* no : {"", "login", "login faile", "ogin failed", "bad pi", "deny", "denie",
                         "login  failed", "bad_pin"}) {
    EXPECT_FALSE(failure(no)) << no;
  }
  // Against the obvious search, on random texts over the phrases' letters.
  const std::vector<std::string> phrases = {"login failed", "bad pin", "denied"};
  const std::string letters = "loginfaedbpLOGINFAEDBP ";
  std::uint64_t seed = 12345;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const std::size_t size = (seed >> 33) % 40;
    for (std::size_t k = 0; k < size; ++k) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      text.push_back(letters[(seed >> 33) % letters.size()]);
    }
    if (i % 3 == 0 && size > 0) {
      text.insert((seed >> 40) % text.size(), phrases[(seed >> 50) % phrases.size()]);
    }
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool expected = false;
    for (const std::string& p : phrases) expected = expected || lower.find(p) != std::string::npos;
    ASSERT_EQ(failure(text), expected) << '"' << text << '"';
  }
}

TEST(SecurityBursts, ItsOwnRecordsComingBackAreNotCounted) {
  SecurityBursts s(SecurityBurstsSettings{.threshold = 2});
  FakeEmitter emitter;
  fail(s, kT0, {{"user", "bob"}});
  fail(s, kT0, {{"user", "bob"}});
  s.tick(kT0 + seconds(1), emitter);
  ASSERT_EQ(emitter.records.size(), 1u);
  // The logger sends them through the pipeline with plugin=<type> added.
  const Emitted& e = emitter.records[0];
  const std::vector<Field> fields = {{"key", e.fields.at("key")},
                                     {"value", e.fields.at("value")},
                                     {"user", "bob"},
                                     {"plugin", "security_bursts"}};
  for (int i = 0; i < 5; ++i) {
    s.observe(record(kT0 + seconds(2), Level::security, "SECURITY", e.message, fields));
  }
  EXPECT_EQ(json::parse(s.insights_at(kT0 + seconds(2)))["failures"], 2);
}

TEST(SecurityBursts, NumericValuesAndRecordsWithoutKeys) {
  SecurityBursts s(SecurityBurstsSettings{.threshold = 2, .keys = {"user_id"}});
  FakeEmitter emitter;
  fail(s, kT0, {{"user_id", 42}});
  fail(s, kT0, {{"user_id", 42}});
  fail(s, kT0, {{"user", "bob"}});  // no user_id: not counted under anything
  s.tick(kT0, emitter);
  ASSERT_EQ(emitter.records.size(), 1u);
  EXPECT_EQ(emitter.records[0].message, "burst of 2 failed logins for user_id=42 within 60s");
  const json j = json::parse(s.insights_at(kT0));
  EXPECT_EQ(j["tracked"], 1);
  EXPECT_EQ(j["failures"], 3);
}

TEST(SecurityBursts, MemoryIsBoundedAndQuietKeysAreForgotten) {
  SecurityBursts s(SecurityBurstsSettings{.threshold = 2, .max_tracked = 3});
  FakeEmitter emitter;
  for (const char* user : {"u1", "u2", "u3", "u4", "u5"}) fail(s, kT0, {{"user", user}});
  json j = json::parse(s.insights_at(kT0));
  EXPECT_EQ(j["tracked"], 3);
  EXPECT_EQ(j["failures_untracked"], 2);
  // A tracked key still counts while the table is full.
  fail(s, kT0 + seconds(1), {{"user", "u1"}});
  s.tick(kT0 + seconds(1), emitter);
  ASSERT_EQ(emitter.records.size(), 1u);
  EXPECT_EQ(emitter.records[0].fields.at("value"), "u1");
  // A window later the quiet keys are forgotten and new ones fit.
  fail(s, kT0 + seconds(90), {{"user", "u6"}});
  j = json::parse(s.insights_at(kT0 + seconds(90)));
  EXPECT_EQ(j["tracked"], 1);
  EXPECT_EQ(j["failures_untracked"], 2);
  s.tick(kT0 + seconds(200), emitter);
  EXPECT_EQ(json::parse(s.insights_at(kT0 + seconds(200)))["tracked"], 0);
}

TEST(SecurityBursts, AnOddWindowIsSpelledOut) {
  SecurityBursts s(
      SecurityBurstsSettings{.threshold = 1, .window = std::chrono::milliseconds(1500)});
  FakeEmitter emitter;
  fail(s, kT0, {{"ip", "::1"}});
  s.tick(kT0, emitter);
  ASSERT_EQ(emitter.records.size(), 1u);
  EXPECT_EQ(emitter.records[0].message, "burst of 1 failed logins for ip=::1 within 1.5s");
  EXPECT_EQ(emitter.records[0].fields.at("window_s"), "1.5");
}

}  // namespace
