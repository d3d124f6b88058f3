#include "hydra/net/network_sink.hpp"

namespace hydra::net {

NetworkSink::NetworkSink(DeliveryOptions options, std::unique_ptr<Transport> transport,
                         std::chrono::milliseconds flush_timeout,
                         std::chrono::milliseconds shutdown_timeout, RecordEncoder encoder)
    : name_(options.name),
      engine_(std::move(options), std::move(transport)),
      encoder_(std::move(encoder)),
      flush_timeout_(flush_timeout),
      shutdown_timeout_(shutdown_timeout) {}

NetworkSink::NetworkSink(DeliveryOptions options, const TransportFactory& make_transport,
                         std::chrono::milliseconds flush_timeout,
                         std::chrono::milliseconds shutdown_timeout, RecordEncoder encoder)
    : name_(options.name),
      engine_(std::move(options), make_transport),
      encoder_(std::move(encoder)),
      flush_timeout_(flush_timeout),
      shutdown_timeout_(shutdown_timeout) {}

NetworkSink::~NetworkSink() {
  engine_.shutdown(shutdown_timeout_);
}

void NetworkSink::write(const Record& record, std::string_view bytes) {
  const std::int64_t time_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(record.time.time_since_epoch()).count();
  if (!encoder_) {
    engine_.submit(bytes, time_ns);
    return;
  }
  thread_local std::string encoded;
  encoded.clear();
  encoder_(record, bytes, encoded);
  engine_.submit(encoded, time_ns);
}

void NetworkSink::finish() {
  engine_.shutdown(shutdown_timeout_);
}

void NetworkSink::flush() {
  // A destination that is down is not waited for: the caller may be the
  // application (a record at flush_level), and its records are safe in the
  // queue or the spool. The sender is told to send what is queued.
  if (engine_.failing()) {
    engine_.request_flush();
    return;
  }
  (void)engine_.flush(flush_timeout_);
}

}  // namespace hydra::net
