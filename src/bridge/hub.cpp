#include "hydra/bridge/hub.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "hydra/format/detail/escape.hpp"

namespace hydra::bridge {

using json = nlohmann::json;

namespace detail {

bool json_too_deep(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Submitted::Value field_value(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return value.get<double>();
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number()) return value.get<double>();
  return value.dump();
}

void record_fields(const std::vector<std::pair<std::string, Submitted::Value>>& fields,
                   std::vector<Field>& out) {
  out.clear();
  for (const auto& [key, value] : fields) {
    std::visit([&](const auto& v) { out.push_back({key, FieldValue(v)}); }, value);
  }
}

}  // namespace detail

namespace {

constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxIdBytes = 128;
constexpr std::size_t kMaxAttributeBytes = 1024;  // session, page, user_agent, trace_id ...
constexpr std::size_t kMaxRecordsPerTick = 1u << 16;
// Frame buffers kept for reuse, and the smallest worth keeping.
constexpr std::size_t kSpareFrames = 4;
constexpr std::size_t kSpareFrameMinBytes = 64u << 10;
// A client's own frames: a burst, then a steady rate (submit batches are
// limited by their records instead).
constexpr double kFrameBurst = 128;
constexpr double kFrameRate = 16;
constexpr std::size_t kMaxSubmitBuckets = 10'000;

std::string seq_text(std::uint64_t seq) {
  return std::to_string(seq);
}

std::optional<std::uint64_t> parse_seq(const json& v) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_unsigned()) {
    return v.get<std::uint64_t>();
  } else {
    return std::nullopt;
  }
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t out = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t next = out * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != out) return std::nullopt;  // overflow
    out = next;
  }
  return out;
}

std::string id_of(const json& frame) {
  if (!frame.contains("id")) return {};
  const auto& id = frame["id"];
  std::string s = id.is_string() ? id.get<std::string>() : id.is_number() ? id.dump() : "";
  if (s.size() > kMaxIdBytes) s.resize(kMaxIdBytes);
  return s;
}

std::string json_quoted(std::string_view text) {
  hydra::detail::Buffer out;
  hydra::detail::append_json_string(text, out);
  return {out.data(), out.size()};
}

}  // namespace

Hub::Hub(const BridgeOptions& options, std::string stream, Ring& ring, Callbacks callbacks)
    : options_(options),
      stream_(std::move(stream)),
      ring_(ring),
      callbacks_(std::move(callbacks)),
      auth_(options.credentials, options.tenant) {}

Hub::~Hub() = default;

Hub::ClientId Hub::connect(std::shared_ptr<Outbox> out, ClientInfo info, Clock::time_point now) {
  ++stats_.connections;
  if (clients_.size() >= options_.max_clients) {
    out->close(4429, "too_many_clients");
    return 0;
  }
  const ClientId id = next_id_++;
  Client& c = clients_[id];
  c.out = std::move(out);
  c.info = std::move(info);
  c.connected = c.last_sent = c.last_heard = c.last_ping = now;
  c.frames = {kFrameBurst, now};
  c.scan = {static_cast<double>(options_.filter_scan_rate), now};
  return id;
}

void Hub::disconnect(ClientId id) {
  clients_.erase(id);
  if (clients_.empty()) {  // nobody to build frames for: give the buffers back
    spare_frames_ = {};
    slice_.entries = {};
  }
}

void Hub::heard(ClientId id, Clock::time_point now) {
  if (auto it = clients_.find(id); it != clients_.end()) it->second.last_heard = now;
}

void Hub::send(Client& c, std::string frame) {
  if (c.closed) return;
  ++stats_.frames_sent;
  c.out->send(std::move(frame));
}

void Hub::close(Client& c, std::uint16_t code, std::string_view reason) {
  if (c.closed) return;
  c.closed = true;
  c.out->close(code, reason);
}

void Hub::error(Client& c, std::string_view id, std::string_view code, std::string_view message,
                std::optional<std::uint64_t> retry_after_ms) {
  std::string f = R"({"type":"error")";
  if (!id.empty()) f += ",\"id\":" + json_quoted(id);
  f += ",\"code\":" + json_quoted(code) + ",\"message\":" + json_quoted(message);
  if (retry_after_ms) f += ",\"retry_after_ms\":" + std::to_string(*retry_after_ms);
  f += "}";
  send(c, std::move(f));
}

