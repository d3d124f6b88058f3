#include "hydra/net/delivery.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "../sink/fd_io.hpp"
#include "hydra/format/detail/escape.hpp"

namespace hydra::net {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t seed_of(std::uint64_t seed) {
  return seed != 0 ? seed : std::random_device{}();
}

}  // namespace

struct DeliveryEngine::Impl {
  // A sender thread's own: its connection, and its backoff.
  struct Sender {
    std::unique_ptr<Transport> transport;
    Backoff backoff;
    std::thread thread;
  };

  DeliveryOptions options;
  DeliveryQueue queue;
  // senders[0] is the lead: it alone replays the spool and, at the end,
  // hands on what is left in the queue.
  std::vector<std::unique_ptr<Sender>> senders;
  std::atomic<std::uint64_t> next_id{1};
  // This engine's part of every record key (record_key()): random, never 0.
  const std::uint64_t instance = [] {
    std::random_device random;
    std::uint64_t v = 0;
    while (v == 0) v = (std::uint64_t{random()} << 32) ^ random();
    return v;
  }();

  // The spool: the sender's, and the callers' when the queue overflows
  // into it (overflow = spool).
  std::mutex spool_mutex;
  std::unique_ptr<Spool> spool;
  std::vector<Spool::Entry> spool_entries;  // to_spool()'s, under spool_mutex
  std::FILE* dead_letter = nullptr;

  // Counts and state the sender updates; counts() and flush() read.
  mutable std::mutex mutex;
  std::condition_variable progress;  // after each batch, and when the sender ends
  DeliveryCounts counts;             // less what the queue counts itself
  std::uint64_t in_flight = 0;       // taken from the queue, not settled
  std::int64_t in_flight_oldest = 0;
  std::string error;
  std::size_t senders_running = 0;
  bool sender_done = false;          // every sender has ended
  std::atomic<bool> failing{false};  // the last send failed, retryably

  std::atomic<bool> stopping{false};
  Clock::time_point stop_deadline = Clock::time_point::max();  // under mutex
  // Set by the lead (or by a sender whose send failed), under `mutex`;
  // while it is, the senders other than the lead wait.
  std::atomic<bool> spooled_mode{false};
  // Set by a caller that wrote to the spool (overflow = spool, the queue
  // full): the lead switches to spooled mode, so that what went to the
  // spool is sent while the destination is up too.
  std::atomic<bool> overflowed{false};
  Clock::time_point retry_at{};  // under mutex: when the spool is tried again

  Impl(DeliveryOptions o, std::vector<std::unique_ptr<Transport>> transports)
      : options(std::move(o)), queue(options.queue_max_bytes, options.overflow) {
    // Each sender its own jitter (a given seed stays reproducible).
    const std::uint64_t seed = seed_of(options.seed);
    for (std::size_t i = 0; i < transports.size(); ++i) {
      senders.push_back(std::unique_ptr<Sender>(
          new Sender{std::move(transports[i]), Backoff(options.retry, seed + i), {}}));
    }
  }

  void set_spooled_mode(bool on) {
    {
      std::lock_guard lock(mutex);
      spooled_mode.store(on, std::memory_order_release);
    }
    progress.notify_all();
  }
  void set_retry_at(Clock::time_point at) {
    std::lock_guard lock(mutex);
    retry_at = at;
  }
  Clock::time_point get_retry_at() {
    std::lock_guard lock(mutex);
    return retry_at;
  }

  bool past_deadline() {
    if (!stopping.load(std::memory_order_acquire)) return false;
    std::lock_guard lock(mutex);
    return Clock::now() >= stop_deadline;
  }

  void set_error(const std::string& what) {
    std::lock_guard lock(mutex);
    error = what;
  }

  // Counts under the lock, then wakes flush(). `from_flight`: how many of
  // the records counted were in flight (taken from the queue): one step, so
  // that counts() never sees a record in two states or in none.
  template <typename F>
  void settle(F&& f, std::size_t from_flight = 0) {
    {
      std::lock_guard lock(mutex);
      f(counts);
      in_flight -= std::min<std::uint64_t>(in_flight, from_flight);
      if (in_flight == 0) in_flight_oldest = 0;
    }
    progress.notify_all();
  }

