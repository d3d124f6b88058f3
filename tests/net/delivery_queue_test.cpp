// The queue in front of a network destination's sender: bounded in bytes,
// each overflow policy with its count, batches by records, bytes and
// linger, records put back in order, close. Threads meet on the queue's own
// state (its counts), never on sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <hydra/net/delivery_queue.hpp>

namespace {

using hydra::net::DeliveryQueue;
using hydra::net::Overflow;
using hydra::net::QueuedRecord;
using Push = DeliveryQueue::Push;
using std::chrono::milliseconds;

QueuedRecord record(std::uint64_t id, std::size_t size = 10) {
  return {id, static_cast<std::int64_t>(1000 + id),
          std::string(size, static_cast<char>('a' + id % 26))};
}

std::vector<std::uint64_t> ids(const std::vector<QueuedRecord>& batch) {
  std::vector<std::uint64_t> out;
  for (const auto& r : batch) out.push_back(r.id);
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = from; i < to; ++i) out.push_back(i);
  return out;
}

// Waits (yielding) until `done()`: the other thread's progress, seen in the
// queue's counts.
template <typename F>
void until(F done) {
  while (!done()) std::this_thread::yield();
}

TEST(DeliveryQueue, DropNewestTurnsAwayWhatDoesNotFitAndCountsIt) {
  DeliveryQueue q(100, Overflow::drop_newest);
  for (std::uint64_t i = 0; i < 15; ++i) {
    EXPECT_EQ(q.push(record(i)), i < 10 ? Push::queued : Push::dropped) << i;
  }
  auto c = q.counts();
  EXPECT_EQ(c.queued, 10u);
  EXPECT_EQ(c.dropped_newest, 5u);
  EXPECT_EQ(c.records, 10u);
  EXPECT_EQ(c.bytes, 100u);
  EXPECT_EQ(c.oldest_time_ns, 1000);
  EXPECT_EQ(ids(q.take(100, 1 << 20, milliseconds(0))), range(0, 10));
  EXPECT_EQ(q.counts().bytes, 0u);
}

TEST(DeliveryQueue, DropOldestMakesRoomAndCountsWhatItPushedOut) {
  DeliveryQueue q(100, Overflow::drop_oldest);
  for (std::uint64_t i = 0; i < 15; ++i) EXPECT_EQ(q.push(record(i)), Push::queued);
  EXPECT_EQ(q.counts().dropped_oldest, 5u);
  EXPECT_EQ(q.counts().oldest_time_ns, 1005);
  EXPECT_EQ(ids(q.take(100, 1 << 20, milliseconds(0))), range(5, 15));
}

TEST(DeliveryQueue, SpoolHandsOverWhatDoesNotFit) {
  DeliveryQueue q(100, Overflow::spool);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(q.push(record(i)), Push::queued);
  EXPECT_EQ(q.push(record(10)), Push::full);
  EXPECT_EQ(q.push(record(11, 500)), Push::full);  // larger than the queue: the spool takes it too
  EXPECT_EQ(q.counts().handed_to_spool, 2u);
  EXPECT_EQ(q.counts().dropped_oversize, 0u);
}

TEST(DeliveryQueue, ARecordLargerThanTheQueueIsTurnedAway) {
  for (const Overflow o : {Overflow::block, Overflow::drop_newest, Overflow::drop_oldest}) {
    DeliveryQueue q(100, o);
    ASSERT_EQ(q.push(record(0)), Push::queued);
    EXPECT_EQ(q.push(record(1, 101)), Push::dropped);  // never fits: blocking would be forever
    EXPECT_EQ(q.counts().dropped_oversize, 1u);
    EXPECT_EQ(q.counts().records, 1u);  // and it pushed nothing out
  }
}

TEST(DeliveryQueue, BlockWaitsForRoomAndLosesNothing) {
  DeliveryQueue q(100, Overflow::block);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < 40; ++i) ASSERT_EQ(q.push(record(i)), Push::queued);
  });
  until([&] { return q.counts().blocked > 0; });  // the 11th waits for room
  EXPECT_EQ(q.counts().records, 10u);
  std::vector<std::uint64_t> seen;
  while (seen.size() < 40) {
    for (const auto& r : q.take(3, 1 << 20, milliseconds(0))) seen.push_back(r.id);
  }
  producer.join();
  EXPECT_EQ(seen, range(0, 40));
  EXPECT_EQ(q.counts().queued, 40u);
  EXPECT_EQ(q.counts().dropped_newest + q.counts().dropped_oldest, 0u);
}

