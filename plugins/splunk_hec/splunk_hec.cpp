// splunk_hec.so: the `splunk_hec` destination as a loadable plugin. Records
// go to Splunk's HTTP Event Collector (POST {url}/services/collector/event,
// `Authorization: Splunk <token>`), in batches of concatenated event
// objects, through a net::DeliveryEngine (queue, retries, spool,
// dead-letter, counts). Responses are read as Splunk documents them
// (docs/shipping.md, "splunk_hec"):
//
//   2xx                        delivered
//   400 with invalid-event-number N (code 6, "Invalid data format"; 12, 13)
//                              events before N indexed (delivered), event N
//                              rejected (dead-lettered with Splunk's text),
//                              events after N sent again
//   401, 403 (codes 1-4: token disabled, missing, invalid; 10, 11: the
//   data channel missing or invalid)
//                              retried: a configuration error, not the
//                              records'; they wait, and the error is reported
//   429, 5xx (code 9, "Server is busy"), no response
//                              retried, after Retry-After when sent
//   any other status (code 7, incorrect index)
//                              permanent: the batch is dead-lettered
//
// With `ack = true` (indexer acknowledgement) every request carries this
// sink's channel (X-Splunk-Request-Channel) and a batch counts as delivered
// only once /services/collector/ack says its ackId was indexed; one not
// acknowledged within ack_timeout is sent again (at least once).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include <hydra/net/http.hpp>

#include "common/delivery_sink.hpp"

