#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <hydra/async/detail/spsc_queue.hpp>
#include <hydra/hydra.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/recording_sink.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::OverflowPolicy;
using hydra::test::RecordingSink;

LoggerConfig async_config(std::shared_ptr<hydra::Sink> sink, hydra::AsyncOptions options = {}) {
  LoggerConfig cfg;
  cfg.name = "async";
  cfg.mode = hydra::LoggerMode::async;
  cfg.async = options;
  cfg.default_level = Level::trace;
  cfg.layers["DEFAULT"].destinations = {hydra::to_sink(std::move(sink))};
  return cfg;
}

// Waits (bounded) for a condition that another thread makes true.
template <typename Pred>
bool eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Options for a queue that a few dozen records fill.
hydra::AsyncOptions small_queue(OverflowPolicy policy) {
  hydra::AsyncOptions o;
  o.queue_capacity = 4096;
  o.overflow = policy;
  return o;
}

// Logs `first`, waits until it is written (the backend is running), then
// holds the backend so that what is logged next stays queued.
void write_then_hold_backend(hydra::Logger& log, const std::string& first) {
  log.info("{}", first);
  log.flush();
  hydra::detail::pause_backend_for_test(log, true);
}

// N threads x M records: exactly N x M lines, each thread's in order, all
// merged in timestamp order; the metrics count every record in and out.
// The metrics go to `*metrics` when given.
void many_threads(const hydra::AsyncOptions& options, hydra::AsyncMetrics* metrics = nullptr) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("async.jsonl");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  LoggerConfig cfg;
  cfg.mode = hydra::LoggerMode::async;
  cfg.async = options;
  cfg.layers["APP"].destinations = {hydra::file(path, "json")};
  hydra::Logger log(cfg);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kPerThread; ++i) log.info("thread {t} record {i}", t, i);
    });
  }
  for (auto& th : threads) th.join();
  log.flush();  // the barrier: everything logged before it is written
  auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  std::string previous_time;
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line);
    const int t = j["fields"]["t"];
    const int i = j["fields"]["i"];
    ASSERT_EQ(i, next[t]) << "per-thread order broken";
    ++next[t];
    const std::string time = j["timestamp"];
    EXPECT_LE(previous_time, time) << "not merged in timestamp order";
    previous_time = time;
  }
  const auto m = log.metrics().async;
  EXPECT_TRUE(m.enabled);
  EXPECT_EQ(m.records_out, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(m.dropped_full, 0u);
  // Every call is counted in, whether queued or written by its caller.
  EXPECT_EQ(m.records_in, static_cast<std::uint64_t>(kThreads * kPerThread));
  // (Exited threads' queues may be forgotten by now; their counts are not.)
  EXPECT_LE(m.threads.size(), static_cast<std::size_t>(kThreads));
  for (const auto& t : m.threads) EXPECT_LE(t.records_in, static_cast<std::uint64_t>(kPerThread));
  if (metrics != nullptr) *metrics = m;
}

TEST(Async, ManyThreadsExactCountAndPerThreadOrder) {
  hydra::AsyncOptions o;
  o.queue_capacity = 16 * 1024;  // small: the block policy gets exercised too
  many_threads(o);
}

// The same while every thread's queue grows several times: a record in
// flight is marked on whichever queue is being written.
TEST(Async, ManyThreadsWhileQueuesGrow) {
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  o.grow_limit = std::size_t{64} * 1024 * 1024;
  many_threads(o);
}

// The same with callers writing synchronously whenever their 4 KiB queue is
// full: each waits for older records other threads are still writing.
TEST(Async, ManyThreadsWritingSynchronouslyWhenFull) {
  hydra::AsyncMetrics m;
  many_threads(small_queue(OverflowPolicy::sync_fallback), &m);
  // Four threads and 80,000 records against 4 KiB queues (about 50 records
  // each): over a thousand callers wrote themselves in every run seen.
  EXPECT_GT(m.sync_writes, 0u);
}

// And past a grow limit, where the callers fall back to writing themselves.
TEST(Async, ManyThreadsPastTheGrowLimit) {
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  o.grow_limit = std::size_t{512} * 1024;
  many_threads(o);
}

TEST(Async, FieldsContextAndSourceTravelThroughTheQueue) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  std::uint64_t my_tid = 0;
  {
    hydra::ScopedContext ctx({{"request_id", "r-9"}, {"attempt", 2}});
    std::string temporary = "short-lived";
    log.with({{"amount", 12.5}, {"ok", true}})
        .info("user {user} paid {n} {what}", temporary, 3, std::string_view("EUR"));
    temporary.assign("overwritten");  // the queued copy must not change
    my_tid = 1;
  }
  log.info("after scope");
  const int line = __LINE__ - 1;
  log.flush();
  auto recs = sink->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "user short-lived paid 3 EUR");
  std::vector<std::string> keys;
  for (const auto& [k, v] : recs[0].fields) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"user", "n", "what", "amount", "ok", "request_id",
                                            "attempt"}));
  EXPECT_EQ(recs[0].field("amount"), "12.5");
  EXPECT_EQ(recs[0].field("request_id"), "r-9");
  EXPECT_TRUE(recs[1].fields.empty()) << "context must end with its scope";
  EXPECT_EQ(recs[1].line, static_cast<std::uint32_t>(line));
  EXPECT_NE(recs[1].file.find("async_test.cpp"), std::string::npos);
  EXPECT_EQ(recs[0].thread_id, recs[1].thread_id);
  EXPECT_NE(recs[0].thread_id, 0u);
  (void)my_tid;
}

struct Point {
  int x, y;
};
struct Opaque {
  int v;
};

}  // namespace

template <>
struct fmt::formatter<Point> : fmt::formatter<std::string_view> {
  auto format(const Point& p, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(fmt::format("({}, {})", p.x, p.y), ctx);
  }
};
template <>
struct fmt::formatter<Opaque> : fmt::formatter<std::string_view> {
  auto format(const Opaque& o, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "opaque-{}", o.v);
  }
};

// Point travels as bytes and is formatted on the backend.
template <>
struct hydra::Codec<Point> {
  using decoded_type = Point;
  static std::size_t encoded_size(const Point&) { return sizeof(Point); }
  static void encode(std::byte* out, const Point& p) { std::memcpy(out, &p, sizeof p); }
  static Point decode(const std::byte* in) {
    Point p{};
    std::memcpy(&p, in, sizeof p);
    return p;
  }
};

namespace {

static_assert(hydra::detail::kQueueable<Point>);
static_assert(!hydra::detail::kQueueable<Opaque>);
static_assert(hydra::detail::kQueueable<std::string>);
static_assert(hydra::detail::kQueueable<const char*>);

TEST(Async, UserTypesByCodecOrFormattedOnTheCaller) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  log.info("at {pos} with {thing}", Point{1, 2}, Opaque{7});
  log.info("codec only {:>10}", Point{3, 4});
  log.flush();
  auto recs = sink->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "at (1, 2) with opaque-7");
  EXPECT_EQ(recs[0].field("pos"), "(1, 2)");
  EXPECT_EQ(recs[0].field("thing"), "opaque-7");
  EXPECT_EQ(recs[1].message, "codec only     (3, 4)");
}

