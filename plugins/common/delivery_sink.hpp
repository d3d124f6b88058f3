// What the first-party network plugins (splunk_hec, cloudwatch) share: a
// plugin sink (hydra/plugin/sdk.hpp) that runs a net::DeliveryEngine with
// the plugin's own Transport, the engine's options as plugin options, and
// the engine's counts as the sink's health() and its delivery() (the
// host's metrics().destinations). Internal to plugins/: each
// plugin links hydra_net statically and exports only hydra_plugin_entry.
#pragma once

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <hydra/format/detail/escape.hpp>
#include <hydra/net/delivery.hpp>
#include <hydra/plugin/delivery_counts.hpp>
#include <hydra/plugin/sdk.hpp>

namespace hydra::plugins {

// The engine's options, as every built-in network destination spells them
// (docs/shipping.md, "The delivery engine"), plus the HTTP ones.
inline constexpr std::array kDeliveryOptions = {
    sdk::option("queue_max_bytes", HYDRA_OPTION_INTEGER, "8388608",
                "the queue's bound in bytes of encoded records", 1024, 1e12),
    sdk::option("overflow", HYDRA_OPTION_STRING, "drop_newest",
                "when the queue is full: block, drop_newest, drop_oldest, spool"),
    sdk::option("batch_max_records", HYDRA_OPTION_INTEGER, "1000", "records a request at most", 1,
                10000),
    sdk::option("batch_max_bytes", HYDRA_OPTION_INTEGER, "1048576",
                "bytes of encoded records a request at most", 1, 1e9),
    sdk::option("linger", HYDRA_OPTION_DURATION, "200ms", "how long a batch waits to fill", 0,
                3.6e6),
    sdk::option("retry_initial", HYDRA_OPTION_DURATION, "200ms", "the cap of the first retry wait",
                1, 3.6e6),
    sdk::option("retry_max", HYDRA_OPTION_DURATION, "30s", "the cap of every retry wait", 1,
                8.64e7),
    sdk::option("retry_max_elapsed", HYDRA_OPTION_DURATION, "0ms",
                "give a batch up after retrying it this long (0: never)", 0, 8.64e8),
    sdk::option("spool_dir", HYDRA_OPTION_STRING, "",
                "a directory to spool to while the destination is down (empty: none)"),
    sdk::option("spool_max_size", HYDRA_OPTION_INTEGER, "268435456", "the spool's bound in bytes",
                1 << 20, 1e13),
    sdk::option("dead_letter_path", HYDRA_OPTION_STRING, "",
                "JSON Lines of what the destination rejected (empty: counted and dropped)"),
    sdk::option("timeout", HYDRA_OPTION_DURATION, "10s", "a request, connecting included", 1,
                3.6e6),
    sdk::option("ca_file", HYDRA_OPTION_STRING, "",
                "https: a PEM file of CAs to verify the server by (empty: the system's)"),
    sdk::option("senders", HYDRA_OPTION_INTEGER, "1",
                "sender threads, each with its own connection (more than 1: batches in no set "
                "order)",
                1, 64),
    sdk::option("flush_timeout", HYDRA_OPTION_DURATION, "5s",
                "how long a flush waits for delivery (never when the destination is down)", 0,
                3.6e6),
    sdk::option("shutdown_timeout", HYDRA_OPTION_DURATION, "5s",
                "how long the sink sends what is left when it is let go", 0, 3.6e6),
};

// `a` then `b`, as one static option table.
template <std::size_t N, std::size_t M>
constexpr std::array<hydra_option_spec, N + M> join(const std::array<hydra_option_spec, N>& a,
                                                    const std::array<hydra_option_spec, M>& b) {
  std::array<hydra_option_spec, N + M> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = a[i];
  for (std::size_t i = 0; i < M; ++i) out[N + i] = b[i];
  return out;
}

inline net::Overflow overflow_of(std::string_view name) {
  if (name == "block") return net::Overflow::block;
  if (name == "drop_newest") return net::Overflow::drop_newest;
  if (name == "drop_oldest") return net::Overflow::drop_oldest;
  if (name == "spool") return net::Overflow::spool;
  throw std::invalid_argument("option 'overflow': '" + std::string(name) +
                              "' is not one (valid: block, drop_newest, drop_oldest, spool)");
}

// The engine's options from the plugin's (already checked by the host).
inline net::DeliveryOptions delivery_options(const sdk::Options& o, std::string name) {
  net::DeliveryOptions d;
  d.name = std::move(name);
  d.queue_max_bytes = static_cast<std::size_t>(o.integer("queue_max_bytes", 8 << 20));
  d.overflow = overflow_of(o.text("overflow", "drop_newest"));
  d.batch_max_records = static_cast<std::size_t>(o.integer("batch_max_records", 1000));
  d.batch_max_bytes = static_cast<std::size_t>(o.integer("batch_max_bytes", 1 << 20));
  d.linger = o.duration("linger", std::chrono::milliseconds(200));
  d.retry.initial = o.duration("retry_initial", std::chrono::milliseconds(200));
  d.retry.max = o.duration("retry_max", std::chrono::seconds(30));
  d.retry_max_elapsed = o.duration("retry_max_elapsed");
  if (const std::string_view dir = o.text("spool_dir"); !dir.empty()) {
    net::SpoolOptions spool;
    spool.dir = std::string(dir);
    spool.max_bytes = static_cast<std::uint64_t>(o.integer("spool_max_size", 256 << 20));
    d.spool = spool;
  } else if (d.overflow == net::Overflow::spool) {
    throw std::invalid_argument("option 'overflow': 'spool' needs a spool_dir");
  }
  d.dead_letter_path = std::string(o.text("dead_letter_path"));
  d.senders = static_cast<std::size_t>(o.integer("senders", 1));
  return d;
}

// Appends `text` to `out` as a JSON string, quotes included, escaped as
// Hydra's json format escapes (invalid UTF-8 as U+FFFD).
inline void append_json_string(std::string_view text, std::string& out) {
  hydra::detail::Buffer b;
  hydra::detail::append_json_string(text, b);
  out.append(b.data(), b.size());
}

// The value of environment variable `name`, or "".
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

inline std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// A sink whose write() encodes the record (encode(), on the caller's
// thread) into the engine's queue; the engine's sender thread does the
// network through the Transport. flush() waits for delivery up to
// flush_timeout, except when the destination is failing: then it only asks
// the sender to send now (the application never waits on a dead
// destination; its records are in the queue or the spool). health() is
// the engine's counts. Thread-safe: give the kind HYDRA_KIND_THREAD_SAFE.
class DeliverySink : public sdk::Sink {
 public:
  // delivery.senders senders, each with a transport `make_transport` makes.
  DeliverySink(const sdk::Options& options, net::DeliveryOptions delivery,
               const net::TransportFactory& make_transport)
      : name_(delivery.name),
        engine_(std::move(delivery), make_transport),
        flush_timeout_(options.duration("flush_timeout", std::chrono::seconds(5))),
        shutdown_timeout_(options.duration("shutdown_timeout", std::chrono::seconds(5))) {}
  ~DeliverySink() override { engine_.shutdown(shutdown_timeout_); }
  DeliverySink(const DeliverySink&) = delete;
  DeliverySink& operator=(const DeliverySink&) = delete;