namespace {

using hydra::net::QueuedRecord;
using hydra::net::SendResult;
using hydra::plugins::append_json_string;

constexpr std::array kHecOptions = {
    hydra::sdk::required_option("url", HYDRA_OPTION_STRING,
                                "the collector, https://splunk.example.com:8088 (the path "
                                "/services/collector/event is added)"),
    hydra::sdk::option("token", HYDRA_OPTION_STRING, "",
                       "the HEC token (empty: $SPLUNK_HEC_TOKEN)"),
    hydra::sdk::option("host", HYDRA_OPTION_STRING, "", "each event's host (empty: this host's)"),
    hydra::sdk::option("source", HYDRA_OPTION_STRING, "hydra-logger", "each event's source"),
    hydra::sdk::option("sourcetype", HYDRA_OPTION_STRING, "_json", "each event's sourcetype"),
    hydra::sdk::option("index", HYDRA_OPTION_STRING, "",
                       "the index (empty: the token's default index)"),
    hydra::sdk::option("compression", HYDRA_OPTION_STRING, "none", "none or gzip"),
    hydra::sdk::option("ack", HYDRA_OPTION_BOOLEAN, "false",
                       "count a batch delivered only once the indexers acknowledge it"),
    hydra::sdk::option("ack_timeout", HYDRA_OPTION_DURATION, "60s",
                       "ack: send a batch again when it is not acknowledged within this", 1, 3.6e6),
    hydra::sdk::option("ack_poll_interval", HYDRA_OPTION_DURATION, "1s",
                       "ack: how often to ask whether a batch was indexed", 1, 6e5),
};
constexpr auto kOptions = hydra::plugins::join(hydra::plugins::kDeliveryOptions, kHecOptions);

// A field's value as JSON, keeping its type.
void append_value(const hydra::sdk::Value& v, std::string& out) {
  switch (v.type()) {
    case HYDRA_VALUE_BOOL: out += v.as_bool() ? "true" : "false"; break;
    case HYDRA_VALUE_INT: out += std::to_string(v.as_int()); break;
    case HYDRA_VALUE_UINT: out += std::to_string(v.as_uint()); break;
    case HYDRA_VALUE_DOUBLE: {
      const double d = v.as_double();
      if (d == d && d - d == 0) {  // finite
        out += v.text();
      } else {
        append_json_string(v.text(), out);  // JSON has no NaN or infinity
      }
      break;
    }
    case HYDRA_VALUE_STRING: append_json_string(v.as_string(), out); break;
    default: out += "null";
  }
}

struct HecTarget {
  std::string endpoint;  // .../services/collector/event
  // ,"host":..,"source":..,"sourcetype":..[,"index":..] : the same for
  // every event.
  std::string metadata;
  hydra::net::HttpOptions http;
  // Indexer acknowledgement: .../services/collector/ack, empty without.
  std::string ack_endpoint;
  std::chrono::milliseconds ack_timeout{60'000};
  std::chrono::milliseconds ack_poll_interval{1'000};
};

// A random (version 4) UUID: the sink's HEC data channel.
std::string random_uuid() {
  std::random_device device;
  std::mt19937_64 random((static_cast<std::uint64_t>(device()) << 32) ^ device());
  std::uint64_t hi = random(), lo = random();
  hi = (hi & ~std::uint64_t{0xf000}) | 0x4000;                         // version 4
  lo = (lo & ~(std::uint64_t{0xc} << 60)) | (std::uint64_t{8} << 60);  // variant 10
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return out;
}

class HecTransport final : public hydra::net::Transport {
 public:
  explicit HecTransport(HecTarget target)
      : target_(std::move(target)), client_(target_.endpoint, target_.http) {
    if (!target_.ack_endpoint.empty()) {
      ack_client_ = std::make_unique<hydra::net::HttpClient>(target_.ack_endpoint, target_.http);
    }
  }

  std::string describe() const override { return "splunk_hec " + target_.endpoint; }

  SendResult send(std::span<const QueuedRecord> batch) override {
    std::string body;
    for (const QueuedRecord& r : batch) append_event(r, body);
    const hydra::net::HttpResponse response = client_.post(body, "application/json");
    if (response.status >= 200 && response.status < 300) return acknowledged(response);
    if (response.status == 0) return SendResult::retry(response.error);

    // {"text":"Invalid data format","code":6,"invalid-event-number":2}
    const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
    const auto number = [&](const char* key) -> long long {
      if (!answer.is_object() || !answer.contains(key) || !answer[key].is_number_integer())
        return -1;
      return answer[key].get<long long>();
    };
    const long long code = number("code");
    const long long invalid = number("invalid-event-number");
    std::string why = "POST " + target_.endpoint + ": HTTP " + std::to_string(response.status);
    if (code >= 0) why += " code " + std::to_string(code);
    if (answer.is_object() && answer.contains("text") && answer["text"].is_string()) {
      why += ": " + answer["text"].get<std::string>();
    }

    // Codes 6, 12, 13 are about one event: Splunk indexed the events before
    // it and stopped there. (Code 7, an incorrect index, is the batch's.)
    if (response.status == 400 && (code == 6 || code == 12 || code == 13) && invalid >= 0 &&
        static_cast<std::size_t>(invalid) < batch.size()) {
      const auto n = static_cast<std::size_t>(invalid);
      if (batch.size() == 1) return SendResult::reject(why + " (event 0)");
      SendResult result;
      result.status = SendResult::Status::partial;
      using O = SendResult::Item::Outcome;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (i < n) {
          result.items.push_back({O::delivered, {}});
        } else if (i == n) {
          result.items.push_back({O::rejected, why + " (event " + std::to_string(n) + ")"});
        } else {
          result.items.push_back({O::retry, {}});
        }
      }
      return result;
    }
    // A token error is the configuration's, not the records': they wait
    // (in the queue, or the spool) and the error stays in last_error.
    if (response.status == 401 || response.status == 403 || (code >= 1 && code <= 4) ||
        code == 10 || code == 11) {
      return SendResult::retry(why);
    }
    if (response.status >= 500) {
      SendResult result = hydra::net::http_result(response, target_.endpoint);
      if (result.status != SendResult::Status::retryable) result = SendResult::retry(why);
      return result;
    }
    // 429 is retried with its Retry-After; every other status is permanent.
    return hydra::net::http_result(response, target_.endpoint);
  }

 private:
  // Without ack: delivered. With it: once /services/collector/ack says the
  // batch's ackId was indexed ({"acks":{"7":true}}); retried when that does
  // not come within ack_timeout. A 2xx without an ackId (acknowledgement
  // off for the token) is delivered.
  SendResult acknowledged(const hydra::net::HttpResponse& response) {
    if (!ack_client_) return SendResult::ok();
    const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
    if (!answer.is_object() || !answer.contains("ackId") || !answer["ackId"].is_number_integer()) {
      return SendResult::ok();
    }
    const std::string id = std::to_string(answer["ackId"].get<long long>());
    const std::string query = R"({"acks":[)" + id + "]}";
    const auto deadline = std::chrono::steady_clock::now() + target_.ack_timeout;
    std::string last = "no answer";
    for (;;) {
      const hydra::net::HttpResponse r = ack_client_->post(query, "application/json");
      if (r.status == 200) {
        const nlohmann::json acks = nlohmann::json::parse(r.body, nullptr, false);
        if (acks.is_object() && acks.contains("acks") && acks["acks"].is_object() &&
            acks["acks"].contains(id) && acks["acks"][id] == true) {
          return SendResult::ok();
        }
        last = "not indexed yet";
      } else {
        last = r.status == 0 ? r.error : "HTTP " + std::to_string(r.status);
      }
      if (std::chrono::steady_clock::now() + target_.ack_poll_interval >= deadline) {
        return SendResult::retry("POST " + target_.ack_endpoint + ": ackId " + id +
                                 " not acknowledged within " +
                                 std::to_string(target_.ack_timeout.count()) + " ms (" + last +
                                 "); the batch is sent again");
      }
      std::this_thread::sleep_for(target_.ack_poll_interval);
    }
  }

  // {"time":1733486400.123456,"host":..,"source":..,"sourcetype":..,
  //  "index":..,"event":{...},"fields":{"hydra_key":"<record key>"}}
  void append_event(const QueuedRecord& r, std::string& out) const {
    if (!out.empty()) out += '\n';
    const std::int64_t us = r.time_ns / 1000;
    char time[48];
    std::snprintf(time, sizeof time, "%" PRId64 ".%06" PRId64, us / 1'000'000,
                  us % 1'000'000 < 0 ? -(us % 1'000'000) : us % 1'000'000);
    out += R"({"time":)";
    out += time;
    out += target_.metadata;
    out += R"(,"event":)";
    out += r.bytes;
    out += R"(,"fields":{"hydra_key":")";
    out += hydra::net::record_key(r);
    out += "\"}}";
  }

