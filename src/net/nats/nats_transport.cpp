#include <nats/nats.h>

#include <cctype>
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "../record_text.hpp"
#include "hydra/net/nats.hpp"

namespace hydra::net {
namespace {

constexpr std::string_view kSubjectRoot = "hydra.logs.";
constexpr const char* kStreamSubjects = "hydra.logs.>";

void append_token(std::string& out, std::string_view token) {
  if (token.empty()) {
    out += '_';
    return;
  }
  for (const char c : token) {
    const auto u = static_cast<unsigned char>(c);
    const bool bad =
        c == '.' || c == '*' || c == '>' || std::isspace(u) != 0 || u < 0x20 || u == 0x7f;
    out += bad ? '_' : c;
  }
}

// libnats's status, with the detail of its last error when there is one.
std::string status_text(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* detail = nats_GetLastError(nullptr);
  if (detail != nullptr && *detail != '\0' && text != detail) text += std::string(": ") + detail;
  return text;
}

// What the batch being sent came to, filled in by the acknowledgement
// handler (a libnats thread) under `mutex`.
struct Pending {
  std::unordered_map<std::string, std::size_t> index;  // Nats-Msg-Id -> position
  std::vector<SendResult::Item> items;                 // retry until acknowledged
  std::size_t settled = 0;
  std::uint64_t duplicates = 0;
  std::string retry_reason;  // of the first message that failed retryably
};

class NatsTransportImpl final : public NatsTransport {
 public:
  explicit NatsTransportImpl(NatsTarget target) : target_(std::move(target)) {}
  ~NatsTransportImpl() override { disconnect(); }

  std::string describe() const override { return "nats " + target_.url; }

  std::uint64_t duplicates() const override {
    std::lock_guard lock(mutex_);
    return duplicates_;
  }

  SendResult send(std::span<const QueuedRecord> batch) override {
    if (nc_ != nullptr && natsConnection_IsClosed(nc_)) disconnect();
    if (nc_ == nullptr) {
      std::string why = connect();
      if (!why.empty()) {
        disconnect();
        return SendResult::retry(std::move(why));
      }
    }
    // Each record: "<subject>\n<payload>" (nats_encoder()); its key,
    // record_key(), is the Nats-Msg-Id.
    struct Parts {
      std::string subject, key;
      std::string_view payload;
    };
    std::vector<Parts> parts(batch.size());
    Pending pending;
    pending.items.assign(batch.size(), {SendResult::Item::Outcome::retry, {}});
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string_view bytes = batch[i].bytes;
      const auto a = bytes.find('\n');
      std::string key = record_key(batch[i]);
      if (a == 0 || a == std::string_view::npos || !pending.index.emplace(key, i).second) {
        pending.items[i] = {SendResult::Item::Outcome::rejected,
                            "not a subject and a record (or the key twice in a batch)"};
        ++pending.settled;
        continue;
      }
      parts[i] = {std::string(bytes.substr(0, a)), std::move(key), bytes.substr(a + 1)};
    }
    {
      std::lock_guard lock(mutex_);
      pending_ = &pending;
    }
    std::string failure;  // why publishing stopped early
    for (std::size_t i = 0; i < batch.size() && failure.empty(); ++i) {
      if (parts[i].key.empty()) continue;  // rejected above
      const Parts& p = parts[i];
      natsMsg* msg = nullptr;
      natsStatus s = natsMsg_Create(&msg, p.subject.c_str(), nullptr, p.payload.data(),
                                    static_cast<int>(p.payload.size()));
      if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", p.key.c_str());
      if (s == NATS_OK) s = js_PublishMsgAsync(js_, &msg, nullptr);
      natsMsg_Destroy(msg);  // nothing when the library took it
      if (s != NATS_OK) failure = "publish to " + p.subject + ": " + status_text(s);
    }
    if (failure.empty()) failure = await_acks(pending);
    // What is not acknowledged now will not be waited for: taken back from
    // libnats (a late acknowledgement is discarded), and tried again.
    natsMsgList late{};
    if (js_PublishAsyncGetPendingList(&late, js_) == NATS_OK) natsMsgList_Destroy(&late);
    {
      std::lock_guard lock(mutex_);
      pending_ = nullptr;
      duplicates_ += pending.duplicates;
    }
    if (nc_ != nullptr && natsConnection_IsClosed(nc_)) disconnect();
    return result_of(pending, failure);
  }

