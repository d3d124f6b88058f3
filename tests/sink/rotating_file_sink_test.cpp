#include "hydra/sink/rotating_file_sink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#if HYDRA_WITH_ZSTD
#include <zstd.h>
#endif

#include "hydra/core/error.hpp"
#include "sink/sink_test_support.hpp"
#include "system_calls.hpp"

namespace hydra {
namespace {

using Clock = std::chrono::system_clock;
using test::count_system_calls;
using test::read_file;
using test::record_at;
using test::TempDir;

// "record 07\n": every record is 10 bytes.
std::string rec(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "record %02d\n", i);
  return buf;
}

std::string recs(int from, int to) {  // records from..to, inclusive
  std::string s;
  for (int i = from; i <= to; ++i) s += rec(i);
  return s;
}

RotatingFileSinkOptions size_options(const std::string& path, std::uint64_t max_size,
                                     int backup_count) {
  RotatingFileSinkOptions o;
  o.file.path = path;
  o.max_size = max_size;
  o.backup_count = backup_count;
  return o;
}

Clock::time_point local_time(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  tm.tm_isdst = -1;
  return Clock::from_time_t(std::mktime(&tm));
}

void set_mtime(const std::string& path, Clock::time_point time) {
  const timespec times[2] = {{Clock::to_time_t(time), 0}, {Clock::to_time_t(time), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point now;
  std::function<Clock::time_point()> function() {
    return [this] { return now; };
  }
};

TEST(RotatingFileSink, RotatesBySizeBeforeTheRecordThatWouldOverflow) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  {
    RotatingFileSink sink(size_options(path, 30, 3));
    for (int i = 0; i < 10; ++i) sink.write(record_at(), rec(i));
    EXPECT_EQ(sink.rotations(), 3U);
    EXPECT_EQ(sink.write_errors(), 0U);
  }
  EXPECT_EQ(dir.entries(),
            (std::set<std::string>{"app.log", "app.log.1", "app.log.2", "app.log.3"}));
  EXPECT_EQ(read_file(path), recs(9, 9));
  EXPECT_EQ(read_file(path + ".1"), recs(6, 8));
  EXPECT_EQ(read_file(path + ".2"), recs(3, 5));
  EXPECT_EQ(read_file(path + ".3"), recs(0, 2));
}

TEST(RotatingFileSink, KeepsOnlyBackupCountBackups) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  {
    RotatingFileSink sink(size_options(path, 30, 2));
    for (int i = 0; i < 20; ++i) sink.write(record_at(), rec(i));
    EXPECT_EQ(sink.rotations(), 6U);
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.1", "app.log.2"}));
  EXPECT_EQ(read_file(path), recs(18, 19));
  EXPECT_EQ(read_file(path + ".1"), recs(15, 17));
  EXPECT_EQ(read_file(path + ".2"), recs(12, 14));
}

TEST(RotatingFileSink, RetentionHoldsAcrossRestarts) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  for (int run = 0; run < 3; ++run) {
    RotatingFileSink sink(size_options(path, 30, 2));
    for (int i = 0; i < 10; ++i) sink.write(record_at(), rec(run * 10 + i));
  }
  // 30 records in groups of three, the current file's size counted at each
  // restart: [0-2] ... [24-26] [27-29].
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.1", "app.log.2"}));
  EXPECT_EQ(read_file(path), recs(27, 29));
  EXPECT_EQ(read_file(path + ".1"), recs(24, 26));
  EXPECT_EQ(read_file(path + ".2"), recs(21, 23));
}

TEST(RotatingFileSink, RemovesLeftoversOfALargerBackupCount) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  {
    RotatingFileSink sink(size_options(path, 30, 5));
    for (int i = 0; i < 18; ++i) sink.write(record_at(), rec(i));
  }
  test::write_file(path + ".7.zst", "old compressed");
  test::write_file(path + ".2.zst", "stale variant");
  test::write_file(path + ".old", "not ours");
  test::write_file(dir.file("other.log.9"), "not ours either");
  EXPECT_EQ(dir.entries().size(), 10U);
  {
    RotatingFileSink sink(size_options(path, 30, 2));
    sink.write(record_at(), rec(18));  // the current file holds 15-17: rotates
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.1", "app.log.2",
                                                  "app.log.old", "other.log.9"}));
  EXPECT_EQ(read_file(path), rec(18));
  EXPECT_EQ(read_file(path + ".1"), recs(15, 17));
  EXPECT_EQ(read_file(path + ".2"), recs(12, 14));
}

TEST(RotatingFileSink, BackupCountZeroTruncates) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  test::write_file(path + ".1", "from a run that kept backups");
  {
    RotatingFileSink sink(size_options(path, 30, 0));
    for (int i = 0; i < 7; ++i) sink.write(record_at(), rec(i));
    EXPECT_EQ(sink.rotations(), 2U);
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log"}));
  EXPECT_EQ(read_file(path), rec(6));
}

TEST(RotatingFileSink, RecordLargerThanMaxSizeGetsAFileOfItsOwn) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  const std::string big(50, 'B');
  {
    RotatingFileSink sink(size_options(path, 30, 5));
    sink.write(record_at(), big + "\n");  // empty file: no rotation
    EXPECT_EQ(sink.rotations(), 0U);
    sink.write(record_at(), "small\n");
    sink.write(record_at(), big + "\n");
    sink.write(record_at(), "tail\n");
    EXPECT_EQ(sink.rotations(), 3U);
  }
  EXPECT_EQ(read_file(path), "tail\n");
  EXPECT_EQ(read_file(path + ".1"), big + "\n");
  EXPECT_EQ(read_file(path + ".2"), "small\n");
  EXPECT_EQ(read_file(path + ".3"), big + "\n");
}