void Hub::close_all() {
  for (auto& [id, c] : clients_) close(c, 1000, "bye");
}

bool Hub::take_tokens(Bucket& bucket, double rate, double burst, double n, Clock::time_point now,
                      std::uint64_t* retry_after_ms) {
  const double elapsed = std::chrono::duration<double>(now - bucket.at).count();
  bucket.tokens = std::min(burst, bucket.tokens + std::max(0.0, elapsed) * rate);
  bucket.at = now;
  if (bucket.tokens >= n) {
    bucket.tokens -= n;
    return true;
  }
  if (retry_after_ms != nullptr) {
    const double wait = (std::min(n, burst) - bucket.tokens) / rate;
    *retry_after_ms = static_cast<std::uint64_t>(std::ceil(wait * 1000));
  }
  return false;
}

std::optional<Identity> Hub::authenticate(const ClientInfo& info, std::string_view token) {
  auto result = auth_.authenticate(token, std::chrono::system_clock::now());
  if (result.identity) return result.identity;
  ++stats_.auth_failures;
  if (callbacks_.auth_failed) callbacks_.auth_failed(info, result.reason);
  return std::nullopt;
}

void Hub::receive(ClientId id, std::string_view text, Clock::time_point now) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.closed) return;
  Client& c = it->second;
  c.last_heard = now;
  if (c.identity && !take_tokens(c.frames, kFrameRate, kFrameBurst, 1, now, nullptr)) {
    // Answered with the frame's id when it has one, so that the client
    // knows which request it was (the frame is parsed for nothing else).
    const json frame =
        detail::json_too_deep(text, kMaxDepth) ? json() : json::parse(text, nullptr, false);
    error(c, frame.is_object() ? id_of(frame) : std::string(), "rate_limited",
          "too many frames: at most 16 a second after a burst of 128", 1000 / kFrameRate);
    return;
  }
  if (detail::json_too_deep(text, kMaxDepth)) {
    error(c, {}, "bad_frame", "nested deeper than 32");
    return;
  }
  const json frame = json::parse(text, nullptr, false);
  if (frame.is_discarded() || !frame.is_object() || !frame.contains("type") ||
      !frame["type"].is_string()) {
    if (!c.identity) {
      close(c, 4400, "hello_first");
      return;
    }
    error(c, id_of(frame.is_object() ? frame : json::object()), "bad_frame",
          "not a JSON object with a string \"type\"");
    return;
  }
  const auto& type = frame["type"].get_ref<const std::string&>();
  if (!c.identity) {
    if (type != "hello") {
      close(c, 4400, "hello_first");
      return;
    }
    on_hello(c, frame, now);
    return;
  }
  if (type == "subscribe") {
    on_subscribe(c, frame);
  } else if (type == "unsubscribe") {
    const std::string sid = id_of(frame);
    if (c.subs.erase(sid) == 0) {
      error(c, sid, "bad_frame", "no subscription with this id");
    } else {
      send(c, R"({"type":"unsubscribed","id":)" + json_quoted(sid) + "}");
    }
  } else if (type == "submit") {
    on_submit(c, frame, now);
  } else if (type == "ping") {
    std::string t = frame.contains("t") && frame["t"].is_string()
                        ? frame["t"].get<std::string>().substr(0, 32)
                        : std::string();
    send(c, R"({"type":"pong","t":)" + json_quoted(t) + "}");
  } else if (type == "hello") {
    error(c, id_of(frame), "bad_frame", "hello was already received");
  } else {
    error(c, id_of(frame), "unknown_type", "unknown frame type '" + type.substr(0, 64) + "'");
  }
}

