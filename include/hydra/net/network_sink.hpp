// A sink that ships what its destination formats through a delivery engine
// (hydra/net/delivery.hpp): write() copies the formatted record into the
// engine's queue and returns; the engine's sender does the network. flush()
// waits (up to flush_timeout) for what was written to be delivered, unless
// the destination is failing: then it only asks the sender to send now (the
// application never waits on a dead destination). The destructor shuts the engine down (up to
// shutdown_timeout), spooling or counting what is left. What the engine drops is this sink's
// dropped_records(), in the logger's metrics.
#pragma once

#include <chrono>
#include <memory>

#include "hydra/net/delivery.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::net {

class NetworkSink final : public Sink {
 public:
  NetworkSink(DeliveryOptions options, std::unique_ptr<Transport> transport,
              std::chrono::milliseconds flush_timeout = std::chrono::seconds(5),
              std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(5));
  ~NetworkSink() override;

  void write(const Record& record, std::string_view bytes) override;
  void flush() override;
  std::uint64_t write_errors() const override { return engine_.counts().retries; }
  std::uint64_t dropped_records() const override { return engine_.counts().dropped(); }

  DeliveryCounts counts() const { return engine_.counts(); }
  DeliveryEngine& engine() noexcept { return engine_; }

 private:
  DeliveryEngine engine_;
  std::chrono::milliseconds flush_timeout_;
  std::chrono::milliseconds shutdown_timeout_;
};

}  // namespace hydra::net
