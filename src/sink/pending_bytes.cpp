#include "hydra/sink/detail/pending_bytes.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace hydra::detail {

namespace {

constexpr std::size_t kMinBlock = std::size_t{4} * 1024;
constexpr std::size_t kMaxBlock = std::size_t{1024} * 1024;

}  // namespace

PendingBytes::PendingBytes(std::size_t block_size)
    : block_size_(std::clamp(block_size, kMinBlock, kMaxBlock)) {
  last_ = new Block(block_size_);
  first_.store(last_, std::memory_order_release);
}

PendingBytes::~PendingBytes() {
  Block* block = first_.load(std::memory_order_relaxed);
  while (block != nullptr) {
    Block* next = block->next.load(std::memory_order_relaxed);
    delete block;
    block = next;
  }
  delete spare_;
}

PendingBytes::Block* PendingBytes::take_block(std::size_t at_least) {
  if (at_least <= block_size_ && spare_ != nullptr) {
    return std::exchange(spare_, nullptr);
  }
  return new Block(std::max(at_least, block_size_));
}

void PendingBytes::recycle(Block* block) noexcept {
  block->size.store(0, std::memory_order_relaxed);
  block->head.store(0, std::memory_order_relaxed);
  block->next.store(nullptr, std::memory_order_relaxed);
  if (spare_ == nullptr && block->capacity == block_size_) {
    spare_ = block;
  } else {
    delete block;
  }
}

void PendingBytes::append(std::string_view record) {
  const std::size_t n = record.size();
  if (n == 0) return;
  Block* last = last_;
  std::size_t used = last->size.load(std::memory_order_relaxed);
  if (used != 0 && last->head.load(std::memory_order_relaxed) == used) {
    // Written out (by drain_in_crash, which leaves it so): start it afresh.
    // Such a block is always the only one.
    last->size.store(0, std::memory_order_release);
    last->head.store(0, std::memory_order_release);
    used = 0;
  }
  if (last->capacity - used >= n) {
    std::memcpy(last->bytes.get() + used, record.data(), n);
    last->size.store(used + n, std::memory_order_release);  // the record is in, whole
    size_ += n;
    return;
  }
  Block* block = take_block(n);  // may throw: nothing has changed yet
  std::memcpy(block->bytes.get(), record.data(), n);
  block->size.store(n, std::memory_order_release);
  if (used == 0) {
    // The only block, empty and too small: the new one replaces it, so that
    // the first block always holds the oldest unwritten bytes.
    first_.store(block, std::memory_order_release);
    last_ = block;
    recycle(last);
  } else {
    last->next.store(block, std::memory_order_release);  // now a reader sees it
    last_ = block;
  }
  size_ += n;
}

std::string_view PendingBytes::front() const noexcept {
  const Block* block = first_.load(std::memory_order_relaxed);
  const std::size_t head = block->head.load(std::memory_order_relaxed);
  const std::size_t size = block->size.load(std::memory_order_relaxed);
  return {block->bytes.get() + head, size - head};
}

std::string_view PendingBytes::written_front() const noexcept {
  const Block* block = first_.load(std::memory_order_relaxed);
  return {block->bytes.get(), block->head.load(std::memory_order_relaxed)};
}

void PendingBytes::consume(std::size_t n) noexcept {
  Block* block = first_.load(std::memory_order_relaxed);
  const std::size_t head = block->head.load(std::memory_order_relaxed) + n;
  size_ -= n;
  if (head < block->size.load(std::memory_order_relaxed)) {
    block->head.store(head, std::memory_order_release);
    return;
  }
  Block* next = block->next.load(std::memory_order_relaxed);
  if (next == nullptr) {
    // The last block: empty it for reuse (size first: see Block).
    block->size.store(0, std::memory_order_release);
    block->head.store(0, std::memory_order_release);
    return;
  }
  first_.store(next, std::memory_order_release);
  recycle(block);
}

void PendingBytes::unconsume(std::size_t n) noexcept {
  Block* block = first_.load(std::memory_order_relaxed);
  block->head.store(block->head.load(std::memory_order_relaxed) - n, std::memory_order_release);
  size_ += n;
}

void PendingBytes::clear() noexcept {
  Block* block = first_.load(std::memory_order_relaxed);
  Block* rest = block->next.load(std::memory_order_relaxed);
  block->next.store(nullptr, std::memory_order_release);
  block->size.store(0, std::memory_order_release);
  block->head.store(0, std::memory_order_release);
  last_ = block;
  size_ = 0;
  while (rest != nullptr) {
    Block* next = rest->next.load(std::memory_order_relaxed);
    recycle(rest);
    rest = next;
  }
}

std::uint64_t PendingBytes::records() const noexcept {
  std::uint64_t lines = 0;
  char last = '\n';
  for (const Block* block = first_.load(std::memory_order_relaxed); block != nullptr;
       block = block->next.load(std::memory_order_relaxed)) {
    const std::size_t head = block->head.load(std::memory_order_relaxed);
    const std::size_t size = block->size.load(std::memory_order_relaxed);
    if (head >= size) continue;
    const std::string_view bytes(block->bytes.get() + head, size - head);
    lines += static_cast<std::uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
    last = bytes.back();
  }
  return lines + (last != '\n' ? 1 : 0);
}

}  // namespace hydra::detail