  void dead_letter_records(std::span<const QueuedRecord> records, const std::string& reason,
                           std::size_t from_flight) {
    std::uint64_t written = 0;
    if (dead_letter != nullptr) {
      fmt::memory_buffer line;
      for (const auto& r : records) {
        line.clear();
        fmt::format_to(std::back_inserter(line),
                       "{{\"id\":{},\"time_ns\":{},\"destination\":", r.id, r.time_ns);
        hydra::detail::append_json_string(options.name, line);
        line.append(std::string_view(",\"reason\":"));
        hydra::detail::append_json_string(reason, line);
        line.append(std::string_view(",\"record\":"));
        hydra::detail::append_json_string(r.bytes, line);
        line.append(std::string_view("}\n"));
        if (std::fwrite(line.data(), 1, line.size(), dead_letter) != line.size()) break;
        ++written;
      }
      if (std::fflush(dead_letter) != 0 && written > 0) --written;  // the last may be lost
    }
    const std::uint64_t dropped = records.size() - written;
    settle(
        [&](DeliveryCounts& c) {
          c.dead_lettered += written;
          c.dropped_rejected += dropped;
        },
        from_flight);
  }

  // Into the spool; what it refuses is dropped with its reason.
  void to_spool(std::span<const QueuedRecord> records, std::size_t from_flight) {
    std::lock_guard lock(spool_mutex);
    // One write for the batch (per segment it lands in).
    std::vector<Spool::Entry>& entries = spool_entries;
    entries.clear();
    for (const auto& r : records) entries.push_back({r.id, r.time_ns, r.bytes, r.instance});
    const Spool::AppendCounts appended = spool->append(entries);
    if (appended.failed > 0) set_error(spool->last_error());
    settle(
        [&](DeliveryCounts& c) {
          c.spooled += appended.ok;
          c.dropped_spool_full += appended.full;
          c.dropped_spool_error += appended.failed;
        },
        from_flight);
  }

  // Records the sender holds that will not be sent: to the spool, else
  // dropped at shutdown.
  void give_up(std::span<const QueuedRecord> records, std::size_t from_flight) {
    if (records.empty()) return;
    if (spool) {
      to_spool(records, from_flight);
    } else {
      settle([&](DeliveryCounts& c) { c.dropped_shutdown += records.size(); }, from_flight);
    }
  }

  // The oldest of what is in flight: with several senders, the oldest any
  // of them took since none was in flight (it may have been sent already:
  // an age reported is never younger than the truth).
  void take_in_flight(const std::vector<QueuedRecord>& batch) {
    std::lock_guard lock(mutex);
    in_flight += batch.size();
    if (!batch.empty()) {
      const std::int64_t t = batch.front().time_ns;
      in_flight_oldest = in_flight_oldest == 0 ? t : std::min(in_flight_oldest, t);
    }
  }

  // Waits until `until`, or until shutdown's deadline passes.
  void wait(Clock::time_point until) {
    std::unique_lock lock(mutex);
    progress.wait_until(lock, until, [&] {
      return stopping.load(std::memory_order_acquire) && Clock::now() >= stop_deadline;
    });
  }

