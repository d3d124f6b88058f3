// A sink that ships what its destination formats through a delivery engine
// (hydra/net/delivery.hpp): write() copies the formatted record into the
// engine's queue and returns; the engine's sender does the network. flush()
// waits (up to flush_timeout) for what was written to be delivered, unless
// the destination is failing: then it only asks the sender to send now (the
// application never waits on a dead destination). The destructor shuts the engine down (up to
// shutdown_timeout), spooling or counting what is left. What the engine drops is this sink's
// dropped_records(), in the logger's metrics.
//
// What is queued for a record is, by default, the bytes the destination's
// format made. A protocol that carries records in its own structure (OTLP's
// LogRecord, a Loki line with its labels, an Elasticsearch document) gives
// an encoder instead, which makes them from the record's parts (level,
// layer, fields, time) and the formatted bytes; it runs on the caller's
// thread, like the format, and must not keep references to the record.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "hydra/net/delivery.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::net {

// Appends what is queued for `record` to `out` (empty on entry).
using RecordEncoder =
    std::function<void(const Record& record, std::string_view formatted, std::string& out)>;

class NetworkSink final : public Sink {
 public:
  NetworkSink(DeliveryOptions options, std::unique_ptr<Transport> transport,
              std::chrono::milliseconds flush_timeout = std::chrono::seconds(5),
              std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(5),
              RecordEncoder encoder = {});
  // options.senders senders, each with a transport from `make_transport`.
  NetworkSink(DeliveryOptions options, const TransportFactory& make_transport,
              std::chrono::milliseconds flush_timeout = std::chrono::seconds(5),
              std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(5),
              RecordEncoder encoder = {});
  ~NetworkSink() override;

  void write(const Record& record, std::string_view bytes) override;
  void flush() override;
  std::uint64_t write_errors() const override { return engine_.counts().retries; }
  std::uint64_t dropped_records() const override { return engine_.counts().dropped(); }
  // Shuts the engine down (up to shutdown_timeout): what is left goes to
  // the spool or is counted; a record written after it is counted
  // dropped_shutdown. A logger calls it when it ends, so a NetworkSink
  // shared by two loggers stops with the first that ends.
  void finish() override;
  std::optional<DestinationMetrics> destination_metrics() const override {
    return DestinationMetrics{name_, engine_.counts(), engine_.last_error()};
  }

  DeliveryCounts counts() const { return engine_.counts(); }
  DeliveryEngine& engine() noexcept { return engine_; }

 private:
  std::string name_;
  DeliveryEngine engine_;
  RecordEncoder encoder_;
  std::chrono::milliseconds flush_timeout_;
  std::chrono::milliseconds shutdown_timeout_;
};

}  // namespace hydra::net
