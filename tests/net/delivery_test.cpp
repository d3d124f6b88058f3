// The delivery engine over a scripted transport (the protocols' own tests
// use real servers): order and batching, retries without loss, the
// dead-letter file, partial results, the spool taking over while the
// destination is down and being replayed by the next process, shutdown
// without a spool, the overflow count, and the accounting: every record
// submitted ends in exactly one counted state (DeliveryCounts::balanced).
// Threads meet on flush() and on the engine's counts, never on sleeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <hydra/net/delivery.hpp>
#include <hydra/net/network_sink.hpp>
#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using hydra::net::DeliveryCounts;
using hydra::net::DeliveryEngine;
using hydra::net::DeliveryOptions;
using hydra::net::QueuedRecord;
using hydra::net::SendResult;
using std::chrono::milliseconds;

// Answers each send from its script (then "delivered"), or "retryable"
// while down; keeps the records it delivered, in order.
class ScriptedTransport final : public hydra::net::Transport {
 public:
  using Step = std::function<SendResult(std::span<const QueuedRecord>)>;
  struct State {
    std::mutex mutex;
    std::deque<Step> script;
    std::vector<std::string> delivered;  // the records' bytes
    std::vector<std::string> keys;       // and their record_key()s
    std::vector<std::size_t> batch_sizes;
    std::atomic<bool> down{false};
  };
  explicit ScriptedTransport(std::shared_ptr<State> state) : state_(std::move(state)) {}
  SendResult send(std::span<const QueuedRecord> batch) override {
    if (state_->down) return SendResult::retry("connection refused");
    std::lock_guard lock(state_->mutex);
    state_->batch_sizes.push_back(batch.size());
    SendResult r = SendResult::ok();
    if (!state_->script.empty()) {
      r = state_->script.front()(batch);
      state_->script.pop_front();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const bool delivered = r.status == SendResult::Status::delivered ||
                             (r.status == SendResult::Status::partial && i < r.items.size() &&
                              r.items[i].outcome == SendResult::Item::Outcome::delivered);
      if (delivered) {
        state_->delivered.push_back(batch[i].bytes);
        state_->keys.push_back(hydra::net::record_key(batch[i]));
      }
    }
    return r;
  }
  std::string describe() const override { return "scripted"; }

 private:
  std::shared_ptr<State> state_;
};

std::string line(int i) {
  return "record " + std::to_string(i) + "\n";
}

std::vector<std::string> lines(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(line(i));
  return out;
}

DeliveryOptions fast_options() {
  DeliveryOptions o;
  o.name = "test";
  o.linger = milliseconds(0);
  o.retry = {milliseconds(1), milliseconds(2)};
  o.seed = 42;
  return o;
}

template <typename F>
void until(F done) {
  while (!done()) std::this_thread::yield();
}

void expect_balanced(const DeliveryCounts& c) {
  EXPECT_TRUE(c.balanced()) << "submitted " << c.submitted << " delivered " << c.delivered
                            << " dead " << c.dead_lettered << " spooled " << c.spooled
                            << " dropped " << c.dropped() << " queued " << c.queued;
}

class DeliveryTest : public ::testing::Test {
 protected:
  std::shared_ptr<ScriptedTransport::State> state_ = std::make_shared<ScriptedTransport::State>();
  std::unique_ptr<ScriptedTransport> transport() {
    return std::make_unique<ScriptedTransport>(state_);
  }
  std::vector<std::string> delivered() {
    std::lock_guard lock(state_->mutex);
    return state_->delivered;
  }
  hydra::test::TempDir dir_;
};

TEST_F(DeliveryTest, DeliversEverythingInOrderInBatches) {
  DeliveryOptions o = fast_options();
  o.batch_max_records = 64;
  DeliveryEngine engine(o, transport());
  for (int i = 0; i < 1000; ++i) engine.submit(line(i), i);
  ASSERT_TRUE(engine.flush(std::chrono::minutes(1)));
  EXPECT_EQ(delivered(), lines(0, 1000));
  for (const std::size_t n : state_->batch_sizes) EXPECT_LE(n, 64u);
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.delivered, 1000u);
  EXPECT_EQ(c.dropped(), 0u);
  expect_balanced(c);
}

