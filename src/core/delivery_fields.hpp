// A network destination's accounting as record fields, under the same names
// wherever a record carries it: the in-band `hydra: destination health`
// record (async mode) and the `hydra: destination final counts` record in an
// audit trail (docs/shipping.md, "Accounting").
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "hydra/core/record.hpp"
#include "hydra/sink/delivery_counts.hpp"

namespace hydra::detail {

// The fields refer to `d`'s strings: `d` outlives them. `now_ns`: the wall
// clock, for the oldest undelivered record's age.
inline std::array<Field, 19> delivery_fields(const DestinationMetrics& d, std::int64_t now_ns) {
  const DeliveryCounts& c = d.counts;
  const std::int64_t oldest_age_ms =
      c.oldest_time_ns == 0 ? 0
                            : std::max<std::int64_t>(0, (now_ns - c.oldest_time_ns) / 1'000'000);
  return {{
      {"destination", FieldValue(std::string_view(d.name))},
      {"submitted", FieldValue(c.submitted)},
      {"delivered", FieldValue(c.delivered)},
      {"spooled", FieldValue(c.spooled)},
      {"dead_lettered", FieldValue(c.dead_lettered)},
      {"dropped", FieldValue(c.dropped())},
      {"dropped_queue_full", FieldValue(c.dropped_queue_full)},
      {"dropped_oldest", FieldValue(c.dropped_oldest)},
      {"dropped_oversize", FieldValue(c.dropped_oversize)},
      {"dropped_spool_full", FieldValue(c.dropped_spool_full)},
      {"dropped_spool_error", FieldValue(c.dropped_spool_error)},
      {"dropped_rejected", FieldValue(c.dropped_rejected)},
      {"dropped_retry_elapsed", FieldValue(c.dropped_retry_elapsed)},
      {"dropped_shutdown", FieldValue(c.dropped_shutdown)},
      {"queued", FieldValue(c.queued)},
      {"queue_bytes", FieldValue(c.queue_bytes)},
      {"retries", FieldValue(c.retries)},
      {"oldest_age_ms", FieldValue(oldest_age_ms)},
      {"last_error", FieldValue(std::string_view(d.last_error))},
  }};
}

}  // namespace hydra::detail
