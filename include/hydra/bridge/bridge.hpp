// The bridge: a live view of a process's logs in the browser, and a way in
// for records from front ends (docs/bridge.md). One Bridge is an HTTP and
// WebSocket server on its own thread (Boost.Beast), serving
//   /         the dashboard (the files of BridgeOptions::dashboard_dir)
//   /ws       the WebSocket of protocol v1 (docs/bridge-protocol.md)
//   /intake   POST of submitted records (navigator.sendBeacon)
//   /healthz  its counters, as JSON
// It is fed by publish(), which the `bridge` destination calls for every
// record after the protect stage; publish never waits for a client.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hydra/bridge/hub.hpp"
#include "hydra/bridge/options.hpp"
#include "hydra/core/record.hpp"

namespace hydra {
class Logger;
}

namespace hydra::bridge {

// A bridge that cannot start: the address, and the system's reason.
struct BridgeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Bridge {
 public:
  // Listens at once; throws BridgeError (address in use, not loopback
  // without credentials, ...).
  explicit Bridge(BridgeOptions options);
  // Closes every client (1000 bye) and stops.
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // A record for the stream, copied. Thread-safe, never blocks on clients.
  void publish(const Record& record);
  // A record of another process's, with its own tenant, service and seq
  // (hydra-bridge: from JetStream); false for a seq not past the last.
  bool publish(const Record& record, std::string_view tenant, std::string_view service,
               std::uint64_t seq);
  // Where the stream begins, before the first publish (JetStream's first
  // sequence the bridge reads).
  void start_stream_at(std::uint64_t seq);

  // Where submitted records and failed logins are logged (nullptr: nowhere).
  // detach() forgets `logger` only if it is the attached one.
  void attach(Logger* logger);
  void detach(Logger* logger);

  std::string url() const;  // "http://127.0.0.1:9020/"
  std::uint16_t port() const noexcept;
  const std::string& stream() const noexcept;
  const BridgeOptions& options() const noexcept;
  // The hub's counters as of its last tick. Thread-safe.
  HubStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The URLs of the bridges running in this process, so that a program can
// say where its live view is.
std::vector<std::string> running_bridges();

}  // namespace hydra::bridge