TEST_F(DeliveryTest, RetryableErrorsAreRetriedWithoutLossOrDuplicates) {
  for (int i = 0; i < 3; ++i) {
    state_->script.push_back([](auto) { return SendResult::retry("HTTP 503"); });
  }
  DeliveryEngine engine(fast_options(), transport());
  for (int i = 0; i < 20; ++i) engine.submit(line(i), i);
  ASSERT_TRUE(engine.flush(std::chrono::minutes(1)));
  EXPECT_EQ(delivered(), lines(0, 20));
  EXPECT_EQ(engine.counts().retries, 3u);
  EXPECT_EQ(engine.last_error(), "scripted: HTTP 503");
  expect_balanced(engine.counts());
}

TEST_F(DeliveryTest, APermanentRejectionGoesToTheDeadLetterFileWithItsReason) {
  state_->script.push_back([](auto) { return SendResult::ok(); });
  state_->script.push_back([](auto) { return SendResult::reject("HTTP 400: bad \"json\""); });
  DeliveryOptions o = fast_options();
  o.batch_max_records = 1;
  o.dead_letter_path = dir_.file("dead.jsonl");
  DeliveryEngine engine(o, transport());
  for (int i = 0; i < 3; ++i) engine.submit(line(i), 100 + i);
  ASSERT_TRUE(engine.flush(std::chrono::minutes(1)));
  EXPECT_EQ(delivered(), (std::vector<std::string>{line(0), line(2)}));
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir_.file("dead.jsonl")));
  ASSERT_EQ(dead.size(), 1u);
  const auto j = nlohmann::json::parse(dead[0]);
  EXPECT_EQ(j["id"], 2);
  EXPECT_EQ(j["time_ns"], 101);
  EXPECT_EQ(j["destination"], "test");
  EXPECT_EQ(j["reason"], "HTTP 400: bad \"json\"");
  EXPECT_EQ(j["record"], line(1));
  EXPECT_EQ(engine.counts().dead_lettered, 1u);
  expect_balanced(engine.counts());
}

TEST_F(DeliveryTest, APartialResultSettlesEachRecordAndRetriesOnlyThoseToRetry) {
  state_->script.push_back([](std::span<const QueuedRecord> batch) {
    SendResult r;
    r.status = SendResult::Status::partial;
    using O = SendResult::Item::Outcome;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      r.items.push_back({i == 1   ? O::rejected
                         : i == 2 ? O::retry
                                  : O::delivered,
                         i == 1 ? "invalid event" : ""});
    }
    return r;
  });
  DeliveryOptions o = fast_options();
  o.batch_max_records = 4;
  o.linger = std::chrono::hours(1);  // the batch is the four records: it goes when full
  DeliveryEngine engine(o, transport());
  for (int i = 0; i < 4; ++i) engine.submit(line(i), i);
  ASSERT_TRUE(engine.flush(std::chrono::minutes(1)));
  // 0 and 3 at once, 2 on the retry; 1 rejected (no dead-letter file: dropped, counted).
  EXPECT_EQ(delivered(), (std::vector<std::string>{line(0), line(3), line(2)}));
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.delivered, 3u);
  EXPECT_EQ(c.dropped_rejected, 1u);
  EXPECT_EQ(c.retries, 1u);
  ASSERT_EQ(state_->batch_sizes.size(), 2u);
  EXPECT_EQ(state_->batch_sizes[1], 1u);  // only the one to retry went again
  expect_balanced(c);
}

