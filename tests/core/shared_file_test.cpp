// One file, one sink: destinations that write to the same file, however its
// path is spelled, share its sink and must agree on the sink's options (or
// the configuration is refused, naming both); what belongs to the file (its
// CSV header) is written once per file, whichever layers write to it, across
// restarts, rotations and reopens. In both modes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <hydra/hydra.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::test::open_descriptors_on;
using hydra::test::read_file;
using hydra::test::split_lines;
using hydra::test::TempDir;

const std::string kHeader(hydra::kCsvHeader.substr(0, hydra::kCsvHeader.size() - 1));

class SharedFileTest : public testing::TestWithParam<hydra::LoggerMode> {
 protected:
  LoggerConfig base() const {
    LoggerConfig cfg;
    cfg.mode = GetParam();
    return cfg;
  }
};
const auto kModes = testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async);
std::string mode_name(const testing::TestParamInfo<hydra::LoggerMode>& info) {
  return info.param == hydra::LoggerMode::sync ? "sync" : "async";
}
INSTANTIATE_TEST_SUITE_P(BothModes, SharedFileTest, kModes, mode_name);

hydra::DestinationConfig csv_file(const std::string& path) {
  auto d = hydra::file(path, "csv");
  d.csv_header = true;
  return d;
}

// The ConfigError a configuration gets, or "" when it builds.
std::string config_error(const LoggerConfig& cfg) {
  try {
    hydra::Logger log(cfg);
  } catch (const hydra::ConfigError& e) {
    return e.what();
  }
  return {};
}

void expect_mentions(const std::string& text, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' missing from: " << text;
  }
}

std::size_t count_headers(const std::vector<std::string>& lines) {
  return static_cast<std::size_t>(std::count(lines.begin(), lines.end(), kHeader));
}

TEST_P(SharedFileTest, OnePathWithDifferentSinkOptionsIsRefusedNamingBoth) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  LoggerConfig cfg = base();
  auto small = hydra::file(path);
  small.buffer_size = 4096;
  cfg.layers["APP"].destinations = {hydra::console(), small};
  cfg.layers["DATABASE"].destinations = {hydra::file(path, "json")};
  const std::string error = config_error(cfg);
  ASSERT_FALSE(error.empty()) << "two sinks on one file were accepted";
  expect_mentions(error, {"layers.DATABASE.destinations[0]", "layers.APP.destinations[1]",
                          "'" + std::filesystem::canonical(dir.path()).string() + "/app.log'",
                          "buffer_size", "65536 here, 4096 there"});
  EXPECT_EQ(open_descriptors_on(dir.path()), 0);  // nothing left open
  EXPECT_EQ(read_file(path), "");

  // file vs rotating_file, and the rotation options, are the sink's too.
  cfg.layers["DATABASE"].destinations = {hydra::rotating_file(path, 1 << 20, 3)};
  cfg.layers["APP"].destinations = {hydra::file(path)};
  expect_mentions(config_error(cfg),
                  {"layers.DATABASE.destinations[0]", "layers.APP.destinations[0]", "type",
                   "rotating_file here, file there"});
  cfg.layers["APP"].destinations = {hydra::rotating_file(path, 2 << 20, 3)};
  expect_mentions(config_error(cfg), {"max_size", "1048576 here, 2097152 there"});
  auto flushing = hydra::rotating_file(path, 1 << 20, 3);
  flushing.flush_level = Level::warning;
  cfg.layers["APP"].destinations = {flushing};
  expect_mentions(config_error(cfg), {"flush_level", "error here, warning there"});
  auto headed = hydra::rotating_file(path, 1 << 20, 3, "csv");
  headed.csv_header = true;
  cfg.layers["APP"].destinations = {headed};
  expect_mentions(config_error(cfg), {"header", "none here, 'timestamp,level,"});
}

TEST_P(SharedFileTest, EverySpellingOfOneFileIsOneFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sub");
  const std::string path = dir.file("app.log");
  hydra::test::write_file(path, "");
  std::filesystem::create_symlink(path, dir.path() / "link.log");
  std::filesystem::create_hard_link(path, dir.path() / "hard.log");
  const std::string spellings[] = {dir.file("sub/../app.log"), dir.file("./app.log"),
                                   dir.file("link.log"), dir.file("hard.log")};
  for (const std::string& other : spellings) {
    LoggerConfig cfg = base();
    auto small = hydra::file(path);
    small.buffer_size = 4096;
    cfg.layers["APP"].destinations = {small};
    cfg.layers["DATABASE"].destinations = {hydra::file(other)};
    expect_mentions(config_error(cfg), {"layers.DATABASE.destinations[0]", "buffer_size"});
  }
  // Relative to the working directory, as the program would write it.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  LoggerConfig cfg = base();
  auto small = hydra::file(path);
  small.buffer_size = 4096;
  cfg.layers["APP"].destinations = {small};
  cfg.layers["DATABASE"].destinations = {hydra::file("app.log")};
  const std::string relative_error = config_error(cfg);
  std::filesystem::current_path(cwd);
  expect_mentions(relative_error, {"buffer_size"});
}

