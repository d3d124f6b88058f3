// cloudwatch.so: the `cloudwatch` destination as a loadable plugin. Records
// go to CloudWatch Logs with PutLogEvents (POST https://logs.<region>.
// amazonaws.com/, X-Amz-Target: Logs_20140328.PutLogEvents, an
// application/x-amz-json-1.1 body), signed with AWS Signature Version 4
// (hydra/net/aws_sigv4.hpp) with credentials from the environment or the
// shared credentials file, never the metadata server; through a
// net::DeliveryEngine (queue, retries, spool, dead-letter, counts).
//
// Each record's message is the line its destination's format wrote (the
// newline dropped, invalid UTF-8 replaced by U+FFFD). The transport keeps
// PutLogEvents' rules itself, whatever batch the engine hands it: events in
// chronological order (a batch is sorted by timestamp), and split so that
// each request holds at most 10,000 events, 1,048,576 bytes (each message's
// UTF-8 bytes + 26) and less than 24 hours between its first and last event;
// an event larger than max_event_bytes is rejected alone.
//
//   200                                 delivered, but for what
//                                       rejectedLogEventsInfo names
//                                       (tooNew..., tooOld..., expired...):
//                                       those events are rejected
//   ThrottlingException, ServiceUnavailableException, 429, 5xx, no response
//                                       retried (after Retry-After when sent)
//   credential errors (UnrecognizedClient, InvalidSignature, ExpiredToken,
//   AccessDenied ...)                   retried, credentials read again: the
//                                       configuration's fault, not the records'
//   ResourceNotFoundException           with create_stream: CreateLogStream,
//                                       then the request again; else permanent
//   any other error                     permanent: those events are dead-lettered
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <hydra/net/aws_sigv4.hpp>
#include <hydra/net/http.hpp>
#include <hydra/net/retry.hpp>

#include "common/delivery_sink.hpp"

namespace {

namespace aws = hydra::net::aws;
using hydra::net::QueuedRecord;
using hydra::net::SendResult;
using hydra::plugins::append_json_string;
using Outcome = SendResult::Item::Outcome;

// PutLogEvents' limits (CloudWatch Logs API reference, PutLogEvents).
constexpr std::size_t kMaxRequestBytes = 1'048'576;
constexpr std::size_t kEventOverhead = 26;
constexpr std::size_t kMaxRequestEvents = 10'000;
constexpr std::int64_t kMaxSpanMs = 24 * 3600 * 1000;

constexpr std::array kCloudWatchOptions = {
    hydra::sdk::required_option("log_group", HYDRA_OPTION_STRING, "the log group's name"),
    hydra::sdk::required_option("log_stream", HYDRA_OPTION_STRING, "the log stream's name"),
    hydra::sdk::option("region", HYDRA_OPTION_STRING, "",
                       "the AWS region (empty: $AWS_REGION, else $AWS_DEFAULT_REGION)"),
    hydra::sdk::option("endpoint", HYDRA_OPTION_STRING, "",
                       "the service's URL (empty: https://logs.<region>.amazonaws.com/)"),
    hydra::sdk::option("profile", HYDRA_OPTION_STRING, "",
                       "the shared credentials file's profile (empty: $AWS_PROFILE, else default)"),
    hydra::sdk::option("create_stream", HYDRA_OPTION_BOOLEAN, "false",
                       "create the log stream (CreateLogStream) when it does not exist"),
    hydra::sdk::option("max_event_bytes", HYDRA_OPTION_INTEGER, "262144",
                       "an event's largest size, message bytes + 26 (larger ones are rejected)", 27,
                       1'048'576),
};
constexpr auto kOptions =
    hydra::plugins::join(hydra::plugins::kDeliveryOptions, kCloudWatchOptions);

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD,
// so that a message's size is the size CloudWatch counts.
void append_valid_utf8(std::string_view text, std::string& out) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = at(i);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
      n = 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    }
    bool valid = n != 0 && i + n <= text.size();
    if (valid && n > 1) valid = at(i + 1) >= lo && at(i + 1) <= hi;
    for (std::size_t k = 2; valid && k < n; ++k) valid = at(i + k) >= 0x80 && at(i + k) <= 0xbf;
    if (valid) {
      out.append(text.data() + i, n);
      i += n;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
}

struct CloudWatchTarget {
  std::string url;   // https://logs.eu-west-1.amazonaws.com/
  std::string host;  // logs.eu-west-1.amazonaws.com (with :port when the URL has one)
  std::string path = "/";
  std::string region;
  std::string profile;
  std::string log_group;
  std::string log_stream;
  bool create_stream = false;
  std::size_t max_event_bytes = 262'144;
  hydra::net::HttpOptions http;
};

