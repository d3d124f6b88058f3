// Internal: a bounded single-producer single-consumer queue of variable-size
// byte records. The producer reserves contiguous space, writes, commits; the
// consumer peeks, reads in place, releases. Positions only grow (64-bit), so
// wrap-around needs no special state: a record that would straddle the end of
// the ring is preceded by a padding record that fills the end.
//
// Each side keeps a cached copy of the other's position and reloads it only
// when the cache says the queue is full (producer) or empty (consumer), so the
// shared cache lines are touched rarely.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace hydra::detail {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kRecordAlign = 8;

constexpr std::size_t align_up(std::size_t n, std::size_t a) {
  return (n + a - 1) & ~(a - 1);
}

// Every record starts with its size; the queue needs nothing else from it.
// A size with the top bit set marks padding up to the end of the ring.
inline constexpr std::uint32_t kPaddingBit = 0x8000'0000u;

class SpscQueue {
 public:
  static constexpr std::size_t kReleaseStep = 32;

  // `capacity` is rounded up to a power of two. The memory is touched once
  // here so that first writes do not stall on page faults.
  explicit SpscQueue(std::size_t capacity) {
    std::size_t cap = 4096;
    while (cap < capacity) cap <<= 1;
    capacity_ = consumer_capacity_ = cap;
    mask_ = consumer_mask_ = cap - 1;
    buffer_ = consumer_buffer_ =
        static_cast<std::byte*>(::operator new (cap, std::align_val_t{kCacheLine}));
    std::memset(buffer_, 0, cap);  // pre-fault
  }
  ~SpscQueue() { ::operator delete (buffer_, std::align_val_t{kCacheLine}); }
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  std::size_t capacity() const noexcept { return consumer_capacity_; }
  // The largest record that can ever fit.
  std::size_t max_record() const noexcept { return capacity_ / 2; }

  // Producer: contiguous space for `size` bytes (a multiple of kRecordAlign),
  // or nullptr when the queue is too full right now.
  std::byte* prepare_write(std::size_t size) noexcept {
    const std::size_t offset = write_ & mask_;
    const std::size_t to_end = capacity_ - offset;
    const std::size_t need = size <= to_end ? size : to_end + size;
    if (write_ + need - cached_read_ > capacity_) {
      cached_read_ = read_.load(std::memory_order_acquire);
      if (write_ + need - cached_read_ > capacity_) return nullptr;
    }
    if (size > to_end) {
      // Pad to the end of the ring; the record starts at offset 0.
      const auto pad = static_cast<std::uint32_t>(to_end) | kPaddingBit;
      std::memcpy(buffer_ + offset, &pad, sizeof(pad));
      write_ += to_end;
      return buffer_;
    }
    return buffer_ + offset;
  }

  // Producer: publishes the record written at the last prepare_write.
  void commit_write(std::size_t size) noexcept {
    write_ += size;
    published_.store(write_, std::memory_order_release);
  }

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
  // committed (the parent writes those records).
  void discard_all_in_child() noexcept {
    read_pos_ = cached_write_ = published_.load(std::memory_order_relaxed);
    read_.store(read_pos_, std::memory_order_relaxed);
    write_ = cached_read_ = read_pos_;
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
  // Producer side: everything a write needs in one cache line.
  alignas(kCacheLine) std::size_t write_ = 0;
  std::size_t cached_read_ = 0;
  std::byte* buffer_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t mask_ = 0;
  alignas(kCacheLine) std::atomic<std::size_t> published_{0};
  // Consumer side (with its own copy of the ring's shape).
  alignas(kCacheLine) std::atomic<std::size_t> read_{0};
  alignas(kCacheLine) std::size_t read_pos_ = 0;
  std::size_t cached_write_ = 0;
  std::size_t unreleased_ = 0;  // records released since read_ was stored
  std::byte* consumer_buffer_ = nullptr;
  std::size_t consumer_capacity_ = 0;
  std::size_t consumer_mask_ = 0;
};

}  // namespace hydra::detail