// The same file with the same sink options, spelled differently and with
// different per-destination options (level, format): one sink, one
// descriptor, and the lines in the order they were logged.
TEST_P(SharedFileTest, OneFileWithTheSameSinkOptionsSharesOneSink) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  LoggerConfig cfg = base();
  auto errors = hydra::file(dir.file("sub/../app.log"), "json");
  errors.level = Level::error;
  std::filesystem::create_directories(dir.path() / "sub");
  cfg.layers["APP"].destinations = {hydra::file(path), errors};
  cfg.layers["DATABASE"].destinations = {hydra::file(dir.file("./app.log"), "logfmt")};
  hydra::Logger log(cfg);
  EXPECT_EQ(open_descriptors_on(path), 1);
  log.info("one");
  log.layer("DATABASE").info("two");
  log.error("three");
  log.flush();
  const auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("one"), std::string::npos);
  EXPECT_NE(lines[1].find("msg=two"), std::string::npos);
  EXPECT_NE(lines[2].find("three"), std::string::npos);
  EXPECT_EQ(lines[3].front(), '{');
}

// reconfigure() keeps a file that stays configured open: it cannot change
// that file's sink options, and says so without changing anything.
TEST_P(SharedFileTest, AReloadCannotChangeTheSinkOptionsOfAnOpenFile) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  LoggerConfig a = base();
  a.layers["APP"].destinations = {hydra::file(path)};
  hydra::Logger log(a);
  log.info("before");

  LoggerConfig b = a;
  b.layers["APP"].destinations[0].buffer_size = 4096;
  try {
    log.reconfigure(b);
    ADD_FAILURE() << "a second sink was opened on the file";
  } catch (const hydra::ConfigError& e) {
    expect_mentions(e.what(), {"layers.APP.destinations[0]", "is open", "buffer_size",
                               "65536, not 4096", "reconfigure"});
  }
  EXPECT_EQ(log.generation(), 0u);
  EXPECT_EQ(open_descriptors_on(path), 1);
  log.info("after");
  log.flush();
  EXPECT_EQ(split_lines(read_file(path)).size(), 2u);

  // Per-destination options may change; the sink (and descriptor) stay.
  LoggerConfig c = a;
  c.layers["APP"].destinations[0].format = "json";
  c.layers["DATABASE"].destinations = {hydra::file(dir.file("./app.log"), "logfmt")};
  log.reconfigure(c);
  EXPECT_EQ(open_descriptors_on(path), 1);
}

TEST_P(SharedFileTest, ACsvFileSharedByTwoLayersHasOneHeader) {
  TempDir dir;
  const std::string path = dir.file("audit.csv");
  LoggerConfig cfg = base();
  cfg.layers["APP"].destinations = {csv_file(path)};
  cfg.layers["AUDIT"].destinations = {csv_file(path)};
  {
    hydra::Logger log(cfg);
    log.audit("login {user}", "alice");
    log.info("shop open");
    log.layer("AUDIT").info("export done");
  }
  const auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 4u) << read_file(path);
  EXPECT_EQ(lines[0], kHeader);
  EXPECT_EQ(count_headers(lines), 1u);
}

TEST_P(SharedFileTest, ARestartAppendingToTheFileWritesNoSecondHeader) {
  TempDir dir;
  const std::string path = dir.file("audit.csv");
  LoggerConfig cfg = base();
  cfg.layers["APP"].destinations = {csv_file(path)};
  for (int run = 0; run < 3; ++run) {
    hydra::Logger log(cfg);
    log.info("run {run}", run);
  }
  {
    hydra::Logger idle(cfg);  // logs nothing: adds nothing, not even a header
  }
  const auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 4u) << read_file(path);
  EXPECT_EQ(lines[0], kHeader);
  EXPECT_EQ(count_headers(lines), 1u);

  // A file that exists but is empty is a new file: it gets the header.
  const std::string empty = dir.file("empty.csv");
  hydra::test::write_file(empty, "");
  cfg.layers["APP"].destinations = {csv_file(empty)};
  {
    hydra::Logger log(cfg);
    log.info("first");
  }
  const auto empty_lines = split_lines(read_file(empty));
  ASSERT_EQ(empty_lines.size(), 2u);
  EXPECT_EQ(empty_lines[0], kHeader);
}