TEST_F(DeliveryTest, WhileTheDestinationIsDownTheSpoolTakesOverAndTheNextProcessReplaysIt) {
  DeliveryOptions o = fast_options();
  o.spool = hydra::net::SpoolOptions{};
  o.spool->dir = dir_.path() / "spool";
  state_->down = true;
  {
    DeliveryEngine engine(o, transport());
    for (int i = 0; i < 50; ++i) engine.submit(line(i), i);
    until([&] { return engine.counts().spooled == 50; });
    EXPECT_FALSE(engine.flush(milliseconds(0)));  // nothing can go
    engine.shutdown(milliseconds(0));
    const DeliveryCounts c = engine.counts();
    EXPECT_EQ(c.spooled, 50u);
    EXPECT_EQ(c.delivered, 0u);
    EXPECT_EQ(c.dropped(), 0u);
    expect_balanced(c);
  }
  EXPECT_TRUE(delivered().empty());
  // The next process: the spool first, then its own records, in order.
  state_->down = false;
  DeliveryEngine engine(o, transport());
  EXPECT_EQ(engine.counts().spooled, 50u);
  for (int i = 50; i < 60; ++i) engine.submit(line(i), i);
  ASSERT_TRUE(engine.flush(std::chrono::minutes(1)));
  EXPECT_EQ(delivered(), lines(0, 60));
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.delivered, 60u);
  EXPECT_EQ(c.spooled, 0u);
  expect_balanced(c);
  // Replayed records keep the keys the first process gave them (its
  // instance, their sequence); the second process's have its own instance.
  std::vector<std::string> keys;
  {
    std::lock_guard lock(state_->mutex);
    keys = state_->keys;
  }
  ASSERT_EQ(keys.size(), 60u);
  const std::string first = keys[0].substr(0, 16);
  const std::string second = keys[50].substr(0, 16);
  EXPECT_NE(first, second);
  for (int i = 0; i < 60; ++i) {
    const std::string& instance = i < 50 ? first : second;
    EXPECT_EQ(keys[i], instance + "-" + std::to_string(i < 50 ? i + 1 : i - 49));
  }
}

// overflow = spool with the destination up: what the full queue handed to
// the spool is sent too (not left there until a failure or a restart), and
// everything is delivered, each record once.
TEST_F(DeliveryTest, UnderOverflowSpoolWhatTheQueueCouldNotHoldIsSentWhileTheDestinationIsUp) {
  DeliveryOptions o = fast_options();
  o.queue_max_bytes = 1024;
  o.overflow = hydra::net::Overflow::spool;
  o.spool = hydra::net::SpoolOptions{};
  o.spool->dir = dir_.path() / "spool";
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::atomic<bool> sending{false};
  // The first send waits for the gate: meanwhile the queue fills.
  state_->script.push_back([&](std::span<const QueuedRecord>) {
    sending = true;
    opened.wait();
    return SendResult::ok();
  });
  DeliveryEngine engine(o, transport());
  engine.submit(line(0), 0);
  until([&] { return sending.load(); });
  for (int i = 1; i < 300; ++i) engine.submit(line(i), i);
  EXPECT_GT(engine.counts().spooled, 0u);  // the queue holds about 1 KiB
  gate.set_value();
  ASSERT_TRUE(engine.flush(std::chrono::minutes(1)));
  std::vector<std::string> got = delivered();
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = lines(0, 300);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.delivered, 300u);
  EXPECT_EQ(c.spooled, 0u);
  expect_balanced(c);
}

TEST(RecordKey, IsTheInstanceInHexAndTheSequence) {
  QueuedRecord r;
  r.id = 1042;
  r.instance = 0x9f3c0a51d2e47b86;
  EXPECT_EQ(hydra::net::record_key(r), "9f3c0a51d2e47b86-1042");
  r.instance = 1;
  r.id = UINT64_MAX;
  EXPECT_EQ(hydra::net::record_key(r), "0000000000000001-18446744073709551615");
}

