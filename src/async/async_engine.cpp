#include "hydra/async/detail/async_engine.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "../core/delivery_fields.hpp"
#include "hydra/core/context.hpp"
#include "hydra/core/logger.hpp"

namespace hydra {

std::optional<OverflowPolicy> parse_overflow_policy(std::string_view name) noexcept {
  if (name == "block") return OverflowPolicy::block;
  if (name == "drop") return OverflowPolicy::drop;
  if (name == "grow") return OverflowPolicy::grow;
  if (name == "sync_fallback") return OverflowPolicy::sync_fallback;
  if (name == "auto" || name == "automatic") return OverflowPolicy::automatic;
  return std::nullopt;
}

namespace {
std::atomic<void (*)()> g_before_wait{nullptr};
std::atomic<void (*)()> g_after_wait{nullptr};
}  // namespace

void set_blocking_hooks(BlockingHooks hooks) noexcept {
  g_before_wait.store(hooks.before_wait, std::memory_order_release);
  g_after_wait.store(hooks.after_wait, std::memory_order_release);
}

namespace detail {
namespace {

// Runs the blocking hooks around a caller's wait for room (set_blocking_hooks).
class WaitHooks {
 public:
  WaitHooks() {
    auto* before = g_before_wait.load(std::memory_order_acquire);
    if (before == nullptr) return;
    after_ = g_after_wait.load(std::memory_order_acquire);
    before();
  }
  ~WaitHooks() {
    if (after_ != nullptr) after_();
  }
  WaitHooks(const WaitHooks&) = delete;
  WaitHooks& operator=(const WaitHooks&) = delete;

 private:
  void (*after_)() = nullptr;
};

// ---------------------------------------------------------------------------
// Field encoding: key (u32 length + bytes), a type tag, the value.

enum class ValueTag : std::uint8_t { null, boolean, int64, uint64, float64, string };

void put_string(std::byte*& out, std::string_view s) noexcept {
  const auto n = static_cast<std::uint32_t>(s.size());
  std::memcpy(out, &n, sizeof(n));
  if (n != 0) std::memcpy(out + sizeof(n), s.data(), n);
  out += sizeof(n) + n;
}

std::string_view get_string(const std::byte*& in) noexcept {
  std::uint32_t n = 0;
  std::memcpy(&n, in, sizeof(n));
  const auto* chars = reinterpret_cast<const char*>(in + sizeof(n));
  in += sizeof(n) + n;
  return {chars, n};
}

template <typename T>
void put(std::byte*& out, const T& v) noexcept {
  std::memcpy(out, &v, sizeof(v));
  out += sizeof(v);
}

template <typename T>
T get(const std::byte*& in) noexcept {
  T v;
  std::memcpy(&v, in, sizeof(v));
  in += sizeof(v);
  return v;
}

std::size_t value_size(const FieldValue& v) noexcept {
  return 1 + std::visit(
                 [](const auto& x) -> std::size_t {
                   using T = std::decay_t<decltype(x)>;
                   if constexpr (std::is_same_v<T, std::monostate>) {
                     return 0;
                   } else if constexpr (std::is_same_v<T, std::string_view>) {
                     return sizeof(std::uint32_t) + x.size();
                   } else {
                     return sizeof(T);
                   }
                 },
                 v.storage());
}

void decode_fields(const std::byte*& in, std::size_t count, std::vector<Field>& out) {
  out.clear();
  for (std::size_t i = 0; i < count; ++i) {
    Field f;
    f.key = get_string(in);
    switch (get<ValueTag>(in)) {
      case ValueTag::null: break;
      case ValueTag::boolean: f.value = FieldValue(get<bool>(in)); break;
      case ValueTag::int64: f.value = FieldValue(get<std::int64_t>(in)); break;
      case ValueTag::uint64: f.value = FieldValue(get<std::uint64_t>(in)); break;
      case ValueTag::float64: f.value = FieldValue(get<double>(in)); break;
      case ValueTag::string: f.value = FieldValue(get_string(in)); break;
    }
    out.push_back(f);
  }
}

std::atomic<std::uint64_t> g_next_engine_id{1};

// The engine whose consumer lock this thread holds (0: none): the backend's,
// or a caller's that writes queued records (a synchronous write, a flush of
// a stalled backend, stop). A sink that logs or flushes through the logger
// whose records this thread is writing must not wait for itself.
thread_local std::uint64_t t_consumer_of = 0;

// The engine's consumer lock, with the thread marked as its holder.
class ConsumerLock {
 public:
  ConsumerLock(std::mutex& mutex, std::uint64_t engine)
      : lock_(mutex), outer_(std::exchange(t_consumer_of, engine)) {}
  ~ConsumerLock() { t_consumer_of = outer_; }
  ConsumerLock(const ConsumerLock&) = delete;
  ConsumerLock& operator=(const ConsumerLock&) = delete;

 private:
  std::lock_guard<std::mutex> lock_;
  std::uint64_t outer_;
};

// This thread's queues, one per engine it has logged to. Held by shared_ptr
// so that neither the thread's exit nor the engine's end frees a queue the
// other still uses; engine ids are never reused, so a dead engine's entry is
// never matched again.
struct LocalQueues {
  struct Entry {
    std::uint64_t engine_id;
    std::shared_ptr<ThreadQueue> queue;
  };
  std::vector<Entry> entries;
  ~LocalQueues() {
    ThreadQueue::park_current();
    t_hot.ready_engine = 0;
    t_hot.queue = nullptr;
    for (auto& e : entries) e.queue->exited.store(true, std::memory_order_release);
  }
};
thread_local LocalQueues t_queues;

// Per-thread storage for the backend's and the fallback paths' decoding.
struct DecodeScratch {
  std::vector<Field> fields;
  fmt::memory_buffer message;
  fmt::memory_buffer stripped;
  std::vector<std::string_view> names;
};
thread_local DecodeScratch t_decode;

constexpr std::size_t kBatch = 4096;
// grow: how often a drain looks whether a caller took its queue made ahead,
// and faults in a slice of a new queue's pages while any are left.
constexpr std::size_t kGrowthCheck = 64;
// grow: the pages one step of populate_growth faults in (64 pages, about
// 80 us here): draining goes on between steps, and a spare is still ready
// sooner than with smaller steps (measured on the growth benchmark without
// preallocate's help: median 65 caller page faults against 142 with 64 KiB
// steps, five runs each).
constexpr std::size_t kPopulateSlice = std::size_t{256} * 1024;
// How far behind the present the merge horizon stays (TSC ticks, or ns):
// a few microseconds, far longer than a store takes to reach another core.
constexpr std::uint64_t kOrderMargin = 10'000;

}  // namespace

std::size_t encoded_size(std::span<const Field> fields) noexcept {
  std::size_t n = 0;
  for (const Field& f : fields) n += sizeof(std::uint32_t) + f.key.size() + value_size(f.value);
  return n;
}

void encode_fields(std::byte*& out, std::span<const Field> fields) noexcept {
  for (const Field& f : fields) {
    put_string(out, f.key);
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            put(out, ValueTag::null);
          } else if constexpr (std::is_same_v<T, bool>) {
            put(out, ValueTag::boolean);
            put(out, x);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            put(out, ValueTag::int64);
            put(out, x);
          } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            put(out, ValueTag::uint64);
            put(out, x);
          } else if constexpr (std::is_same_v<T, double>) {
            put(out, ValueTag::float64);
            put(out, x);
          } else {
            put(out, ValueTag::string);
            put_string(out, x);
          }
        },
        f.value.storage());
  }
}

