// The disk spool on real files: order across segments and restarts, the
// size cap, a torn tail, corruption in the middle, a failed write (the file
// size limit standing in for a full disk), the lock, and the format pinned
// byte for byte.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <hydra/net/spool.hpp>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using hydra::net::Spool;
using hydra::net::SpoolOptions;

std::string payload(std::uint64_t id) {
  return "record " + std::to_string(id) + " " + std::string(id % 7 * 5, 'x');
}

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".hspool") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint64_t> ids(const std::vector<hydra::net::SpooledRecord>& records) {
  std::vector<std::uint64_t> out;
  for (const auto& r : records) out.push_back(r.id);
  return out;
}

// A record's head (magic, size, id, instance, time) and its bytes besides
// the payload (the head and the CRC), in format 2.
constexpr std::uint64_t kRecordHead = 32;
constexpr std::uint64_t kRecordOverhead = kRecordHead + 4;

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = from; i < to; ++i) out.push_back(i);
  return out;
}

// Runs `f` with the file size limit at `limit` bytes, which stands in for a
// full disk: write(2) fails (EFBIG) past it.
template <typename F>
void with_file_size_limit(std::uint64_t limit, F f) {
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit low = old;
  low.rlim_cur = limit;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &low), 0);
  f();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
}

class SpoolTest : public ::testing::Test {
 protected:
  SpoolOptions options(std::uint64_t segment_bytes = 1024) {
    SpoolOptions o;
    o.dir = dir_.path() / "spool";
    o.segment_bytes = segment_bytes;
    o.fsync_interval = std::chrono::milliseconds(0);
    return o;
  }
  hydra::test::TempDir dir_;
};

TEST_F(SpoolTest, ReplaysInOrderAcrossSegmentsAndRestarts) {
  {
    Spool spool(options());
    for (std::uint64_t i = 0; i < 100; ++i) {
      ASSERT_EQ(spool.append(i, 1000 + static_cast<std::int64_t>(i), payload(i)),
                Spool::Append::ok);
    }
    EXPECT_EQ(spool.stats().records, 100u);
    EXPECT_GT(spool.stats().segments, 3u);  // 1 KiB segments
    EXPECT_EQ(spool.stats().oldest_time_ns, 1000);
    const auto first = spool.peek(30, 1 << 20);
    EXPECT_EQ(ids(first), range(0, 30));
    EXPECT_EQ(first[7].bytes, payload(7));
    EXPECT_EQ(first[7].time_ns, 1007);
    spool.pop(30);
    EXPECT_EQ(spool.stats().records, 70u);
    EXPECT_EQ(spool.stats().oldest_time_ns, 1030);
  }
  // A new process: the consumed records stay consumed.
  Spool spool(options());
  EXPECT_EQ(spool.stats().records, 70u);
  EXPECT_EQ(spool.stats().oldest_time_ns, 1030);
  ASSERT_EQ(spool.append(100, 1100, payload(100)), Spool::Append::ok);
  std::vector<std::uint64_t> seen;
  for (;;) {
    const auto batch = spool.peek(16, 300);  // small batches, bounded in bytes
    if (batch.empty()) break;
    EXPECT_LE(batch.size(), 16u);
    for (const auto& r : batch) {
      EXPECT_EQ(r.bytes, payload(r.id));
      seen.push_back(r.id);
    }
    spool.pop(batch.size());
  }
  EXPECT_EQ(seen, range(30, 101));
  EXPECT_EQ(spool.stats().records, 0u);
  EXPECT_EQ(spool.stats().bytes, 0u);
  EXPECT_TRUE(segments(options().dir).empty());  // wholly consumed: nothing left on disk
}

