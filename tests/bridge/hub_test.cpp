// The bridge's protocol engine, driven directly: frames in, frames out, and
// a clock of the test's own (no sockets, no sleeps). What crosses real
// sockets is tested by clients/python/tests against tests/bridge/app.
#include "hydra/bridge/hub.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hydra::bridge {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct FakeOutbox : Outbox {
  std::vector<json> frames;
  std::optional<std::uint16_t> close_code;
  std::string close_reason;
  std::size_t queued = 0;  // what the test says is still unwritten
  int pings = 0;
  std::vector<std::string> raw;  // each frame as sent (its buffer too)
  void send(std::string frame) override {
    auto j = json::parse(frame, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << frame;
    frames.push_back(std::move(j));
    raw.push_back(std::move(frame));
  }
  void ping() override { ++pings; }
  void close(std::uint16_t code, std::string_view reason) override {
    close_code = code;
    close_reason = std::string(reason);
  }
  std::size_t queued_bytes() const override { return queued; }

  std::vector<json> take(std::string_view type) {
    std::vector<json> out;
    for (const auto& f : frames) {
      if (f["type"] == type) out.push_back(f);
    }
    return out;
  }
  // The seqs of every record in records frames, in order.
  std::vector<std::uint64_t> seqs() {
    std::vector<std::uint64_t> out;
    for (const auto& f : take("records")) {
      for (const auto& r : f["records"]) out.push_back(std::stoull(r["seq"].get<std::string>()));
    }
    return out;
  }
};

struct Harness {
  explicit Harness(BridgeOptions o = {})
      : options(std::move(o)), ring(options.buffer_records, options.buffer_bytes) {
    Callbacks cb;
    cb.intake = [this](const Identity& who, const ClientInfo&, std::vector<Submitted>& records) {
      for (auto& r : records) submitted.emplace_back(who.subject, std::move(r));
      return true;
    };
    cb.auth_failed = [this](const ClientInfo& info, std::string_view reason) {
      auth_failures.emplace_back(info.address, std::string(reason));
    };
    hub = std::make_unique<Hub>(options, "shop/0123456789abcdef", ring, cb);
  }

  void publish(std::string_view message, std::string_view layer = "APP", Level level = Level::info,
               std::vector<Field> fields = {}) {
    Record r;
    r.time = std::chrono::system_clock::now();
    r.level = level;
    r.layer = layer;
    r.logger = "checkout";
    r.message = message;
    r.fields = fields;
    ring.push(std::make_shared<Entry>(r, options.tenant, "shop"));
  }

  // A connected client that said hello; returns its outbox.
  std::pair<Hub::ClientId, std::shared_ptr<FakeOutbox>> client(
      std::string hello = R"({"type":"hello","protocol":1})", std::string token = {}) {
    auto out = std::make_shared<FakeOutbox>();
    ClientInfo info{"127.0.0.1:5000", "test-agent", std::move(token)};
    const auto id = hub->connect(out, info, now);
    hub->receive(id, hello, now);
    return {id, out};
  }

  void tick(std::chrono::milliseconds by = 100ms) {
    now += by;
    hub->tick(now);
  }

  BridgeOptions options;
  Ring ring;
  std::unique_ptr<Hub> hub;
  Clock::time_point now = Clock::time_point(1h);
  std::vector<std::pair<std::string, Submitted>> submitted;
  std::vector<std::pair<std::string, std::string>> auth_failures;
};

TEST(BridgeHub, AFrameBeforeHelloCloses4400) {
  Harness h;
  auto out = std::make_shared<FakeOutbox>();
  const auto id = h.hub->connect(out, {}, h.now);
  h.hub->receive(id, R"({"type":"subscribe","id":"s1"})", h.now);
  ASSERT_TRUE(out->close_code);
  EXPECT_EQ(*out->close_code, 4400);
  EXPECT_EQ(out->close_reason, "hello_first");
}

TEST(BridgeHub, AnotherProtocolVersionIsRefused) {
  Harness h;
  auto [id, out] = h.client(R"({"type":"hello","protocol":2})");
  ASSERT_TRUE(out->close_code);
  EXPECT_EQ(*out->close_code, 4400);
  EXPECT_NE(out->close_reason.find("speaks 1"), std::string::npos);
}