void Hub::on_hello(Client& c, const json& frame, Clock::time_point now) {
  if (!frame.contains("protocol") || !frame["protocol"].is_number_integer() ||
      frame["protocol"].get<std::int64_t>() != 1) {
    close(c, 4400, "protocol: this bridge speaks 1");
    return;
  }
  std::string token = c.info.token;
  if (frame.contains("token") && frame["token"].is_string())
    token = frame["token"].get<std::string>();
  auto who = authenticate(c.info, token);
  if (!who) {
    close(c, 4401, "unauthenticated");
    return;
  }
  c.identity = std::move(who);
  c.expires = c.identity->expires;
  if (options_.max_subscription_time.count() > 0) {
    const auto limit = std::chrono::system_clock::now() + options_.max_subscription_time;
    if (!c.expires || limit < *c.expires) c.expires = limit;
  }
  const std::uint64_t first = ring_.first_kept();
  const std::uint64_t next = ring_.next_seq();
  std::uint64_t backlog = 0;
  if (frame.contains("backlog") && frame["backlog"].is_number_unsigned()) {
    backlog = frame["backlog"].get<std::uint64_t>();
  }
  c.cursor = next - std::min<std::uint64_t>(backlog, next - first);
  std::vector<std::string> restart_gaps;
  if (frame.contains("resume") && frame["resume"].is_object()) {
    std::size_t n = 0;
    for (const auto& [stream, seq_value] : frame["resume"].items()) {
      if (++n > 64) break;
      const auto seq = parse_seq(seq_value);
      if (!seq) continue;
      if (stream == stream_) {
        // Not clamped to `next`: a bridge still reading its source (JetStream)
        // may be behind a client's cursor, which it serves once it gets there.
        c.cursor = *seq + 1;
        c.resuming = true;
      } else {
        // A stream this bridge does not serve: its process restarted (a new
        // stream began) and what it held is gone. This stream from its start.
        restart_gaps.push_back(R"({"type":"gap","stream":)" + json_quoted(stream.substr(0, 256)) +
                               R"(,"from_seq":")" + seq_text(*seq + 1) +
                               R"(","reason":"restart"})");
        if (!c.resuming) {
          c.cursor = 1;
          c.resuming = true;
        }
      }
    }
  }
  std::string welcome = R"({"type":"welcome","protocol":1,"bridge":"hydra-bridge/0.5.0","role":)" +
                        json_quoted(role_name(c.identity->role)) +
                        ",\"tenant\":" + json_quoted(c.identity->tenant) +
                        ",\"stream\":" + json_quoted(stream_) + R"(,"first_seq":")" +
                        seq_text(first) + R"(","next_seq":")" + seq_text(next) +
                        R"(","heartbeat_ms":)" + std::to_string(options_.heartbeat.count()) +
                        R"(,"limits":{"frame_bytes":)" + std::to_string(options_.max_frame_bytes) +
                        R"(,"subscriptions":)" + std::to_string(options_.max_subscriptions) +
                        R"(,"submit_records":)" + std::to_string(options_.max_batch_records) +
                        R"(,"record_bytes":)" + std::to_string(options_.max_record_bytes) + "}}";
  send(c, std::move(welcome));
  for (auto& g : restart_gaps) send(c, std::move(g));
  c.last_sent = now;
}

void Hub::on_subscribe(Client& c, const json& frame) {
  const std::string sid = id_of(frame);
  if (sid.empty()) {
    error(c, {}, "bad_frame", "subscribe needs an \"id\"");
    return;
  }
  if (!c.identity->can_view()) {
    error(c, sid, "forbidden", "a submitter cannot subscribe");
    return;
  }
  if (!c.subs.contains(sid) && c.subs.size() >= options_.max_subscriptions) {
    error(c, sid, "too_many_subscriptions",
          "at most " + std::to_string(options_.max_subscriptions) + " subscriptions");
    return;
  }
  Subscription sub;
  try {
    static const json kAll = json::object();
    sub.filter = Filter::parse(frame.contains("filter") ? frame["filter"] : kAll);
  } catch (const FilterError& e) {
    error(c, sid, e.code, e.what());
    return;
  }
  // A tenant the filter names must be the client's; without one, a bridge
  // of one tenant must serve the client's ("*": a bridge of many, whose
  // records each client sees only of its own tenant).
  const std::string& wanted = sub.filter.tenant.empty() ? options_.tenant : sub.filter.tenant;
  if (wanted != "*" && !c.identity->sees_tenant(wanted)) {
    error(c, sid, "forbidden", "tenant '" + wanted.substr(0, 64) + "' is not yours");
    return;
  }
  if (frame.contains("sample") && frame["sample"].is_object()) {
    const auto& s = frame["sample"];
    if (!s.contains("limit") || !s["limit"].is_number_unsigned() ||
        s["limit"].get<std::uint64_t>() == 0 || s["limit"].get<std::uint64_t>() > 1'000'000) {
      error(c, sid, "bad_filter", "sample.limit: a number from 1 to 1000000");
      return;
    }
    sub.sample_limit = static_cast<std::uint32_t>(s["limit"].get<std::uint64_t>());
    const std::uint64_t per = s.contains("per_ms") && s["per_ms"].is_number_unsigned()
                                  ? s["per_ms"].get<std::uint64_t>()
                                  : 1000;
    sub.sample_period = std::chrono::milliseconds(std::clamp<std::uint64_t>(per, 10, 3'600'000));
  }
  c.subs.insert_or_assign(sid, std::move(sub));
  c.subscribed_once = true;
  send(c, R"({"type":"subscribed","id":)" + json_quoted(sid) + "}");
}

