// Internal: async mode's engine. Callers encode records into their own
// thread's queue (no formatting, no locks, no syscalls, no allocation after the
// thread's first record); one backend thread per logger drains every queue in
// timestamp order, decodes each record with a function chosen at compile time
// for its argument types, and runs the logger's shared pipeline on it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "hydra/async/async_options.hpp"
#include "hydra/async/codec.hpp"
#include "hydra/async/detail/clock.hpp"
#include "hydra/async/detail/spsc_queue.hpp"
#include "hydra/async/metrics.hpp"
#include "hydra/core/context.hpp"
#include "hydra/core/detail/call_inline.hpp"
#include "hydra/core/detail/capture.hpp"
#include "hydra/core/detail/field_value_of.hpp"
#include "hydra/core/format_string.hpp"
#include "hydra/core/record.hpp"

namespace hydra {
class Logger;
}

namespace hydra::detail {

struct LayerSlot;
class AsyncEngine;
struct ThreadQueue;

enum class RecordKind : std::uint8_t {
  event,    // template + encoded arguments, decoded by `decode`
  message,  // finished message text in the payload
  context,  // the thread's scoped context changed: the new context follows
  dropped,  // records dropped under overflow=drop: the count is in the header
};

inline constexpr std::uint8_t kHasNames = 1;

struct RecordHeader;
// Backend side of one record: rebuilds the arguments and runs the pipeline.
using DecodeFn = void (*)(AsyncEngine& engine, ThreadQueue& queue, const RecordHeader& header,
                          const std::byte* payload);

// 56 bytes. The call site travels as a std::source_location: one pointer to
// the compiler's static record of file, function and line, which the caller
// copies without reading (the backend reads it).
struct RecordHeader {
  std::uint32_t size;  // whole record, a multiple of kRecordAlign
  RecordKind kind;
  Level level;
  std::uint8_t flags;
  std::uint8_t extra_count;  // key-values bound with with(), after the arguments
  std::uint64_t ticks;       // timestamp (see clock.hpp)
  DecodeFn decode;
  LayerSlot* slot;
  union {
    const char* text;       // event: the template (static storage)
    std::uint64_t dropped;  // dropped: how many records (a header alone, the
                            // smallest record: no record fits where it does not)
  };
  std::source_location location;  // event: the call site
  std::uint32_t text_len;
};

// (Where std::source_location is the one pointer it is in libstdc++.)
static_assert(sizeof(std::source_location) != sizeof(void*) || sizeof(RecordHeader) == 56);

// Encoding of key-value fields (with(), context) in the payload.
std::size_t encoded_size(std::span<const Field> fields) noexcept;
void encode_fields(std::byte*& out, std::span<const Field> fields) noexcept;

// One thread's queue(s) for one engine. The producer side is touched only by
// its thread; the consumer side only under the engine's consumer lock.
struct ThreadQueue {
  ThreadQueue(std::size_t capacity, std::uint64_t tid, std::uint64_t engine);

  // Producer side, read only by the slow paths: while this is the thread's
  // current queue, a call reads the thread's t_hot instead (the ring's
  // write side, whether anything is owed, the record count). What a call
  // writes for the backend goes to the line of the ring's published
  // position: the in-flight mark and the record count (see stamp).
  // The write side into the chain's last queue while this is not the
  // thread's current queue (see make_current, park_current).
  alignas(kCacheLine) SpscQueue::Writer writer;
  std::uint64_t sent_context_version = 0;  // a thread starts with an empty context, version 0
  std::uint64_t engine_id;                 // the engine this queue feeds
  std::atomic<std::size_t> high_water{0};
  std::atomic<bool> exited{false};
  // Records dropped (overflow = drop) and not yet reported in-band, per
  // layer (a thread that drops on more layers than this reports the rest on
  // the last one). The producer counts them; each count is reported once,
  // by whoever takes it under drops_mutex: the producer, which queues the
  // report before its next record (send_drop_notice), or a consumer, which
  // writes it once the queue holds nothing the producer committed before
  // those drops (AsyncEngine::report_drops: a thread that stops logging,
  // exits, or is flushed or shut down). The producer takes the lock only
  // when it drops or reports, a consumer only with try_lock (it may be a
  // crash handler that interrupted this very producer).
  struct Drops {
    LayerSlot* slot = nullptr;
    std::uint64_t count = 0;
  };
  static constexpr std::size_t kDropLayers = 8;
  std::mutex drops_mutex;
  std::array<Drops, kDropLayers> drops{};  // under drops_mutex
  std::uint32_t drop_layers = 0;           // entries of `drops` in use (under drops_mutex)
  std::atomic<bool> drops_owed{false};     // drop_layers != 0, for a look without the lock