TEST_P(SharedFileTest, EveryRotatedFileStartsWithTheHeaderAndKeepsToMaxSize) {
  TempDir dir;
  const std::string path = dir.file("audit.csv");
  constexpr std::uint64_t kMaxSize = 600;
  auto d = hydra::rotating_file(path, kMaxSize, 3, "csv");
  d.csv_header = true;
  LoggerConfig cfg = base();
  cfg.layers["APP"].destinations = {d};
  cfg.layers["AUDIT"].destinations = {d};
  {
    hydra::Logger log(cfg);
    for (int i = 0; i < 12; ++i) {
      log.info("record {i}", i);
      log.audit("audited {i}", i);
    }
  }
  int files = 0;
  for (const std::string& name : {path, path + ".1", path + ".2", path + ".3"}) {
    ASSERT_TRUE(std::filesystem::exists(name)) << name;
    ++files;
    const std::string text = read_file(name);
    const auto lines = split_lines(text);
    ASSERT_GE(lines.size(), 2u) << name;
    EXPECT_EQ(lines[0], kHeader) << name;
    EXPECT_EQ(count_headers(lines), 1u) << name;
    EXPECT_LE(text.size(), kMaxSize) << name << " (the header counts towards max_size)";
  }
  EXPECT_EQ(files, 4);
}

TEST_P(SharedFileTest, ARotationThatTruncatesStartsTheFileAgainWithTheHeader) {
  TempDir dir;
  const std::string path = dir.file("audit.csv");
  auto d = hydra::rotating_file(path, 300, 0, "csv");  // backup_count 0: truncate
  d.csv_header = true;
  LoggerConfig cfg = base();
  cfg.layers["APP"].destinations = {d};
  {
    hydra::Logger log(cfg);
    for (int i = 0; i < 10; ++i) log.info("record {i}", i);
  }
  const auto lines = split_lines(read_file(path));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], kHeader);
  EXPECT_EQ(count_headers(lines), 1u);
  EXPECT_NE(lines.back().find("record 9"), std::string::npos);
}

TEST_P(SharedFileTest, AFileReopenedAfterAnExternalRotationGetsTheHeader) {
  TempDir dir;
  const std::string path = dir.file("audit.csv");
  LoggerConfig cfg = base();
  cfg.layers["APP"].destinations = {csv_file(path)};
  hydra::Logger log(cfg);
  log.info("before logrotate");
  log.flush();
  std::filesystem::rename(path, path + ".old");
  log.reopen();
  log.info("after logrotate");
  log.flush();
  for (const std::string& name : {path + ".old", path}) {
    const auto lines = split_lines(read_file(name));
    ASSERT_EQ(lines.size(), 2u) << name;
    EXPECT_EQ(lines[0], kHeader) << name;
  }
}

TEST_P(SharedFileTest, AConsoleStreamGetsTheHeaderOnceBeforeItsFirstRecord) {
  testing::internal::CaptureStdout();
  {
    LoggerConfig cfg = base();
    auto d = hydra::console("csv", hydra::ColorMode::never);
    d.csv_header = true;
    cfg.layers["APP"].destinations = {d};
    cfg.layers["AUDIT"].destinations = {d};
    hydra::Logger log(cfg);
    log.info("one");
    log.audit("two");
  }
  const auto lines = split_lines(testing::internal::GetCapturedStdout());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], kHeader);
  EXPECT_EQ(count_headers(lines), 1u);
}

// A formatter of one's own gives its files a header through the same hook.
class HeadedFormatter final : public hydra::Formatter {
 public:
  void format(const hydra::Record& record, hydra::Buffer& out) const override {
    fmt::format_to(fmt::appender(out), "{}\t{}\n", hydra::to_lower_string(record.level),
                   record.message);
  }
  std::string_view header() const override { return "level\tmessage\n"; }
};

TEST_P(SharedFileTest, AFormattersOwnHeaderStartsItsFiles) {
  TempDir dir;
  const std::string path = dir.file("app.tsv");
  LoggerConfig cfg = base();
  auto d = hydra::file(path);
  d.formatter = std::make_shared<HeadedFormatter>();
  cfg.layers["APP"].destinations = {d};
  cfg.layers["AUDIT"].destinations = {d};
  {
    hydra::Logger log(cfg);
    log.info("one");
    log.audit("two");
  }
  EXPECT_EQ(read_file(path), "level\tmessage\ninfo\tone\naudit\ttwo\n");
}

}  // namespace