TEST(BridgeHub, RecordsArriveBatchedOncePerTickWithSeqAndCursor) {
  Harness h;
  auto [id, out] = h.client();
  ASSERT_EQ(out->take("welcome").size(), 1u);
  EXPECT_EQ(out->take("welcome")[0]["role"], "admin");  // open bridge
  h.hub->receive(id, R"({"type":"subscribe","id":"s1"})", h.now);
  ASSERT_EQ(out->take("subscribed").size(), 1u);
  h.publish("one");
  h.publish("two");
  h.publish("three");
  EXPECT_TRUE(out->take("records").empty()) << "nothing is sent between ticks";
  h.tick();
  const auto frames = out->take("records");
  ASSERT_EQ(frames.size(), 1u) << "one frame per window";
  EXPECT_EQ(frames[0]["stream"], "shop/0123456789abcdef");
  EXPECT_EQ(frames[0]["to_seq"], "3");
  ASSERT_EQ(frames[0]["records"].size(), 3u);
  const auto& r = frames[0]["records"][1];
  EXPECT_EQ(r["seq"], "2");
  EXPECT_EQ(r["message"], "two");
  EXPECT_EQ(r["layer"], "APP");
  EXPECT_EQ(r["level"], "info");
  EXPECT_EQ(r["logger"], "checkout");
  EXPECT_EQ(r["service"], "shop");
  EXPECT_EQ(r["tenant"], "default");
  EXPECT_EQ(r["sub"], json::array({"s1"}));
  h.tick();
  EXPECT_EQ(out->take("records").size(), 1u) << "no frame when nothing matched";
}