  // A partial result: counts what was delivered and rejected; returns the
  // records to try again. `flight`: the batch was in flight (direct mode).
  std::vector<QueuedRecord> settle_partial(std::vector<QueuedRecord>& batch, const SendResult& r,
                                           bool flight) {
    std::vector<QueuedRecord> again;
    // The rejected ones, each dead-lettered with its own reason (runs of
    // the same reason together).
    std::vector<QueuedRecord> rejected;
    std::string reason;
    const auto dead_letter_run = [&] {
      if (rejected.empty()) return;
      dead_letter_records(rejected, reason, flight ? rejected.size() : 0);
      rejected.clear();
    };
    std::uint64_t delivered = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto outcome =
          i < r.items.size() ? r.items[i].outcome : SendResult::Item::Outcome::retry;
      if (outcome == SendResult::Item::Outcome::delivered) {
        ++delivered;
      } else if (outcome == SendResult::Item::Outcome::rejected) {
        if (r.items[i].reason != reason) dead_letter_run();
        reason = r.items[i].reason;
        rejected.push_back(std::move(batch[i]));
      } else {
        again.push_back(std::move(batch[i]));
      }
    }
    settle([&](DeliveryCounts& c) { c.delivered += delivered; }, flight ? delivered : 0);
    dead_letter_run();
    return again;
  }

  // Direct mode: one batch from the queue to the transport, retried until
  // it is settled, handed to the spool, or given up.
  void deliver_direct(Sender& sender, std::vector<QueuedRecord> batch) {
    Transport& transport = *sender.transport;
    Backoff& backoff = sender.backoff;
    const auto started = Clock::now();
    while (!batch.empty()) {
      const std::size_t n = batch.size();
      if (past_deadline()) {
        give_up(batch, n);
        return;
      }
      SendResult r = transport.send(batch);
      switch (r.status) {
        case SendResult::Status::delivered:
          backoff.reset();
          failing = false;
          settle([&](DeliveryCounts& c) { c.delivered += n; }, n);
          return;
        case SendResult::Status::permanent:
          set_error(transport.describe() + ": " + r.reason);
          dead_letter_records(batch, r.reason, n);
          return;
        case SendResult::Status::partial: {
          backoff.reset();
          batch = settle_partial(batch, r, true);
          if (batch.empty()) return;
          r.retry_after.reset();
          [[fallthrough]];
        }
        case SendResult::Status::retryable:
          // The error first: whoever sees the retry counted finds its reason.
          if (r.status == SendResult::Status::retryable) {
            failing = true;
            set_error(transport.describe() + ": " + r.reason);
          }
          settle([&](DeliveryCounts& c) { ++c.retries; });
          if (spool) {
            // The spool takes over: these first, then what is queued.
            to_spool(batch, batch.size());
            set_retry_at(Clock::now() + backoff.next(r.retry_after));
            set_spooled_mode(true);
            return;
          }
          if (options.retry_max_elapsed.count() > 0 &&
              Clock::now() - started >= options.retry_max_elapsed) {
            const std::size_t m = batch.size();
            settle([&](DeliveryCounts& c) { c.dropped_retry_elapsed += m; }, m);
            return;
          }
          wait(Clock::now() + backoff.next(r.retry_after));  // then again, or give_up
          break;
      }
    }
  }

  // Spooled mode: what is queued goes to the spool, and the spool to the
  // transport once the backoff allows. False when it is time to stop.
  bool spooled_round() {
    Transport& transport = *senders.front()->transport;
    Backoff& backoff = senders.front()->backoff;
    for (;;) {
      std::vector<QueuedRecord> moved =
          queue.take_now(options.batch_max_records, std::size_t{4} << 20);
      if (moved.empty()) break;
      take_in_flight(moved);
      to_spool(moved, moved.size());
    }
    if (stopping.load(std::memory_order_acquire) && past_deadline()) return false;
    const Clock::time_point retry_at = get_retry_at();
    if (Clock::now() < retry_at) {
      // Until the retry, records are gathered in batches (up to a linger)
      // before they go to the spool: one write a batch, not one a record.
      auto until = stopping.load() ? std::min(retry_at, deadline()) : retry_at;
      std::size_t gather = 1;
      if (options.linger.count() > 0) {
        gather = options.batch_max_records;
        until = std::min(until, Clock::now() + options.linger);
      }
      queue.wait_for_batch(gather, options.batch_max_bytes, until);
      return !past_deadline();
    }
    std::vector<QueuedRecord> batch;
    {
      std::lock_guard lock(spool_mutex);
      for (auto& r : spool->peek(options.batch_max_records, options.batch_max_bytes)) {
        batch.push_back({r.id, r.time_ns, std::move(r.bytes), r.instance});
      }
    }
    if (batch.empty()) {
      set_spooled_mode(false);  // drained: direct again
      return true;
    }
    const std::size_t n = batch.size();
    SendResult r = transport.send(batch);
    // Takes the batch out of the spool; `also` counts where it went, in the
    // same step as it leaves `spooled`.
    const auto unspool = [&](auto&& also) {
      {
        std::lock_guard lock(spool_mutex);
        spool->pop(n);
      }
      settle([&](DeliveryCounts& c) {
        c.spooled -= std::min<std::uint64_t>(c.spooled, n);
        also(c);
      });
    };
    switch (r.status) {
      case SendResult::Status::delivered:
        backoff.reset();
        failing = false;
        unspool([&](DeliveryCounts& c) { c.delivered += n; });
        break;
      case SendResult::Status::permanent:
        set_error(transport.describe() + ": " + r.reason);
        unspool([](DeliveryCounts&) {});
        dead_letter_records(batch, r.reason, 0);
        break;
      case SendResult::Status::partial: {
        unspool([](DeliveryCounts&) {});
        std::vector<QueuedRecord> again = settle_partial(batch, r, false);
        // Those to try again go back to the spool's end: their order among
        // the others is lost, their delivery is not.
        if (!again.empty()) {
          to_spool(again, 0);
          settle([&](DeliveryCounts& c) { ++c.retries; });
          set_retry_at(Clock::now() + backoff.next(std::nullopt));
        }
        break;
      }
      case SendResult::Status::retryable:
        failing = true;
        set_error(transport.describe() + ": " + r.reason);
        settle([&](DeliveryCounts& c) { ++c.retries; });
        set_retry_at(Clock::now() + backoff.next(r.retry_after));
        break;
    }
    return true;
  }

  Clock::time_point deadline() {
    std::lock_guard lock(mutex);
    return stop_deadline;
  }

  // The lead sender.
  void run() {
    Sender& lead = *senders.front();
    for (;;) {
      if (!spooled_mode && overflowed.exchange(false, std::memory_order_acq_rel)) {
        set_spooled_mode(true);
      }
      if (spooled_mode) {
        if (!spooled_round()) break;
        continue;
      }
      std::vector<QueuedRecord> batch =
          queue.take(options.batch_max_records, options.batch_max_bytes, options.linger);
      if (batch.empty()) break;  // closed and drained
      take_in_flight(batch);
      deliver_direct(lead, std::move(batch));
      if (past_deadline()) break;
    }
    // Shutdown's deadline passed (or everything was sent): what is left
    // goes to the spool, else is counted.
    for (;;) {
      std::vector<QueuedRecord> rest =
          queue.take_now(options.batch_max_records, std::size_t{4} << 20);
      if (rest.empty()) break;
      give_up(rest, 0);
    }
    sender_ended();
  }

  // Another sender: direct mode only; while the lead replays the spool, it
  // waits.
  void run_other(Sender& sender) {
    for (;;) {
      {
        std::unique_lock lock(mutex);
        progress.wait(lock, [&] {
          return !spooled_mode.load(std::memory_order_acquire) ||
                 stopping.load(std::memory_order_acquire);
        });
      }
      // Stopping in spooled mode: the lead moves what is queued.
      if (spooled_mode.load(std::memory_order_acquire)) break;
      std::vector<QueuedRecord> batch =
          queue.take(options.batch_max_records, options.batch_max_bytes, options.linger);
      if (batch.empty()) break;  // closed and drained
      take_in_flight(batch);
      deliver_direct(sender, std::move(batch));
      if (past_deadline()) break;
    }
    sender_ended();
  }

  void sender_ended() {
    {
      std::lock_guard lock(mutex);
      if (--senders_running == 0) sender_done = true;
    }
    progress.notify_all();
  }

  // The records that have left the engine for good (delivered,
  // dead-lettered, dropped after the queue took them); under `mutex`.
  std::uint64_t settled_locked(const QueueCounts& q) const {
    return counts.delivered + counts.dead_lettered + q.dropped_oldest + counts.dropped_spool_full +
           counts.dropped_spool_error + counts.dropped_rejected + counts.dropped_retry_elapsed +
           counts.dropped_shutdown;
  }
  std::uint64_t initial_spool = 0;  // records an earlier process left in the spool
};