  void write(const sdk::Record& record, std::string_view bytes) override {
    thread_local std::string encoded;
    encoded.clear();
    encode(record, bytes, encoded);
    engine_.submit(encoded, record.time_unix_ns());
  }

  void flush() override {
    if (engine_.failing()) {
      engine_.request_flush();
      return;
    }
    (void)engine_.flush(flush_timeout_);
  }

  // {"ok":..,"failing":..,"counts":{...},"last_error":".."}: ok is false
  // while the destination fails; the counts are balanced() at every moment.
  std::string health() const override {
    const net::DeliveryCounts c = engine_.counts();
    const bool failing = engine_.failing();
    std::string out = std::string(R"({"ok":)") + (failing ? "false" : "true") + R"(,"failing":)" +
                      (failing ? "true" : "false") + R"(,"counts":{)";
    const std::pair<const char*, std::uint64_t> fields[] = {
        {"submitted", c.submitted},
        {"delivered", c.delivered},
        {"dead_lettered", c.dead_lettered},
        {"spooled", c.spooled},
        {"dropped", c.dropped()},
        {"dropped_queue_full", c.dropped_queue_full},
        {"dropped_oldest", c.dropped_oldest},
        {"dropped_oversize", c.dropped_oversize},
        {"dropped_spool_full", c.dropped_spool_full},
        {"dropped_spool_error", c.dropped_spool_error},
        {"dropped_rejected", c.dropped_rejected},
        {"dropped_retry_elapsed", c.dropped_retry_elapsed},
        {"dropped_shutdown", c.dropped_shutdown},
        {"retries", c.retries},
        {"queued", c.queued},
        {"queue_bytes", c.queue_bytes},
    };
    const char* separator = "";
    for (const auto& [name, value] : fields) {
      out += separator;
      out += '"';
      out += name;
      out += "\":" + std::to_string(value);
      separator = ",";
    }
    out += R"(},"last_error":)";
    append_json_string(engine_.last_error(), out);
    out += '}';
    return out;
  }

  // The counts for the host's metrics().destinations (ABI 1.2).
  bool delivery(Delivery& out) const override {
    out.counts = plugin::to_abi(engine_.counts());
    out.name = name_;
    out.last_error = engine_.last_error();
    return true;
  }

  // The host stops the sink when its logger ends (and before it lets go):
  // what is left is sent for up to shutdown_timeout, then spooled or
  // counted, so the counts after it are final.
  void stop() override { engine_.shutdown(shutdown_timeout_); }

  net::DeliveryEngine& engine() noexcept { return engine_; }

 protected:
  // Appends what is queued for `record` (`formatted`: as its destination's
  // format wrote it) to `out`.
  virtual void encode(const sdk::Record& record, std::string_view formatted, std::string& out) = 0;

 private:
  std::string name_;
  net::DeliveryEngine engine_;
  std::chrono::milliseconds flush_timeout_;
  std::chrono::milliseconds shutdown_timeout_;
};

}  // namespace hydra::plugins