  HecTarget target_;
  hydra::net::HttpClient client_;
  std::unique_ptr<hydra::net::HttpClient> ack_client_;  // with ack only
};

HecTarget hec_target(const hydra::sdk::Options& o) {
  HecTarget t;
  std::string url(o.text("url"));
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    throw std::invalid_argument("option 'url': '" + url + "' is not an http:// or https:// URL");
  }
  while (url.ends_with('/')) url.pop_back();
  const std::string path = "/services/collector/event";
  t.endpoint = url.ends_with(path) ? url : url + path;
  std::string token(o.text("token"));
  if (token.empty()) token = hydra::plugins::env("SPLUNK_HEC_TOKEN");
  if (token.empty()) {
    throw std::invalid_argument("option 'token': empty, and $SPLUNK_HEC_TOKEN is not set");
  }
  t.http.timeout = o.duration("timeout", std::chrono::seconds(10));
  t.http.ca_file = std::string(o.text("ca_file"));
  try {
    t.http.compression = hydra::net::http_compression(o.text("compression", "none"), false);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("option ") + e.what());
  }
  t.http.headers.emplace_back("Authorization", "Splunk " + token);
  if (o.boolean("ack")) {
    t.http.headers.emplace_back("X-Splunk-Request-Channel", random_uuid());
    t.ack_endpoint = url + "/services/collector/ack";
    if (url.ends_with(path)) {
      t.ack_endpoint = url.substr(0, url.size() - path.size()) + "/services/collector/ack";
    }
    t.ack_timeout = o.duration("ack_timeout", std::chrono::seconds(60));
    t.ack_poll_interval = o.duration("ack_poll_interval", std::chrono::seconds(1));
  }
  const std::string host =
      o.text("host").empty() ? hydra::plugins::host_name() : std::string(o.text("host"));
  t.metadata += R"(,"host":)";
  append_json_string(host, t.metadata);
  t.metadata += R"(,"source":)";
  append_json_string(o.text("source", "hydra-logger"), t.metadata);
  t.metadata += R"(,"sourcetype":)";
  append_json_string(o.text("sourcetype", "_json"), t.metadata);
  if (!o.text("index").empty()) {
    t.metadata += R"(,"index":)";
    append_json_string(o.text("index"), t.metadata);
  }
  return t;
}

// Each record is queued as its HEC "event" object: message, level, layer,
// logger, thread_id, the source location when known, and the fields with
// their types.
class HecSink final : public hydra::plugins::DeliverySink {
 public:
  explicit HecSink(const hydra::sdk::Options& o) : HecSink(o, hec_target(o)) {}

 protected:
  void encode(const hydra::sdk::Record& record, std::string_view /*formatted*/,
              std::string& out) override {
    out += R"({"message":)";
    append_json_string(record.message(), out);
    out += R"(,"level":")";
    out += hydra::sdk::level_name(record.level());
    out += R"(","layer":)";
    append_json_string(record.layer(), out);
    out += R"(,"logger":)";
    append_json_string(record.logger(), out);
    out += R"(,"thread_id":)" + std::to_string(record.thread_id());
    if (!record.file().empty()) {
      out += R"(,"file":)";
      append_json_string(record.file(), out);
      out += R"(,"function":)";
      append_json_string(record.function(), out);
      out += R"(,"line":)" + std::to_string(record.line());
    }
    out += R"(,"fields":{)";
    bool first = true;
    for (const hydra::sdk::Field field : record.fields()) {
      if (!first) out += ',';
      first = false;
      append_json_string(field.key, out);
      out += ':';
      append_value(field.value, out);
    }
    out += "}}";
  }

 private:
  HecSink(const hydra::sdk::Options& o, const HecTarget& target)
      : DeliverySink(o, hydra::plugins::delivery_options(o, "splunk_hec " + target.endpoint),
                     [target] { return std::make_unique<HecTransport>(target); }) {}
};

}  // namespace

HYDRA_PLUGIN("splunk_hec", "1.0.0", "Splunk HTTP Event Collector destination (splunk_hec)",
             hydra::sdk::sink_kind<HecSink>("splunk_hec",
                                            "ships records to Splunk's HTTP Event Collector",
                                            kOptions, HYDRA_KIND_THREAD_SAFE))
