// The `otlp` destination and the HTTP client under it, against a local
// OTLP/HTTP receiver (tests/support/otlp_receiver.py) that answers as the
// specification documents, failures included, and saves every request:
// protobuf bodies decoded by protoc against the OpenTelemetry .proto files
// (tests/net/opentelemetry-proto), JSON bodies checked for the OTLP JSON
// mapping (lowerCamelCase keys, integer enums, hex ids), and the engine's
// counts reconciled with what the receiver got. Waits are flush barriers,
// never sleeps.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <hydra/config/detect.hpp>
#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/net/http.hpp>
#include <hydra/net/network_sink.hpp>
#include <hydra/net/otlp.hpp>
#include <nlohmann/json.hpp>

#include "fast_delivery.hpp"
#include "support/otlp_receiver.hpp"
#include "test_util.hpp"

namespace {

using hydra::test::fast;
using hydra::test::one_batch;

using hydra::net::NetworkSink;
using hydra::net::OtlpEncoding;
using hydra::test::OtlpReceiver;
using json = nlohmann::json;
using std::chrono::milliseconds;

constexpr std::string_view kTraceId = "5b8efff798038103d269b633813fc60c";
constexpr std::string_view kSpanId = "eee19b7ec3c1b174";

// One batch per flush: the linger is long, and flush() ends it.
std::shared_ptr<NetworkSink> otlp_sink(
    const std::string& url, OtlpEncoding encoding, hydra::net::DeliveryOptions options,
    hydra::net::HttpCompression compression = hydra::net::HttpCompression::none) {
  hydra::net::OtlpTarget target;
  target.endpoint = url;
  target.encoding = encoding;
  target.http.compression = compression;
  target.resource = hydra::net::otlp_resource("otlp-test", {"deployment.environment=test"});
  return std::make_shared<NetworkSink>(std::move(options), hydra::net::make_otlp_transport(target),
                                       std::chrono::seconds(5), std::chrono::seconds(5),
                                       hydra::net::make_otlp_encoder(encoding));
}

// Record i: "record i", fields user, count, trace_id, span_id, a source.
std::int64_t write_record(NetworkSink& sink, int i, hydra::Level level = hydra::Level::info) {
  const std::string message = "record " + std::to_string(i);
  const std::array<hydra::Field, 5> fields{{
      {"user", hydra::FieldValue("ada \"quoted\"\n")},
      {"count", hydra::FieldValue(std::int64_t{i})},
      {"ratio", hydra::FieldValue(0.5)},
      {"trace_id", hydra::FieldValue(kTraceId)},
      {"span_id", hydra::FieldValue(kSpanId)},
  }};
  hydra::Record r;
  r.time = std::chrono::system_clock::now();
  r.level = level;
  r.layer = "APP";
  r.logger = "otlp-test";
  r.message = message;
  r.fields = fields;
  r.source = {"app.cpp", "main", 42};
  r.thread_id = 7;
  sink.write(r, message + "\n");
  return std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count();
}

// protoc's text form of an ExportLogsServiceRequest body; fails the test
// when protoc cannot decode it.
std::string decode(const std::string& body) {
  const auto result = hydra::test::run_process(
      {HYDRA_PROTOC, "--decode=opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
       std::string("-I") + HYDRA_OTLP_PROTO,
       "opentelemetry/proto/collector/logs/v1/logs_service.proto"},
      body);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

std::size_t count_of(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The bodies of records 0..n-1 ("record i"), in that order, in protoc's
// text of the requests.
void expect_records_in_order(const std::string& decoded, int n) {
  std::size_t at = 0;
  for (int i = 0; i < n; ++i) {
    at = decoded.find("string_value: \"record " + std::to_string(i) + "\"\n", at);
    ASSERT_NE(at, std::string::npos) << "record " << i;
  }
}

// All n records delivered, none retried, each counted once.
void expect_all_delivered_first_time(const hydra::DeliveryCounts& counts, int n) {
  EXPECT_EQ(counts.delivered, static_cast<std::uint64_t>(n));
  EXPECT_EQ(counts.retries, 0u);
  EXPECT_TRUE(counts.balanced());
}

// Every object key in `j` (recursively) is lowerCamelCase.
void expect_camel_case_keys(const json& j) {
  static const std::regex camel("[a-z][a-zA-Z]*");
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      EXPECT_TRUE(std::regex_match(key, camel)) << key;
      expect_camel_case_keys(value);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) expect_camel_case_keys(v);
  }
}

// A JSON attribute list's value of `key` (null when absent).
json attribute(const json& attributes, const std::string& key) {
  for (const auto& a : attributes) {
    if (a["key"] == key) return a["value"];
  }
  return nullptr;
}

TEST(OtlpSeverity, MapsEveryLevelToItsOtlpRange) {
  using hydra::Level;
  using hydra::net::otlp_severity_number;
  EXPECT_EQ(otlp_severity_number(Level::trace), 1);
  EXPECT_EQ(otlp_severity_number(Level::debug), 5);
  EXPECT_EQ(otlp_severity_number(Level::info), 9);
  EXPECT_EQ(otlp_severity_number(Level::warning), 13);
  EXPECT_EQ(otlp_severity_number(Level::error), 17);
  EXPECT_EQ(otlp_severity_number(Level::critical), 21);
  EXPECT_EQ(otlp_severity_number(Level::security), 13);
  EXPECT_EQ(otlp_severity_number(Level::audit), 9);
  EXPECT_EQ(otlp_severity_number(Level::compliance), 9);
}

// service.name: the option, else $OTEL_SERVICE_NAME, else a service.name
// attribute, else the program; the attributes given, then the environment's
// (percent-decoded), the first of a key winning.
TEST(OtlpResource, ServiceNameAndAttributesInOrderOfPrecedence) {
  using hydra::net::otlp_resource;
  using Attributes = std::vector<std::pair<std::string, std::string>>;
  ::setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,team=a%2Cb, region = eu ", 1);
  ::unsetenv("OTEL_SERVICE_NAME");
  const auto given = otlp_resource("given", {"team=core", "host.name=h1"});
  EXPECT_EQ(
      given,
      (Attributes{
          {"service.name", "given"}, {"host.name", "h1"}, {"team", "core"}, {"region", "eu"}}));
  EXPECT_EQ(otlp_resource("")[0].second, "from-attrs");
  ::setenv("OTEL_SERVICE_NAME", "from-env", 1);
  EXPECT_EQ(otlp_resource("")[0].second, "from-env");
  ::unsetenv("OTEL_SERVICE_NAME");
  EXPECT_EQ(otlp_resource("")[2], (std::pair<std::string, std::string>{"team", "a,b"}));
  ::unsetenv("OTEL_RESOURCE_ATTRIBUTES");
  EXPECT_EQ(otlp_resource("")[0].second, "hydra_net_tests");
  EXPECT_FALSE(otlp_resource("")[1].second.empty());  // host.name
}

// What environment detection finds (here a Kubernetes pod, as its
// variables say) joins the resource after what is given; a key given
// (k8s.pod.name in resource_attributes) keeps its value.
TEST(OtlpResource, DetectedKubernetesAttributesJoinAfterWhatIsGiven) {
  ::unsetenv("OTEL_RESOURCE_ATTRIBUTES");
  ::unsetenv("OTEL_SERVICE_NAME");
  const std::map<std::string, std::string> vars = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                                   {"POD_NAME", "checkout-7f9c"},
                                                   {"POD_NAMESPACE", "shop"}};
  hydra::DetectionInput input;
  input.env = [&](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  input.root = "/nonexistent";  // no files: only the variables
  input.host_name = "node-a";
  const hydra::Environment detected = hydra::detect_environment(input);
  const auto resource = hydra::net::otlp_resource("", {"k8s.pod.name=given"}, &detected);
  std::map<std::string, std::string> got(resource.begin(), resource.end());
  EXPECT_EQ(got["k8s.pod.name"], "given");
  EXPECT_EQ(got["k8s.namespace.name"], "shop");
  EXPECT_EQ(got["host.name"], "node-a");
  EXPECT_EQ(got["service.name"], "hydra_net_tests");
  // Without detection, none of it.
  const auto plain = hydra::net::otlp_resource("", {});
  for (const auto& [k, v] : plain) EXPECT_FALSE(k.starts_with("k8s.")) << k;
}

// Protobuf, gzip, in batches of 100: every body decodes with protoc as an
// ExportLogsServiceRequest, and holds the records, in order, with their
// resource, scope, severity, attributes and ids.
TEST(OtlpProtobuf, EveryRecordArrivesAndDecodesWithProtoc) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver");
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = fast("otlp");
  options.batch_max_records = 100;
  auto sink =
      otlp_sink(receiver.url(), OtlpEncoding::protobuf, options, hydra::net::HttpCompression::gzip);
  const int n = 250;
  for (int i = 0; i < n; ++i) {
    write_record(*sink, i, i % 10 == 3 ? hydra::Level::security : hydra::Level::info);
  }
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  std::string all;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    EXPECT_EQ(requests[k]["content_type"], "application/x-protobuf");
    EXPECT_EQ(requests[k]["content_encoding"], "gzip");
    EXPECT_EQ(requests[k]["path"], "/v1/logs");
    const std::string text = decode(receiver.body(static_cast<int>(k) + 1));
    EXPECT_EQ(count_of(text, "resource_logs {"), 1u) << text;
    EXPECT_NE(text.find("key: \"service.name\"\n      value {\n        string_value: "
                        "\"otlp-test\""),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("key: \"host.name\""), std::string::npos);
    EXPECT_NE(text.find("key: \"deployment.environment\""), std::string::npos);
    EXPECT_NE(text.find("scope {\n      name: \"hydra-logger\"\n    }"), std::string::npos) << text;
    all += text;
  }
  EXPECT_EQ(count_of(all, "\n    log_records {"), static_cast<std::size_t>(n));
  EXPECT_EQ(count_of(all, "severity_number: SEVERITY_NUMBER_INFO\n"), 225u);
  EXPECT_EQ(count_of(all, "severity_number: SEVERITY_NUMBER_WARN\n"), 25u);
  EXPECT_EQ(count_of(all, "severity_text: \"SECURITY\""), 25u);
  EXPECT_EQ(count_of(all,
                     "trace_id: \"[\\216\\377\\367\\230\\003\\201\\003\\322i\\2663\\201?"
                     "\\306\\014\""),
            static_cast<std::size_t>(n))
      << all.substr(0, 3000);
  EXPECT_EQ(count_of(all, "span_id: \""), static_cast<std::size_t>(n));
  EXPECT_EQ(count_of(all, "key: \"trace_id\""), 0u);  // an id, not an attribute
  EXPECT_EQ(count_of(all, "key: \"hydra.layer\"\n        value {\n          string_value: \"APP\""),
            static_cast<std::size_t>(n));
  EXPECT_EQ(count_of(all, "key: \"code.line.number\"\n        value {\n          int_value: 42"),
            static_cast<std::size_t>(n));
  EXPECT_EQ(count_of(all, "double_value: 0.5"), static_cast<std::size_t>(n));
  expect_records_in_order(all, n);
  expect_all_delivered_first_time(sink->counts(), n);
}

