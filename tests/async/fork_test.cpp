// fork(): the child gets a working logger; what was logged before the fork is
// written once (by the parent), never twice; both processes go on logging.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <hydra/hydra.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

class ForkTest : public testing::TestWithParam<hydra::LoggerMode> {};

TEST_P(ForkTest, BothProcessesLogAndNothingIsWrittenTwice) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("fork.log");
  hydra::LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.layers["APP"].destinations = {hydra::file(path)};  // buffered: flushed at fork
  hydra::Logger log(cfg);
  for (int i = 0; i < 100; ++i) log.info("before {}", i);

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    for (int i = 0; i < 50; ++i) log.info("child {}", i);
    log.flush();
    std::_Exit(0);  // no exit handlers: the flush above is what counts
  }
  for (int i = 0; i < 50; ++i) log.info("parent {}", i);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  log.flush();

  auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  auto count = [&](const std::string& what) {
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find(what) != std::string::npos; });
  };
  EXPECT_EQ(lines.size(), 200u);
  EXPECT_EQ(count(" before "), 100);
  EXPECT_EQ(count(" child "), 50);
  EXPECT_EQ(count(" parent "), 50);
  for (int i = 0; i < 100; ++i) {
    const std::string end = " before " + std::to_string(i);
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [&](const std::string& l) { return l.ends_with(end); }),
              1)
        << "record " << i << " written more or less than once";
  }
}

// Forks while other threads log: the child's logger must work although the
// parent's backend was asleep on the engine's condition variable, and a
// logging thread may have been notifying it, at the fork. (The child once
// hung in its first flush, waiting for the parent's waiter to leave the
// condition variable.) Each child logs, flushes and shuts its logger down;
// one that has not exited after 30 s is taken as hung.
TEST(ForkTest, AChildForkedWhileThreadsLogFlushesAndStops) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("fork.log");
  hydra::LoggerConfig cfg;
  cfg.mode = hydra::LoggerMode::async;
  cfg.async.queue_capacity = 4096;  // small: the threads often wait for room
  cfg.layers["APP"].destinations = {hydra::file(path)};
  auto log = std::make_unique<hydra::Logger>(cfg);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) log->info("thread {} {}", t, i);
    });
  }
  constexpr int kForks = 20;
  int children_ok = 0;
  for (int n = 0; n < kForks; ++n) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      log->info("child {}", n);
      log->flush();
      log->shutdown();
      std::_Exit(0);
    }
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    pid_t done = 0;
    while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (done == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "child " << n << " hung";
      break;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++children_ok;
  }
  stop = true;
  for (auto& t : threads) t.join();
  log->flush();
  EXPECT_EQ(children_ok, kForks);
  const auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  EXPECT_EQ(
      std::count_if(lines.begin(), lines.end(),
                    [](const std::string& l) { return l.find(" child ") != std::string::npos; }),
      children_ok);
  const auto m = log->metrics();
  EXPECT_EQ(m.async.records_in, m.async.records_out);
  EXPECT_EQ(m.async.dropped_full, 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, ForkTest,
                         testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const testing::TestParamInfo<hydra::LoggerMode>& info) {
                           return std::string(info.param == hydra::LoggerMode::sync ? "sync"
                                                                                    : "async");
                         });

}  // namespace