// A records frame the server has written comes back (Hub::recycle) and
// builds a later one, but a small frame never leaves in a large buffer: a
// client's queue is bounded by the size of its frames, not their capacity.
TEST(BridgeHub, WrittenFramesAreReusedAndASmallFrameNeverHoldsALargeBuffer) {
  Harness h;
  auto [id, out] = h.client();
  h.hub->receive(id, R"({"type":"subscribe","id":"s1"})", h.now);
  const std::string text(200, 'x');
  const auto burst = [&](int n) {
    for (int i = 0; i < n; ++i) h.publish(text);
    h.tick();
  };
  burst(2000);
  ASSERT_GE(out->raw.back().size(), 400'000u);
  const char* large = out->raw.back().data();
  h.hub->recycle(std::move(out->raw.back()));  // written: as the server hands it back

  burst(3);
  EXPECT_LT(out->raw.back().capacity(), 64u << 10) << "3 records in a frame that kept the buffer";
  EXPECT_NE(out->raw.back().data(), large);

  burst(2000);
  EXPECT_EQ(out->raw.back().data(), large) << "the written frame's buffer was not reused";
  EXPECT_EQ(out->seqs().size(), 4003u);
  EXPECT_EQ(out->seqs().back(), 4003u);
}

TEST(BridgeHub, ANewClientStartsLiveOrWithTheBacklogItAsks) {
  Harness h;
  h.publish("old 1");
  h.publish("old 2");
  auto [live, live_out] = h.client();
  auto [back, back_out] = h.client(R"({"type":"hello","protocol":1,"backlog":1})");
  h.hub->receive(live, R"({"type":"subscribe","id":"s"})", h.now);
  h.hub->receive(back, R"({"type":"subscribe","id":"s"})", h.now);
  h.publish("new");
  h.tick();
  EXPECT_EQ(live_out->seqs(), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(back_out->seqs(), (std::vector<std::uint64_t>{2, 3}));
}

TEST(BridgeHub, FiltersRunOnTheRecordAndNameTheSubscriptions) {
  Harness h;
  auto [id, out] = h.client();
  h.hub->receive(
      id,
      R"({"type":"subscribe","id":"db","filter":{"layers":["database"],"min_level":"warning"}})",
      h.now);
  h.hub->receive(id, R"({"type":"subscribe","id":"t","filter":{"text":"TIMEOUT"}})", h.now);
  h.hub->receive(id, R"({"type":"subscribe","id":"re","filter":{"regex":"order \\d+ failed"}})",
                 h.now);
  h.hub->receive(id, R"({"type":"subscribe","id":"f","filter":{"fields":{"region":"eu","n":7}}})",
                 h.now);
  ASSERT_EQ(out->take("subscribed").size(), 4u) << out->frames.back();
  h.publish("slow query", "DATABASE", Level::warning);               // 1: db
  h.publish("fast query", "DATABASE", Level::info);                  // 2: none
  h.publish("upstream timeout", "APP", Level::info);                 // 3: t
  h.publish("order 42 failed", "APP", Level::error);                 // 4: re
  h.publish("x", "APP", Level::info, {{"region", "eu"}, {"n", 7}});  // 5: f
  h.publish("y", "APP", Level::info, {{"region", "eu"}, {"n", 8}});  // 6: none
  h.publish("query timeout", "DATABASE", Level::error);              // 7: db, t
  h.tick();
  EXPECT_EQ(out->seqs(), (std::vector<std::uint64_t>{1, 3, 4, 5, 7}));
  const auto recs = out->take("records")[0]["records"];
  EXPECT_EQ(recs[0]["sub"], json::array({"db"}));
  EXPECT_EQ(recs[4]["sub"], json::array({"db", "t"}));
  EXPECT_EQ(out->take("records")[0]["to_seq"], "7");
}

TEST(BridgeHub, BadFiltersAreErrorsThatNameTheKey) {
  Harness h;
  auto [id, out] = h.client();
  h.hub->receive(id, R"({"type":"subscribe","id":"a","filter":{"min_level":"loud"}})", h.now);
  h.hub->receive(id, R"({"type":"subscribe","id":"b","filter":{"regex":"(unclosed"}})", h.now);
  h.hub->receive(id, R"({"type":"subscribe","id":"c","filter":{"colour":"red"}})", h.now);
  h.hub->receive(id,
                 R"({"type":"subscribe","id":"d","filter":{"regex":"((a{1,100}){1,100}){1,100}"}})",
                 h.now);
  const auto errors = out->take("error");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0]["id"], "a");
  EXPECT_NE(errors[0]["message"].get<std::string>().find("filter.min_level"), std::string::npos);
  EXPECT_EQ(errors[1]["code"], "bad_filter");
  EXPECT_NE(errors[1]["message"].get<std::string>().find("filter.regex"), std::string::npos);
  EXPECT_NE(errors[2]["message"].get<std::string>().find("filter.colour"), std::string::npos);
  EXPECT_TRUE(errors[3]["code"] == "filter_too_costly" || errors[3]["code"] == "bad_filter")
      << errors[3];
  EXPECT_FALSE(out->close_code) << "errors are not fatal";
}

TEST(BridgeHub, ResumeContinuesRightAfterTheCursor) {
  Harness h;
  for (int i = 0; i < 10; ++i) h.publish("r");
  auto [id, out] =
      h.client(R"({"type":"hello","protocol":1,"resume":{"shop/0123456789abcdef":"6"}})");
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  h.tick();
  EXPECT_EQ(out->seqs(), (std::vector<std::uint64_t>{7, 8, 9, 10}));
  EXPECT_TRUE(out->take("gap").empty());
}

TEST(BridgeHub, ACursorAheadOfTheRingIsServedWhenTheRingGetsThere) {
  // hydra-bridge still reading JetStream when a client resumes.
  Harness h;
  h.ring.start_at(1);
  auto [id, out] =
      h.client(R"({"type":"hello","protocol":1,"resume":{"shop/0123456789abcdef":"3"}})");
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  h.tick();
  for (int i = 0; i < 5; ++i) h.publish("r");
  h.tick();
  EXPECT_EQ(out->seqs(), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_TRUE(out->take("gap").empty());
}

TEST(BridgeHub, ResumeFromRecordsTheRingLostGivesOneEvictedGapWithTheCount) {
  BridgeOptions o;
  o.buffer_records = 100;
  Harness h(o);
  for (int i = 0; i < 500; ++i) h.publish("r");  // the ring keeps 401..500
  auto [id, out] =
      h.client(R"({"type":"hello","protocol":1,"resume":{"shop/0123456789abcdef":"250"}})");
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  h.tick();
  const auto gaps = out->take("gap");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0]["reason"], "evicted");
  EXPECT_EQ(gaps[0]["from_seq"], "251");
  EXPECT_EQ(gaps[0]["to_seq"], "400");
  EXPECT_EQ(gaps[0]["count"], "150");
  const auto seqs = out->seqs();
  ASSERT_EQ(seqs.size(), 100u);
  EXPECT_EQ(seqs.front(), 401u);
  EXPECT_EQ(seqs.back(), 500u);
}