TEST(Async, DropCountsAndReportsInBand) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::drop);
  hydra::Logger log(async_config(sink, o));
  write_then_hold_backend(log, "start");  // the queue fills while the backend is held
  constexpr int kRecords = 1000;
  for (int i = 0; i < kRecords; ++i) log.info("record {}", i);
  const auto dropped = log.metrics().async.dropped_full;
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(dropped, static_cast<std::uint64_t>(kRecords));
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();                  // the backend drains: space returns
  log.info("after the storm");  // the notice goes first
  log.flush();
  auto recs = sink->records();
  // start + kept records + notice + after
  ASSERT_EQ(recs.size(), 1 + (kRecords - dropped) + 1 + 1);
  const auto& notice = recs[recs.size() - 2];
  EXPECT_EQ(notice.level, Level::warning);
  EXPECT_NE(notice.message.find(std::to_string(dropped) + " records dropped"), std::string::npos)
      << notice.message;
  EXPECT_EQ(notice.field("dropped"), std::to_string(dropped));
  EXPECT_EQ(recs.back().message, "after the storm");
  // The records that were kept are the first ones, in order.
  for (std::size_t i = 1; i + 2 < recs.size(); ++i) {
    EXPECT_EQ(recs[i].message, "record " + std::to_string(i - 1));
  }
}

TEST(Async, DropsAreReportedPerLayer) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::drop);
  hydra::Logger log(async_config(sink, o));
  write_then_hold_backend(log, "start");
  auto db = log.layer("DATABASE");
  auto cache = log.layer("CACHE");
  for (int i = 0; i < 500; ++i) {
    db.info("db {}", i);
    cache.info("cache {}", i);
  }
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  log.info("after");
  log.flush();
  std::map<std::string, std::uint64_t> kept, reported;
  for (const auto& r : sink->records()) {
    if (r.message.find("records dropped") != std::string::npos ||
        r.message.find("record dropped") != std::string::npos) {
      reported[r.layer] += std::stoull(r.field("dropped"));
    } else {
      ++kept[r.layer];
    }
  }
  EXPECT_EQ(reported["DATABASE"] + kept["DATABASE"], 500u);
  EXPECT_EQ(reported["CACHE"] + kept["CACHE"], 500u);
  EXPECT_GT(reported["DATABASE"], 0u);
  EXPECT_GT(reported["CACHE"], 0u);
  EXPECT_EQ(reported["DATABASE"] + reported["CACHE"], log.metrics().async.dropped_full);
}

void expect_time_order(const RecordingSink& sink) {
  const auto recs = sink.records();
  for (std::size_t i = 1; i < recs.size(); ++i) {
    EXPECT_LE(recs[i - 1].time, recs[i].time) << "record " << i << " is older than the one before";
  }
}

// An in-band "N records dropped" report (and not a record that was logged).
bool is_drop_report(const hydra::test::CapturedRecord& r) {
  return r.message.rfind("hydra: ", 0) == 0 && r.has_field("dropped");
}

// Per layer: records written, and drops reported in-band.
struct LayerCounts {
  std::uint64_t written = 0;
  std::uint64_t reported = 0;
};
std::map<std::string, LayerCounts> counts_by_layer(const RecordingSink& sink) {
  std::map<std::string, LayerCounts> out;
  for (const auto& r : sink.records()) {
    if (is_drop_report(r)) {
      out[r.layer].reported += std::stoull(r.field("dropped"));
    } else {
      ++out[r.layer].written;
    }
  }
  return out;
}

LayerCounts all_counts(const RecordingSink& sink) {
  LayerCounts all;
  for (const auto& [layer, c] : counts_by_layer(sink)) {
    all.written += c.written;
    all.reported += c.reported;
  }
  return all;
}

// Drops at the end of a burst, after which the thread logs nothing more:
// the backend reports them once it has written the thread's records.
TEST(Async, DropsAtTheEndOfABurstAreReportedByFlush) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::drop)));
  write_then_hold_backend(log, "start");
  constexpr int kRecords = 1000;
  for (int i = 0; i < kRecords; ++i) log.info("record {}", i);
  const auto dropped = log.metrics().async.dropped_full;
  ASSERT_GT(dropped, 0u);
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();  // nothing is logged after the burst
  const auto recs = sink->records();
  // start, the records kept (the first ones, in order), the report.
  ASSERT_EQ(recs.size(), 1 + (kRecords - dropped) + 1);
  for (std::size_t i = 1; i + 1 < recs.size(); ++i) {
    ASSERT_EQ(recs[i].message, "record " + std::to_string(i - 1));
  }
  const auto& report = recs.back();
  EXPECT_TRUE(is_drop_report(report));
  EXPECT_EQ(report.level, Level::warning);
  EXPECT_EQ(report.layer, recs[1].layer);
  EXPECT_EQ(report.field("dropped"), std::to_string(dropped));
  EXPECT_EQ(report.thread_id, recs[1].thread_id);
  expect_time_order(*sink);
}

// Threads that drop and exit never log again: their reports are written
// once their queues are drained, each after that thread's records.
TEST(Async, DropsOfThreadsThatExitedAreReported) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::drop)));
  write_then_hold_backend(log, "start");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      auto layer = log.layer("T" + std::to_string(t));
      for (int i = 0; i < kPerThread; ++i) layer.info("t{} record {}", t, i);
    });
  }
  for (auto& th : threads) th.join();
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  const auto by_layer = counts_by_layer(*sink);
  std::uint64_t reported = 0;
  for (int t = 0; t < kThreads; ++t) {
    const LayerCounts& c = by_layer.at("T" + std::to_string(t));
    EXPECT_GT(c.reported, 0u) << "T" << t;
    EXPECT_EQ(c.written + c.reported, static_cast<std::uint64_t>(kPerThread)) << "T" << t;
    reported += c.reported;
  }
  EXPECT_EQ(reported, log.metrics().async.dropped_full);
  // Each report follows the records its thread kept.
  std::map<std::string, bool> reported_layer;
  for (const auto& r : sink->records()) {
    if (is_drop_report(r)) {
      reported_layer[r.layer] = true;
    } else {
      EXPECT_FALSE(reported_layer[r.layer]) << r.message << " after its thread's report";
    }
  }
  expect_time_order(*sink);
}