// zstd (compression = "zstd", which the OpenTelemetry Collector's HTTP
// receivers take): each body is sent with Content-Encoding: zstd, the
// receiver decompresses it with python3-zstandard, and it decodes with
// protoc and holds the records in order.
TEST(OtlpProtobuf, ZstdBodiesDecompressAndDecode) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver");
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = fast("otlp");
  options.batch_max_records = 40;
  auto sink =
      otlp_sink(receiver.url(), OtlpEncoding::protobuf, options, hydra::net::HttpCompression::zstd);
  const int n = 100;
  for (int i = 0; i < n; ++i) write_record(*sink, i, hydra::Level::info);
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  std::string all;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    EXPECT_EQ(requests[k]["content_encoding"], "zstd");
    EXPECT_EQ(requests[k]["decode_error"], "");
    all += decode(receiver.body(static_cast<int>(k) + 1));
  }
  EXPECT_EQ(count_of(all, "\n    log_records {"), static_cast<std::size_t>(n));
  expect_records_in_order(all, n);
  expect_all_delivered_first_time(sink->counts(), n);
}

// JSON: the OTLP JSON mapping: lowerCamelCase keys, enums as integers,
// 64-bit integers as strings, ids as hex.
TEST(OtlpJson, KeysAreLowerCamelCaseEnumsIntegersAndIdsHex) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver");
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = fast("otlp");
  options.batch_max_records = 40;
  auto sink = otlp_sink(receiver.url(), OtlpEncoding::json, options);
  const int n = 100;
  std::vector<std::int64_t> times;
  for (int i = 0; i < n; ++i) {
    times.push_back(write_record(*sink, i, i == 5 ? hydra::Level::error : hydra::Level::debug));
  }
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  std::vector<json> records;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    EXPECT_EQ(requests[k]["content_type"], "application/json");
    const json body = json::parse(receiver.body(static_cast<int>(k) + 1));
    expect_camel_case_keys(body);
    ASSERT_EQ(body["resourceLogs"].size(), 1u);
    const json& rl = body["resourceLogs"][0];
    EXPECT_EQ(attribute(rl["resource"]["attributes"], "service.name"),
              json({{"stringValue", "otlp-test"}}));
    ASSERT_EQ(rl["scopeLogs"].size(), 1u);
    EXPECT_EQ(rl["scopeLogs"][0]["scope"]["name"], "hydra-logger");
    for (const auto& r : rl["scopeLogs"][0]["logRecords"]) records.push_back(r);
  }
  ASSERT_EQ(records.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const json& r = records[static_cast<std::size_t>(i)];
    EXPECT_EQ(r["body"], json({{"stringValue", "record " + std::to_string(i)}}));
    ASSERT_TRUE(r["timeUnixNano"].is_string());
    EXPECT_EQ(r["timeUnixNano"], std::to_string(times[static_cast<std::size_t>(i)]));
    EXPECT_TRUE(r["observedTimeUnixNano"].is_string());
    ASSERT_TRUE(r["severityNumber"].is_number_integer());
    EXPECT_EQ(r["severityNumber"], i == 5 ? 17 : 5);
    EXPECT_EQ(r["severityText"], i == 5 ? "ERROR" : "DEBUG");
    EXPECT_EQ(r["traceId"], std::string(kTraceId));
    EXPECT_EQ(r["spanId"], std::string(kSpanId));
    const json& a = r["attributes"];
    EXPECT_EQ(attribute(a, "count"), json({{"intValue", std::to_string(i)}}));
    EXPECT_EQ(attribute(a, "user"), json({{"stringValue", "ada \"quoted\"\n"}}));
    EXPECT_EQ(attribute(a, "ratio"), json({{"doubleValue", 0.5}}));
    EXPECT_EQ(attribute(a, "hydra.layer"), json({{"stringValue", "APP"}}));
    EXPECT_EQ(attribute(a, "logger.name"), json({{"stringValue", "otlp-test"}}));
    EXPECT_EQ(attribute(a, "code.file.path"), json({{"stringValue", "app.cpp"}}));
    EXPECT_EQ(attribute(a, "code.function.name"), json({{"stringValue", "main"}}));
    EXPECT_EQ(attribute(a, "code.line.number"), json({{"intValue", "42"}}));
    EXPECT_EQ(attribute(a, "trace_id"), nullptr);
  }
  EXPECT_EQ(sink->counts().delivered, static_cast<std::uint64_t>(n));
  EXPECT_TRUE(sink->counts().balanced());
}