TEST(BridgeHub, ATickBetweenHelloAndTheFirstSubscribeKeepsTheResumePoint) {
  Harness h;
  for (int i = 0; i < 5; ++i) h.publish("r");
  auto [id, out] =
      h.client(R"({"type":"hello","protocol":1,"resume":{"shop/0123456789abcdef":"2"}})");
  h.tick();
  h.publish("r");
  h.tick();
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  h.tick();
  EXPECT_EQ(out->seqs(), (std::vector<std::uint64_t>{3, 4, 5, 6}));
  // After its last unsubscribe the cursor follows the stream.
  h.hub->receive(id, R"({"type":"unsubscribe","id":"s"})", h.now);
  h.publish("unwatched");
  h.tick();
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  h.publish("watched");
  h.tick();
  EXPECT_EQ(out->seqs().back(), 8u);
  EXPECT_EQ(out->seqs().size(), 5u);
}

TEST(BridgeHub, ACursorOfAnotherStreamIsARestartGap) {
  Harness h;
  h.publish("first of the new stream");
  auto [id, out] =
      h.client(R"({"type":"hello","protocol":1,"resume":{"shop/ffffffffffffffff":"41"}})");
  const auto gaps = out->take("gap");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0]["stream"], "shop/ffffffffffffffff");
  EXPECT_EQ(gaps[0]["reason"], "restart");
  EXPECT_EQ(gaps[0]["from_seq"], "42");
  EXPECT_FALSE(gaps[0].contains("count"));
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  h.tick();
  EXPECT_EQ(out->seqs(), (std::vector<std::uint64_t>{1})) << "the new stream from its start";
}

TEST(BridgeHub, ASlowClientGetsOneGapWithTheExactCountWhenItHasRoomAgain) {
  BridgeOptions o;
  o.client_queue_bytes = 64 * 1024;
  Harness h(o);
  auto [id, out] = h.client();
  h.hub->receive(id, R"({"type":"subscribe","id":"odd","filter":{"text":"odd"}})", h.now);
  h.publish("odd 1");
  h.tick();
  ASSERT_EQ(out->seqs(), (std::vector<std::uint64_t>{1}));
  out->queued = o.client_queue_bytes;                              // the socket stopped draining
  for (int i = 2; i <= 9; ++i) h.publish(i % 2 ? "odd" : "even");  // odd: 3 5 7 9
  h.tick();
  h.publish("even");  // 10
  h.tick();
  EXPECT_TRUE(out->take("gap").empty()) << "reported when there is room, as one gap";
  EXPECT_EQ(out->take("records").size(), 1u);
  // A heartbeat meanwhile must not move the client's cursor past the gap.
  h.tick(o.heartbeat);
  const auto beats = out->take("heartbeat");
  ASSERT_FALSE(beats.empty());
  EXPECT_EQ(beats.back()["cursor"]["shop/0123456789abcdef"], "2");  // 2 did not match
  out->queued = 0;
  h.publish("odd 11");
  h.tick();
  const auto gaps = out->take("gap");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0]["reason"], "slow_client");
  EXPECT_EQ(gaps[0]["from_seq"], "3");
  EXPECT_EQ(gaps[0]["count"], "4");
  EXPECT_EQ(out->seqs(), (std::vector<std::uint64_t>{1, 11}));
  EXPECT_EQ(h.hub->stats().gaps_slow_client, 4u);
}

TEST(BridgeHub, SamplingPassesTheLimitAndCountsTheRestAsASampledGap) {
  Harness h;
  auto [id, out] = h.client();
  h.hub->receive(id, R"({"type":"subscribe","id":"s","sample":{"limit":3,"per_ms":1000}})", h.now);
  for (int i = 0; i < 10; ++i) h.publish("r");
  h.tick();
  EXPECT_EQ(out->seqs(), (std::vector<std::uint64_t>{1, 2, 3}));
  const auto gaps = out->take("gap");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0]["reason"], "sampled");
  EXPECT_EQ(gaps[0]["count"], "7");
  h.tick(1000ms);
  h.publish("next window");
  h.tick();
  EXPECT_EQ(out->seqs().back(), 11u);
}

TEST(BridgeHub, HeartbeatsPingsAndTheIdleClose) {
  BridgeOptions o;
  o.heartbeat = 1000ms;
  Harness h(o);
  auto [id, out] = h.client();
  h.tick(1000ms);
  EXPECT_EQ(out->take("heartbeat").size(), 1u);
  EXPECT_EQ(out->pings, 1);
  h.hub->heard(id, h.now);  // its pong
  h.tick(1500ms);
  EXPECT_FALSE(out->close_code);
  h.tick(600ms);  // 2.1 s since it was last heard
  ASSERT_TRUE(out->close_code);
  EXPECT_EQ(*out->close_code, 4408);
  EXPECT_EQ(out->close_reason, "idle");
}