 private:
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<NatsTransportImpl*>(closure);
    const char* key = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &key) == NATS_OK && key != nullptr) {
      std::lock_guard lock(self->mutex_);
      if (self->pending_ != nullptr) self->settle_locked(*self->pending_, key, ack, error);
    }
    self->acked_.notify_all();
    natsMsg_Destroy(msg);
  }

  void settle_locked(Pending& p, const char* key, const jsPubAck* ack, const jsPubAckErr* error) {
    using O = SendResult::Item::Outcome;
    const auto it = p.index.find(key);
    if (it == p.index.end()) return;
    if (ack != nullptr) {
      if (ack->Duplicate) ++p.duplicates;
      settle_locked(p, it->second, {O::delivered, {}});
    } else if (error != nullptr && error->ErrCode != 0) {
      // JetStream refused the message itself ("maximum messages exceeded",
      // a stream's rules): it would refuse it again.
      std::string why = "JetStream error " + std::to_string(error->ErrCode);
      if (error->ErrText != nullptr) why += std::string(": ") + error->ErrText;
      settle_locked(p, it->second, {O::rejected, std::move(why)});
    } else if (error != nullptr && p.retry_reason.empty()) {
      // A timeout, no responders (no JetStream, or no stream for the
      // subject yet), the connection lost: the record goes again.
      p.retry_reason = natsStatus_GetText(error->Err);
    }
  }

  void settle_locked(Pending& p, std::size_t i, SendResult::Item item) {
    if (p.items[i].outcome == SendResult::Item::Outcome::retry) ++p.settled;
    p.items[i] = std::move(item);
  }

  // Waits until every message of the batch is settled, the connection is
  // lost, or the timeout passed; "" or why it stopped.
  std::string await_acks(Pending& p) {
    const auto deadline = std::chrono::steady_clock::now() + target_.timeout;
    std::unique_lock lock(mutex_);
    while (p.settled < p.items.size()) {
      if (natsConnection_IsClosed(nc_)) return "connection to " + target_.url + " lost";
      if (!p.retry_reason.empty()) return p.retry_reason;
      // A bounded wait, so that a lost connection is noticed soon.
      const auto step = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
      if (acked_.wait_until(lock, std::min(step, deadline)) == std::cv_status::timeout &&
          std::chrono::steady_clock::now() >= deadline) {
        return "no acknowledgement within " + std::to_string(target_.timeout.count()) + " ms";
      }
    }
    return {};
  }

  SendResult result_of(const Pending& p, const std::string& failure) const {
    using O = SendResult::Item::Outcome;
    std::size_t delivered = 0, rejected = 0;
    for (const auto& item : p.items) {
      delivered += item.outcome == O::delivered ? 1 : 0;
      rejected += item.outcome == O::rejected ? 1 : 0;
    }
    if (delivered == p.items.size()) return SendResult::ok();
    if (delivered == 0 && rejected == 0) {
      return SendResult::retry(failure.empty() ? "not acknowledged" : failure);
    }
    if (rejected == p.items.size()) return SendResult::reject(p.items.front().reason);
    SendResult r;
    r.status = SendResult::Status::partial;
    r.reason = failure;
    r.items = p.items;
    return r;
  }

  std::string connect() {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, target_.url.c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, target_.timeout.count());
    // No reconnecting inside libnats: what it would buffer meanwhile is not
    // acknowledged anyway. A lost connection fails the send; the engine
    // retries, and the next send connects again.
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
    if (s == NATS_OK && !target_.credentials.empty()) {
      s = natsOptions_SetUserCredentialsFromFiles(opts, target_.credentials.c_str(), nullptr);
    }
    if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return "connect " + target_.url + ": " + status_text(s);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = target_.timeout.count();
    jo.PublishAsync.AckHandler = &NatsTransportImpl::on_ack;
    jo.PublishAsync.AckHandlerClosure = this;
    s = natsConnection_JetStream(&js_, nc_, &jo);
    if (s != NATS_OK) return "JetStream context: " + status_text(s);
    if (!target_.stream.empty()) return ensure_stream();
    return {};
  }

  // The stream `target_.stream` with the subjects hydra.logs.>, unless it
  // exists (whatever its subjects then).
  std::string ensure_stream() {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&info, js_, target_.stream.c_str(), nullptr, &code);
    jsStreamInfo_Destroy(info);
    if (s == NATS_OK) return {};
    if (s != NATS_NOT_FOUND) return "stream " + target_.stream + ": " + status_text(s);
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = target_.stream.c_str();
    const char* subjects[] = {kStreamSubjects};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    info = nullptr;
    s = js_AddStream(&info, js_, &config, nullptr, &code);
    jsStreamInfo_Destroy(info);
    if (s != NATS_OK) return "create stream " + target_.stream + ": " + status_text(s);
    return {};
  }

  void disconnect() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    js_ = nullptr;
    if (nc_ != nullptr) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(nc_);
    }
    nc_ = nullptr;
  }

  NatsTarget target_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable acked_;
  Pending* pending_ = nullptr;  // the batch being sent, under mutex_
  std::uint64_t duplicates_ = 0;
};

}  // namespace

std::string nats_subject(std::string_view tenant, std::string_view service,
                         std::string_view layer) {
  std::string out(kSubjectRoot);
  append_token(out, tenant);
  out += '.';
  append_token(out, service);
  out += '.';
  append_token(out, layer);
  return out;
}

RecordEncoder nats_encoder(std::string tenant, std::string service) {
  // The subject's fixed part once; the layer's token per record.
  std::string prefix = nats_subject(tenant, service, "");
  prefix.pop_back();  // the "_" of the empty layer
  return [prefix = std::move(prefix)](const Record& record, std::string_view formatted,
                                      std::string& out) {
    out += prefix;
    append_token(out, record.layer);
    out += '\n';
    out += detail::without_line_end(formatted);
  };
}

std::unique_ptr<NatsTransport> make_nats_transport(const NatsTarget& target) {
  return std::make_unique<NatsTransportImpl>(target);
}

}  // namespace hydra::net