// A thread's report goes ahead of every record it logs after its drops,
// even when the queue has room for that record and not for a report: the
// report is as small as the smallest record. Here the held queue is filled
// to its last 56 bytes (a record with no arguments: a header alone), a
// 64-byte record is dropped, and one with no arguments is logged.
TEST(Async, ADropReportGoesAheadOfARecordThatWouldFitWhereItDoesNot) {
  static_assert(sizeof(hydra::detail::RecordHeader) == 56, "the sizes below assume it");
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::drop)));
  // A new thread: its queue is empty from its first byte, and it has no
  // context to send.
  std::thread thread([&log] {
    log.preallocate();
    hydra::detail::pause_backend_for_test(log, true);
    for (int i = 0; i < 62; ++i) log.info("x {}", i);  // 64 bytes each: 3968 of 4096
    log.info("{}", std::string("filler"));             // 56 + 4 + 6: 72 bytes, 56 left
    ASSERT_EQ(log.metrics().async.dropped_full, 0u);
    log.info("x {}", 62);  // 64 bytes: dropped
    ASSERT_EQ(log.metrics().async.dropped_full, 1u);
    log.info("after");  // 56 bytes: would fit, but the report goes first
  });
  thread.join();
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  log.info("later");
  log.flush();
  const auto recs = sink->records();
  std::size_t first_report = recs.size();
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (is_drop_report(recs[i]) && first_report == recs.size()) first_report = i;
    if (recs[i].message == "after") {
      EXPECT_GT(i, first_report) << "after went ahead of the report of x 62";
    }
  }
  const LayerCounts c = all_counts(*sink);
  EXPECT_EQ(c.reported, log.metrics().async.dropped_full);
  EXPECT_EQ(c.written + c.reported, 62u + 1 + 1 + 1 + 1);
}

// shutdown() writes the reports still owed (here: the backend never ran
// while the thread dropped, and no flush came before).
TEST(Async, ShutdownReportsTheDropsStillOwed) {
  auto sink = std::make_shared<RecordingSink>();
  constexpr int kRecords = 1000;
  std::uint64_t dropped = 0;
  {
    hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::drop)));
    write_then_hold_backend(log, "start");
    for (int i = 0; i < kRecords; ++i) log.info("record {}", i);
    dropped = log.metrics().async.dropped_full;
    ASSERT_GT(dropped, 0u);
    log.shutdown();
    const LayerCounts c = all_counts(*sink);
    EXPECT_EQ(c.reported, dropped);
    EXPECT_EQ(c.written + c.reported, static_cast<std::uint64_t>(1 + kRecords));
  }
  EXPECT_EQ(all_counts(*sink).reported, dropped) << "reported twice";
}

// The thread's own report (queued before its next record) and the
// consumer's (once the thread's queue is drained) race all the time here:
// every drop is reported once, neither lost nor counted twice.
TEST(Async, EveryDropIsReportedExactlyOnceWhileThreadsLogAndFlush) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::drop)));
  write_then_hold_backend(log, "start");
  constexpr int kThreads = 3;
  constexpr int kPerThread = 4000;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, &running, t] {
      auto layer = log.layer("T" + std::to_string(t));
      for (int i = 0; i < kPerThread; ++i) {
        layer.info("t{} record {}", t, i);
        if (i % 500 == 499) log.flush();  // the consumer reports too
      }
      --running;
    });
  }
  // Drops first, while the backend is held; then it drains while they go on.
  ASSERT_TRUE(eventually([&] { return log.metrics().async.dropped_full > 0; }));
  hydra::detail::pause_backend_for_test(log, false);
  while (running.load() > 0) log.flush();
  for (auto& th : threads) th.join();
  log.flush();
  const auto by_layer = counts_by_layer(*sink);
  std::uint64_t reported = 0;
  for (int t = 0; t < kThreads; ++t) {
    const LayerCounts& c = by_layer.at("T" + std::to_string(t));
    EXPECT_EQ(c.written + c.reported, static_cast<std::uint64_t>(kPerThread)) << "T" << t;
    reported += c.reported;
  }
  EXPECT_EQ(reported, log.metrics().async.dropped_full);
  expect_time_order(*sink);
}

// The accounting of metrics().async under every policy, each made to do
// what it does when the queue is full: records_in counts every call
// (queued, written by its caller, or dropped), and at a flush barrier
// records_in == records_out + dropped_full, records_out is what the sinks
// got, and dropped_full what was reported in-band.
TEST(Async, RecordsInIsEveryCallAndAddsUpUnderEveryPolicy) {
  struct Case {
    const char* name;
    OverflowPolicy policy;
    bool stalled;  // automatic: the backend is taken as stalled
  };
  const Case cases[] = {
      {"block", OverflowPolicy::block, false},
      {"drop", OverflowPolicy::drop, false},
      {"grow", OverflowPolicy::grow, false},  // to its limit, then sync_fallback
      {"sync_fallback", OverflowPolicy::sync_fallback, false},
      {"automatic, healthy", OverflowPolicy::automatic, false},
      {"automatic, stalled", OverflowPolicy::automatic, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto sink = std::make_shared<RecordingSink>();
    hydra::AsyncOptions o = small_queue(c.policy);
    o.grow_limit = 16 * 1024;
    hydra::Logger log(async_config(sink, o));
    // automatic judges the backend by this clock alone from now on: it
    // stands still (healthy), or is moved past the held backend's last beat.
    hydra::detail::advance_stall_clock_for_test(log, std::chrono::seconds(0));
    write_then_hold_backend(log, "start");
    if (c.stalled) hydra::detail::advance_stall_clock_for_test(log, std::chrono::seconds(10));
    constexpr int kRecords = 600;  // several times what a 4 KiB queue holds
    std::atomic<bool> done{false};
    std::thread producer([&] {
      for (int i = 0; i < kRecords; ++i) log.info("record {}", i);
      done = true;
    });
    // The producer overflows the held queue: it finishes (drop, grow,
    // sync_fallback, automatic when stalled) or waits for space.
    ASSERT_TRUE(eventually([&] { return done || log.metrics().async.blocked_waits > 0; }));
    hydra::detail::pause_backend_for_test(log, false);
    producer.join();
    log.flush();
    const auto m = log.metrics().async;
    const std::uint64_t logged = 1 + kRecords;
    EXPECT_EQ(m.records_in, logged);
    EXPECT_EQ(m.records_in, m.records_out + m.dropped_full);
    const LayerCounts counts = all_counts(*sink);
    EXPECT_EQ(counts.written, m.records_out);
    EXPECT_EQ(counts.reported, m.dropped_full);
    // (The path each policy takes when full was taken.)
    switch (c.policy) {
      case OverflowPolicy::block: EXPECT_GT(m.blocked_waits, 0u); break;
      case OverflowPolicy::drop: EXPECT_GT(m.dropped_full, 0u); break;
      case OverflowPolicy::grow:
        EXPECT_GT(m.queue_grows, 0u);
        EXPECT_GT(m.sync_writes, 0u);
        break;
      case OverflowPolicy::sync_fallback: EXPECT_GT(m.sync_writes, 0u); break;
      case OverflowPolicy::automatic:
        EXPECT_EQ(m.sync_writes > 0, c.stalled);
        EXPECT_GT(m.blocked_waits, 0u);
        break;
    }
  }
}

TEST(Async, PeriodicHealthRecordCarriesTheMetrics) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o;
  o.health_interval = std::chrono::milliseconds(5);
  hydra::Logger log(async_config(sink, o));
  for (int i = 0; i < 10; ++i) log.info("work {}", i);
  log.flush();
  // The record is time-driven: wait (bounded) for one written after the flush
  // above returned, so one that has seen all the work written. (One that
  // carries records_in=10 may still have been written while the backend was
  // half-way through the ten.)
  const std::size_t after_flush = sink->records().size();
  auto health = [&]() -> std::optional<hydra::test::CapturedRecord> {
    log.flush();
    const auto records = sink->records();
    for (std::size_t i = after_flush; i < records.size(); ++i) {
      if (records[i].message == "hydra: async health") return records[i];
    }
    return std::nullopt;
  };
  ASSERT_TRUE(eventually([&] { return health().has_value(); }));
  const auto r = *health();
  EXPECT_EQ(r.layer, "HYDRA");
  EXPECT_EQ(r.level, Level::info);
  EXPECT_EQ(r.field("records_in"), "10");
  EXPECT_EQ(r.field("records_out"), "10");
  EXPECT_EQ(r.field("dropped"), "0");
  EXPECT_EQ(r.field("order_waits"), "0");
  EXPECT_EQ(r.field("threads"), "1");  // the backend's own records are not queued
  EXPECT_TRUE(r.has_field("backend_lag_us"));
  EXPECT_TRUE(r.has_field("high_water_bytes"));
}

