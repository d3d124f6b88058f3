// fork() in sync mode while other threads log into a buffered file: the
// child must not inherit buffered records (they would be written twice) nor a
// sink lock held by a thread it does not have (it would hang). (Named
// *ForkTest so that the TSan run, which cannot follow a process that forks
// while it has threads, leaves it out.)
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <hydra/hydra.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace {

using namespace std::chrono_literals;

TEST(SyncForkTest, ChildrenNeitherRepeatTheParentsRecordsNorHang) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("fork.log");
  constexpr int kThreads = 8;
  constexpr int kChildren = 10;
  constexpr int kChildRecords = 100;
  hydra::LoggerConfig cfg;
  auto destination = hydra::file(path);
  destination.buffer_size = 4096;  // frequent writes, each under the sink's lock
  destination.text.message_format = "{message}";
  cfg.layers["APP"].destinations = {destination};
  hydra::Logger log(cfg);
  auto app = log.layer("APP");

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> logged{0};
  // Records the threads may still log: granted before each fork, so that
  // they log busily around it without filling the disk in between.
  std::atomic<std::int64_t> budget{0};
  std::vector<int> per_thread(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        std::int64_t left = budget.load(std::memory_order_relaxed);
        if (left <= 0) {
          std::this_thread::yield();
          continue;
        }
        if (!budget.compare_exchange_weak(left, left - 1)) continue;
        app.info("thread {} record {}", t, i++);
        logged.fetch_add(1, std::memory_order_relaxed);
      }
      per_thread[t] = i;
    });
  }

  int hung = 0;
  int failed = 0;
  for (int c = 0; c < kChildren; ++c) {
    // Fork only while the threads are busy logging.
    const std::uint64_t start = logged.load();
    budget.fetch_add(40000);
    while (logged.load() < start + 2000) std::this_thread::yield();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int j = 0; j < kChildRecords; ++j) app.info("child {} record {}", c, j);
      log.shutdown();  // flushes, and stops the child's flusher thread
      std::_Exit(0);
    }
    // A watchdog: a child that has not ended in 20 s hangs.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    int status = 0;
    pid_t done = 0;
    while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    if (done != pid) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ++hung;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
    }
  }
  stop = true;
  for (auto& th : threads) th.join();
  log.flush();
  EXPECT_EQ(hung, 0) << hung << " of " << kChildren << " children hung";
  EXPECT_EQ(failed, 0);

  // How many times each record is in the file.
  std::vector<std::vector<int>> seen(kThreads);
  for (int t = 0; t < kThreads; ++t) seen[t].resize(static_cast<std::size_t>(per_thread[t]));
  std::vector<std::vector<int>> children(kChildren, std::vector<int>(kChildRecords));
  const auto count = [](std::vector<int>& times, int i) {
    if (i >= 0 && static_cast<std::size_t>(i) < times.size()) ++times[static_cast<std::size_t>(i)];
  };
  const std::string contents = hydra::test::read_file(path);
  for (std::size_t start = 0; start < contents.size();) {
    std::size_t end = contents.find('\n', start);
    if (end == std::string::npos) end = contents.size();
    const std::string line = contents.substr(start, end - start);
    start = end + 1;
    int a = -1;
    int b = -1;
    if (std::sscanf(line.c_str(), "thread %d record %d", &a, &b) == 2 && a >= 0 && a < kThreads) {
      count(seen[static_cast<std::size_t>(a)], b);
    } else if (std::sscanf(line.c_str(), "child %d record %d", &a, &b) == 2 && a >= 0 &&
               a < kChildren) {
      count(children[static_cast<std::size_t>(a)], b);
    } else {
      ADD_FAILURE() << "not a whole record: " << line;
    }
  }
  int twice = 0;
  int missing = 0;
  for (const auto& times : seen) {
    for (const int n : times) {
      twice += n > 1 ? 1 : 0;
      missing += n == 0 ? 1 : 0;
    }
  }
  EXPECT_EQ(twice, 0) << twice << " parent records written more than once";
  EXPECT_EQ(missing, 0) << missing << " parent records missing";
  if (hung == 0) {
    for (const auto& times : children) {
      for (const int n : times) EXPECT_EQ(n, 1);
    }
  }
}

}  // namespace
