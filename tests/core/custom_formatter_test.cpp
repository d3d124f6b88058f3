// A Formatter object of the caller's own per destination
// (DestinationConfig::formatter), in both modes: it replaces the named
// format, is called concurrently as its contract says, and a throwing one
// costs only its own destination's copy of a record.
#include <gtest/gtest.h>

#include <atomic>
#include <hydra/hydra.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/recording_sink.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::test::RecordingSink;

// "LEVEL|layer|message|n=<fields>" per record; counts its calls (an atomic:
// format() runs on several threads at once in sync mode).
class PipeFormatter final : public hydra::Formatter {
 public:
  void format(const hydra::Record& record, hydra::Buffer& out) const override {
    calls_.fetch_add(1, std::memory_order_relaxed);
    fmt::format_to(fmt::appender(out), "{}|{}|{}|n={}\n", hydra::to_string(record.level),
                   record.layer, record.message, record.fields.size());
  }
  std::uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }

 private:
  mutable std::atomic<std::uint64_t> calls_{0};
};

class ThrowingFormatter final : public hydra::Formatter {
 public:
  void format(const hydra::Record& /*record*/, hydra::Buffer& /*out*/) const override {
    throw std::runtime_error("formatter out of order");
  }
};

hydra::DestinationConfig with_formatter(std::shared_ptr<hydra::Sink> sink,
                                        std::shared_ptr<const hydra::Formatter> formatter) {
  auto d = hydra::to_sink(std::move(sink));
  d.formatter = std::move(formatter);
  return d;
}

class LoggerFormatterTest : public testing::TestWithParam<hydra::LoggerMode> {};
const auto kModes = testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async);
std::string mode_name(const testing::TestParamInfo<hydra::LoggerMode>& info) {
  return info.param == hydra::LoggerMode::sync ? "sync" : "async";
}
INSTANTIATE_TEST_SUITE_P(BothModes, LoggerFormatterTest, kModes, mode_name);

TEST_P(LoggerFormatterTest, ReplacesTheNamedFormatOfItsDestinationOnly) {
  auto custom = std::make_shared<RecordingSink>();
  auto json = std::make_shared<RecordingSink>();
  auto formatter = std::make_shared<PipeFormatter>();
  LoggerConfig cfg;
  cfg.mode = GetParam();
  auto d = with_formatter(custom, formatter);
  d.format = "no-such-format";  // not used: the object is
  d.color_mode = hydra::ColorMode::always;
  cfg.layers["APP"].destinations = {d, hydra::to_sink(json, "json")};
  hydra::Logger log(cfg);
  log.info("user {user} logged in", "alice");
  log.warning("disk {pct}% full", 91);
  log.flush();
  const auto lines = custom->records();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].bytes, "INFO|APP|user alice logged in|n=1\n");
  EXPECT_EQ(lines[1].bytes, "WARNING|APP|disk 91% full|n=1\n");
  EXPECT_EQ(formatter->calls(), 2u);
  ASSERT_EQ(json->size(), 2u);
  EXPECT_EQ(json->records()[0].bytes.front(), '{');
}

TEST_P(LoggerFormatterTest, WritesToAFileAndMayServeSeveralDestinationsAndLoggers) {
  hydra::test::TempDir dir;
  auto formatter = std::make_shared<PipeFormatter>();
  LoggerConfig cfg;
  cfg.mode = GetParam();
  auto to_file = hydra::file(dir.file("app.log"));
  to_file.formatter = formatter;
  auto db_sink = std::make_shared<RecordingSink>();
  cfg.layers["APP"].destinations = {to_file};
  cfg.layers["DATABASE"].destinations = {with_formatter(db_sink, formatter)};
  auto other_sink = std::make_shared<RecordingSink>();
  LoggerConfig other;
  other.mode = GetParam();
  other.layers["APP"].destinations = {with_formatter(other_sink, formatter)};
  {
    hydra::Logger log(cfg);
    hydra::Logger second(other);
    log.info("to the file");
    log.layer("DATABASE").error("to the database sink");
    second.info("from the second logger");
    log.flush();
    second.flush();
  }
  EXPECT_EQ(hydra::test::read_file(dir.file("app.log")), "INFO|APP|to the file|n=0\n");
  ASSERT_EQ(db_sink->size(), 1u);
  EXPECT_EQ(db_sink->records()[0].bytes, "ERROR|DATABASE|to the database sink|n=0\n");
  ASSERT_EQ(other_sink->size(), 1u);
  EXPECT_EQ(formatter->calls(), 3u);
}

// Several threads log through one formatter shared by two destinations: every
// record is formatted once per destination and every line arrives whole (run
// under TSan by scripts/test.sh: Hydra itself adds no race around it).
TEST_P(LoggerFormatterTest, IsCalledFromManyThreadsAsItsContractSays) {
  auto formatter = std::make_shared<PipeFormatter>();
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.layers["APP"].destinations = {with_formatter(a, formatter), with_formatter(b, formatter)};
  hydra::Logger log(cfg);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kPerThread; ++i) log.info("t{} r{}", t, i);
    });
  }
  for (auto& thread : threads) thread.join();
  log.flush();
  constexpr std::size_t kTotal = std::size_t{kThreads} * kPerThread;
  EXPECT_EQ(formatter->calls(), 2 * kTotal);
  for (const auto& sink : {a, b}) {
    const auto records = sink->records();
    ASSERT_EQ(records.size(), kTotal);
    std::set<std::string> distinct;
    for (const auto& r : records) {
      EXPECT_EQ(r.bytes, "INFO|APP|" + r.message + "|n=0\n");
      distinct.insert(r.message);
    }
    EXPECT_EQ(distinct.size(), kTotal);
  }
}

TEST_P(LoggerFormatterTest, AThrowingFormatterCostsOnlyItsOwnDestinationsCopy) {
  auto broken = std::make_shared<RecordingSink>();
  auto fine = std::make_shared<RecordingSink>();
  LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.layers["APP"].destinations = {with_formatter(broken, std::make_shared<ThrowingFormatter>()),
                                    hydra::to_sink(fine)};
  hydra::Logger log(cfg);
  testing::internal::CaptureStderr();
  log.info("still delivered");
  log.flush();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(broken->size(), 0u);
  ASSERT_EQ(fine->size(), 1u);
  EXPECT_EQ(fine->records()[0].message, "still delivered");
  EXPECT_EQ(log.metrics().format_errors, 1u);
  EXPECT_NE(err.find("formatter out of order"), std::string::npos) << err;
}

}  // namespace