ThreadQueue::ThreadQueue(std::size_t capacity, std::uint64_t tid, std::uint64_t engine)
    : engine_id(engine), thread_id(tid) {
  chain.push_back(std::make_unique<SpscQueue>(capacity));
  read_queue = chain.back().get();
  writer = SpscQueue::Writer(*read_queue);
  total_capacity.store(read_queue->capacity(), std::memory_order_relaxed);
  write_capacity.store(read_queue->capacity(), std::memory_order_relaxed);
  first_capacity = read_queue->capacity();
}

std::uint64_t ThreadQueue::records_in() {
  // The producer stores its count with each record on the queue it writes,
  // the chain's last, and carries it to a new one when it grows.
  std::lock_guard lock(chain_mutex);
  std::uint64_t n = 0;
  for (const auto& part : chain) n = std::max(n, part->count());
  return n;
}

void ThreadQueue::park_current() noexcept {
  if (auto* current = static_cast<ThreadQueue*>(t_hot.queue)) current->writer = t_hot.writer;
}

void ThreadQueue::make_current() noexcept {
  park_current();
  ThreadHot& hot = t_hot;
  hot.writer = writer;
  hot.records_in = writer.queue->count();  // this thread's own, stored with its last record
  hot.ready_engine = 0;                    // the first call looks what this queue owes
  hot.queue = this;
  hot.use_tsc = kUseTsc;
}

// ---------------------------------------------------------------------------

AsyncEngine::AsyncEngine(Logger& logger, AsyncOptions options)
    : logger_(logger),
      options_(std::move(options)),
      id_(g_next_engine_id.fetch_add(1, std::memory_order_relaxed)) {
  heartbeat_ns_.store(now_ns(), std::memory_order_relaxed);
}

AsyncEngine::~AsyncEngine() {
  stop();
}

ThreadQueue* AsyncEngine::make_ready() {
  if (stopped_.load(std::memory_order_acquire)) return nullptr;
  auto* queue = static_cast<ThreadQueue*>(t_hot.queue);
  if (queue == nullptr || queue->engine_id != id_) queue = &find_local_queue();
  settle(*queue);
  // (Sending what was owed logs nothing elsewhere, but the call's fast path
  // relies on this queue being current.)
  (void)queue->live_writer();
  return queue;
}

void AsyncEngine::preallocate() {
  ThreadQueue& queue = find_local_queue();
  if (options_.overflow != OverflowPolicy::grow || !options_.prepare_growth) return;
  if (t_consumer_of == id_) return;  // (a sink's thread: the lock is held)
  // A flood right after this call would otherwise race the backend (its
  // start, or its idle wait: up to milliseconds on a busy machine) and grow
  // on the caller. So the next two queues are made here, and kept made from
  // now on: the backend may sleep through the time a flood takes to fill
  // the first of them. Their pages are faulted in here too, rather than
  // left to the backend, which a flood at once would overtake. So is the
  // backend's clock calibrated (2 ms, on its first record otherwise): a
  // backend held up that long in a flood neither makes nor populates the
  // next queues.
  ConsumerLock lock(consumer_mutex_, id_);
  refresh_consumer_view();
  queue.two_spares = true;
  prepare_growth(queue);
  (void)clock_.to_ns(record_ticks());
  while (populating_) populate_growth();
}

ThreadQueue& AsyncEngine::find_local_queue() {
  for (auto& e : t_queues.entries) {
    if (e.engine_id == id_) {
      e.queue->make_current();
      return *e.queue;
    }
  }
  ThreadQueue& queue = register_thread();
  queue.make_current();
  return queue;
}

ThreadQueue& AsyncEngine::register_thread() {
  auto queue = std::make_shared<ThreadQueue>(options_.queue_capacity, current_thread_id(), id_);
  {
    std::lock_guard lock(queues_mutex_);
    queues_.push_back(queue);
    queues_version_.fetch_add(1, std::memory_order_release);
  }
  t_queues.entries.push_back({id_, queue});
  std::lock_guard lock(start_mutex_);
  if (!backend_) backend_ = std::make_unique<std::thread>([this] { backend_main(); });
  return *queue;
}

void AsyncEngine::settle(ThreadQueue& queue) {
  if (queue.sent_context_version != context_version()) send_context(queue);
  if (queue.drops_owed.load(std::memory_order_relaxed)) send_drop_notice(queue);
  // (Only the current queue's state may be marked.)
  if (t_hot.queue == &queue && queue.sent_context_version == context_version() &&
      !queue.drops_owed.load(std::memory_order_relaxed)) {
    t_hot.ready_engine = queue.engine_id;
  }
}

void AsyncEngine::send_context(ThreadQueue& queue) {
  const std::span<const Field> context = current_context();
  const std::size_t size =
      align_up(sizeof(RecordHeader) + sizeof(std::uint32_t) + encoded_size(context), kRecordAlign);
  std::byte* out = queue.reserve(size);
  if (out == nullptr) {
    bool sync = false;
    out = on_full(queue, size, nullptr, &sync);
    if (out == nullptr) return;  // retried with the next record
  }
  auto* header = reinterpret_cast<RecordHeader*>(out);
  *header = RecordHeader{};
  header->size = static_cast<std::uint32_t>(size);
  header->kind = RecordKind::context;
  header->ticks = queue.stamp();
  std::byte* payload = out + sizeof(RecordHeader);
  put(payload, static_cast<std::uint32_t>(context.size()));
  encode_fields(payload, context);
  queue.publish(size);
  queue.sent_context_version = context_version();
}

