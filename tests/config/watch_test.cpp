// Hot reload through ConfigWatcher: real files, real inotify. Each test waits
// for the watcher's attempt counter (a condition variable), never sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <hydra/config/watch.hpp>
#include <hydra/hydra.hpp>
#include <string>
#include <thread>
#include <vector>

#include "config/config_test_util.hpp"

namespace {

using hydra::test::read_file;
using hydra::test::split_lines;
using hydra::test::TempDir;
using hydra::test::write_file;

constexpr auto kWait = std::chrono::seconds(20);

class WatchTest : public testing::TestWithParam<std::string> {
 protected:
  // A configuration whose APP layer writes to `log` at `level`.
  std::string config(const std::string& log, const std::string& level) const {
    return "name = \"watched\"\nmode = \"" + GetParam() + "\"\n[layers.APP]\nlevel = \"" + level +
           "\"\n[[layers.APP.destinations]]\ntype = \"file\"\npath = \"" + log +
           "\"\nformat = \"logfmt\"\n";
  }
  hydra::ConfigSources sources(const std::string& file) const {
    hydra::ConfigSources s;
    s.file = file;
    s.env = hydra::env_from_map({});
    return s;
  }
};

INSTANTIATE_TEST_SUITE_P(BothModes, WatchTest, testing::Values("sync", "async"),
                         [](const auto& info) { return info.param; });

std::size_t count_lines_with(const std::string& path, const std::string& text) {
  std::size_t n = 0;
  if (!std::filesystem::exists(path)) return 0;
  for (const auto& line : split_lines(read_file(path))) {
    if (line.find(text) != std::string::npos) ++n;
  }
  return n;
}

TEST_P(WatchTest, ARewrittenFileSwitchesLevelsAndDestinations) {
  TempDir dir;
  const std::string cfg = dir.file("hydra.toml");
  const std::string first = dir.file("first.log");
  const std::string second = dir.file("second.log");
  write_file(cfg, config(first, "info"));
  const auto src = sources(cfg);
  hydra::Logger log(hydra::resolve_config(src).config);
  hydra::ConfigWatcher watcher(log, src);
  EXPECT_EQ(watcher.path(), std::filesystem::absolute(cfg));

  log.debug("filtered-before");
  log.info("before-reload");
  write_file(cfg, config(second, "debug"));
  const auto result = watcher.wait_for_attempt(1, kWait);
  ASSERT_TRUE(result.has_value()) << "no reload within " << kWait.count() << " s";
  EXPECT_TRUE(result->ok) << result->error;
  EXPECT_EQ(result->attempt, 1u);
  log.debug("after-reload");
  log.flush();

  EXPECT_EQ(count_lines_with(first, "before-reload"), 1u);
  EXPECT_EQ(count_lines_with(first, "filtered-before"), 0u);
  EXPECT_EQ(count_lines_with(first, "after-reload"), 0u);
  EXPECT_EQ(count_lines_with(second, "after-reload"), 1u);
  EXPECT_EQ(log.generation(), 1u);
}

TEST_P(WatchTest, ABrokenFileIsReportedAndTheOldConfigurationStays) {
  TempDir dir;
  const std::string cfg = dir.file("hydra.toml");
  const std::string first = dir.file("first.log");
  write_file(cfg, config(first, "info"));
  const auto src = sources(cfg);
  hydra::Logger log(hydra::resolve_config(src).config);
  std::vector<hydra::ReloadResult> seen;  // written by the watcher thread before it counts
  hydra::ConfigWatcher watcher(log, src, [&](const hydra::ReloadResult& r) { seen.push_back(r); });

  write_file(cfg, config(first, "info") + "colour_mode = \"never\"\n");  // unknown key
  auto result = watcher.wait_for_attempt(1, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok);
  hydra::test::expect_mentions(result->error, {"hydra.toml", "colour_mode"});
  log.info("kept-old-config");

  // A valid file naming an unopenable path: refused as well.
  write_file(cfg, config("/dev/null/x.log", "info"));
  result = watcher.wait_for_attempt(2, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok);
  hydra::test::expect_mentions(result->error, {"/dev/null/x.log"});
  log.info("still-old-config");

  // A file changing a setting fixed at construction: refused.
  std::string other_mode = config(first, "info");
  const std::string mode_line = "mode = \"" + GetParam() + "\"";
  other_mode.replace(other_mode.find(mode_line), mode_line.size(),
                     GetParam() == "sync" ? "mode = \"async\"" : "mode = \"sync\"");
  write_file(cfg, other_mode);
  result = watcher.wait_for_attempt(3, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok);
  hydra::test::expect_mentions(result->error, {"mode: cannot change"});

  // Fixed again: accepted.
  write_file(cfg, config(first, "warning"));
  result = watcher.wait_for_attempt(4, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok) << result->error;
  log.info("below-new-level");
  log.warning("at-new-level");
  log.flush();

  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(log.generation(), 1u);
  EXPECT_EQ(count_lines_with(first, "kept-old-config"), 1u);
  EXPECT_EQ(count_lines_with(first, "still-old-config"), 1u);
  EXPECT_EQ(count_lines_with(first, "below-new-level"), 0u);
  EXPECT_EQ(count_lines_with(first, "at-new-level"), 1u);
}

// An empty file is refused like a broken one: most often it is a file caught
// between being truncated and being written, and taking it would move all
// output to the zero-config console.
TEST_P(WatchTest, AnEmptyFileIsRefusedAndTheOldConfigurationStays) {
  TempDir dir;
  const std::string cfg = dir.file("hydra.toml");
  const std::string first = dir.file("first.log");
  write_file(cfg, config(first, "info"));
  const auto src = sources(cfg);
  hydra::Logger log(hydra::resolve_config(src).config);
  hydra::ConfigWatcher watcher(log, src, [](const hydra::ReloadResult&) {});

  write_file(cfg, "");
  auto result = watcher.wait_for_attempt(1, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok);
  hydra::test::expect_mentions(result->error, {"hydra.toml", "no settings"});
  testing::internal::CaptureStdout();
  log.info("kept-old-config");
  log.flush();
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out.find("kept-old-config"), std::string::npos) << out;
  EXPECT_EQ(count_lines_with(first, "kept-old-config"), 1u);
  EXPECT_EQ(log.generation(), 0u);

