#include "hydra/net/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "../sink/fd_io.hpp"

namespace hydra::net {
namespace {

namespace fs = std::filesystem;

constexpr char kSegmentMagic[8] = {'H', 'Y', 'S', 'P', 'O', 'O', 'L', '\0'};
constexpr std::uint32_t kFormat = 2;
constexpr std::size_t kSegmentHeader = 16;
constexpr std::uint32_t kRecordMagic = 0x52505348;      // "HSPR" little-endian
constexpr std::size_t kRecordHead = 4 + 4 + 8 + 8 + 8;  // magic, size, id, instance, time
constexpr std::size_t kRecordOverhead = kRecordHead + 4;
// A record's payload is at most this (what a destination's batch may hold);
// a larger size field is corruption.
constexpr std::uint32_t kMaxPayload = 64u << 20;

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

template <typename T>
void put(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out += static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i) & 0xff);
  }
}

template <typename T>
T get(const char* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  }
  return static_cast<T>(v);
}

using hydra::detail::errno_text;  // sink/fd_io.hpp

std::string segment_name(std::uint64_t seq) {
  char name[40];
  std::snprintf(name, sizeof name, "seg-%020llu.hspool", static_cast<unsigned long long>(seq));
  return name;
}

std::optional<std::uint64_t> segment_seq(const std::string& name) {
  if (name.size() != 31 || !name.starts_with("seg-") || !name.ends_with(".hspool")) {
    return std::nullopt;
  }
  std::uint64_t seq = 0;
  for (std::size_t i = 4; i < 24; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    seq = seq * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return seq;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Up to `size` bytes of `path` from `offset` (fewer at its end).
std::string read_at(const fs::path& path, std::uint64_t offset, std::uint64_t size) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  out.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

// One record decoded from `data` at `at`, or why not.
enum class Decode : std::uint8_t { ok, torn, bad };
Decode decode(std::string_view data, std::size_t at, SpooledRecord* out, std::size_t& size) {
  if (data.size() - at < kRecordHead) return Decode::torn;
  const char* p = data.data() + at;
  if (get<std::uint32_t>(p) != kRecordMagic) return Decode::bad;
  const auto payload = get<std::uint32_t>(p + 4);
  if (payload > kMaxPayload) return Decode::bad;
  size = kRecordOverhead + payload;
  if (data.size() - at < size) return Decode::torn;
  const std::string_view body(p + 8, kRecordHead - 8 + payload);
  if (crc32c(body) != get<std::uint32_t>(p + kRecordHead + payload)) return Decode::bad;
  if (out != nullptr) {
    out->id = get<std::uint64_t>(p + 8);
    out->instance = get<std::uint64_t>(p + 16);
    out->time_ns = get<std::int64_t>(p + 24);
    out->bytes.assign(p + kRecordHead, payload);
  }
  return Decode::ok;
}

}  // namespace

namespace {
#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes CRC-32C, 8 bytes a step: about ten
// times the table's speed, and the checksum is on the spool's hot path
// (every record a spooling destination writes, on the sender's thread).
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::string_view data,
                                                             std::uint32_t crc) {
  const char* p = data.data();
  std::size_t n = data.size();
  std::uint64_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = __builtin_ia32_crc32qi(c32, static_cast<unsigned char>(*p));
  return ~c32;
}
#endif
}  // namespace