TEST_F(DeliveryTest, WithoutASpoolWhatShutdownCannotSendIsCountedNotLostSilently) {
  state_->down = true;
  DeliveryEngine engine(fast_options(), transport());
  for (int i = 0; i < 10; ++i) engine.submit(line(i), i);
  until([&] { return engine.counts().retries > 0; });  // the first send failed
  engine.shutdown(milliseconds(0));
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.dropped_shutdown, 10u);
  EXPECT_EQ(c.delivered, 0u);
  expect_balanced(c);
  engine.submit(line(10), 10);  // after shutdown: counted too
  EXPECT_EQ(engine.counts().dropped_shutdown, 11u);
  expect_balanced(engine.counts());
}

TEST_F(DeliveryTest, AFullQueueDropsAndCountsUnderDropNewest) {
  state_->down = true;
  DeliveryOptions o = fast_options();
  o.queue_max_bytes = 100;
  o.batch_max_records = 1;
  DeliveryEngine engine(o, transport());
  for (int i = 0; i < 30; ++i) engine.submit(line(i), i);  // 9 bytes each
  const DeliveryCounts before = engine.counts();
  EXPECT_GT(before.dropped_queue_full, 0u);
  engine.shutdown(milliseconds(0));
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.dropped_queue_full + c.dropped_shutdown, 30u);
  expect_balanced(c);
}

TEST_F(DeliveryTest, RetryMaxElapsedGivesUpWithItsOwnCount) {
  state_->down = true;
  DeliveryOptions o = fast_options();
  o.retry_max_elapsed = milliseconds(1);
  DeliveryEngine engine(o, transport());
  for (int i = 0; i < 5; ++i) engine.submit(line(i), i);
  until([&] { return engine.counts().dropped_retry_elapsed == 5; });
  expect_balanced(engine.counts());
}

// The sink's flush() is called on the application's threads (a record at
// flush_level): it never waits on a destination that is down. (Were it to
// wait, the hour-long flush_timeout would hang this test.)
TEST_F(DeliveryTest, TheSinkDoesNotWaitOnADeadDestination) {
  state_->down = true;
  hydra::net::NetworkSink sink(fast_options(), transport(), std::chrono::hours(1), milliseconds(0));
  hydra::Record r;
  sink.write(r, line(0));
  until([&] { return sink.engine().failing(); });
  sink.flush();
  EXPECT_EQ(sink.counts().delivered, 0u);
  state_->down = false;  // back: flush waits for the delivery now
  until([&] { return !sink.engine().failing(); });
  sink.write(r, line(1));
  sink.flush();
  EXPECT_EQ(sink.counts().delivered, 2u);
  EXPECT_EQ(delivered(), lines(0, 2));
}

// Several senders (`senders`): each has a transport of its own, and they
// send side by side. Each send here waits until three are in progress at
// once (a meeting; given up after a minute, which the test would see as a
// rejection): it passes only if three senders send together. Every record
// is then delivered exactly once.
TEST_F(DeliveryTest, SeveralSendersSendSideBySideEachRecordOnce) {
  struct Meeting {
    std::mutex mutex;
    std::condition_variable met;
    int inside = 0;
    int most_inside = 0;
    bool reached = false;
    std::vector<std::string> delivered;
  };
  class MeetingTransport final : public hydra::net::Transport {
   public:
    explicit MeetingTransport(Meeting& m) : m_(m) {}
    SendResult send(std::span<const QueuedRecord> batch) override {
      std::unique_lock lock(m_.mutex);
      m_.most_inside = std::max(m_.most_inside, ++m_.inside);
      if (m_.inside >= 3) m_.reached = true;
      m_.met.notify_all();
      const bool met = m_.met.wait_for(lock, std::chrono::minutes(1), [&] { return m_.reached; });
      --m_.inside;
      if (!met) return SendResult::reject("the senders never met");
      for (const auto& r : batch) m_.delivered.push_back(r.bytes);
      return SendResult::ok();
    }
    std::string describe() const override { return "meeting"; }

   private:
    Meeting& m_;
  };
  Meeting meeting;
  int made = 0;
  DeliveryOptions o = fast_options();
  o.senders = 3;
  o.batch_max_records = 50;
  DeliveryEngine engine(o, [&] {
    ++made;
    return std::make_unique<MeetingTransport>(meeting);
  });
  EXPECT_EQ(made, 3);
  const int n = 3000;
  for (int i = 0; i < n; ++i) engine.submit(line(i), i);
  ASSERT_TRUE(engine.flush(std::chrono::minutes(2)));
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.delivered, static_cast<std::uint64_t>(n));
  EXPECT_EQ(c.dead_lettered + c.dropped(), 0u);
  expect_balanced(c);
  std::lock_guard lock(meeting.mutex);
  EXPECT_EQ(meeting.most_inside, 3);
  std::vector<std::string> got = meeting.delivered;
  std::vector<std::string> want = lines(0, n);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);  // each once, in whatever order
}

