// Internal (not part of the API): the bytes a file sink holds for its file.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace hydra::detail {

// Bytes waiting for a file, kept in blocks that never move once written to:
// appending a record copies it once and never moves or reallocates what is
// already held, so the cost of a record does not grow with the amount held.
// A record never spans two blocks, so every block starts with a record.
//
// Every change becomes visible through one store, in an order that keeps the
// list readable at each step: a signal handler that interrupted the owner
// anywhere (FileSink::emergency_flush) can walk it with drain_in_crash().
// Apart from that, the owner serialises all calls (FileSink's lock).
class PendingBytes {
 public:
  // `block_size`: the usual block (clamped to 4 KiB .. 1 MiB); a record
  // larger than that gets a block of its own.
  explicit PendingBytes(std::size_t block_size);
  ~PendingBytes();
  PendingBytes(const PendingBytes&) = delete;
  PendingBytes& operator=(const PendingBytes&) = delete;

  // Bytes not yet written.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Appends one whole record. Throws std::bad_alloc when it needs a block
  // and none can be had; nothing has changed then.
  void append(std::string_view record);

  // The oldest bytes not yet written: the rest of the first block (empty
  // when nothing is pending).
  std::string_view front() const noexcept;
  // The first block's bytes before front(): written already.
  std::string_view written_front() const noexcept;
  // Marks the first `n` bytes of front() written (n <= front().size()).
  void consume(std::size_t n) noexcept;
  // Takes back the last `n` bytes of written_front() (they were cut off the
  // file again), so that front() starts with them.
  void unconsume(std::size_t n) noexcept;
  // Drops everything (in a fork()ed child, whose parent writes it).
  void clear() noexcept;
  // Records among the unwritten bytes: its lines, counting a last one
  // without '\n'.
  std::uint64_t records() const noexcept;

  // From a crash handler: hands each unwritten range, oldest first, to
  // `write(const char*, std::size_t) -> bool` and marks it written when that
  // returns true; stops at the first false. Bytes of the first block before
  // `in_flight_end` (the end of a write(2) the handler interrupted) are
  // taken as written. Frees nothing (the allocator may be what was
  // interrupted). Returns whether everything was written.
  template <typename Write>
  bool drain_in_crash(const char* in_flight_end, Write&& write) noexcept;

 private:
  struct Block {
    explicit Block(std::size_t capacity) : bytes(new char[capacity]), capacity(capacity) {}
    std::unique_ptr<char[]> bytes;
    const std::size_t capacity;
    // [head, size) is unwritten. Emptied by storing size first: a reader
    // that sees head > size sees an empty block.
    std::atomic<std::size_t> head{0};
    std::atomic<std::size_t> size{0};
    std::atomic<Block*> next{nullptr};
  };
  Block* take_block(std::size_t at_least);
  void recycle(Block* block) noexcept;

  // size_ and last_ first: what every append changes or reads (FileSink
  // keeps them on its lock's cache line).
  std::size_t size_ = 0;
  Block* last_ = nullptr;
  const std::size_t block_size_;
  std::atomic<Block*> first_{nullptr};
  Block* spare_ = nullptr;  // one emptied usual-size block, kept for reuse
};

template <typename Write>
bool PendingBytes::drain_in_crash(const char* in_flight_end, Write&& write) noexcept {
  for (Block* block = first_.load(std::memory_order_acquire); block != nullptr;
       block = first_.load(std::memory_order_acquire)) {
    const char* base = block->bytes.get();
    const std::size_t head = block->head.load(std::memory_order_acquire);
    const std::size_t size = block->size.load(std::memory_order_acquire);
    std::size_t from = head;
    if (in_flight_end > base + head && in_flight_end <= base + size) {
      from = static_cast<std::size_t>(in_flight_end - base);
    }
    if (from < size && !write(base + from, size - from)) return false;
    if (size > head) {
      size_ -= size - head;
      block->head.store(size, std::memory_order_release);
    }
    Block* next = block->next.load(std::memory_order_acquire);
    if (next == nullptr) break;
    first_.store(next, std::memory_order_release);  // `block` is left to leak
    in_flight_end = nullptr;                        // it was in the first block only
  }
  return true;
}

}  // namespace hydra::detail
