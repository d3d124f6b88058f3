#include "hydra/sink/rotating_file_sink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#if HYDRA_WITH_ZSTD
#include <zstd.h>
#endif

#include "hydra/core/error.hpp"
#include "sink/sink_test_support.hpp"

namespace hydra {
namespace {

using Clock = std::chrono::system_clock;
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