TEST(DeliveryQueue, ABlockedDestinationBlocksOnlyItsOwnCallers) {
  DeliveryQueue dead(20, Overflow::block);
  DeliveryQueue alive(20, Overflow::block);
  ASSERT_EQ(dead.push(record(0)), Push::queued);
  ASSERT_EQ(dead.push(record(1)), Push::queued);
  std::atomic<int> result{-1};
  std::thread stuck([&] { result = static_cast<int>(dead.push(record(2))); });
  until([&] { return dead.counts().blocked > 0; });
  for (std::uint64_t i = 0; i < 100; ++i) {  // the other destination goes on
    ASSERT_EQ(alive.push(record(i)), Push::queued);
    ASSERT_EQ(alive.take(1, 1 << 20, milliseconds(0)).size(), 1u);
  }
  EXPECT_EQ(result.load(), -1);  // still waiting
  dead.close();                  // shutdown releases it
  stuck.join();
  EXPECT_EQ(result.load(), static_cast<int>(Push::closed));
}

TEST(DeliveryQueue, BatchesByRecordsAndBytesWithAtLeastOneRecord) {
  DeliveryQueue q(1000, Overflow::drop_newest);
  for (std::uint64_t i = 0; i < 6; ++i) ASSERT_EQ(q.push(record(i)), Push::queued);
  EXPECT_EQ(ids(q.take(3, 1 << 20, milliseconds(0))), range(0, 3));
  EXPECT_EQ(ids(q.take(100, 25, milliseconds(0))), range(3, 5));  // 20 bytes; a third makes 30
  ASSERT_EQ(q.push(record(6, 200)), Push::queued);
  EXPECT_EQ(ids(q.take(100, 5, milliseconds(0))), range(5, 6));  // one, though over 5 bytes
  EXPECT_EQ(ids(q.take(100, 5, milliseconds(0))), range(6, 7));
}

TEST(DeliveryQueue, LingerEndsWhenTheBatchIsFullOnFlushAndOnClose) {
  DeliveryQueue q(1000, Overflow::drop_newest);
  const milliseconds hour = std::chrono::hours(1);  // never reached: each wait is ended
  std::vector<QueuedRecord> got;
  std::thread sender([&] { got = q.take(3, 1 << 20, hour); });
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(q.push(record(i)), Push::queued);
  sender.join();  // the batch filled
  EXPECT_EQ(ids(got), range(0, 3));

  ASSERT_EQ(q.push(record(3)), Push::queued);
  sender = std::thread([&] { got = q.take(100, 1 << 20, hour); });
  q.request_flush();
  sender.join();
  EXPECT_EQ(ids(got), range(3, 4));

  ASSERT_EQ(q.push(record(4)), Push::queued);
  sender = std::thread([&] { got = q.take(100, 1 << 20, hour); });
  q.close();
  sender.join();
  EXPECT_EQ(ids(got), range(4, 5));
  EXPECT_TRUE(q.take(100, 1 << 20, hour).empty());  // closed and empty: at once
  EXPECT_EQ(q.push(record(5)), Push::closed);
}

TEST(DeliveryQueue, RecordsPutBackGoOutFirstInTheirOrder) {
  DeliveryQueue q(100, Overflow::drop_newest);
  for (std::uint64_t i = 0; i < 6; ++i) ASSERT_EQ(q.push(record(i)), Push::queued);
  auto batch = q.take(4, 1 << 20, milliseconds(0));
  ASSERT_EQ(q.push(record(6)), Push::queued);
  q.put_back(std::move(batch));  // the send failed: they go again, first
  EXPECT_EQ(q.counts().bytes, 70u);
  EXPECT_EQ(ids(q.take(100, 1 << 20, milliseconds(0))), range(0, 7));
}

}  // namespace
