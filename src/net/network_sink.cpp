#include "hydra/net/network_sink.hpp"

namespace hydra::net {

NetworkSink::NetworkSink(DeliveryOptions options, std::unique_ptr<Transport> transport,
                         std::chrono::milliseconds flush_timeout,
                         std::chrono::milliseconds shutdown_timeout)
    : engine_(std::move(options), std::move(transport)),
      flush_timeout_(flush_timeout),
      shutdown_timeout_(shutdown_timeout) {}

NetworkSink::~NetworkSink() {
  engine_.shutdown(shutdown_timeout_);
}

void NetworkSink::write(const Record& record, std::string_view bytes) {
  engine_.submit(
      bytes,
      std::chrono::duration_cast<std::chrono::nanoseconds>(record.time.time_since_epoch()).count());
}

void NetworkSink::flush() {
  (void)engine_.flush(flush_timeout_);
}

}  // namespace hydra::net
