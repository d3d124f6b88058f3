// The `loki` destination against a local receiver that follows the Loki
// push API and Loki's validation (tests/support/loki_receiver.py): labels,
// nanosecond timestamps as strings, the tenant header, a partial 400 that
// names the refused entries, 429 and 5xx retried, and the engine's counts
// reconciled with what the receiver stored. Waits are flush barriers, never
// sleeps.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/net/loki.hpp>
#include <hydra/net/network_sink.hpp>
#include <nlohmann/json.hpp>

#include "fast_delivery.hpp"
#include "support/http_receiver.hpp"
#include "test_util.hpp"

namespace {

using hydra::net::NetworkSink;
using hydra::test::fast;
using hydra::test::HttpReceiver;
using hydra::test::one_batch;
using json = nlohmann::json;
using std::chrono::milliseconds;

HttpReceiver loki(const hydra::test::TempDir& dir, std::vector<std::string> args = {}) {
  return HttpReceiver("loki_receiver.py", dir.path() / "receiver", std::move(args));
}

std::shared_ptr<NetworkSink> loki_sink(const std::string& url, hydra::net::DeliveryOptions options,
                                       const std::string& tenant = "", bool gzip = false) {
  hydra::net::LokiTarget target;
  target.url = url + "/";
  target.tenant = tenant;
  target.service = "checkout";
  target.labels = {{"env", "test"}};
  target.http.compression =
      gzip ? hydra::net::HttpCompression::gzip : hydra::net::HttpCompression::none;
  return std::make_shared<NetworkSink>(std::move(options), hydra::net::make_loki_transport(target),
                                       std::chrono::seconds(5), std::chrono::seconds(5),
                                       hydra::net::make_loki_encoder(target));
}

struct Written {
  std::int64_t time_ns;
  std::string line;
};

// Record i, its line "line i" (plus `pad`), at `time`.
Written write_record(NetworkSink& sink, int i, hydra::Level level = hydra::Level::info,
                     std::string_view layer = "APP",
                     std::chrono::system_clock::time_point time = std::chrono::system_clock::now(),
                     const std::string& pad = "") {
  const std::string message = "record " + std::to_string(i);
  hydra::Record r;
  r.time = time;
  r.level = level;
  r.layer = layer;
  r.logger = "loki-test";
  r.message = message;
  const std::string line = "line " + std::to_string(i) + " \"quoted\"" + pad;
  sink.write(r, line + "\n");
  return {std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count(),
          line};
}

TEST(LokiPush, EveryRecordArrivesWithItsLabelsNanosecondTimesAndTheTenant) {
  hydra::test::TempDir dir;
  auto receiver = loki(dir);
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = fast("loki");
  options.batch_max_records = 25;
  auto sink = loki_sink(receiver.url(), options, "acme", /*gzip=*/true);
  const int n = 60;
  std::vector<Written> written;
  for (int i = 0; i < n; ++i) {
    written.push_back(write_record(*sink, i, i % 3 == 0 ? hydra::Level::error : hydra::Level::info,
                                   i % 2 == 0 ? "APP" : "DB"));
  }
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  for (std::size_t k = 0; k < requests.size(); ++k) {
    EXPECT_EQ(requests[k]["path"], "/loki/api/v1/push");
    EXPECT_EQ(requests[k]["headers"]["x-scope-orgid"], "acme");
    EXPECT_EQ(requests[k]["headers"]["content-encoding"], "gzip");
    EXPECT_EQ(requests[k]["headers"]["content-type"], "application/json");
    // A stream per label set: no two streams of a request share one.
    const json body = json::parse(receiver.body(static_cast<int>(k) + 1));
    std::vector<json> seen;
    for (const auto& s : body["streams"]) {
      for (const auto& other : seen) EXPECT_NE(other, s["stream"]);
      seen.push_back(s["stream"]);
      for (const auto& v : s["values"]) EXPECT_TRUE(v[0].is_string()) << v;
    }
  }
  const auto entries = receiver.lines("entries.jsonl");
  ASSERT_EQ(entries.size(), static_cast<std::size_t>(n));
  std::vector<bool> found(n, false);
  for (const auto& e : entries) {
    const std::string line = e["line"];
    const int i = std::stoi(line.substr(5));
    found[static_cast<std::size_t>(i)] = true;
    EXPECT_EQ(line, written[static_cast<std::size_t>(i)].line);
    EXPECT_EQ(e["ts"], std::to_string(written[static_cast<std::size_t>(i)].time_ns));
    EXPECT_EQ(e["tenant"], "acme");
    EXPECT_EQ(e["stream"], json({{"env", "test"},
                                 {"layer", i % 2 == 0 ? "APP" : "DB"},
                                 {"level", i % 3 == 0 ? "error" : "info"},
                                 {"service", "checkout"}}));
  }
  for (int i = 0; i < n; ++i) EXPECT_TRUE(found[static_cast<std::size_t>(i)]) << i;
  const auto counts = sink->counts();
  EXPECT_EQ(counts.delivered, entries.size());
  EXPECT_EQ(counts.retries, 0u);
  EXPECT_TRUE(counts.balanced());
}

// Loki refuses an entry too old (reject_old_samples_max_age) and one too
// long (max_line_size) of 10, stores the 8 others, and answers 400 naming
// the two: exactly those are dead-lettered, with Loki's message, the 8
// counted delivered, nothing sent again; and the destination goes on.
TEST(LokiResponses, APartial400DeadLettersOnlyTheEntriesItNamesAndDeliveryGoesOn) {
  hydra::test::TempDir dir;
  auto receiver = loki(dir, {"--max-age", "3600", "--max-line", "200"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = one_batch("loki");
  options.dead_letter_path = dir.path() / "dead.jsonl";
  auto sink = loki_sink(receiver.url(), options);
  const auto now = std::chrono::system_clock::now();
  for (int i = 0; i < 10; ++i) {
    write_record(*sink, i, hydra::Level::info, "APP", i == 3 ? now - std::chrono::hours(48) : now,
                 i == 7 ? std::string(300, 'x') : "");
  }
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.lines("entries.jsonl").size(), 8u);
  auto counts = sink->counts();
  EXPECT_EQ(counts.delivered, 8u);
  EXPECT_EQ(counts.dead_lettered, 2u);
  EXPECT_EQ(counts.retries, 0u);
  EXPECT_TRUE(counts.balanced());
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.path() / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 2u);
  const json first = json::parse(dead[0]);
  const json second = json::parse(dead[1]);
  EXPECT_EQ(first["id"], 4);
  EXPECT_NE(first["reason"].get<std::string>().find("has timestamp too old"), std::string::npos)
      << first;
  EXPECT_EQ(second["id"], 8);
  EXPECT_NE(second["reason"].get<std::string>().find("while adding an entry with length '"),
            std::string::npos)
      << second;

  for (int i = 10; i < 15; ++i) write_record(*sink, i);
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  counts = sink->counts();
  EXPECT_EQ(receiver.lines("entries.jsonl").size(), 13u);
  EXPECT_EQ(counts.delivered, 13u);
  EXPECT_TRUE(counts.balanced());
}

// A 400 whose body names nothing of the batch: the batch is rejected whole
// (dead-lettered with the body), and the next batch is delivered.
TEST(LokiResponses, A400ThatCannotBeMatchedRejectsTheBatchAndDeliveryGoesOn) {
  hydra::test::TempDir dir;
  auto receiver = loki(dir, {"raw400:error at least one label pair is required per stream"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = one_batch("loki");
  options.dead_letter_path = dir.path() / "dead.jsonl";
  auto sink = loki_sink(receiver.url(), options);
  for (int i = 0; i < 10; ++i) write_record(*sink, i);
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  EXPECT_EQ(sink->counts().dead_lettered, 10u);
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.path() / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 10u);
  EXPECT_NE(dead[0].find("HTTP 400: error at least one label pair"), std::string::npos) << dead[0];
  for (int i = 10; i < 20; ++i) write_record(*sink, i);
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  const auto counts = sink->counts();
  EXPECT_EQ(counts.delivered, 10u);
  EXPECT_EQ(receiver.lines("entries.jsonl").size(), 10u);
  EXPECT_TRUE(counts.balanced());
}

// 429 with Retry-After: 1, then a 500: the batch is sent again each time,
// the first time no sooner than a second later, and stored once.
TEST(LokiResponses, A429WithRetryAfterAnd5xxAreRetried) {
  hydra::test::TempDir dir;
  auto receiver = loki(dir, {"429:1", "500"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto sink = loki_sink(receiver.url(), one_batch("loki"));
  for (int i = 0; i < 10; ++i) write_record(*sink, i);
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_GE(requests[1]["time"].get<double>() - requests[0]["time"].get<double>(), 0.95);
  const auto counts = sink->counts();
  EXPECT_EQ(counts.delivered, 10u);
  EXPECT_EQ(receiver.lines("entries.jsonl").size(), 10u);
  EXPECT_EQ(counts.retries, 2u);
  EXPECT_TRUE(counts.balanced());
}

// The matching itself: one message a line (older Loki, proxies) is read as
// well as Loki 3's "; " and "N errors like: "; a body cut short ("and N
// more errors") or naming an entry the batch does not hold matches nothing.
TEST(LokiRejections, MatchesMessagesToEntriesOrNothing) {
  const auto queued = [](std::int64_t ns, const std::string& line) {
    hydra::net::QueuedRecord q;
    q.bytes = "{level=\"info\", service=\"s\"}\n{}\n" + std::to_string(ns) + "\n" + line;
    return q;
  };
  // 2026-01-01T00:00:00Z = 1767225600 s.
  const std::vector<hydra::net::QueuedRecord> batch{queued(1767225600'500000000, "a"),
                                                    queued(1767229200'000000000, "bb"),
                                                    queued(1767229200'000000000, "ccc")};
  const std::string old_one =
      "entry for stream '{level=\"info\", service=\"s\"}' has timestamp too old: "
      "2026-01-01T01:00:00+01:00, oldest acceptable timestamp is: 2026-01-01T00:30:00Z";
  const std::string long_one =
      "Max entry size '2' bytes exceeded for stream '{level=\"info\", service=\"s\"}' while "
      "adding an entry with length '3' bytes";
  using O = hydra::net::SendResult::Item::Outcome;
  auto items = hydra::net::loki_rejections(old_one + "\n" + long_one + "\n", batch);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].outcome, O::rejected);
  EXPECT_EQ(items[1].outcome, O::delivered);
  EXPECT_EQ(items[2].outcome, O::rejected);
  // Loki 3 names the stream with the service_name label it adds.
  items = hydra::net::loki_rejections(
      "entry for stream '{level=\"info\", service=\"s\", service_name=\"s\"}' has timestamp "
      "too old: 2026-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-01-01T00:30:00Z",
      batch);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].outcome, O::rejected);
  EXPECT_EQ(items[1].outcome, O::delivered);
  items = hydra::net::loki_rejections("1 errors like: " + long_one, batch);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2].outcome, O::rejected);
  EXPECT_EQ(items[0].outcome, O::delivered);
  EXPECT_TRUE(hydra::net::loki_rejections(old_one + "\n... and 3 more errors", batch).empty());
  EXPECT_TRUE(hydra::net::loki_rejections(
                  "entry for stream '{level=\"warn\"}' has timestamp too old: "
                  "2026-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-01-01T00:30:00Z",
                  batch)
                  .empty());
  EXPECT_TRUE(hydra::net::loki_rejections("something else", batch).empty());
}

// type = "loki" in a configuration file: the line is the json format (the
// destination's default), the labels and the tenant as configured.
TEST(LokiConfig, AFileNamesItByTypeWithItsOptions) {
  hydra::test::TempDir dir;
  auto receiver = loki(dir);
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  const std::string file = dir.file("ship.toml");
  hydra::test::write_file(file,
                          "name = \"cfg\"\n[[layers.APP.destinations]]\ntype = \"loki\"\n"
                          "url = \"" +
                              receiver.url() +
                              "\"\ntenant = \"team-a\"\nservice = \"cfg-service\"\n"
                              "labels = [\"region=eu\"]\ncompression = \"gzip\"\n"
                              "linger = \"10ms\"\nretry_initial = \"10ms\"\n");
  {
    hydra::Logger log(hydra::load_config(file));
    for (int i = 0; i < 10; ++i) log.layer("APP").warning("from a file {}", i);
    log.flush();
  }
  const auto entries = receiver.lines("entries.jsonl");
  ASSERT_EQ(entries.size(), 10u);
  for (const auto& e : entries) {
    EXPECT_EQ(e["tenant"], "team-a");
    EXPECT_EQ(e["stream"], json({{"layer", "APP"},
                                 {"level", "warning"},
                                 {"region", "eu"},
                                 {"service", "cfg-service"}}));
    const json line = json::parse(e["line"].get<std::string>());
    EXPECT_EQ(line["logger"], "cfg");
    EXPECT_EQ(line["level"], "warning");
  }
  EXPECT_EQ(json::parse(entries[9]["line"].get<std::string>())["message"], "from a file 9");

  hydra::test::write_file(
      file, "[[layers.APP.destinations]]\ntype = \"loki\"\nlabels = [\"level=debug\"]\n");
  std::string error =
      hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("'level' is not a label name of its own"), std::string::npos) << error;
  // Loki's push API takes gzip bodies, not zstd ones.
  hydra::test::write_file(file,
                          "[[layers.APP.destinations]]\ntype = \"loki\"\ncompression = \"zstd\"\n");
  error = hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("compression 'zstd' is not one (valid: none, gzip): this API does not take "
                       "zstd bodies"),
            std::string::npos)
      << error;
}

}  // namespace
