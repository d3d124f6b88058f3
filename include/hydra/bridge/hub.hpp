// The bridge's protocol engine (docs/bridge-protocol.md), apart from the
// network: it takes clients' frames, keeps their subscriptions and cursors,
// and at each tick sends each client what matched in the ring since its
// cursor, as batched records frames, gaps, heartbeats and typed closes. The
// server (server.cpp) only moves bytes between sockets and a Hub; tests
// drive a Hub directly, with their own clock.
//
// Threading: one thread (the server's) calls everything but the Ring's
// push, which the pipeline calls. A Hub never calls into the logger with a
// lock held: submitted records and failed logins go out through Callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hydra/bridge/auth.hpp"
#include "hydra/bridge/filter.hpp"
#include "hydra/bridge/options.hpp"
#include "hydra/bridge/ring.hpp"

namespace hydra::bridge {

using Clock = std::chrono::steady_clock;

// One connection, as the hub sees it.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual void send(std::string frame) = 0;  // a text frame, queued
  virtual void ping() = 0;                   // a WebSocket ping
  virtual void close(std::uint16_t code, std::string_view reason) = 0;
  virtual std::size_t queued_bytes() const = 0;  // sent frames not yet written
};

// Where a client comes from, for records about it and submitted fields.
struct ClientInfo {
  std::string address;     // "127.0.0.1:53412"
  std::string user_agent;  // its User-Agent header
  std::string token;       // from the subprotocol, cookie or Authorization header
};

// A record an SDK submitted, validated.
struct Submitted {
  Level level = Level::info;
  std::string message;
  // Fields in order: the record's own, then client_time, session, page,
  // user_agent, trace_id, span_id where given.
  using Value = std::variant<std::string, std::int64_t, double, bool>;
  std::vector<std::pair<std::string, Value>> fields;
};

struct Callbacks {
  // Accepted records, to be logged on the intake layer; false when they
  // cannot be (the logger is going), and the client is told so.
  std::function<bool(const Identity&, const ClientInfo&, std::vector<Submitted>&)> intake;
  // A failed authentication (address, reason), to be logged as a security record.
  std::function<void(const ClientInfo&, std::string_view reason)> auth_failed;
};

struct HubStats {
  std::uint64_t clients = 0;
  std::uint64_t connections = 0;
  std::uint64_t records_sent = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t gaps_slow_client = 0;  // records reported in slow_client gaps
  std::uint64_t gaps_evicted = 0;
  std::uint64_t gaps_sampled = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t submitted_accepted = 0;
  std::uint64_t submitted_rejected = 0;
  std::uint64_t submit_rate_limited = 0;  // batches refused with rate_limited / 429
  std::uint64_t filter_too_costly = 0;    // clients closed 4413
};

// The answer to POST /intake.
struct HttpAnswer {
  unsigned status = 202;
  std::string body;                     // JSON
  std::optional<unsigned> retry_after;  // seconds, for 429
};

class Hub {
 public:
  using ClientId = std::uint64_t;

  Hub(const BridgeOptions& options, std::string stream, Ring& ring, Callbacks callbacks);
  ~Hub();

  const std::string& stream() const noexcept { return stream_; }

  // A new WebSocket client; refused (closed 4429) past max_clients.
  ClientId connect(std::shared_ptr<Outbox> out, ClientInfo info, Clock::time_point now);
  void receive(ClientId id, std::string_view frame, Clock::time_point now);
  // A control frame (pong) or anything else heard from the client.
  void heard(ClientId id, Clock::time_point now);
  void disconnect(ClientId id);
  // Batches, gaps, heartbeats, idle and expiry closes: every batch_window.
  void tick(Clock::time_point now);
  // Every client closed 1000 bye (the bridge is stopping).
  void close_all();

  HttpAnswer intake(std::string_view body, const ClientInfo& info, Clock::time_point now);

  HubStats stats() const;
  std::size_t client_count() const noexcept { return clients_.size(); }