namespace {

std::vector<std::unique_ptr<Transport>> one_transport(const DeliveryOptions& options,
                                                      std::unique_ptr<Transport> transport) {
  if (options.senders != 1) {
    throw std::invalid_argument("delivery engine '" + options.name +
                                "': senders = " + std::to_string(options.senders) +
                                " needs a transport for each (a TransportFactory)");
  }
  std::vector<std::unique_ptr<Transport>> v;
  v.push_back(std::move(transport));
  return v;
}

std::vector<std::unique_ptr<Transport>> transports_of(const DeliveryOptions& options,
                                                      const TransportFactory& make) {
  if (options.senders < 1 || options.senders > 64) {
    throw std::invalid_argument("delivery engine '" + options.name + "': senders = " +
                                std::to_string(options.senders) + " is not 1 to 64");
  }
  std::vector<std::unique_ptr<Transport>> v;
  for (std::size_t i = 0; i < options.senders; ++i) v.push_back(make());
  return v;
}

}  // namespace

DeliveryEngine::DeliveryEngine(DeliveryOptions options, std::unique_ptr<Transport> transport)
    : DeliveryEngine(options, one_transport(options, std::move(transport))) {}

DeliveryEngine::DeliveryEngine(DeliveryOptions options, const TransportFactory& make_transport)
    : DeliveryEngine(options, transports_of(options, make_transport)) {}

