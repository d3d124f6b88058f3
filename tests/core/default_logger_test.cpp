// The process-wide default logger and the free functions (hydra::info(...)):
// zero-config on first use, replaced while threads log without losing a
// record, usable at exit. LoggerDefaultTest runs under TSan (scripts/test.sh).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <hydra/hydra.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/recording_sink.hpp"
#include "format/format_test_support.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::test::RecordingSink;

// A logger whose layers (APP and the three special ones) all write to `sink`.
std::shared_ptr<hydra::Logger> recording_logger(const std::shared_ptr<RecordingSink>& sink,
                                                hydra::LoggerMode mode = hydra::LoggerMode::sync) {
  LoggerConfig cfg;
  cfg.mode = mode;
  cfg.name = "default";
  cfg.default_level = Level::trace;
  for (const char* layer : {"APP", "SECURITY", "AUDIT", "COMPLIANCE"}) {
    cfg.layers[layer].destinations = {hydra::to_sink(sink)};
  }
  return std::make_shared<hydra::Logger>(std::move(cfg));
}

// Leaves the process without a default of this test's making.
struct ResetDefault {
  ~ResetDefault() { hydra::set_default_logger(nullptr); }
};

TEST(LoggerDefaultTest, FreeFunctionsAreTheMembersTwinsWithTheCallersSource) {
  ResetDefault reset;
  auto sink = std::make_shared<RecordingSink>();
  hydra::set_default_logger(recording_logger(sink));
  const int line = __LINE__ + 1;
  hydra::trace("t {n}", 1);
  hydra::debug("d");
  hydra::info("user {user} logged in", "alice");
  hydra::warning("w");
  hydra::error("e");
  hydra::critical("c");
  hydra::security("s");
  hydra::audit("a");
  hydra::compliance("co");
  hydra::log(Level::warning, "runtime level {}", 2);
  hydra::log(Level::off, "never written");
  hydra::info(hydra::runtime("runtime {} template"), 3);
  hydra::default_logger()->flush();
  const auto recs = sink->records();
  ASSERT_EQ(recs.size(), 11u);
  const Level levels[] = {Level::trace,      Level::debug,    Level::info,     Level::warning,
                          Level::error,      Level::critical, Level::security, Level::audit,
                          Level::compliance, Level::warning,  Level::info};
  for (std::size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].level, levels[i]) << i;
  EXPECT_EQ(recs[0].field("n"), "1");
  EXPECT_EQ(recs[0].line, static_cast<std::uint32_t>(line));
  EXPECT_EQ(std::string(recs[0].file), __FILE__);
  EXPECT_EQ(recs[2].message, "user alice logged in");
  EXPECT_EQ(recs[2].layer, "APP");
  EXPECT_EQ(recs[6].layer, "SECURITY");
  EXPECT_EQ(recs[7].layer, "AUDIT");
  EXPECT_EQ(recs[8].layer, "COMPLIANCE");
  EXPECT_EQ(recs[9].message, "runtime level 2");
  EXPECT_EQ(recs[10].message, "runtime 3 template");
}

TEST(LoggerDefaultTest, IsAZeroConfigLoggerMadeOnFirstUse) {
  ResetDefault reset;
  hydra::test::CleanEnv clean;
  hydra::test::ScopedEnv env(
      {{"HYDRA_LOG_LEVEL", std::nullopt}, {"HYDRA_LOG_FORMAT", std::nullopt}});
  hydra::set_default_logger(nullptr);  // whatever an earlier test left: made again on first use
  testing::internal::CaptureStdout();
  hydra::info("first use {n}", 1);
  hydra::debug("below zero-config's info");
  const std::string out = testing::internal::GetCapturedStdout();
  const auto lines = hydra::test::split_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_NE(lines[0].find("INFO  [APP] first use 1 n=1"), std::string::npos) << lines[0];
  const auto made = hydra::default_logger();
  ASSERT_NE(made, nullptr);
  EXPECT_EQ(hydra::default_logger(), made);  // the same one, not a new one per call
}

