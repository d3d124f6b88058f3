// The crash handler and a signal that lands while a thread is inside a sink
// (holding the sink's lock): the handler must never wait for that lock, and
// must still write what the sink held. Each test forks a child that dies by
// the signal; the parent checks that it ended (a watchdog kills a hung one)
// and what reached the file. (The suites are named *CrashTest so that the
// TSan run, which cannot follow these processes, leaves them out.)
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <hydra/async/crash_handler.hpp>
#include <hydra/hydra.hpp>
#include <hydra/sink/file_sink.hpp>
#include <hydra/sink/rotating_file_sink.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

using namespace std::chrono_literals;

// Waits for `pid`; if it has not ended within `limit` (hung: that is the
// failure these tests look for), kills it with SIGKILL and returns -1.
int wait_or_kill(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(5ms);  // a watchdog's pace, not a synchronisation
  }
}

bool died_by(int status, int signo) {
  return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == signo;
}

std::string record_line(int i) {
  return "record " + std::to_string(i);
}

class SinkCrashTest : public testing::TestWithParam<hydra::LoggerMode> {};

// The signal is raised from inside FileSink::write (by the sink's clock,
// which it reads under its lock when it reports a lost record): the crash
// handler runs on the thread that holds the lock, as an external SIGTERM
// delivered at that moment would. In async mode that thread is the backend.
TEST_P(SinkCrashTest, ASignalInsideAFileSinkWritesWhatItHeldAndEnds) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("app.log");
  constexpr int kKept = 20;  // what the sink holds when the signal comes
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    hydra::install_crash_handler();
    hydra::FileSinkOptions options;
    options.path = path;
    options.max_pending = 0;
    for (int i = 0; i < kKept; ++i) options.max_pending += record_line(i).size() + 1;
    options.clock = [] {
      ::raise(SIGTERM);
      return std::chrono::steady_clock::now();
    };
    auto file = std::make_shared<hydra::FileSink>(options);
    file->inject_write_failures(1000000, EIO);  // nothing gets out: all is held
    hydra::LoggerConfig cfg;
    cfg.mode = GetParam();
    auto destination = hydra::to_sink(file, "text");
    destination.text.message_format = "{message}";
    cfg.layers["APP"].destinations = {destination};
    auto* log = new hydra::Logger(cfg);
    // Each record tries to write; the one past max_pending is dropped, and
    // reporting that reads the clock.
    for (int i = 0; i <= kKept; ++i) log->layer("APP").error("record {}", i);
    for (;;) ::pause();  // the signal ends the process
  }
  const int status = wait_or_kill(pid, 20s);
  ASSERT_TRUE(died_by(status, SIGTERM)) << "status " << status << " (-1: hung)";
  const auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  // In async mode the handler's drain delivers again the record the backend
  // was delivering when the signal came (it is still at its queue's head):
  // here the one that had been dropped.
  const std::size_t expected = GetParam() == hydra::LoggerMode::async ? kKept + 1 : kKept;
  ASSERT_EQ(lines.size(), expected);
  for (std::size_t i = 0; i < expected; ++i) EXPECT_EQ(lines[i], record_line(static_cast<int>(i)));
}

INSTANTIATE_TEST_SUITE_P(BothModes, SinkCrashTest,
                         testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const testing::TestParamInfo<hydra::LoggerMode>& info) {
                           return std::string(info.param == hydra::LoggerMode::sync ? "sync"
                                                                                    : "async");
                         });

// The same inside a rotating file sink (its clock is read under its own
// lock, before the record reaches the file), in sync mode.
TEST(SyncCrashTest, ASignalInsideARotatingFileSinkWritesWhatItHeldAndEnds) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("app.log");
  constexpr int kRecords = 20;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    hydra::install_crash_handler();
    static std::atomic<int> calls{0};
    hydra::RotatingFileSinkOptions options;
    options.file.path = path;
    options.interval = hydra::RotationInterval::daily;
    options.clock = [] {
      // Once at construction, once per record: the signal comes with the
      // last record, while the earlier ones wait in the buffer.
      if (calls.fetch_add(1) == kRecords) ::raise(SIGTERM);
      return std::chrono::system_clock::now();
    };
    auto sink = std::make_shared<hydra::RotatingFileSink>(options);
    hydra::LoggerConfig cfg;
    auto destination = hydra::to_sink(sink, "text");
    destination.text.message_format = "{message}";
    cfg.layers["APP"].destinations = {destination};
    auto* log = new hydra::Logger(cfg);
    for (int i = 0; i < kRecords; ++i) log->layer("APP").info("record {}", i);
    std::_Exit(3);  // not reached
  }
  const int status = wait_or_kill(pid, 20s);
  ASSERT_TRUE(died_by(status, SIGTERM)) << "status " << status << " (-1: hung)";
  const auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRecords - 1));
  for (int i = 0; i < kRecords - 1; ++i) EXPECT_EQ(lines[i], record_line(i));
}

// An external SIGTERM at a random moment while several threads log in sync
// mode, each record written at once (so that threads spend most of their
// time in write(2), under the sink's lock). The process that gets it always
// ends, by SIGTERM, and every line in the file is whole.
TEST(SyncCrashTest, AnExternalSigtermWhileThreadsLogAlwaysEnds) {
  constexpr int kRuns = 20;
  constexpr int kThreads = 4;
  int ended = 0;
  for (int run = 0; run < kRuns; ++run) {
    hydra::test::TempDir dir;
    const std::string path = dir.file("app.log");
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(ready[0]);
      hydra::LoggerConfig cfg;
      cfg.crash_handler = true;
      auto destination = hydra::file(path);
      destination.flush_level = hydra::Level::trace;  // every record: one write(2) under the lock
      destination.text.message_format = "{message}";
      cfg.layers["APP"].destinations = {destination};
      auto* log = new hydra::Logger(cfg);
      for (int t = 1; t < kThreads; ++t) {
        std::thread([log, t] {
          for (int i = 0;; ++i) log->layer("APP").info("thread {} record {}", t, i);
        }).detach();
      }
      // The main thread logs too: a process-directed signal goes to it first.
      for (int i = 0;; ++i) {
        log->layer("APP").info("thread {} record {}", 0, i);
        if (i == 1000) {
          const char byte = 1;
          (void)!::write(ready[1], &byte, 1);
        }
      }
    }
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);  // it is logging
    ::close(ready[0]);
    ::kill(pid, SIGTERM);
    const int status = wait_or_kill(pid, 20s);
    if (died_by(status, SIGTERM)) ++ended;
    for (const auto& line : hydra::test::split_lines(hydra::test::read_file(path))) {
      int t = -1;
      int i = -1;
      char rest = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "thread %d record %d%c", &t, &i, &rest), 2)
          << "run " << run << ": " << line;
    }
  }
  EXPECT_EQ(ended, kRuns) << kRuns - ended << " of " << kRuns << " runs hung or died otherwise";
}

}  // namespace