// partial_success with rejected_log_records = 3: 3 of the batch are
// rejected (dead-lettered, with the server's message), the rest delivered,
// and nothing is sent again.
void partial_success_case(OtlpEncoding encoding) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver", {"partial:3:bad timestamps"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto options = one_batch("otlp");
  options.dead_letter_path = dir.path() / "dead.jsonl";
  auto sink = otlp_sink(receiver.url(), encoding, options);
  for (int i = 0; i < 10; ++i) write_record(*sink, i);
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  EXPECT_EQ(receiver.requests().size(), 1u);
  const auto counts = sink->counts();
  EXPECT_EQ(counts.delivered, 7u);
  EXPECT_EQ(counts.dead_lettered, 3u);
  EXPECT_EQ(counts.retries, 0u);
  EXPECT_TRUE(counts.balanced());
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.path() / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 3u);
  for (const auto& line : dead) {
    EXPECT_NE(line.find("3 of 10 log records rejected: bad timestamps"), std::string::npos) << line;
  }
}

TEST(OtlpResponses, PartialSuccessRejectsThatManyAndNeverRetriesProtobuf) {
  partial_success_case(OtlpEncoding::protobuf);
}

TEST(OtlpResponses, PartialSuccessRejectsThatManyAndNeverRetriesJson) {
  partial_success_case(OtlpEncoding::json);
}