TEST(RotatingFileSink, RotatesHourlyAtLocalHourBoundaries) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 15, 0)};
  RotatingFileSinkOptions o;
  o.file.path = path;
  o.interval = RotationInterval::hourly;
  o.clock = clock.function();
  RotatingFileSink sink(o);
  sink.write(record_at(), "a\n");
  clock.now = local_time(2024, 6, 12, 10, 59, 59);
  sink.write(record_at(), "b\n");
  EXPECT_EQ(sink.rotations(), 0U);
  clock.now = local_time(2024, 6, 12, 11, 0, 0);
  sink.write(record_at(), "c\n");
  EXPECT_EQ(sink.rotations(), 1U);
  clock.now = local_time(2024, 6, 12, 11, 30, 0);
  sink.write(record_at(), "d\n");
  clock.now = local_time(2024, 6, 12, 13, 10, 0);  // a quiet hour in between
  sink.write(record_at(), "e\n");
  EXPECT_EQ(sink.rotations(), 2U);
  sink.flush();
  EXPECT_EQ(read_file(path), "e\n");
  EXPECT_EQ(read_file(path + ".1"), "c\nd\n");
  EXPECT_EQ(read_file(path + ".2"), "a\nb\n");
}

TEST(RotatingFileSink, RotatesDailyAtLocalMidnight) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 0, 0, 1)};
  RotatingFileSinkOptions o;
  o.file.path = path;
  o.interval = RotationInterval::daily;
  o.clock = clock.function();
  RotatingFileSink sink(o);
  sink.write(record_at(), "morning\n");
  clock.now = local_time(2024, 6, 12, 13, 0, 0);
  sink.write(record_at(), "noon\n");
  clock.now = local_time(2024, 6, 12, 23, 59, 59);
  sink.write(record_at(), "night\n");
  EXPECT_EQ(sink.rotations(), 0U);
  clock.now = local_time(2024, 6, 13, 0, 0, 0);
  sink.write(record_at(), "next day\n");
  EXPECT_EQ(sink.rotations(), 1U);
  sink.flush();
  EXPECT_EQ(read_file(path), "next day\n");
  EXPECT_EQ(read_file(path + ".1"), "morning\nnoon\nnight\n");
}

TEST(RotatingFileSink, TimeRotationAfterARestart) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 15, 0)};
  RotatingFileSinkOptions o;
  o.file.path = path;
  o.interval = RotationInterval::hourly;
  o.clock = clock.function();
  {
    RotatingFileSink sink(o);
    sink.write(record_at(), "first run\n");
  }
  // The file was last written at 10:15 (on the fake clock's time line).
  set_mtime(path, local_time(2024, 6, 12, 10, 15, 0));
  clock.now = local_time(2024, 6, 12, 10, 50, 0);
  {
    RotatingFileSink sink(o);  // same hour: keeps appending
    sink.write(record_at(), "second run\n");
    EXPECT_EQ(sink.rotations(), 0U);
  }
  set_mtime(path, local_time(2024, 6, 12, 10, 50, 0));
  clock.now = local_time(2024, 6, 12, 11, 5, 0);
  {
    RotatingFileSink sink(o);  // a later hour: rotates at the first write
    EXPECT_EQ(sink.rotations(), 0U);
    sink.write(record_at(), "third run\n");
    EXPECT_EQ(sink.rotations(), 1U);
  }
  EXPECT_EQ(read_file(path), "third run\n");
  EXPECT_EQ(read_file(path + ".1"), "first run\nsecond run\n");
}

TEST(RotatingFileSink, SizeAndTimeTogether) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 0, 0)};
  RotatingFileSinkOptions o = size_options(path, 30, 5);
  o.interval = RotationInterval::hourly;
  o.clock = clock.function();
  {
    RotatingFileSink sink(o);
    for (int i = 0; i < 4; ++i) sink.write(record_at(), rec(i));  // size: one rotation
    EXPECT_EQ(sink.rotations(), 1U);
    clock.now = local_time(2024, 6, 12, 11, 0, 0);
    sink.write(record_at(), rec(4));  // time: another
    EXPECT_EQ(sink.rotations(), 2U);
    sink.write(record_at(), rec(5));
  }
  EXPECT_EQ(read_file(path), recs(4, 5));
  EXPECT_EQ(read_file(path + ".1"), recs(3, 3));
  EXPECT_EQ(read_file(path + ".2"), recs(0, 2));
}

TEST(RotatingFileSink, RotationFailureIsCountedReportedOnceAndWritingGoesOn) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  std::filesystem::create_directories(path + ".1/blocker");  // cannot be deleted
  testing::internal::CaptureStderr();
  {
    RotatingFileSink sink(size_options(path, 30, 1));
    for (int i = 0; i < 10; ++i) EXPECT_NO_THROW(sink.write(record_at(), rec(i)));
    EXPECT_EQ(sink.rotations(), 0U);
    EXPECT_EQ(sink.write_errors(), 3U);  // tried at records 3, 6 and 9
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(test::count_of(err, "rotation failed"), 1U) << err;
  EXPECT_NE(err.find("'" + path + "'"), std::string::npos) << err;
  EXPECT_EQ(read_file(path), recs(0, 9));
}

