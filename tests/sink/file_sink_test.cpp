#include "hydra/sink/file_sink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "hydra/core/error.hpp"
#include "sink/sink_test_support.hpp"

namespace hydra {
namespace {

using test::count_of;
using test::read_file;
using test::record_at;
using test::TempDir;

FileSinkOptions options_for(const std::string& path) {
  FileSinkOptions o;
  o.path = path;
  return o;
}

TEST(FileSink, WritesBytesExactlyOnFlush) {
  TempDir dir;
  FileSink sink(options_for(dir.file("app.log")));
  sink.write(record_at(), "first line\n");
  sink.write(record_at(), "second: \xc3\xa9 \t tab\n");
  sink.write(record_at(), "no newline at end");
  sink.flush();
  EXPECT_EQ(read_file(dir.file("app.log")),
            "first line\nsecond: \xc3\xa9 \t tab\nno newline at end");
  EXPECT_EQ(sink.write_errors(), 0U);
  EXPECT_EQ(sink.path(), dir.file("app.log"));
}

TEST(FileSink, BuffersBelowFlushLevelAndWritesAtIt) {
  TempDir dir;
  FileSinkOptions o = options_for(dir.file("app.log"));
  o.flush_level = Level::error;
  FileSink sink(o);
  sink.write(record_at(Level::info), "info\n");
  sink.write(record_at(Level::warning), "warning\n");
  EXPECT_EQ(read_file(dir.file("app.log")), "");
  sink.write(record_at(Level::error), "error\n");
  EXPECT_EQ(read_file(dir.file("app.log")), "info\nwarning\nerror\n");
  sink.write(record_at(Level::info), "after\n");
  EXPECT_EQ(read_file(dir.file("app.log")), "info\nwarning\nerror\n");
  sink.write(record_at(Level::critical), "crit\n");
  EXPECT_EQ(read_file(dir.file("app.log")), "info\nwarning\nerror\nafter\ncrit\n");
}

TEST(FileSink, WritesWhenTheBufferWouldOverflow) {
  TempDir dir;
  FileSinkOptions o = options_for(dir.file("app.log"));
  o.buffer_size = 10;
  FileSink sink(o);
  sink.write(record_at(), "12345\n");  // 6 bytes: buffered
  EXPECT_EQ(read_file(dir.file("app.log")), "");
  sink.write(record_at(), "abcde\n");  // would make 12: the first goes out
  EXPECT_EQ(read_file(dir.file("app.log")), "12345\n");
  sink.write(record_at(), "a record longer than the buffer\n");  // written at once
  EXPECT_EQ(read_file(dir.file("app.log")), "12345\nabcde\na record longer than the buffer\n");
}

TEST(FileSink, DestructorFlushes) {
  TempDir dir;
  {
    FileSink sink(options_for(dir.file("app.log")));
    sink.write(record_at(Level::debug), "kept in the buffer\n");
    EXPECT_EQ(read_file(dir.file("app.log")), "");
  }
  EXPECT_EQ(read_file(dir.file("app.log")), "kept in the buffer\n");
}

TEST(FileSink, AppendsToAnExistingFile) {
  TempDir dir;
  test::write_file(dir.file("app.log"), "from before\n");
  {
    FileSink sink(options_for(dir.file("app.log")));
    sink.write(record_at(), "new\n");
  }
  EXPECT_EQ(read_file(dir.file("app.log")), "from before\nnew\n");
}

TEST(FileSink, TruncateStartsEmpty) {
  TempDir dir;
  test::write_file(dir.file("app.log"), "from before\n");
  FileSinkOptions o = options_for(dir.file("app.log"));
  o.truncate = true;
  {
    FileSink sink(o);
    sink.write(record_at(), "new\n");
  }
  EXPECT_EQ(read_file(dir.file("app.log")), "new\n");
}

TEST(FileSink, CreatesTheFileWithMode0644) {
  TempDir dir;
  const mode_t old_mask = ::umask(022);
  { FileSink sink(options_for(dir.file("app.log"))); }
  ::umask(old_mask);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("app.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644U);
}

TEST(FileSink, CreatesMissingParentDirectories) {
  TempDir dir;
  const std::string path = dir.file("logs/2026/app.log");
  const mode_t old_mask = ::umask(022);
  {
    FileSink sink(options_for(path));
    sink.write(record_at(), "in a fresh directory\n");
  }
  ::umask(old_mask);
  EXPECT_EQ(read_file(path), "in a fresh directory\n");
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("logs").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0755U);
}

TEST(FileSink, RelativePathInAFreshWorkingDirectory) {
  TempDir dir;
  const std::filesystem::path old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  {
    FileSink sink(options_for("logs/app.log"));  // what the presets use
    sink.write(record_at(), "relative\n");
  }
  std::filesystem::current_path(old_cwd);
  EXPECT_EQ(read_file(dir.file("logs/app.log")), "relative\n");
}

TEST(FileSink, DirectoryThatCannotBeMadeIsAConfigErrorNamingIt) {
  TempDir dir;
  test::write_file(dir.file("plain"), "a file, not a directory\n");
  const std::string path = dir.file("plain/sub/app.log");
  try {
    FileSink sink(options_for(path));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "file '" + path + "': cannot create directory '" +
                                         dir.file("plain") + "': Not a directory");
  }
}

TEST(FileSink, DirectoryPathIsAConfigError) {
  TempDir dir;
  const std::string path = dir.path().string();
  try {
    FileSink sink(options_for(path));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + path + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::strerror(EISDIR)), std::string::npos) << e.what();
  }
}

