// hydra::DeliveryCounts (hydra/sink/delivery_counts.hpp) and the plugin ABI's
// hydra_delivery_counts (abi.h, 1.2), field by field, either way: the host
// reads a network sink plugin's counts with it, and a plugin that links
// hydra (plugins/common/delivery_sink.hpp) writes its engine's with it.
#pragma once

#include "hydra/plugin/abi.h"
#include "hydra/sink/delivery_counts.hpp"

namespace hydra::plugin {

// f(a's field, b's field) for each count: `a` a DeliveryCounts, `b` a
// hydra_delivery_counts, either of them const.
template <typename Counts, typename AbiCounts, typename F>
void for_each_count(Counts& a, AbiCounts& b, F&& f) {
  f(a.submitted, b.submitted);
  f(a.delivered, b.delivered);
  f(a.dead_lettered, b.dead_lettered);
  f(a.spooled, b.spooled);
  f(a.dropped_queue_full, b.dropped_queue_full);
  f(a.dropped_oldest, b.dropped_oldest);
  f(a.dropped_oversize, b.dropped_oversize);
  f(a.dropped_spool_full, b.dropped_spool_full);
  f(a.dropped_spool_error, b.dropped_spool_error);
  f(a.dropped_rejected, b.dropped_rejected);
  f(a.dropped_retry_elapsed, b.dropped_retry_elapsed);
  f(a.dropped_shutdown, b.dropped_shutdown);
  f(a.retries, b.retries);
  f(a.queued, b.queued);
  f(a.queue_bytes, b.queue_bytes);
  f(a.oldest_time_ns, b.oldest_time_ns);
}

inline hydra_delivery_counts to_abi(const DeliveryCounts& counts) {
  hydra_delivery_counts out{};
  out.size = sizeof out;
  for_each_count(counts, out, [](const auto& from, auto& to) { to = from; });
  return out;
}

inline DeliveryCounts from_abi(const hydra_delivery_counts& counts) {
  DeliveryCounts out;
  for_each_count(out, counts, [](auto& to, const auto& from) { to = from; });
  return out;
}

}  // namespace hydra::plugin