// A sink standing for a network destination: it reports its accounting
// (hydra/sink/delivery_counts.hpp) as NetworkSink does.
class ReportingSink final : public RecordingSink {
 public:
  std::optional<hydra::DestinationMetrics> destination_metrics() const override {
    hydra::DestinationMetrics d;
    d.name = "syslog tcp 127.0.0.1:514";
    d.counts.submitted = 12;
    d.counts.delivered = 7;
    d.counts.spooled = 3;
    d.counts.dropped_queue_full = 2;
    d.counts.retries = 4;
    d.last_error = "Connection refused";
    return d;
  }
};

TEST(Async, PeriodicHealthRecordsCarryEachDestinationsCounts) {
  auto sink = std::make_shared<ReportingSink>();
  hydra::AsyncOptions o;
  o.health_interval = std::chrono::milliseconds(5);
  hydra::Logger log(async_config(sink, o));
  EXPECT_EQ(log.destination_metrics().size(), 1u);
  EXPECT_EQ(log.metrics().destinations.at(0).counts.delivered, 7u);
  log.info("work");  // the backend's loop, which logs the health records, runs
  auto health = [&]() -> std::optional<hydra::test::CapturedRecord> {
    log.flush();
    for (const auto& r : sink->records()) {
      if (r.message == "hydra: destination health") return r;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(eventually([&] { return health().has_value(); }));
  const auto r = *health();
  EXPECT_EQ(r.layer, "HYDRA");
  EXPECT_EQ(r.field("destination"), "syslog tcp 127.0.0.1:514");
  EXPECT_EQ(r.field("submitted"), "12");
  EXPECT_EQ(r.field("delivered"), "7");
  EXPECT_EQ(r.field("spooled"), "3");
  EXPECT_EQ(r.field("dropped"), "2");
  EXPECT_EQ(r.field("retries"), "4");
  EXPECT_EQ(r.field("oldest_age_ms"), "0");
  EXPECT_EQ(r.field("last_error"), "Connection refused");
}

void expect_all_in_order(const RecordingSink& sink, int count, const std::string& prefix) {
  auto recs = sink.records();
  ASSERT_EQ(recs.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(recs[i].message, prefix + std::to_string(i));
  }
}

TEST(Async, SyncFallbackLosesNothingAndKeepsOrder) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::sync_fallback);
  hydra::Logger log(async_config(sink, o));
  write_then_hold_backend(log, "r 0");
  for (int i = 1; i < 2000; ++i) log.info("r {}", i);
  // The caller wrote what did not fit itself, after draining what was queued.
  EXPECT_GT(log.metrics().async.sync_writes, 0u);
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  expect_all_in_order(*sink, 2000, "r ");
}

}  // namespace

// An argument whose encoding waits at a gate: the thread that logs it has
// stamped its record and stays mid-record (in flight) until the gate opens.
struct Gated {
  int v;
};
namespace {
std::atomic<bool> g_gate_entered{false};
std::atomic<bool> g_gate_open{false};
}  // namespace

template <>
struct fmt::formatter<Gated> : fmt::formatter<int> {
  auto format(const Gated& g, fmt::format_context& ctx) const {
    return fmt::formatter<int>::format(g.v, ctx);
  }
};

template <>
struct hydra::Codec<Gated> {
  using decoded_type = int;
  static std::size_t encoded_size(const Gated&) { return sizeof(int); }
  static void encode(std::byte* out, const Gated& g) {
    g_gate_entered.store(true);
    while (!g_gate_open.load()) std::this_thread::yield();
    std::memcpy(out, &g.v, sizeof g.v);
  }
  static int decode(const std::byte* in) {
    int v = 0;
    std::memcpy(&v, in, sizeof v);
    return v;
  }
};

namespace {

// A thread held mid-record ("held 7") until release().
class HeldRecord {
 public:
  explicit HeldRecord(hydra::Logger& log) {
    g_gate_entered = false;
    g_gate_open = false;
    thread_ = std::thread([&log] { log.info("held {}", Gated{7}); });
    EXPECT_TRUE(eventually([] { return g_gate_entered.load(); }));
    // Its stamp is now older, by far, than the margin a synchronous writer
    // stamps its own record behind the clock (this waits for the clock to
    // move on, not for another thread).
    const auto stamped = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - stamped < std::chrono::milliseconds(1)) {
    }
  }
  HeldRecord(const HeldRecord&) = delete;
  HeldRecord& operator=(const HeldRecord&) = delete;
  ~HeldRecord() { release(); }
  void release() {
    g_gate_open = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

// The first seven characters of each message, enough to tell "first",
// "held 7", "younger" and the 8 KiB "big one ..." apart.
std::vector<std::string> messages_of(const RecordingSink& sink) {
  std::vector<std::string> out;
  for (const auto& r : sink.records()) out.push_back(r.message.substr(0, 7));
  return out;
}

// A caller that writes its own record (here: too large for its queue) first
// writes every older record, including one that another thread stamped and
// is still writing: it waits for that one rather than go ahead of it.
TEST(Async, SynchronousWriteWaitsForAnOlderRecordStillBeingWritten) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::block)));
  log.info("first");
  log.flush();
  HeldRecord held(log);
  std::thread big([&log] { log.info("big one {}", std::string(8192, 'x')); });
  EXPECT_TRUE(eventually([&] { return log.metrics().async.order_waits > 0; }));
  EXPECT_EQ(sink->size(), 1u) << "written ahead of an older record";
  held.release();
  big.join();
  log.flush();
  EXPECT_EQ(messages_of(*sink), (std::vector<std::string>{"first", "held 7", "big one"}));
  expect_time_order(*sink);
  EXPECT_EQ(log.metrics().async.sync_writes, 1u);
}