// An AWS JSON error: {"__type":"com.amazonaws.logs#ThrottlingException",
// "message":"Rate exceeded"} (or the x-amzn-ErrorType header).
struct AwsError {
  std::string type;  // ThrottlingException
  std::string message;
};

AwsError aws_error(const hydra::net::HttpResponse& response) {
  AwsError e;
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    if (body.contains("__type") && body["__type"].is_string()) e.type = body["__type"];
    for (const char* key : {"message", "Message"}) {
      if (body.contains(key) && body[key].is_string()) e.message = body[key];
    }
  }
  if (e.type.empty()) {
    if (const auto h = response.header("x-amzn-errortype")) e.type = std::string(*h);
  }
  if (const auto hash = e.type.rfind('#'); hash != std::string::npos) e.type.erase(0, hash + 1);
  if (const auto colon = e.type.find(':'); colon != std::string::npos) e.type.resize(colon);
  return e;
}

bool credentials_error(std::string_view type) {
  for (const std::string_view t :
       {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
        "ExpiredToken", "AccessDeniedException", "IncompleteSignature",
        "MissingAuthenticationToken", "InvalidClientTokenId", "SignatureDoesNotMatch"}) {
    if (type == t) return true;
  }
  return false;
}

class CloudWatchTransport final : public hydra::net::Transport {
 public:
  CloudWatchTransport(CloudWatchTarget target, aws::Credentials credentials)
      : target_(std::move(target)),
        credentials_(std::move(credentials)),
        client_(target_.url, target_.http) {}

  std::string describe() const override {
    return "cloudwatch " + target_.log_group + "/" + target_.log_stream + " " + target_.url;
  }