// A replaced default is flushed at once, and stays valid for whoever still
// holds a handle into it (or is inside a call on it).
TEST(LoggerDefaultTest, AReplacedDefaultIsFlushedAndStaysValid) {
  ResetDefault reset;
  hydra::test::TempDir dir;
  const std::string path = dir.file("old.log");
  LoggerConfig cfg;
  auto buffered = hydra::file(path);
  buffered.flush_level = Level::critical;
  buffered.flush_interval = std::chrono::milliseconds(0);
  cfg.layers["APP"].destinations = {buffered};
  auto old_default = std::make_shared<hydra::Logger>(cfg);
  hydra::LayerLogger held = old_default->layer("APP");
  hydra::set_default_logger(old_default);
  old_default.reset();  // the default keeps it
  hydra::info("buffered in the old default");
  EXPECT_EQ(hydra::test::read_file(path), "");

  auto sink = std::make_shared<RecordingSink>();
  hydra::set_default_logger(recording_logger(sink));
  EXPECT_NE(hydra::test::read_file(path).find("buffered in the old default"), std::string::npos);
  held.info("through a handle into the replaced default");
  hydra::info("to the new default");
  ASSERT_EQ(sink->size(), 1u);
  EXPECT_EQ(sink->records()[0].message, "to the new default");
}

// Threads log through the free functions while the default is swapped
// between two loggers: every record reaches one of them, none twice. In both
// modes; TSan checks the swap against the calls.
class LoggerDefaultSwapTest : public testing::TestWithParam<hydra::LoggerMode> {};
INSTANTIATE_TEST_SUITE_P(BothModes, LoggerDefaultSwapTest,
                         testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const testing::TestParamInfo<hydra::LoggerMode>& info) {
                           return info.param == hydra::LoggerMode::sync ? "sync" : "async";
                         });

TEST_P(LoggerDefaultSwapTest, ReplacingTheDefaultWhileThreadsLogLosesNothing) {
  ResetDefault reset;
  auto sink_a = std::make_shared<RecordingSink>();
  auto sink_b = std::make_shared<RecordingSink>();
  const auto a = recording_logger(sink_a, GetParam());
  const auto b = recording_logger(sink_b, GetParam());
  hydra::set_default_logger(a);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&running, t] {
      for (int i = 0; i < kPerThread; ++i) hydra::info("t{} r{}", t, i);
      running.fetch_sub(1);
    });
  }
  int swaps = 0;
  while (running.load() > 0) {  // swaps for as long as any thread logs
    hydra::set_default_logger(swaps % 2 == 0 ? b : a);
    ++swaps;
  }
  for (auto& thread : threads) thread.join();
  a->flush();
  b->flush();
  EXPECT_GT(swaps, 0);
  EXPECT_EQ(sink_a->size() + sink_b->size(), std::size_t{kThreads} * kPerThread);
  std::vector<std::string> seen;
  for (const auto& sink : {sink_a, sink_b}) {
    for (const auto& r : sink->records()) seen.push_back(r.message);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "a record written twice";
}

// At exit the default is still there: an atexit handler and a static
// destructor that run after main() may log through it. In a child process
// (its exit runs the handlers); not under TSan (a fork with threads).
TEST(DefaultLoggerAtExit, AtexitHandlersAndStaticDestructorsMayLog) {
  hydra::test::TempDir dir;
  const std::string out_path = dir.file("stdout");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    LoggerConfig cfg;
    cfg.layers["APP"].destinations = {hydra::console("text", hydra::ColorMode::never)};
    hydra::set_default_logger(std::make_shared<hydra::Logger>(cfg));
    struct LogsWhenDestroyed {
      ~LogsWhenDestroyed() { hydra::info("from a static destructor"); }
    };
    static LogsWhenDestroyed logs_when_destroyed;
    std::atexit([] { hydra::info("from an atexit handler"); });
    hydra::info("from main");
    std::exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string out = hydra::test::read_file(out_path);
  for (const char* line : {"from main", "from an atexit handler", "from a static destructor"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << " missing from:\n" << out;
  }
}

}  // namespace