  // Consumer side, on lines of its own: the backend reading these must not
  // take the producer's line away from it on every record.
  alignas(kCacheLine) SpscQueue* read_queue;
  // Consumer: the queue being written, as far as this core has seen: the
  // chain's last.
  SpscQueue* newest_queue() const noexcept {
    SpscQueue* last = read_queue;
    while (SpscQueue* next = last->next.load(std::memory_order_acquire)) last = next;
    return last;
  }
  // Consumer: nonzero while the producer is between a record's timestamp
  // and its commit: a lower bound of that timestamp (the thread's previous
  // one). The backend merges no other thread's record younger than it, so a
  // caller descheduled mid-record cannot have its record overtaken by
  // younger ones. (The producer marks only the queue it writes, the newest.)
  std::uint64_t in_flight_mark() const noexcept { return newest_queue()->mark(); }
  std::vector<std::string> context_text;  // owned copy of the current context
  std::vector<Field> context;

  // All of this thread's queues (more than one after grow).
  std::mutex chain_mutex;
  std::vector<std::unique_ptr<SpscQueue>> chain;
  std::atomic<std::size_t> total_capacity{0};  // the chain's and the spares' bytes
  // grow: the capacity of the queue being written (set by the producer when
  // it grows), and the next queues, made ahead by the backend (owned here
  // until the producer moves one into the chain): spares[0] twice the size
  // of the queue being written, spares[1] twice that. Only the backend
  // stores a spare, only into an empty slot; the producer only takes one.
  std::atomic<std::size_t> write_capacity{0};
  std::array<std::atomic<SpscQueue*>, 2> spares{};
  // Consumer: keep both spares made, not only the nearer: set by
  // preallocate(), and taken to be set once the thread has grown (a thread
  // that floods its queue may grow twice before the backend next looks).
  bool two_spares = false;
  std::size_t first_capacity = 0;  // of the queue the thread started with
  // Producer: the next queue made ahead, or nullptr; the farther one when
  // the producer already took the nearer and the backend has not yet moved
  // the farther up.
  SpscQueue* take_spare() noexcept {
    if (SpscQueue* near = spares[0].exchange(nullptr, std::memory_order_acq_rel)) return near;
    return spares[1].exchange(nullptr, std::memory_order_acq_rel);
  }
  // grow: spares the producer took and could not use (smaller than the
  // queue it had grown to on its own, or than its record), linked through
  // their `next`. Only the backend frees a spare: it may be faulting in
  // that spare's pages at the moment the producer takes it.
  std::atomic<SpscQueue*> retired{nullptr};
  // Producer: hands an unused spare to the backend to free.
  void retire(SpscQueue* unused) noexcept {
    SpscQueue* head = retired.load(std::memory_order_relaxed);
    do {
      unused->next.store(head, std::memory_order_relaxed);
    } while (!retired.compare_exchange_weak(head, unused, std::memory_order_release,
                                            std::memory_order_relaxed));
  }
  // Consumer (or the last owner): frees what retire() handed over.
  void free_retired() noexcept {
    if (retired.load(std::memory_order_relaxed) == nullptr) return;
    SpscQueue* q = retired.exchange(nullptr, std::memory_order_acquire);
    while (q != nullptr) delete std::exchange(q, q->next.load(std::memory_order_relaxed));
  }
  ~ThreadQueue() {
    for (auto& spare : spares) delete spare.load(std::memory_order_acquire);
    free_retired();
  }
  ThreadQueue(const ThreadQueue&) = delete;
  ThreadQueue& operator=(const ThreadQueue&) = delete;
  std::uint64_t thread_id;  // set once (and again in a fork()ed child)
  // Records this thread has queued here (any thread; takes chain_mutex).
  std::uint64_t records_in();