  SendResult send(std::span<const QueuedRecord> batch) override {
    std::vector<SendResult::Item> items(batch.size(), SendResult::Item{Outcome::delivered, {}});
    // The events in chronological order (stable: submission order among
    // equal timestamps); one larger than an event may be, or empty, is
    // rejected alone.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].bytes.empty()) {
        items[i] = {Outcome::rejected, "cloudwatch: an empty message (CloudWatch takes none)"};
      } else if (batch[i].bytes.size() + kEventOverhead > target_.max_event_bytes) {
        items[i] = {Outcome::rejected, "cloudwatch: the event is " +
                                           std::to_string(batch[i].bytes.size() + kEventOverhead) +
                                           " bytes, more than max_event_bytes (" +
                                           std::to_string(target_.max_event_bytes) + ")"};
      } else {
        order.push_back(i);
      }
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return millis(batch[a]) < millis(batch[b]);
    });

    std::string retry_reason;
    std::optional<std::chrono::milliseconds> retry_after;
    for (std::size_t begin = 0; begin < order.size();) {
      // As many as PutLogEvents takes in one request.
      std::size_t end = begin, bytes = 0;
      while (end < order.size() && end - begin < kMaxRequestEvents) {
        const QueuedRecord& r = batch[order[end]];
        if (bytes + r.bytes.size() + kEventOverhead > kMaxRequestBytes) break;
        if (millis(r) - millis(batch[order[begin]]) >= kMaxSpanMs) break;
        bytes += r.bytes.size() + kEventOverhead;
        ++end;
      }
      const std::span<const std::size_t> chunk(order.data() + begin, end - begin);
      begin = end;
      if (!retry_reason.empty()) {  // an earlier request failed: these wait too
        for (const std::size_t i : chunk) items[i] = {Outcome::retry, {}};
        continue;
      }
      const SendResult r = put(batch, chunk, items);
      if (r.status == SendResult::Status::retryable) {
        retry_reason = r.reason;
        retry_after = r.retry_after;
        for (const std::size_t i : chunk) items[i] = {Outcome::retry, {}};
      } else if (r.status == SendResult::Status::permanent) {
        for (const std::size_t i : chunk) items[i] = {Outcome::rejected, r.reason};
      }
    }
    return result_of(std::move(items), retry_reason, retry_after);
  }

 private:
  static std::int64_t millis(const QueuedRecord& r) {
    const std::int64_t ms = r.time_ns / 1'000'000;
    return r.time_ns < 0 && r.time_ns % 1'000'000 != 0 ? ms - 1 : ms;
  }

  // One PutLogEvents of the events `chunk` (indexes into `batch`, in
  // chronological order). Delivered (with the rejections the response names
  // set in `items`), retryable or permanent.
  SendResult put(std::span<const QueuedRecord> batch, std::span<const std::size_t> chunk,
                 std::vector<SendResult::Item>& items) {
    std::string body = R"({"logGroupName":)";
    append_json_string(target_.log_group, body);
    body += R"(,"logStreamName":)";
    append_json_string(target_.log_stream, body);
    body += R"(,"logEvents":[)";
    for (std::size_t k = 0; k < chunk.size(); ++k) {
      const QueuedRecord& r = batch[chunk[k]];
      if (k > 0) body += ',';
      body += R"({"timestamp":)" + std::to_string(millis(r)) + R"(,"message":)";
      append_json_string(r.bytes, body);
      body += '}';
    }
    body += "]}";

    hydra::net::HttpResponse response = call("PutLogEvents", body);
    if (response.status != 200 && target_.create_stream &&
        aws_error(response).type == "ResourceNotFoundException") {
      const SendResult created = create_stream();
      if (created.status != SendResult::Status::delivered) return created;
      response = call("PutLogEvents", body);
    }
    if (response.status != 200) return error_result(response, "PutLogEvents");

    // {"rejectedLogEventsInfo":{"tooNewLogEventStartIndex":N (inclusive),
    //  "tooOldLogEventEndIndex":N (exclusive), "expiredLogEventEndIndex":N
    //  (exclusive)}}
    const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
    if (!answer.is_object() || !answer.contains("rejectedLogEventsInfo") ||
        !answer["rejectedLogEventsInfo"].is_object()) {
      return SendResult::ok();
    }
    const nlohmann::json& info = answer["rejectedLogEventsInfo"];
    const auto index = [&](const char* key) -> std::optional<std::size_t> {
      if (!info.contains(key) || !info[key].is_number_integer()) return std::nullopt;
      const auto v = info[key].get<long long>();
      if (v < 0) return std::size_t{0};
      return std::min(static_cast<std::size_t>(v), chunk.size());
    };
    const auto reject = [&](std::size_t from, std::size_t to, const char* why) {
      for (std::size_t k = from; k < to; ++k) {
        items[chunk[k]] = {Outcome::rejected, std::string("cloudwatch rejectedLogEventsInfo: ") +
                                                  why + " (" + target_.log_group + "/" +
                                                  target_.log_stream + ")"};
      }
    };
    if (const auto end = index("tooOldLogEventEndIndex")) {
      reject(0, *end, "too old (more than 14 days, or before the group's retention)");
    }
    if (const auto end = index("expiredLogEventEndIndex")) {
      reject(0, *end, "expired (older than the group's retention)");
    }
    if (const auto start = index("tooNewLogEventStartIndex")) {
      reject(*start, chunk.size(), "too new (more than 2 hours in the future)");
    }
    return SendResult::ok();
  }

  SendResult create_stream() {
    std::string body = R"({"logGroupName":)";
    append_json_string(target_.log_group, body);
    body += R"(,"logStreamName":)";
    append_json_string(target_.log_stream, body);
    body += '}';
    const hydra::net::HttpResponse response = call("CreateLogStream", body);
    if (response.status == 200 || aws_error(response).type == "ResourceAlreadyExistsException") {
      return SendResult::ok();
    }
    return error_result(response, "CreateLogStream");
  }

  // POSTs `body` as action `action`, signed.
  hydra::net::HttpResponse call(std::string_view action, const std::string& body) {
    if (reload_credentials_) {
      try {
        credentials_ = aws::find_credentials(target_.profile);
      } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): keep the ones we have
      }
      reload_credentials_ = false;
    }
    aws::Request request;
    request.method = "POST";
    request.path = target_.path;
    request.headers = {{"Host", target_.host},
                       {"Content-Type", "application/x-amz-json-1.1"},
                       {"X-Amz-Target", "Logs_20140328." + std::string(action)}};
    request.body = body;
    aws::SigningOptions signing;
    signing.region = target_.region;
    signing.service = "logs";
    signing.time = std::chrono::system_clock::now();
    const aws::Signature signature = aws::sign(request, credentials_, signing);
    std::vector<std::pair<std::string, std::string>> headers = {request.headers[0],
                                                                request.headers[2]};
    headers.insert(headers.end(), signature.headers.begin(), signature.headers.end());
    return client_.post(body, "application/x-amz-json-1.1", headers);
  }

  SendResult error_result(const hydra::net::HttpResponse& response, std::string_view action) {
    if (response.status == 0) return SendResult::retry(response.error);
    const AwsError e = aws_error(response);
    std::string why =
        std::string(action) + " " + target_.url + ": HTTP " + std::to_string(response.status);
    if (!e.type.empty()) why += " " + e.type;
    if (!e.message.empty()) why += ": " + e.message;
    std::optional<std::chrono::milliseconds> after;
    if (const auto v = response.header("retry-after")) {
      after = hydra::net::parse_retry_after(*v, std::chrono::system_clock::now());
    }
    if (e.type == "ThrottlingException" || e.type == "ServiceUnavailableException" ||
        response.status == 429 || response.status >= 500) {
      return SendResult::retry(why, after);
    }
    if (credentials_error(e.type) || response.status == 401 || response.status == 403) {
      reload_credentials_ = true;  // perhaps they were renewed in the meantime
      return SendResult::retry(why, after);
    }
    return SendResult::reject(why);
  }

  // The batch's result from each event's outcome.
  static SendResult result_of(std::vector<SendResult::Item> items, const std::string& retry_reason,
                              std::optional<std::chrono::milliseconds> retry_after) {
    const auto all = [&](Outcome o) {
      return std::all_of(items.begin(), items.end(),
                         [o](const SendResult::Item& i) { return i.outcome == o; });
    };
    if (all(Outcome::delivered)) return SendResult::ok();
    if (all(Outcome::retry)) return SendResult::retry(retry_reason, retry_after);
    SendResult result;
    result.status = SendResult::Status::partial;
    result.reason = retry_reason;
    result.retry_after = retry_after;
    result.items = std::move(items);
    return result;
  }

  CloudWatchTarget target_;
  aws::Credentials credentials_;
  hydra::net::HttpClient client_;
  bool reload_credentials_ = false;
};