TEST(BridgeHub, PastMaxClientsTheNextIsClosed4429) {
  BridgeOptions o;
  o.max_clients = 2;
  Harness h(o);
  h.client();
  h.client();
  auto [id, out] = h.client();
  EXPECT_EQ(id, 0u);
  ASSERT_TRUE(out->close_code);
  EXPECT_EQ(*out->close_code, 4429);
}

// filter_scan_rate bounds the message bytes a client's text and regex
// filters scan a second (over all its subscriptions): past it the client is
// closed 4413, after what it was sent; clients within it, or whose filters
// scan nothing, go on.
TEST(BridgeHub, AClientWhoseFiltersScanPastTheRateIsClosed4413) {
  BridgeOptions o;
  o.filter_scan_rate = 10'000;
  Harness h(o);
  auto [costly_id, costly] = h.client();
  for (int i = 0; i < 3; ++i) {
    h.hub->receive(costly_id,
                   R"({"type":"subscribe","id":"r)" + std::to_string(i) +
                       R"j(","filter":{"regex":"order [0-9]+ (paid|refunded)"}})j",
                   h.now);
  }
  auto [text_id, text] = h.client();
  h.hub->receive(text_id, R"({"type":"subscribe","id":"t","filter":{"text":"paid"}})", h.now);
  auto [plain_id, plain] = h.client();
  h.hub->receive(plain_id, R"({"type":"subscribe","id":"p","filter":{"layers":["APP"]}})", h.now);
  const std::string message = "order 42 paid " + std::string(86, '.');  // 100 bytes
  ASSERT_EQ(message.size(), 100u);
  for (int second = 0; second < 5; ++second) {
    for (int i = 0; i < 50; ++i) h.publish(message);  // 5,000 bytes a second
    h.tick(1000ms);
  }
  // 3 regex subscriptions scan 15,000 bytes of the first second's records.
  ASSERT_TRUE(costly->close_code);
  EXPECT_EQ(*costly->close_code, 4413);
  EXPECT_EQ(costly->close_reason, "filter_too_costly");
  EXPECT_EQ(costly->seqs().size(), 50u) << "the records served before the close are sent";
  EXPECT_EQ(h.hub->stats().filter_too_costly, 1u);
  // One text filter scans 5,000 bytes a second: within the rate.
  EXPECT_FALSE(text->close_code);
  EXPECT_EQ(text->seqs().size(), 250u);
  EXPECT_FALSE(plain->close_code);
  EXPECT_EQ(plain->seqs().size(), 250u);
}

TEST(BridgeHub, HostileFramesAreErrorsNotCrashes) {
  Harness h;
  auto [id, out] = h.client();
  h.hub->receive(id, std::string(100000, '['), h.now);
  h.hub->receive(id, "{not json", h.now);
  h.hub->receive(id, R"({"type":"teleport","id":"x"})", h.now);
  h.hub->receive(id, "\xff\xfe", h.now);
  const auto errors = out->take("error");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0]["code"], "bad_frame");
  EXPECT_EQ(errors[1]["code"], "bad_frame");
  EXPECT_EQ(errors[2]["code"], "unknown_type");
  EXPECT_FALSE(out->close_code);
}

TEST(BridgeHub, ManyFramesFromAClientAreRateLimited) {
  Harness h;
  auto [id, out] = h.client();
  for (int i = 0; i < 130; ++i) h.hub->receive(id, R"({"type":"ping","t":"1"})", h.now);
  h.hub->receive(id, R"({"type":"subscribe","id":"late"})", h.now);
  EXPECT_EQ(out->take("pong").size(), 128u);
  const auto errors = out->take("error");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0]["code"], "rate_limited");
  EXPECT_EQ(errors[2]["id"], "late") << "the refused request is named";
  EXPECT_GT(errors[2]["retry_after_ms"].get<int>(), 0);
  h.now += 1s;  // 16 more
  h.hub->receive(id, R"({"type":"subscribe","id":"later"})", h.now);
  EXPECT_EQ(out->take("subscribed").size(), 1u);
}

TEST(BridgeHub, RedactionTokensAreMarkedWithTheirByteRanges) {
  Harness h;
  auto [id, out] = h.client();
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  h.publish("card [REDACTED_CARD] of [REDACTED_EMAIL], not [REDACTED_] nor [REDACTED_x]");
  h.tick();
  const auto r = out->take("records")[0]["records"][0];
  EXPECT_EQ(r["redacted"], json::parse(R"([[5,20,"CARD"],[24,40,"EMAIL"]])"));
}

