// The `elasticsearch` destination against a local receiver that follows the
// bulk API (tests/support/elasticsearch_receiver.py): documents kept by
// _id with create semantics (409 for a _id it has), per-item statuses,
// whole-request failures; the engine's counts reconciled with the documents
// stored. Waits are flush barriers, never sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/net/elasticsearch.hpp>
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

HttpReceiver elasticsearch(const hydra::test::TempDir& dir, std::vector<std::string> args = {}) {
  return HttpReceiver("elasticsearch_receiver.py", dir.path() / "receiver", std::move(args));
}

struct Destination {
  std::shared_ptr<NetworkSink> sink;
  std::shared_ptr<hydra::net::ElasticsearchStats> stats;
};

Destination es_sink(const std::string& url, hydra::net::DeliveryOptions options,
                    bool gzip = false) {
  hydra::net::ElasticsearchTarget target;
  target.url = url;
  target.index = "logs-test";
  target.http.compression =
      gzip ? hydra::net::HttpCompression::gzip : hydra::net::HttpCompression::none;
  target.stats = std::make_shared<hydra::net::ElasticsearchStats>();
  auto stats = target.stats;
  return {std::make_shared<NetworkSink>(std::move(options),
                                        hydra::net::make_elasticsearch_transport(std::move(target)),
                                        std::chrono::seconds(5), std::chrono::seconds(5),
                                        hydra::net::make_elasticsearch_encoder()),
          stats};
}

// Record i: "record i", fields user and count (`count` as given: a number,
// or a string the mapping cannot take).
void write_record(NetworkSink& sink, int i, hydra::FieldValue count = hydra::FieldValue()) {
  const std::string message = "record " + std::to_string(i);
  const std::array<hydra::Field, 2> fields{{
      {"user", hydra::FieldValue("ada \"quoted\"\n")},
      {"count", count.is_null() ? hydra::FieldValue(std::int64_t{i}) : count},
  }};
  hydra::Record r;
  r.time = std::chrono::system_clock::now();
  r.level = hydra::Level::warning;
  r.layer = "APP";
  r.logger = "es-test";
  r.message = message;
  r.fields = fields;
  r.source = {"app.cpp", "main", 42};
  r.thread_id = 7;
  sink.write(r, "unused\n");
}

TEST(ElasticsearchBulk, EveryRecordIsCreatedWithItsKeyAsIdAndTheJsonFormatsNames) {
  hydra::test::TempDir dir;
  auto receiver = elasticsearch(dir);
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = fast("elasticsearch");
  options.batch_max_records = 20;
  auto es = es_sink(receiver.url(), options, /*gzip=*/true);
  const int n = 50;
  for (int i = 0; i < n; ++i) write_record(*es.sink, i);
  ASSERT_TRUE(es.sink->engine().flush(std::chrono::minutes(1)));
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  for (const auto& r : requests) {
    EXPECT_EQ(r["path"], "/_bulk");
    EXPECT_EQ(r["headers"]["content-type"], "application/x-ndjson");
    EXPECT_EQ(r["headers"]["content-encoding"], "gzip");
  }
  const auto docs = receiver.lines("docs.jsonl");
  ASSERT_EQ(docs.size(), static_cast<std::size_t>(n));
  static const std::regex key("[0-9a-f]{16}-([0-9]+)");
  static const std::regex timestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    const json& d = docs[static_cast<std::size_t>(i)];
    std::smatch m;
    const std::string id = d["_id"];
    ASSERT_TRUE(std::regex_match(id, m, key)) << id;
    EXPECT_EQ(m[1], std::to_string(i + 1));
    ids.insert(id);
    EXPECT_EQ(d["_index"], "logs-test");
    const json& doc = d["doc"];
    EXPECT_TRUE(std::regex_match(doc["@timestamp"].get<std::string>(), timestamp)) << doc;
    EXPECT_EQ(doc["level"], "warning");
    EXPECT_EQ(doc["layer"], "APP");
    EXPECT_EQ(doc["logger"], "es-test");
    EXPECT_EQ(doc["message"], "record " + std::to_string(i));
    EXPECT_EQ(doc["fields"], json({{"user", "ada \"quoted\"\n"}, {"count", i}}));
    EXPECT_EQ(doc["source"], json({{"file", "app.cpp"}, {"line", 42}, {"function", "main"}}));
    EXPECT_EQ(doc["thread"], 7);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
  const auto counts = es.sink->counts();
  EXPECT_EQ(counts.delivered, docs.size());
  EXPECT_EQ(counts.retries, 0u);
  EXPECT_EQ(es.stats->duplicates.load(), 0u);
  EXPECT_TRUE(counts.balanced());
}