// flush() writes what was logged before it in timestamp order too: a younger
// record already queued waits for an older one still being written.
TEST(Async, FlushWaitsForAnOlderRecordStillBeingWritten) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  log.info("first");
  log.flush();
  HeldRecord held(log);
  log.info("younger");
  std::thread flusher([&log] { log.flush(); });
  EXPECT_TRUE(eventually([&] { return log.metrics().async.order_waits > 0; }));
  EXPECT_EQ(sink->size(), 1u) << "a younger record went ahead of an older one";
  held.release();
  flusher.join();
  EXPECT_EQ(messages_of(*sink), (std::vector<std::string>{"first", "held 7", "younger"}));
  expect_time_order(*sink);
}

// A thread stuck mid-record for longer than stall_timeout does not hold a
// flush up: the flush writes the rest without it, and its record follows
// once it is committed.
TEST(Async, FlushDoesNotWaitForeverForAThreadStuckMidRecord) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o;
  o.stall_timeout = std::chrono::milliseconds(50);
  hydra::Logger log(async_config(sink, o));
  log.info("first");
  log.flush();
  HeldRecord held(log);
  log.info("younger");
  log.flush();  // returns, after about stall_timeout
  EXPECT_EQ(messages_of(*sink), (std::vector<std::string>{"first", "younger"}));
  held.release();
  log.flush();
  EXPECT_EQ(messages_of(*sink), (std::vector<std::string>{"first", "younger", "held 7"}));
}

// grow falling back to drop: a report that finds the queue full grows it,
// as the thread's next record would, so that it still goes first. The
// thread's first queue is drained and freed, which makes room under
// grow_limit for one more, while its second, full, is held back by
// another thread's record in flight that is older than all of it.
TEST(Async, ADropReportGrowsTheQueueAheadOfTheNextRecord) {
  static_assert(sizeof(hydra::detail::RecordHeader) == 56, "the sizes below assume it");
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  o.grow_fallback = OverflowPolicy::drop;
  o.prepare_growth = false;  // the caller makes each queue: capacities are exact
  o.grow_limit = 24 * 1024;  // 4 + 8 KiB, and then 8 + 16 once the first is gone
  hydra::Logger log(async_config(sink, o));
  g_gate_entered = false;
  g_gate_open = false;
  std::atomic<int> step{0};
  std::thread marker;
  std::thread thread([&] {
    log.preallocate();
    hydra::detail::pause_backend_for_test(log, true);
    for (int i = 0; i < 62; ++i) log.info("x {}", i);  // 64 bytes each: 3968 of 4096
    log.info("{}", std::string("filler"));             // 72 bytes: 56 left
    // Another thread stamps a record, then stays in the middle of the next:
    // nothing stamped after its first is written until it is committed.
    marker = std::thread([&log] {
      log.info("marker");
      log.info("held {}", Gated{7});
    });
    while (!g_gate_entered.load()) std::this_thread::yield();
    for (int i = 0; i < 128; ++i) log.info("y {}", i);  // 8 KiB of 64-byte records
    EXPECT_EQ(log.metrics().async.queue_grows, 1u);
    log.info("y {}", 128);  // no room, and 4 + 8 + 16 KiB is past the limit
    EXPECT_EQ(log.metrics().async.dropped_full, 1u);
    step = 1;
    while (step.load() != 2) std::this_thread::yield();
    log.info("after");  // its report first, into the queue grown for it
  });
  EXPECT_TRUE(eventually([&] { return step.load() == 1; }));
  hydra::detail::pause_backend_for_test(log, false);
  // The first queue is drained (all of it older than the marker) and freed.
  EXPECT_TRUE(eventually([&] {
    for (const auto& t : log.metrics().async.threads) {
      if (t.capacity == 8 * 1024) return true;
    }
    return false;
  }));
  step = 2;
  thread.join();
  g_gate_open = true;
  marker.join();
  log.flush();
  const auto recs = sink->records();
  std::size_t first_report = recs.size();
  std::size_t after = recs.size();
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (is_drop_report(recs[i]) && first_report == recs.size()) first_report = i;
    if (recs[i].message == "after") after = i;
  }
  ASSERT_LT(after, recs.size());
  EXPECT_LT(first_report, after) << "after went ahead of the report of y 128";
  const LayerCounts c = all_counts(*sink);
  EXPECT_EQ(c.reported, 1u);
  EXPECT_EQ(c.written + c.reported, 62u + 1 + 129 + 1 + 2);
}

TEST(Async, GrowKeepsEverythingUpToItsLimit) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  o.grow_limit = 1024 * 1024;
  hydra::Logger log(async_config(sink, o));
  write_then_hold_backend(log, "g 0");
  for (int i = 1; i < 3000; ++i) log.info("g {}", i);
  const auto m = log.metrics().async;
  EXPECT_GT(m.queue_grows, 0u);
  EXPECT_EQ(m.sync_writes, 0u);
  EXPECT_EQ(m.dropped_full, 0u);
  EXPECT_EQ(m.records_in, 3000u);  // counted across the queues it grew into
  ASSERT_EQ(m.threads.size(), 1u);
  EXPECT_EQ(m.threads[0].records_in, 3000u);
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  expect_all_in_order(*sink, 3000, "g ");
}

TEST(Async, QueueLargerThanOneGibIsAConfigurationError) {
  hydra::AsyncOptions o;
  o.queue_capacity = (std::size_t{1} << 30) + 1;
  try {
    hydra::Logger log(async_config(std::make_shared<RecordingSink>(), o));
    FAIL() << "accepted";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("async.queue_capacity: 1073741825 bytes"),
              std::string::npos)
        << e.what();
  }
  o.queue_capacity = std::size_t{1} << 30;  // the largest is fine (not allocated until used)
  hydra::Logger log(async_config(std::make_shared<RecordingSink>(), o));
}

// grow: the backend keeps each thread's next queue made, so the caller that
// fills its queue switches queues without allocating.
void overflow_held_queue(hydra::Logger& log, const char* prefix, int* next) {
  // The flush runs the backend's drain, which makes the spare queue.
  write_then_hold_backend(log, std::string(prefix) + "0");
  *next = 1;
  for (int i = 0; i < 200; ++i) log.info("{}{}", prefix, (*next)++);  // beyond 4 KiB
}

TEST(Async, GrowthIsPreparedByTheBackend) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  hydra::Logger log(async_config(sink, o));
  int n = 0;
  overflow_held_queue(log, "p ", &n);
  const auto m = log.metrics().async;
  EXPECT_GE(m.queue_grows, 2u);     // 4 KiB -> 8 KiB -> 16 KiB at least
  EXPECT_GE(m.grows_prepared, 1u);  // the first, at least: made before the backend was held
  EXPECT_LT(m.grows_prepared, m.queue_grows);  // held, it cannot keep up with them all
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  expect_all_in_order(*sink, n, "p ");
}