  // A records frame the server has written, handed back so that its
  // buffer builds a later frame: frames are up to 1 MiB, and allocating
  // and freeing one per client per window made glibc grow and trim the
  // bridge thread's heap over and over (page faults on every frame).
  void recycle(std::string frame);

 private:
  struct Subscription {
    Filter filter;
    std::uint32_t sample_limit = 0;  // 0: none
    std::chrono::milliseconds sample_period{1000};
    Clock::time_point window_start{};
    std::uint32_t in_window = 0;
  };
  struct PendingGap {
    std::uint64_t from = 0, to = 0, count = 0;
  };
  struct Bucket {
    double tokens = 0;
    Clock::time_point at{};
  };
  struct Client {
    std::shared_ptr<Outbox> out;
    ClientInfo info;
    std::optional<Identity> identity;
    std::uint64_t cursor = 1;  // the next seq to examine
    bool resuming = false;     // a gap at the cursor is `evicted`, not `slow_client`
    bool subscribed_once = false;
    std::map<std::string, Subscription, std::less<>> subs;
    PendingGap slow;
    Clock::time_point connected{}, last_sent{}, last_heard{}, last_ping{};
    std::optional<std::chrono::system_clock::time_point> expires;
    Bucket frames;
    Bucket scan;  // message bytes its filters may scan (filter_scan_rate)
    bool closed = false;
  };

  void on_hello(Client& c, const nlohmann::json& frame, Clock::time_point now);
  void on_subscribe(Client& c, const nlohmann::json& frame);
  void on_submit(Client& c, const nlohmann::json& frame, Clock::time_point now);
  void serve(Client& c, Clock::time_point now);
  void send(Client& c, std::string frame);
  void close(Client& c, std::uint16_t code, std::string_view reason);
  void error(Client& c, std::string_view id, std::string_view code, std::string_view message,
             std::optional<std::uint64_t> retry_after_ms = std::nullopt);
  std::optional<Identity> authenticate(const ClientInfo& info, std::string_view token);
  // Validates a submit body's records; the ack (or error) as JSON and what to log.
  struct SubmitResult {
    std::vector<Submitted> accepted;
    std::string ack_rejected;  // the `rejected` array
    std::size_t rejected = 0;
    std::string error_code, error_message;
    std::optional<std::uint64_t> retry_after_ms;
  };
  SubmitResult validate_submit(const nlohmann::json& frame, const Identity& who,
                               const ClientInfo& info, Clock::time_point now);
  bool log_submitted(const Identity& who, const ClientInfo& info, std::vector<Submitted>& records);
  bool take_tokens(Bucket& bucket, double rate, double burst, double n, Clock::time_point now,
                   std::uint64_t* retry_after_ms);

  const BridgeOptions options_;
  const std::string stream_;
  Ring& ring_;
  Callbacks callbacks_;
  Authenticator auth_;
  std::unordered_map<ClientId, Client> clients_;
  std::unordered_map<std::string, Bucket> submit_buckets_;  // by identity subject
  ClientId next_id_ = 1;
  HubStats stats_;
  // Reused by serve(): the ring's slice, and spare frame buffers (at most
  // kSpareFrames, dropped when no client is left).
  Ring::Slice slice_;
  std::vector<std::string> spare_frames_;
};

namespace detail {
// Whether JSON text nests deeper than `max_depth` (checked before parsing,
// so that hostile nesting cannot exhaust the stack).
bool json_too_deep(std::string_view text, int max_depth);
// A JSON value as a field's: strings, booleans and numbers as they are;
// objects, arrays and null as their JSON text.
Submitted::Value field_value(const nlohmann::json& value);
// `fields` as a Record's (viewing `fields`, which must outlive `out`'s use).
void record_fields(const std::vector<std::pair<std::string, Submitted::Value>>& fields,
                   std::vector<Field>& out);
}  // namespace detail

}  // namespace hydra::bridge