TEST_F(SpoolTest, TheCapRefusesAndCountsAndRoomComesBack) {
  SpoolOptions o = options(512);
  o.max_bytes = 2048;
  Spool spool(o);
  std::uint64_t id = 0;
  while (spool.append(id, 0, payload(id)) == Spool::Append::ok) ++id;
  EXPECT_GT(id, 10u);
  EXPECT_EQ(spool.stats().refused_full, 1u);
  EXPECT_LE(spool.stats().bytes, 2048u);
  std::uint64_t on_disk = 0;
  for (const auto& p : segments(o.dir)) on_disk += fs::file_size(p);
  EXPECT_EQ(on_disk, spool.stats().bytes);
  EXPECT_EQ(spool.append(id, 0, payload(id)), Spool::Append::full);
  EXPECT_EQ(spool.stats().refused_full, 2u);
  const auto segments_before = spool.stats().segments;
  spool.pop(spool.peek(20, 1 << 20).size());           // more than a 512-byte segment holds
  EXPECT_LT(spool.stats().segments, segments_before);  // consumed segments are deleted
  EXPECT_EQ(spool.append(id, 0, payload(id)), Spool::Append::ok);
  EXPECT_EQ(ids(spool.peek(1000, 1 << 20)).back(), id);
}

TEST_F(SpoolTest, ATornTailIsCutCountedAndAppendedAfter) {
  {
    Spool spool(options(1 << 20));
    for (std::uint64_t i = 0; i < 5; ++i)
      ASSERT_EQ(spool.append(i, 0, payload(i)), Spool::Append::ok);
  }
  const fs::path file = segments(options().dir).at(0);
  const auto size = fs::file_size(file);
  fs::resize_file(file, size - 7);  // a crash in the middle of the last record
  Spool spool(options(1 << 20));
  EXPECT_EQ(spool.stats().records, 4u);
  EXPECT_EQ(spool.stats().torn_bytes, kRecordOverhead + payload(4).size() - 7);
  ASSERT_EQ(spool.append(9, 0, payload(9)), Spool::Append::ok);
  EXPECT_EQ(ids(spool.peek(100, 1 << 20)), (std::vector<std::uint64_t>{0, 1, 2, 3, 9}));
}

TEST_F(SpoolTest, CorruptionInTheMiddleIsSkippedAndCounted) {
  std::uint64_t offset_of_5 = 16;
  {
    Spool spool(options(1 << 20));
    for (std::uint64_t i = 0; i < 10; ++i) {
      if (i < 5) offset_of_5 += kRecordOverhead + payload(i).size();
      ASSERT_EQ(spool.append(i, 0, payload(i)), Spool::Append::ok);
    }
  }
  const fs::path file = segments(options().dir).at(0);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset_of_5 + kRecordHead + 3));  // in record 5's payload
    f.put('#');
  }
  std::uint64_t offset_of_21 = 16;
  {
    Spool spool(options(1 << 20));
    EXPECT_EQ(spool.stats().records, 9u);
    EXPECT_EQ(spool.stats().corrupt_bytes, kRecordOverhead + payload(5).size());
    EXPECT_EQ(ids(spool.peek(100, 1 << 20)),
              (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9}));
    spool.pop(9);  // all consumed: the next records begin a new segment
    for (std::uint64_t i = 20; i < 24; ++i) {
      if (i < 21) offset_of_21 += kRecordOverhead + payload(i).size();
      ASSERT_EQ(spool.append(i, 0, payload(i)), Spool::Append::ok);
    }
  }
  // A bad size in a record's head: the records after it are found again.
  const fs::path second = segments(options().dir).at(0);
  {
    std::fstream f(second, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset_of_21 + 4 + 3));  // the size's high byte
    f.put('\x7f');
  }
  Spool spool(options(1 << 20));
  EXPECT_EQ(spool.stats().records, 3u);
  EXPECT_EQ(spool.stats().corrupt_bytes, kRecordOverhead + payload(21).size());
  EXPECT_EQ(ids(spool.peek(100, 1 << 20)), (std::vector<std::uint64_t>{20, 22, 23}));
}