  // Producer: the write side of the ring, in t_hot; makes this the
  // thread's current queue first if it is not (a slow path may have logged
  // to another engine in between).
  SpscQueue::Writer& live_writer() noexcept {
    if (t_hot.queue != this) [[unlikely]]
      make_current();
    return t_hot.writer;
  }
  // Producer: parks the current queue's write side (if any) in it and loads
  // this one's into t_hot.
  void make_current() noexcept;
  // Producer: copies the write side in t_hot back to the thread's current
  // queue (if any), which then holds it again.
  static void park_current() noexcept;
  // Producer: `size` contiguous bytes or nullptr when full.
  std::byte* reserve(std::size_t size) noexcept {
    SpscQueue::Writer& w = live_writer();
    std::byte* out = w.prepare(size);
    if (out == nullptr) [[unlikely]]
      note_depth(w.capacity());
    return out;
  }
  // Producer: the timestamp of the record being written (after reserve).
  std::uint64_t stamp() noexcept { return stamp(t_hot, *live_writer().queue); }
  // Producer: makes the stamped record visible.
  void publish(std::size_t size) noexcept {
    SpscQueue::Writer& w = live_writer();
    w.commit(size);
    w.queue->set_mark(0, std::memory_order_release);
  }
  // Producer: publish(), counting the record in records_in.
  void commit(std::size_t size) noexcept {
    publish(size);
    ThreadHot& hot = t_hot;
    hot.writer.queue->set_count(++hot.records_in);
  }
  // Marks `ring` in flight, then reads the clock.
  static std::uint64_t stamp(ThreadHot& hot, SpscQueue& ring) noexcept {
    ring.set_mark(hot.last_stamp, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the mark first, then the clock
    hot.last_stamp = record_ticks(hot.use_tsc);
    return hot.last_stamp;
  }
  // Raises the high-water mark to `depth` bytes. Sampled by the backend at
  // each batch (when the queue is deepest) and by a producer that finds its
  // queue full, so the mark is the real depth, not a stale upper bound.
  void note_depth(std::size_t depth) noexcept {
    std::size_t seen = high_water.load(std::memory_order_relaxed);
    while (depth > seen &&
           !high_water.compare_exchange_weak(seen, depth, std::memory_order_relaxed)) {
    }
  }
};

class AsyncEngine {
 public:
  AsyncEngine(Logger& logger, AsyncOptions options);
  ~AsyncEngine();
  AsyncEngine(const AsyncEngine&) = delete;
  AsyncEngine& operator=(const AsyncEngine&) = delete;

  // `engine_id` is this engine's id() as the Logger keeps it (one cache line
  // fewer for the caller than reading it here). A call without key-values
  // (the usual one) goes to a function that takes none: two arguments fewer
  // to pass and nothing to test for them.
  template <typename... Args>
  [[gnu::always_inline]] void enqueue(std::uint64_t engine_id, LayerSlot& slot, Level level,
                                      std::span<const Field> extra,
                                      const basic_format_string<Args...>& f, Args&&... args) {
    if (extra.empty()) {
      enqueue_plain<Args...>(engine_id, slot, level, f, std::forward<Args>(args)...);
    } else {
      enqueue_with<Args...>(engine_id, slot, level, extra, f, std::forward<Args>(args)...);
    }
  }

  std::uint64_t id() const noexcept { return id_; }
  // An id no engine has (ids count up from 1). stop() gives it to the
  // logger's copy of the engine id, which every call compares with its
  // thread's ready engine: no thread is ever ready for it, so each later
  // call takes the slow path, which writes synchronously.
  static constexpr std::uint64_t kStoppedId = ~std::uint64_t{0};

  // A record whose message is already text.
  void enqueue_message(LayerSlot& slot, Level level, std::string_view message,
                       std::span<const Field> fields, const SourceLocation& source);

  // Makes the calling thread's queue if it has none; with grow, also makes
  // its next two (see prepare_growth) and faults in their pages.
  void preallocate();