TEST(Async, GrowthOnTheCallerWhenNotPrepared) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  o.prepare_growth = false;
  hydra::Logger log(async_config(sink, o));
  int n = 0;
  overflow_held_queue(log, "c ", &n);
  const auto m = log.metrics().async;
  EXPECT_GE(m.queue_grows, 1u);
  EXPECT_EQ(m.grows_prepared, 0u);
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  expect_all_in_order(*sink, n, "c ");
}

// Logs "<prefix><n>" from *next on until the thread's queue has grown
// `grows` times in all.
void log_until_grown(hydra::Logger& log, const char* prefix, int* next, std::uint64_t grows) {
  while (log.metrics().async.queue_grows < grows) log.info("{}{}", prefix, (*next)++);
}

// preallocate() under grow returns with the next two queues made: a flood
// at once (here with the backend held, so it cannot make one later) grows
// twice without allocating; the third time the caller makes its queue.
TEST(Async, PreallocateUnderGrowHasTheNextTwoQueuesReady) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::grow)));
  log.preallocate();
  hydra::detail::pause_backend_for_test(log, true);
  int n = 0;
  log_until_grown(log, "a ", &n, 2);  // 4 KiB -> 8 KiB -> 16 KiB
  EXPECT_EQ(log.metrics().async.grows_prepared, 2u);
  log_until_grown(log, "a ", &n, 3);                  // -> 32 KiB
  EXPECT_EQ(log.metrics().async.grows_prepared, 2u);  // the held backend made no other
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  expect_all_in_order(*sink, n, "a ");
}

// A thread that has grown once may flood again: from then on the backend
// keeps its next two queues made, not only the next.
TEST(Async, AThreadThatHasGrownHasTheNextTwoQueuesReady) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink, small_queue(OverflowPolicy::grow)));
  int n = 0;
  log_until_grown(log, "g ", &n, 1);
  // The flush runs the backend's drain, which sees the thread has grown.
  log.flush();
  const std::uint64_t prepared = log.metrics().async.grows_prepared;
  hydra::detail::pause_backend_for_test(log, true);
  log_until_grown(log, "g ", &n, 3);
  EXPECT_EQ(log.metrics().async.grows_prepared, prepared + 2);
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  expect_all_in_order(*sink, n, "g ");
}

// grow in a flood: the backend hands each next queue over untouched and
// faults its pages in while the callers write into it (and into queues they
// had to make themselves). Nothing may be lost, duplicated or reordered.
TEST(Async, GrowthFloodKeepsEveryRecordInOrder) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  o.grow_limit = std::size_t{64} * 1024 * 1024;
  hydra::Logger log(async_config(sink, o));
  constexpr int kThreads = 2;
  constexpr int kPerThread = 30000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kPerThread; ++i) log.info("flood {t} {i}", t, i);
    });
  }
  for (auto& th : threads) th.join();
  log.flush();
  const auto m = log.metrics().async;
  EXPECT_GT(m.queue_grows, 0u);
  EXPECT_EQ(m.sync_writes, 0u);
  EXPECT_EQ(m.dropped_full, 0u);
  EXPECT_EQ(m.blocked_waits, 0u);
  // (records_in counts live threads' queues only: these threads are gone.)
  EXPECT_EQ(m.records_out, static_cast<std::uint64_t>(kThreads * kPerThread));
  const auto recs = sink->records();
  ASSERT_EQ(recs.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const auto& r : recs) {
    const int t = std::stoi(r.field("t"));
    ASSERT_EQ(r.field("i"), std::to_string(next[static_cast<std::size_t>(t)])) << "thread " << t;
    ++next[static_cast<std::size_t>(t)];
  }
}

// On a kernel without MADV_POPULATE_WRITE (made to look so here), the
// backend zeroes each next queue before handing it over, as it did before
// it could populate one behind the producer.
TEST(Async, GrowthWithoutPopulateZeroesTheSpareFirst) {
  hydra::detail::set_populate_unsupported_for_test(true);
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::grow);
  {
    hydra::Logger log(async_config(sink, o));
    int n = 0;
    overflow_held_queue(log, "z ", &n);
    const auto m = log.metrics().async;
    EXPECT_GE(m.queue_grows, 2u);
    EXPECT_GE(m.grows_prepared, 1u);
    hydra::detail::pause_backend_for_test(log, false);
    for (int i = 0; i < 3000; ++i) log.info("z {}", n++);  // grows again, unheld
    log.flush();
    expect_all_in_order(*sink, n, "z ");
  }
  hydra::detail::set_populate_unsupported_for_test(false);
}

// A thread keeps the write side of one queue in its t_hot at a time: one
// that alternates between loggers swaps it on every call, and must lose and
// reorder nothing, even while queues grow, records drop and its context
// changes.
TEST(Async, OneThreadAlternatingBetweenLoggers) {
  auto grow_sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions go = small_queue(OverflowPolicy::grow);
  go.grow_limit = 1024 * 1024;
  hydra::Logger grows(async_config(grow_sink, go));
  auto drop_sink = std::make_shared<RecordingSink>();
  hydra::Logger drops(async_config(drop_sink, small_queue(OverflowPolicy::drop)));
  write_then_hold_backend(grows, "g 0");
  write_then_hold_backend(drops, "d 0");
  constexpr int kRecords = 2000;
  {
    std::optional<hydra::ScopedContext> scope;
    for (int i = 1; i < kRecords; ++i) {
      if (i % 100 == 1) {
        scope.reset();
        scope.emplace(std::initializer_list<hydra::Field>{{"block", (i - 1) / 100}});
      }
      grows.info("g {}", i);
      drops.info("d {}", i);
    }
  }
  const auto gm = grows.metrics().async;
  const auto dm = drops.metrics().async;
  EXPECT_GT(gm.queue_grows, 0u);
  EXPECT_GT(dm.dropped_full, 0u);
  EXPECT_EQ(gm.records_in, static_cast<std::uint64_t>(kRecords));
  hydra::detail::pause_backend_for_test(grows, false);
  hydra::detail::pause_backend_for_test(drops, false);
  grows.flush();
  drops.flush();
  drops.info("d after");  // the drop report goes out first
  drops.flush();

  const auto g = grow_sink->records();
  ASSERT_EQ(g.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(g[static_cast<std::size_t>(i)].message, "g " + std::to_string(i));
    if (i > 0) {
      ASSERT_EQ(g[static_cast<std::size_t>(i)].field("block"), std::to_string((i - 1) / 100)) << i;
    }
  }
  const auto d = drop_sink->records();
  // d 0, the kept records (the first ones, in order), the report, d after.
  ASSERT_EQ(d.size(), 1 + (kRecords - 1 - dm.dropped_full) + 1 + 1);
  for (std::size_t i = 0; i + 2 < d.size(); ++i) {
    ASSERT_EQ(d[i].message, "d " + std::to_string(i));
  }
  EXPECT_EQ(d[d.size() - 2].field("dropped"), std::to_string(dm.dropped_full));
  EXPECT_EQ(d.back().message, "d after");
  EXPECT_EQ(d.back().field("block"), "<missing>");  // the scope closed before it
}