// 400 and the other statuses OTLP calls not retryable: the batch is
// dead-lettered at once, sent once.
TEST(OtlpResponses, BadRequestAndOtherErrorsArePermanent) {
  for (const std::string status : {"400", "500", "413"}) {
    SCOPED_TRACE(status);
    hydra::test::TempDir dir;
    OtlpReceiver receiver(dir.path() / "receiver", {status});
    ASSERT_TRUE(receiver.ok()) << receiver.errors();
    auto options = one_batch("otlp");
    options.dead_letter_path = dir.path() / "dead.jsonl";
    auto sink = otlp_sink(receiver.url(), OtlpEncoding::protobuf, options);
    for (int i = 0; i < 10; ++i) write_record(*sink, i);
    ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
    EXPECT_EQ(receiver.requests().size(), 1u);
    const auto counts = sink->counts();
    EXPECT_EQ(counts.dead_lettered, 10u);
    EXPECT_EQ(counts.delivered, 0u);
    EXPECT_EQ(counts.retries, 0u);
    EXPECT_TRUE(counts.balanced());
    const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.path() / "dead.jsonl"));
    ASSERT_EQ(dead.size(), 10u);
    EXPECT_NE(dead[0].find("HTTP " + status), std::string::npos) << dead[0];
    EXPECT_NE(dead[0].find(receiver.url()), std::string::npos) << dead[0];
  }
}

