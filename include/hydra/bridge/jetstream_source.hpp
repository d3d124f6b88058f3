// What feeds hydra-bridge: the records that services' `nats` destinations
// publish to NATS JetStream (hydra.logs.<tenant>.<service>.<layer>, each a
// formatted record, JSON by default). An ordered consumer reads the stream
// from the last buffer_records messages on, so that a restarted bridge
// holds, and resumes its clients from, what it held before; the stream's
// sequence numbers are the records' seq, the same for every bridge.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/bridge/bridge.hpp"

namespace hydra::bridge {

struct JetStreamOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string stream = "HYDRA_LOGS";  // the JetStream stream to read
  std::string subjects = "hydra.logs.>";
  std::string credentials;  // a NATS credentials file; empty: none
  // Make the stream (subjects hydra.logs.>, file storage) when it does not
  // exist, as the `nats` destination does; false: it must exist.
  bool create_stream = true;
  std::chrono::milliseconds timeout{10'000};
};

class JetStreamSource {
 public:
  // Connects, reads the stream's state and starts the consumer; throws
  // BridgeError naming the URL or the stream.
  JetStreamSource(Bridge& bridge, JetStreamOptions options);
  ~JetStreamSource();
  JetStreamSource(const JetStreamSource&) = delete;
  JetStreamSource& operator=(const JetStreamSource&) = delete;

  std::uint64_t received() const noexcept;
  std::uint64_t first_seq() const noexcept;  // where the bridge began reading

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A record as JetStream carries it: the subject's tenant, service and layer,
// and the body, a JSON record (the `json` format) or any other line (then
// the message, at info). Exposed for tests.
struct ParsedRecord {
  std::string tenant, service, layer, logger, message;
  Level level = Level::info;
  std::chrono::system_clock::time_point time{};
  std::vector<std::pair<std::string, Submitted::Value>> fields;
  // A Record viewing this one's strings (valid while it lives).
  Record record(std::vector<Field>& fields_storage) const;
};
ParsedRecord parse_jetstream_record(std::string_view subject, std::string_view body);

}  // namespace hydra::bridge