  // Returns when everything queued before the call, by any thread, is written
  // and the sinks are flushed, with every drop counted before the call
  // reported in-band (unless the thread that dropped has logged since: its
  // report is then queued ahead of that record).
  void flush();
  // Bounded however busy the callers are: first switches callers to
  // writing their records synchronously (a call that starts after this
  // queues nothing), then drains what was queued (in timestamp order, with
  // the drop reports still owed), stops and joins the backend, and flushes
  // the sinks. A call that was already past its switch check when this
  // began may leave its record queued; the next flush, synchronous write or
  // the engine's end writes it.
  void stop();
  AsyncMetrics metrics() const;

  // From the crash handler: drains every queue on the calling thread (taking
  // the consumer lock with a bounded wait) and flushes the sinks.
  void emergency_drain();

  // fork(): before, drain and take every lock so the child inherits a quiet
  // engine; after, release them and, in the child, start over with empty
  // queues and a new backend (the parent writes what was queued).
  void before_fork();
  void after_fork(bool in_child);

  // Test hooks: hold the backend (it neither drains nor beats; returns once
  // it waits) / let it go.
  void pause_backend_for_test(bool paused);
  // Test hook: the liveness clock (the backend's heartbeat and the
  // stall_timeout checks of automatic and of flush) stops at the wall
  // clock's time on first use and from then on moves only by `by` at each
  // call, so that a test decides when the backend looks stalled.
  void advance_stall_clock_for_test(std::chrono::nanoseconds by);

  // Backend side, used by decode functions.
  void run(ThreadQueue& queue, const RecordHeader& header, fmt::format_args args,
           std::span<const FieldValue> values, const std::byte* extra_fields);