TEST(RotatingFileSink, ReopenAfterExternalRename) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  RotatingFileSink sink(size_options(path, 1000, 2));
  sink.write(record_at(), "old\n");
  std::filesystem::rename(path, dir.file("app.log-20240612"));
  sink.reopen();
  sink.write(record_at(), "new\n");
  sink.flush();
  EXPECT_EQ(read_file(dir.file("app.log-20240612")), "old\n");
  EXPECT_EQ(read_file(path), "new\n");
}

TEST(RotatingFileSink, ReopenKeepsTheOpenFileWhenThePathBecameAFifo) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  const std::string moved = dir.file("moved.log");
  testing::internal::CaptureStderr();
  RotatingFileSink sink(size_options(path, 1000, 3));
  sink.write(record_at(), rec(0));
  ASSERT_EQ(::rename(path.c_str(), moved.c_str()), 0);
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // A reader, so that opening the FIFO for writing cannot block.
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  sink.reopen();
  sink.write(record_at(), rec(1));
  sink.flush();
  char buf[64];
  const ssize_t in_fifo = ::read(reader, buf, sizeof buf);
  ::close(reader);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_LE(in_fifo, 0) << "records went into the FIFO";
  EXPECT_EQ(read_file(moved), recs(0, 1));
  EXPECT_EQ(sink.write_errors(), 1U);
  EXPECT_NE(err.find("rotating_file '" + path + "': not reopened: it is now a FIFO"),
            std::string::npos)
      << err;
}

TEST(RotatingFileSink, ConcurrentWritersLoseNothingAcrossRotations) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  std::uint64_t rotations = 0;
  {
    RotatingFileSinkOptions o = size_options(path, 2000, 1000);
    o.file.buffer_size = 512;
    RotatingFileSink sink(o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&sink, t] {
        for (int i = 0; i < kPerThread; ++i) {
          sink.write(record_at(), "t" + std::to_string(t) + " " + std::to_string(i) + "\n");
        }
      });
    }
    for (auto& th : threads) th.join();
    rotations = sink.rotations();
  }
  ASSERT_GT(rotations, 10U);
  std::string all;
  for (auto i = static_cast<int>(rotations); i >= 1; --i) {
    const std::string part = read_file(path + "." + std::to_string(i));
    EXPECT_LE(part.size(), 2000U);
    EXPECT_EQ(part.back(), '\n');
    all += part;
  }
  all += read_file(path);
  std::vector<int> next(kThreads, 0);
  const auto lines = test::split_lines(all);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& line : lines) {
    int t = -1;
    int i = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "t%d %d", &t, &i), 2) << line;
    ASSERT_TRUE(t >= 0 && t < kThreads) << line;
    ASSERT_EQ(i, next[t]++) << line;
  }
}

// A device that fails and then recovers (RLIMIT_FSIZE = `limit` in a child
// process, lifted half way): rotation never splits a record between files,
// no file grows past max_size, and every record is either written once, in
// order, or counted as dropped. Returns the number dropped.
int log_through_a_failing_device(const TempDir& dir, rlim_t limit) {
  const std::string path = dir.file("app.log");
  const std::string counts = dir.file("counts");
  constexpr std::uint64_t kMaxSize = 1000;
  constexpr int kRecords = 300;
  const int code = test::run_with_file_size_limit(limit, [&] {
    RotatingFileSink sink(size_options(path, kMaxSize, 50));
    for (int i = 0; i < kRecords / 2; ++i) sink.write(record_at(), rec(i));
    test::lift_file_size_limit();  // the device recovers
    for (int i = kRecords / 2; i < kRecords; ++i) sink.write(record_at(), rec(i));
    sink.flush();
    test::write_file(counts, std::to_string(sink.dropped_records()));
  });
  EXPECT_EQ(code, 0);
  std::vector<std::string> files;  // oldest first
  for (int i = 50; i >= 1; --i) {
    if (std::filesystem::exists(path + "." + std::to_string(i))) {
      files.push_back(path + "." + std::to_string(i));
    }
  }
  files.push_back(path);
  EXPECT_GT(files.size(), 2U);
  int written = 0;
  int last = -1;
  for (const std::string& file : files) {
    const std::string contents = read_file(file);
    EXPECT_LE(contents.size(), kMaxSize) << file;
    EXPECT_TRUE(contents.empty() || contents.back() == '\n') << file << " ends mid-record";
    for (const std::string& line : test::split_lines(contents)) {
      int i = -1;
      EXPECT_EQ(std::sscanf(line.c_str(), "record %d", &i), 1) << file << ": " << line;
      EXPECT_EQ(line + "\n", rec(i)) << file << ": a split record";
      EXPECT_GT(i, last) << file << ": out of order or twice";
      last = i;
      ++written;
    }
  }
  const int dropped = std::stoi("0" + read_file(counts));
  EXPECT_EQ(written + dropped, kRecords);
  return dropped;
}

// Each file takes 300 bytes, the write(2) that reaches them is cut short.
TEST(RotatingFileSink, PartialWritesNeitherSplitRecordsNorOverfillFiles) {
  TempDir dir;
  log_through_a_failing_device(dir, 300);
}

// Nothing reaches the device: what waits for the current file fills it to
// max_size, later records are dropped (no empty backups are made).
TEST(RotatingFileSink, ADeadDeviceNeitherSplitsRecordsNorOverfillsFiles) {
  TempDir dir;
  EXPECT_GT(log_through_a_failing_device(dir, 0), 0);
}