void Hub::on_submit(Client& c, const json& frame, Clock::time_point now) {
  const std::string bid = id_of(frame);
  if (!c.identity->can_submit()) {
    error(c, bid, "forbidden", "a viewer cannot submit");
    return;
  }
  SubmitResult r = validate_submit(frame, *c.identity, c.info, now);
  if (!r.error_code.empty()) {
    error(c, bid, r.error_code, r.error_message, r.retry_after_ms);
    return;
  }
  const std::size_t accepted = r.accepted.size();
  if (accepted > 0 && !log_submitted(*c.identity, c.info, r.accepted)) {
    error(c, bid, "unavailable", "the application is not taking records (it is stopping)");
    return;
  }
  std::string ack = R"({"type":"ack")";
  if (!bid.empty()) ack += ",\"id\":" + json_quoted(bid);
  ack += ",\"accepted\":" + std::to_string(accepted) + ",\"rejected\":" + r.ack_rejected + "}";
  send(c, std::move(ack));
}

Hub::SubmitResult Hub::validate_submit(const json& frame, const Identity& who,
                                       const ClientInfo& info, Clock::time_point now) {
  SubmitResult r;
  if (!frame.contains("records") || !frame["records"].is_array()) {
    r.error_code = "bad_frame";
    r.error_message = "submit needs a \"records\" array";
    return r;
  }
  const auto& records = frame["records"];
  if (records.size() > options_.max_batch_records) {
    r.error_code = "bad_frame";
    r.error_message = "at most " + std::to_string(options_.max_batch_records) + " records a batch";
    return r;
  }
  if (static_cast<double>(records.size()) > options_.submit_burst) {
    // It could never pass the rate limit: said so, rather than 429 forever.
    r.error_code = "batch_too_large";
    r.error_message = "more records than submit_burst (" +
                      fmt::format("{:g}", options_.submit_burst) + ") in one batch";
    return r;
  }
  // The rate limit counts the batch's records, accepted or not, before any
  // is logged: a refused batch logs nothing.
  if (submit_buckets_.size() > kMaxSubmitBuckets) submit_buckets_.clear();
  auto [bucket, fresh] = submit_buckets_.try_emplace(who.subject);
  if (fresh) bucket->second = {options_.submit_burst, now};
  std::uint64_t retry_after = 0;
  if (!take_tokens(bucket->second, options_.submit_rate, options_.submit_burst,
                   static_cast<double>(records.size()), now, &retry_after)) {
    ++stats_.submit_rate_limited;
    r.error_code = "rate_limited";
    r.error_message = "over " + fmt::format("{:g}", options_.submit_rate) + " records a second";
    r.retry_after_ms = std::max<std::uint64_t>(retry_after, 1);
    return r;
  }
  std::string rejected = "[";
  const auto reject = [&](std::size_t index, std::string_view reason, std::string_view detail) {
    if (r.rejected++ > 0) rejected += ",";
    rejected +=
        R"({"index":)" + std::to_string(index) + R"(,"reason":")" + std::string(reason) + "\"";
    if (!detail.empty()) rejected += ",\"message\":" + json_quoted(detail);
    rejected += "}";
  };
  static const char* const kAttributes[] = {"session", "page", "user_agent", "trace_id", "span_id"};
  for (std::size_t i = 0; i < records.size(); ++i) {
    const json& rec = records[i];
    if (!rec.is_object()) {
      reject(i, "bad_record", "not an object");
      continue;
    }
    if (rec.dump().size() > options_.max_record_bytes) {
      reject(i, "record_too_large", "over " + std::to_string(options_.max_record_bytes) + " bytes");
      continue;
    }
    Submitted s;
    if (!rec.contains("message") || !rec["message"].is_string()) {
      reject(i, "bad_record", "no string \"message\"");
      continue;
    }
    s.message = rec["message"].get<std::string>();
    if (rec.contains("level")) {
      const auto level = rec["level"].is_string()
                             ? parse_level(rec["level"].get_ref<const std::string&>())
                             : std::nullopt;
      if (!level || *level > Level::critical) {
        reject(i, "bad_level", "level: trace, debug, info, warning, error or critical");
        continue;
      }
      s.level = *level;
    }
    bool ok = true;
    if (rec.contains("fields")) {
      if (!rec["fields"].is_object() || rec["fields"].size() > 64) {
        reject(i, "bad_record", "fields: not an object of at most 64 keys");
        continue;
      }
      for (const auto& [key, value] : rec["fields"].items()) {
        if (key.empty() || key.size() > 128) {
          ok = false;
          reject(i, "bad_record", "a field name is empty or longer than 128 bytes");
          break;
        }
        s.fields.emplace_back(key, detail::field_value(value));
      }
    }
    if (!ok) continue;
    if (rec.contains("time")) {
      if (!rec["time"].is_string() || rec["time"].get_ref<const std::string&>().size() > 64) {
        reject(i, "bad_record", "time: not a string");
        continue;
      }
      s.fields.emplace_back("client_time", rec["time"].get<std::string>());
    }
    for (const char* key : kAttributes) {
      if (!rec.contains(key)) continue;
      if (!rec[key].is_string() ||
          rec[key].get_ref<const std::string&>().size() > kMaxAttributeBytes) {
        ok = false;
        reject(i, "bad_record", std::string(key) + ": not a string of at most 1024 bytes");
        break;
      }
      s.fields.emplace_back(key, rec[key].get<std::string>());
    }
    if (!ok) continue;
    if (!rec.contains("user_agent") && !info.user_agent.empty()) {
      s.fields.emplace_back("user_agent", info.user_agent.substr(0, kMaxAttributeBytes));
    }
    r.accepted.push_back(std::move(s));
  }
  rejected += "]";
  r.ack_rejected = std::move(rejected);
  stats_.submitted_rejected += r.rejected;
  return r;
}