TEST(FileSink, FullDeviceIsCountedAndReportedOnceWithoutThrowing) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  testing::internal::CaptureStderr();
  {
    FileSink sink(options_for("/dev/full"));
    for (int i = 0; i < 5; ++i) {
      EXPECT_NO_THROW(sink.write(record_at(Level::error), "disk is full\n"));
      EXPECT_NO_THROW(sink.flush());
    }
    EXPECT_GE(sink.write_errors(), 5U);
    EXPECT_NO_THROW(sink.reopen());
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(err, "write failed"), 1U) << err;
  EXPECT_NE(err.find("hydra: file '/dev/full': write failed: No space left on device (will retry)"),
            std::string::npos)
      << err;
  // At close, what could never be written is reported as lost, not dropped silently.
  EXPECT_EQ(count_of(err, "are lost"), 1U) << err;
}

TEST(FileSink, InjectedFailuresAreRetriedAndEverythingLandsInOrder) {
  TempDir dir;
  testing::internal::CaptureStderr();
  std::string expected;
  {
    FileSink sink(options_for(dir.file("app.log")));
    sink.inject_write_failures(3, EIO);
    for (int i = 0; i < 10; ++i) {
      const std::string line = "line " + std::to_string(i) + "\n";
      expected += line;
      sink.write(record_at(Level::error), line);  // each one tries to write
    }
    EXPECT_EQ(sink.write_errors(), 3U);
    EXPECT_EQ(sink.dropped_bytes(), 0U);
    EXPECT_EQ(read_file(dir.file("app.log")), expected);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(err, "write failed: Input/output error (will retry)"), 1U) << err;
  EXPECT_EQ(count_of(err, "writing again after 3 failed attempt(s)"), 1U) << err;
  EXPECT_EQ(count_of(err, "hydra: "), 2U) << err;
}

