// The `elasticsearch` destination: documents made from records, sent in
// bulk with `create` actions keyed by the record's key, and the bulk
// response read item by item (docs/shipping.md).
#include <charconv>
#include <chrono>
#include <optional>
#include <vector>

#include "hydra/format/detail/escape.hpp"
#include "hydra/net/elasticsearch.hpp"

namespace hydra::net {
namespace {

// Just enough JSON to read a bulk response (the net module has no JSON
// library): values, with objects as key/value lists in order.
struct Json {
  enum class Type : std::uint8_t { null, boolean, number, string, array, object } type = Type::null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* find(std::string_view key) const {
    for (const auto& [k, v] : object) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : s_(text) {}

  std::optional<Json> document() {
    auto v = value(0);
    skip_space();
    if (!v || at_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void skip_space() {
    while (at_ < s_.size() &&
           (s_[at_] == ' ' || s_[at_] == '\n' || s_[at_] == '\r' || s_[at_] == '\t')) {
      ++at_;
    }
  }
  bool literal(std::string_view word) {
    if (s_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  std::optional<std::string> string() {
    if (at_ >= s_.size() || s_[at_] != '"') return std::nullopt;
    ++at_;
    std::string out;
    while (at_ < s_.size() && s_[at_] != '"') {
      char c = s_[at_++];
      if (c == '\\') {
        if (at_ >= s_.size()) return std::nullopt;
        c = s_[at_++];
        switch (c) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          case 'b': c = '\b'; break;
          case 'f': c = '\f'; break;
          case 'u': {  // kept as written: only the structure matters here
            out += "\\u";
            continue;
          }
          default: break;  // " \ /
        }
      }
      out += c;
    }
    if (at_ >= s_.size()) return std::nullopt;
    ++at_;
    return out;
  }

  std::optional<Json> value(int depth) {
    if (depth > 64) return std::nullopt;
    skip_space();
    if (at_ >= s_.size()) return std::nullopt;
    Json v;
    const char c = s_[at_];
    if (c == '{') {
      ++at_;
      v.type = Json::Type::object;
      skip_space();
      if (at_ < s_.size() && s_[at_] == '}') {
        ++at_;
        return v;
      }
      for (;;) {
        skip_space();
        auto key = string();
        skip_space();
        if (!key || at_ >= s_.size() || s_[at_] != ':') return std::nullopt;
        ++at_;
        auto item = value(depth + 1);
        if (!item) return std::nullopt;
        v.object.emplace_back(std::move(*key), std::move(*item));
        skip_space();
        if (at_ < s_.size() && s_[at_] == ',') {
          ++at_;
          continue;
        }
        if (at_ < s_.size() && s_[at_] == '}') {
          ++at_;
          return v;
        }
        return std::nullopt;
      }
    }
    if (c == '[') {
      ++at_;
      v.type = Json::Type::array;
      skip_space();
      if (at_ < s_.size() && s_[at_] == ']') {
        ++at_;
        return v;
      }
      for (;;) {
        auto item = value(depth + 1);
        if (!item) return std::nullopt;
        v.array.push_back(std::move(*item));
        skip_space();
        if (at_ < s_.size() && s_[at_] == ',') {
          ++at_;
          continue;
        }
        if (at_ < s_.size() && s_[at_] == ']') {
          ++at_;
          return v;
        }
        return std::nullopt;
      }
    }
    if (c == '"') {
      auto str = string();
      if (!str) return std::nullopt;
      v.type = Json::Type::string;
      v.string = std::move(*str);
      return v;
    }
    if (literal("true") || literal("false")) {
      v.type = Json::Type::boolean;
      v.boolean = s_[at_ - 1] == 'e' && s_[at_ - 2] == 'u';
      return v;
    }
    if (literal("null")) return v;
    const std::size_t start = at_;
    while (at_ < s_.size() &&
           (std::string_view("+-.eE0123456789").find(s_[at_]) != std::string_view::npos)) {
      ++at_;
    }
    if (at_ == start) return std::nullopt;
    v.type = Json::Type::number;
    std::from_chars(s_.data() + start, s_.data() + at_, v.number);
    return v;
  }

  std::string_view s_;
  std::size_t at_ = 0;
};

std::optional<std::chrono::milliseconds> retry_after_of(const HttpResponse& response) {
  if (const auto v = response.header("retry-after")) {
    return parse_retry_after(*v, std::chrono::system_clock::now());
  }
  return std::nullopt;
}

class ElasticsearchTransport final : public Transport {
 public:
  explicit ElasticsearchTransport(ElasticsearchTarget target)
      : target_(std::move(target)), client_(bulk_url(target_.url), target_.http) {
    if (!target_.stats) target_.stats = std::make_shared<ElasticsearchStats>();
    hydra::detail::Buffer b;
    b.append(std::string_view("{\"create\":{\"_index\":"));
    hydra::detail::append_json_string(target_.index, b);
    b.append(std::string_view(",\"_id\":\""));
    action_head_.assign(b.data(), b.size());
  }

  std::string describe() const override {
    return "elasticsearch " + client_.url() + " " + target_.index;
  }

  SendResult send(std::span<const QueuedRecord> batch) override {
    std::size_t size = 0;
    for (const auto& r : batch) size += action_head_.size() + r.bytes.size() + 40;
    std::string body;
    body.reserve(size);
    for (const auto& r : batch) {
      body += action_head_;
      body += record_key(r);  // hex digits, '-' and digits: nothing to escape
      body += "\"}}\n";
      body += r.bytes;
      body += '\n';
    }
    const HttpResponse response = client_.post(body, "application/x-ndjson");
    const long s = response.status;
    SendResult whole = http_result(response, client_.url());
    if (s >= 500 && s < 600 && whole.status == SendResult::Status::permanent) {
      return SendResult::retry(std::move(whole.reason), retry_after_of(response));
    }
    if (whole.status != SendResult::Status::delivered) return whole;
    return items_result(response.body, batch.size());
  }

 private:
  static std::string bulk_url(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url + "/_bulk";
  }

  // A 2xx bulk response: "errors" false, every item done; else each
  // item's status says.
  SendResult items_result(std::string_view body, std::size_t n) {
    using Outcome = SendResult::Item::Outcome;
    const auto doc = JsonReader(body).document();
    const Json* errors = doc ? doc->find("errors") : nullptr;
    const Json* items = doc ? doc->find("items") : nullptr;
    if (errors != nullptr && errors->type == Json::Type::boolean && !errors->boolean &&
        (items == nullptr || items->array.size() == n)) {
      return SendResult::ok();
    }
    // Unreadable, or not one item a document: sent again whole, which
    // create with _id makes safe (what is there answers 409).
    if (items == nullptr || items->type != Json::Type::array || items->array.size() != n) {
      return SendResult::retry("POST " + client_.url() +
                               ": a bulk response that does not answer each document");
    }
    SendResult r;
    r.status = SendResult::Status::partial;
    std::uint64_t duplicates = 0;
    bool all_delivered = true;
    for (const Json& item : items->array) {
      const Json* action = item.object.empty() ? nullptr : &item.object.front().second;
      const Json* status = action != nullptr ? action->find("status") : nullptr;
      const long code = status != nullptr ? static_cast<long>(status->number) : 0;
      if ((code >= 200 && code < 300) || code == 409) {
        if (code == 409) ++duplicates;
        r.items.push_back({Outcome::delivered, {}});
        continue;
      }
      all_delivered = false;
      if (code == 429 || code >= 500 || code == 0) {
        r.items.push_back({Outcome::retry, {}});
        continue;
      }
      std::string why = "elasticsearch: HTTP " + std::to_string(code);
      if (const Json* error = action->find("error"); error != nullptr) {
        const Json* type = error->find("type");
        const Json* reason = error->find("reason");
        if (type != nullptr) why += ": " + type->string;
        if (reason != nullptr) why += ": " + reason->string;
      }
      r.items.push_back({Outcome::rejected, std::move(why)});
    }
    target_.stats->duplicates.fetch_add(duplicates, std::memory_order_relaxed);
    if (all_delivered) return SendResult::ok();
    return r;
  }

  ElasticsearchTarget target_;
  HttpClient client_;
  std::string action_head_;  // {"create":{"_index":"<index>","_id":"
};

}  // namespace

std::string basic_authorization(std::string_view user, std::string_view password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = std::string(user) + ":" + std::string(password);
  std::string out = "Basic ";
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      v = (v << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0U);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

RecordEncoder make_elasticsearch_encoder() {
  // The json format's names (docs/formats.md), the time as @timestamp.
  return [](const Record& r, std::string_view, std::string& out) {
    using namespace std::string_view_literals;
    namespace d = hydra::detail;
    d::Buffer b;
    d::append_raw(R"({"@timestamp":")"sv, b);
    d::append_rfc3339_utc(r.time, b);
    d::append_raw(R"(","level":")"sv, b);
    d::append_raw(to_lower_string(r.level), b);
    d::append_raw(R"(","layer":)"sv, b);
    d::append_json_string(r.layer, b);
    d::append_raw(R"(,"logger":)"sv, b);
    d::append_json_string(r.logger, b);
    d::append_raw(R"(,"message":)"sv, b);
    d::append_json_string(r.message, b);
    if (!r.fields.empty()) {
      d::append_raw(R"(,"fields":)"sv, b);
      d::append_json_object(r.fields, b);
    }
    if (has_source(r)) {
      d::append_raw(R"(,"source":{"file":)"sv, b);
      d::append_json_string(r.source.file, b);
      d::append_raw(R"(,"line":)"sv, b);
      d::append_decimal(std::uint64_t{r.source.line}, b);
      d::append_raw(R"(,"function":)"sv, b);
      d::append_json_string(r.source.function, b);
      b.push_back('}');
    }
    d::append_raw(R"(,"thread":)"sv, b);
    d::append_decimal(r.thread_id, b);
    b.push_back('}');
    out.append(b.data(), b.size());
  };
}

std::unique_ptr<Transport> make_elasticsearch_transport(ElasticsearchTarget target) {
  return std::make_unique<ElasticsearchTransport>(std::move(target));
}

}  // namespace hydra::net