void AsyncEngine::send_drop_notice(ThreadQueue& queue) {
  constexpr std::size_t size = sizeof(RecordHeader);
  // Queued under the lock: a consumer that takes it next finds the report
  // in the queue, and nothing left to report itself.
  std::lock_guard lock(queue.drops_mutex);
  // One notice per layer, newest layer first. What finds no room (after
  // growing the queue, under grow) waits, and so does the thread's next
  // record: no record is smaller than a notice.
  while (queue.drop_layers != 0) {
    const ThreadQueue::Drops& drops = queue.drops[queue.drop_layers - 1];
    std::byte* out = queue.reserve(size);
    if (out == nullptr) {
      bool sync = false;
      out = on_full(queue, size, nullptr, &sync);
      if (out == nullptr) break;  // still full: report later
    }
    auto* header = reinterpret_cast<RecordHeader*>(out);
    *header = RecordHeader{};
    header->size = static_cast<std::uint32_t>(size);
    header->kind = RecordKind::dropped;
    header->level = Level::warning;
    header->ticks = queue.stamp();
    header->slot = drops.slot;
    header->dropped = drops.count;
    queue.publish(size);
    --queue.drop_layers;
  }
  queue.drops_owed.store(queue.drop_layers != 0, std::memory_order_relaxed);
}

std::byte* AsyncEngine::on_full(ThreadQueue& queue, std::size_t size, LayerSlot* slot,
                                bool* run_sync) {
  if (size > queue.live_writer().queue->max_record() || t_consumer_of == id_ ||
      stopped_.load(std::memory_order_acquire)) {
    *run_sync = true;
    return nullptr;
  }
  OverflowPolicy policy = options_.overflow;
  for (;;) {
    switch (policy) {
      case OverflowPolicy::drop:
        if (slot == nullptr) return nullptr;  // a context change: sent with the next record
        {
          std::lock_guard lock(queue.drops_mutex);
          std::size_t i = 0;
          while (i < queue.drop_layers && queue.drops[i].slot != slot) ++i;
          if (i == queue.drop_layers) {
            if (i == ThreadQueue::kDropLayers) {
              i = ThreadQueue::kDropLayers - 1;  // out of entries: count on the last
            } else {
              queue.drops[i] = {slot, 0};
              ++queue.drop_layers;
            }
          }
          ++queue.drops[i].count;
          queue.drops_owed.store(true, std::memory_order_relaxed);
        }
        t_hot.ready_engine = 0;  // the report goes out before the next record
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return nullptr;

      case OverflowPolicy::sync_fallback: *run_sync = true; return nullptr;

      case OverflowPolicy::grow: {
        const std::size_t current = queue.live_writer().capacity();
        std::size_t next_capacity = current * 2;
        while (next_capacity / 2 < size) next_capacity *= 2;
        // A queue the backend made ahead (no allocation here; the backend
        // faults its pages in ahead of the writes), if it is big enough for
        // this record.
        std::unique_ptr<SpscQueue> bigger(queue.take_spare());
        if (bigger != nullptr && bigger->capacity() > current && bigger->max_record() >= size) {
          grows_prepared_.fetch_add(1, std::memory_order_relaxed);
        } else {
          if (bigger != nullptr) {  // too small for this queue or record
            queue.total_capacity.fetch_sub(bigger->capacity(), std::memory_order_relaxed);
            queue.retire(bigger.release());  // the backend may be populating it
          }
          if (queue.total_capacity.load(std::memory_order_relaxed) + next_capacity >
                  options_.grow_limit ||
              next_capacity > SpscQueue::kMaxCapacity) {
            policy = options_.grow_fallback == OverflowPolicy::grow ? OverflowPolicy::block
                                                                    : options_.grow_fallback;
            continue;
          }
          // Not touched here: zeroing the whole queue would stall this
          // call for as long as that takes. With prepare_growth the backend
          // faults its pages in behind this thread's writes (populate_growth);
          // otherwise they fault in one by one as records reach them.
          bigger = std::make_unique<SpscQueue>(next_capacity, /*prefault=*/false);
          queue.total_capacity.fetch_add(next_capacity, std::memory_order_relaxed);
        }
        if (options_.prepare_growth) {
          // The backend has work either way: the next spare, and this
          // queue's pages (when the spare or this call did not touch them).
          // It finds the flag within 64 records while draining, or when its
          // idle wait ends. Not woken from here: on a busy machine the
          // woken backend held this call up for 0.2-0.8 ms (measured on the
          // growth benchmark), with no fewer page faults for it.
          growth_wanted_.store(true, std::memory_order_release);
        }
        SpscQueue* raw = bigger.get();
        {
          std::lock_guard lock(queue.chain_mutex);
          queue.chain.push_back(std::move(bigger));
        }
        queue.write_capacity.store(raw->capacity(), std::memory_order_release);
        raw->set_count(t_hot.records_in);  // metrics() reads the count off the chain
        SpscQueue::Writer& writer = queue.live_writer();
        writer.queue->next.store(raw, std::memory_order_release);
        writer = SpscQueue::Writer(*raw);
        grows_.fetch_add(1, std::memory_order_relaxed);
        return queue.reserve(size);
      }

      case OverflowPolicy::block:
      case OverflowPolicy::automatic: {
        blocked_waits_.fetch_add(1, std::memory_order_relaxed);
        const WaitHooks hooks;
        for (int spin = 0;; ++spin) {
          if (std::byte* out = queue.reserve(size)) return out;
          if (stopped_.load(std::memory_order_acquire)) {
            *run_sync = true;
            return nullptr;
          }
          if (policy == OverflowPolicy::automatic && backend_stalled()) {
            *run_sync = true;  // the backend is stalled or gone: write ourselves
            return nullptr;
          }
          request_wake();
          if (spin < 64) {
            std::this_thread::yield();
          } else {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
          }
        }
      }
    }
  }
}

