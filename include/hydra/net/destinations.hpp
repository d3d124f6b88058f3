// The network destination types, registered by name in the plugin registry
// (hydra/plugin/registry.hpp), so that configuration files name them by
// `type` with their options as destination keys, checked as strictly as
// any, and `hydra config explain` lists them. So far: `syslog`, `otlp`, `nats`,
// `loki`, `elasticsearch`.
//
//   [[layers.APP.destinations]]
//   type = "syslog"          # format: syslog unless the destination says otherwise
//   protocol = "tcp"         # udp (default), tcp, unix
//   host = "logs.internal"
//   port = 514
//   spool_dir = "/var/spool/myapp/syslog"
//
// The options every network destination takes: queue_max_bytes, overflow
// (block, drop_newest, drop_oldest, spool), batch_max_records,
// batch_max_bytes, linger, retry_initial, retry_max, retry_max_elapsed,
// spool_dir, spool_max_size, dead_letter_path (docs/shipping.md).
#pragma once

#include "hydra/net/delivery.hpp"
#include "hydra/plugin/options.hpp"
#include "hydra/plugin/registry.hpp"

namespace hydra::net {

// Adds the network destination types to `registry` (again: replaced).
// hydra::config calls it for the global registry before reading a file.
void register_destinations(plugin::Registry& registry);

// The delivery options the common keys give (validated Options of a
// registered network type); `name` names the destination in messages.
DeliveryOptions delivery_options(const plugin::Options& options, std::string name);

}  // namespace hydra::net