TEST(RotatingFileSink, RejectsAConfigurationThatNeverRotates) {
  TempDir dir;
  RotatingFileSinkOptions o;
  o.file.path = dir.file("app.log");
  EXPECT_THROW(RotatingFileSink sink(o), ConfigError);
  o.max_size = 100;
  o.backup_count = -1;
  EXPECT_THROW(RotatingFileSink sink(o), ConfigError);
}

// --- backup_count: bounded, and a rotation costs what is on disk ---

TEST(RotatingFileSink, RefusesABackupCountAboveTheBound) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  for (const int count : {100001, INT_MAX}) {
    const std::string error =
        test::config_error_of([&] { RotatingFileSink sink(size_options(path, 30, count)); });
    EXPECT_EQ(error, "rotating_file '" + path + "': backup_count: " + std::to_string(count) +
                         " is more than 100000");
  }
  EXPECT_NO_THROW(RotatingFileSink sink(size_options(path, 30, 100000)));
}

// Three backups exist, with room for 20,000: one rotation moves three files.
// Before, it tried 20,000 names whether or not they existed (80,000 calls).
TEST(RotatingFileSinkForkTest, ARotationCostsTheBackupsPresentNotBackupCount) {
  const auto calls_of_one_rotation = [](int backup_count) -> std::optional<long> {
    TempDir dir;
    const std::string path = dir.file("app.log");
    for (int i = 1; i <= 3; ++i) test::write_file(path + "." + std::to_string(i), rec(i));
    std::optional<RotatingFileSink> sink;
    int exit_code = -1;
    const auto calls = count_system_calls(
        [&] {
          sink.emplace(size_options(path, 10, backup_count));
          sink->write(record_at(), rec(0));
        },
        [&] {
          sink->write(record_at(), rec(4));  // rotates
          return sink->rotations() == 1 ? 0 : 1;
        },
        &exit_code);
    if (!calls) return std::nullopt;
    EXPECT_EQ(exit_code, 0);
    EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.1", "app.log.2",
                                                    "app.log.3", "app.log.4"}));
    EXPECT_EQ(read_file(path + ".4"), rec(3));
    return calls;
  };
  const auto few = calls_of_one_rotation(5);
  if (!few) GTEST_SKIP() << "ptrace is not allowed here";
  const auto many = calls_of_one_rotation(20000);
  ASSERT_TRUE(many);
  EXPECT_LT(*many, 100) << "system calls of one rotation with backup_count 20000";
  EXPECT_LE(*many, *few + 5) << "backup_count 5 took " << *few;
}

#if HYDRA_WITH_ZSTD
// At startup a compressing sink finishes what an earlier run left
// uncompressed: it looks at the backups present, not at every possible name.
TEST(RotatingFileSinkForkTest, StartupLooksOnlyAtTheBackupsPresent) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  test::write_file(path + ".2", "left uncompressed\n");
  RotatingFileSinkOptions o = size_options(path, 1000, 100000);
  o.compress = true;
  int exit_code = -1;
  const auto calls =
      count_system_calls([] {},
                         [&] {
                           RotatingFileSink sink(o);  // compresses app.log.2, then joins its thread
                           return 0;
                         },
                         &exit_code);
  if (!calls) GTEST_SKIP() << "ptrace is not allowed here";
  EXPECT_EQ(exit_code, 0);
  EXPECT_LT(*calls, 200) << "system calls of a start with backup_count 100000";
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.2.zst"}));
}
#endif

TEST(RotatingFileSink, MovesTheBackupsThatExistAndKeepsTheirGaps) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  test::write_file(path + ".1", "one\n");
  test::write_file(path + ".3.zst", "three\n");
  test::write_file(path + ".5", "five\n");
  {
    RotatingFileSink sink(size_options(path, 10, 5));
    sink.write(record_at(), rec(0));
    sink.write(record_at(), rec(1));  // rotates
    EXPECT_EQ(sink.rotations(), 1U);
    EXPECT_EQ(sink.write_errors(), 0U);
  }
  EXPECT_EQ(dir.entries(),
            (std::set<std::string>{"app.log", "app.log.1", "app.log.2", "app.log.4.zst"}));
  EXPECT_EQ(read_file(path + ".1"), rec(0));
  EXPECT_EQ(read_file(path + ".2"), "one\n");
  EXPECT_EQ(read_file(path + ".4.zst"), "three\n");
}

// --- only a regular file is rotated ---

std::string construction_error(const std::string& path) {
  return test::config_error_of([&] { RotatingFileSink sink(size_options(path, 30, 3)); });
}

TEST(RotatingFileSink, RefusesADirectory) {
  TempDir dir;
  const std::string path = dir.file("logs");
  std::filesystem::create_directory(path);
  EXPECT_EQ(construction_error(path),
            "rotating_file '" + path +
                "': is a directory, not a regular file (rotation renames and deletes files: "
                "give the path of a regular file, or of one to be created)");
}

TEST(RotatingFileSink, RefusesAFifo) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // A reader, so that opening the FIFO for writing cannot block.
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  const std::string error = construction_error(path);
  ::close(reader);
  EXPECT_NE(error.find("rotating_file '" + path + "': is a FIFO, not a regular file"),
            std::string::npos)
      << error;
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log"}));
}

