// `hydra pipe --config FILE`: records go through the file's layers and
// destinations, with --layer and --level choosing the records' layer and level.
#include <gtest/gtest.h>

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

}  // namespace

#endif