  write_file(cfg, "# comments only\n");
  result = watcher.wait_for_attempt(2, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok);

  write_file(cfg, config(first, "warning"));  // filled in: taken
  result = watcher.wait_for_attempt(3, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok) << result->error;
  EXPECT_EQ(log.generation(), 1u);
}

// A layer the new file no longer configures goes back to default_level,
// whatever it had before: its own level, or one set with set_level().
TEST_P(WatchTest, ARemovedLayerReturnsToTheDefaultLevel) {
  TempDir dir;
  const std::string cfg = dir.file("hydra.toml");
  const std::string app = dir.file("app.log");
  const std::string db = dir.file("db.log");
  const std::string with_db = config(app, "info") +
                              "[layers.DATABASE]\nlevel = \"debug\"\n"
                              "[[layers.DATABASE.destinations]]\ntype = \"file\"\npath = \"" +
                              db +
                              "\"\n[layers.CACHE]\nlevel = \"info\"\n"
                              "[[layers.CACHE.destinations]]\ntype = \"null\"\n";
  write_file(cfg, with_db);
  const auto src = sources(cfg);
  hydra::Logger log(hydra::resolve_config(src).config);
  hydra::ConfigWatcher watcher(log, src);
  // Never configured, and no DEFAULT to fall back to: default_level too.
  EXPECT_EQ(log.level("OTHER"), hydra::Level::info);
  log.layer("DATABASE").debug("db-debug-before");
  log.set_level("CACHE", hydra::Level::trace);
  ASSERT_TRUE(log.should_log("CACHE", hydra::Level::trace));

  write_file(cfg, config(app, "info"));  // APP only: no DATABASE, CACHE, DEFAULT
  const auto result = watcher.wait_for_attempt(1, kWait);
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok) << result->error;
  EXPECT_EQ(log.level("DATABASE"), hydra::Level::info);
  EXPECT_EQ(log.level("CACHE"), hydra::Level::info);
  EXPECT_FALSE(log.should_log("DATABASE", hydra::Level::debug));
  EXPECT_FALSE(log.should_log("CACHE", hydra::Level::trace));
  // Their records at default_level and above still reach the last-resort route.
  EXPECT_TRUE(log.should_log("DATABASE", hydra::Level::info));
  testing::internal::CaptureStderr();
  log.layer("DATABASE").debug("db-debug-after");
  log.flush();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("db-debug-after"), std::string::npos) << err;
  EXPECT_EQ(count_lines_with(db, "db-debug-before"), 1u);
  EXPECT_EQ(count_lines_with(db, "db-debug-after"), 0u);
}