// 503 with Retry-After: 1, then 429, 502 and 504 without: the same batch is
// sent again each time, the first time no sooner than a second later, and
// delivered once.
TEST(OtlpResponses, RetryableStatusesAreRetriedHonouringRetryAfter) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver", {"503:1", "429", "502", "504"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto sink = otlp_sink(receiver.url(), OtlpEncoding::json, one_batch("otlp"));
  for (int i = 0; i < 10; ++i) write_record(*sink, i);
  sink->engine().request_flush();
  // A flush barrier: it returns once the batch was delivered.
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_GE(requests[1]["time"].get<double>() - requests[0]["time"].get<double>(), 0.95);
  for (int k = 1; k <= 5; ++k) {
    const json body = json::parse(receiver.body(k));
    EXPECT_EQ(body["resourceLogs"][0]["scopeLogs"][0]["logRecords"].size(), 10u) << k;
  }
  const auto counts = sink->counts();
  EXPECT_EQ(counts.delivered, 10u);
  EXPECT_EQ(counts.retries, 4u);
  EXPECT_EQ(counts.dead_lettered + counts.dropped(), 0u);
  EXPECT_TRUE(counts.balanced());
}

// A connection closed without an answer is retryable: the batch goes again
// (at least once) and is delivered.
TEST(OtlpResponses, AConnectionDroppedWithoutAnswerIsRetried) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver", {"drop"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  auto sink = otlp_sink(receiver.url(), OtlpEncoding::protobuf, one_batch("otlp"));
  for (int i = 0; i < 10; ++i) write_record(*sink, i);
  ASSERT_TRUE(sink->engine().flush(std::chrono::minutes(1)));
  EXPECT_EQ(receiver.requests().size(), 2u);
  const auto counts = sink->counts();
  EXPECT_EQ(counts.delivered, 10u);
  EXPECT_EQ(counts.retries, 1u);
  EXPECT_TRUE(counts.balanced());
}