void AsyncEngine::run_sync(LayerSlot& slot, Level level, std::span<const Field> extra,
                           std::string_view text, bool has_names, bool preformatted,
                           const SourceLocation& source, fmt::format_args args,
                           std::span<const FieldValue> values) {
  sync_writes_.fetch_add(1, std::memory_order_relaxed);
  if (t_consumer_of == id_) {
    // A sink logging through the logger whose records this thread writes:
    // it already holds the consumer lock; write at once (its queue is
    // drained in order anyway).
    logger_.process_now(slot, level, extra, text, has_names, preformatted, source, args, values);
    count_out();
    return;
  }
  if (stop_drains_.load(std::memory_order_relaxed) != 0) [[unlikely]] {
    std::unique_lock wait(wake_mutex_);
    stop_drained_cv_.wait(wait,
                          [this] { return stop_drains_.load(std::memory_order_relaxed) == 0; });
  }
  ConsumerLock lock(consumer_mutex_, id_);
  // The record is stamped a little in the past, so that another thread's
  // in-flight mark made before an older stamp has surely reached this core
  // (as the backend's horizon), but no earlier than this thread's last
  // queued record or anything already written: everything older goes
  // first, everything younger after it.
  const std::uint64_t ticks =
      std::max({record_ticks() - kOrderMargin, t_hot.last_stamp, drained_until_});
  drain_until(ticks);
  logger_.process_at(time_of(ticks), slot, level, extra, text, has_names, preformatted, source,
                     args, values, false);
  newest_written_ = std::max(newest_written_, ticks);
  count_out();
}

void AsyncEngine::prepare_growth(ThreadQueue& q) {
  q.free_retired();
  std::size_t capacity = q.write_capacity.load(std::memory_order_acquire);
  // Spares made before the producer grew on its own are too small now.
  for (auto& slot : q.spares) {
    const SpscQueue* spare = slot.load(std::memory_order_acquire);
    if (spare == nullptr || spare->capacity() > capacity) continue;
    if (SpscQueue* stale = slot.exchange(nullptr, std::memory_order_acq_rel)) {
      q.total_capacity.fetch_sub(stale->capacity(), std::memory_order_relaxed);
      delete stale;
    }
  }
  // The producer took the nearer one: the farther one moves up.
  if (q.spares[0].load(std::memory_order_acquire) == nullptr) {
    if (SpscQueue* farther = q.spares[1].exchange(nullptr, std::memory_order_acq_rel)) {
      q.spares[0].store(farther, std::memory_order_release);
    }
  }
  const std::size_t wanted = q.two_spares || capacity > q.first_capacity ? 2 : 1;
  for (std::size_t i = 0; i < wanted; ++i) {
    if (const SpscQueue* ready = q.spares[i].load(std::memory_order_acquire)) {
      capacity = ready->capacity();
      continue;
    }
    const std::size_t next_capacity = capacity * 2;
    if (q.total_capacity.load(std::memory_order_relaxed) + next_capacity > options_.grow_limit ||
        next_capacity > SpscQueue::kMaxCapacity) {
      return;  // the caller falls back to grow_fallback when it fills up
    }
    // Handed over untouched, so that it is ready within microseconds of
    // being wanted (an allocation); its pages are faulted in from now on,
    // behind the producer if need be (populate_growth). The first page goes
    // before: where the producer writes first, and it tells whether this
    // kernel can populate at all. Where it cannot, the queue is zeroed
    // here, before anyone else sees it (the producer must not write while
    // it is).
    auto made = std::make_unique<SpscQueue>(next_capacity, /*prefault=*/false);
    if (!made->populate_next(kPageSize)) made->prefault_all();
    q.total_capacity.fetch_add(next_capacity, std::memory_order_relaxed);
    if (!made->populated()) populating_ = true;
    q.spares[i].store(made.release(), std::memory_order_release);
    capacity = next_capacity;
  }
}

namespace {

// The queue whose pages to fault in next for `q`, or nullptr: the one its
// producer writes (the chain's last), then the spares, nearer first.
// Consumer lock.
SpscQueue* unpopulated_queue(ThreadQueue& q) {
  SpscQueue* last = q.newest_queue();
  if (!last->populated()) return last;
  for (auto& slot : q.spares) {
    SpscQueue* spare = slot.load(std::memory_order_acquire);
    if (spare != nullptr && !spare->populated()) return spare;
  }
  return nullptr;
}

}  // namespace

void AsyncEngine::populate_growth() {
  bool more = false;
  for (const auto& q : consumer_view_) {
    SpscQueue* target = unpopulated_queue(*q);
    if (target == nullptr) continue;
    // (A kernel without populate: a spare was zeroed when made; a queue
    // the caller made itself faults in as it is written, as before.)
    if (!target->populate_next(kPopulateSlice)) {
      populating_ = false;
      return;
    }
    more = more || unpopulated_queue(*q) != nullptr;
  }
  populating_ = more;
}

void AsyncEngine::enqueue_message(LayerSlot& slot, Level level, std::string_view message,
                                  std::span<const Field> fields, const SourceLocation& source) {
  // (Checked here, not only by make_ready: this path does not go through
  // the logger's copy of the engine id.)
  ThreadQueue* ready = nullptr;
  if (!stopped_.load(std::memory_order_acquire)) {
    ready = t_hot.ready_engine == id_ ? static_cast<ThreadQueue*>(t_hot.queue) : make_ready();
  }
  if (ready == nullptr) {
    run_sync(slot, level, fields, message, false, true, source, {}, {});
    return;
  }
  ThreadQueue& queue = *ready;
  const std::size_t size =
      align_up(sizeof(RecordHeader) + sizeof(SourceLocation) + sizeof(std::uint32_t) +
                   message.size() + sizeof(std::uint32_t) + encoded_size(fields),
               kRecordAlign);
  std::byte* out = queue.reserve(size);
  if (out == nullptr) {
    bool sync = false;
    out = on_full(queue, size, &slot, &sync);
    if (out == nullptr) {
      if (sync) run_sync(slot, level, fields, message, false, true, source, {}, {});
      return;
    }
  }
  auto* header = reinterpret_cast<RecordHeader*>(out);
  *header = RecordHeader{};
  header->size = static_cast<std::uint32_t>(size);
  header->kind = RecordKind::message;
  header->level = level;
  header->ticks = queue.stamp();
  header->slot = &slot;
  std::byte* payload = out + sizeof(RecordHeader);
  put(payload, source);
  put_string(payload, message);
  put(payload, static_cast<std::uint32_t>(fields.size()));
  encode_fields(payload, fields);
  queue.commit(size);
}

void AsyncEngine::enqueue_formatted(LayerSlot& slot, Level level, std::span<const Field> extra,
                                    std::string_view tmpl, bool has_names,
                                    const SourceLocation& source, fmt::format_args args,
                                    std::span<const FieldValue> values) {
  DecodeScratch& s = t_decode;
  if (!render_message(tmpl, has_names, args, values.size(), s.message, s.stripped, s.names)) {
    logger_.count_format_error();
  }
  s.fields.clear();
  const std::size_t named = std::min(s.names.size(), values.size());
  for (std::size_t i = 0; i < named; ++i) {
    if (!s.names[i].empty()) s.fields.push_back(Field{s.names[i], values[i]});
  }
  s.fields.insert(s.fields.end(), extra.begin(), extra.end());
  enqueue_message(slot, level, std::string_view(s.message.data(), s.message.size()), s.fields,
                  source);
}

