// Delivery options for the destinations' tests: a short linger and short
// retries, so that a test waits on flush barriers and the engine's counts,
// never on the engine's timers.
#pragma once

#include <chrono>
#include <string>

#include <hydra/net/delivery.hpp>

namespace hydra::test {

inline hydra::net::DeliveryOptions fast(const std::string& name) {
  hydra::net::DeliveryOptions o;
  o.name = name;
  o.linger = std::chrono::milliseconds(5);
  o.retry = {std::chrono::milliseconds(10), std::chrono::milliseconds(50)};
  return o;
}

// One batch for everything written before the flush that sends it.
inline hydra::net::DeliveryOptions one_batch(const std::string& name) {
  auto o = fast(name);
  o.linger = std::chrono::minutes(1);
  return o;
}

}  // namespace hydra::test
