// What a bridge is told: where it listens, which stream it serves, how it
// batches, what it holds for resuming clients, and its limits. The
// `bridge` destination builds these from its options (docs/bridge.md); code
// may fill one in directly. Every limit has a safe default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hydra/bridge/auth.hpp"

namespace hydra::bridge {

struct BridgeOptions {
  // host:port; port 0 takes an ephemeral one (Bridge::url() tells which).
  std::string listen = "127.0.0.1:9020";
  // The stream's tenant and service (records say so; a token of another
  // tenant sees none of them).
  std::string tenant = "default";
  std::string service;  // empty: the program's name
  // The stream's name in frames and cursors; empty: "<service>/<16 random
  // hex digits>", new with each process (so a restart is a new stream).
  std::string stream;

  // Records frames: at most one a window per client.
  std::chrono::milliseconds batch_window{100};
  // A heartbeat frame (and a WebSocket ping) after this long with nothing
  // sent; a client silent for twice as long is closed (4408 idle).
  std::chrono::milliseconds heartbeat{15'000};
  // The ring buffer of recent records that clients resume from: at most
  // this many records and bytes (the oldest go first).
  std::size_t buffer_records = 65'536;
  std::size_t buffer_bytes = 64u << 20;
  // Whether records are kept while no client is connected. Off: an unwatched
  // bridge only counts them (it costs the application next to nothing), and
  // keeps them again from the first client on; after the last client leaves
  // it keeps them for resume_window more, so that a client that reconnects
  // within it resumes with nothing missing. On: a client that connects to
  // an idle bridge can ask for a backlog, at a cost to every record.
  bool keep_when_idle = false;
  std::chrono::milliseconds resume_window{60'000};
  // Per client: bytes queued for sending; past it the client gets a gap
  // (slow_client) instead of records.
  std::size_t client_queue_bytes = 4u << 20;
  std::size_t max_clients = 64;
  std::size_t max_subscriptions = 64;
  std::size_t max_frame_bytes = 1u << 20;  // from a client (inflated), and records frames
  // Compress WebSocket messages (permessage-deflate, RFC 7692) with clients
  // that offer it, as browsers do: records frames of JSON shrink several
  // times, at a cost in CPU on the bridge's thread for every frame.
  bool permessage_deflate = false;
  // The longest a client may stay subscribed (0: no limit); then 4430.
  std::chrono::milliseconds max_subscription_time{0};
  // What a client's text and regex filters may cost: the bytes of messages
  // they scan a second, summed over its subscriptions (one second's worth
  // at once). A client past it is closed 4413 filter_too_costly. 0: no limit.
  std::size_t filter_scan_rate = 64u << 20;

  // Intake (submitted records).
  std::string intake_layer = "FRONTEND";
  std::size_t max_record_bytes = 64u << 10;
  std::size_t max_batch_records = 500;
  double submit_rate = 200;    // records per second per token (or client, when open)
  double submit_burst = 2000;  // records

  Credentials credentials;
  // Origins allowed to open the WebSocket or POST (besides the bridge's
  // own http://127.0.0.1:<port> and http://localhost:<port>). "*" allows any.
  std::vector<std::string> allowed_origins;

  // TLS: the server's certificate chain and private key (PEM files). With
  // both set the bridge serves only https and wss; with neither, plain
  // http and ws (keep those to loopback or behind a TLS proxy).
  std::string tls_cert;
  std::string tls_key;

  // Files served at / (the built dashboard); empty: a page that says where
  // the WebSocket is.
  std::string dashboard_dir;
};

}  // namespace hydra::bridge