// A sink that logs to another async logger: the caller writing
// synchronously (sync_fallback) switches to the other logger's queue in the
// middle of its own call, and back.
class ForwardingSink final : public hydra::Sink {
 public:
  explicit ForwardingSink(hydra::Logger& to) : to_(to) {}
  void write(const hydra::Record& r, std::string_view) override {
    to_.info("saw {}", std::string(r.message));
  }
  void flush() override {}

 private:
  hydra::Logger& to_;
};

TEST(Async, SinkLoggingToAnotherAsyncLoggerFromTheCaller) {
  auto seen = std::make_shared<RecordingSink>();
  hydra::Logger observer(async_config(seen));
  hydra::Logger log(async_config(std::make_shared<ForwardingSink>(observer),
                                 small_queue(OverflowPolicy::sync_fallback)));
  write_then_hold_backend(log, "r 0");
  observer.info("saw start");
  for (int i = 1; i < 500; ++i) {
    log.info("r {}", i);
    observer.info("between {}", i);
  }
  EXPECT_GT(log.metrics().async.sync_writes, 0u);
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  observer.flush();
  int forwarded = 0;
  int between = 0;
  for (const auto& r : seen->records()) {
    if (r.message.rfind("saw r ", 0) == 0) {
      EXPECT_EQ(r.message, "saw r " + std::to_string(forwarded)) << "forwarded out of order";
      ++forwarded;
    } else if (r.message.rfind("between ", 0) == 0) {
      EXPECT_EQ(r.message, "between " + std::to_string(++between));
    }
  }
  EXPECT_EQ(forwarded, 500);
  EXPECT_EQ(between, 499);
}

TEST(Async, BlockWaitsForTheBackend) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::block);
  hydra::Logger log(async_config(sink, o));
  write_then_hold_backend(log, "b 0");
  std::thread producer([&] {
    for (int i = 1; i < 2000; ++i) log.info("b {}", i);
  });
  ASSERT_TRUE(eventually([&] { return log.metrics().async.blocked_waits > 0; }));
  EXPECT_LT(sink->size(), 2000u);  // the producer is waiting, not writing
  hydra::detail::pause_backend_for_test(log, false);
  producer.join();
  log.flush();
  expect_all_in_order(*sink, 2000, "b ");
  EXPECT_EQ(log.metrics().async.sync_writes, 0u);
}

// automatic: callers write synchronously while the backend is stalled (no
// heartbeat for stall_timeout), and queue again once it is healthy. The
// stall check reads a clock that moves only when the test moves it, so a
// loaded machine cannot make the resumed backend look stalled again.
TEST(Async, AutoWritesSynchronouslyWhileTheBackendIsStalled) {
  auto sink = std::make_shared<RecordingSink>();
  const hydra::AsyncOptions o = small_queue(OverflowPolicy::automatic);
  hydra::Logger log(async_config(sink, o));
  hydra::detail::advance_stall_clock_for_test(log, std::chrono::seconds(0));
  write_then_hold_backend(log, "a 0");  // no progress, no heartbeat from here
  hydra::detail::advance_stall_clock_for_test(log, o.stall_timeout + std::chrono::milliseconds(1));
  for (int i = 1; i < 2000; ++i) log.info("a {}", i);
  EXPECT_GT(log.metrics().async.sync_writes, 0u);
  // Healthy again: it beats at once, and the clock stands still from here.
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  const auto sync_before = log.metrics().async.sync_writes;
  for (int i = 2000; i < 2100; ++i) log.info("a {}", i);  // more than the queue holds
  log.flush();
  EXPECT_EQ(log.metrics().async.sync_writes, sync_before);
  expect_all_in_order(*sink, 2100, "a ");
}

// automatic: a caller whose queue is full waits for a held backend until
// stall_timeout has passed since its last heartbeat, and not longer.
TEST(Async, AutoWaitsForTheBackendUntilTheStallTimeoutPasses) {
  auto sink = std::make_shared<RecordingSink>();
  const hydra::AsyncOptions o = small_queue(OverflowPolicy::automatic);
  hydra::Logger log(async_config(sink, o));
  hydra::detail::advance_stall_clock_for_test(log, std::chrono::seconds(0));
  write_then_hold_backend(log, "w 0");
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (int i = 1; i < 2000; ++i) log.info("w {}", i);
    done = true;
  });
  ASSERT_TRUE(eventually([&] { return log.metrics().async.blocked_waits > 0; }));
  hydra::detail::advance_stall_clock_for_test(log, o.stall_timeout);  // not yet past it
  EXPECT_FALSE(done.load());
  EXPECT_EQ(log.metrics().async.sync_writes, 0u);
  hydra::detail::advance_stall_clock_for_test(log, std::chrono::milliseconds(1));
  const bool wrote_itself = eventually([&] { return done.load(); });  // the backend is still held
  hydra::detail::pause_backend_for_test(log, false);
  producer.join();
  EXPECT_TRUE(wrote_itself);
  EXPECT_GT(log.metrics().async.sync_writes, 0u);
  log.flush();
  expect_all_in_order(*sink, 2000, "w ");
}

TEST(Async, RecordTooLargeForTheQueueIsWrittenNotDropped) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o = small_queue(OverflowPolicy::drop);
  hydra::Logger log(async_config(sink, o));
  log.info("small");
  const std::string huge(100 * 1024, 'x');
  log.info("huge {}", huge);
  log.info("small again");
  log.flush();
  auto recs = sink->records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].message.size(), 5 + huge.size());
  EXPECT_EQ(recs[2].message, "small again");
  EXPECT_EQ(log.metrics().async.dropped_full, 0u);
}

TEST(Async, RecordsAfterShutdownAreStillWritten) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  log.info("before");
  log.shutdown();
  EXPECT_EQ(sink->size(), 1u);
  log.info("after");
  log.flush();
  EXPECT_EQ(sink->size(), 2u);
}

// A sink slower than the threads that log: each record costs it 20
// microseconds of work.
class SlowSink final : public hydra::Sink {
 public:
  explicit SlowSink(std::shared_ptr<RecordingSink> out) : out_(std::move(out)) {}
  void write(const hydra::Record& r, std::string_view bytes) override {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
    while (std::chrono::steady_clock::now() < until) {
    }
    out_->write(r, bytes);
  }
  void flush() override {}

 private:
  std::shared_ptr<RecordingSink> out_;
};