TEST(BridgeHub, AHugeRecordIsCutToWhatAClientTakesAndSaysSo) {
  Harness h;
  auto [id, out] = h.client();
  h.hub->receive(id, R"({"type":"subscribe","id":"s"})", h.now);
  const std::string huge(1 << 20, 'x');
  std::string accents;
  for (int i = 0; i < 40000; ++i) accents += "\xc3\xa9";  // é: a cut must not split it
  h.publish(huge, "APP", Level::info, {{"blob", accents}, {"n", 1}});
  h.publish("small");
  h.tick();
  const auto frames = out->take("records");
  ASSERT_EQ(frames.size(), 1u);
  const auto& big = frames[0]["records"][0];
  EXPECT_EQ(big["message"].get<std::string>().size(), 64u * 1024);
  EXPECT_EQ(big["fields"]["blob"].get<std::string>().size(), 8u * 1024);
  EXPECT_EQ(big["fields"]["n"], 1);
  EXPECT_EQ(big["truncated"], true);
  EXPECT_FALSE(frames[0]["records"][1].contains("truncated"));
}

// ---- auth ----

std::string sha(std::string_view key) {
  return detail::sha256_hex(key);
}

BridgeOptions secured() {
  BridgeOptions o;
  o.tenant = "acme";
  o.credentials.api_keys = {parse_api_key("viewer:acme:" + sha("view-key")),
                            parse_api_key("submitter:acme:" + sha("sub-key")),
                            parse_api_key("admin:*:" + sha("admin-key"))};
  o.credentials.jwt_secret = "s3cret";
  return o;
}

TEST(BridgeAuth, NoTokenOrAWrongOneCloses4401AndIsReported) {
  Harness h(secured());
  auto [a, out_a] = h.client();
  auto [b, out_b] = h.client(R"({"type":"hello","protocol":1,"token":"guess"})");
  ASSERT_TRUE(out_a->close_code);
  EXPECT_EQ(*out_a->close_code, 4401);
  ASSERT_TRUE(out_b->close_code);
  EXPECT_EQ(*out_b->close_code, 4401);
  ASSERT_EQ(h.auth_failures.size(), 2u);
  EXPECT_EQ(h.auth_failures[0].second, "no token");
  EXPECT_EQ(h.auth_failures[1].second, "unknown API key");
  EXPECT_EQ(h.auth_failures[1].first, "127.0.0.1:5000");
}

TEST(BridgeAuth, RolesDecideWhoSubscribesAndWhoSubmits) {
  Harness h(secured());
  auto [v, viewer] = h.client(R"({"type":"hello","protocol":1})", "view-key");
  auto [s, submitter] = h.client(R"({"type":"hello","protocol":1,"token":"sub-key"})");
  EXPECT_EQ(viewer->take("welcome")[0]["role"], "viewer");
  EXPECT_EQ(submitter->take("welcome")[0]["role"], "submitter");
  h.hub->receive(v, R"({"type":"subscribe","id":"s"})", h.now);
  h.hub->receive(v, R"({"type":"submit","id":"b1","records":[{"message":"x"}]})", h.now);
  h.hub->receive(s, R"({"type":"subscribe","id":"s"})", h.now);
  h.hub->receive(s, R"({"type":"submit","id":"b2","records":[{"message":"y"}]})", h.now);
  EXPECT_EQ(viewer->take("subscribed").size(), 1u);
  ASSERT_EQ(viewer->take("error").size(), 1u);
  EXPECT_EQ(viewer->take("error")[0]["code"], "forbidden");
  EXPECT_EQ(viewer->take("error")[0]["id"], "b1");
  ASSERT_EQ(submitter->take("error").size(), 1u);
  EXPECT_EQ(submitter->take("error")[0]["code"], "forbidden");
  ASSERT_EQ(submitter->take("ack").size(), 1u);
  EXPECT_EQ(submitter->take("ack")[0]["accepted"], 1);
  ASSERT_EQ(h.submitted.size(), 1u);
  EXPECT_EQ(h.submitted[0].second.message, "y");
}