// ---------------------------------------------------------------------------
// Backend side.

Capture AsyncEngine::capture_of(const ThreadQueue& queue, const RecordHeader& header,
                                const SourceLocation& source) {
  // Every member named: a default-constructed Capture and then assignments
  // made the compiler zero it with `rep stos`, a tenth of the backend's time.
  return Capture{
      .slot = header.slot,
      .level = header.level,
      .time = time_of(header.ticks),
      .thread_id = queue.thread_id,
      .text = {},
      .has_names = false,
      .preformatted = false,
      .source = source,
      .args = {},
      .values = {},
      .extra = {},
      .context = queue.context,
  };
}

void AsyncEngine::run(ThreadQueue& queue, const RecordHeader& header, fmt::format_args args,
                      std::span<const FieldValue> values, const std::byte* extra_fields) {
  DecodeScratch& s = t_decode;
  decode_fields(extra_fields, header.extra_count, s.fields);
  Capture capture = capture_of(queue, header, source_of(header.location));
  capture.text = std::string_view(header.text, header.text_len);
  capture.has_names = (header.flags & kHasNames) != 0;
  capture.literal = true;  // runtime templates are formatted on the caller
  capture.args = args;
  capture.values = values;
  capture.extra = s.fields;
  logger_.process(capture);
}

void AsyncEngine::process_record(ThreadQueue& queue, const RecordHeader& header) {
  const std::byte* payload = reinterpret_cast<const std::byte*>(&header) + sizeof(RecordHeader);
  switch (header.kind) {
    case RecordKind::event: header.decode(*this, queue, header, payload); break;
    case RecordKind::message: {
      const auto source = get<SourceLocation>(payload);
      const std::string_view message = get_string(payload);
      const auto count = get<std::uint32_t>(payload);
      DecodeScratch& s = t_decode;
      decode_fields(payload, count, s.fields);
      Capture capture = capture_of(queue, header, source);
      capture.text = message;
      capture.preformatted = true;
      capture.extra = s.fields;
      logger_.process(capture);
      break;
    }
    case RecordKind::context: {
      const auto count = get<std::uint32_t>(payload);
      std::vector<Field> fields;
      decode_fields(payload, count, fields);
      // Own the strings: the queue space is released after this record.
      queue.context_text.clear();
      queue.context_text.reserve(fields.size() * 2);
      queue.context.clear();
      for (const Field& f : fields) {
        queue.context_text.emplace_back(f.key);
        const std::string_view key = queue.context_text.back();
        FieldValue value = f.value;
        if (value.is_string()) {
          queue.context_text.emplace_back(value.as_string());
          value = FieldValue(std::string_view(queue.context_text.back()));
        }
        queue.context.push_back(Field{key, value});
      }
      return;  // not a record of its own
    }
    case RecordKind::dropped:
      write_drop_report(queue, header);
      return;  // a notice, not one of the records counted in and out
  }
  count_out();
}

void AsyncEngine::write_drop_report(const ThreadQueue& queue, const RecordHeader& header) {
  const std::uint64_t count = header.dropped;
  const std::string text =
      fmt::format("hydra: {} record{} dropped on this thread: queue full (overflow policy drop)",
                  count, count == 1 ? "" : "s");
  const Field fields[] = {{"dropped", FieldValue(count)}};
  Capture capture = capture_of(queue, header);  // level: warning
  capture.text = text;
  capture.preformatted = true;
  capture.extra = fields;
  logger_.process(capture);
}

namespace {

// The next record of a thread, following its queue chain (grow).
const RecordHeader* head_of(ThreadQueue& q) {
  for (;;) {
    if (std::byte* p = q.read_queue->peek()) return reinterpret_cast<const RecordHeader*>(p);
    SpscQueue* next = q.read_queue->next.load(std::memory_order_acquire);
    if (next == nullptr) return nullptr;
    // Everything written to the old queue happened before `next` was set.
    if (std::byte* p = q.read_queue->peek()) return reinterpret_cast<const RecordHeader*>(p);
    std::lock_guard lock(q.chain_mutex);
    const std::size_t old_capacity = q.read_queue->capacity();
    std::erase_if(q.chain, [&](const auto& up) { return up.get() == q.read_queue; });
    q.total_capacity.fetch_sub(old_capacity, std::memory_order_relaxed);
    q.read_queue = next;
  }
}

}  // namespace

void AsyncEngine::report_drops(ThreadQueue& queue, std::uint64_t horizon) {
  if (!queue.drops_owed.load(std::memory_order_acquire)) return;
  std::array<ThreadQueue::Drops, ThreadQueue::kDropLayers> taken;
  std::uint32_t layers = 0;
  {
    // Not waited for: its holder is the producer, dropping or queueing its
    // own report (or, in a crash handler, this very thread).
    std::unique_lock lock(queue.drops_mutex, std::try_to_lock);
    if (!lock.owns_lock()) return;
    // The producer commits nothing after a drop without queueing the report
    // first, so a queue that still holds a record may hold ones committed
    // before the drops: the report waits for them.
    if (queue.drop_layers == 0 || head_of(queue) != nullptr) return;
    taken = queue.drops;
    layers = std::exchange(queue.drop_layers, 0);
    queue.drops_owed.store(false, std::memory_order_relaxed);
  }
  // After everything written so far, and, where that allows, at the
  // horizon (everything written after it is younger) or now, whichever is
  // earlier: near the drops.
  RecordHeader header{};
  header.kind = RecordKind::dropped;
  header.level = Level::warning;
  header.ticks = std::max(newest_written_, std::min(horizon, record_ticks()));
  newest_written_ = header.ticks;
  // Newest layer first, as the producer queues them.
  while (layers != 0) {
    const ThreadQueue::Drops& drops = taken[--layers];
    header.slot = drops.slot;
    header.dropped = drops.count;
    write_drop_report(queue, header);
  }
}

void AsyncEngine::refresh_consumer_view() {
  const std::uint64_t version = queues_version_.load(std::memory_order_acquire);
  if (version != consumer_view_version_) {
    std::lock_guard lock(queues_mutex_);
    consumer_view_ = queues_;
    consumer_view_version_ = queues_version_.load(std::memory_order_relaxed);
  }
}