// shutdown() while threads go on logging faster than the backend writes:
// callers are switched to writing synchronously first, so the drain writes
// only what was queued (at most a queue's worth per thread, and a call
// under way), however long the threads go on; nothing is lost or written
// twice.
TEST(Async, ShutdownWhileThreadsLogWritesOnlyWhatWasQueued) {
  auto sink = std::make_shared<RecordingSink>();
  const hydra::AsyncOptions o = small_queue(OverflowPolicy::block);
  hydra::Logger log(async_config(std::make_shared<SlowSink>(sink), o));
  write_then_hold_backend(log, "start");
  constexpr int kThreads = 4;
  // A shutdown that drained until the threads stopped would write them all.
  constexpr int kMostPerThread = 5000;
  std::atomic<bool> shut{false};
  std::vector<int> logged(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int i = 0;
      for (; i < kMostPerThread && !shut.load(); ++i) log.info("t{t} {i}", t, i);
      logged[static_cast<std::size_t>(t)] = i;
    });
  }
  // Each thread has filled its queue and waits for space.
  ASSERT_TRUE(eventually([&] { return log.metrics().async.blocked_waits >= kThreads; }));
  const auto before = log.metrics().async;  // still: the backend is held, the callers wait
  log.shutdown();
  const auto after = log.metrics().async;
  shut = true;
  for (auto& th : threads) th.join();
  const std::uint64_t queued_written =
      (after.records_out - after.sync_writes) - (before.records_out - before.sync_writes);
  // A queue holds at most capacity / (a record's header) records.
  const std::uint64_t most =
      kThreads * (o.queue_capacity / sizeof(hydra::detail::RecordHeader) + 1);
  EXPECT_LE(queued_written, most);
  log.flush();
  int total = 1;
  for (int n : logged) total += n;
  const auto recs = sink->records();
  ASSERT_EQ(recs.size(), static_cast<std::size_t>(total));
  std::vector<int> next(kThreads, 0);
  for (std::size_t i = 1; i < recs.size(); ++i) {
    const auto t = static_cast<std::size_t>(std::stoi(recs[i].field("t")));
    ASSERT_EQ(recs[i].field("i"), std::to_string(next[t]++)) << "thread " << t;
  }
  expect_time_order(*sink);
}

// After shutdown() every call writes its record before it returns: none is
// left in a queue.
TEST(Async, CallsAfterShutdownAreWrittenBeforeTheyReturn) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  log.info("before");
  log.shutdown();
  ASSERT_EQ(sink->size(), 1u);
  log.info("after {}", 1);
  EXPECT_EQ(sink->size(), 2u);
  log.layer("PIPE").write(Level::info, "already text");
  EXPECT_EQ(sink->size(), 3u);
  std::thread first_record([&log] { log.info("from a thread that had not logged"); });
  first_record.join();
  EXPECT_EQ(sink->size(), 4u);
  const auto m = log.metrics().async;
  EXPECT_EQ(m.sync_writes, 3u);
  EXPECT_EQ(m.records_in, 4u);
  EXPECT_EQ(m.records_out, 4u);
}

// A sink that logs through the logger whose records it is given.
class EchoSink final : public hydra::Sink {
 public:
  explicit EchoSink(RecordingSink& out) : out_(out) {}
  void attach(hydra::Logger* log) { log_ = log; }
  void write(const hydra::Record& r, std::string_view bytes) override {
    out_.write(r, bytes);
    if (log_ != nullptr && r.message.rfind("echo ", 0) != 0) {
      log_->info("echo {}", std::string(r.message));
    }
  }
  void flush() override {}

 private:
  RecordingSink& out_;
  hydra::Logger* log_ = nullptr;
};

// Its record is written at once by the thread that is writing records (here
// a caller after shutdown, holding the lock of the logger's queues), not
// waited for by it.
TEST(Async, ASinkLoggingThroughItsOwnLoggerAfterShutdown) {
  RecordingSink seen;
  auto echo = std::make_shared<EchoSink>(seen);
  hydra::Logger log(async_config(echo));
  echo->attach(&log);
  log.shutdown();
  log.info("after");
  const auto recs = seen.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "after");
  EXPECT_EQ(recs[1].message, "echo after");
  echo->attach(nullptr);
}

TEST(Async, PreallocateMakesTheThreadsQueueBeforeItsFirstRecord) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  EXPECT_TRUE(log.metrics().async.threads.empty());
  std::thread worker([&] {
    log.preallocate();
    const auto m = log.metrics().async;
    ASSERT_EQ(m.threads.size(), 1u);
    EXPECT_EQ(m.threads[0].records_in, 0u);
    EXPECT_GE(m.threads[0].capacity, hydra::AsyncOptions{}.queue_capacity);
    log.info("first record");
    EXPECT_EQ(log.metrics().async.threads.size(), 1u);  // the same queue
  });
  worker.join();
  log.flush();
  EXPECT_EQ(sink->size(), 1u);
}

// A runtime template lives in the caller's buffer, which may change or die
// before the backend gets to the record: it must be rendered on the caller.
TEST(Async, RuntimeTemplateBufferMayChangeBeforeTheBackendWrites) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  write_then_hold_backend(log, "start");
  std::string tmpl = "first {} of {name}";
  log.info(hydra::runtime(tmpl), 1, "a");
  tmpl = "SECOND {} OF {NAME}";  // same size, same buffer, new text
  log.info(hydra::runtime(tmpl), 2, "b");
  tmpl.assign(200, 'x');  // reallocated: the old buffer is gone
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  auto recs = sink->records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].message, "first 1 of a");
  EXPECT_EQ(recs[1].field("name"), "a");
  EXPECT_EQ(recs[2].message, "SECOND 2 OF b");
  EXPECT_EQ(recs[2].field("NAME"), "b");
}

// The high-water mark is the real depth: records that sat in the queue
// together, not every byte ever written.
TEST(Async, HighWaterIsTheDeepestTheQueueWas) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::AsyncOptions o;
  o.queue_capacity = 64 * 1024;
  hydra::Logger log(async_config(sink, o));
  for (int i = 0; i < 2000; ++i) {  // many times the capacity, one record at a time
    log.info("one at a time {}", i);
    log.flush();
  }
  const auto one_at_a_time = log.metrics().async.threads.at(0).high_water;
  EXPECT_GT(one_at_a_time, 0u);
  EXPECT_LT(one_at_a_time, 1024u) << "a single queued record is far smaller than this";

  hydra::detail::pause_backend_for_test(log, true);
  for (int i = 0; i < 100; ++i) log.info("held {}", i);
  hydra::detail::pause_backend_for_test(log, false);
  log.flush();
  const auto held = log.metrics().async.threads.at(0).high_water;
  EXPECT_GE(held, 100 * one_at_a_time / 2);
  EXPECT_LE(held, 64u * 1024);
}

TEST(Async, WriteAndSecurityLevelsInAsyncMode) {
  auto sink = std::make_shared<RecordingSink>();
  hydra::Logger log(async_config(sink));
  log.layer("PIPE").write(Level::error, "already text {not a placeholder}");
  log.security("intrusion from {ip}", "203.0.113.9");
  log.flush();
  auto recs = sink->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "already text {not a placeholder}");
  EXPECT_EQ(recs[0].layer, "PIPE");
  EXPECT_EQ(recs[1].layer, "SECURITY");
  EXPECT_EQ(recs[1].field("ip"), "203.0.113.9");
}

}  // namespace
