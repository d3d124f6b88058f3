// A destination down for a long time while the application logs at full
// speed: the process's resident memory stays within the queue's bound (plus
// a margin for the allocator), whatever the volume; what does not fit is
// counted (dropped, by reason) or spooled up to the spool's cap, and the
// counts balance. About 200 MB of records go through each case.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <hydra/net/delivery.hpp>

#include "test_util.hpp"

namespace {

using hydra::net::DeliveryEngine;
using hydra::net::DeliveryOptions;
using hydra::net::QueuedRecord;
using hydra::net::SendResult;

class DownTransport final : public hydra::net::Transport {
 public:
  SendResult send(std::span<const QueuedRecord>) override {
    return SendResult::retry("connection refused");
  }
  std::string describe() const override { return "down"; }
};

// Under AddressSanitizer freed memory waits in its quarantine (256 MiB by
// default) before it is reused, so resident memory says nothing about the
// queue's bound there: the ASan suite checks the counts, the plain suite
// the memory too.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMeasureMemory = false;
#else
constexpr bool kMeasureMemory = true;
#endif

// VmRSS of this process, in bytes.
std::uint64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::uint64_t kib = 0;
      status >> kib;
      return kib << 10;
    }
    std::getline(status, key);
  }
  return 0;
}

constexpr std::size_t kQueueBytes = std::size_t{4} << 20;
constexpr int kRecords = 1'000'000;
const std::string kRecord(200, 'r');

DeliveryOptions down_options() {
  DeliveryOptions o;
  o.name = "outage";
  o.queue_max_bytes = kQueueBytes;
  o.retry = {std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
  return o;
}

void flood(DeliveryEngine& engine) {
  for (int i = 0; i < kRecords; ++i) engine.submit(kRecord, i);
}

TEST(Outage, MemoryStaysWithinTheQueueBoundAndTheDropsAreCounted) {
  for (const auto overflow :
       {hydra::net::Overflow::drop_newest, hydra::net::Overflow::drop_oldest}) {
    DeliveryOptions o = down_options();
    o.overflow = overflow;
    DeliveryEngine engine(o, std::make_unique<DownTransport>());
    const std::uint64_t before = resident_bytes();
    flood(engine);
    const std::uint64_t growth = resident_bytes() - std::min(before, resident_bytes());
    const auto c = engine.counts();
    // 200 MB went in; the queue holds at most 4 MiB of records (each with
    // its bookkeeping): well under 32 MiB of growth.
    if (kMeasureMemory) {
      EXPECT_LT(growth, std::uint64_t{32} << 20) << "grew " << (growth >> 20) << " MiB";
    }
    EXPECT_LE(c.queue_bytes, kQueueBytes);
    EXPECT_EQ(c.submitted, static_cast<std::uint64_t>(kRecords));
    EXPECT_EQ(c.delivered, 0u);
    EXPECT_GT(c.dropped(), static_cast<std::uint64_t>(kRecords) * 9 / 10);
    if (overflow == hydra::net::Overflow::drop_newest) {
      EXPECT_EQ(c.dropped_queue_full, c.dropped());
    } else {
      EXPECT_EQ(c.dropped_oldest, c.dropped());
    }
    EXPECT_TRUE(c.balanced());
    engine.shutdown(std::chrono::milliseconds(0));
    const auto after = engine.counts();
    EXPECT_EQ(after.queued, 0u);
    EXPECT_EQ(after.dropped_shutdown, c.queued);  // what was left: counted, not lost silently
    EXPECT_TRUE(after.balanced());
  }
}

TEST(Outage, WithASpoolTheDiskTakesTheRestUpToItsCapAndMemoryStaysBounded) {
  hydra::test::TempDir dir;
  DeliveryOptions o = down_options();
  o.overflow = hydra::net::Overflow::spool;
  o.spool = hydra::net::SpoolOptions{};
  o.spool->dir = dir.path() / "spool";
  o.spool->max_bytes = std::uint64_t{64} << 20;
  o.spool->segment_bytes = std::uint64_t{8} << 20;
  DeliveryEngine engine(o, std::make_unique<DownTransport>());
  const std::uint64_t before = resident_bytes();
  flood(engine);
  const std::uint64_t growth = resident_bytes() - std::min(before, resident_bytes());
  const auto c = engine.counts();
  if (kMeasureMemory) {
    EXPECT_LT(growth, std::uint64_t{32} << 20) << "grew " << (growth >> 20) << " MiB";
  }
  // The spool took what fits under its cap, and the rest is counted.
  // More than half of what the cap holds (a record costs 36 bytes besides
  // its payload on disk).
  EXPECT_GT(c.spooled, o.spool->max_bytes / (kRecord.size() + 36) / 2);
  EXPECT_GT(c.dropped_spool_full, 0u);
  EXPECT_EQ(c.delivered, 0u);
  EXPECT_TRUE(c.balanced());
  std::uint64_t on_disk = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "spool")) {
    if (e.path().extension() == ".hspool") on_disk += e.file_size();
  }
  EXPECT_LE(on_disk, o.spool->max_bytes);
}

}  // namespace