bool Hub::log_submitted(const Identity& who, const ClientInfo& info,
                        std::vector<Submitted>& records) {
  if (!callbacks_.intake || !callbacks_.intake(who, info, records)) return false;
  stats_.submitted_accepted += records.size();
  return true;
}

HttpAnswer Hub::intake(std::string_view body, const ClientInfo& info, Clock::time_point now) {
  HttpAnswer a;
  const auto fail = [&](unsigned status, std::string_view code, std::string_view message) {
    a.status = status;
    a.body = R"({"type":"error","code":)" + json_quoted(code) +
             ",\"message\":" + json_quoted(message) + "}";
    return a;
  };
  if (body.size() > options_.max_frame_bytes) {
    return fail(413, "frame_too_large",
                "over " + std::to_string(options_.max_frame_bytes) + " bytes");
  }
  auto who = authenticate(info, info.token);
  if (!who) return fail(401, "unauthenticated", "no valid token");
  if (!who->can_submit()) return fail(403, "forbidden", "a viewer cannot submit");
  if (detail::json_too_deep(body, kMaxDepth))
    return fail(400, "bad_frame", "nested deeper than 32");
  const json frame = json::parse(body, nullptr, false);
  if (!frame.is_object()) return fail(400, "bad_frame", "not a JSON object");
  SubmitResult r = validate_submit(frame, *who, info, now);
  if (!r.error_code.empty()) {
    fail(r.error_code == "rate_limited"      ? 429
         : r.error_code == "batch_too_large" ? 413
                                             : 400,
         r.error_code, r.error_message);
    if (r.retry_after_ms) a.retry_after = static_cast<unsigned>((*r.retry_after_ms + 999) / 1000);
    return a;
  }
  const std::size_t accepted = r.accepted.size();
  if (accepted > 0 && !log_submitted(*who, info, r.accepted)) {
    return fail(503, "unavailable", "the application is not taking records (it is stopping)");
  }
  const std::string bid = id_of(frame);
  a.body = R"({"type":"ack")";
  if (!bid.empty()) a.body += ",\"id\":" + json_quoted(bid);
  a.body += ",\"accepted\":" + std::to_string(accepted) + ",\"rejected\":" + r.ack_rejected + "}";
  return a;
}