TEST_P(WatchTest, AFileReplacedByRenameIsReloaded) {
  TempDir dir;
  const std::string cfg = dir.file("hydra.toml");
  write_file(cfg, config(dir.file("first.log"), "info"));
  const auto src = sources(cfg);
  hydra::Logger log(hydra::resolve_config(src).config);
  hydra::ConfigWatcher watcher(log, src);

  // How editors and configuration tools save: a new file, renamed over.
  write_file(dir.file("hydra.toml.tmp"), config(dir.file("second.log"), "info"));
  std::filesystem::rename(dir.file("hydra.toml.tmp"), cfg);
  const auto result = watcher.wait_for_attempt(1, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok) << result->error;
  log.info("to-second");
  log.flush();
  EXPECT_EQ(count_lines_with(dir.file("second.log"), "to-second"), 1u);
}

TEST_P(WatchTest, AConfigMapSymlinkSwapIsReloaded) {
  // Kubernetes: hydra.toml -> ..data/hydra.toml, ..data -> a timestamped
  // directory, replaced by renaming a new `..data` link over the old one.
  TempDir dir;
  std::filesystem::create_directory(dir.file("v1"));
  std::filesystem::create_directory(dir.file("v2"));
  write_file(dir.file("v1/hydra.toml"), config(dir.file("first.log"), "info"));
  write_file(dir.file("v2/hydra.toml"), config(dir.file("second.log"), "info"));
  std::filesystem::create_directory_symlink("v1", dir.file("..data"));
  std::filesystem::create_symlink("..data/hydra.toml", dir.file("hydra.toml"));
  const auto src = sources(dir.file("hydra.toml"));
  hydra::Logger log(hydra::resolve_config(src).config);
  hydra::ConfigWatcher watcher(log, src);

  std::filesystem::create_directory_symlink("v2", dir.file("..data_tmp"));
  std::filesystem::rename(dir.file("..data_tmp"), dir.file("..data"));
  const auto result = watcher.wait_for_attempt(1, kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok) << result->error;
  log.info("via-configmap");
  log.flush();
  EXPECT_EQ(count_lines_with(dir.file("second.log"), "via-configmap"), 1u);
}

// Threads keep logging while the file is rewritten several times, each
// version naming another log file: every record is written exactly once.
TEST_P(WatchTest, NoRecordIsLostAcrossReloads) {
  constexpr int kThreads = 2;
  constexpr int kPerThread = 5000;
  constexpr int kVersions = 5;
  TempDir dir;
  const std::string cfg = dir.file("hydra.toml");
  auto log_path = [&](int v) { return dir.file("v" + std::to_string(v) + ".log"); };
  write_file(cfg, config(log_path(0), "info"));
  const auto src = sources(cfg);
  hydra::Logger log(hydra::resolve_config(src).config);
  hydra::ConfigWatcher watcher(log, src);

  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) log.info("rec t={} i={}", t, i);
    });
  }
  go.store(true);
  for (int v = 1; v < kVersions; ++v) {
    write_file(cfg, config(log_path(v), "info"));
    const auto result = watcher.wait_for_attempt(static_cast<std::uint64_t>(v), kWait);
    ASSERT_TRUE(result.has_value());
    ASSERT_TRUE(result->ok) << result->error;
  }
  for (auto& th : threads) th.join();
  log.flush();

  std::size_t total = 0;
  for (int v = 0; v < kVersions; ++v) total += count_lines_with(log_path(v), "rec t=");
  EXPECT_EQ(total, static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(log.generation(), static_cast<std::uint64_t>(kVersions - 1));
}

TEST(Watch, WithoutAFileItIsAConfigError) {
  hydra::Logger log(hydra::LoggerConfig{});
  hydra::ConfigSources s;
  s.env = hydra::env_from_map({});
  const std::string error =
      hydra::test::config_error_of([&] { hydra::ConfigWatcher watcher(log, s); });
  hydra::test::expect_mentions(error, {"no configuration file to watch", "HYDRA_LOG_CONFIG"});

  s.file = "/nonexistent-hydra-dir/hydra.toml";
  const std::string missing_dir =
      hydra::test::config_error_of([&] { hydra::ConfigWatcher watcher(log, s); });
  hydra::test::expect_mentions(missing_dir, {"/nonexistent-hydra-dir", "No such file"});
}

}  // namespace
