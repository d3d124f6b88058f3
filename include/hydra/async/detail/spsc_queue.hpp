// Internal: a bounded single-producer single-consumer queue of variable-size
// byte records. The producer reserves contiguous space, writes, commits; the
// consumer peeks, reads in place, releases. Positions only grow (64-bit), so
// wrap-around needs no special state: a record that would straddle the end of
// the ring is preceded by a padding record that fills the end.
//
// Each side keeps a cached copy of the other's position and reloads it only
// when the cache says the queue is full (producer) or empty (consumer), so the
// shared cache lines are touched rarely. The producer's state is a Writer
// that lives wherever the producer keeps its other per-record state (the
// async engine keeps it in the thread's own thread-local line). Beside its
// position the producer publishes two words of its own on the same line (the
// engine's in-flight mark and record count), so a record's stores outside
// the ring go to one line.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace hydra::detail {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kRecordAlign = 8;
// Queue buffers are aligned to (and made of whole) pages of this size, so
// that populate_pages can cover them exactly.
inline constexpr std::size_t kPageSize = 4096;

// Faults in the pages of [p, p + n) for writing without writing to them
// (madvise MADV_POPULATE_WRITE, Linux 5.14 and later), so that it may run
// while another thread writes there. Returns false when the kernel cannot:
// found out once and remembered, so later calls return false at once.
// Other failures (no memory for the pages now) return true: the pages then
// fault in on first write, as they would have.
bool populate_pages(std::byte* p, std::size_t n) noexcept;
// Test hook: makes populate_pages act as on a kernel without it (true), or
// find out afresh (false).
void set_populate_unsupported_for_test(bool unsupported) noexcept;

constexpr std::size_t align_up(std::size_t n, std::size_t a) {
  return (n + a - 1) & ~(a - 1);
}

// Every record starts with its size; the queue needs nothing else from it.
// A size with the top bit set marks padding up to the end of the ring.
inline constexpr std::uint32_t kPaddingBit = 0x8000'0000u;

class SpscQueue {
 public:
  static constexpr std::size_t kReleaseStep = 32;
  // The largest queue (the Writer keeps a 32-bit mask, and a padding
  // record's size must fit beside kPaddingBit).
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;

  // `capacity` is rounded up to a power of two (at most kMaxCapacity); the
  // buffer is whole pages.
  // With `prefault`, the memory is touched once here so that first writes
  // do not stall on page faults. Without, nothing is touched: each page
  // faults in on its first write (a microsecond or so), unless the consumer
  // faults them in ahead of the producer with populate_next().
  explicit SpscQueue(std::size_t capacity, bool prefault = true) {
    std::size_t cap = kPageSize;
    while (cap < capacity && cap < kMaxCapacity) cap <<= 1;
    consumer_capacity_ = cap;
    consumer_mask_ = cap - 1;
    consumer_buffer_ = static_cast<std::byte*>(::operator new (cap, std::align_val_t{kPageSize}));
    if (prefault) prefault_all();
  }
  ~SpscQueue() { ::operator delete (consumer_buffer_, std::align_val_t{kPageSize}); }
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  // Touches every page (zeroing it). Only before the queue is shared.
  void prefault_all() noexcept {
    std::memset(consumer_buffer_, 0, consumer_capacity_);
    populated_ = consumer_capacity_;
  }

  // Consumer: faults in the pages of up to `bytes` more of the ring, from
  // where the producer writes first (position 0 onwards) and never behind
  // what it has already written past (those pages it faulted in itself).
  // Safe while the producer writes: the kernel maps the pages without
  // writing them (see populate_pages). Returns false, having done nothing,
  // when the kernel cannot; then the producer's first writes fault as usual.
  bool populate_next(std::size_t bytes) noexcept {
    const std::size_t written = published_.load(std::memory_order_acquire);
    if (written >= consumer_capacity_) {  // past its first lap: every page is in
      populated_ = consumer_capacity_;
      return true;
    }
    const std::size_t from = std::max(populated_, written & ~(kPageSize - 1));
    const std::size_t to = std::min(from + bytes, consumer_capacity_);
    if (from < to && !populate_pages(consumer_buffer_ + from, to - from)) return false;
    populated_ = to;
    return true;
  }
  // Consumer: whether every page is in (prefaulted, populated, or written).
  bool populated() const noexcept { return populated_ == consumer_capacity_; }

  std::size_t capacity() const noexcept { return consumer_capacity_; }
  // The largest record that can ever fit.
  std::size_t max_record() const noexcept { return consumer_capacity_ / 2; }

  // The producer's side of one queue: everything a write reads, in 36 bytes.
  struct Writer {
    Writer() = default;
    // Writing into `q` from `position` (0 for a new queue).
    explicit Writer(SpscQueue& q, std::size_t position = 0) noexcept
        : queue(&q),
          buffer(q.consumer_buffer_),
          write(position),
          cached_read(position),
          mask(static_cast<std::uint32_t>(q.consumer_mask_)) {}

    std::size_t capacity() const noexcept { return std::size_t{mask} + 1; }