TEST(BridgeAuth, Hs256TokensGiveRoleAndTenantAndAreChecked) {
  Harness h(secured());
  const auto later = std::chrono::system_clock::now() + 1h;
  const auto earlier = std::chrono::system_clock::now() - 1s;
  auto hello = [](const std::string& token) {
    return R"({"type":"hello","protocol":1,"token":")" + token + "\"}";
  };
  auto [a, ok] = h.client(hello(make_hs256_token("s3cret", "ann", Role::viewer, "acme", later)));
  ASSERT_EQ(ok->take("welcome").size(), 1u);
  EXPECT_EQ(ok->take("welcome")[0]["tenant"], "acme");
  auto [b, other] =
      h.client(hello(make_hs256_token("s3cret", "bob", Role::viewer, "globex", later)));
  h.hub->receive(b, R"({"type":"subscribe","id":"s"})", h.now);
  ASSERT_EQ(other->take("error").size(), 1u) << "tenant globex does not see acme";
  EXPECT_EQ(other->take("error")[0]["code"], "forbidden");
  auto [c, expired] =
      h.client(hello(make_hs256_token("s3cret", "cy", Role::viewer, "acme", earlier)));
  ASSERT_TRUE(expired->close_code);
  EXPECT_EQ(*expired->close_code, 4401);
  auto [d, forged] = h.client(hello(make_hs256_token("guess", "dee", Role::admin, "*", later)));
  ASSERT_TRUE(forged->close_code);
  // alg "none" with the payload of a valid token is refused.
  const std::string valid = make_hs256_token("s3cret", "eve", Role::admin, "*", later);
  const std::string payload =
      valid.substr(valid.find('.') + 1, valid.rfind('.') - valid.find('.') - 1);
  const std::string none = detail::base64url_encode(R"({"alg":"none"})") + "." + payload + ".";
  auto [e, unsigned_out] = h.client(hello(none));
  ASSERT_TRUE(unsigned_out->close_code);
  EXPECT_EQ(h.auth_failures.size(), 3u);
}

TEST(BridgeAuth, ApiKeyEntriesAreCheckedWithErrorsThatNameThem) {
  EXPECT_THROW(parse_api_key("viewer:acme"), ConfigError);
  EXPECT_THROW(parse_api_key("owner:acme:" + sha("k")), ConfigError);
  EXPECT_THROW(parse_api_key("viewer:*:" + sha("k")), ConfigError);
  try {
    parse_api_key("viewer:acme:abc");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("viewer:acme:abc"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("64 hex"), std::string::npos);
  }
  const ApiKey k = parse_api_key("admin:*:" + std::string(64, 'A'));
  EXPECT_EQ(k.sha256_hex, std::string(64, 'a'));
}

TEST(BridgeAuth, Base64UrlRoundTrips) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00z"}) {
    EXPECT_EQ(detail::base64url_decode(detail::base64url_encode(s)), s);
  }
  EXPECT_EQ(detail::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(detail::base64url_decode("a"));
  EXPECT_FALSE(detail::base64url_decode("ab$d"));
}

// ---- intake ----

TEST(BridgeIntake, RecordsAreValidatedOneByOne) {
  Harness h;
  auto [id, out] = h.client();
  const std::string big(70 * 1024, 'x');
  h.hub->receive(
      id,
      R"({"type":"submit","id":"b","records":[)"
      R"({"level":"error","message":"checkout failed","time":"2026-12-07T10:00:00Z",)"
      R"("fields":{"order":1234,"ok":false,"cart":{"n":2}},"session":"s1","page":"/cart","trace_id":"abc"},)"
      R"({"message":")" +
          big +
          R"("},)"
          R"({"level":"audit","message":"forged"},)"
          R"({"level":"info"},)"
          R"("just a string"]})",
      h.now);
  const auto acks = out->take("ack");
  ASSERT_EQ(acks.size(), 1u) << out->frames.back();
  EXPECT_EQ(acks[0]["id"], "b");
  EXPECT_EQ(acks[0]["accepted"], 1);
  const auto rejected = acks[0]["rejected"];
  ASSERT_EQ(rejected.size(), 4u);
  EXPECT_EQ(rejected[0]["index"], 1);
  EXPECT_EQ(rejected[0]["reason"], "record_too_large");
  EXPECT_EQ(rejected[1]["reason"], "bad_level");
  EXPECT_EQ(rejected[2]["reason"], "bad_record");
  EXPECT_EQ(rejected[3]["reason"], "bad_record");
  ASSERT_EQ(h.submitted.size(), 1u);
  const Submitted& s = h.submitted[0].second;
  EXPECT_EQ(s.level, Level::error);
  EXPECT_EQ(s.message, "checkout failed");
  std::map<std::string, Submitted::Value> fields(s.fields.begin(), s.fields.end());
  EXPECT_EQ(std::get<std::int64_t>(fields["order"]), 1234);
  EXPECT_EQ(std::get<bool>(fields["ok"]), false);
  EXPECT_EQ(std::get<std::string>(fields["cart"]), R"({"n":2})");
  EXPECT_EQ(std::get<std::string>(fields["client_time"]), "2026-12-07T10:00:00Z");
  EXPECT_EQ(std::get<std::string>(fields["session"]), "s1");
  EXPECT_EQ(std::get<std::string>(fields["page"]), "/cart");
  EXPECT_EQ(std::get<std::string>(fields["trace_id"]), "abc");
  EXPECT_EQ(std::get<std::string>(fields["user_agent"]), "test-agent") << "from the connection";
}

