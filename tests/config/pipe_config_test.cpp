// `hydra pipe --config FILE`: records go through the file's layers and
// destinations, with --layer and --level choosing the records' layer and level.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "test_util.hpp"

#if defined(HYDRA_CLI)

namespace {

using hydra::test::read_file;
using hydra::test::run_process;
using hydra::test::split_lines;
using hydra::test::TempDir;
using hydra::test::write_file;

TEST(PipeConfig, RoutesThroughTheFilesLayersAndDestinations) {
  TempDir dir;
  const std::string app = dir.file("app.log"), db = dir.file("db.jsonl"),
                    errors = dir.file("errors.log");
  const std::string config = dir.file("pipe.toml");
  write_file(config,
             "mode = \"async\"\nredact = true\n"
             "[[layers.APP.destinations]]\ntype = \"file\"\npath = \"" +
                 app +
                 "\"\nmessage_format = \"{level} {layer} {message}\"\n"
                 "[[layers.APP.destinations]]\ntype = \"file\"\nlevel = \"error\"\npath = \"" +
                 errors +
                 "\"\nmessage_format = \"{message}\"\n"
                 "[[layers.DB.destinations]]\ntype = \"file\"\nformat = \"json\"\npath = \"" +
                 db + "\"\n");
  auto r = run_process({HYDRA_CLI, "pipe", "--config", config}, "one\nmail bob@example.com\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(split_lines(read_file(app)),
            (std::vector<std::string>{"INFO APP one", "INFO APP mail [REDACTED_EMAIL]"}));
  EXPECT_EQ(read_file(errors), "");

  r = run_process({HYDRA_CLI, "pipe", "--config", config, "--layer", "APP", "--level", "error"},
                  "bad thing\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(errors), "bad thing\n");

  r = run_process({HYDRA_CLI, "pipe", "--config", config, "--layer", "DB"}, "query\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(db).find("\"message\":\"query\""), std::string::npos) << read_file(db);
}

TEST(PipeConfig, BadFileAndConflictingOptionsAreClearErrors) {
  TempDir dir;
  const std::string config = dir.file("bad.yaml");
  write_file(config, "layers:\n  APP:\n    levle: debug\n");
  auto r = run_process({HYDRA_CLI, "pipe", "--config", config}, "x\n");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("bad.yaml:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("levle"), std::string::npos) << r.err;

  r = run_process({HYDRA_CLI, "pipe", "--config", config, "--format", "json"}, "x\n");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("--format cannot be combined with --config"), std::string::npos) << r.err;
}

// With a file destination the logger runs a flusher thread; a signal sent to
// the process must still find every line read already queued (the threads
// the logger starts inherit the blocked signals).
TEST(PipeConfig, KilledAsyncPipeWithFileDestinationsKeepsEveryLineRead) {
  TempDir dir;
  const std::string out = dir.file("out.log"), config = dir.file("kill.toml");
  write_file(config, "mode = \"async\"\n[[layers.APP.destinations]]\ntype = \"file\"\npath = \"" +
                         out + "\"\nmessage_format = \"{message}\"\n");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<std::string> argv = {HYDRA_CLI, "pipe", "--config", config};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  constexpr int kLines = 3000;
  std::string input;
  for (int i = 0; i < kLines; ++i) input += "line " + std::to_string(i) + "\n";
  for (std::size_t sent = 0; sent < input.size();) {
    const ssize_t n = ::write(fds[1], input.data() + sent, input.size() - sent);
    ASSERT_GT(n, 0);
    sent += static_cast<std::size_t>(n);
  }
  int unread = 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (unread > 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(::ioctl(fds[0], FIONREAD, &unread), 0);
    std::this_thread::yield();
  }
  ASSERT_EQ(unread, 0);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  const auto lines = split_lines(read_file(out));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  EXPECT_EQ(lines.back(), "line 2999");
}

}  // namespace

#endif
