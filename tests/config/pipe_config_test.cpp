// `hydra pipe --config FILE`: records go through the file's layers and
// destinations, with --layer and --level choosing the records' layer and level.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>

#include "test_util.hpp"

#if defined(HYDRA_CLI)

namespace {

using hydra::test::read_file;
using hydra::test::run_process;
using hydra::test::split_lines;
using hydra::test::TempDir;
using hydra::test::write_file;

// The routing test also redacts, where the protect module is built.
#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
constexpr bool kRedacts = true;
#else
constexpr bool kRedacts = false;
#endif

TEST(PipeConfig, RoutesThroughTheFilesLayersAndDestinations) {
  TempDir dir;
  const std::string app = dir.file("app.log"), db = dir.file("db.jsonl"),
                    errors = dir.file("errors.log");
  const std::string config = dir.file("pipe.toml");
  // (Appended piece by piece: GCC 12 warns falsely (-Warray-bounds) on a
  // long chain of std::string operator+.)
  std::string text = "mode = \"async\"\n";
  if (kRedacts) text += "redact = true\n";
  text += "[[layers.APP.destinations]]\ntype = \"file\"\npath = \"" + app + "\"\n";
  text += "message_format = \"{level} {layer} {message}\"\n";
  text += "[[layers.APP.destinations]]\ntype = \"file\"\nlevel = \"error\"\npath = \"" + errors;
  text += "\"\nmessage_format = \"{message}\"\n";
  text += "[[layers.DB.destinations]]\ntype = \"file\"\nformat = \"json\"\npath = \"" + db + "\"\n";
  write_file(config, text);
  auto r = run_process({HYDRA_CLI, "pipe", "--config", config}, "one\nmail bob@example.com\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(split_lines(read_file(app)),
            (std::vector<std::string>{"INFO APP one", kRedacts ? "INFO APP mail [REDACTED_EMAIL]"
                                                               : "INFO APP mail bob@example.com"}));
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

// A value past its bound is a configuration error with file and line, never
// a std::bad_alloc that aborts the pipe.
TEST(PipeConfig, AValuePastItsBoundIsAnErrorNotAnAbort) {
  TempDir dir;
  const std::string config = dir.file("big.toml");
  write_file(config, "[[layers.APP.destinations]]\ntype = \"file\"\npath = \"" +
                         dir.file("app.log") + "\"\nbuffer_size = \"100GB\"\n");
  const auto r = run_process({HYDRA_CLI, "pipe", "--config", config}, "x\n");
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(
      r.err.find("big.toml:4: layers.APP.destinations[0].buffer_size: '100GB' is out of range"),
      std::string::npos)
      << r.err;
}

// With a file destination the logger runs a flusher thread; a signal sent to
// the process must still find every line read already queued (the threads
// the logger starts inherit the blocked signals).
TEST(PipeConfig, KilledAsyncPipeWithFileDestinationsKeepsEveryLineRead) {
  TempDir dir;
  const std::string out = dir.file("out.log"), config = dir.file("kill.toml");
  write_file(config, "mode = \"async\"\n[[layers.APP.destinations]]\ntype = \"file\"\npath = \"" +
                         out + "\"\nmessage_format = \"{message}\"\n");
  constexpr int kLines = 3000;
  std::string input;
  for (int i = 0; i < kLines; ++i) input += "line " + std::to_string(i) + "\n";
  std::string error;
  const int status = hydra::test::kill_after_input_is_read({HYDRA_CLI, "pipe", "--config", config},
                                                           input, SIGTERM, {}, &error);
  ASSERT_NE(status, -1) << error;
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  const auto lines = split_lines(read_file(out));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  EXPECT_EQ(lines.back(), "line 2999");
}

}  // namespace

#endif
