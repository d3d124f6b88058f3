// The `bridge` destination: hands every record it is given (after the
// protect stage) to a Bridge, which serves it live. Configuration files name
// it by type, with the options of docs/bridge.md:
//
//   [[layers.DEFAULT.destinations]]
//   type = "bridge"
//   listen = "127.0.0.1:9020"
//
// Destinations with the same listen address share one Bridge (as file
// destinations with one path share one file). The logger it belongs to gets
// the records that clients submit and the failed logins.
#pragma once

#include <memory>

#include "hydra/bridge/bridge.hpp"
#include "hydra/plugin/registry.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::bridge {

class BridgeSink : public Sink {
 public:
  explicit BridgeSink(std::shared_ptr<Bridge> bridge) : bridge_(std::move(bridge)) {}

  void write(const Record& record, std::string_view /*bytes*/) override {
    bridge_->publish(record);
  }
  bool wants_bytes() const override { return false; }
  void flush() override {}
  void attach(Logger& logger) override { bridge_->attach(&logger); }
  void detach(Logger& logger) override { bridge_->detach(&logger); }

  Bridge& bridge() noexcept { return *bridge_; }

 private:
  std::shared_ptr<Bridge> bridge_;
};

// The Bridge for `options`: the running one with the same listen address
// (when its port is not 0), else a new one.
std::shared_ptr<Bridge> shared_bridge(const BridgeOptions& options);

// Adds the `bridge` destination type to `registry`.
void register_destination(plugin::Registry& registry);

// The BridgeOptions the destination's validated options give.
BridgeOptions bridge_options(const plugin::Options& options);

}  // namespace hydra::bridge
