// What a network destination did with the records it was given (issue 19,
// docs/shipping.md, "Accounting"): every record ends in exactly one state,
// delivered, dead-lettered, spooled (on disk, waiting), dropped with a
// reason, or still queued. A sink that ships records (net::NetworkSink)
// reports these through Sink::destination_metrics(), and a logger lists them
// per destination in LoggerMetrics::destinations.
#pragma once

#include <cstdint>
#include <string>

namespace hydra {

struct DeliveryCounts {
  std::uint64_t submitted = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t spooled = 0;  // in the spool now (written there, not yet delivered)
  // Dropped, by reason.
  std::uint64_t dropped_queue_full = 0;   // drop_newest
  std::uint64_t dropped_oldest = 0;       // drop_oldest
  std::uint64_t dropped_oversize = 0;     // larger than the queue
  std::uint64_t dropped_spool_full = 0;   // the spool at its cap
  std::uint64_t dropped_spool_error = 0;  // the spool's disk failed
  std::uint64_t dropped_rejected = 0;     // rejected, and no dead-letter file (or it failed)
  std::uint64_t dropped_retry_elapsed = 0;
  std::uint64_t dropped_shutdown = 0;  // left at shutdown without a spool
  std::uint64_t retries = 0;           // sends that failed and were tried again
  std::uint64_t queued = 0;            // in the queue or being sent now
  std::uint64_t queue_bytes = 0;
  std::int64_t oldest_time_ns = 0;  // of the oldest record not yet delivered (0: none)

  std::uint64_t dropped() const {
    return dropped_queue_full + dropped_oldest + dropped_oversize + dropped_spool_full +
           dropped_spool_error + dropped_rejected + dropped_retry_elapsed + dropped_shutdown;
  }
  // Every record submitted is in exactly one of these.
  bool balanced() const {
    return submitted == delivered + dead_lettered + spooled + dropped() + queued;
  }
};

// One network destination's counts, by the name its messages use
// ("syslog tcp 127.0.0.1:514"), with the last error it met ("" when none).
struct DestinationMetrics {
  std::string name;
  DeliveryCounts counts;
  std::string last_error;
};

}  // namespace hydra
