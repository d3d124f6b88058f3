// The `loki` destination: records queued as their stream's labels and their
// line, batches grouped by label set into the push API's streams, and the
// push's answer classified as Loki answers (docs/shipping.md).
//
// A queued record is four parts separated by '\n' (only the line may hold
// one): the labels in Prometheus's form, `{layer="APP", level="info"}` (as
// Loki names a stream in its error messages), the labels as a JSON object,
// the time in nanoseconds since the epoch, and the line.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <stdexcept>
#include <unordered_map>

#include "../record_text.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/net/loki.hpp"

namespace hydra::net {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Go's strconv.Quote for what labels hold (Prometheus's Labels.String()).
void append_go_quoted(std::string_view s, std::string& out) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  out += '"';
}

struct Parts {
  std::string_view prom;
  std::string_view json;
  std::int64_t time_ns = 0;
  std::string_view line;
};

Parts parts_of(std::string_view bytes) {
  Parts p;
  std::string_view rest = bytes;
  const auto take = [&] {
    const auto nl = rest.find('\n');
    const std::string_view part = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    return part;
  };
  p.prom = take();
  p.json = take();
  const std::string_view ts = take();
  std::from_chars(ts.data(), ts.data() + ts.size(), p.time_ns);
  p.line = rest;
  return p;
}

// "2026-11-06T19:30:00Z", "2026-11-06T20:30:00+01:00" (Go's time.RFC3339,
// as Loki writes an entry's time in its messages) in seconds since the epoch.
std::optional<std::int64_t> rfc3339_seconds(std::string_view s) {
  const auto number = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    const auto r = std::from_chars(s.data() + at, s.data() + at + n, v);
    if (r.ec != std::errc() || r.ptr != s.data() + at + n) return std::nullopt;
    return v;
  };
  const auto y = number(0, 4), mo = number(5, 2), d = number(8, 2);
  const auto h = number(11, 2), mi = number(14, 2), se = number(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || s[4] != '-' || s[7] != '-' || s[10] != 'T') {
    return std::nullopt;
  }
  std::size_t at = 19;
  while (at < s.size() && (s[at] == '.' || (s[at] >= '0' && s[at] <= '9'))) ++at;  // a fraction
  std::int64_t offset = 0;
  if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const auto oh = number(at + 1, 2), om = number(at + 4, 2);
    if (!oh || !om) return std::nullopt;
    offset = (s[at] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
  } else if (at >= s.size() || s[at] != 'Z') {
    return std::nullopt;
  }
  using namespace std::chrono;
  const sys_days day{year{*y} / month{static_cast<unsigned>(*mo)} / static_cast<unsigned>(*d)};
  return day.time_since_epoch().count() * 86400 + *h * 3600 + *mi * 60 + *se - offset;
}

// The `name="value"` pairs of labels in Prometheus's form, as written.
std::vector<std::string_view> label_pairs(std::string_view labels) {
  std::vector<std::string_view> out;
  if (labels.size() < 2 || labels.front() != '{' || labels.back() != '}') return out;
  labels = labels.substr(1, labels.size() - 2);
  std::size_t at = 0;
  while (at < labels.size()) {
    const std::size_t start = at;
    while (at < labels.size() && labels[at] != '"') ++at;  // name=
    if (at++ >= labels.size()) return {};
    while (at < labels.size() && labels[at] != '"') at += labels[at] == '\\' ? 2 : 1;
    if (at >= labels.size()) return {};
    out.push_back(labels.substr(start, ++at - start));
    while (at < labels.size() && (labels[at] == ',' || labels[at] == ' ')) ++at;
  }
  return out;
}

// Whether every label of `ours` is in `theirs` with its value: Loki may
// name a stream with labels it added (Loki 3 adds service_name).
bool labels_within(std::string_view ours, const std::vector<std::string_view>& theirs) {
  const auto mine = label_pairs(ours);
  if (mine.empty()) return false;
  for (const auto pair : mine) {
    if (std::find(theirs.begin(), theirs.end(), pair) == theirs.end()) return false;
  }
  return true;
}

std::int64_t floor_seconds(std::int64_t ns) {
  return ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000);
}

class LokiTransport final : public Transport {
 public:
  explicit LokiTransport(LokiTarget target)
      : target_(std::move(target)), client_(push_url(), http()) {}

  std::string describe() const override { return "loki " + client_.url(); }

  SendResult send(std::span<const QueuedRecord> batch) override {
    const HttpResponse response = client_.post(request(batch), "application/json");
    const long s = response.status;
    if (s == 400) {
      auto items = loki_rejections(response.body, batch);
      if (items.empty()) return http_result(response, client_.url());  // permanent, with the body
      SendResult r;
      r.status = SendResult::Status::partial;
      r.items = std::move(items);
      return r;
    }
    SendResult r = http_result(response, client_.url());
    // Loki's own clients retry every 5xx, not only 502, 503, 504.
    if (s >= 500 && s < 600 && r.status == SendResult::Status::permanent) {
      std::optional<std::chrono::milliseconds> after;
      if (const auto v = response.header("retry-after")) {
        after = parse_retry_after(*v, std::chrono::system_clock::now());
      }
      return SendResult::retry(std::move(r.reason), after);
    }
    return r;
  }

 private:
  std::string push_url() const {
    std::string url = target_.url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url + "/loki/api/v1/push";
  }

  HttpOptions http() const {
    HttpOptions o = target_.http;
    if (!target_.tenant.empty()) o.headers.emplace_back("X-Scope-OrgID", target_.tenant);
    return o;
  }

