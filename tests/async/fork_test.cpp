// fork(): the child gets a working logger; what was logged before the fork is
// written once (by the parent), never twice; both processes go on logging.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <hydra/hydra.hpp>
#include <string>
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

INSTANTIATE_TEST_SUITE_P(Modes, ForkTest,
                         testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const testing::TestParamInfo<hydra::LoggerMode>& info) {
                           return std::string(info.param == hydra::LoggerMode::sync ? "sync"
                                                                                    : "async");
                         });

}  // namespace