std::size_t AsyncEngine::drain_batch(std::size_t limit) {
  refresh_consumer_view();
  // Records are merged in timestamp order up to the time the batch began;
  // younger ones wait for the next batch, so a record that a slower thread
  // stamped earlier but committed later still comes out in order.
  // The horizon is a little in the past, so that a caller's in-flight mark
  // made just before its clock read has surely reached this core.
  std::uint64_t horizon = record_ticks() - kOrderMargin;
  for (const auto& q : consumer_view_) {
    const std::size_t depth = q->read_queue->consumer_depth();
    q->note_depth(depth);
    if (options_.overflow == OverflowPolicy::grow && options_.prepare_growth) {
      prepare_growth(*q);
      // A caller that grew may be writing a queue it made itself.
      if (growth_wanted_.load(std::memory_order_relaxed)) populating_ = true;
    }
    const std::uint64_t mark = q->in_flight_mark();
    if (mark != 0 && mark < horizon) horizon = mark;
  }
  return drain_locked(limit, horizon, true);
}

void AsyncEngine::drain_all() {
  do {
    refresh_consumer_view();
  } while (drain_locked(std::numeric_limits<std::size_t>::max(),
                        std::numeric_limits<std::uint64_t>::max()) != 0);
}

void AsyncEngine::drain_until(std::uint64_t until) {
  const std::uint64_t self = current_thread_id();
  const std::int64_t deadline = now_ns() + std::chrono::nanoseconds(options_.stall_timeout).count();
  bool counted = false;
  for (int spin = 0;; ++spin) {
    refresh_consumer_view();
    // Read before the marks: once the clock is a margin past `until`, a
    // mark made before any stamp up to `until` has reached this core. (Up
    // to drained_until_, an earlier call has seen to that.)
    const bool settled = until <= drained_until_ || record_ticks() - kOrderMargin >= until;
    std::uint64_t horizon = until;
    bool others = false;
    bool in_flight = false;
    for (const auto& q : consumer_view_) {
      if (q->thread_id == self) continue;
      others = true;
      const std::uint64_t mark = q->in_flight_mark();
      if (mark != 0 && mark <= until) {
        in_flight = true;
        horizon = std::min(horizon, mark);
      }
    }
    const bool late = now_ns() > deadline;  // a thread stuck mid-record
    if (late) horizon = until;
    (void)drain_locked(std::numeric_limits<std::size_t>::max(), horizon);
    if (late || (!in_flight && (settled || !others))) break;
    if (in_flight && !counted) {
      order_waits_.fetch_add(1, std::memory_order_relaxed);
      counted = true;
    }
    if (spin < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  drained_until_ = std::max(drained_until_, until);
}

std::size_t AsyncEngine::drain_locked(std::size_t limit, std::uint64_t horizon, bool batch) {
  std::size_t done = 0;
  bool caught_up = false;  // nothing stamped up to the horizon is left
  while (done < limit) {
    ThreadQueue* best = nullptr;
    const RecordHeader* best_header = nullptr;
    for (const auto& q : consumer_view_) {
      const RecordHeader* h = head_of(*q);
      if (h == nullptr || h->ticks > horizon) continue;
      if (best_header == nullptr || h->ticks < best_header->ticks) {
        best = q.get();
        best_header = h;
      }
    }
    if (best == nullptr) {
      // What is left is younger than the horizon (or nothing): note its age.
      std::uint64_t oldest = 0;
      for (const auto& q : consumer_view_) {
        if (const RecordHeader* h = head_of(*q)) {
          oldest = oldest == 0 ? h->ticks : std::min(oldest, h->ticks);
        }
      }
      oldest_pending_ns_.store(oldest == 0 ? 0 : clock_.to_ns(oldest), std::memory_order_relaxed);
      caught_up = true;
      break;
    }
    const std::uint32_t size = best_header->size;
    newest_written_ = std::max(newest_written_, best_header->ticks);
    process_record(*best, *best_header);
    best->read_queue->release(size);
    ++done;
    if (done % kGrowthCheck == 0 && options_.prepare_growth) {
      if (growth_wanted_.load(std::memory_order_relaxed) &&
          growth_wanted_.exchange(false, std::memory_order_acquire)) {
        for (const auto& q : consumer_view_) prepare_growth(*q);
        populating_ = true;  // the caller may have made its own queue
      }
      // Only the backend's own batches populate: a flush, stop or crash
      // drain only wants to be done.
      if (populating_ && batch) populate_growth();
    }
  }
  for (const auto& q : consumer_view_) q->read_queue->publish_release();
  // Reports are written only once the merge has caught up with the horizon:
  // a report is stamped at it, so no older record may follow.
  if (caught_up) {
    for (const auto& q : consumer_view_) report_drops(*q, horizon);
  }
  if (done == 0) {
    // Forget threads that have exited and whose queues are empty (having
    // written the drop reports they still owed: they may have dropped since
    // the look above).
    bool removed = false;
    for (const auto& q : consumer_view_) {
      if (q->exited.load(std::memory_order_acquire) && head_of(*q) == nullptr) {
        report_drops(*q, horizon);
        std::lock_guard lock(queues_mutex_);
        if (std::erase(queues_, q) != 0) {
          records_in_forgotten_ += q->records_in();  // the total stays whole
          removed = true;
        }
      }
    }
    if (removed) queues_version_.fetch_add(1, std::memory_order_release);
  }
  return done;
}

void AsyncEngine::log_health() {
  const AsyncMetrics m = metrics();
  std::size_t queued = 0, high_water = 0;
  for (const auto& t : m.threads) {
    queued += t.depth;
    high_water = std::max(high_water, t.high_water);
  }
  const Field fields[] = {
      {"records_in", FieldValue(m.records_in)},
      {"records_out", FieldValue(m.records_out)},
      {"dropped", FieldValue(m.dropped_full)},
      {"sync_writes", FieldValue(m.sync_writes)},
      {"blocked_waits", FieldValue(m.blocked_waits)},
      {"order_waits", FieldValue(m.order_waits)},
      {"queue_grows", FieldValue(m.queue_grows)},
      {"backend_lag_us",
       FieldValue(std::chrono::duration_cast<std::chrono::microseconds>(m.backend_lag).count())},
      {"threads", FieldValue(m.threads.size())},
      {"queued_bytes", FieldValue(queued)},
      {"high_water_bytes", FieldValue(high_water)},
  };
  // The backend's own record: written at once, in line with the queued ones
  // (the caller holds the consumer lock), not queued and not counted.
  logger_.process_now(logger_.slot_named(options_.health_layer), Level::info, fields,
                      "hydra: async health", false, true, SourceLocation{}, {}, {});
  // And one for each network destination: its accounting (docs/shipping.md).
  for (const DestinationMetrics& d : logger_.destination_metrics()) {
    const auto dest = delivery_fields(d, now_ns());
    logger_.process_now(logger_.slot_named(options_.health_layer), Level::info, dest,
                        "hydra: destination health", false, true, SourceLocation{}, {}, {});
  }
}

void AsyncEngine::backend_main() {
  // Named so that top, perf and gdb tell it from the application's threads.
  ::pthread_setname_np(::pthread_self(), "hydra-backend");
  std::int64_t next_health =
      options_.health_interval.count() > 0
          ? now_ns() + std::chrono::nanoseconds(options_.health_interval).count()
          : std::numeric_limits<std::int64_t>::max();
  for (;;) {
    std::uint64_t requested = 0;
    bool flush_wanted = false;
    bool stopping = false;
    {
      std::unique_lock lock(wake_mutex_);
      if (paused_ && !stopping_) {
        parked_ = true;  // pause_backend_for_test waits for this
        flushed_cv_.notify_all();
        wake_cv_.wait(lock, [this] { return !paused_ || stopping_; });
        parked_ = false;
      }
      requested = flush_requested_;
      flush_wanted = requested > flush_done_;
      stopping = stopping_;
    }
    std::size_t done = 0;
    bool populating = false;
    {
      ConsumerLock lock(consumer_mutex_, id_);
      done = drain_batch(kBatch);
      if (stopping) {
        drain_for_stop();
        logger_.flush_sinks();
      } else if (flush_wanted) {
        // Everything committed before the request is older than now.
        drain_until(record_ticks());
        logger_.flush_sinks();
      } else if (populating_) {
        // Between batches (a slice at a time, letting go of the lock in
        // between), so that a grown queue's pages are in before the
        // producer reaches them even when there is little to drain.
        populate_growth();
      }
      populating = populating_;
    }
    heartbeat_ns_.store(liveness_now(), std::memory_order_release);
    const std::int64_t now = now_ns();
    if (now >= next_health) {
      ConsumerLock lock(consumer_mutex_, id_);
      log_health();
      next_health = now + std::chrono::nanoseconds(options_.health_interval).count();
    }
    std::unique_lock lock(wake_mutex_);
    if (flush_wanted && requested > flush_done_) {
      flush_done_ = requested;
      flushed_cv_.notify_all();
    }
    if (stopping) break;
    if (done == 0 && !populating && flush_requested_ == flush_done_) {
      wake_cv_.wait_for(lock, options_.idle_wait, [this] {
        return stopping_ || flush_requested_ != flush_done_ ||
               wake_requested_.load(std::memory_order_relaxed);
      });
      wake_requested_.store(false, std::memory_order_relaxed);
    }
  }
}

void AsyncEngine::request_wake() {
  if (!wake_requested_.exchange(true, std::memory_order_relaxed)) {
    // Taking the mutex orders the flag with the backend's predicate check, so
    // the notification cannot fall between its check and its wait.
    { std::lock_guard lock(wake_mutex_); }
    wake_cv_.notify_one();
  }
}

void AsyncEngine::flush() {
  if (t_consumer_of == id_) {  // a sink flushing while its records are written: the lock is held
    logger_.flush_sinks();
    return;
  }
  bool running = [this] {
    std::lock_guard lock(start_mutex_);
    return backend_ != nullptr;
  }() && !stopped_.load(std::memory_order_acquire);
  if (running) {
    std::unique_lock lock(wake_mutex_);
    const std::uint64_t ticket = ++flush_requested_;
    wake_cv_.notify_one();
    while (flush_done_ < ticket) {
      flushed_cv_.wait_for(lock, std::chrono::milliseconds(10));
      if (flush_done_ >= ticket) return;
      if (paused_ || backend_stalled()) {
        running = false;  // stalled: do it ourselves
        break;
      }
    }
    if (running) return;
  }
  ConsumerLock lock(consumer_mutex_, id_);
  drain_until(record_ticks());
  logger_.flush_sinks();
}

void AsyncEngine::stop() {
  // Synchronous writers wait until the drain below is done, rather than
  // take the consumer lock in turn with it (a mutex is not fair: a busy
  // caller may take it again and again before the backend gets it once).
  {
    std::lock_guard lock(wake_mutex_);
    stop_drains_.fetch_add(1, std::memory_order_relaxed);
  }
  // Callers next, so that what is left to drain stops growing: a call that
  // starts from here on finds no thread ready for the logger's engine id
  // and goes the slow way, which writes synchronously (make_ready); one
  // waiting for space, or finding its queue full, does the same (on_full).
  stopped_.store(true, std::memory_order_release);
  logger_.engine_id_.store(kStoppedId, std::memory_order_release);
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
    paused_ = false;
  }
  wake_cv_.notify_all();
  {
    std::lock_guard lock(start_mutex_);
    if (backend_ && backend_->joinable() && std::this_thread::get_id() != backend_->get_id()) {
      backend_->join();
    }
  }
  {
    // Records committed after the backend's last look (or with no backend
    // at all).
    ConsumerLock lock(consumer_mutex_, id_);
    drain_for_stop();
    logger_.flush_sinks();
  }
  {
    std::lock_guard lock(wake_mutex_);
    stop_drains_.fetch_sub(1, std::memory_order_relaxed);
  }
  stop_drained_cv_.notify_all();
}

void AsyncEngine::drain_for_stop() {
  // In timestamp order as a flush, waiting for a record a caller was still
  // writing when it was switched; then whatever is left, however young.
  drain_until(record_ticks());
  drain_all();
}

void AsyncEngine::emergency_drain() {
  bool locked = false;
  if (t_consumer_of != id_) {
    // Whoever holds the lock (the backend, mid-batch) normally lets go within
    // a batch. One that does not (stuck in a sink) must not be raced: two
    // consumers of one queue would write records twice or garbled.
    const std::int64_t deadline = now_ns() + 2'000'000'000;
    while (!(locked = consumer_mutex_.try_lock()) && now_ns() < deadline) {
      std::this_thread::yield();
    }
    if (!locked) {
      static constexpr char kNote[] =
          "hydra: the log backend is stuck in a sink; queued records could not be written\n";
      const ssize_t ignored = ::write(STDERR_FILENO, kNote, sizeof(kNote) - 1);
      (void)ignored;
      return;
    }
  }
  // Else the crashing thread holds the lock itself (the backend, or a caller,
  // interrupted mid-drain): no one else consumes meanwhile.
  const std::uint64_t outer = std::exchange(t_consumer_of, id_);
  drain_all();
  logger_.flush_sinks();
  t_consumer_of = outer;
  if (locked) consumer_mutex_.unlock();
}

void AsyncEngine::before_fork() {
  start_mutex_.lock();
  consumer_mutex_.lock();
  {
    const std::uint64_t outer = std::exchange(t_consumer_of, id_);
    drain_all();
    logger_.flush_sinks();
    t_consumer_of = outer;
  }
  queues_mutex_.lock();
  wake_mutex_.lock();
}

void AsyncEngine::after_fork(bool in_child) {
  if (in_child) {
    // Only this thread exists now. Records still queued were committed in
    // the parent, whose backend writes them: drop the copies.
    ThreadQueue* own = nullptr;
    for (auto& e : t_queues.entries) {
      if (e.engine_id == id_) own = e.queue.get();
    }
    // This thread's write side of `own` is reset below: the next call
    // loads it afresh (without parking the stale one over it).
    if (own != nullptr && t_hot.queue == own) {
      t_hot.queue = nullptr;
      t_hot.ready_engine = 0;
    }
    for (const auto& q : queues_) {
      {
        // The queue being written: the chain's last (another thread's
        // write side may be live in that thread's t_hot, which the child
        // does not have).
        SpscQueue* keep = q->chain.back().get();
        std::erase_if(q->chain, [&](const auto& part) { return part.get() != keep; });
        q->writer = SpscQueue::Writer(*keep, keep->discard_all_in_child());
        keep->clear_mark_in_child();  // a record cut off by the fork
        keep->next.store(nullptr, std::memory_order_relaxed);
        q->read_queue = keep;
        q->total_capacity.store(keep->capacity(), std::memory_order_relaxed);
        q->write_capacity.store(keep->capacity(), std::memory_order_relaxed);
        for (auto& spare : q->spares) delete spare.exchange(nullptr, std::memory_order_relaxed);
        q->free_retired();
        // (Another thread's lock may have been taken at the fork: only this
        // thread exists now, and nothing locks it once nothing is owed.)
        q->drop_layers = 0;
        q->drops_owed.store(false, std::memory_order_relaxed);
      }
      if (q.get() == own) {
        q->thread_id = current_thread_id();
      } else {
        q->exited.store(true, std::memory_order_relaxed);
      }
    }
    consumer_view_.clear();
    consumer_view_version_ = ~std::uint64_t{0};
    populating_ = false;  // (the kept queues fault in as they are written)
    flush_requested_ = flush_done_ = 0;
    paused_ = parked_ = false;
    wake_requested_.store(false, std::memory_order_relaxed);
    heartbeat_ns_.store(liveness_now(), std::memory_order_relaxed);
    const bool had_backend = backend_ != nullptr;
    (void)backend_.release();  // the parent's thread: nothing to join here
    // The condition variables count the parent's waiters (its sleeping
    // backend) and may be mid-notify by a thread that was logging: in the
    // child, whose only thread is this one, a notify would wait for those
    // waiters forever. Made anew, without destroying (destroying waits for
    // the same waiters).
    std::construct_at(&wake_cv_);
    std::construct_at(&flushed_cv_);
    std::construct_at(&stop_drained_cv_);
    wake_mutex_.unlock();
    queues_mutex_.unlock();
    consumer_mutex_.unlock();
    if (had_backend && !stopping_) {
      backend_ = std::make_unique<std::thread>([this] { backend_main(); });
    }
    start_mutex_.unlock();
    return;
  }
  wake_mutex_.unlock();
  queues_mutex_.unlock();
  consumer_mutex_.unlock();
  start_mutex_.unlock();
}

void AsyncEngine::pause_backend_for_test(bool paused) {
  const bool running = [this] {
    std::lock_guard lock(start_mutex_);
    return backend_ != nullptr;
  }() && !stopped_.load(std::memory_order_acquire);
  {
    std::unique_lock lock(wake_mutex_);
    paused_ = paused;
    if (!paused) heartbeat_ns_.store(liveness_now(), std::memory_order_release);
    wake_cv_.notify_all();
    // Held means held: the backend has finished the cycle it was in (which
    // may make a spare queue or populate one) and waits.
    if (paused && running) {
      flushed_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return parked_ || stopping_; });
    }
  }
}