// The receiver stores the documents, then drops the connection without an
// answer: the batch is sent again with the same _ids, each answered 409,
// counted delivered (and duplicate), and stored once.
TEST(ElasticsearchResponses, ARetryAfterALostResponseDoesNotDuplicate) {
  hydra::test::TempDir dir;
  auto receiver = elasticsearch(dir, {"store-drop"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto es = es_sink(receiver.url(), one_batch("elasticsearch"));
  for (int i = 0; i < 10; ++i) write_record(*es.sink, i);
  ASSERT_TRUE(es.sink->engine().flush(std::chrono::minutes(1)));
  EXPECT_EQ(receiver.requests().size(), 2u);
  const auto counts = es.sink->counts();
  EXPECT_EQ(receiver.lines("docs.jsonl").size(), 10u);
  EXPECT_EQ(counts.delivered, 10u);
  EXPECT_EQ(counts.retries, 1u);
  EXPECT_EQ(es.stats->duplicates.load(), 10u);
  EXPECT_TRUE(counts.balanced());
}

// Items 2 and 5 answered 429: only those two are sent again.
TEST(ElasticsearchResponses, PerItem429RetriesOnlyThoseItems) {
  hydra::test::TempDir dir;
  auto receiver = elasticsearch(dir, {"items429:2,5"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto es = es_sink(receiver.url(), one_batch("elasticsearch"));
  for (int i = 0; i < 10; ++i) write_record(*es.sink, i);
  ASSERT_TRUE(es.sink->engine().flush(std::chrono::minutes(1)));
  ASSERT_EQ(receiver.requests().size(), 2u);
  const auto again = hydra::test::split_lines(receiver.body(2));
  ASSERT_EQ(again.size(), 4u);
  EXPECT_EQ(json::parse(again[1])["message"], "record 2");
  EXPECT_EQ(json::parse(again[3])["message"], "record 5");
  const auto counts = es.sink->counts();
  EXPECT_EQ(receiver.lines("docs.jsonl").size(), 10u);
  EXPECT_EQ(counts.delivered, 10u);
  EXPECT_EQ(counts.retries, 1u);
  EXPECT_EQ(es.stats->duplicates.load(), 0u);
  EXPECT_TRUE(counts.balanced());
}

// A document the mapping refuses (fields.count, a long, given "many"): that
// one is dead-lettered with the error's type and reason, never sent again;
// the others are stored.
TEST(ElasticsearchResponses, AMapperParsingItemIsDeadLetteredWithItsReason) {
  hydra::test::TempDir dir;
  auto receiver = elasticsearch(dir);
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = one_batch("elasticsearch");
  options.dead_letter_path = dir.path() / "dead.jsonl";
  auto es = es_sink(receiver.url(), options);
  for (int i = 0; i < 10; ++i) {
    write_record(*es.sink, i, i == 4 ? hydra::FieldValue("many") : hydra::FieldValue());
  }
  ASSERT_TRUE(es.sink->engine().flush(std::chrono::minutes(1)));
  EXPECT_EQ(receiver.requests().size(), 1u);
  const auto counts = es.sink->counts();
  EXPECT_EQ(receiver.lines("docs.jsonl").size(), 9u);
  EXPECT_EQ(counts.delivered, 9u);
  EXPECT_EQ(counts.dead_lettered, 1u);
  EXPECT_EQ(counts.retries, 0u);
  EXPECT_TRUE(counts.balanced());
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.path() / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 1u);
  const json line = json::parse(dead[0]);
  EXPECT_EQ(line["id"], 5);
  EXPECT_EQ(line["reason"].get<std::string>().rfind(
                "elasticsearch: HTTP 400: mapper_parsing_exception: failed to parse field "
                "[fields.count] of type [long]",
                0),
            0u)
      << line;
}

// 503 with Retry-After: 1 for the whole request: sent again no sooner than
// a second later; a whole-request 400 is permanent.
TEST(ElasticsearchResponses, AWhole503IsRetriedHonouringRetryAfterA400IsNot) {
  hydra::test::TempDir dir;
  auto receiver = elasticsearch(dir, {"503:1", "400"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = one_batch("elasticsearch");
  options.dead_letter_path = dir.path() / "dead.jsonl";
  auto es = es_sink(receiver.url(), options);
  for (int i = 0; i < 10; ++i) write_record(*es.sink, i);
  ASSERT_TRUE(es.sink->engine().flush(std::chrono::minutes(1)));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(requests[1]["time"].get<double>() - requests[0]["time"].get<double>(), 0.95);
  EXPECT_EQ(es.sink->counts().dead_lettered, 10u);  // the 400
  for (int i = 10; i < 20; ++i) write_record(*es.sink, i);
  ASSERT_TRUE(es.sink->engine().flush(std::chrono::minutes(1)));
  const auto counts = es.sink->counts();
  EXPECT_EQ(receiver.lines("docs.jsonl").size(), 10u);
  EXPECT_EQ(counts.delivered, 10u);
  EXPECT_EQ(counts.retries, 1u);
  EXPECT_TRUE(counts.balanced());
}

// type = "elasticsearch" in a configuration file, with basic
// authentication; an api_key beside a username is refused.
TEST(ElasticsearchConfig, AFileNamesItByTypeWithItsOptions) {
  hydra::test::TempDir dir;
  auto receiver = elasticsearch(dir);
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  const std::string file = dir.file("ship.toml");
  hydra::test::write_file(file,
                          "name = \"cfg\"\n[[layers.APP.destinations]]\ntype = \"elasticsearch\"\n"
                          "url = \"" +
                              receiver.url() +
                              "\"\nindex = \"logs-cfg-prod\"\nusername = \"elastic\"\n"
                              "password = \"changeme\"\ncompression = \"gzip\"\n"
                              "linger = \"10ms\"\nretry_initial = \"10ms\"\n");
  {
    hydra::Logger log(hydra::load_config(file));
    for (int i = 0; i < 10; ++i) log.layer("APP").error("from a file {}", i);
    log.flush();
  }
  const auto docs = receiver.lines("docs.jsonl");
  ASSERT_EQ(docs.size(), 10u);
  EXPECT_EQ(docs[9]["_index"], "logs-cfg-prod");
  EXPECT_EQ(docs[9]["doc"]["message"], "from a file 9");
  EXPECT_EQ(docs[9]["doc"]["level"], "error");
  EXPECT_EQ(docs[9]["doc"]["logger"], "cfg");
  // base64("elastic:changeme")
  EXPECT_EQ(receiver.requests()[0]["headers"]["authorization"], "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");

  hydra::test::write_file(file,
                          "[[layers.APP.destinations]]\ntype = \"elasticsearch\"\n"
                          "api_key = \"a2V5\"\nusername = \"u\"\npassword = \"p\"\n");
  const std::string error =
      hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("'api_key' and 'username': one or the other"), std::string::npos) << error;
}

TEST(ElasticsearchAuth, BasicAuthorizationIsBase64OfUserColonPassword) {
  EXPECT_EQ(hydra::net::basic_authorization("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(hydra::net::basic_authorization("a", ""), "Basic YTo=");
  EXPECT_EQ(hydra::net::basic_authorization("ab", "c"), "Basic YWI6Yw==");
}

}  // namespace