// A segment larger than a peek's reads (64 KiB and up): records that cross
// a read's end are read again with the next one, and a bad record in the
// middle of one is skipped up to the next record, wherever it lies.
TEST_F(SpoolTest, ReadsInChunksSkippingABadRecordInTheMiddle) {
  const std::string body(90, 'z');
  std::uint64_t offset_of_1500 = 16;
  {
    Spool spool(options(std::uint64_t{64} << 20));
    for (std::uint64_t i = 0; i < 3000; ++i) {
      if (i < 1500) offset_of_1500 += kRecordOverhead + body.size();
      ASSERT_EQ(spool.append(i, 0, body), Spool::Append::ok);
    }
  }
  {
    std::fstream f(segments(options().dir).at(0), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset_of_1500 + kRecordHead + 6));
    f.put('#');
  }
  Spool spool(options(std::uint64_t{64} << 20));
  EXPECT_EQ(spool.stats().records, 2999u);
  std::vector<std::uint64_t> seen;
  for (;;) {
    const auto batch = spool.peek(500, 100);  // about one record of bytes: the smallest reads
    if (batch.empty()) break;
    for (const auto& r : batch) seen.push_back(r.id);
    spool.pop(batch.size());
  }
  std::vector<std::uint64_t> expected = range(0, 3000);
  expected.erase(expected.begin() + 1500);
  EXPECT_EQ(seen, expected);
}

TEST_F(SpoolTest, AFailedWriteIsCountedAndLeavesNothingBehind) {
  Spool spool(options(1 << 20));
  ASSERT_EQ(spool.append(0, 0, payload(0)), Spool::Append::ok);
  const fs::path file = segments(options().dir).at(0);
  const auto before = fs::file_size(file);
  Spool::Append result = Spool::Append::ok;
  with_file_size_limit(before + 10, [&] { result = spool.append(1, 0, std::string(100, 'y')); });
  EXPECT_EQ(result, Spool::Append::failed);
  EXPECT_EQ(spool.stats().write_errors, 1u);
  EXPECT_EQ(spool.last_error(), "spool segment '" + file.string() + "': File too large");
  EXPECT_EQ(fs::file_size(file), before);  // nothing of it stays
  EXPECT_EQ(spool.stats().records, 1u);
  ASSERT_EQ(spool.append(2, 0, payload(2)), Spool::Append::ok);
  EXPECT_EQ(ids(spool.peek(10, 1 << 20)), (std::vector<std::uint64_t>{0, 2}));
}

// Many records in one append: what append() does one by one, with one
// write per segment. Across segment rolls, up to the cap (those past it
// counted full, and a smaller one after them still taken), the same bytes
// on disk as one-by-one appends, and a failed write leaves none of the
// records it carried.
TEST_F(SpoolTest, ABatchAppendsAsOneByOneWouldWithAWritePerSegment) {
  SpoolOptions o = options(512);
  o.max_bytes = 4096;
  std::vector<std::string> bytes;
  std::vector<Spool::Entry> entries;
  for (std::uint64_t i = 0; i < 200; ++i) bytes.push_back(payload(i));
  for (std::uint64_t i = 0; i < 200; ++i) {
    entries.push_back({i, 1000 + static_cast<std::int64_t>(i), bytes[i], 7});
  }
  std::uint64_t taken = 0;
  {
    Spool batch(o);
    const Spool::AppendCounts c = batch.append(entries);
    EXPECT_EQ(c.ok + c.full, 200u);
    EXPECT_EQ(c.failed, 0u);
    EXPECT_GT(c.ok, 20u);
    EXPECT_GT(c.full, 0u);
    taken = c.ok;
    EXPECT_EQ(batch.stats().records, c.ok);
    EXPECT_EQ(batch.stats().refused_full, c.full);
    EXPECT_GT(batch.stats().segments, 3u);  // 512-byte segments
    EXPECT_LE(batch.stats().bytes, 4096u);
    EXPECT_EQ(batch.stats().oldest_time_ns, 1000);
  }
  // The same records one by one, in a second directory: the same files.
  SpoolOptions o2 = o;
  o2.dir = dir_.path() / "one-by-one";
  {
    Spool single(o2);
    for (const auto& e : entries) (void)single.append(e.id, e.time_ns, e.bytes, e.instance);
  }
  const auto a = segments(o.dir);
  const auto b = segments(o2.dir);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(hydra::test::read_file(a[i]), hydra::test::read_file(b[i])) << a[i];
  }
  Spool batch(o);  // reopened: every record decodes, in order
  const auto back = batch.peek(1000, 1 << 20);
  ASSERT_EQ(back.size(), taken);
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].bytes, bytes[back[i].id]);
    EXPECT_EQ(back[i].instance, 7u);
    if (i > 0) {
      EXPECT_LT(back[i - 1].id, back[i].id);
    }
  }
  batch.pop(back.size());

  // A failed write: the records it carried are counted failed, none stays.
  ASSERT_EQ(batch.append(entries.front().id, 0, "x"), Spool::Append::ok);
  const fs::path tail = segments(o.dir).back();
  const auto before = fs::file_size(tail);
  Spool::AppendCounts failed;
  with_file_size_limit(before + 10,
                       [&] { failed = batch.append(std::span(entries).subspan(0, 3)); });
  EXPECT_EQ(failed.failed, 3u);
  EXPECT_EQ(failed.ok, 0u);
  EXPECT_EQ(batch.stats().write_errors, 3u);
  EXPECT_EQ(fs::file_size(tail), before);
  EXPECT_EQ(batch.stats().records, 1u);
}