TEST(FileSink, AtMaxPendingNewRecordsAreDroppedWholeAndCounted) {
  TempDir dir;
  FileSinkOptions o = options_for(dir.file("app.log"));
  o.max_pending = 100;
  testing::internal::CaptureStderr();
  FileSink sink(o);
  sink.inject_write_failures(1000, ENOSPC);
  std::string all;
  for (int i = 0; i < 30; ++i) {
    const std::string line = "record " + std::to_string(100 + i) + "\n";  // 11 bytes
    all += line;
    sink.write(record_at(Level::error), line);
  }
  EXPECT_EQ(sink.pending_bytes(), 99U);  // the oldest 9 records, all that fit
  sink.inject_write_failures(0, 0);
  sink.flush();
  const std::string err = testing::internal::GetCapturedStderr();
  // The oldest are kept: the file has no gap before the loss.
  EXPECT_EQ(read_file(dir.file("app.log")), all.substr(0, 99));
  EXPECT_EQ(sink.dropped_records(), 21U);
  EXPECT_EQ(sink.dropped_bytes(), 21U * 11);
  // The first loss is reported at once, the total when writing works again.
  EXPECT_NE(err.find("hydra: file '" + dir.file("app.log") +
                     "': 1 record (11 bytes) lost: No space left on device (99 bytes wait for "
                     "the file; new records are dropped until writing works again)"),
            std::string::npos)
      << err;
  EXPECT_EQ(sink.write_errors(), 30U);  // one attempt per record, kept or dropped
  EXPECT_NE(err.find("writing again after 30 failed attempt(s); 21 records (231 bytes) were lost "
                     "meanwhile"),
            std::string::npos)
      << err;
}

// A clock the test moves by hand, for the loss reports' pace.
struct FakeSteadyClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  std::function<std::chrono::steady_clock::time_point()> function() {
    return [this] { return now; };
  }
};

TEST(FileSink, LossesAreReportedEveryFiveSecondsWhileTheDeviceFails) {
  TempDir dir;
  FakeSteadyClock clock;
  FileSinkOptions o = options_for(dir.file("app.log"));
  o.max_pending = 50;
  o.clock = clock.function();
  testing::internal::CaptureStderr();
  {
    FileSink sink(o);
    sink.inject_write_failures(1000000, EIO);
    const auto write = [&](int count) {
      for (int i = 0; i < count; ++i) sink.write(record_at(Level::error), "123456789\n");
    };
    write(10);  // 5 kept (50 bytes); the 6th is reported at once, 4 more are not yet
    clock.now += std::chrono::seconds(4);
    write(1);
    clock.now += std::chrono::seconds(1);
    write(1);  // 5 s after the first report: the 5 lost since then, before this one
    write(3);
    EXPECT_EQ(sink.dropped_records(), 10U);
  }
  const std::string reports = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(reports, " lost: "), 3U) << reports;
  EXPECT_NE(reports.find("1 record (10 bytes) lost: Input/output error"), std::string::npos)
      << reports;
  EXPECT_NE(reports.find("5 records (50 bytes) lost: Input/output error"), std::string::npos)
      << reports;
  // At close: the 4 dropped since, and the 5 still held.
  EXPECT_NE(reports.find("4 records (40 bytes) lost: Input/output error"), std::string::npos)
      << reports;
  EXPECT_NE(reports.find("5 records (50 bytes) could not be written before close and are lost"),
            std::string::npos)
      << reports;
}

TEST(FileSink, AFileEndingMidLineGetsANewlineBeforeTheFirstRecord) {
  TempDir dir;
  test::write_file(dir.file("app.log"), "complete\nkilled in the midd");
  {
    FileSink sink(options_for(dir.file("app.log")));
    sink.write(record_at(), "next\n");
  }
  EXPECT_EQ(read_file(dir.file("app.log")), "complete\nkilled in the midd\nnext\n");
}

// Lines of 13 to 19 bytes, numbered: "record 007 ..\n".
std::string numbered(int i) {
  return "record " +
         std::string(i < 10    ? "00"
                     : i < 100 ? "0"
                               : "") +
         std::to_string(i) + " " + std::string(static_cast<std::size_t>(i % 7), '.') + "\n";
}

// Every line is whole and numbered, and the numbers only go up.
void expect_whole_records_in_order(const std::string& contents, int* count) {
  *count = 0;
  int last = -1;
  ASSERT_TRUE(contents.empty() || contents.back() == '\n') << "ends mid-record: " << contents;
  for (const std::string& line : test::split_lines(contents)) {
    int i = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "record %d", &i), 1) << line;
    ASSERT_EQ(line + "\n", numbered(i)) << "a cut record";
    ASSERT_GT(i, last) << "out of order or twice";
    last = i;
    ++*count;
  }
}