    // Contiguous space for `size` bytes (a multiple of kRecordAlign), or
    // nullptr when the queue is too full right now.
    std::byte* prepare(std::size_t size) noexcept {
      const std::size_t offset = write & mask;
      const std::size_t to_end = capacity() - offset;
      const std::size_t need = size <= to_end ? size : to_end + size;
      if (write + need - cached_read > capacity()) {
        cached_read = queue->read_.load(std::memory_order_acquire);
        if (write + need - cached_read > capacity()) return nullptr;
      }
      if (size > to_end) {
        // Pad to the end of the ring; the record starts at offset 0.
        const auto pad = static_cast<std::uint32_t>(to_end) | kPaddingBit;
        std::memcpy(buffer + offset, &pad, sizeof(pad));
        write += to_end;
        return buffer;
      }
      return buffer + offset;
    }

    // prepare() for a caller with another way out: nullptr, having changed
    // nothing, unless the record fits before the ring's end by the reader
    // position last seen (no reload, no padding).
    std::byte* prepare_here(std::size_t size) const noexcept {
      const std::size_t offset = write & mask;
      if (size > capacity() - offset || write + size - cached_read > capacity()) return nullptr;
      return buffer + offset;
    }

    // Publishes the record written at the last prepare.
    void commit(std::size_t size) noexcept {
      write += size;
      queue->publish(write);
    }

    SpscQueue* queue = nullptr;
    std::byte* buffer = nullptr;
    std::size_t write = 0;
    std::size_t cached_read = 0;
    std::uint32_t mask = 0;
  };

  // Producer: makes everything before position `end` visible (Writer::commit,
  // or a producer that keeps the position itself).
  void publish(std::size_t end) noexcept { published_.store(end, std::memory_order_release); }
  // Producer: its own words beside the position (see mark(), count()).
  void set_mark(std::uint64_t value, std::memory_order order) noexcept {
    mark_.store(value, order);
  }
  void set_count(std::uint64_t value) noexcept { count_.store(value, std::memory_order_relaxed); }

  // What the producer last stored with set_mark / set_count.
  std::uint64_t mark() const noexcept { return mark_.load(std::memory_order_acquire); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  // In a fork()ed child, where no other thread exists.
  void clear_mark_in_child() noexcept { mark_.store(0, std::memory_order_relaxed); }

  // Consumer: the next record, or nullptr when empty. Skips padding.
  std::byte* peek() noexcept {
    for (;;) {
      if (read_pos_ == cached_write_) {
        cached_write_ = published_.load(std::memory_order_acquire);
        if (read_pos_ == cached_write_) return nullptr;
      }
      std::byte* p = consumer_buffer_ + (read_pos_ & consumer_mask_);
      std::uint32_t size = 0;
      std::memcpy(&size, p, sizeof(size));
      if ((size & kPaddingBit) == 0) return p;
      read_pos_ += size & ~kPaddingBit;
    }
  }

  // Consumer: frees the record returned by peek (its first 4 bytes: size).
  // The space is handed back to the producer in steps (every kReleaseStep
  // records, and at publish_release()), so that a producer waiting on a full
  // queue does not pull the consumer's line away after every record.
  void release(std::size_t size) noexcept {
    read_pos_ += size;
    if (++unreleased_ >= kReleaseStep) publish_release();
  }
  // Consumer: hands back everything released so far. Call before waiting.
  void publish_release() noexcept {
    unreleased_ = 0;
    read_.store(read_pos_, std::memory_order_release);
  }

  // Consumer: bytes committed and not yet released.
  std::size_t consumer_depth() const noexcept {
    return published_.load(std::memory_order_acquire) - read_pos_;
  }

  // In a fork()ed child, where no other thread exists: forget everything
  // committed (the parent writes those records). Returns the position a new
  // Writer starts from.
  std::size_t discard_all_in_child() noexcept {
    read_pos_ = cached_write_ = published_.load(std::memory_order_relaxed);
    read_.store(read_pos_, std::memory_order_relaxed);
    return read_pos_;
  }

  // Bytes committed and not yet released (approximate from either side).
  std::size_t depth() const noexcept {
    return published_.load(std::memory_order_acquire) - read_.load(std::memory_order_acquire);
  }

  // grow: the queue the producer moved on to once this one was full. Set
  // after the producer's last write here, so a consumer that sees it and
  // then finds this queue empty is done with it.
  std::atomic<SpscQueue*> next{nullptr};

 private:
  // Written by the producer (Writer), read by the consumer: one line.
  alignas(kCacheLine) std::atomic<std::size_t> published_{0};
  std::atomic<std::uint64_t> mark_{0};
  std::atomic<std::uint64_t> count_{0};
  // Consumer side (with its own copy of the ring's shape).
  alignas(kCacheLine) std::atomic<std::size_t> read_{0};
  alignas(kCacheLine) std::size_t read_pos_ = 0;
  std::size_t cached_write_ = 0;
  std::size_t unreleased_ = 0;  // records released since read_ was stored
  std::byte* consumer_buffer_ = nullptr;
  std::size_t consumer_capacity_ = 0;
  std::size_t consumer_mask_ = 0;
  std::size_t populated_ = 0;  // bytes from the start whose pages are in (see populate_next)
};

}  // namespace hydra::detail