 private:
  friend class BackendLoop;
  // Makes this engine's queue for the calling thread current (making it
  // first if the thread has none) and settles it. nullptr once stop() has
  // begun: the caller writes its record synchronously.
  [[gnu::noinline]] ThreadQueue* make_ready();
  // This engine's queue for the calling thread, made current.
  ThreadQueue& find_local_queue();
  ThreadQueue& register_thread();
#ifdef HYDRA_INLINE_CALLS
  // Compiled into the call site: the fast path alone; anything else (no
  // codec, a runtime template, a queue not made ready, no room before the
  // ring's end by the reader position last seen) calls the usual function,
  // which starts over.
  template <typename... Args>
  [[gnu::always_inline]] void enqueue_plain(std::uint64_t engine_id, LayerSlot& slot, Level level,
                                            const basic_format_string<Args...>& f, Args&&... args) {
    if (write_here<Args...>(engine_id, slot, level, f, args...)) [[likely]]
      return;
    enqueue_plain_out_of_line<Args...>(engine_id, slot, level, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  [[gnu::noinline]] void enqueue_plain_out_of_line(std::uint64_t engine_id, LayerSlot& slot,
                                                   Level level,
                                                   const basic_format_string<Args...>& f,
                                                   Args&&... args) {
    enqueue_record<Args...>(engine_id, slot, level, {}, f, std::forward<Args>(args)...);
  }
  template <typename... Args>
  [[gnu::always_inline]] bool write_here(std::uint64_t engine_id, LayerSlot& slot, Level level,
                                         const basic_format_string<Args...>& f,
                                         const std::remove_reference_t<Args>&... args);
#else
  template <typename... Args>
  void enqueue_plain(std::uint64_t engine_id, LayerSlot& slot, Level level,
                     const basic_format_string<Args...>& f, Args&&... args) {
    enqueue_record<Args...>(engine_id, slot, level, {}, f, std::forward<Args>(args)...);
  }
#endif
  template <typename... Args>
  void enqueue_with(std::uint64_t engine_id, LayerSlot& slot, Level level,
                    std::span<const Field> extra, const basic_format_string<Args...>& f,
                    Args&&... args) {
    enqueue_record<Args...>(engine_id, slot, level, extra, f, std::forward<Args>(args)...);
  }
  // The body of both.
  template <typename... Args>
  [[gnu::always_inline]] void enqueue_record(std::uint64_t engine_id, LayerSlot& slot, Level level,
                                             std::span<const Field> extra,
                                             const basic_format_string<Args...>& f, Args&&... args);
  // The queue bytes of an event record: header, arguments, key-values.
  template <typename... Args>
  [[gnu::always_inline]] static std::size_t event_size(
      std::span<const Field> extra, const std::remove_reference_t<Args>&... args) noexcept {
    return align_up(sizeof(RecordHeader) + (std::size_t{0} + ... + encoded_size(args)) +
                        (extra.empty() ? 0 : encoded_size(extra)),
                    kRecordAlign);
  }
  // Writes an event record of `size` bytes at `out`, space the thread's
  // current queue has reserved, and publishes it.
  template <typename... Args>
  [[gnu::always_inline]] static void write_event(ThreadHot& hot, std::byte* out, std::size_t size,
                                                 LayerSlot& slot, Level level,
                                                 std::span<const Field> extra,
                                                 const basic_format_string<Args...>& f,
                                                 const std::remove_reference_t<Args>&... args);
  // The slow halves of enqueue(), out of line so that the call's fast path
  // keeps a small frame and little code. enqueue_here: formats on the caller
  // and queues the text (arguments without a codec, runtime templates).
  // reserve_or_fall_back: the queue was full; space reserved by the overflow
  // policy, or nullptr when the call is done (dropped, or written
  // synchronously here).
  template <typename... Args>
  [[gnu::noinline]] void enqueue_here(LayerSlot& slot, Level level, std::span<const Field> extra,
                                      const basic_format_string<Args...>& f, Args&&... args);
  template <typename... Args>
  [[gnu::noinline]] std::byte* reserve_or_fall_back(std::size_t size, LayerSlot& slot, Level level,
                                                    std::span<const Field> extra,
                                                    const basic_format_string<Args...>& f,
                                                    Args&&... args);
  // The call written by its caller (run_sync): the policy says so, the
  // record is too large for the queue, or the engine has stopped.
  template <typename... Args>
  [[gnu::noinline]] void write_synchronously(LayerSlot& slot, Level level,
                                             std::span<const Field> extra,
                                             const basic_format_string<Args...>& f, Args&&... args);

  // The caller could not reserve `size` bytes: applies the overflow policy.
  // Returns the reserved space (with `queue` the thread's current one), or
  // nullptr when the record must not be queued (dropped: counted; or written
  // synchronously by the caller: `*run_sync`).
  std::byte* on_full(ThreadQueue& queue, std::size_t size, LayerSlot* slot, bool* run_sync);
  // Sends what the queue owes before the next record (the thread's context
  // if it changed, drop reports), and marks t_hot ready when nothing is
  // left owing.
  void settle(ThreadQueue& queue);
  void send_context(ThreadQueue& queue);
  void send_drop_notice(ThreadQueue& queue);
  // Consumer: writes the drop reports `queue`'s producer owes and has not
  // queued, if the queue holds nothing it committed before those drops
  // (else they wait: the producer reports them before its next record, or
  // a later drain does). Stamped no earlier than anything written and no
  // later than `horizon`, if that allows (see drain_locked).
  void report_drops(ThreadQueue& queue, std::uint64_t horizon);
  // Writes one drop report (a `dropped` record).
  void write_drop_report(const ThreadQueue& queue, const RecordHeader& header);
  // Runs one call synchronously after writing every queued record older
  // than it, from all threads (callers in sync_fallback, records too large
  // for the queue, after stop).
  void run_sync(LayerSlot& slot, Level level, std::span<const Field> extra, std::string_view text,
                bool has_names, bool preformatted, const SourceLocation& source,
                fmt::format_args args, std::span<const FieldValue> values);
  // Formats a call with arguments that have no codec on the caller, then
  // queues the finished message.
  void enqueue_formatted(LayerSlot& slot, Level level, std::span<const Field> extra,
                         std::string_view tmpl, bool has_names, const SourceLocation& source,
                         fmt::format_args args, std::span<const FieldValue> values);

  // Wakes the backend now rather than at the end of its idle wait.
  void request_wake();
  void backend_main();
  // Logs the metrics snapshot as one record (health_interval).
  void log_health();
  // All of these need the consumer lock.
  // Processes queued records stamped up to `horizon` (ticks) in timestamp
  // order, at most `limit`; returns how many. Once nothing up to `horizon`
  // is left, writes the drop reports producers owe (report_drops) and
  // forgets exited threads whose queues are empty. `batch`: the backend's
  // own batch, which also faults in grown queues' pages between records.
  std::size_t drain_locked(std::size_t limit, std::uint64_t horizon, bool batch = false);
  // The backend's batch: records older than a little before now and than
  // any record still being written (a younger one may yet be preceded by an
  // older one still being committed).
  std::size_t drain_batch(std::size_t limit);
  // Everything committed, however young, waiting for nothing (stop, crash,
  // fork).
  void drain_all();
  // stop()'s drain, once callers write synchronously: in timestamp order
  // (drain_until now), then whatever is left.
  void drain_for_stop();
  // Every record stamped up to `until`, in order: waits for another
  // thread's record in flight that may be older (its in-flight mark), at
  // most stall_timeout (a thread stuck mid-record is then passed over).
  // Flush and synchronous writes; the calling thread's own queue is not
  // waited for (it is not mid-record).
  void drain_until(std::uint64_t until);
  // Takes in threads that registered a queue since the last look.
  void refresh_consumer_view();
  void process_record(ThreadQueue& queue, const RecordHeader& header);
  // What every record kind shares: layer, level, time, thread, source, context.
  // A record's wall-clock time from its ticks (consumer lock: clock_).
  std::chrono::system_clock::time_point time_of(std::uint64_t ticks) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(clock_.to_ns(ticks))));
  }
  Capture capture_of(const ThreadQueue& queue, const RecordHeader& header,
                     const SourceLocation& source = {});