// A FIFO with no reader: opening it for writing would wait for a reader
// forever. The sink is built in a child so that a regression shows as a hang
// the watchdog reports rather than a stuck test.
TEST(FileSink, AFifoWithNoReaderIsAConfigErrorNotAHang) {
  TempDir dir;
  const std::string path = dir.file("pipe");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(report[0]);
    const std::string error = test::config_error_of([&] { FileSink sink(options_for(path)); });
    (void)!::write(report[1], error.data(), error.size());
    std::_Exit(0);
  }
  ::close(report[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (done != pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  std::string error(512, '\0');
  const ssize_t n = ::read(report[0], error.data(), error.size());
  ::close(report[0]);
  error.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  ASSERT_EQ(done, pid) << "building a file sink on a FIFO with no reader hung";
  EXPECT_EQ(error,
            "file '" + path + "': cannot open: No such device or address (a FIFO with no reader)");
}

// A FIFO with a reader is written to like a file, and its writes wait for the
// reader as they always did (the open's O_NONBLOCK is not left on).
TEST(FileSink, AFifoWithAReaderIsWrittenTo) {
  TempDir dir;
  const std::string path = dir.file("pipe");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  {
    FileSink sink(options_for(path));
    const int flags = ::fcntl(reader, F_GETFL);
    ASSERT_EQ(::fcntl(reader, F_SETFL, flags & ~O_NONBLOCK), 0);
    sink.write(record_at(Level::error), "through the pipe\n");
  }
  std::string got(64, '\0');
  const ssize_t n = ::read(reader, got.data(), got.size());
  ::close(reader);
  ASSERT_GT(n, 0);
  got.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(got, "through the pipe\n");
}

// A header (the CSV header) goes ahead of a file's first bytes, also when
// those are records kept while the device failed; a reopen onto an empty file
// starts it again, and a file that already has content gets none.
TEST(FileSink, TheHeaderStartsTheFileAheadOfRecordsKeptThroughAFailingDevice) {
  TempDir dir;
  FileSinkOptions o = options_for(dir.file("app.csv"));
  o.header = "time,level,message\n";
  testing::internal::CaptureStderr();
  {
    FileSink sink(o);
    sink.inject_write_failures(2, ENOSPC);
    sink.write(record_at(Level::error), "t1,error,one\n");  // the header's write fails
    sink.write(record_at(Level::error), "t2,error,two\n");  // so does this attempt
    EXPECT_EQ(read_file(dir.file("app.csv")), "");
    sink.flush();
    EXPECT_EQ(read_file(dir.file("app.csv")), "time,level,message\nt1,error,one\nt2,error,two\n");
    ASSERT_EQ(std::rename(dir.file("app.csv").c_str(), dir.file("app.csv.1").c_str()), 0);
    sink.reopen();
    sink.inject_write_failures(1, ENOSPC);
    sink.write(record_at(Level::error), "t3,error,three\n");
    sink.flush();
    EXPECT_EQ(read_file(dir.file("app.csv")), "time,level,message\nt3,error,three\n");
  }
  {
    FileSink sink(o);  // a restart appending to the file
    sink.write(record_at(Level::error), "t4,error,four\n");
  }
  (void)testing::internal::GetCapturedStderr();
  EXPECT_EQ(read_file(dir.file("app.csv")), "time,level,message\nt3,error,three\nt4,error,four\n");
}

TEST(FileSink, AFullDeviceLeavesTheFileEndingOnARecord) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  constexpr rlim_t kLimit = 1000;
  const int code = test::run_with_file_size_limit(kLimit, [&] {
    FileSinkOptions o = options_for(path);
    o.buffer_size = 100;
    FileSink sink(o);
    for (int i = 0; i < 200; ++i) sink.write(record_at(), numbered(i));
  });  // closed while the device is still full
  ASSERT_EQ(code, 0);
  const std::string contents = read_file(path);
  EXPECT_LE(contents.size(), kLimit);
  EXPECT_GT(contents.size(), kLimit - 20);  // whole records up to the last that fitted
  int count = 0;
  expect_whole_records_in_order(contents, &count);
  EXPECT_GT(count, 50);
}

TEST(FileSink, WhenTheDeviceRecoversEveryRecordIsWrittenOrCountedOnceAndWhole) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  const std::string counts = dir.file("counts");
  const int code = test::run_with_file_size_limit(1000, [&] {
    FileSinkOptions o = options_for(path);
    o.buffer_size = 100;
    o.max_pending = 500;
    FileSink sink(o);
    for (int i = 0; i < 150; ++i) sink.write(record_at(), numbered(i));
    test::lift_file_size_limit();  // the device recovers
    for (int i = 150; i < 200; ++i) sink.write(record_at(), numbered(i));
    sink.flush();
    test::write_file(
        counts, std::to_string(sink.dropped_records()) + " " + std::to_string(sink.write_errors()));
  });
  ASSERT_EQ(code, 0);
  int written = 0;
  expect_whole_records_in_order(read_file(path), &written);
  int dropped = -1;
  int errors = -1;
  ASSERT_EQ(std::sscanf(read_file(counts).c_str(), "%d %d", &dropped, &errors), 2);
  EXPECT_GT(dropped, 0);
  EXPECT_GT(errors, 0);
  EXPECT_EQ(written + dropped, 200);
}