// The case: root pointed it at a device node, and the first rotation
// renamed the node. Needs the right to make device nodes (root).
TEST(RotatingFileSink, RefusesACharacterDevice) {
  TempDir dir;
  const std::string path = dir.file("null");
  if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "cannot make a device node here: " << std::strerror(errno);
  }
  const std::string error = construction_error(path);
  EXPECT_NE(error.find("rotating_file '" + path + "': is a character device, not a regular file"),
            std::string::npos)
      << error;
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"null"}));
}

// A symbolic link is refused, not followed: rotation renames the path it is
// given, so it would move the link and leave the file it names behind (and a
// link planted in a log directory must not steer renames and deletions).
TEST(RotatingFileSink, RefusesASymbolicLink) {
  TempDir dir;
  const std::string target = dir.file("real.log");
  const std::string path = dir.file("app.log");
  test::write_file(target, "kept\n");
  std::filesystem::create_symlink(target, path);
  EXPECT_EQ(construction_error(path),
            "rotating_file '" + path + "': is a symbolic link (to '" + target +
                "'), not a regular file (rotation would move the link, not the file: give the "
                "path of the file itself)");
  std::filesystem::remove(target);  // a dangling link is refused too
  EXPECT_NE(construction_error(path).find("is a symbolic link"), std::string::npos);
}

TEST(RotatingFileSink, DoesNotRotateAPathThatBecameAFifo) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  const std::string moved = dir.file("moved.log");
  testing::internal::CaptureStderr();
  {
    RotatingFileSink sink(size_options(path, 30, 3));
    for (int i = 0; i < 3; ++i) sink.write(record_at(), rec(i));
    sink.flush();
    // Someone moves the file away and puts a FIFO in its place.
    ASSERT_EQ(::rename(path.c_str(), moved.c_str()), 0);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    for (int i = 3; i < 9; ++i) sink.write(record_at(), rec(i));  // rotation points: 3 and 6
    EXPECT_EQ(sink.rotations(), 0U);
    EXPECT_EQ(sink.write_errors(), 2U);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(test::count_of(err, "rotation failed"), 1U) << err;
  EXPECT_NE(err.find("'" + path + "' is now a FIFO, not a regular file"), std::string::npos) << err;
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "moved.log"}));
  EXPECT_EQ(read_file(moved), recs(0, 8));  // written on through the open descriptor
}

// --- time of day, intervals, dated names ---

RotatingFileSinkOptions timed_options(const std::string& path, RotationInterval interval,
                                      FakeClock& clock) {
  RotatingFileSinkOptions o;
  o.file.path = path;
  o.interval = interval;
  o.clock = clock.function();
  return o;
}

TEST(RotatingFileSink, RotatesDailyAtAChosenTimeOfDay) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 1, 0, 0)};
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::daily, clock);
  o.rotation_time = std::chrono::hours(2) + std::chrono::minutes(30);
  RotatingFileSink sink(o);
  sink.write(record_at(), "01:00\n");
  clock.now = local_time(2024, 6, 12, 2, 29, 59);
  sink.write(record_at(), "02:29\n");
  EXPECT_EQ(sink.rotations(), 0U);
  clock.now = local_time(2024, 6, 12, 2, 30, 0);
  sink.write(record_at(), "02:30\n");
  EXPECT_EQ(sink.rotations(), 1U);
  clock.now = local_time(2024, 6, 13, 0, 0, 0);  // midnight is no boundary now
  sink.write(record_at(), "midnight\n");
  clock.now = local_time(2024, 6, 13, 2, 29, 0);
  sink.write(record_at(), "02:29 next day\n");
  EXPECT_EQ(sink.rotations(), 1U);
  clock.now = local_time(2024, 6, 13, 2, 31, 0);
  sink.write(record_at(), "02:31 next day\n");
  EXPECT_EQ(sink.rotations(), 2U);
  sink.flush();
  EXPECT_EQ(read_file(path), "02:31 next day\n");
  EXPECT_EQ(read_file(path + ".1"), "02:30\nmidnight\n02:29 next day\n");
  EXPECT_EQ(read_file(path + ".2"), "01:00\n02:29\n");
}

TEST(RotatingFileSink, RotatesEveryNMinutesOnBoundariesCountedFromMidnight) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 7, 0)};
  RotatingFileSink sink(
      timed_options(path, RotationInterval::every(std::chrono::minutes(15)), clock));
  sink.write(record_at(), "10:07\n");
  clock.now = local_time(2024, 6, 12, 10, 14, 59);
  sink.write(record_at(), "10:14\n");
  EXPECT_EQ(sink.rotations(), 0U);
  clock.now = local_time(2024, 6, 12, 10, 15, 0);
  sink.write(record_at(), "10:15\n");
  EXPECT_EQ(sink.rotations(), 1U);
  clock.now = local_time(2024, 6, 12, 10, 29, 0);
  sink.write(record_at(), "10:29\n");
  clock.now = local_time(2024, 6, 12, 10, 30, 0);
  sink.write(record_at(), "10:30\n");
  EXPECT_EQ(sink.rotations(), 2U);
  sink.flush();
  EXPECT_EQ(read_file(path), "10:30\n");
  EXPECT_EQ(read_file(path + ".1"), "10:15\n10:29\n");
  EXPECT_EQ(read_file(path + ".2"), "10:07\n10:14\n");
}

