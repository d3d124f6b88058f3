#include "hydra/bridge/ring.hpp"

#include <algorithm>

namespace hydra::bridge {

Ring::Ring(std::size_t max_records, std::size_t max_bytes)
    : max_records_(std::max<std::size_t>(max_records, 1)), max_bytes_(max_bytes) {}

std::uint64_t Ring::push(std::shared_ptr<Entry> entry) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_;
  keep(std::move(entry), seq);
  return seq;
}

bool Ring::push(std::shared_ptr<Entry> entry, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (seq < next_) return false;
  keep(std::move(entry), seq);
  return true;
}

void Ring::skip() {
  std::lock_guard lock(mutex_);
  if (!entries_.empty()) {
    evicted_ += entries_.size();
    entries_.clear();
    bytes_ = 0;
  }
  ++next_;
}

void Ring::start_at(std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (entries_.empty() && seq > next_) next_ = seq;
}

void Ring::keep(std::shared_ptr<Entry> entry, std::uint64_t seq) {
  const std::size_t size = entry->bytes();
  entry->seq = seq;
  next_ = seq + 1;
  bytes_ += size;
  entries_.push_back(std::move(entry));
  while (entries_.size() > max_records_ || (bytes_ > max_bytes_ && entries_.size() > 1)) {
    bytes_ -= entries_.front()->bytes();
    entries_.pop_front();
    ++evicted_;
  }
}

Ring::Slice Ring::read(std::uint64_t from, std::size_t max) const {
  Slice slice;
  read(from, max, slice);
  return slice;
}

void Ring::read(std::uint64_t from, std::size_t max, Slice& slice) const {
  slice.entries.clear();
  std::lock_guard lock(mutex_);
  slice.next = next_;
  slice.first_kept = entries_.empty() ? next_ : entries_.front()->seq;
  if (from >= next_) return;
  // Seqs increase but may skip numbers (a source's own): search.
  const auto start =
      std::lower_bound(entries_.begin(), entries_.end(), from,
                       [](const EntryPtr& e, std::uint64_t s) { return e->seq < s; });
  const auto count = std::min<std::size_t>(max, static_cast<std::size_t>(entries_.end() - start));
  slice.entries.assign(start, start + static_cast<std::ptrdiff_t>(count));
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
