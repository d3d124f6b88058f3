// Where an audit trail is configured, a logger's network destinations'
// final counts go into it when the logger ends: one `audit` record per
// destination, chained like every other line (the verifier passes), with
// the counts as they stand after the destination's shutdown.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <hydra/hydra.hpp>
#include <hydra/net/network_sink.hpp>
#include <hydra/protect/audit_chain.hpp>
#include <hydra/protect/audit_verify.hpp>
#include <hydra/sink/memory_sink.hpp>

#include "test_util.hpp"

namespace {

using hydra::net::QueuedRecord;
using hydra::net::SendResult;

// Delivers the first `up_to` records, then is down.
class HalfTransport final : public hydra::net::Transport {
 public:
  explicit HalfTransport(std::size_t up_to) : left_(up_to) {}
  SendResult send(std::span<const QueuedRecord> batch) override {
    if (left_ < batch.size()) return SendResult::retry("connection refused");
    left_ -= batch.size();
    return SendResult::ok();
  }
  std::string describe() const override { return "half 127.0.0.1:9"; }

 private:
  std::size_t left_;
};

const std::string kKey = "0123456789abcdef0123456789abcdef";

TEST(FinalCounts, GoIntoTheAuditTrailWhenTheLoggerEnds) {
  hydra::test::TempDir dir;
  hydra::net::DeliveryOptions o;
  o.name = "half 127.0.0.1:9";
  o.linger = std::chrono::milliseconds(0);
  o.batch_max_records = 1;
  o.retry = {std::chrono::milliseconds(1), std::chrono::milliseconds(2)};
  auto network = std::make_shared<hydra::net::NetworkSink>(o, std::make_unique<HalfTransport>(7),
                                                           std::chrono::milliseconds(100),
                                                           std::chrono::milliseconds(50));
  hydra::protect::AuditChainOptions audit;
  audit.path = dir.file("audit.log");
  audit.key.value = kKey;
  hydra::LoggerConfig config;
  config.name = "shipper";
  config.layers["APP"].destinations = {hydra::to_sink(network, "json")};
  config.layers["AUDIT"].destinations = {hydra::protect::audit_file(audit)};
  {
    hydra::Logger log(config);
    for (int i = 0; i < 10; ++i) log.layer("APP").info("record {}", i);
    log.flush();
    while (network->counts().delivered < 7) std::this_thread::yield();
  }
  // The destination's counts after the logger ended: 7 delivered, the 3
  // others left at its shutdown (no spool).
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, 7u);
  EXPECT_EQ(counts.dropped_shutdown, 3u);
  EXPECT_TRUE(counts.balanced());

  const std::vector<std::string> files = {audit.path};
  const auto verified = hydra::protect::verify_audit_files(files, kKey);
  EXPECT_TRUE(verified.ok()) << verified.describe();
  std::vector<nlohmann::json> finals;
  for (const auto& line : hydra::test::split_lines(hydra::test::read_file(audit.path))) {
    const auto at = line.find('{');
    if (at == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line.substr(at), nullptr, false);
    if (!j.is_discarded() && j.value("message", "") == "hydra: destination final counts") {
      finals.push_back(j);
    }
  }
  ASSERT_EQ(finals.size(), 1u) << hydra::test::read_file(audit.path);
  const auto& f = finals[0];
  EXPECT_EQ(f["level"], "audit") << f;
  EXPECT_EQ(f["layer"], "AUDIT") << f;
  const auto& fields = f["fields"];
  EXPECT_EQ(fields["destination"], "half 127.0.0.1:9") << f;
  EXPECT_EQ(fields["submitted"], 10) << f;
  EXPECT_EQ(fields["delivered"], 7) << f;
  EXPECT_EQ(fields["dropped_shutdown"], 3) << f;
  EXPECT_EQ(fields["dropped"], 3) << f;
  EXPECT_EQ(fields["last_error"], "half 127.0.0.1:9: connection refused") << f;
}

// Without an audit trail nothing is written anywhere for it.
TEST(FinalCounts, WithoutAnAuditTrailNothingIsAdded) {
  auto memory = std::make_shared<hydra::MemorySink>();
  hydra::net::DeliveryOptions o;
  o.name = "half";
  auto network = std::make_shared<hydra::net::NetworkSink>(o, std::make_unique<HalfTransport>(100));
  hydra::LoggerConfig config;
  config.layers["APP"].destinations = {hydra::to_sink(network, "json"),
                                       hydra::to_sink(memory, "json")};
  {
    hydra::Logger log(config);
    log.layer("APP").info("one");
  }
  ASSERT_EQ(memory->lines().size(), 1u);
  EXPECT_EQ(network->counts().delivered, 1u);
}

}  // namespace
