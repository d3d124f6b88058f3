#include "hydra/bridge/jetstream_source.hpp"

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace hydra::bridge {

namespace {

// "2026-12-07T10:15:02.123456Z" (what the formats write); anything else:
// not a time.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339_utc(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const auto number = [&](std::size_t at, std::size_t n) -> int {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(5, 2) - 1;
  tm.tm_mday = number(8, 2);
  tm.tm_hour = number(11, 2);
  tm.tm_min = number(14, 2);
  tm.tm_sec = number(17, 2);
  if (tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0) {
    return std::nullopt;
  }
  std::int64_t nanos = 0;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    std::int64_t scale = 100'000'000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i >= s.size() || s[i] != 'Z') return std::nullopt;
  const std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

}  // namespace

ParsedRecord parse_jetstream_record(std::string_view subject, std::string_view body) {
  ParsedRecord r;
  // hydra.logs.<tenant>.<service>.<layer>
  std::vector<std::string_view> tokens;
  while (!subject.empty()) {
    const auto dot = subject.find('.');
    tokens.push_back(subject.substr(0, dot));
    if (dot == std::string_view::npos) break;
    subject.remove_prefix(dot + 1);
  }
  if (tokens.size() == 5) {
    r.tenant = tokens[2];
    r.service = tokens[3];
    r.layer = tokens[4];
  } else {
    r.tenant = "_";
    r.service = "_";
    r.layer = "_";
  }
  r.time = std::chrono::system_clock::now();
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) {
    r.message = std::string(body);
    return r;
  }
  r.message = j["message"].get<std::string>();
  if (j.contains("level") && j["level"].is_string()) {
    if (auto l = parse_level(j["level"].get_ref<const std::string&>())) r.level = *l;
  }
  if (j.contains("layer") && j["layer"].is_string()) r.layer = j["layer"].get<std::string>();
  if (j.contains("logger") && j["logger"].is_string()) r.logger = j["logger"].get<std::string>();
  for (const char* key : {"timestamp", "time", "@timestamp"}) {
    if (j.contains(key) && j[key].is_string()) {
      if (auto t = parse_rfc3339_utc(j[key].get_ref<const std::string&>())) r.time = *t;
      break;
    }
  }
  if (j.contains("fields") && j["fields"].is_object()) {
    for (const auto& [key, value] : j["fields"].items()) {
      r.fields.emplace_back(key, detail::field_value(value));
    }
  }
  return r;
}

Record ParsedRecord::record(std::vector<Field>& storage) const {
  detail::record_fields(fields, storage);
  Record out;
  out.time = time;
  out.level = level;
  out.layer = layer;
  out.logger = logger;
  out.message = message;
  out.fields = storage;
  return out;
}

struct JetStreamSource::Impl {
  Impl(Bridge& b, JetStreamOptions o) : bridge(b), options(std::move(o)) {}

  ~Impl() {
    if (sub != nullptr) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
  }

  [[noreturn]] void fail(const std::string& what, natsStatus s) {
    throw BridgeError("hydra-bridge: " + what + " (" + options.url + "): " + natsStatus_GetText(s) +
                      (nats_GetLastError(nullptr) != nullptr
                           ? std::string(": ") + nats_GetLastError(nullptr)
                           : std::string()));
  }

  void start() {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, options.url.c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, options.timeout.count());
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // a bridge keeps trying
    if (s == NATS_OK && !options.credentials.empty()) {
      s = natsOptions_SetUserCredentialsFromFiles(opts, options.credentials.c_str(), nullptr);
    }
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) fail("connecting to NATS", s);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = options.timeout.count();
    s = natsConnection_JetStream(&js, nc, &jo);
    if (s != NATS_OK) fail("JetStream", s);
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    s = js_GetStreamInfo(&info, js, options.stream.c_str(), nullptr, &code);
    if (s == NATS_NOT_FOUND && options.create_stream) {
      // A bridge may start before any service published: it makes the
      // stream as the `nats` destination would (hydra.logs.>, on file).
      jsStreamConfig config;
      jsStreamConfig_Init(&config);
      config.Name = options.stream.c_str();
      const char* subjects[] = {"hydra.logs.>"};
      config.Subjects = subjects;
      config.SubjectsLen = 1;
      config.Storage = js_FileStorage;
      s = js_AddStream(&info, js, &config, nullptr, &code);
    }
    if (s != NATS_OK) fail("the JetStream stream '" + options.stream + "'", s);
    const std::uint64_t first = info->State.FirstSeq;
    const std::uint64_t last = info->State.LastSeq;
    jsStreamInfo_Destroy(info);
    const std::uint64_t keep = bridge.options().buffer_records;
    start_seq = std::max<std::uint64_t>({first, last + 1 > keep ? last + 1 - keep : 1, 1});
    bridge.start_stream_at(start_seq);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = options.stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq;
    s = js_Subscribe(&sub, js, options.subjects.c_str(), &Impl::on_message, this, &jo, &so, &code);
    if (s != NATS_OK) fail("subscribing to '" + options.subjects + "'", s);
    // What the stream held at start is read before the bridge is announced,
    // so that the first clients' backlogs and resumes find it (bounded by
    // the timeout: a slow read goes on behind).
    std::unique_lock lock(mutex);
    caught_up.wait_for(lock, options.timeout, [&] { return last_seen >= last; });
  }

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      const std::uint64_t seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
      const std::string_view body(natsMsg_GetData(msg),
                                  static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
      const ParsedRecord parsed = parse_jetstream_record(natsMsg_GetSubject(msg), body);
      std::vector<Field> fields;
      self->bridge.publish(parsed.record(fields), parsed.tenant, parsed.service, seq);
      self->received.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard lock(self->mutex);
        self->last_seen = seq;
      }
      self->caught_up.notify_all();
    }
    natsMsg_Destroy(msg);
  }

  Bridge& bridge;
  const JetStreamOptions options;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  std::uint64_t start_seq = 1;
  std::atomic<std::uint64_t> received{0};
  std::mutex mutex;
  std::condition_variable caught_up;
  std::uint64_t last_seen = 0;  // the last stream sequence read
};

JetStreamSource::JetStreamSource(Bridge& bridge, JetStreamOptions options)
    : impl_(std::make_unique<Impl>(bridge, std::move(options))) {
  impl_->start();
}

JetStreamSource::~JetStreamSource() = default;

std::uint64_t JetStreamSource::received() const noexcept {
  return impl_->received.load(std::memory_order_relaxed);
}

std::uint64_t JetStreamSource::first_seq() const noexcept {
  return impl_->start_seq;
}

}  // namespace hydra::bridge
