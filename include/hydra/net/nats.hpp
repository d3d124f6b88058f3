// The `nats` destination: each record published to NATS JetStream (through
// libnats) on the subject `hydra.logs.<tenant>.<service>.<layer>`, with the
// header `Nats-Msg-Id` = the record's key, and counted delivered only when
// JetStream acknowledged it (docs/shipping.md).
//
// The key is record_key() (the engine instance and the sequence), which the
// spool keeps with the record: a retry, a spool replay or a restart sends a
// record again with the same Nats-Msg-Id, which JetStream drops as a duplicate
// within the stream's duplicate window (2 minutes by default): effectively once inside it, at least
// once beyond it. libnats's own reconnecting (and the buffer it keeps meanwhile) is off: a lost
// connection fails the send, the engine retries it, and the transport connects again.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hydra/net/delivery.hpp"
#include "hydra/net/network_sink.hpp"

namespace hydra::net {

struct NatsTarget {
  std::string url = "nats://127.0.0.1:4222";  // a comma-separated list is fine
  // A stream to create, with the subjects `hydra.logs.>`, when it does not
  // exist; empty: a stream taking the subjects must exist already.
  std::string stream;
  // A credentials file (a user JWT and its NKey seed); empty: none (user and
  // password may be in the URL).
  std::string credentials;
  // Connecting, and waiting for a batch's acknowledgements, each.
  std::chrono::milliseconds timeout{10'000};
};

// `hydra.logs.<tenant>.<service>.<layer>`, each of the three a token of its
// own: '.', '*', '>', whitespace and control characters in them become '_',
// and an empty one is "_".
std::string nats_subject(std::string_view tenant, std::string_view service, std::string_view layer);

// What the `nats` destination queues for a record: its subject, '\n', then
// the formatted record without its line end. The transport splits them; a
// record not in this shape is rejected.
RecordEncoder nats_encoder(std::string tenant, std::string service);

class NatsTransport : public Transport {
 public:
  // Records JetStream acknowledged as duplicates (already in the stream):
  // counted delivered, and here.
  virtual std::uint64_t duplicates() const = 0;
};

std::unique_ptr<NatsTransport> make_nats_transport(const NatsTarget& target);

}  // namespace hydra::net
