// A child process logs records that are still queued (its backend is held)
// and then dies; with the crash handler installed, every record is in the
// file and the child still dies by the same signal.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <hydra/hydra.hpp>
#include <stdexcept>
#include <string>

#include "test_util.hpp"

namespace {

enum class Death { segv, abort, term, interrupt, terminate };

struct Case {
  Death death;
  int signal;
  const char* name;
};

class CrashTest : public testing::TestWithParam<Case> {};

// A real invalid access. Not instrumented, so that the sanitizer builds let
// the hardware fault happen instead of reporting the store themselves. The
// pointer itself is volatile: a compiler that sees the store is to null
// may drop it (GCC 12 at -Og did).
__attribute__((no_sanitize("address", "undefined"))) void segfault() {
  int* volatile null = nullptr;
  *null = 1;
}

[[noreturn]] void die(Death death) {
  switch (death) {
    case Death::segv: segfault(); break;
    case Death::abort: std::abort();
    case Death::term: ::raise(SIGTERM); break;
    case Death::interrupt: ::raise(SIGINT); break;
    case Death::terminate: std::terminate();
  }
  std::_Exit(99);  // not reached when the signal kills
}

TEST_P(CrashTest, QueuedRecordsAreWrittenBeforeDying) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("crash.log");
  constexpr int kRecords = 1000;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    hydra::install_crash_handler();
    hydra::LoggerConfig cfg;
    cfg.mode = hydra::LoggerMode::async;
    cfg.layers["APP"].destinations = {hydra::file(path)};
    auto* log = new hydra::Logger(cfg);
    log->info("first");  // starts the backend...
    log->flush();
    hydra::detail::pause_backend_for_test(*log, true);  // ...and holds it: records stay queued
    for (int i = 1; i < kRecords; ++i) log->info("record {}", i);
    die(GetParam().death);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited normally with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), GetParam().signal);
  auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRecords));
  EXPECT_NE(lines.back().find("record 999"), std::string::npos);
}

// LoggerConfig::crash_handler installs the handler when the logger is built
// (the production-style presets set it): a SIGTERM still writes the queue.
TEST(CrashHandlerOption, TheLoggerInstallsItAndItWorks) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("option.log");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    hydra::LoggerConfig cfg;
    cfg.mode = hydra::LoggerMode::async;
    cfg.crash_handler = true;
    cfg.layers["APP"].destinations = {hydra::file(path)};
    auto* log = new hydra::Logger(cfg);
    log->info("first");
    log->flush();
    hydra::detail::pause_backend_for_test(*log, true);
    for (int i = 1; i < 100; ++i) log->info("record {}", i);
    ::raise(SIGTERM);
    ::_exit(3);  // not reached: SIGTERM takes its default course after the flush
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited normally with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(hydra::test::split_lines(hydra::test::read_file(path)).size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(Deaths, CrashTest,
                         testing::Values(Case{Death::segv, SIGSEGV, "segv"},
                                         Case{Death::abort, SIGABRT, "abort"},
                                         Case{Death::term, SIGTERM, "term"},
                                         Case{Death::interrupt, SIGINT, "interrupt"},
                                         Case{Death::terminate, SIGABRT, "terminate"}),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