  // {"streams":[{"stream":{...},"values":[["<ns>","<line>"],...]},...]}, a
  // stream per label set, in the order of their first record.
  static std::string request(std::span<const QueuedRecord> batch) {
    std::vector<Parts> parts;
    parts.reserve(batch.size());
    std::unordered_map<std::string_view, std::size_t> stream_of;
    std::vector<std::vector<std::size_t>> streams;
    std::size_t size = 16;
    for (const auto& r : batch) {
      parts.push_back(parts_of(r.bytes));
      const auto [it, added] = stream_of.emplace(parts.back().json, streams.size());
      if (added) streams.emplace_back();
      streams[it->second].push_back(parts.size() - 1);
      size += r.bytes.size() + 32;
    }
    hydra::detail::Buffer b;
    b.reserve(size);
    b.append(std::string_view("{\"streams\":["));
    for (std::size_t k = 0; k < streams.size(); ++k) {
      b.append(std::string_view(k == 0 ? "{\"stream\":" : ",{\"stream\":"));
      b.append(parts[streams[k][0]].json);
      b.append(std::string_view(",\"values\":["));
      for (std::size_t j = 0; j < streams[k].size(); ++j) {
        const Parts& p = parts[streams[k][j]];
        b.append(std::string_view(j == 0 ? "[\"" : ",[\""));
        hydra::detail::append_decimal(p.time_ns, b);
        b.append(std::string_view("\","));
        hydra::detail::append_json_string(p.line, b);
        b.push_back(']');
      }
      b.append(std::string_view("]}"));
    }
    b.append(std::string_view("]}"));
    return std::string(b.data(), b.size());
  }

  LokiTarget target_;
  HttpClient client_;
};

}  // namespace

bool loki_label_name_valid(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

RecordEncoder make_loki_encoder(const LokiTarget& target) {
  std::string service = target.service.empty() ? detail::program_name() : target.service;
  Labels fixed = target.labels;
  fixed.emplace_back("service", std::move(service));
  return [fixed = std::move(fixed)](const Record& r, std::string_view formatted, std::string& out) {
    Labels labels = fixed;
    labels.emplace_back("layer", std::string(r.layer));
    labels.emplace_back("level", std::string(to_lower_string(r.level)));
    std::sort(labels.begin(), labels.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out += ", ";
      out += labels[i].first;
      out += '=';
      append_go_quoted(labels[i].second, out);
    }
    out += "}\n";
    hydra::detail::Buffer json;
    json.push_back('{');
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) json.push_back(',');
      hydra::detail::append_json_string(labels[i].first, json);
      json.push_back(':');
      hydra::detail::append_json_string(labels[i].second, json);
    }
    json.push_back('}');
    out.append(json.data(), json.size());
    out += '\n';
    out += std::to_string(
        std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count());
    out += '\n';
    out += detail::without_line_end(formatted);
  };
}

std::unique_ptr<Transport> make_loki_transport(const LokiTarget& target) {
  return std::make_unique<LokiTransport>(target);
}

std::vector<SendResult::Item> loki_rejections(std::string_view body,
                                              std::span<const QueuedRecord> batch) {
  using Outcome = SendResult::Item::Outcome;
  std::vector<Parts> entries;
  entries.reserve(batch.size());
  for (const auto& r : batch) entries.push_back(parts_of(r.bytes));
  std::vector<SendResult::Item> items(batch.size(), {Outcome::delivered, {}});
  bool any = false;
  // Loki 3 joins its messages with "; " (prefixed "N errors like: " when
  // more than one kind); some proxies and older versions, one a line.
  std::vector<std::string_view> messages;
  for (std::string_view rest = body; !rest.empty();) {
    auto end = std::min(rest.find('\n'), rest.find("; "));
    const std::string_view m = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{}
                                         : rest.substr(end + (rest[end] == '\n' ? 1 : 2));
    const auto first = m.find_first_not_of(" \t\r");
    if (first != std::string_view::npos) messages.push_back(m.substr(first));
  }
  for (std::string_view m : messages) {
    while (!m.empty() && (m.back() == ' ' || m.back() == '\r')) m.remove_suffix(1);
    if (const auto like = m.find(" errors like: ");
        like != std::string_view::npos &&
        m.substr(0, like).find_first_not_of("0123456789") == std::string_view::npos) {
      m.remove_prefix(like + 14);
    }
    if (m.find("more errors") != std::string_view::npos) return {};  // cut short: unknown ones
    const auto at = m.find("stream '");
    if (at == std::string_view::npos) return {};
    const auto close = m.find("}'", at);
    if (close == std::string_view::npos) return {};
    const auto stream = label_pairs(m.substr(at + 8, close + 1 - (at + 8)));
    std::optional<std::int64_t> second;
    std::optional<std::size_t> length;
    if (auto t = m.find("has timestamp too old: "); t != std::string_view::npos) {
      second = rfc3339_seconds(m.substr(t + 23));
    } else if (t = m.find("has timestamp too new: "); t != std::string_view::npos) {
      second = rfc3339_seconds(m.substr(t + 23));
    } else if (t = m.find("while adding an entry with length '"); t != std::string_view::npos) {
      const std::string_view n = m.substr(t + 35);
      std::size_t v = 0;
      if (std::from_chars(n.data(), n.data() + n.size(), v).ec == std::errc()) length = v;
    }
    if (!second && !length) return {};
    bool matched = false;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const Parts& e = entries[i];
      if (!labels_within(e.prom, stream)) continue;
      if ((second && floor_seconds(e.time_ns) == *second) || (length && e.line.size() == *length)) {
        items[i] = {Outcome::rejected, "loki: " + std::string(m)};
        matched = true;
      }
    }
    if (!matched) return {};
    any = true;
  }
  if (!any) return {};
  return items;
}

}  // namespace hydra::net
