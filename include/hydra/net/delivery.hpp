// The delivery engine every network destination runs on (docs/shipping.md):
// records go into a byte-bounded queue (net::DeliveryQueue) on the
// application's threads and out through a Transport on one sender thread,
// in batches, with retries (net::Backoff), an optional disk spool
// (net::Spool) and a dead-letter file, and every record ends in exactly one
// state that is counted: delivered, spooled (still waiting on disk),
// dead-lettered, or dropped with a reason.
//
// Two modes. Direct: queue -> transport. Spooled (only with a spool), from
// the moment a send fails with a retryable error, or the queue fills under
// `overflow = spool`: queue -> spool -> transport, so that the order stays
// the order of the records; back to direct once the spool is empty.
//
// With `senders` > 1, that many sender threads, each with a transport of
// its own (its own connection), take batches from the queue in direct mode:
// batches then arrive in no set order. In spooled mode the first sender
// alone replays the spool, in order, and the others wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hydra/net/delivery_queue.hpp"
#include "hydra/net/retry.hpp"
#include "hydra/net/spool.hpp"
#include "hydra/sink/delivery_counts.hpp"

namespace hydra::net {

// What sending a batch came to, as the protocol's response classifier says.
struct SendResult {
  enum class Status : std::uint8_t {
    delivered,  // every record (acknowledged where the protocol acknowledges)
    retryable,  // none; try the whole batch again (a 503, a reset connection)
    permanent,  // none, ever (a 400 for the whole batch): dead-lettered
    partial,    // per record: `items`
  };
  struct Item {
    enum class Outcome : std::uint8_t { delivered, retry, rejected } outcome;
    std::string reason;  // for rejected
  };
  Status status = Status::delivered;
  std::string reason;  // retryable, permanent: "HTTP 503", "connection refused"
  std::optional<std::chrono::milliseconds> retry_after;
  std::vector<Item> items;  // partial: one per record of the batch, in order

  static SendResult ok() { return {}; }
  static SendResult retry(std::string why,
                          std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return {Status::retryable, std::move(why), after, {}};
  }
  static SendResult reject(std::string why) { return {Status::permanent, std::move(why), {}, {}}; }
};

// A protocol's client. send() blocks (with its own timeouts) and never
// throws: failures are results. Called from the sender thread only.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult send(std::span<const QueuedRecord> batch) = 0;
  // "syslog tcp 127.0.0.1:6514", for messages.
  virtual std::string describe() const = 0;
};

// Makes a transport for one sender (a new connection each time).
using TransportFactory = std::function<std::unique_ptr<Transport>()>;

struct DeliveryOptions {
  std::string name;  // the destination's, for messages
  std::size_t queue_max_bytes = std::size_t{8} << 20;
  Overflow overflow = Overflow::drop_newest;
  std::size_t batch_max_records = 1000;
  std::size_t batch_max_bytes = std::size_t{1} << 20;
  std::chrono::milliseconds linger{200};
  RetryPolicy retry;
  // A batch retried this long is given up (spooled, else dropped as
  // retry_elapsed); 0: retried until it goes or the engine shuts down.
  std::chrono::milliseconds retry_max_elapsed{0};
  std::optional<SpoolOptions> spool;
  // JSON Lines of what the destination rejected for good, with the reason;
  // empty: such records are dropped (rejected) and counted.
  std::filesystem::path dead_letter_path;
  std::uint64_t seed = 0;  // of the retry jitter; 0: a random one
  // Sender threads, each with its own transport: more than one sends
  // batches side by side, in no set order (for destinations that do not
  // need order: the HTTP ones, not syslog or nats). 1 to 64.
  std::size_t senders = 1;
};

// The counts (hydra/sink/delivery_counts.hpp: the core reports them too).
using DeliveryCounts = hydra::DeliveryCounts;

class DeliveryEngine {
 public:
  // Starts the sender thread; opens the spool (replaying what an earlier
  // process left there first). Throws std::runtime_error when the spool or
  // the dead-letter file cannot be opened, naming the path, and
  // std::invalid_argument when options.senders is not 1 (one transport is
  // one sender's).
  DeliveryEngine(DeliveryOptions options, std::unique_ptr<Transport> transport);
  // The same with options.senders sender threads (1 to 64, else
  // std::invalid_argument), each with a transport `make_transport` makes.
  DeliveryEngine(DeliveryOptions options, const TransportFactory& make_transport);
  // shutdown(5 s) if it was not called.
  ~DeliveryEngine();
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // From any thread: the record (already formatted) is copied into the
  // queue, under the overflow policy. Returns its id.
  std::uint64_t submit(std::string_view bytes, std::int64_t time_ns);

  // Sends what is queued and spooled now; true when all of it was
  // delivered (or dead-lettered, or dropped) within `timeout`.
  bool flush(std::chrono::milliseconds timeout);

  // Asks the sender to send what is queued now (ends a batch's linger);
  // does not wait.
  void request_flush();
  // Whether the last send failed with a retryable error (the destination is
  // down or refusing): flush() would wait for it to come back.
  bool failing() const;

  // Stops taking records, and sends what is left, in order, for at most
  // `timeout`; what is still undelivered then goes to the spool if there is
  // one, else is counted as dropped_shutdown. A retryable error is not
  // final here either: it is what the spool is for. Joins the sender.
  void shutdown(std::chrono::milliseconds timeout);

  DeliveryCounts counts() const;
  // The last error a send or the spool reported, for health records.
  std::string last_error() const;

 private:
  DeliveryEngine(DeliveryOptions options, std::vector<std::unique_ptr<Transport>> transports);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydra::net