void AsyncEngine::advance_stall_clock_for_test(std::chrono::nanoseconds by) {
  std::int64_t manual = 0;
  (void)manual_now_ns_.compare_exchange_strong(manual, now_ns(), std::memory_order_relaxed);
  manual_now_ns_.fetch_add(by.count(), std::memory_order_relaxed);
}

AsyncMetrics AsyncEngine::metrics() const {
  AsyncMetrics m;
  m.enabled = true;
  m.records_out = records_out_.load(std::memory_order_relaxed);
  m.dropped_full = dropped_.load(std::memory_order_relaxed);
  m.sync_writes = sync_writes_.load(std::memory_order_relaxed);
  m.blocked_waits = blocked_waits_.load(std::memory_order_relaxed);
  m.order_waits = order_waits_.load(std::memory_order_relaxed);
  m.queue_grows = grows_.load(std::memory_order_relaxed);
  m.grows_prepared = grows_prepared_.load(std::memory_order_relaxed);
  const std::int64_t oldest = oldest_pending_ns_.load(std::memory_order_relaxed);
  if (oldest != 0)
    m.backend_lag = std::chrono::nanoseconds(std::max<std::int64_t>(0, now_ns() - oldest));
  // Every record a caller logged: queued (counted by each queue, and by
  // exited threads' queues that were forgotten), written by the caller
  // itself, or dropped.
  std::lock_guard lock(queues_mutex_);
  m.records_in = records_in_forgotten_ + m.sync_writes + m.dropped_full;
  for (const auto& q : queues_) {
    ThreadQueueMetrics t;
    t.thread_id = q->thread_id;
    t.capacity = q->total_capacity.load(std::memory_order_relaxed);
    t.high_water = q->high_water.load(std::memory_order_relaxed);
    t.records_in = q->records_in();
    {
      std::lock_guard chain_lock(q->chain_mutex);
      for (const auto& part : q->chain) t.depth += part->depth();
    }
    t.thread_exited = q->exited.load(std::memory_order_relaxed);
    m.records_in += t.records_in;
    m.threads.push_back(t);
  }
  return m;
}

}  // namespace detail
}  // namespace hydra