// rotation_time places the boundaries of any interval: hourly at half past.
TEST(RotatingFileSink, RotationTimeShiftsTheBoundariesOfAnInterval) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 23, 40, 0)};
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::hourly, clock);
  o.rotation_time = std::chrono::minutes(30);
  RotatingFileSink sink(o);
  sink.write(record_at(), "23:40\n");
  clock.now = local_time(2024, 6, 13, 0, 0, 0);
  sink.write(record_at(), "00:00\n");
  clock.now = local_time(2024, 6, 13, 0, 29, 59);
  sink.write(record_at(), "00:29\n");
  EXPECT_EQ(sink.rotations(), 0U);
  clock.now = local_time(2024, 6, 13, 0, 30, 0);
  sink.write(record_at(), "00:30\n");
  EXPECT_EQ(sink.rotations(), 1U);
  sink.flush();
  EXPECT_EQ(read_file(path + ".1"), "23:40\n00:00\n00:29\n");
}

// Sets TZ for the test's lifetime (local time is the schedule's).
class LocalTimeZone {
 public:
  explicit LocalTimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~LocalTimeZone() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  LocalTimeZone(const LocalTimeZone&) = delete;
  LocalTimeZone& operator=(const LocalTimeZone&) = delete;

 private:
  std::optional<std::string> old_;
};

Clock::time_point utc_time(int year, int month, int day, int hour, int minute) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return Clock::from_time_t(::timegm(&tm));
}

// Berlin, 27 October 2024: 03:00 CEST becomes 02:00 CET, so 02:00-03:00
// comes twice. Both are one period, named 02-00.
TEST(RotatingFileSink, ARepeatedHourIsOnePeriod) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Europe/Berlin")) {
    GTEST_SKIP() << "no tzdata for Europe/Berlin";
  }
  LocalTimeZone berlin("Europe/Berlin");
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{utc_time(2024, 10, 26, 23, 30)};  // 01:30 CEST
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::hourly, clock);
  o.backup_naming = BackupNaming::date;
  {
    RotatingFileSink sink(o);
    sink.write(record_at(), "01:30 CEST\n");
    clock.now = utc_time(2024, 10, 27, 0, 10);
    sink.write(record_at(), "02:10 CEST\n");
    clock.now = utc_time(2024, 10, 27, 1, 10);
    sink.write(record_at(), "02:10 CET\n");
    clock.now = utc_time(2024, 10, 27, 2, 5);
    sink.write(record_at(), "03:05 CET\n");
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.2024-10-27_01-00",
                                                  "app.log.2024-10-27_02-00"}));
  EXPECT_EQ(read_file(path + ".2024-10-27_02-00"), "02:10 CEST\n02:10 CET\n");
  EXPECT_EQ(read_file(path), "03:05 CET\n");
}

// Berlin, 31 March 2024: 02:00 CET becomes 03:00 CEST. A boundary at 02:30,
// a time that does not exist that night, falls one gap later, at 03:30.
TEST(RotatingFileSink, ABoundaryInASkippedHourFallsOneGapLater) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Europe/Berlin")) {
    GTEST_SKIP() << "no tzdata for Europe/Berlin";
  }
  LocalTimeZone berlin("Europe/Berlin");
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{utc_time(2024, 3, 30, 12, 0)};
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::daily, clock);
  o.rotation_time = std::chrono::hours(2) + std::chrono::minutes(30);
  o.backup_naming = BackupNaming::date;
  RotatingFileSink sink(o);
  sink.write(record_at(), "saturday\n");
  clock.now = utc_time(2024, 3, 31, 1, 29);  // 03:29 CEST
  sink.write(record_at(), "03:29\n");
  EXPECT_EQ(sink.rotations(), 0U);
  clock.now = utc_time(2024, 3, 31, 1, 30);  // 03:30 CEST
  sink.write(record_at(), "03:30\n");
  EXPECT_EQ(sink.rotations(), 1U);
  sink.flush();
  EXPECT_EQ(read_file(path + ".2024-03-30"), "saturday\n03:29\n");
}

TEST(RotatingFileSink, RefusesAScheduleItCannotKeep) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 0, 0)};
  const auto error_of = [&](RotatingFileSinkOptions o) {
    return test::config_error_of([&] { RotatingFileSink sink(o); });
  };
  const std::string prefix = "rotating_file '" + path + "': ";
  EXPECT_EQ(error_of(timed_options(path, RotationInterval::every(std::chrono::minutes(7)), clock)),
            prefix +
                "rotation: every 7 minutes does not divide a day (valid: 1 to 1440 minutes that "
                "divide 1440, such as 5m, 15m, 1h, 6h, 24h)");
  EXPECT_NE(error_of(timed_options(path, RotationInterval::every(std::chrono::hours(48)), clock))
                .find("every 2880 minutes does not divide a day"),
            std::string::npos);
  RotatingFileSinkOptions late = timed_options(path, RotationInterval::daily, clock);
  late.rotation_time = std::chrono::hours(24);
  EXPECT_EQ(error_of(late),
            prefix + "rotation_time: 1440 minutes is not a time of day (valid: 0 to 1439)");
  RotatingFileSinkOptions untimed = size_options(path, 100, 3);
  untimed.rotation_time = std::chrono::hours(2);
  EXPECT_EQ(error_of(untimed), prefix +
                                   "rotation_time: needs a rotation interval (hourly, daily, or "
                                   "one such as 15m)");
  EXPECT_EQ(dir.entries(), std::set<std::string>{});  // nothing was opened
}