CloudWatchTarget cloudwatch_target(const hydra::sdk::Options& o) {
  CloudWatchTarget t;
  t.log_group = std::string(o.text("log_group"));
  t.log_stream = std::string(o.text("log_stream"));
  if (t.log_group.empty()) throw std::invalid_argument("option 'log_group': empty");
  if (t.log_stream.empty()) throw std::invalid_argument("option 'log_stream': empty");
  t.region = std::string(o.text("region"));
  if (t.region.empty()) t.region = hydra::plugins::env("AWS_REGION");
  if (t.region.empty()) t.region = hydra::plugins::env("AWS_DEFAULT_REGION");
  if (t.region.empty()) {
    throw std::invalid_argument(
        "option 'region': empty, and neither $AWS_REGION nor $AWS_DEFAULT_REGION is set");
  }
  t.url = std::string(o.text("endpoint"));
  if (t.url.empty()) t.url = "https://logs." + t.region + ".amazonaws.com/";
  const auto scheme = t.url.find("://");
  if (!t.url.starts_with("http://") && !t.url.starts_with("https://")) {
    throw std::invalid_argument("option 'endpoint': '" + t.url +
                                "' is not an http:// or https:// URL");
  }
  const std::string rest = t.url.substr(scheme + 3);
  const auto slash = rest.find('/');
  t.host = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (t.host.empty() || t.path.find('?') != std::string::npos) {
    throw std::invalid_argument("option 'endpoint': '" + t.url + "' is not a host and a path");
  }
  t.profile = std::string(o.text("profile"));
  t.create_stream = o.boolean("create_stream");
  t.max_event_bytes = static_cast<std::size_t>(o.integer("max_event_bytes", 262'144));
  t.http.timeout = o.duration("timeout", std::chrono::seconds(10));
  t.http.ca_file = std::string(o.text("ca_file"));
  return t;
}

// Each record is queued as its CloudWatch message: the formatted line.
class CloudWatchSink final : public hydra::plugins::DeliverySink {
 public:
  explicit CloudWatchSink(const hydra::sdk::Options& o) : CloudWatchSink(o, cloudwatch_target(o)) {}

 protected:
  void encode(const hydra::sdk::Record& /*record*/, std::string_view formatted,
              std::string& out) override {
    while (!formatted.empty() && (formatted.back() == '\n' || formatted.back() == '\r')) {
      formatted.remove_suffix(1);
    }
    append_valid_utf8(formatted, out);
  }

 private:
  // Credentials are looked for now, so that missing ones are a
  // configuration error naming where they were looked for.
  CloudWatchSink(const hydra::sdk::Options& o, const CloudWatchTarget& target)
      : DeliverySink(o,
                     hydra::plugins::delivery_options(
                         o, "cloudwatch " + target.log_group + "/" + target.log_stream),
                     [target, credentials = aws::find_credentials(target.profile)] {
                       return std::make_unique<CloudWatchTransport>(target, credentials);
                     }) {}
};

}  // namespace

HYDRA_PLUGIN("cloudwatch", "1.0.0", "Amazon CloudWatch Logs destination (cloudwatch)",
             hydra::sdk::sink_kind<CloudWatchSink>(
                 "cloudwatch", "ships records to CloudWatch Logs (PutLogEvents)", kOptions,
                 HYDRA_KIND_THREAD_SAFE))