void Hub::tick(Clock::time_point now) {
  const auto wall = std::chrono::system_clock::now();
  for (auto& [id, c] : clients_) {
    if (c.closed) continue;
    if (now - c.last_heard > 2 * options_.heartbeat) {
      close(c, 4408, "idle");
      continue;
    }
    if (c.expires && wall >= *c.expires) {
      close(c, 4430, "subscription_expired");
      continue;
    }
    if (c.identity && !c.subs.empty()) {
      serve(c, now);
    } else if (c.identity && c.subscribed_once) {
      // Nothing to match since its last unsubscribe: the cursor follows the
      // stream. (Before its first subscribe it stays where hello put it, so
      // that a resume or backlog is served to the subscriptions that follow.)
      c.cursor = ring_.next_seq();
      c.resuming = false;
    }
    if (now - c.last_sent >= options_.heartbeat) {
      if (c.identity) {
        // A gap not yet reported stays ahead of the cursor the client keeps.
        const std::uint64_t served = c.slow.count > 0 ? c.slow.from - 1 : c.cursor - 1;
        send(c, R"({"type":"heartbeat","cursor":{)" + json_quoted(stream_) + R"(:")" +
                    seq_text(served) + "\"}}");
      }
      c.last_sent = now;
    }
    if (now - c.last_ping >= options_.heartbeat) {
      c.out->ping();
      c.last_ping = now;
    }
  }
}

void Hub::recycle(std::string frame) {
  if (frame.capacity() < kSpareFrameMinBytes || frame.capacity() > 2 * options_.max_frame_bytes ||
      spare_frames_.size() >= kSpareFrames || clients_.empty()) {
    return;
  }
  frame.clear();
  spare_frames_.push_back(std::move(frame));
}