// The CPU's CRC-32C (SSE 4.2 where there is one) and the table's agree, on
// every length around the 8-byte steps, at every alignment, chained.
TEST(SpoolCrc, TheCpusWayAndTheTablesAgree) {
  EXPECT_EQ(hydra::net::detail::crc32c_table("123456789"), 0xE3069283u);  // the check value
  std::string data;
  std::uint32_t x = 12345;
  for (int i = 0; i < 400; ++i) {
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 16));
  }
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t size = 0; size + offset <= 300; ++size) {
      const std::string_view part(data.data() + offset, size);
      ASSERT_EQ(hydra::net::crc32c(part), hydra::net::detail::crc32c_table(part))
          << "offset " << offset << ", size " << size;
      ASSERT_EQ(hydra::net::crc32c(part, 0xDEADBEEF),
                hydra::net::detail::crc32c_table(part, 0xDEADBEEF));
    }
  }
  // In two pieces, chained, as in one.
  const std::string_view all(data);
  EXPECT_EQ(hydra::net::crc32c(all.substr(123), hydra::net::crc32c(all.substr(0, 123))),
            hydra::net::crc32c(all));
}

TEST_F(SpoolTest, OneProcessAtATime) {
  Spool spool(options());
  try {
    Spool second(options());
    ADD_FAILURE() << "a second spool opened the same directory";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "spool '" + options().dir.string() + "': in use by another process");
  }
}

// The format of docs/shipping.md, byte for byte: a change here is a new
// format version.
TEST_F(SpoolTest, TheFormatIsPinned) {
  EXPECT_EQ(hydra::net::crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
  {
    Spool spool(options());
    ASSERT_EQ(spool.append(0x0102030405060708, -2, "hi", 0x1112131415161718), Spool::Append::ok);
  }
  const std::string bytes = hydra::test::read_file(segments(options().dir).at(0));
  std::string expected("HYSPOOL\0\x02\0\0\0\0\0\0\0", 16);
  expected += std::string("HSPR\x02\0\0\0", 8);
  expected += std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8);
  expected += std::string("\x18\x17\x16\x15\x14\x13\x12\x11", 8);
  expected += std::string("\xfe\xff\xff\xff\xff\xff\xff\xff", 8);
  expected += "hi";
  const std::uint32_t crc = hydra::net::crc32c(std::string_view(expected).substr(24, 26));
  for (int i = 0; i < 4; ++i) expected += static_cast<char>(crc >> (8 * i) & 0xff);
  EXPECT_EQ(bytes, expected);
}

}  // namespace
