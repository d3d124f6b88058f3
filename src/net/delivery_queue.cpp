#include "hydra/net/delivery_queue.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <utility>

namespace hydra::net {

std::string record_key(const QueuedRecord& record) {
  char key[48];
  const int n =
      std::snprintf(key, sizeof key, "%016" PRIx64 "-%" PRIu64, record.instance, record.id);
  return {key, static_cast<std::size_t>(n)};
}

DeliveryQueue::DeliveryQueue(std::size_t max_bytes, Overflow overflow)
    : max_bytes_(std::max<std::size_t>(max_bytes, 1)), overflow_(overflow) {}

DeliveryQueue::Push DeliveryQueue::push(QueuedRecord record) {
  std::unique_lock lock(mutex_);
  if (closed_) return Push::closed;
  const std::size_t size = record.bytes.size();
  if (size > max_bytes_) {
    if (overflow_ == Overflow::spool) {
      ++counts_.handed_to_spool;
      return Push::full;
    }
    ++counts_.dropped_oversize;
    return Push::dropped;
  }
  if (!fits(size)) {
    switch (overflow_) {
      case Overflow::drop_newest: ++counts_.dropped_newest; return Push::dropped;
      case Overflow::spool: ++counts_.handed_to_spool; return Push::full;
      case Overflow::drop_oldest:
        while (!fits(size) && !records_.empty()) {
          bytes_ -= records_.front().bytes.size();
          records_.pop_front();
          ++counts_.dropped_oldest;
        }
        break;
      case Overflow::block:
        ++counts_.blocked;
        has_room_.wait(lock, [&] { return closed_ || fits(size); });
        if (closed_) return Push::closed;
        break;
    }
  }
  bytes_ += size;
  records_.push_back(std::move(record));
  ++counts_.queued;
  // Only a waiter that can go on is woken (all of them: a batch waiter and
  // one waiting for any record share the condition).
  const bool wake =
      empty_waiters_ > 0 ||
      (batch_waiters_ > 0 && (records_.size() >= wake_records_ || bytes_ >= wake_bytes_));
  lock.unlock();
  if (wake) has_records_.notify_all();
  return Push::queued;
}

std::vector<QueuedRecord> DeliveryQueue::take(std::size_t max_records, std::size_t max_bytes,
                                              std::chrono::milliseconds linger) {
  max_records = std::max<std::size_t>(max_records, 1);
  std::unique_lock lock(mutex_);
  ++empty_waiters_;
  has_records_.wait(lock, [&] { return closed_ || !records_.empty(); });
  --empty_waiters_;
  const auto batch_full = [&] { return records_.size() >= max_records || bytes_ >= max_bytes; };
  if (!batch_full() && !closed_ && !flush_requested_ && linger.count() > 0) {
    wait_for_batch_locked(lock, max_records, max_bytes, std::chrono::steady_clock::now() + linger,
                          [&] { return closed_ || flush_requested_ || batch_full(); });
  }
  std::vector<QueuedRecord> batch = pop_batch(max_records, max_bytes);
  // A flush asks for all that is queued: until the queue is empty, no take
  // (this sender's next, or another sender's) lingers.
  if (records_.empty()) flush_requested_ = false;
  lock.unlock();
  if (!batch.empty()) has_room_.notify_all();
  return batch;
}

std::vector<QueuedRecord> DeliveryQueue::pop_batch(std::size_t max_records, std::size_t max_bytes) {
  std::vector<QueuedRecord> batch;
  std::size_t bytes = 0;
  while (!records_.empty() && batch.size() < std::max<std::size_t>(max_records, 1) &&
         (batch.empty() || bytes + records_.front().bytes.size() <= max_bytes)) {
    bytes += records_.front().bytes.size();
    batch.push_back(std::move(records_.front()));
    records_.pop_front();
  }
  bytes_ -= bytes;
  return batch;
}

std::vector<QueuedRecord> DeliveryQueue::take_now(std::size_t max_records, std::size_t max_bytes) {
  std::unique_lock lock(mutex_);
  std::vector<QueuedRecord> batch = pop_batch(max_records, max_bytes);
  lock.unlock();
  if (!batch.empty()) has_room_.notify_all();
  return batch;
}

template <typename Done>
void DeliveryQueue::wait_for_batch_locked(std::unique_lock<std::mutex>& lock,
                                          std::size_t max_records, std::size_t max_bytes,
                                          std::chrono::steady_clock::time_point deadline,
                                          Done done) {
  // Every batch waiter asks the same of one engine; the smallest wins.
  wake_records_ = batch_waiters_ == 0 ? max_records : std::min(wake_records_, max_records);
  wake_bytes_ = batch_waiters_ == 0 ? max_bytes : std::min(wake_bytes_, max_bytes);
  ++batch_waiters_;
  has_records_.wait_until(lock, deadline, done);
  --batch_waiters_;
}

void DeliveryQueue::wait_for_batch(std::size_t max_records, std::size_t max_bytes,
                                   std::chrono::steady_clock::time_point deadline) {
  max_records = std::max<std::size_t>(max_records, 1);
  max_bytes = std::max<std::size_t>(max_bytes, 1);
  std::unique_lock lock(mutex_);
  wait_for_batch_locked(lock, max_records, max_bytes, deadline, [&] {
    return closed_ || flush_requested_ || records_.size() >= max_records || bytes_ >= max_bytes;
  });
  flush_requested_ = false;  // answered: the caller looks at what there is now
}

void DeliveryQueue::put_back(std::vector<QueuedRecord> records) {
  std::lock_guard lock(mutex_);
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    bytes_ += it->bytes.size();
    records_.push_front(std::move(*it));
  }
  // Back in even past max_bytes: new records wait, are turned away or
  // (drop_oldest) push the oldest out, counted, until it drains.
}

void DeliveryQueue::request_flush() {
  {
    std::lock_guard lock(mutex_);
    flush_requested_ = true;
  }
  has_records_.notify_all();
}

void DeliveryQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  has_records_.notify_all();
  has_room_.notify_all();
}

QueueCounts DeliveryQueue::counts() const {
  std::lock_guard lock(mutex_);
  QueueCounts c = counts_;
  c.records = records_.size();
  c.bytes = bytes_;
  c.oldest_time_ns = records_.empty() ? 0 : records_.front().time_ns;
  return c;
}

}  // namespace hydra::net