TEST(FileSink, ReopenAfterExternalRenameStartsAFreshFile) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  FileSink sink(options_for(path));
  sink.write(record_at(), "old 1\n");
  sink.write(record_at(), "old 2\n");
  std::filesystem::rename(path, path + ".1");  // what logrotate does
  sink.reopen();                               // then SIGHUP
  sink.write(record_at(), "new 1\n");
  sink.flush();
  EXPECT_EQ(read_file(path + ".1"), "old 1\nold 2\n");
  EXPECT_EQ(read_file(path), "new 1\n");
  EXPECT_EQ(sink.write_errors(), 0U);
}

TEST(FileSink, FailedReopenIsRetriedAtTheNextFlush) {
  TempDir dir;
  const std::string sub = dir.file("logs");
  std::filesystem::create_directory(sub);
  const std::string path = sub + "/app.log";
  testing::internal::CaptureStderr();
  FileSink sink(options_for(path));
  sink.write(record_at(), "before\n");
  std::filesystem::rename(sub, dir.file("moved"));
  sink.reopen();  // flushes to the old file, then cannot open the path
  sink.write(record_at(), "while missing\n");
  sink.flush();
  EXPECT_GE(sink.write_errors(), 1U);
  std::filesystem::create_directory(sub);
  sink.write(record_at(), "after\n");
  sink.flush();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(read_file(dir.file("moved/app.log")), "before\n");
  EXPECT_EQ(read_file(path), "while missing\nafter\n");
  EXPECT_EQ(count_of(err, "cannot reopen: No such file or directory (will retry)"), 1U) << err;
  EXPECT_EQ(count_of(err, "writing again"), 1U) << err;
}

TEST(FileSink, ConcurrentWritersProduceWholeLinesInPerThreadOrder) {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  {
    FileSinkOptions o = options_for(dir.file("app.log"));
    o.buffer_size = 1000;  // many overflow writes while the threads race
    FileSink sink(o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&sink, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const Level level = i % 97 == 0 ? Level::error : Level::info;
          sink.write(record_at(level),
                     "thread " + std::to_string(t) + " record " + std::to_string(i) + "\n");
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  const auto lines = test::split_lines(read_file(dir.file("app.log")));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const auto& line : lines) {
    int t = -1;
    int i = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "thread %d record %d", &t, &i), 2) << line;
    ASSERT_EQ(line, "thread " + std::to_string(t) + " record " + std::to_string(i)) << line;
    ASSERT_TRUE(t >= 0 && t < kThreads) << line;
    ASSERT_EQ(i, next[t]) << line;
    ++next[t];
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
}

}  // namespace
}  // namespace hydra