  Logger& logger_;
  AsyncOptions options_;
  const std::uint64_t id_;

  mutable std::mutex queues_mutex_;
  std::vector<std::shared_ptr<ThreadQueue>> queues_;
  std::uint64_t records_in_forgotten_ = 0;  // of exited threads' queues (under queues_mutex_)
  std::atomic<std::uint64_t> queues_version_{0};

  std::mutex consumer_mutex_;  // whoever drains holds it (backend or a fallback caller)
  std::vector<std::shared_ptr<ThreadQueue>> consumer_view_;  // under consumer_mutex_
  std::uint64_t consumer_view_version_ = ~std::uint64_t{0};

  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;          // the backend sleeps here
  std::condition_variable flushed_cv_;       // flush() waits here
  std::uint64_t flush_requested_ = 0;        // under wake_mutex_
  std::uint64_t flush_done_ = 0;             // under wake_mutex_
  bool stopping_ = false;                    // under wake_mutex_
  bool paused_ = false;                      // under wake_mutex_
  bool parked_ = false;                      // under wake_mutex_: the backend waits while paused
  std::atomic<bool> wake_requested_{false};  // a caller waits for space
  // stop() calls draining: synchronous writers wait on stop_drained_cv_
  // while nonzero (changed under wake_mutex_).
  std::atomic<int> stop_drains_{0};
  std::condition_variable stop_drained_cv_;

  std::mutex start_mutex_;
  // Owned through a pointer: in a fork()ed child the thread does not exist
  // and its handle is abandoned rather than joined.
  std::unique_ptr<std::thread> backend_;
  // stop() has begun: callers write synchronously.
  std::atomic<bool> stopped_{false};
  std::atomic<std::int64_t> heartbeat_ns_{0};       // last time the backend made progress
  std::atomic<std::int64_t> oldest_pending_ns_{0};  // oldest record left after a drain
  TickConverter clock_;                             // under consumer_mutex_
  // The liveness clock, which the heartbeat and the stall checks read: the
  // wall clock, or while nonzero the test's (advance_stall_clock_for_test).
  std::atomic<std::int64_t> manual_now_ns_{0};
  std::int64_t liveness_now() const noexcept {
    const std::int64_t manual = manual_now_ns_.load(std::memory_order_relaxed);
    return manual != 0 ? manual : now_ns();
  }
  // Whether the backend has made no progress for stall_timeout.
  bool backend_stalled() const noexcept {
    return liveness_now() - heartbeat_ns_.load(std::memory_order_acquire) >
           std::chrono::nanoseconds(options_.stall_timeout).count();
  }
  // Every record stamped up to here is written (under consumer_mutex_): a
  // synchronous writer's record is stamped no earlier.
  std::uint64_t drained_until_ = 0;
  // The youngest timestamp written so far (under consumer_mutex_): a drop
  // report the consumer writes is stamped no earlier.
  std::uint64_t newest_written_ = 0;