TEST(RotatingFileSink, DateNamingNamesABackupAfterThePeriodItHolds) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 15, 0)};
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::hourly, clock);
  o.backup_naming = BackupNaming::date;
  {
    RotatingFileSink sink(o);
    sink.write(record_at(), "a\n");
    clock.now = local_time(2024, 6, 12, 11, 0, 0);
    sink.write(record_at(), "b\n");
    clock.now = local_time(2024, 6, 12, 13, 10, 0);  // after a quiet hour
    sink.write(record_at(), "c\n");
    EXPECT_EQ(sink.rotations(), 2U);
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.2024-06-12_10-00",
                                                  "app.log.2024-06-12_11-00"}));
  EXPECT_EQ(read_file(path + ".2024-06-12_10-00"), "a\n");
  EXPECT_EQ(read_file(path + ".2024-06-12_11-00"), "b\n");
  EXPECT_EQ(read_file(path), "c\n");
}

// A day or more: the date alone, of the day the period began (02:30 to 02:30).
TEST(RotatingFileSink, DateNamingOfDailyFilesHasNoTime) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 1, 0, 0)};
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::daily, clock);
  o.rotation_time = std::chrono::hours(2) + std::chrono::minutes(30);
  o.backup_naming = BackupNaming::date;
  {
    RotatingFileSink sink(o);
    sink.write(record_at(), "a\n");
    clock.now = local_time(2024, 6, 12, 3, 0, 0);
    sink.write(record_at(), "b\n");
    clock.now = local_time(2024, 6, 13, 3, 0, 0);
    sink.write(record_at(), "c\n");
  }
  EXPECT_EQ(dir.entries(),
            (std::set<std::string>{"app.log", "app.log.2024-06-11", "app.log.2024-06-12"}));
  EXPECT_EQ(read_file(path + ".2024-06-11"), "a\n");
  EXPECT_EQ(read_file(path + ".2024-06-12"), "b\n");
}

// Size rotation within one period: a counter after the date, ordered by its
// value (so .10 is newer than .9) when retention picks the oldest.
TEST(RotatingFileSink, DateNamingCountsTheFilesOfOnePeriod) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 0, 0)};
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::daily, clock);
  o.max_size = 10;  // one record a file
  o.backup_count = 3;
  o.backup_naming = BackupNaming::date;
  {
    RotatingFileSink sink(o);
    for (int i = 0; i <= 12; ++i) sink.write(record_at(), rec(i));
    EXPECT_EQ(sink.rotations(), 12U);
    EXPECT_EQ(sink.write_errors(), 0U);
  }
  const std::string day = path + ".2024-06-12";
  EXPECT_EQ(dir.entries(),
            (std::set<std::string>{"app.log", "app.log.2024-06-12.9", "app.log.2024-06-12.10",
                                   "app.log.2024-06-12.11"}));
  EXPECT_EQ(read_file(day + ".9"), rec(9));
  EXPECT_EQ(read_file(day + ".10"), rec(10));
  EXPECT_EQ(read_file(day + ".11"), rec(11));
  EXPECT_EQ(read_file(path), rec(12));
}

TEST(RotatingFileSink, DateNamingRetentionHoldsAcrossRestartsAndLeavesOtherFilesAlone) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  for (const char* name :
       {"app.log.2024-06-01", "app.log.2024-06-02_23-00.zst", "app.log.2024-06-03", "app.log.1",
        "app.log.old", "app.log.2024-06-3", "app.log.2024-06-04.01", "other.log.2024-06-01"}) {
    test::write_file(dir.file(name), "x\n");
  }
  test::write_file(path, "yesterday\n");
  set_mtime(path, local_time(2024, 6, 11, 18, 0, 0));
  FakeClock clock{local_time(2024, 6, 12, 9, 0, 0)};
  RotatingFileSinkOptions o = timed_options(path, RotationInterval::daily, clock);
  o.backup_count = 2;
  o.backup_naming = BackupNaming::date;
  {
    RotatingFileSink sink(o);
    sink.write(record_at(), "today\n");  // the file is from yesterday: rotates
    EXPECT_EQ(sink.rotations(), 1U);
  }
  EXPECT_EQ(dir.entries(),
            (std::set<std::string>{"app.log", "app.log.2024-06-03", "app.log.2024-06-11",
                                   "app.log.1", "app.log.old", "app.log.2024-06-3",
                                   "app.log.2024-06-04.01", "other.log.2024-06-01"}));
  EXPECT_EQ(read_file(path + ".2024-06-11"), "yesterday\n");
  EXPECT_EQ(read_file(path), "today\n");
}

// Without a time schedule, a dated backup bears the day of its first record.
TEST(RotatingFileSink, DateNamingBySizeUsesTheDayOfTheFirstRecord) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 11, 23, 0, 0)};  // the sink is made
  RotatingFileSinkOptions o = size_options(path, 20, 5);
  o.clock = clock.function();
  o.backup_naming = BackupNaming::date;
  RotatingFileSink sink(o);
  clock.now = local_time(2024, 6, 12, 23, 59, 0);
  sink.write(record_at(), rec(0));
  clock.now = local_time(2024, 6, 13, 0, 1, 0);
  sink.write(record_at(), rec(1));
  sink.write(record_at(), rec(2));  // rotates
  sink.write(record_at(), rec(3));
  sink.write(record_at(), rec(4));  // rotates
  sink.flush();
  EXPECT_EQ(dir.entries(),
            (std::set<std::string>{"app.log", "app.log.2024-06-12", "app.log.2024-06-13"}));
  EXPECT_EQ(read_file(path + ".2024-06-12"), recs(0, 1));
  EXPECT_EQ(read_file(path + ".2024-06-13"), recs(2, 3));
}