TEST(BridgeIntake, OverTheRateABatchIsRefusedWhole429WithRetryAfter) {
  BridgeOptions o;
  o.submit_rate = 5;
  o.submit_burst = 5;
  Harness h(o);
  ClientInfo info{"127.0.0.1:6000", "ua", ""};
  const std::string four =
      R"({"records":[{"message":"a"},{"message":"b"},{"message":"c"},{"message":"d"}]})";
  EXPECT_EQ(h.hub->intake(four, info, h.now).status, 202u);
  const HttpAnswer refused = h.hub->intake(four, info, h.now);
  EXPECT_EQ(refused.status, 429u);
  ASSERT_TRUE(refused.retry_after);
  EXPECT_EQ(*refused.retry_after, 1u);  // 3 more tokens at 5/s: 0.6 s, rounded up
  EXPECT_EQ(h.submitted.size(), 4u) << "nothing of the refused batch";
  h.now += 1s;
  EXPECT_EQ(h.hub->intake(four, info, h.now).status, 202u);
  EXPECT_EQ(h.submitted.size(), 8u);
}

TEST(BridgeIntake, ABatchLargerThanTheBurstIsRefused413NotRetriedForever) {
  BridgeOptions o;
  o.submit_rate = 5;
  o.submit_burst = 5;
  Harness h(o);
  ClientInfo info{"127.0.0.1:6000", "ua", ""};
  const std::string six = R"({"records":[{"message":"a"},{"message":"b"},{"message":"c"},)"
                          R"({"message":"d"},{"message":"e"},{"message":"f"}]})";
  const HttpAnswer a = h.hub->intake(six, info, h.now);
  EXPECT_EQ(a.status, 413u);
  EXPECT_EQ(json::parse(a.body)["code"], "batch_too_large");
  EXPECT_FALSE(a.retry_after);
}

TEST(BridgeIntake, HttpAnswersNameWhatIsWrong) {
  BridgeOptions o = secured();
  o.max_frame_bytes = 1024;
  Harness h(o);
  ClientInfo anon{"127.0.0.1:6000", "", ""};
  ClientInfo viewer{"127.0.0.1:6000", "", "view-key"};
  ClientInfo submitter{"127.0.0.1:6000", "", "sub-key"};
  EXPECT_EQ(h.hub->intake(R"({"records":[]})", anon, h.now).status, 401u);
  EXPECT_EQ(h.hub->intake(R"({"records":[]})", viewer, h.now).status, 403u);
  EXPECT_EQ(h.hub->intake("{oops", submitter, h.now).status, 400u);
  EXPECT_EQ(h.hub->intake(std::string(2000, ' '), submitter, h.now).status, 413u);
  const HttpAnswer ok =
      h.hub->intake(R"({"id":"z","records":[{"message":"m"}]})", submitter, h.now);
  EXPECT_EQ(ok.status, 202u);
  EXPECT_EQ(json::parse(ok.body)["id"], "z");
  EXPECT_EQ(h.auth_failures.size(), 1u);
}

TEST(BridgeRing, KeepsTheNewestWithinItsRecordAndByteBounds) {
  Ring ring(1000, 64 * 1024);
  Record r;
  const std::string message(1000, 'm');
  r.message = message;
  for (int i = 0; i < 500; ++i) ring.push(std::make_shared<Entry>(r, "t", "s"));
  EXPECT_EQ(ring.next_seq(), 501u);
  const auto first = ring.first_kept();
  EXPECT_GT(first, 440u) << "about 60 records of 1 KB fit in 64 KB";
  EXPECT_LT(first, 480u);
  EXPECT_EQ(ring.evicted(), first - 1);
  const auto slice = ring.read(1, 10);
  EXPECT_EQ(slice.first_kept, first);
  ASSERT_EQ(slice.entries.size(), 10u);
  EXPECT_EQ(slice.entries[0]->seq, first);
}

}  // namespace
}  // namespace hydra::bridge