void Hub::serve(Client& c, Clock::time_point now) {
  Ring::Slice& slice = slice_;
  ring_.read(c.cursor, kMaxRecordsPerTick, slice);
  const auto new_frame = [this](const std::string& head) {
    std::string frame;
    if (!spare_frames_.empty()) {
      frame = std::move(spare_frames_.back());
      spare_frames_.pop_back();
    }
    frame.assign(head);
    return frame;
  };
  if (slice.first_kept > c.cursor) {
    // Records gone from the ring before this client was served them.
    const std::uint64_t count = slice.first_kept - c.cursor;
    if (c.resuming) {
      stats_.gaps_evicted += count;
      send(c, R"({"type":"gap","stream":)" + json_quoted(stream_) + R"(,"from_seq":")" +
                  seq_text(c.cursor) + R"(","to_seq":")" + seq_text(slice.first_kept - 1) +
                  R"(","count":")" + std::to_string(count) + R"(","reason":"evicted"})");
    } else {
      if (c.slow.count == 0) c.slow.from = c.cursor;
      c.slow.to = slice.first_kept - 1;
      c.slow.count += count;
    }
    c.cursor = slice.first_kept;
  }
  c.resuming = false;
  // The frame is built in place: its head, the records as they match, and
  // to_seq last, once the frame's last record is known (a frame is up to
  // 1 MiB: it is never copied to put to_seq first).
  std::string head = R"({"type":"records","stream":)";
  head += json_quoted(stream_);
  head += R"(,"records":[)";
  std::string records = new_frame(head);  // the frame so far
  std::uint64_t sampled_from = 0, sampled_to = 0, sampled = 0;
  std::size_t in_frame = 0;
  std::string subs;
  const auto flush_gap = [&] {
    if (c.slow.count == 0) return;
    stats_.gaps_slow_client += c.slow.count;
    send(c, R"({"type":"gap","stream":)" + json_quoted(stream_) + R"(,"from_seq":")" +
                seq_text(c.slow.from) + R"(","to_seq":")" + seq_text(c.slow.to) + R"(","count":")" +
                std::to_string(c.slow.count) + R"(","reason":"slow_client"})");
    c.slow = {};
  };
  const auto flush_frame = [&](std::uint64_t to_seq) {
    if (in_frame == 0) return;
    stats_.records_sent += in_frame;
    records += R"(],"to_seq":")";
    records += seq_text(to_seq);
    records += "\"}";
    if (records.capacity() >= kSpareFrameMinBytes && records.size() < records.capacity() / 4) {
      // A small frame in a large reused buffer: a client's queue is bounded
      // by what its frames hold, so it gets a copy and the buffer stays.
      std::string small(records);
      recycle(std::move(records));
      records = std::move(small);
    }
    send(c, std::move(records));
    records = new_frame(head);
    in_frame = 0;
    c.last_sent = now;
  };
  bool room = c.out->queued_bytes() < options_.client_queue_bytes;
  if (room) flush_gap();
  std::size_t scanned = 0;  // message bytes the text and regex filters scan
  for (const EntryPtr& e : slice.entries) {
    if (!c.identity->sees_tenant(e->tenant)) continue;
    subs.clear();
    bool matched = false;
    for (auto& [sid, sub] : c.subs) {
      if (sub.filter.scans_message()) scanned += e->message.size();
      if (!sub.filter.matches(*e)) continue;
      matched = true;
      if (sub.sample_limit > 0) {
        if (now - sub.window_start >= sub.sample_period) {
          sub.window_start = now;
          sub.in_window = 0;
        }
        if (sub.in_window >= sub.sample_limit) continue;
        ++sub.in_window;
      }
      subs += subs.empty() ? "" : ",";
      subs += json_quoted(sid);
    }
    if (!matched) continue;
    if (subs.empty()) {  // matched, but every matching subscription was at its sample limit
      if (sampled == 0) sampled_from = e->seq;
      sampled_to = e->seq;
      ++sampled;
      continue;
    }
    if (room && c.out->queued_bytes() + records.size() >= options_.client_queue_bytes) {
      flush_frame(e->seq - 1);
      room = false;
    }
    if (!room) {
      if (c.slow.count == 0) c.slow.from = e->seq;
      c.slow.to = e->seq;
      ++c.slow.count;
      continue;
    }
    if (in_frame > 0) records += ",";
    records += R"({"seq":")";
    records += seq_text(e->seq);
    records += R"(","sub":[)";
    records += subs;
    records += "],";
    records += e->json_members();
    records += "}";
    ++in_frame;
    if (records.size() >= options_.max_frame_bytes - 4096) flush_frame(e->seq);
  }
  if (!slice.entries.empty()) {
    const std::uint64_t last = slice.entries.back()->seq;
    flush_frame(last);
    c.cursor = last + 1;
  }
  recycle(std::move(records));  // built no further: the next frame's
  slice.entries.clear();        // back to the ring's keeping (the capacity stays)
  if (c.slow.count > 0) c.slow.to = c.cursor - 1;
  if (sampled > 0) {
    stats_.gaps_sampled += sampled;
    send(c, R"({"type":"gap","stream":)" + json_quoted(stream_) + R"(,"from_seq":")" +
                seq_text(sampled_from) + R"(","to_seq":")" + seq_text(sampled_to) +
                R"(","count":")" + std::to_string(sampled) + R"(","reason":"sampled"})");
  }
  // What it was sent stands; a filter that scans more than the bridge can
  // afford ends the connection, with its reason, rather than slowing every
  // other client and the application's core.
  const double rate = static_cast<double>(options_.filter_scan_rate);
  if (rate > 0 && scanned > 0 &&
      !take_tokens(c.scan, rate, rate, static_cast<double>(scanned), now, nullptr)) {
    ++stats_.filter_too_costly;
    close(c, 4413, "filter_too_costly");
  }
}

HubStats Hub::stats() const {
  HubStats s = stats_;
  s.clients = clients_.size();
  return s;
}

}  // namespace hydra::bridge