TEST(RotatingFileSink, DateNamingWithBackupCountZeroTruncatesAndKeepsNone) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  test::write_file(path + ".2024-06-01", "old\n");
  FakeClock clock{local_time(2024, 6, 12, 10, 0, 0)};
  RotatingFileSinkOptions o = size_options(path, 10, 0);
  o.clock = clock.function();
  o.backup_naming = BackupNaming::date;
  {
    RotatingFileSink sink(o);
    for (int i = 0; i < 3; ++i) sink.write(record_at(), rec(i));
    EXPECT_EQ(sink.rotations(), 2U);
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log"}));
  EXPECT_EQ(read_file(path), rec(2));
}

#if HYDRA_WITH_ZSTD

std::string zstd_decompress(const std::string& compressed) {
  std::string out;
  ZSTD_DCtx* context = ZSTD_createDCtx();
  ZSTD_inBuffer input{compressed.data(), compressed.size(), 0};
  std::vector<char> buffer(ZSTD_DStreamOutSize());
  std::size_t last = 1;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
    last = ZSTD_decompressStream(context, &output, &input);
    if (ZSTD_isError(last)) break;
    out.append(buffer.data(), output.pos);
  }
  ZSTD_freeDCtx(context);
  EXPECT_EQ(last, 0U) << "incomplete or corrupt zstd frame";
  return out;
}

TEST(RotatingFileSink, CompressesRotatedFilesWithZstd) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  RotatingFileSinkOptions o = size_options(path, 30, 3);
  o.compress = true;
  {
    RotatingFileSink sink(o);
    for (int i = 0; i < 10; ++i) sink.write(record_at(), rec(i));
  }  // the destructor finishes the compressions and joins the thread
  EXPECT_EQ(dir.entries(),
            (std::set<std::string>{"app.log", "app.log.1.zst", "app.log.2.zst", "app.log.3.zst"}));
  EXPECT_EQ(read_file(path), recs(9, 9));
  EXPECT_EQ(zstd_decompress(read_file(path + ".1.zst")), recs(6, 8));
  EXPECT_EQ(zstd_decompress(read_file(path + ".2.zst")), recs(3, 5));
  EXPECT_EQ(zstd_decompress(read_file(path + ".3.zst")), recs(0, 2));
}

TEST(RotatingFileSink, CompressionKeepsUpWithFastRotationsAndRestarts) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  RotatingFileSinkOptions o = size_options(path, 10, 4);
  o.compress = true;
  {
    RotatingFileSink sink(o);  // rotates at every record, faster than it compresses
    for (int i = 0; i < 60; ++i) sink.write(record_at(), rec(i));
  }
  // A crash left an uncompressed backup: the next run compresses it.
  std::filesystem::rename(path + ".4.zst", path + ".4.tmp");
  test::write_file(path + ".4", "left uncompressed\n");
  std::filesystem::remove(path + ".4.tmp");
  { RotatingFileSink sink(o); }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.1.zst", "app.log.2.zst",
                                                  "app.log.3.zst", "app.log.4.zst"}));
  EXPECT_EQ(read_file(path), rec(59));
  EXPECT_EQ(zstd_decompress(read_file(path + ".1.zst")), rec(58));
  EXPECT_EQ(zstd_decompress(read_file(path + ".2.zst")), rec(57));
  EXPECT_EQ(zstd_decompress(read_file(path + ".3.zst")), rec(56));
  EXPECT_EQ(zstd_decompress(read_file(path + ".4.zst")), "left uncompressed\n");
}

TEST(RotatingFileSink, CompressesDatedBackupsAndCountsThemForRetention) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FakeClock clock{local_time(2024, 6, 12, 10, 0, 0)};
  RotatingFileSinkOptions o = size_options(path, 10, 3);
  o.interval = RotationInterval::hourly;
  o.clock = clock.function();
  o.backup_naming = BackupNaming::date;
  o.compress = true;
  {
    RotatingFileSink sink(o);
    for (int i = 0; i < 6; ++i) {
      clock.now = local_time(2024, 6, 12, 10 + i / 2, 0, 0);  // two records an hour
      sink.write(record_at(), rec(i));
    }
    EXPECT_EQ(sink.rotations(), 5U);
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"app.log", "app.log.2024-06-12_11-00.zst",
                                                  "app.log.2024-06-12_11-00.1.zst",
                                                  "app.log.2024-06-12_12-00.zst"}));
  EXPECT_EQ(zstd_decompress(read_file(path + ".2024-06-12_11-00.zst")), rec(2));
  EXPECT_EQ(zstd_decompress(read_file(path + ".2024-06-12_11-00.1.zst")), rec(3));
  EXPECT_EQ(zstd_decompress(read_file(path + ".2024-06-12_12-00.zst")), rec(4));
  EXPECT_EQ(read_file(path), rec(5));
}

#else

TEST(RotatingFileSink, CompressWithoutZstdIsAConfigError) {
  TempDir dir;
  RotatingFileSinkOptions o = size_options(dir.file("app.log"), 30, 3);
  o.compress = true;
  EXPECT_THROW(RotatingFileSink sink(o), ConfigError);
}

#endif

}  // namespace
}  // namespace hydra
