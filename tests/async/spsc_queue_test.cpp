// The queue's page population: a queue allocated untouched and populated by
// the consumer while its producer writes must read back exactly what was
// written; a kernel without populate must be reported, not papered over.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <hydra/async/detail/spsc_queue.hpp>
#include <thread>
#include <vector>

namespace {

using hydra::detail::kPageSize;
using hydra::detail::SpscQueue;

// Makes populate_pages act as on an old kernel for one test.
struct PopulateUnsupported {
  PopulateUnsupported() { hydra::detail::set_populate_unsupported_for_test(true); }
  ~PopulateUnsupported() { hydra::detail::set_populate_unsupported_for_test(false); }
  PopulateUnsupported(const PopulateUnsupported&) = delete;
  PopulateUnsupported& operator=(const PopulateUnsupported&) = delete;
};

bool kernel_can_populate() {
  SpscQueue probe(kPageSize, /*prefault=*/false);
  return probe.populate_next(kPageSize);
}

// Record i: its size (8..248 bytes, varying) then bytes derived from i.
std::uint32_t record_size(std::uint32_t i) {
  return 8 + 8 * (i % 31);
}
std::byte pattern(std::uint32_t i, std::size_t at) {
  return static_cast<std::byte>((i * 131 + at * 7) & 0xff);
}

TEST(AsyncQueue, PopulatedWhileWrittenReadsBackWhatWasWritten) {
  if (!kernel_can_populate()) GTEST_SKIP() << "no MADV_POPULATE_WRITE on this kernel";
  constexpr std::uint32_t kRecords = 200'000;  // several laps of the ring
  SpscQueue queue(std::size_t{1} << 20, /*prefault=*/false);
  std::thread producer([&] {
    SpscQueue::Writer w(queue);
    for (std::uint32_t i = 0; i < kRecords; ++i) {
      const std::uint32_t size = record_size(i);
      std::byte* out = nullptr;
      while ((out = w.prepare(size)) == nullptr) std::this_thread::yield();
      std::memcpy(out, &size, sizeof(size));
      for (std::size_t at = sizeof(size); at < size; ++at) out[at] = pattern(i, at);
      w.commit(size);
    }
  });
  // The consumer faults the ring in a slice at a time, between reads, as
  // the async backend does: ahead of the producer or behind it.
  std::uint32_t next = 0;
  while (next < kRecords) {
    if (!queue.populated()) {
      ASSERT_TRUE(queue.populate_next(16 * 1024));
    }
    for (int n = 0; n < 64 && next < kRecords; ++n) {
      std::byte* p = queue.peek();
      if (p == nullptr) {
        std::this_thread::yield();
        break;
      }
      std::uint32_t size = 0;
      std::memcpy(&size, p, sizeof(size));
      ASSERT_EQ(size, record_size(next));
      for (std::size_t at = sizeof(size); at < size; ++at) {
        ASSERT_EQ(p[at], pattern(next, at)) << "record " << next << " byte " << at;
      }
      queue.release(size);
      ++next;
    }
    queue.publish_release();
  }
  producer.join();
  EXPECT_EQ(queue.peek(), nullptr);
  EXPECT_TRUE(queue.populated());
}

TEST(AsyncQueue, PopulateFaultsInTheWholeRing) {
  if (!kernel_can_populate()) GTEST_SKIP() << "no MADV_POPULATE_WRITE on this kernel";
  constexpr std::size_t kCapacity = std::size_t{256} * 1024;
  SpscQueue queue(kCapacity, /*prefault=*/false);
  std::size_t steps = 0;
  while (!queue.populated()) {
    ASSERT_TRUE(queue.populate_next(64 * 1024));
    ++steps;
  }
  EXPECT_EQ(steps, kCapacity / (64 * 1024));
  // Every page is resident now, none of it written.
  const SpscQueue::Writer w(queue);
  std::vector<unsigned char> resident(kCapacity / kPageSize);
  ASSERT_EQ(::mincore(w.buffer, kCapacity, resident.data()), 0);
  for (std::size_t i = 0; i < resident.size(); ++i) EXPECT_NE(resident[i] & 1, 0) << "page " << i;
}

TEST(AsyncQueue, PopulateSkipsWhatTheProducerHasWrittenPast) {
  if (!kernel_can_populate()) GTEST_SKIP() << "no MADV_POPULATE_WRITE on this kernel";
  SpscQueue queue(std::size_t{64} * 1024, /*prefault=*/false);
  SpscQueue::Writer w(queue);
  const std::size_t past_first_lap = 2 * queue.capacity();
  for (std::size_t written = 0; written < past_first_lap; written += 256) {
    std::byte* out = w.prepare(256);
    ASSERT_NE(out, nullptr);
    const std::uint32_t size = 256;
    std::memcpy(out, &size, sizeof(size));
    w.commit(256);
    while (queue.peek() != nullptr) queue.release(256);
    queue.publish_release();
  }
  // One step, however small: the producer touched every page already.
  ASSERT_TRUE(queue.populate_next(kPageSize));
  EXPECT_TRUE(queue.populated());
}

TEST(AsyncQueue, UnsupportedPopulateIsReportedAndChangesNothing) {
  PopulateUnsupported old_kernel;
  SpscQueue queue(std::size_t{64} * 1024, /*prefault=*/false);
  EXPECT_FALSE(queue.populate_next(kPageSize));
  EXPECT_FALSE(queue.populated());
  queue.prefault_all();  // the fallback: before the queue is shared
  EXPECT_TRUE(queue.populated());
}

}  // namespace