// Nothing listening: retried, the error names the URL and curl's reason, the
// records wait in the queue (and, at a shutdown without a spool, are counted
// dropped_shutdown).
TEST(OtlpResponses, ARefusedConnectionIsRetryableAndNamesTheUrl) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver");
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  const std::string url = receiver.url();
  receiver.stop();
  auto sink = otlp_sink(url, OtlpEncoding::protobuf, fast("otlp"));
  for (int i = 0; i < 5; ++i) write_record(*sink, i);
  while (sink->counts().retries < 2) std::this_thread::yield();
  const std::string error = sink->engine().last_error();
  EXPECT_NE(error.find("POST " + url), std::string::npos) << error;
  EXPECT_NE(error.find("Couldn't connect to server"), std::string::npos) << error;
  EXPECT_TRUE(sink->engine().failing());
  EXPECT_EQ(sink->counts().queued, 5u);
  EXPECT_TRUE(sink->counts().balanced());
  sink->engine().shutdown(milliseconds(50));
  EXPECT_EQ(sink->counts().dropped_shutdown, 5u);
  EXPECT_TRUE(sink->counts().balanced());
}

// The client keeps one connection for its requests, gzips the body with
// Content-Encoding: gzip, and sends its headers.
TEST(HttpClient, KeepsTheConnectionAliveGzipsAndSendsHeaders) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver", {"200", "503:7", "200"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  hydra::net::HttpOptions options;
  options.compression = hydra::net::HttpCompression::gzip;
  options.headers = {{"X-Tenant", "acme"}};
  hydra::net::HttpClient client(receiver.url(), options);
  std::string body(100'000, 'x');
  for (int k = 0; k < 3; ++k) {
    const auto response = client.post(body, "application/json");
    EXPECT_EQ(response.error, "");
    EXPECT_EQ(response.status, k == 1 ? 503 : 200);
    if (k == 1) {
      EXPECT_EQ(response.header("Retry-After").value_or(""), "7");
      const auto result = hydra::net::http_result(response, client.url());
      EXPECT_EQ(result.status, hydra::net::SendResult::Status::retryable);
      EXPECT_EQ(result.retry_after, std::chrono::seconds(7));
    }
  }
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(requests[k]["content_encoding"], "gzip");
    EXPECT_EQ(requests[k]["headers"]["x-tenant"], "acme");
    EXPECT_LT(std::stoul(requests[k]["headers"]["content-length"].get<std::string>()), 1000u);
    EXPECT_EQ(receiver.body(static_cast<int>(k) + 1), body);
    EXPECT_EQ(requests[k]["client_port"], requests[0]["client_port"]);  // one connection
  }
}

TEST(HttpClient, ARefusedConnectionIsAnErrorNamingTheUrlNeverAThrow) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver");
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  const std::string url = receiver.url();
  receiver.stop();
  hydra::net::HttpClient client(url, {});
  const auto response = client.post("{}", "application/json");
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.error.rfind("POST " + url + ": Couldn't connect to server", 0), 0u)
      << response.error;
  const auto result = hydra::net::http_result(response, url);
  EXPECT_EQ(result.status, hydra::net::SendResult::Status::retryable);
}

// https: the server's certificate is verified, against the CA file given.
TEST(HttpClient, HttpsVerifiesTheServerAgainstTheCaFile) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver", {}, /*tls=*/true);
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  hydra::net::HttpOptions trusted;
  trusted.ca_file = receiver.ca_file().string();
  EXPECT_EQ(hydra::net::HttpClient(receiver.url(), trusted).post("{}", "application/json").status,
            200);
  const auto refused = hydra::net::HttpClient(receiver.url(), {}).post("{}", "application/json");
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("certificate"), std::string::npos) << refused.error;
  EXPECT_EQ(receiver.requests().size(), 1u);
}