DeliveryEngine::DeliveryEngine(DeliveryOptions options,
                               std::vector<std::unique_ptr<Transport>> transports)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(transports))) {
  Impl& im = *impl_;
  if (!im.options.dead_letter_path.empty()) {
    im.dead_letter = std::fopen(im.options.dead_letter_path.c_str(), "ae");
    if (im.dead_letter == nullptr) {
      throw std::runtime_error("dead-letter file '" + im.options.dead_letter_path.string() +
                               "': " + hydra::detail::errno_text(errno));
    }
  }
  if (im.options.spool) {
    im.spool = std::make_unique<Spool>(*im.options.spool);
    const SpoolStats s = im.spool->stats();
    im.counts.spooled = s.records;  // left by an earlier process: replayed first
    im.counts.submitted = s.records;
    im.initial_spool = s.records;
    if (s.records > 0) im.spooled_mode = true;
  }
  im.senders_running = im.senders.size();
  im.senders.front()->thread = std::thread([&im] { im.run(); });
  for (std::size_t i = 1; i < im.senders.size(); ++i) {
    Impl::Sender& sender = *im.senders[i];
    sender.thread = std::thread([&im, &sender] { im.run_other(sender); });
  }
}

DeliveryEngine::~DeliveryEngine() {
  shutdown(std::chrono::seconds(5));
  if (impl_->dead_letter != nullptr) std::fclose(impl_->dead_letter);
}

std::uint64_t DeliveryEngine::submit(std::string_view bytes, std::int64_t time_ns) {
  Impl& im = *impl_;
  const std::uint64_t id = im.next_id.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(im.mutex);
    ++im.counts.submitted;
  }
  QueuedRecord record{id, time_ns, std::string(bytes), im.instance};
  const DeliveryQueue::Push pushed = im.queue.push(std::move(record));
  if (pushed == DeliveryQueue::Push::full) {
    // overflow = spool: the queue is full; the caller writes it.
    QueuedRecord again{id, time_ns, std::string(bytes), im.instance};
    im.to_spool({&again, 1}, 0);
    im.overflowed.store(true, std::memory_order_release);
  } else if (pushed == DeliveryQueue::Push::closed) {
    im.settle([](DeliveryCounts& c) { ++c.dropped_shutdown; });
  }
  return id;
}

bool DeliveryEngine::flush(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  const auto until = Clock::now() + timeout;
  im.queue.request_flush();
  // Everything taken in so far: what the queue accepted, what it handed to
  // the spool, what an earlier process left there.
  const QueueCounts at_start = im.queue.counts();
  const std::uint64_t target = at_start.queued + at_start.handed_to_spool + im.initial_spool;
  std::unique_lock lock(im.mutex);
  return im.progress.wait_until(lock, until, [&] {
    return im.sender_done || im.settled_locked(im.queue.counts()) >= target;
  });
}

void DeliveryEngine::request_flush() {
  impl_->queue.request_flush();
}

bool DeliveryEngine::failing() const {
  return impl_->failing.load();
}

void DeliveryEngine::shutdown(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  if (!im.senders.front()->thread.joinable()) return;
  {
    // Under the lock: a sender waiting on `progress` for it cannot miss it.
    std::lock_guard lock(im.mutex);
    im.stop_deadline = Clock::now() + timeout;
    im.stopping.store(true, std::memory_order_release);
  }
  im.queue.close();
  im.progress.notify_all();
  for (auto& sender : im.senders) sender->thread.join();
  std::lock_guard lock(im.spool_mutex);
  if (im.spool) im.spool->sync();
}

DeliveryCounts DeliveryEngine::counts() const {
  const Impl& im = *impl_;
  const QueueCounts q = im.queue.counts();
  std::lock_guard lock(im.mutex);
  DeliveryCounts c = im.counts;
  c.dropped_queue_full = q.dropped_newest;
  c.dropped_oldest = q.dropped_oldest;
  c.dropped_oversize = q.dropped_oversize;
  c.queued = q.records + im.in_flight;
  c.queue_bytes = q.bytes;
  c.oldest_time_ns = im.in_flight_oldest != 0 ? im.in_flight_oldest : q.oldest_time_ns;
  return c;
}

std::string DeliveryEngine::last_error() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->error;
}

}  // namespace hydra::net