std::uint32_t detail::crc32c_table(std::string_view data, std::uint32_t crc) {
  static const std::array<std::uint32_t, 256> table = make_crc_table();
  crc = ~crc;
  for (const char c : data) crc = table[(crc ^ static_cast<unsigned char>(c)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2") != 0;
  if (sse42) return crc32c_sse42(data, crc);
#endif
  return detail::crc32c_table(data, crc);
}

struct Spool::Impl {
  struct Segment {
    std::uint64_t seq = 0;
    std::uint64_t size = 0;     // of the file
    std::uint64_t records = 0;  // that decode, after the cursor for the oldest
  };
  SpoolOptions options;
  int lock_fd = -1;
  int tail_fd = -1;  // the newest segment, open for appending
  std::vector<Segment> segments;
  std::uint64_t head_offset = kSegmentHeader;  // in segments.front()
  std::uint64_t next_seq = 1;
  SpoolStats stats;
  std::string error;
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  bool unsynced = false;
  std::string pending;  // append()'s buffer, kept from call to call
  // What the last peek() returned: each record's end, by segment.
  mutable std::vector<std::pair<std::size_t, std::uint64_t>> peeked;

  fs::path path(std::uint64_t seq) const { return options.dir / segment_name(seq); }

  // Every record of `data` from `at` on: `each(record, end)`; skipped bytes
  // and a torn tail counted. Returns the end of the last good record.
  template <typename Each>
  std::uint64_t scan(std::string_view data, std::size_t at, std::uint64_t& corrupt,
                     std::uint64_t& torn, Each&& each) const {
    std::size_t good_end = at;
    while (at < data.size()) {
      std::size_t size = 0;
      SpooledRecord record;
      const Decode d = decode(data, at, &record, size);
      if (d == Decode::ok) {
        at += size;
        good_end = at;
        if (!each(record, at)) break;
        continue;
      }
      // A bad record: look for the next one that decodes. A torn one at
      // the end: nothing follows it.
      std::size_t next = at + 1;
      while (next < data.size()) {
        std::size_t s = 0;
        if (decode(data, next, nullptr, s) == Decode::ok) break;
        ++next;
      }
      if (d == Decode::torn && next >= data.size()) {
        torn += data.size() - at;
      } else {
        corrupt += next - at;
      }
      at = next;
    }
    return good_end;
  }

  void save_cursor() {
    if (segments.empty()) return;
    const fs::path file = options.dir / "cursor";
    const fs::path temp = options.dir / "cursor.tmp";
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out << "hydra-spool-cursor 1\n" << segments.front().seq << ' ' << head_offset << '\n';
    }
    std::error_code ec;
    fs::rename(temp, file, ec);
  }

  void open_tail() {
    if (tail_fd >= 0) ::close(tail_fd);
    tail_fd = -1;
    if (segments.empty()) return;
    tail_fd = ::open(path(segments.back().seq).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }

  bool new_segment() {
    const std::uint64_t seq = next_seq++;
    const fs::path file = path(seq);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      error = "spool segment '" + file.string() + "': " + errno_text(errno);
      return false;
    }
    std::string header(kSegmentMagic, sizeof kSegmentMagic);
    put<std::uint32_t>(header, kFormat);
    put<std::uint32_t>(header, 0);
    if (::write(fd, header.data(), header.size()) != static_cast<ssize_t>(header.size())) {
      error = "spool segment '" + file.string() + "': " + errno_text(errno);
      ::close(fd);
      std::error_code ec;
      fs::remove(file, ec);
      return false;
    }
    if (tail_fd >= 0) ::close(tail_fd);
    tail_fd = fd;
    if (segments.empty()) head_offset = kSegmentHeader;
    segments.push_back({seq, kSegmentHeader, 0});
    stats.bytes += kSegmentHeader;
    return true;
  }

  // The time of the record at the head (its header read, not checked: a
  // statistic), or of the first record that decodes after it.
  void refresh_oldest_time() {
    stats.oldest_time_ns = 0;
    if (stats.records == 0 || segments.empty()) return;
    const std::string head = read_at(path(segments.front().seq), head_offset, kRecordHead);
    if (head.size() == kRecordHead && get<std::uint32_t>(head.data()) == kRecordMagic) {
      stats.oldest_time_ns = get<std::int64_t>(head.data() + 24);
    }
  }
};

Spool::Spool(SpoolOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.options = std::move(options);
  std::error_code ec;
  fs::create_directories(im.options.dir, ec);
  if (ec) {
    throw std::runtime_error("spool '" + im.options.dir.string() + "': " + ec.message());
  }
  const fs::path lock = im.options.dir / "lock";
  im.lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (im.lock_fd < 0) {
    throw std::runtime_error("spool '" + lock.string() + "': " + errno_text(errno));
  }
  if (::flock(im.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(im.lock_fd);
    throw std::runtime_error(
        "spool '" + im.options.dir.string() +
        "': " + (e == EWOULDBLOCK ? std::string("in use by another process") : errno_text(e)));
  }
  std::vector<std::uint64_t> seqs;
  for (const auto& entry : fs::directory_iterator(im.options.dir, ec)) {
    if (const auto seq = segment_seq(entry.path().filename().string())) seqs.push_back(*seq);
  }
  std::sort(seqs.begin(), seqs.end());
  // The cursor: segments before it are consumed (left by a crash between
  // saving it and deleting them).
  std::uint64_t cursor_seq = 0, cursor_offset = kSegmentHeader;
  {
    std::ifstream in(im.options.dir / "cursor");
    std::string tag;
    int version = 0;
    if (in >> tag >> version >> cursor_seq >> cursor_offset) {
      if (tag != "hydra-spool-cursor" || version != 1) cursor_seq = 0;
    } else {
      cursor_seq = 0;
    }
  }
  for (const std::uint64_t seq : seqs) {
    if (seq < cursor_seq) {
      fs::remove(im.path(seq), ec);
      continue;
    }
    const std::string data = read_file(im.path(seq));
    Impl::Segment segment{seq, data.size(), 0};
    const bool header_ok = data.size() >= kSegmentHeader &&
                           std::memcmp(data.data(), kSegmentMagic, sizeof kSegmentMagic) == 0 &&
                           get<std::uint32_t>(data.data() + 8) == kFormat;
    std::size_t start = kSegmentHeader;
    if (!header_ok) {
      im.stats.corrupt_bytes += std::min<std::size_t>(data.size(), kSegmentHeader);
    }
    if (seq == cursor_seq && im.segments.empty()) {
      start = std::max<std::uint64_t>(kSegmentHeader,
                                      std::min<std::uint64_t>(cursor_offset, data.size()));
      im.head_offset = start;
    }
    const std::uint64_t good_end = im.scan(data, start, im.stats.corrupt_bytes, im.stats.torn_bytes,
                                           [&](const SpooledRecord&, std::size_t) {
                                             ++segment.records;
                                             return true;
                                           });
    if (seq == seqs.back() && good_end < data.size()) {
      // The newest segment ends in a torn or bad record: cut it off, so that
      // appends continue after the last good one.
      if (::truncate(im.path(seq).c_str(), static_cast<off_t>(good_end)) == 0) {
        segment.size = good_end;
      }
    }
    if (im.segments.empty() && seq != cursor_seq) im.head_offset = kSegmentHeader;
    im.segments.push_back(segment);
    im.stats.records += segment.records;
    im.stats.bytes += segment.size;
    im.next_seq = seq + 1;
  }
  im.stats.segments = im.segments.size();
  im.open_tail();
  im.refresh_oldest_time();
}

Spool::~Spool() {
  sync();
  if (impl_->tail_fd >= 0) ::close(impl_->tail_fd);
  if (impl_->lock_fd >= 0) ::close(impl_->lock_fd);  // releases the flock
}

Spool::Append Spool::append(std::uint64_t id, std::int64_t time_ns, std::string_view bytes,
                            std::uint64_t instance) {
  const Entry one{id, time_ns, bytes, instance};
  const AppendCounts c = append(std::span<const Entry>(&one, 1));
  return c.ok == 1 ? Append::ok : c.full == 1 ? Append::full : Append::failed;
}

Spool::AppendCounts Spool::append(std::span<const Entry> records) {
  Impl& im = *impl_;
  AppendCounts counts;
  // The records encoded for the tail segment, not yet written.
  std::string& pending = im.pending;
  pending.clear();
  std::uint64_t pending_records = 0;
  std::int64_t pending_first_time = 0;
  const auto write_pending = [&]() -> bool {
    if (pending.empty()) return true;
    Impl::Segment& tail = im.segments.back();
    std::size_t done = 0;
    while (done < pending.size()) {
      const ssize_t n = ::write(im.tail_fd, pending.data() + done, pending.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int e = n < 0 ? errno : ENOSPC;
        // Nothing of them stays: the file is cut back to where it was.
        if (::ftruncate(im.tail_fd, static_cast<off_t>(tail.size)) != 0) {
          // Left as it is: the next open finds a torn record there and cuts it.
        }
        im.error = "spool segment '" + im.path(tail.seq).string() + "': " + errno_text(e);
        im.stats.write_errors += pending_records;
        counts.failed += pending_records;
        pending.clear();
        pending_records = 0;
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    if (im.stats.records == 0) im.stats.oldest_time_ns = pending_first_time;
    tail.size += pending.size();
    tail.records += pending_records;
    im.stats.bytes += pending.size();
    im.stats.records += pending_records;
    im.stats.appended += pending_records;
    counts.ok += pending_records;
    im.unsynced = true;
    pending.clear();
    pending_records = 0;
    return true;
  };

  for (const Entry& r : records) {
    if (r.bytes.size() > kMaxPayload) {
      ++im.stats.refused_full;
      ++counts.full;
      continue;
    }
    const std::uint64_t size = kRecordOverhead + r.bytes.size();
    const std::uint64_t tail_size =
        im.segments.empty() ? 0 : im.segments.back().size + pending.size();
    const bool roll = im.segments.empty() || im.tail_fd < 0 ||
                      (tail_size + size > im.options.segment_bytes && tail_size > kSegmentHeader);
    if (im.stats.bytes + pending.size() + size + (roll ? kSegmentHeader : 0) >
        im.options.max_bytes) {
      ++im.stats.refused_full;
      ++counts.full;
      continue;
    }
    if (roll) {
      (void)write_pending();  // what failed is counted; this record may still go
      if (!im.new_segment()) {
        ++im.stats.write_errors;
        ++counts.failed;
        continue;
      }
    }
    if (pending_records == 0) pending_first_time = r.time_ns;
    put<std::uint32_t>(pending, kRecordMagic);
    put<std::uint32_t>(pending, static_cast<std::uint32_t>(r.bytes.size()));
    const std::size_t at = pending.size();  // the checksum covers from here on
    put<std::uint64_t>(pending, r.id);
    put<std::uint64_t>(pending, r.instance);
    put<std::int64_t>(pending, r.time_ns);
    pending.append(r.bytes);
    put<std::uint32_t>(pending, crc32c(std::string_view(pending).substr(at)));
    ++pending_records;
  }
  (void)write_pending();
  im.stats.segments = im.segments.size();
  const auto now = std::chrono::steady_clock::now();
  if (im.unsynced &&
      (im.options.fsync_interval.count() == 0 || now - im.last_sync >= im.options.fsync_interval)) {
    sync();
  }
  if (im.pending.capacity() > (std::size_t{4} << 20)) std::string().swap(im.pending);
  return counts;
}

std::vector<SpooledRecord> Spool::peek(std::size_t max_records, std::size_t max_bytes) const {
  const Impl& im = *impl_;
  std::vector<SpooledRecord> out;
  im.peeked.clear();
  std::size_t bytes = 0;
  const auto full = [&] {
    return out.size() >= max_records || (!out.empty() && bytes >= max_bytes);
  };
  // The first chunk: about what the batch may hold.
  std::uint64_t want =
      std::clamp<std::uint64_t>(max_bytes, std::uint64_t{64} << 10, std::uint64_t{8} << 20) +
      (std::uint64_t{64} << 10);
  for (std::size_t index = 0; index < im.segments.size() && !full(); ++index) {
    const Impl::Segment& segment = im.segments[index];
    const fs::path file = im.path(segment.seq);
    std::uint64_t pos = index == 0 ? im.head_offset : kSegmentHeader;
    // Reads a chunk at a time; a record cut by the chunk's end is read again
    // with the next chunk (a larger one when it alone is larger).
    while (pos < segment.size && !full()) {
      const std::string chunk = read_at(file, pos, std::min(want, segment.size - pos));
      if (chunk.empty()) break;
      const bool last_chunk = pos + chunk.size() >= segment.size;
      std::size_t at = 0;
      while (at < chunk.size() && !full()) {
        std::size_t size = 0;
        SpooledRecord r;
        const Decode d = decode(chunk, at, &r, size);
        if (d == Decode::ok) {
          if (!out.empty() && bytes + r.bytes.size() > max_bytes) {
            bytes = max_bytes;  // full
            break;
          }
          bytes += r.bytes.size();
          at += size;
          im.peeked.emplace_back(index, pos + at);
          out.push_back(std::move(r));
          continue;
        }
        if (d == Decode::torn && !last_chunk) {
          if (at == 0) want = std::max(want * 2, static_cast<std::uint64_t>(size));
          break;  // read again from here
        }
        // Bad (counted when the spool was opened): on to the next record
        // that decodes, or that this chunk cuts.
        std::size_t next = at + 1;
        for (; next < chunk.size(); ++next) {
          std::size_t s2 = 0;
          const Decode d2 = decode(chunk, next, nullptr, s2);
          if (d2 == Decode::ok || (d2 == Decode::torn && !last_chunk && chunk.size() - next >= 4 &&
                                   get<std::uint32_t>(chunk.data() + next) == kRecordMagic)) {
            break;
          }
        }
        at = next;
      }
      if (at == 0 && !full()) {
        if (last_chunk) break;
        continue;  // a larger chunk
      }
      pos += at;
    }
  }
  return out;
}

void Spool::pop(std::size_t n) {
  Impl& im = *impl_;
  if (n == 0) return;
  if (n > im.peeked.size()) (void)peek(n, static_cast<std::size_t>(-1));
  n = std::min(n, im.peeked.size());
  if (n == 0) return;
  const auto [index, end] = im.peeked[n - 1];
  // Records consumed: those of the segments before `index`, and those of
  // segment `index` up to `end`.
  im.stats.records -= std::min<std::uint64_t>(im.stats.records, n);
  std::error_code ec;
  for (std::size_t i = 0; i < index; ++i) {
    im.stats.bytes -= im.segments.front().size;
    fs::remove(im.path(im.segments.front().seq), ec);
    im.segments.erase(im.segments.begin());
  }
  im.head_offset = end;
  Impl::Segment& head = im.segments.front();
  const std::size_t in_head = static_cast<std::size_t>(
      std::count_if(im.peeked.begin(), im.peeked.begin() + static_cast<std::ptrdiff_t>(n),
                    [&](const auto& p) { return p.first == index; }));
  head.records -= std::min<std::uint64_t>(head.records, in_head);
  if (im.stats.records == 0) {
    // All consumed: start afresh at the next append.
    for (const auto& s : im.segments) {
      im.stats.bytes -= s.size;
      fs::remove(im.path(s.seq), ec);
    }
    im.segments.clear();
    if (im.tail_fd >= 0) ::close(im.tail_fd);
    im.tail_fd = -1;
    im.head_offset = kSegmentHeader;
    fs::remove(im.options.dir / "cursor", ec);
  } else if (head.records == 0 && im.segments.size() > 1) {
    im.stats.bytes -= head.size;
    fs::remove(im.path(head.seq), ec);
    im.segments.erase(im.segments.begin());
    im.head_offset = kSegmentHeader;
    im.save_cursor();
  } else {
    im.save_cursor();
  }
  im.stats.segments = im.segments.size();
  im.peeked.clear();
  im.refresh_oldest_time();
}

void Spool::sync() {
  Impl& im = *impl_;
  if (!im.unsynced || im.tail_fd < 0) return;
  if (::fsync(im.tail_fd) != 0) {
    im.error = "spool fsync: " + errno_text(errno);
    ++im.stats.write_errors;
  }
  im.unsynced = false;
  im.last_sync = std::chrono::steady_clock::now();
}

SpoolStats Spool::stats() const {
  return impl_->stats;
}

std::string Spool::last_error() const {
  return impl_->error;
}

}  // namespace hydra::net