// senders = 3 in a configuration file: three connections, sending side by
// side. The receiver holds each of the first three requests until all
// three are in progress at once (meet:3; a 500 if they never are), so
// the records all arrive only if three senders send together.
TEST(OtlpConfig, SendersSendSideBySideOnConnectionsOfTheirOwn) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver", {"meet:3", "meet:3", "meet:3"});
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  const std::string file = dir.file("ship.toml");
  hydra::test::write_file(file,
                          "name = \"cfg\"\n[[layers.APP.destinations]]\ntype = \"otlp\"\n"
                          "endpoint = \"" +
                              receiver.url() +
                              "\"\nsenders = 3\nbatch_max_records = 10\nlinger = \"0\"\n"
                              "dead_letter_path = \"" +
                              dir.file("dead.jsonl") + "\"\n");
  const int n = 200;
  {
    hydra::Logger log(hydra::load_config(file));
    for (int i = 0; i < n; ++i) log.layer("APP").info("side by side {}", i);
    // Each flush waits up to the destination's 5 s: a minute on a loaded
    // machine.
    const auto delivered = [&] { return log.destination_metrics().at(0).counts.delivered; };
    for (int k = 0; k < 12 && delivered() < static_cast<std::uint64_t>(n); ++k) log.flush();
    const auto destinations = log.destination_metrics();
    ASSERT_EQ(destinations.size(), 1u);
    EXPECT_EQ(destinations[0].counts.delivered, static_cast<std::uint64_t>(n));
    EXPECT_EQ(destinations[0].counts.dead_lettered, 0u);
  }
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  std::set<int> ports;
  std::size_t records = 0;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    if (k < 3) ports.insert(requests[k]["client_port"].get<int>());
    records += count_of(decode(receiver.body(static_cast<int>(k) + 1)), "\n    log_records {");
  }
  EXPECT_EQ(ports.size(), 3u);  // the three that met came on three connections
  EXPECT_EQ(records, static_cast<std::size_t>(n));

  hydra::test::write_file(file, "[[layers.APP.destinations]]\ntype = \"otlp\"\nsenders = 65\n");
  const std::string error =
      hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("senders"), std::string::npos) << error;
}

// type = "otlp" in a configuration file, with its options; checked.
TEST(OtlpConfig, AFileNamesItByTypeWithItsOptions) {
  hydra::test::TempDir dir;
  OtlpReceiver receiver(dir.path() / "receiver");
  ASSERT_TRUE(receiver.ok()) << receiver.errors();
  const std::string file = dir.file("ship.toml");
  hydra::test::write_file(file,
                          "name = \"cfg\"\n[[layers.APP.destinations]]\ntype = \"otlp\"\n"
                          "endpoint = \"" +
                              receiver.url() +
                              "\"\nencoding = \"json\"\ncompression = \"gzip\"\n"
                              "headers = [\"X-Tenant=acme\"]\n"
                              "service_name = \"cfg-service\"\n"
                              "resource_attributes = [\"k8s.namespace.name=prod\"]\n"
                              "linger = \"10ms\"\nretry_initial = \"10ms\"\n");
  {
    hydra::Logger log(hydra::load_config(file));
    for (int i = 0; i < 10; ++i) log.layer("APP").warning("from a file {}", i);
    log.flush();
  }  // the destination's shutdown sends what is left
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 1u);
  std::vector<json> records;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    EXPECT_EQ(requests[k]["headers"]["x-tenant"], "acme");
    EXPECT_EQ(requests[k]["content_encoding"], "gzip");
    const json body = json::parse(receiver.body(static_cast<int>(k) + 1));
    const json& resource = body["resourceLogs"][0]["resource"]["attributes"];
    EXPECT_EQ(attribute(resource, "service.name"), json({{"stringValue", "cfg-service"}}));
    EXPECT_EQ(attribute(resource, "k8s.namespace.name"), json({{"stringValue", "prod"}}));
    for (const auto& r : body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]) {
      records.push_back(r);
    }
  }
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[9]["body"]["stringValue"], "from a file 9");
  EXPECT_EQ(records[9]["severityNumber"], 13);
  EXPECT_EQ(attribute(records[9]["attributes"], "logger.name"), json({{"stringValue", "cfg"}}));
  EXPECT_NE(attribute(records[9]["attributes"], "code.line.number"), nullptr);

  hydra::test::write_file(file,
                          "[[layers.APP.destinations]]\ntype = \"otlp\"\nencoding = \"xml\"\n");
  std::string error =
      hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("encoding 'xml' is not one (valid: protobuf, json)"), std::string::npos)
      << error;
  hydra::test::write_file(file,
                          "[[layers.APP.destinations]]\ntype = \"otlp\"\ncompression = \"br\"\n");
  error = hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("compression 'br' is not one (valid: none, gzip, zstd)"), std::string::npos)
      << error;
  hydra::test::write_file(
      file, "[[layers.APP.destinations]]\ntype = \"otlp\"\nheaders = [\"NoEquals\"]\n");
  error = hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("'NoEquals' is not name=value"), std::string::npos) << error;
}

}  // namespace
