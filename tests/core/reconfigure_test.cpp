// Logger::reconfigure(): the hot-reload step that replaces layers, levels,
// destinations and the protector while other threads log. In both modes.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <hydra/hydra.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/recording_sink.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::test::open_descriptors_on;
using hydra::test::RecordingSink;

class ReconfigureTest : public testing::TestWithParam<hydra::LoggerMode> {
 protected:
  LoggerConfig base() const {
    LoggerConfig cfg;
    cfg.mode = GetParam();
    cfg.name = "reload";
    return cfg;
  }
};

const auto kModes = testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async);
std::string mode_name(const testing::TestParamInfo<hydra::LoggerMode>& info) {
  return info.param == hydra::LoggerMode::sync ? "sync" : "async";
}
INSTANTIATE_TEST_SUITE_P(BothModes, ReconfigureTest, kModes, mode_name);

std::vector<std::string> messages(const RecordingSink& sink) {
  std::vector<std::string> out;
  for (const auto& r : sink.records()) out.push_back(r.message);
  return out;
}

TEST_P(ReconfigureTest, NewDestinationsAndLevelsTakeOverAtOnce) {
  auto first = std::make_shared<RecordingSink>();
  auto second = std::make_shared<RecordingSink>();
  LoggerConfig a = base();
  a.layers["APP"] = {Level::info, {hydra::to_sink(first)}};
  hydra::Logger log(a);
  log.debug("filtered before");
  log.info("before");

  LoggerConfig b = base();
  b.layers["APP"] = {Level::debug, {hydra::to_sink(second)}};
  log.reconfigure(b);
  EXPECT_EQ(log.generation(), 1u);
  log.debug("after {}", 1);
  log.flush();

  EXPECT_EQ(messages(*first), std::vector<std::string>{"before"});
  EXPECT_EQ(messages(*second), std::vector<std::string>{"after 1"});
  EXPECT_EQ(log.level("APP"), Level::debug);
}

TEST_P(ReconfigureTest, LayersWithoutOwnRouteFollowTheNewDefault) {
  auto old_default = std::make_shared<RecordingSink>();
  auto new_default = std::make_shared<RecordingSink>();
  auto db = std::make_shared<RecordingSink>();
  LoggerConfig a = base();
  a.layers["DEFAULT"] = {std::nullopt, {hydra::to_sink(old_default)}};
  hydra::Logger log(a);
  auto database = log.layer("DATABASE");  // made before the reload: an existing slot
  database.info("one");

  LoggerConfig b = base();
  b.default_level = Level::warning;
  b.layers["DEFAULT"] = {std::nullopt, {hydra::to_sink(new_default)}};
  log.reconfigure(b);
  database.info("two: below the new default level");
  database.warning("three");
  log.layer("CACHE").error("four");  // a slot made after the reload

  LoggerConfig c = b;
  c.layers["DATABASE"] = {Level::trace, {hydra::to_sink(db)}};
  log.reconfigure(c);
  database.trace("five");
  log.flush();

  EXPECT_EQ(messages(*old_default), std::vector<std::string>{"one"});
  EXPECT_EQ(messages(*new_default), (std::vector<std::string>{"three", "four"}));
  EXPECT_EQ(messages(*db), std::vector<std::string>{"five"});
}

TEST_P(ReconfigureTest, SetLevelIsReplacedByTheNewConfiguration) {
  auto sink = std::make_shared<RecordingSink>();
  LoggerConfig a = base();
  a.layers["APP"] = {Level::info, {hydra::to_sink(sink)}};
  hydra::Logger log(a);
  log.set_level("APP", Level::error);
  log.info("dropped by set_level");
  log.reconfigure(a);
  log.info("kept after reload");
  log.flush();
  EXPECT_EQ(messages(*sink), std::vector<std::string>{"kept after reload"});
}