  // Written only under consumer_mutex_: a plain add, not a locked one.
  std::atomic<std::uint64_t> records_out_{0};
  void count_out() noexcept {
    records_out_.store(records_out_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> sync_writes_{0};
  std::atomic<std::uint64_t> blocked_waits_{0};
  std::atomic<std::uint64_t> order_waits_{0};
  std::atomic<std::uint64_t> grows_{0};
  std::atomic<std::uint64_t> grows_prepared_{0};
  // grow: a caller took a queue made ahead; the draining backend makes the
  // next one within kGrowthCheck records rather than at its next batch.
  std::atomic<bool> growth_wanted_{false};
  // grow: keeps `q`'s next queue (twice the size) made, and the one after
  // it (twice that) with two_spares, so that growing costs its producer no
  // allocation (consumer lock). The queues are handed over untouched, and
  // populate_growth() faults their pages in.
  void prepare_growth(ThreadQueue& q);
  // grow: faults in the next slice of pages (kPopulateSlice) of each
  // thread's newest queue that still has untouched ones: the one being
  // written first (from just ahead of the producer), then the spare (from
  // its start, where the producer will write first). Safe while the
  // producer writes there. Clears populating_ when nothing is left.
  // Backend, consumer lock: only the consumer frees a queue of the chain
  // or a spare, so none is freed under it.
  void populate_growth();
  bool populating_ = false;  // under consumer_mutex_: populate_growth has work
};

template <typename... Args>
void decode_event(AsyncEngine& engine, ThreadQueue& queue, const RecordHeader& header,
                  const std::byte* payload) {
  const std::byte* in = payload;
  std::tuple<decoded_t<Args>...> values{decode<Args>(in)...};
  std::apply(
      [&](auto&... v) {
        const auto args = fmt::make_format_args(v...);
        if constexpr (sizeof...(Args) != 0) {
          if ((header.flags & kHasNames) != 0) {
            FieldScratch& scratch = thread_field_scratch();
            scratch.clear();
            const FieldValue field_values[] = {to_field_value(v, scratch)...};
            engine.run(queue, header, args, field_values, in);
            return;
          }
        }
        engine.run(queue, header, args, {}, in);
      },
      values);
}

template <typename... Args>
inline void AsyncEngine::enqueue_record(std::uint64_t engine_id, LayerSlot& slot, Level level,
                                        std::span<const Field> extra,
                                        const basic_format_string<Args...>& f, Args&&... args) {
  // Format on the caller and queue the text when some argument has no codec,
  // or when the template is runtime text: the backend keeps only a pointer
  // to the template, and only a literal outlives the call.
  if constexpr (!(kQueueable<Args> && ...)) {
    enqueue_here<Args...>(slot, level, extra, f, std::forward<Args>(args)...);
  } else {
    if (f.is_runtime()) [[unlikely]] {
      enqueue_here<Args...>(slot, level, extra, f, std::forward<Args>(args)...);
      return;
    }
    ThreadHot& hot = t_hot;
    if (hot.ready_engine != engine_id) [[unlikely]] {
      if (make_ready() == nullptr) {
        write_synchronously<Args...>(slot, level, extra, f, std::forward<Args>(args)...);
        return;
      }
    }
    const std::size_t size = event_size<Args...>(extra, args...);
    // From here to the commit the thread's queue is the current one: the
    // slow paths return with it current.
    std::byte* out = hot.writer.prepare(size);
    if (out == nullptr) [[unlikely]] {
      out = reserve_or_fall_back<Args...>(size, slot, level, extra, f, std::forward<Args>(args)...);
      if (out == nullptr) return;
    }
    write_event<Args...>(hot, out, size, slot, level, extra, f, args...);
  }
}

template <typename... Args>
inline void AsyncEngine::write_event(ThreadHot& hot, std::byte* out, std::size_t size,
                                     LayerSlot& slot, Level level, std::span<const Field> extra,
                                     const basic_format_string<Args...>& f,
                                     const std::remove_reference_t<Args>&... args) {
  // The thread's state is read and updated before the record's bytes are
  // written: the compiler must assume those byte stores may change any
  // memory, and would load it all again after them.
  SpscQueue::Writer& w = hot.writer;
  SpscQueue& ring = *w.queue;
  const std::size_t end = w.write + size;
  const std::uint64_t count = hot.records_in + 1;
  w.write = end;
  hot.records_in = count;
  const std::uint64_t ticks = ThreadQueue::stamp(hot, ring);
  auto* header = reinterpret_cast<RecordHeader*>(out);
  header->size = static_cast<std::uint32_t>(size);
  header->kind = RecordKind::event;
  header->level = level;
  header->flags = f.has_names() ? kHasNames : 0;
  header->extra_count = static_cast<std::uint8_t>(extra.size());
  header->ticks = ticks;
  header->decode = &decode_event<Args...>;
  header->slot = &slot;
  header->text = f.get().data();
  header->location = f.location();
  header->text_len = static_cast<std::uint32_t>(f.get().size());
  std::byte* payload = out + sizeof(RecordHeader);
  (encode(payload, args), ...);
  if (!extra.empty()) encode_fields(payload, extra);
  ring.publish(end);
  ring.set_mark(0, std::memory_order_release);
  ring.set_count(count);
}

#ifdef HYDRA_INLINE_CALLS
template <typename... Args>
inline bool AsyncEngine::write_here(std::uint64_t engine_id, LayerSlot& slot, Level level,
                                    const basic_format_string<Args...>& f,
                                    const std::remove_reference_t<Args>&... args) {
  if constexpr (!(kQueueable<Args> && ...)) {
    return false;
  } else {
    ThreadHot& hot = t_hot;
    if (f.is_runtime() || hot.ready_engine != engine_id) [[unlikely]]
      return false;
    const std::size_t size = event_size<Args...>({}, args...);
    std::byte* out = hot.writer.prepare_here(size);
    if (out == nullptr) [[unlikely]]
      return false;
    write_event<Args...>(hot, out, size, slot, level, {}, f, args...);
    return true;
  }
}
#endif

template <typename... Args>
void AsyncEngine::enqueue_here(LayerSlot& slot, Level level, std::span<const Field> extra,
                               const basic_format_string<Args...>& f, Args&&... args) {
  with_call_arguments(
      f.has_names(),
      [&](fmt::format_args stored, std::span<const FieldValue> values) {
        enqueue_formatted(slot, level, extra, f.get(), f.has_names(), source_of(f.location()),
                          stored, values);
      },
      args...);
}

template <typename... Args>
std::byte* AsyncEngine::reserve_or_fall_back(std::size_t size, LayerSlot& slot, Level level,
                                             std::span<const Field> extra,
                                             const basic_format_string<Args...>& f,
                                             Args&&... args) {
  // The fast path found the current queue (this engine's, made ready) full.
  ThreadQueue& queue = *static_cast<ThreadQueue*>(t_hot.queue);
  queue.note_depth(t_hot.writer.capacity());
  bool sync = false;
  std::byte* out = on_full(queue, size, &slot, &sync);
  if (out != nullptr) {
    (void)queue.live_writer();  // (nothing on the way switches queues; the fast path relies on it)
    return out;
  }
  if (sync) write_synchronously<Args...>(slot, level, extra, f, std::forward<Args>(args)...);
  return nullptr;
}

template <typename... Args>
void AsyncEngine::write_synchronously(LayerSlot& slot, Level level, std::span<const Field> extra,
                                      const basic_format_string<Args...>& f, Args&&... args) {
  with_call_arguments(
      f.has_names(),
      [&](fmt::format_args stored, std::span<const FieldValue> values) {
        run_sync(slot, level, extra, f.get(), f.has_names(), false, source_of(f.location()), stored,
                 values);
      },
      args...);
}

}  // namespace hydra::detail