// With several senders and a spool, a destination that is down: whichever
// sender fails hands its batch to the spool, the first sender alone
// replays it, and when the destination is back every record is delivered
// exactly once.
TEST_F(DeliveryTest, SeveralSendersWithASpoolLoseNothingWhileTheDestinationIsDown) {
  state_->down = true;
  DeliveryOptions o = fast_options();
  o.senders = 3;
  o.batch_max_records = 20;
  o.spool = hydra::net::SpoolOptions{};
  o.spool->dir = dir_.path() / "spool";
  DeliveryEngine engine(o, [&] { return transport(); });
  const int n = 600;
  for (int i = 0; i < n; ++i) engine.submit(line(i), i);
  until([&] { return engine.counts().spooled == static_cast<std::uint64_t>(n); });
  EXPECT_EQ(engine.counts().delivered, 0u);
  state_->down = false;
  ASSERT_TRUE(engine.flush(std::chrono::minutes(2)));
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.delivered, static_cast<std::uint64_t>(n));
  EXPECT_EQ(c.spooled, 0u);
  expect_balanced(c);
  std::vector<std::string> got = delivered();
  std::vector<std::string> want = lines(0, n);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

// Shutting down while the destination is down, without a spool: every
// sender stops at the deadline, and what none delivered is counted.
TEST_F(DeliveryTest, SeveralSendersStopAtShutdownAndCountWhatIsLeft) {
  state_->down = true;
  DeliveryOptions o = fast_options();
  o.senders = 4;
  o.batch_max_records = 5;
  DeliveryEngine engine(o, [&] { return transport(); });
  for (int i = 0; i < 100; ++i) engine.submit(line(i), i);
  until([&] { return engine.counts().retries >= 4; });
  engine.shutdown(milliseconds(20));
  const DeliveryCounts c = engine.counts();
  EXPECT_EQ(c.dropped_shutdown, 100u);
  EXPECT_EQ(c.queued, 0u);
  expect_balanced(c);
}

// A transport is one sender's: more senders need a factory, and their
// number is 1 to 64.
TEST_F(DeliveryTest, SendersNeedATransportEachAndABoundedNumber) {
  DeliveryOptions o = fast_options();
  o.name = "otlp http://collector";
  o.senders = 2;
  try {
    DeliveryEngine engine(o, transport());
    ADD_FAILURE() << "two senders on one transport";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "delivery engine 'otlp http://collector': senders = 2 needs a transport for "
                 "each (a TransportFactory)");
  }
  for (std::size_t bad : {std::size_t{0}, std::size_t{65}}) {
    o.senders = bad;
    try {
      DeliveryEngine engine(o, [&] { return transport(); });
      ADD_FAILURE() << "senders = " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), "delivery engine 'otlp http://collector': senders = " +
                                           std::to_string(bad) + " is not 1 to 64");
    }
  }
}

}  // namespace
