#include "hydra/bridge/ring.hpp"

#include <algorithm>

namespace hydra::bridge {

Ring::Ring(std::size_t max_records, std::size_t max_bytes)
    : max_records_(std::max<std::size_t>(max_records, 1)), max_bytes_(max_bytes) {}

std::uint64_t Ring::push(std::shared_ptr<Entry> entry) {
  const std::size_t size = entry->bytes();
  EntryPtr evicted_entry;  // released after the lock
  std::lock_guard lock(mutex_);
  entry->seq = next_++;
  bytes_ += size;
  entries_.push_back(std::move(entry));
  while (entries_.size() > max_records_ || (bytes_ > max_bytes_ && entries_.size() > 1)) {
    bytes_ -= entries_.front()->bytes();
    evicted_entry = std::move(entries_.front());
    entries_.pop_front();
    ++evicted_;
  }
  return next_ - 1;
}

Ring::Slice Ring::read(std::uint64_t from, std::size_t max) const {
  Slice slice;
  std::lock_guard lock(mutex_);
  slice.next = next_;
  slice.first_kept = entries_.empty() ? next_ : entries_.front()->seq;
  if (from < slice.first_kept) from = slice.first_kept;
  if (from >= next_) return slice;
  const std::size_t start = from - slice.first_kept;
  const std::size_t count = std::min(max, entries_.size() - start);
  slice.entries.assign(entries_.begin() + static_cast<std::ptrdiff_t>(start),
                       entries_.begin() + static_cast<std::ptrdiff_t>(start + count));
  return slice;
}

std::uint64_t Ring::next_seq() const {
  std::lock_guard lock(mutex_);
  return next_;
}

std::uint64_t Ring::first_kept() const {
  std::lock_guard lock(mutex_);
  return entries_.empty() ? next_ : entries_.front()->seq;
}

std::uint64_t Ring::evicted() const {
  std::lock_guard lock(mutex_);
  return evicted_;
}

}  // namespace hydra::bridge