TEST_P(ReconfigureTest, FixedSettingsAndBadDestinationsChangeNothing) {
  auto sink = std::make_shared<RecordingSink>();
  LoggerConfig a = base();
  a.layers["APP"] = {Level::info, {hydra::to_sink(sink)}};
  hydra::Logger log(a);

  LoggerConfig other_mode = a;
  other_mode.mode =
      GetParam() == hydra::LoggerMode::sync ? hydra::LoggerMode::async : hydra::LoggerMode::sync;
  try {
    log.reconfigure(other_mode);
    FAIL() << "a mode change was accepted";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("mode: cannot change"), std::string::npos) << e.what();
  }

  LoggerConfig bad = a;
  bad.layers["APP"].level = Level::trace;
  bad.layers["APP"].destinations.push_back(hydra::file("/dev/null/x/app.log"));
  try {
    log.reconfigure(bad);
    FAIL() << "an unopenable file was accepted";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("layers.APP.destinations[1]"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("/dev/null/x/app.log"), std::string::npos) << e.what();
  }
  EXPECT_EQ(log.generation(), 0u);
  log.debug("still below info");
  log.info("still routed");
  log.flush();
  EXPECT_EQ(messages(*sink), std::vector<std::string>{"still routed"});
}

TEST_P(ReconfigureTest, AnUnchangedFileKeepsItsSinkAndDescriptor) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("app.log");
  LoggerConfig a = base();
  a.layers["APP"] = {Level::info, {hydra::file(path)}};
  hydra::Logger log(a);
  log.info("one");
  ASSERT_EQ(open_descriptors_on(path), 1);

  LoggerConfig b = a;
  b.layers["APP"].level = Level::debug;
  b.layers["APP"].destinations[0].format = "json";  // the format may change; the file stays
  log.reconfigure(b);
  log.debug("two");
  log.flush();
  EXPECT_EQ(open_descriptors_on(path), 1);
  const auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("one"), std::string::npos);
  EXPECT_EQ(lines[1].front(), '{');
  EXPECT_NE(lines[1].find("\"two\""), std::string::npos);
}

TEST_P(ReconfigureTest, ARemovedFileIsFlushed) {
  hydra::test::TempDir dir;
  const std::string old_path = dir.file("old.log");
  LoggerConfig a = base();
  a.layers["APP"] = {Level::info, {hydra::file(old_path)}};
  a.layers["APP"].destinations[0].flush_level = Level::critical;  // buffered until flushed
  hydra::Logger log(a);
  log.info("buffered in the old sink");

  LoggerConfig b = base();
  b.layers["APP"] = {Level::info, {hydra::file(dir.file("new.log"))}};
  log.reconfigure(b);
  // No flush() here: reconfigure itself writes out what the old file held.
  const auto lines = hydra::test::split_lines(hydra::test::read_file(old_path));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("buffered in the old sink"), std::string::npos);
}

// Threads log without pause while the configuration flips between two sets
// of sinks: every record lands exactly once, in one of them.
TEST_P(ReconfigureTest, NoRecordIsLostOrDuplicatedWhileReloading) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 4000;
  constexpr int kReloads = 40;
  std::vector<std::shared_ptr<RecordingSink>> sinks;
  LoggerConfig cfg = base();
  auto make = [&](int generation) {
    auto sink = std::make_shared<RecordingSink>();
    sinks.push_back(sink);
    LoggerConfig c = base();
    c.layers["APP"] = {Level::info, {hydra::to_sink(sink)}};
    c.layers["DB"] = {generation % 2 == 0 ? Level::info : Level::debug, {hydra::to_sink(sink)}};
    return c;
  };
  hydra::Logger log(make(0));
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto db = log.layer("DB");
      started.fetch_add(1);
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 2 == 0) {
          log.info("t{} n{}", t, i);
        } else {
          db.info("t{} n{}", t, i);
        }
      }
    });
  }
  while (started.load() < kThreads) std::this_thread::yield();
  for (int g = 1; g <= kReloads; ++g) log.reconfigure(make(g));
  for (auto& th : threads) th.join();
  log.flush();

  EXPECT_EQ(log.generation(), static_cast<std::uint64_t>(kReloads));
  std::vector<std::vector<int>> seen(kThreads);
  std::size_t total = 0;
  for (const auto& sink : sinks) {
    for (const auto& r : sink->records()) {
      int t = -1, n = -1;
      ASSERT_EQ(std::sscanf(r.message.c_str(), "t%d n%d", &t, &n), 2) << r.message;
      seen[static_cast<std::size_t>(t)].push_back(n);
      ++total;
    }
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kThreads * kPerThread));
  for (auto& numbers : seen) {
    std::sort(numbers.begin(), numbers.end());
    ASSERT_EQ(numbers.size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) ASSERT_EQ(numbers[static_cast<std::size_t>(i)], i);
  }
}

}  // namespace
