// hydra-bench: Hydra against spdlog, in the same run, writing the same line
// content. Every claim on docs/benchmarks.md comes from this program.
//
// Scenarios (the table kScenarios at the bottom; --scenarios picks some):
//   throughput: N records of a ~87-byte text line to a file, from 1 and 2
//     threads, until everything is on disk; records/s and MB/s (median of the
//     runs). Every output file's line count is checked, its last byte must be
//     a newline, and every logger must write the same number of bytes as the
//     others in the same run; any mismatch fails the run (exit 1).
//   latency: the caller's cost of one call, measured with the TSC; the
//     timer's own overhead is measured, printed and subtracted, and a "floor"
//     row times the loop without a logging call, and a "bare_ring" row the
//     least an async logger's call can do (see BareRing): what the machine
//     charges for it, to read the loggers' rows against. Two regimes: drained (bursts
//     of 20 calls with ~2 ms pauses, so each burst meets an idle backend) and
//     sustained (every thread logs back to back and every call is timed; async
//     queues are sized so that all the calls fit and no call blocks). Four
//     messages: int+int+double, a 40-character std::string, a static string,
//     and three structured fields. 1 and 2 threads.
//   formats: Hydra's throughput writing text, JSON Lines and logfmt, each
//     with a positional message and with three named (structured) fields;
//     spdlog's text line is the reference row.
//   memory: peak RSS of a child process per logger and workload (one record;
//     throughput from 1 and 2 threads), and the async queues' footprint.
//   startup: from before the parent spawns a child to the moment the child's
//     file holds its first record (construct, log one record, flush).
//   redaction: Hydra's throughput with the protect stage (default detectors)
//     on and off, on a clean line with and without fields.
//   plugins: Hydra's throughput with a no-op filter plus the built-in
//     `rates` analytics against without, sync and async (docs/plugins.md).
//   compile: compiling one generated translation unit with 500 distinct log
//     statements, Hydra against spdlog, with the same compiler and flags
//     (Hydra's also with named placeholders, and with HYDRA_INLINE_CALLS).
//   modes: the performance presets (high_performance, bare_metal) against
//     Hydra's default configuration (sync, text file), each as the preset
//     configures it with its file moved into the bench directory:
//     throughput from 1 thread and drained caller latency; spdlog's sync
//     file logger is the reference row.
//   growth: Hydra async with overflow = grow and a 64 KiB queue, one thread
//     logging bursts of 4000 calls (every call timed) with 2 ms pauses, so
//     that its queue must grow until a burst fits: with the next queue made
//     ahead by the backend (prepare_growth, the default; with and without
//     preallocate()) and made by the caller; the tail and the maximum show
//     whether growth costs the caller a spike.
//   cold: one call (int, int, double, one thread) after the thread has
//     pushed every cache line out by writing 64 MiB, bursts/4 times per
//     logger: what the lines a call touches cost when they all come from
//     memory, repeatable where the drained regime's pauses are not.
//   turns: the drained regime (int, int, double, one thread) with the floor,
//     the bare ring and the async loggers open at once and taking turns, one
//     burst each in rotation: all of them meet the same machine, so their
//     ratios hold from run to run. A burst's first call is reported apart.
//
//   hydra-bench [--quick] [--json FILE] [--scenarios NAME[,NAME...]]
//               [--only LOGGER[,LOGGER...]] [--records N] [--runs R]
//               [--bursts B] [--sustained N] [--reps R] [--list]
//     --quick:     throughput with one thread (200,000 records x 3 runs),
//                  latency drained + int+int+double only (500 bursts), small
//                  formats/memory/startup runs, no compile cost (under 60 s).
//     --scenarios: run just these scenarios (see --list).
//     --only:      run just these loggers (hydra_sync, hydra_async,
//                  spdlog_sync, spdlog_async; the floor rows always run).
//     --sustained: timed calls per thread in the sustained regime.
//     --reps:      child processes per row for start-up (and compiles).
//     --json:      results as {"latency": {logger: {threads: {p50_ns, ...}}},
//                  "throughput": {logger: {records_per_s, mb_per_s,
//                  lines_verified}}, "throughput_threads", "latency_matrix":
//                  {regime: {message: {logger: {threads: {...}}}}},
//                  "formats", "memory", "queue_footprint", "startup",
//                  "compile", "machine"}.
//
// hydra-bench-inline is this program built with HYDRA_INLINE_CALLS: its
// Hydra rows are calls compiled into their call sites.
//
// Adding a scenario (redaction cost, performance presets, ...): write a
// `void scenario_x(Context&)` that prints its table and fills ctx.out["x"],
// and add a row to kScenarios.
#include <fcntl.h>
#include <malloc.h>
#include <spawn.h>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <spdlog/version.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <hydra/hydra.hpp>
#include <hydra/plugin/filter.hpp>
#if defined(HYDRA_BENCH_WITH_CONFIG)
#include <hydra/config/presets.hpp>
#endif
#if defined(HYDRA_BENCH_WITH_PROTECT)
#include <hydra/protect/protector.hpp>
#endif
#include <latch>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// ---------------------------------------------------------------- helpers

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The q-quantile (0..1) of sorted, non-empty samples.
double percentile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Peak resident set of this process image, from /proc/self/status (kB).
long vm_hwm_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

std::string read_first_line(const std::string& path, const char* key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(sep, start), s.size());
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// What a finished output file holds: its size and line count, and whether it
// ends with a newline (no torn last record).
struct FileCheck {
  std::uintmax_t bytes = 0;
  std::size_t lines = 0;
  bool ends_with_newline = false;
};

FileCheck check_file(const std::string& path) {
  FileCheck c;
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buf(std::size_t{1} << 20);
  char last = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    c.lines += static_cast<std::size_t>(std::count(buf.data(), buf.data() + n, '\n'));
    c.bytes += n;
    last = buf[n - 1];
  }
  c.ends_with_newline = last == '\n';
  return c;
}

// ------------------------------------------------------- child processes

struct ChildResult {
  bool spawned = false;
  int status = 0;
  rusage usage{};
  std::string out;           // what the child wrote to stdout (and stderr if merged)
  std::int64_t t_spawn = 0;  // CLOCK_MONOTONIC just before posix_spawn
  double wall_s = 0;
};

// Runs args[0] with args, capturing stdout (and stderr when merge_stderr),
// and waits for it with wait4 so its resource usage is its own.
ChildResult run_child(const std::vector<std::string>& args, bool merge_stderr) {
  ChildResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  if (merge_stderr) posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const auto wall0 = std::chrono::steady_clock::now();
  r.t_spawn = monotonic_ns();
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return r;
  }
  r.spawned = true;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      r.out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  while (::wait4(pid, &r.status, 0, &r.usage) < 0 && errno == EINTR) {
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

bool child_ok(const ChildResult& r) {
  return r.spawned && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
}

double cpu_seconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// ------------------------------------------------------ loggers under test

enum class Kind { none, hydra, spdlog, ring };

struct Subject {
  const char* name;
  Kind kind;
  bool async;
  // Hydra: a magic preset's configuration (its file destinations moved to
  // the bench's path) instead of the plain file logger.
  const char* preset = nullptr;
};

constexpr Subject kFloor{"floor", Kind::none, false};
constexpr Subject kBareRing{"bare_ring", Kind::ring, true};
constexpr Subject kSubjects[] = {
    {"hydra_sync", Kind::hydra, false},
    {"spdlog_sync", Kind::spdlog, false},
    {"hydra_async", Kind::hydra, true},
    {"spdlog_async", Kind::spdlog, true},
};
constexpr std::size_t kSpdlogDefaultSlots = 8192;

// How a subject is opened for one measurement.
struct Setup {
  std::string format = "text";  // Hydra's destination format (spdlog: always its pattern)
  // Async: records per thread that must fit in the queue at once without a
  // caller waiting (0: the loggers' defaults), and how many threads log.
  std::size_t in_flight = 0;
  int threads = 1;
  bool redact = false;   // Hydra: the protect stage with the default detectors
  bool plugins = false;  // Hydra: a no-op filter and the built-in `rates` analytics
};

// The cheapest filter there is: what a filter costs the pipeline by itself.
class NoopFilter final : public hydra::plugin::Filter {
 public:
  Verdict filter(const hydra::Record&, hydra::plugin::RecordEdit&) override {
    return Verdict::keep;
  }
};

std::unique_ptr<hydra::Logger> g_hydra;
std::shared_ptr<spdlog::logger> g_spdlog;

// hydra-bench-inline is this program built with HYDRA_INLINE_CALLS.
#ifdef HYDRA_INLINE_CALLS
constexpr bool kInlineCalls = true;
#else
constexpr bool kInlineCalls = false;
#endif

// Not a logger: the least an async logger's call can do, as a reference row
// for the latency scenario. A call reads a level from a global object and
// its thread's producer state from one thread-local line, writes a 32-byte
// record (TSC timestamp and the three arguments) into its thread's
// pre-faulted 1 MiB ring and publishes the position; a consumer thread
// polls every ring every 500 µs (Hydra's default idle wait) and reads the
// records. No formatting, no file. What this row pays after a pause is what
// the machine charges any async logger for the same lines. (1 MiB per
// thread, or more when the sustained regime needs every call to fit.)
// One thread's ring.
struct alignas(64) BareRingBuffer {
  explicit BareRingBuffer(std::size_t bytes) : data(new std::byte[bytes]) {
    std::memset(data.get(), 0, bytes);
  }
  std::unique_ptr<std::byte[]> data;
  alignas(64) std::atomic<std::size_t> published{0};
  alignas(64) std::atomic<std::size_t> released{0};
  std::size_t read = 0;  // consumer only
};
// A thread's producer state: one thread-local line.
struct alignas(64) BareRingProducer {
  std::byte* data = nullptr;
  BareRingBuffer* ring = nullptr;
  std::size_t write = 0;
  std::size_t cached_released = 0;
};
thread_local BareRingProducer t_bare_ring;

class BareRing {
 public:
  static constexpr std::size_t kRecord = 32;

  explicit BareRing(std::size_t in_flight)
      : bytes_(std::bit_ceil(std::max(std::size_t{1} << 20, (in_flight + 1) * kRecord))),
        consumer_([this] { consume(); }) {}
  ~BareRing() {
    stop_.store(true, std::memory_order_release);
    consumer_.join();
  }
  // On each logging thread, outside the timing (as Hydra's preallocate).
  void attach() {
    std::lock_guard lock(mutex_);
    rings_.push_back(std::make_unique<BareRingBuffer>(bytes_));
    t_bare_ring = BareRingProducer{rings_.back()->data.get(), rings_.back().get(), 0, 0};
  }
  void log(std::uint64_t a, int b, double c) {
    if (level_ > 2) return;  // the level check
    BareRingProducer& p = t_bare_ring;
    BareRingBuffer* ring = p.ring;
    while (p.write + kRecord - p.cached_released > bytes_) {
      p.cached_released = ring->released.load(std::memory_order_acquire);
    }
    std::byte* out = p.data + (p.write & (bytes_ - 1));
    const std::uint64_t ticks = __rdtsc();
    const std::int64_t b64 = b;
    std::memcpy(out, &ticks, 8);
    std::memcpy(out + 8, &a, 8);
    std::memcpy(out + 16, &b64, 8);
    std::memcpy(out + 24, &c, 8);
    p.write += kRecord;
    ring->published.store(p.write, std::memory_order_release);
  }

 private:
  void consume() {
    std::uint64_t sum = 0;
    while (!stop_.load(std::memory_order_acquire)) {
      {
        std::lock_guard lock(mutex_);
        for (auto& r : rings_) {
          const std::size_t end = r->published.load(std::memory_order_acquire);
          for (; r->read < end; r->read += kRecord) {
            std::uint64_t a = 0;
            std::memcpy(&a, r->data.get() + (r->read & (bytes_ - 1)) + 8, 8);
            sum += a;
          }
          r->released.store(r->read, std::memory_order_release);
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    sink_ = sum;
  }
  // What a call reads, on a line of their own (the consumer's mutex is on
  // the next).
  alignas(64) int level_ = 2;
  const std::size_t bytes_;  // per ring, a power of two
  alignas(64) std::mutex mutex_;
  std::vector<std::unique_ptr<BareRingBuffer>> rings_;
  std::atomic<bool> stop_{false};
  std::uint64_t sink_ = 0;
  std::thread consumer_;  // last: starts once the rest is made
};
std::unique_ptr<BareRing> g_ring;

hydra::LoggerMetrics g_last_metrics;  // Hydra's metrics when the last threads finished

// Bytes of Hydra queue per record that the sustained regime reserves.
constexpr std::size_t kQueueBytesPerRecord = 256;

// A preset as it configures itself, with every file it writes moved to
// `path` (so that the run can verify and count one file).
hydra::LoggerConfig preset_config(const char* name, const std::string& path) {
#if defined(HYDRA_BENCH_WITH_CONFIG)
  hydra::MagicOptions o;
  o.log_dir = fs::path(path).parent_path().string();
  hydra::LoggerConfig cfg = hydra::magic(name, o);
  for (auto& [layer, lc] : cfg.layers) {
    for (auto& d : lc.destinations) {
      if (d.type == "file" || d.type == "rotating_file") d.path = path;
    }
  }
  return cfg;
#else
  (void)path;
  throw std::runtime_error(std::string("preset ") + name + ": built without the config module");
#endif
}

void open_subject(const Subject& s, const std::string& path, const Setup& setup) {
  if (s.kind == Kind::hydra && s.preset != nullptr) {
    g_hydra = std::make_unique<hydra::Logger>(preset_config(s.preset, path));
  } else if (s.kind == Kind::hydra) {
    hydra::LoggerConfig cfg;
    cfg.mode = s.async ? hydra::LoggerMode::async : hydra::LoggerMode::sync;
    if (setup.in_flight > 0) {
      cfg.async.queue_capacity =
          std::max(cfg.async.queue_capacity, std::bit_ceil(setup.in_flight * kQueueBytesPerRecord));
    }
    auto dest = hydra::file(path, setup.format);
    dest.flush_interval = std::chrono::milliseconds(0);
    cfg.layers["APP"].destinations = {dest};
#if defined(HYDRA_BENCH_WITH_PROTECT)
    if (setup.redact) cfg.protector = hydra::protect::make_protector();
#endif
    if (setup.plugins) {
      cfg.filters.push_back({.type = "noop", .instance = std::make_shared<NoopFilter>()});
      cfg.analytics.push_back({.type = "rates"});
    }
    g_hydra = std::make_unique<hydra::Logger>(cfg);
  } else if (s.kind == Kind::ring) {
    g_ring = std::make_unique<BareRing>(setup.in_flight);
  } else if (s.kind == Kind::spdlog) {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
    if (s.async) {
      const std::size_t slots = std::max(
          kSpdlogDefaultSlots, setup.in_flight * static_cast<std::size_t>(setup.threads) + 64);
      spdlog::init_thread_pool(slots, 1);
      g_spdlog = std::make_shared<spdlog::async_logger>("bench", sink, spdlog::thread_pool(),
                                                        spdlog::async_overflow_policy::block);
    } else {
      g_spdlog = std::make_shared<spdlog::logger>("bench", sink);
    }
    g_spdlog->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5!l [APP] %v");
  }
}

// Flushes everything to disk and releases the logger.
void close_subject(const Subject& s) {
  if (s.kind == Kind::hydra) {
    g_hydra->flush();
    g_hydra.reset();
  } else if (s.kind == Kind::spdlog) {
    g_spdlog->flush();
    // spdlog's async flush only queues a flush: drop the logger and the pool
    // (which joins its worker after draining) to be sure.
    g_spdlog.reset();
    spdlog::shutdown();
  } else if (s.kind == Kind::ring) {
    g_ring.reset();
  }
}

// Called at the start of every logging thread (outside any timing): Hydra's
// async queue is made and pre-faulted now, as a hot thread is told to do.
void thread_start() {
  if (g_hydra) g_hydra->preallocate();
  if (g_ring) g_ring->attach();
}

// Keeps the logging threads alive after their last record until the main
// thread has read Hydra's metrics (a thread's queue leaves the per-thread
// list once the thread has exited and its queue is drained).
class ThreadsDone {
 public:
  explicit ThreadsDone(int threads) : finished_(threads) {}
  void thread_finished() {  // on each logging thread, after its last record
    finished_.count_down();
    release_.wait();
  }
  void collect(const Subject& s) {  // on the main thread, before joining
    finished_.wait();
    if (s.kind == Kind::hydra) g_last_metrics = g_hydra->metrics();
    release_.count_down();
  }

 private:
  std::latch finished_;
  std::latch release_{1};
};

// -------------------------------------------------------------- messages
// Each message is a type with the same statement for both loggers; `i` is the
// record's index and `k` a small varying int. Hydra's named placeholders turn
// their arguments into structured fields; spdlog gets the same text with {}.
// Each statement is compiled into the loop that times it, as a statement in
// a program is into its function (without this a compiler may call it out
// of line, which hydra-bench-inline's bigger calls made it do).
#define HYDRA_BENCH_AT_CALL_SITE [[gnu::always_inline]]

const std::string kString40 = "0123456789abcdefghijklmnopqrstuvwxyzABCD";  // 40 chars
const std::string kUser = "alice";

struct LineMsg {  // the throughput line, ~87 bytes of text
  HYDRA_BENCH_AT_CALL_SITE static void hydra(hydra::Logger& l, std::size_t i, int k) {
    l.info("request {} handled in {:.3f} ms by worker {}", i, 0.5 + k, "alpha");
  }
  HYDRA_BENCH_AT_CALL_SITE static void spdlog(spdlog::logger& l, std::size_t i, int k) {
    l.info("request {} handled in {:.3f} ms by worker {}", i, 0.5 + k, "alpha");
  }
};
struct LineFieldsMsg {  // the same line, its three values as structured fields
  HYDRA_BENCH_AT_CALL_SITE static void hydra(hydra::Logger& l, std::size_t i, int k) {
    l.info("request {id} handled in {ms:.3f} ms by worker {worker}", i, 0.5 + k, "alpha");
  }
  HYDRA_BENCH_AT_CALL_SITE static void spdlog(spdlog::logger& l, std::size_t i, int k) {
    LineMsg::spdlog(l, i, k);
  }
};
struct IntIntDoubleMsg {
  HYDRA_BENCH_AT_CALL_SITE static void hydra(hydra::Logger& l, std::size_t i, int k) {
    l.info("latency {} {} {:.2f}", i, k, 1.5 * static_cast<double>(k));
  }
  HYDRA_BENCH_AT_CALL_SITE static void spdlog(spdlog::logger& l, std::size_t i, int k) {
    l.info("latency {} {} {:.2f}", i, k, 1.5 * static_cast<double>(k));
  }
};
struct String40Msg {
  HYDRA_BENCH_AT_CALL_SITE static void hydra(hydra::Logger& l, std::size_t, int) {
    l.info("session {} closed", kString40);
  }
  HYDRA_BENCH_AT_CALL_SITE static void spdlog(spdlog::logger& l, std::size_t, int) {
    l.info("session {} closed", kString40);
  }
};
struct StaticMsg {
  HYDRA_BENCH_AT_CALL_SITE static void hydra(hydra::Logger& l, std::size_t, int) {
    l.info("static message with no arguments at all");
  }
  HYDRA_BENCH_AT_CALL_SITE static void spdlog(spdlog::logger& l, std::size_t, int) {
    l.info("static message with no arguments at all");
  }
};
struct FieldsMsg {
  HYDRA_BENCH_AT_CALL_SITE static void hydra(hydra::Logger& l, std::size_t i, int k) {
    l.info("user {user} order {order} total {total}", kUser, i, 1.5 * static_cast<double>(k));
  }
  HYDRA_BENCH_AT_CALL_SITE static void spdlog(spdlog::logger& l, std::size_t i, int k) {
    l.info("user {} order {} total {}", kUser, i, 1.5 * static_cast<double>(k));
  }
};

template <typename M>
HYDRA_BENCH_AT_CALL_SITE inline void log_one(std::size_t i, int k) {
  if (g_hydra) {
    M::hydra(*g_hydra, i, k);
  } else if (g_spdlog) {
    M::spdlog(*g_spdlog, i, k);
  } else if (g_ring) {
    g_ring->log(i, k, 1.5 * static_cast<double>(k));  // what int, int, double carry
  }                                                   // else: the floor, nothing but the loop
}

// -------------------------------------------------------------- context

struct Options {
  bool quick = false;
  std::size_t records = 1'000'000;
  int runs = 5;
  int bursts = 2000;
  std::size_t sustained = 50'000;
  int reps = 0;  // 0: per scenario default
  std::vector<int> thread_counts = {1, 2};
  std::string json_path;
  std::string only;       // ",name,name," or empty for every logger
  std::string scenarios;  // ",name,name," or empty for every scenario of the mode
  // Hidden: a child process's role and its parameters.
  std::string child;
  std::string child_logger;
  std::string child_path;
  int child_threads = 1;
};

struct Context {
  Options opt;
  std::string self;  // this executable, for child processes
  fs::path dir;      // scratch directory
  Json out;
  bool ok = true;
  double ghz = 0;
  double overhead_cycles = 0;

  std::vector<Subject> subjects() const {
    std::vector<Subject> v;
    for (const Subject& s : kSubjects) {
      if (opt.only.empty() || opt.only.find("," + std::string(s.name) + ",") != std::string::npos)
        v.push_back(s);
    }
    return v;
  }
  std::string path(const std::string& stem) const { return (dir / (stem + ".log")).string(); }
};

const Subject* subject_named(const std::string& name) {
  if (name == kFloor.name) return &kFloor;
  for (const Subject& s : kSubjects) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// ----------------------------------------------------------- throughput

struct Sample {
  double seconds;
  FileCheck file;
};

template <typename M>
Sample run_throughput(const Subject& s, const std::string& path, int threads, std::size_t records,
                      Setup setup = {}) {
  fs::remove(path);
  setup.threads = threads;
  open_subject(s, path, setup);
  std::latch ready(threads);
  ThreadsDone done(threads);
  const std::size_t per_thread = records / static_cast<std::size_t>(threads);
  std::vector<std::thread> pool;
  std::chrono::steady_clock::time_point start;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      thread_start();
      ready.arrive_and_wait();
      if (t == 0) start = std::chrono::steady_clock::now();
      for (std::size_t i = 0; i < per_thread; ++i) log_one<M>(i, t);
      done.thread_finished();
    });
  }
  done.collect(s);
  for (auto& th : pool) th.join();
  close_subject(s);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {secs, check_file(path)};
}

// Checks one output: line count and a complete last line. Reports and
// returns false on a mismatch.
bool verify(const char* what, const FileCheck& f, std::size_t expect_lines) {
  if (f.lines != expect_lines || !f.ends_with_newline) {
    std::fprintf(stderr, "%s: %zu lines%s, expected %zu\n", what, f.lines,
                 f.ends_with_newline ? "" : " (last line torn)", expect_lines);
    return false;
  }
  return true;
}

Json throughput_row(double n, const Sample& s, double secs, bool lines_ok) {
  return {{"records_per_s", n / secs},
          {"mb_per_s", static_cast<double>(s.file.bytes) / secs / 1e6},
          {"bytes_per_line", static_cast<double>(s.file.bytes) / n},
          {"lines_verified", lines_ok}};
}

void scenario_throughput(Context& ctx) {
  const auto& o = ctx.opt;
  const auto subjects = ctx.subjects();
  std::printf(
      "throughput: %zu records of a text line to a file, median of %d runs (x spdlog_sync: the "
      "median of each run's ratio, the two timed within the same run)\n",
      o.records, o.runs);
  std::printf("%-14s %7s %14s %10s %10s %14s\n", "logger", "threads", "records/s", "MB/s",
              "bytes/line", "x spdlog_sync");
  std::size_t baseline = subjects.size();  // spdlog's synchronous logger, when it runs
  for (std::size_t k = 0; k < subjects.size(); ++k) {
    if (subjects[k].kind == Kind::spdlog && !subjects[k].async) baseline = k;
  }
  for (int threads : o.thread_counts) {
    const std::size_t expect =
        o.records / static_cast<std::size_t>(threads) * static_cast<std::size_t>(threads);
    std::vector<std::vector<double>> secs(subjects.size());
    std::vector<Sample> last(subjects.size());
    std::vector<bool> lines_ok(subjects.size(), true);
    for (int r = 0; r < o.runs; ++r) {
      for (std::size_t k = 0; k < subjects.size(); ++k) {
        const Sample s =
            run_throughput<LineMsg>(subjects[k], ctx.path(subjects[k].name), threads, o.records);
        if (!verify(subjects[k].name, s.file, expect)) lines_ok[k] = false;
        secs[k].push_back(s.seconds);
        last[k] = s;
      }
    }
    // The same content everywhere: every logger wrote the same bytes.
    bool bytes_ok = true;
    for (std::size_t k = 1; k < subjects.size(); ++k) {
      if (last[k].file.bytes != last[0].file.bytes) {
        std::fprintf(stderr, "%s wrote %ju bytes, %s %ju: the lines differ\n", subjects[k].name,
                     last[k].file.bytes, subjects[0].name, last[0].file.bytes);
        bytes_ok = false;
      }
    }
    const double n = static_cast<double>(expect);
    for (std::size_t k = 0; k < subjects.size(); ++k) {
      const double t = median(secs[k]);
      std::printf("%-14s %7d %14.0f %10.1f %10.1f", subjects[k].name, threads, n / t,
                  static_cast<double>(last[k].file.bytes) / t / 1e6,
                  static_cast<double>(last[k].file.bytes) / n);
      Json row = throughput_row(n, last[k], t, lines_ok[k]);
      if (baseline < subjects.size()) {
        std::vector<double> ratios;
        for (std::size_t r = 0; r < secs[k].size(); ++r) {
          ratios.push_back(secs[baseline][r] / secs[k][r]);
        }
        std::printf(" %14.2f", median(ratios));
        row["x_spdlog_sync"] = median(ratios);
      }
      std::printf("\n");
      row["bytes_verified"] = bytes_ok;
      ctx.ok = ctx.ok && lines_ok[k] && bytes_ok;
      ctx.out["throughput_threads"][subjects[k].name][std::to_string(threads)] = row;
      if (threads == 1) ctx.out["throughput"][subjects[k].name] = row;
    }
  }
}

// -------------------------------------------------------------- latency

double tsc_ghz() {
  const auto t0 = std::chrono::steady_clock::now();
  const auto c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto c1 = __rdtsc();
  const auto t1 = std::chrono::steady_clock::now();
  return static_cast<double>(c1 - c0) /
         static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

inline std::uint64_t stamp() {
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

void calibrate_timer(Context& ctx) {
  if (ctx.ghz > 0) return;
  ctx.ghz = tsc_ghz();
  std::vector<double> overhead;
  for (int i = 0; i < 10000; ++i) {
    const auto a = stamp();
    const auto b = stamp();
    overhead.push_back(static_cast<double>(b - a));
  }
  ctx.overhead_cycles = median(overhead);
  ctx.out["machine"]["tsc_ghz"] = ctx.ghz;
  ctx.out["machine"]["timer_overhead_ns"] = ctx.overhead_cycles / ctx.ghz;
}

struct Regime {
  const char* name;
  int bursts;                       // per thread
  int per_burst;                    // timed calls per burst
  std::chrono::milliseconds pause;  // after each burst
  bool evict = false;               // before each burst, push every cache line out (cold)
};

// Pushes the caches out: writes one byte in every line of a buffer twice the
// size of the last-level cache here (32 MiB), and so also most TLB entries.
// What the next call touches then comes from memory: a repeatable version of
// what an idle spell on a busy machine does to a logger's lines.
void evict_caches() {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  thread_local std::unique_ptr<volatile unsigned char[]> buffer(new unsigned char[kBytes]());
  for (std::size_t i = 0; i < kBytes; i += 64)
    buffer[i] = static_cast<unsigned char>(buffer[i] + 1);
  _mm_mfence();  // those writes done, so that the timed call does not wait behind them
}

struct LatencyResult {
  double p50, p75, p90, p99, p999, max;
  std::size_t calls;
  std::uint64_t blocked_waits;  // Hydra async: callers that had to wait (must be 0)
  std::size_t high_water;       // Hydra async: most queue bytes of one thread (an upper bound)
  std::size_t capacity;         // Hydra async: one thread's queue bytes
};

template <typename M>
LatencyResult run_latency(Context& ctx, const Subject& s, int threads, const Regime& regime) {
  const std::string path = ctx.path(std::string(s.name) + "-lat");
  fs::remove(path);
  Setup setup;
  setup.threads = threads;
  // Sustained: every call of a thread must fit in the async queue at once, so
  // what is timed is the caller's work, never a wait for the backend.
  if (regime.pause.count() == 0) {
    setup.in_flight =
        static_cast<std::size_t>(regime.bursts) * static_cast<std::size_t>(regime.per_burst);
  }
  open_subject(s, path, setup);
  std::vector<std::vector<double>> per_thread(static_cast<std::size_t>(threads));
  std::latch ready(threads);
  ThreadsDone done(threads);
  std::vector<std::thread> pool;
  const double ghz = ctx.ghz;
  const double overhead = ctx.overhead_cycles;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& ns = per_thread[static_cast<std::size_t>(t)];
      ns.reserve(static_cast<std::size_t>(regime.bursts) *
                 static_cast<std::size_t>(regime.per_burst));
      thread_start();
      ready.arrive_and_wait();
      std::size_t i = 0;
      for (int b = 0; b < regime.bursts; ++b) {
        if (regime.evict) evict_caches();
        for (int k = 0; k < regime.per_burst; ++k, ++i) {
          const std::uint64_t t0 = stamp();
          log_one<M>(i, k);
          const std::uint64_t t1 = stamp();
          ns.push_back(std::max(0.0, static_cast<double>(t1 - t0) - overhead) / ghz);
        }
        if (regime.pause.count() > 0) std::this_thread::sleep_for(regime.pause);
      }
      done.thread_finished();
    });
  }
  done.collect(s);
  for (auto& th : pool) th.join();
  close_subject(s);
  LatencyResult r{};
  if (s.kind == Kind::hydra && s.async) {
    r.blocked_waits = g_last_metrics.async.blocked_waits;
    for (const auto& q : g_last_metrics.async.threads) {
      r.high_water = std::max(r.high_water, q.high_water);
      r.capacity = std::max(r.capacity, q.capacity);
    }
  }
  std::vector<double> ns;
  for (const auto& v : per_thread) ns.insert(ns.end(), v.begin(), v.end());
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return percentile(ns, q); };
  r.p50 = at(0.50);
  r.p75 = at(0.75);
  r.p90 = at(0.90);
  r.p99 = at(0.99);
  r.p999 = at(0.999);
  r.max = ns.back();
  r.calls = ns.size();
  fs::remove(path);
  return r;
}

struct Message {
  const char* name;
  const char* what;
  LatencyResult (*run)(Context&, const Subject&, int, const Regime&);
};

const Message kMessages[] = {
    {"int_int_double", "int, int, double", run_latency<IntIntDoubleMsg>},
    {"string40", "a 40-character std::string", run_latency<String40Msg>},
    {"static", "a static string, no arguments", run_latency<StaticMsg>},
    {"fields3", "three structured fields (spdlog: the same text, positional)",
     run_latency<FieldsMsg>},
};

void scenario_latency(Context& ctx) {
  calibrate_timer(ctx);
  const auto& o = ctx.opt;
  const Regime drained{"drained", o.bursts, 20, std::chrono::milliseconds(2)};
  const Regime sustained{"sustained", 1, static_cast<int>(o.sustained),
                         std::chrono::milliseconds(0)};
  std::vector<Regime> regimes = {drained};
  std::vector<const Message*> messages = {&kMessages[0]};
  if (!o.quick) {
    regimes.push_back(sustained);
    messages.clear();
    for (const Message& m : kMessages) messages.push_back(&m);
  }
  std::vector<Subject> timed = {kFloor, kBareRing};
  for (const Subject& s : ctx.subjects()) timed.push_back(s);
  std::printf("\nlatency: caller ns per call (TSC %.2f GHz; timer overhead %.1f ns, subtracted)\n",
              ctx.ghz, ctx.overhead_cycles / ctx.ghz);
  for (const Regime& regime : regimes) {
    for (const Message* m : messages) {
      if (regime.pause.count() > 0) {
        std::printf("\n%s: %s; %d bursts of %d calls with %lld ms pauses\n", regime.name, m->what,
                    regime.bursts, regime.per_burst, static_cast<long long>(regime.pause.count()));
      } else {
        std::printf("\n%s: %s; %d back-to-back calls per thread, async queues hold them all\n",
                    regime.name, m->what, regime.per_burst);
      }
      std::printf("%-14s %7s %8s %8s %8s %8s %8s %10s\n", "logger", "threads", "p50", "p75", "p90",
                  "p99", "p99.9", "max");
      for (int threads : o.thread_counts) {
        for (const Subject& s : timed) {
          // The floor does not log and the bare ring carries int, int,
          // double: one row each per regime.
          if ((s.kind == Kind::none || s.kind == Kind::ring) && m != messages.front()) continue;
          const LatencyResult p = m->run(ctx, s, threads, regime);
          std::printf("%-14s %7d %8.0f %8.0f %8.0f %8.0f %8.0f %10.0f", s.name, threads, p.p50,
                      p.p75, p.p90, p.p99, p.p999, p.max);
          if (p.blocked_waits > 0) std::printf("  (%ju blocked waits)", p.blocked_waits);
          std::printf("\n");
          const Json row = {{"p50_ns", p.p50}, {"p75_ns", p.p75},   {"p90_ns", p.p90},
                            {"p99_ns", p.p99}, {"p999_ns", p.p999}, {"max_ns", p.max}};
          const std::string tk = std::to_string(threads);
          if (regime.pause.count() > 0 && m == &kMessages[0]) ctx.out["latency"][s.name][tk] = row;
          if (!o.quick) {
            Json full = row;
            full["calls"] = p.calls;
            if (s.kind == Kind::hydra && s.async) {
              full["blocked_waits"] = p.blocked_waits;
              full["queue_high_water_bytes"] = p.high_water;
              // Sustained: the queue never wrapped, so its high water over the
              // thread's calls is what one record takes in the queue.
              if (regime.pause.count() == 0 && p.high_water < p.capacity && threads == 1) {
                const double per_record =
                    static_cast<double>(p.high_water) / static_cast<double>(regime.per_burst);
                full["queue_bytes_per_record"] = per_record;
                ctx.out["queue_footprint"][s.name]["record_bytes"][m->name] = per_record;
              }
            }
            ctx.out["latency_matrix"][regime.name][m->name][s.name][tk] = full;
          }
        }
      }
    }
  }
}

// A call whose lines all come from memory: before each timed call the thread
// pushes every cache line out (evict_caches), so the time is what the lines
// the call touches cost when none is cached. Free of the neighbours' noise
// that the drained regime's pauses let in, it ranks the loggers by what they
// touch. One thread, int, int, double.
void scenario_cold(Context& ctx) {
  calibrate_timer(ctx);
  const Regime cold{"cold", ctx.opt.bursts / 4, 1, std::chrono::milliseconds(0), true};
  std::printf(
      "\ncold: int, int, double; %d calls, each after the caches are pushed out (64 MiB "
      "written), 1 thread (ns)\n",
      cold.bursts);
  std::printf("%-14s %8s %8s %8s %8s %10s\n", "logger", "p50", "p75", "p90", "p99", "max");
  std::vector<Subject> timed = {kFloor, kBareRing};
  for (const Subject& s : ctx.subjects()) timed.push_back(s);
  for (const Subject& s : timed) {
    const LatencyResult p = run_latency<IntIntDoubleMsg>(ctx, s, 1, cold);
    std::printf("%-14s %8.0f %8.0f %8.0f %8.0f %10.0f\n", s.name, p.p50, p.p75, p.p90, p.p99,
                p.max);
    ctx.out["cold"][s.name] = {{"p50_ns", p.p50}, {"p75_ns", p.p75}, {"p90_ns", p.p90},
                               {"p99_ns", p.p99}, {"max_ns", p.max}, {"calls", p.calls}};
  }
}

// The drained regime with the loggers taking turns: one thread, all loggers
// open at once, and each burst of 20 calls (int, int, double) goes to the
// next logger in a fixed rotation, every burst followed by the 2 ms pause.
// Separate rows meet the machine at different moments, and its noise moves
// a drained p99 by 2-4x from run to run; taking turns, every logger meets
// the same machine, so their ratios hold from run to run. A burst's first
// call (after the pause) is reported apart from the rest: it is where a
// logger pays for the lines it touches.
void scenario_turns(Context& ctx) {
  calibrate_timer(ctx);
  std::vector<Subject> turn = {kFloor, kBareRing};
  for (const Subject& s : ctx.subjects()) {
    if (s.async) turn.push_back(s);  // a synchronous logger's first call waits for its write
  }
  const int bursts = ctx.opt.bursts;
  constexpr int kPerBurst = 20;
  std::printf(
      "\nturns: int, int, double; 1 thread; the loggers take turns, %d bursts of %d calls each "
      "with 2 ms pauses (ns)\n",
      bursts, kPerBurst);
  std::printf("%-14s %8s %8s %8s %8s %8s %8s %8s %8s\n", "logger", "1st p50", "1st p75", "1st p90",
              "1st p99", "rest p50", "rest p99", "p99", "p99.9");
  Setup setup;
  for (const Subject& s : turn) {
    if (s.kind != Kind::none) open_subject(s, ctx.path(std::string(s.name) + "-turns"), setup);
  }
  // [subject][0: a burst's first call, 1: the others]
  std::vector<std::array<std::vector<double>, 2>> ns(turn.size());
  std::thread thread([&] {
    thread_start();
    std::size_t i = 0;
    for (int b = 0; b < bursts * static_cast<int>(turn.size()); ++b) {
      const std::size_t who = static_cast<std::size_t>(b) % turn.size();
      const Kind kind = turn[who].kind;
      for (int k = 0; k < kPerBurst; ++k, ++i) {
        const std::uint64_t t0 = stamp();
        if (kind == Kind::ring) {
          g_ring->log(i, k, 1.5 * static_cast<double>(k));
        } else if (kind == Kind::hydra) {
          IntIntDoubleMsg::hydra(*g_hydra, i, k);
        } else if (kind == Kind::spdlog) {
          IntIntDoubleMsg::spdlog(*g_spdlog, i, k);
        }
        const std::uint64_t t1 = stamp();
        ns[who][k == 0 ? 0 : 1].push_back(
            std::max(0.0, static_cast<double>(t1 - t0) - ctx.overhead_cycles) / ctx.ghz);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  thread.join();
  for (const Subject& s : turn) {
    if (s.kind == Kind::none) continue;
    close_subject(s);
    // Every logger's file holds every call it was given.
    if (s.kind != Kind::ring &&
        !verify(s.name, check_file(ctx.path(std::string(s.name) + "-turns")),
                static_cast<std::size_t>(bursts) * kPerBurst)) {
      ctx.ok = false;
    }
  }
  for (std::size_t w = 0; w < turn.size(); ++w) {
    auto& [first, rest] = ns[w];
    std::vector<double> all = first;
    all.insert(all.end(), rest.begin(), rest.end());
    for (auto* v : {&first, &rest, &all}) std::sort(v->begin(), v->end());
    const auto& at = percentile;
    std::printf("%-14s %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f\n", turn[w].name,
                at(first, .5), at(first, .75), at(first, .9), at(first, .99), at(rest, .5),
                at(rest, .99), at(all, .99), at(all, .999));
    ctx.out["turns"][turn[w].name] = {{"first_p50_ns", at(first, .5)},
                                      {"first_p75_ns", at(first, .75)},
                                      {"first_p90_ns", at(first, .9)},
                                      {"first_p99_ns", at(first, .99)},
                                      {"rest_p50_ns", at(rest, .5)},
                                      {"rest_p99_ns", at(rest, .99)},
                                      {"p99_ns", at(all, .99)},
                                      {"p999_ns", at(all, .999)},
                                      {"calls", all.size()}};
  }
}

// -------------------------------------------------------------- formats

void scenario_formats(Context& ctx) {
  const auto& o = ctx.opt;
  struct Row {
    Subject subject;
    std::string format;
    bool fields;
    std::vector<double> secs;
    Sample last{};
    bool ok = true;
  };
  std::vector<Row> rows;
  for (const Subject& s : ctx.subjects()) {
    if (s.kind == Kind::spdlog) {
      rows.push_back({s, "text", false, {}});
      continue;
    }
    for (const char* format : {"text", "json", "logfmt"}) {
      for (bool fields : {false, true}) rows.push_back({s, format, fields, {}});
    }
  }
  std::printf(
      "\nformats: %zu records from 1 thread, median of %d runs (fields: the line's three "
      "values as named placeholders)\n",
      o.records, o.runs);
  std::printf("%-14s %-7s %-6s %14s %10s %10s\n", "logger", "format", "fields", "records/s", "MB/s",
              "bytes/line");
  for (int r = 0; r < o.runs; ++r) {
    for (Row& row : rows) {
      Setup setup;
      setup.format = row.format;
      const std::string path = ctx.path(std::string(row.subject.name) + "-fmt");
      const Sample s = row.fields
                           ? run_throughput<LineFieldsMsg>(row.subject, path, 1, o.records, setup)
                           : run_throughput<LineMsg>(row.subject, path, 1, o.records, setup);
      const std::string what = std::string(row.subject.name) + " " + row.format;
      if (!verify(what.c_str(), s.file, o.records)) row.ok = false;
      if (row.format == "json" && r == 0) {  // the JSON Lines must parse
        std::ifstream in(path);
        std::string line;
        std::getline(in, line);
        const Json parsed = Json::parse(line, nullptr, false);
        if (parsed.is_discarded() || !parsed.contains("message") ||
            parsed.contains("fields") != row.fields) {
          std::fprintf(stderr, "%s: unexpected JSON line: %s\n", what.c_str(), line.c_str());
          row.ok = false;
        }
      }
      row.secs.push_back(s.seconds);
      row.last = s;
      fs::remove(path);
    }
  }
  const double n = static_cast<double>(o.records);
  for (const Row& row : rows) {
    const double t = median(row.secs);
    std::printf("%-14s %-7s %-6s %14.0f %10.1f %10.1f\n", row.subject.name, row.format.c_str(),
                row.fields ? "yes" : "no", n / t,
                static_cast<double>(row.last.file.bytes) / t / 1e6,
                static_cast<double>(row.last.file.bytes) / n);
    ctx.out["formats"][row.subject.name][row.format][row.fields ? "fields" : "plain"] =
        throughput_row(n, row.last, t, row.ok);
    ctx.ok = ctx.ok && row.ok;
  }
}

void scenario_modes(Context& ctx) {
#if !defined(HYDRA_BENCH_WITH_CONFIG)
  std::printf("\nmodes: skipped (built without the config module)\n");
  (void)ctx;
#else
  const auto& o = ctx.opt;
  calibrate_timer(ctx);
  const Subject rows[] = {
      {"default", Kind::hydra, false},
      {"high_performance", Kind::hydra, true, "high_performance"},
      {"bare_metal", Kind::hydra, true, "bare_metal"},
      {"spdlog_sync", Kind::spdlog, false},
  };
  const Regime drained{"drained", o.bursts, 20, std::chrono::milliseconds(2)};
  std::printf(
      "\nmodes: the performance presets against the default configuration; %zu records "
      "from 1 thread (median of %d runs); drained latency, int+int+double, %d bursts\n",
      o.records, o.runs, o.bursts);
  std::printf("%-18s %14s %8s %10s %9s %9s\n", "configuration", "records/s", "vs dflt",
              "bytes/line", "p50 ns", "p99 ns");
  double default_rate = 0;
  for (const Subject& s : rows) {
    std::vector<double> secs;
    Sample last{};
    bool ok = true;
    const std::string path = ctx.path(std::string(s.name) + "-mode");
    for (int r = 0; r < o.runs; ++r) {
      last = run_throughput<LineMsg>(s, path, 1, o.records);
      ok = verify(s.name, last.file, o.records) && ok;
      secs.push_back(last.seconds);
      fs::remove(path);
    }
    const double n = static_cast<double>(o.records);
    const double rate = n / median(secs);
    if (default_rate == 0) default_rate = rate;
    const LatencyResult lat = run_latency<IntIntDoubleMsg>(ctx, s, 1, drained);
    std::printf("%-18s %14.0f %8.2f %10.1f %9.0f %9.0f\n", s.name, rate, rate / default_rate,
                static_cast<double>(last.file.bytes) / n, lat.p50, lat.p99);
    Json& j = ctx.out["modes"][s.name];
    j = throughput_row(n, last, median(secs), ok);
    j["over_default"] = rate / default_rate;
    j["latency_drained_p50_ns"] = lat.p50;
    j["latency_drained_p99_ns"] = lat.p99;
    ctx.ok = ctx.ok && ok;
  }
#endif
}

void scenario_growth(Context& ctx) {
  calibrate_timer(ctx);
  // Every row's queues come fresh from the kernel. Otherwise glibc raises
  // its mmap threshold each time a row frees its queues, and a later row's
  // queues reuse those pages, already faulted in: the caller row showed no
  // page fault at all once it came after two rows, 227 when it came after
  // one. (This stays set for any scenario after this one.)
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  const std::size_t bursts = ctx.opt.quick ? 20 : 100;
  constexpr std::size_t kBurst = 4000;
  const std::size_t calls = bursts * kBurst;
  std::printf(
      "\ngrowth: Hydra async, overflow grow from a 64 KiB queue, %zu bursts of %zu calls (each "
      "timed, int+int+double) with 2 ms pauses, 1 thread\n",
      bursts, kBurst);
  std::printf("%-22s %8s %8s %8s %9s %10s %6s %9s %7s\n", "next queue made by", "p50", "p99",
              "p99.9", "p99.99", "max", "grows", "prepared", "faults");
  // The control row: the same calls into a queue big enough never to grow,
  // so that what the machine itself adds (descheduling, interrupts) is seen
  // beside what growth adds.
  // The "no_prealloc" row skips preallocate(): the thread's first flood finds
  // only the next queue made, as in a program that does not call it.
  struct Row {
    const char* key;  // in the JSON output, and the file's and check's names
    const char* who;  // in the table
    std::size_t queue_kib;
    bool prepared;
    bool preallocated;
  };
  for (const Row& row : {Row{"backend", "backend (default)", 64, true, true},
                         Row{"no_prealloc", "backend, no prealloc", 64, true, false},
                         Row{"caller", "caller", 64, false, true},
                         Row{"none", "no growth (1 MiB)", 1024, true, true}}) {
    const std::string name = std::string("growth-") + row.key;
    const std::string path = ctx.path(name);
    fs::remove(path);
    hydra::LoggerConfig cfg;
    cfg.mode = hydra::LoggerMode::async;
    cfg.async.queue_capacity = row.queue_kib * 1024;
    cfg.async.overflow = hydra::OverflowPolicy::grow;
    cfg.async.grow_limit = std::size_t{1} << 30;
    cfg.async.prepare_growth = row.prepared;
    auto dest = hydra::file(path);
    dest.flush_interval = std::chrono::milliseconds(0);
    cfg.layers["APP"].destinations = {dest};
    // Touched before the calls, so that the caller's page faults counted
    // below are the logger's alone.
    std::vector<double> ns(calls, 0.0);
    hydra::AsyncMetrics m;
    long faults = 0;
    {
      hydra::Logger log(cfg);
      if (row.preallocated) {
        log.preallocate();
      } else {
        // The thread's queue and the backend's first look at it, as after
        // a program's first record.
        log.info("start");
        log.flush();
      }
      rusage before{};
      ::getrusage(RUSAGE_THREAD, &before);
      for (std::size_t i = 0; i < calls; ++i) {
        const std::uint64_t t0 = stamp();
        IntIntDoubleMsg::hydra(log, i, static_cast<int>(i & 1023));
        const std::uint64_t t1 = stamp();
        ns[i] = std::max(0.0, static_cast<double>(t1 - t0) - ctx.overhead_cycles) / ctx.ghz;
        if ((i + 1) % kBurst == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      rusage after{};
      ::getrusage(RUSAGE_THREAD, &after);
      faults = after.ru_minflt - before.ru_minflt + after.ru_majflt - before.ru_majflt;
      log.flush();
      m = log.metrics().async;
    }
    const bool ok = verify(name.c_str(), check_file(path), calls + (row.preallocated ? 0 : 1));
    ctx.ok = ctx.ok && ok;
    fs::remove(path);
    std::sort(ns.begin(), ns.end());
    auto at = [&](double q) { return percentile(ns, q); };
    const char* who = row.who;
    std::printf("%-22s %8.0f %8.0f %8.0f %9.0f %10.0f %6llu %9llu %7ld\n", who, at(0.5), at(0.99),
                at(0.999), at(0.9999), ns.back(), static_cast<unsigned long long>(m.queue_grows),
                static_cast<unsigned long long>(m.grows_prepared), faults);
    ctx.out["growth"][row.key] = {{"p50_ns", at(0.5)},
                                  {"p99_ns", at(0.99)},
                                  {"p999_ns", at(0.999)},
                                  {"p9999_ns", at(0.9999)},
                                  {"max_ns", ns.back()},
                                  {"queue_grows", m.queue_grows},
                                  {"grows_prepared", m.grows_prepared},
                                  {"caller_page_faults", faults},
                                  {"lines_verified", ok}};
  }
}

// Hydra's throughput with a feature off and on (`turn_on` sets it in a
// Setup), from 1 thread, for each Hydra logger, on the plain line and, with
// `with_fields`, on the line with named fields. Each run times off and on
// back to back, in alternating order, and the ratio shown is the median of
// those pairs: a noisy spell on this shared machine then slows both sides of
// a pair, or spoils one pair only. Results go to ctx.out[scenario][logger]
// (and ["plain"|"fields"] with_fields).
void run_on_off(Context& ctx, const char* scenario, const std::string& heading, bool with_fields,
                void (*turn_on)(Setup&)) {
  const auto& o = ctx.opt;
  struct Row {
    Subject subject;
    bool fields;
    std::vector<double> off, on;
    Sample last_off{}, last_on{};
    bool ok = true;
  };
  std::vector<Row> rows;
  for (const Subject& s : ctx.subjects()) {
    if (s.kind != Kind::hydra) continue;
    rows.push_back({s, false, {}, {}});
    if (with_fields) rows.push_back({s, true, {}, {}});
  }
  std::printf(
      "\n%s: %zu records from 1 thread, median of %d runs, %s (on/off: the median of "
      "each run's off/on pair)\n",
      scenario, o.records, o.runs, heading.c_str());
  std::printf("%-14s %-6s %14s %14s %8s\n", "logger", "fields", "off rec/s", "on rec/s", "on/off");
  for (int r = 0; r < o.runs; ++r) {
    for (Row& row : rows) {
      for (bool on : {r % 2 == 1, r % 2 == 0}) {
        Setup setup;
        if (on) turn_on(setup);
        const std::string path = ctx.path(std::string(row.subject.name) + "-" + scenario);
        const Sample s = row.fields
                             ? run_throughput<LineFieldsMsg>(row.subject, path, 1, o.records, setup)
                             : run_throughput<LineMsg>(row.subject, path, 1, o.records, setup);
        const std::string what =
            std::string(row.subject.name) + " " + scenario + (on ? " on" : " off");
        if (!verify(what.c_str(), s.file, o.records)) row.ok = false;
        (on ? row.on : row.off).push_back(s.seconds);
        (on ? row.last_on : row.last_off) = s;
        fs::remove(path);
      }
    }
  }
  const double n = static_cast<double>(o.records);
  for (const Row& row : rows) {
    const double off = median(row.off), on = median(row.on);
    std::vector<double> pairs;
    for (std::size_t k = 0; k < row.off.size() && k < row.on.size(); ++k) {
      pairs.push_back(row.off[k] / row.on[k]);
    }
    const double ratio = median(pairs);
    std::printf("%-14s %-6s %14.0f %14.0f %8.2f\n", row.subject.name, row.fields ? "yes" : "no",
                n / off, n / on, ratio);
    Json& j = with_fields ? ctx.out[scenario][row.subject.name][row.fields ? "fields" : "plain"]
                          : ctx.out[scenario][row.subject.name];
    j["off"] = throughput_row(n, row.last_off, off, row.ok);
    j["on"] = throughput_row(n, row.last_on, on, row.ok);
    j["on_over_off"] = ratio;  // the median of the runs' pairs
    ctx.ok = ctx.ok && row.ok;
  }
}

// The cost of the protect stage: redaction (default detectors) on against
// off, on a clean line with and without fields.
void scenario_redaction(Context& ctx) {
#if !defined(HYDRA_BENCH_WITH_PROTECT)
  std::printf("\nredaction: skipped (built without the protect module)\n");
  (void)ctx;
#else
  run_on_off(ctx, "redaction", "default detectors on a clean line", true,
             [](Setup& s) { s.redact = true; });
#endif
}

// The cost of plugins: one no-op filter plus the built-in `rates` analytics
// against none, in both modes.
void scenario_plugins(Context& ctx) {
  run_on_off(ctx, "plugins", "a no-op filter plus the rates analytics", false,
             [](Setup& s) { s.plugins = true; });
}

// --------------------------------------------------- memory and start-up
// Both run hydra-bench again as a child (--child ROLE, hidden): a fresh
// process per measurement, so that one scenario's memory or warm caches do
// not reach the next.

std::vector<std::string> child_args(const Context& ctx, const std::string& role, const Subject& s,
                                    const std::string& path, int threads = 1,
                                    std::size_t records = 0) {
  return {ctx.self,
          "--child",
          role,
          "--child-logger",
          s.name,
          "--child-path",
          path,
          "--child-threads",
          std::to_string(threads),
          "--records",
          std::to_string(records)};
}

Json parse_child(const ChildResult& r, const char* what) {
  if (!child_ok(r)) {
    std::fprintf(stderr, "%s: child failed (status %d): %s\n", what, r.status, r.out.c_str());
    return nullptr;
  }
  Json j = Json::parse(r.out, nullptr, false);
  if (j.is_discarded()) {
    std::fprintf(stderr, "%s: child wrote %s\n", what, r.out.c_str());
    return nullptr;
  }
  return j;
}

// The start-up rows, and the "one_record" memory rows from the same children.
void scenario_startup(Context& ctx) {
  const int reps = ctx.opt.reps > 0 ? ctx.opt.reps : (ctx.opt.quick ? 5 : 25);
  std::vector<Subject> rows = {kFloor};
  for (const Subject& s : ctx.subjects()) rows.push_back(s);
  std::vector<std::vector<double>> ms(rows.size()), rss(rows.size()), maxrss(rows.size());
  for (int r = 0; r < reps; ++r) {
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const std::string path = ctx.path(std::string(rows[k].name) + "-start");
      fs::remove(path);
      const ChildResult c = run_child(child_args(ctx, "startup", rows[k], path), false);
      const Json j = parse_child(c, rows[k].name);
      if (j.is_null()) {
        ctx.ok = false;
        continue;
      }
      ms[k].push_back(static_cast<double>(j["t_ns"].get<std::int64_t>() - c.t_spawn) / 1e6);
      rss[k].push_back(j["vm_hwm_kb"].get<double>());
      maxrss[k].push_back(static_cast<double>(c.usage.ru_maxrss));
    }
  }
  std::printf(
      "\nstartup: ms from spawning a process to its first record in the file (construct, "
      "log one record, flush), median of %d\n",
      reps);
  std::printf("%-14s %10s %10s %10s %14s\n", "logger", "median", "min", "max", "peak RSS kB");
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (ms[k].empty()) continue;
    const double med = median(ms[k]);
    std::printf("%-14s %10.2f %10.2f %10.2f %14.0f\n", rows[k].name, med,
                *std::min_element(ms[k].begin(), ms[k].end()),
                *std::max_element(ms[k].begin(), ms[k].end()), median(rss[k]));
    ctx.out["startup"][rows[k].name] = {{"median_ms", med},
                                        {"min_ms", *std::min_element(ms[k].begin(), ms[k].end())},
                                        {"runs", ms[k].size()}};
    ctx.out["memory"][rows[k].name]["one_record"] = {{"peak_rss_kb", median(rss[k])},
                                                     {"ru_maxrss_kb", median(maxrss[k])}};
  }
}

void scenario_memory(Context& ctx) {
  const auto& o = ctx.opt;
  const int reps = o.quick ? 1 : 3;
  const std::size_t records = o.quick ? std::min<std::size_t>(o.records, 200'000) : o.records;
  struct Workload {
    const char* name;
    int threads;
  };
  std::vector<Workload> workloads = {{"throughput_1t", 1}, {"throughput_2t", 2}};
  const auto subjects = ctx.subjects();
  std::printf("\nmemory: peak RSS (kB) of a child process writing %zu records, median of %d\n",
              records, reps);
  std::printf("%-14s %-14s %12s\n", "logger", "workload", "peak RSS");
  for (const Workload& w : workloads) {
    for (const Subject& s : subjects) {
      std::vector<double> rss, maxrss;
      Json last;
      for (int r = 0; r < reps; ++r) {
        const std::string path = ctx.path(std::string(s.name) + "-mem");
        const ChildResult c =
            run_child(child_args(ctx, "throughput", s, path, w.threads, records), false);
        fs::remove(path);
        const Json j = parse_child(c, s.name);
        if (j.is_null()) {
          ctx.ok = false;
          continue;
        }
        rss.push_back(j["vm_hwm_kb"].get<double>());
        maxrss.push_back(static_cast<double>(c.usage.ru_maxrss));
        last = j;
      }
      if (rss.empty()) continue;
      std::printf("%-14s %-14s %12.0f\n", s.name, w.name, median(rss));
      ctx.out["memory"][s.name][w.name] = {{"peak_rss_kb", median(rss)},
                                           {"ru_maxrss_kb", median(maxrss)}};
      if (w.threads == 2 && s.async) {
        Json q;
        if (s.kind == Kind::hydra) {
          q = last["queues"];
        } else {
          q = {{"kind", "one queue shared by all threads"},
               {"slots", kSpdlogDefaultSlots},
               {"slot_bytes", sizeof(spdlog::details::async_msg)},
               {"total_bytes", kSpdlogDefaultSlots * sizeof(spdlog::details::async_msg)}};
        }
        ctx.out["queue_footprint"][s.name].update(q);
      }
    }
  }
  std::printf("\nqueue footprint (2 threads, default settings)\n");
  if (ctx.out.contains("queue_footprint")) {
    for (const auto& [name, q] : ctx.out["queue_footprint"].items()) {
      if (q.contains("per_thread_capacity_bytes")) {
        std::printf("%-14s %zu B per thread (%zu threads), high water <= %zu B\n", name.c_str(),
                    q["per_thread_capacity_bytes"].get<std::size_t>(),
                    q["threads"].get<std::size_t>(), q["high_water_bytes"].get<std::size_t>());
      } else if (q.contains("total_bytes")) {
        std::printf("%-14s %zu B in one shared queue (%zu slots of %zu B)\n", name.c_str(),
                    q["total_bytes"].get<std::size_t>(), q["slots"].get<std::size_t>(),
                    q["slot_bytes"].get<std::size_t>());
      }
      if (q.contains("record_bytes")) {
        std::printf("%-14s bytes per record in the queue:", "");
        for (const auto& [msg, bytes] : q["record_bytes"].items())
          std::printf(" %s %.0f", msg.c_str(), bytes.get<double>());
        std::printf("\n");
      }
    }
  }
}

// The child's side of --child ROLE. Writes one JSON object to stdout.
int child_main(const Options& o) {
  const Subject* s = subject_named(o.child_logger);
  if (s == nullptr) return 64;
  Json out;
  if (o.child == "startup") {
    if (s->kind != Kind::none) {
      open_subject(*s, o.child_path, {});
      log_one<LineMsg>(0, 0);
      if (g_hydra) g_hydra->flush();
      if (g_spdlog) g_spdlog->flush();
      // Until the file holds the whole line (spdlog's async flush is queued).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (;;) {
        struct stat st {};
        if (::stat(o.child_path.c_str(), &st) == 0 && st.st_size > 0) {
          const FileCheck f = check_file(o.child_path);
          if (f.lines == 1 && f.ends_with_newline) break;
        }
        if (std::chrono::steady_clock::now() > deadline) return 1;
        std::this_thread::yield();
      }
    }
    out["t_ns"] = monotonic_ns();
    if (s->kind != Kind::none) close_subject(*s);
  } else if (o.child == "throughput") {
    const Sample smp = run_throughput<LineMsg>(*s, o.child_path, o.child_threads, o.records);
    out["lines"] = smp.file.lines;
    if (s->kind == Kind::hydra && s->async) {
      std::size_t cap = 0, high = 0;
      for (const auto& q : g_last_metrics.async.threads) {
        cap = std::max(cap, q.capacity);
        high = std::max(high, q.high_water);
      }
      out["queues"] = {{"kind", "one queue per logging thread"},
                       {"threads", g_last_metrics.async.threads.size()},
                       {"per_thread_capacity_bytes", cap},
                       {"high_water_bytes", high}};
    }
  } else {
    return 64;
  }
  out["vm_hwm_kb"] = vm_hwm_kb();
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// -------------------------------------------------------------- compile

#ifndef HYDRA_BENCH_CXX
#define HYDRA_BENCH_CXX ""
#define HYDRA_BENCH_HYDRA_FLAGS ""
#define HYDRA_BENCH_SPDLOG_FLAGS ""
#define HYDRA_BENCH_HYDRA_INCLUDE ""
#endif

// One translation unit with `statements` distinct log statements: five shapes
// in turn (one int and a double, a string, three values, no argument, a
// padded double), each with its own text. `named`: Hydra's named
// placeholders (structured fields) instead of {}.
std::string generate_tu(bool hydra, bool named, int statements) {
  std::string src;
  src += hydra ? "#include <hydra/hydra.hpp>\n#include <string>\n"
               : "#include <spdlog/spdlog.h>\n#include <string>\n";
  const char* logger = hydra ? "hydra::Logger& log" : "spdlog::logger& log";
  const int per_function = 50;
  for (int i = 0; i < statements; ++i) {
    if (i % per_function == 0) {
      if (i > 0) src += "}\n";
      src += "void statements_" + std::to_string(i / per_function) + "(" + logger +
             ", int a, double b, const std::string& s) {\n";
    }
    const std::string n = std::to_string(i);
    auto ph = [&](const char* name, const char* spec = "") {
      return std::string("{") + (named ? name : "") + spec + "}";
    };
    switch (i % 5) {
      case 0:
        src += "  log.info(\"event " + n + " count " + ph("count") + " ratio " +
               ph("ratio", ":.3f") + "\", a, b);\n";
        break;
      case 1:
        src += "  log.warn" + std::string(hydra ? "ing" : "") + "(\"event " + n + " user " +
               ph("user") + " failed\", s);\n";
        break;
      case 2:
        src += "  log.error(\"event " + n + " code " + ph("code") + " at " + ph("where") +
               " tries " + ph("tries") + "\", a, s, a + " + n + ");\n";
        break;
      case 3: src += "  log.info(\"event " + n + " static text\");\n"; break;
      default:
        src += "  log.debug(\"event " + n + " value " + ph("value", ":>12.4f") + "\", b);\n";
        break;
    }
  }
  if (statements > 0) src += "}\n";
  return src;
}

void scenario_compile(Context& ctx) {
  const std::string cxx = HYDRA_BENCH_CXX;
  if (cxx.empty() || ::access(cxx.c_str(), X_OK) != 0 ||
      !fs::exists(fs::path(HYDRA_BENCH_HYDRA_INCLUDE) / "hydra" / "hydra.hpp")) {
    std::printf(
        "\ncompile: skipped: the compiler (%s) or Hydra's headers (%s) recorded at build "
        "time are not here\n",
        cxx.empty() ? "none" : cxx.c_str(), HYDRA_BENCH_HYDRA_INCLUDE);
    ctx.out["compile"] = {{"skipped", "compiler or headers not available"}};
    return;
  }
  const int reps = ctx.opt.reps > 0 ? ctx.opt.reps : 3;
  const int statements = 500;
  struct Unit {
    const char* name;
    bool hydra;
    bool named;
    int statements;
    const char* flags = "";  // besides the library's
  };
  const Unit units[] = {
      {"hydra_include", true, false, 0},
      {"spdlog_include", false, false, 0},
      {"hydra_500", true, false, statements},
      {"spdlog_500", false, false, statements},
      {"hydra_named_500", true, true, statements},
      {"hydra_inline_500", true, false, statements, "-DHYDRA_INLINE_CALLS=1"},
  };
  const std::string common = "-std=c++20 -O2";
  std::printf(
      "\ncompile: one translation unit, %s %s -c, median of %d (CPU s = user + sys of "
      "the compiler)\n",
      cxx.c_str(), common.c_str(), reps);
  std::printf("%-16s %10s %8s %8s %12s\n", "unit", "statements", "wall s", "CPU s", "object B");
  for (const Unit& u : units) {
    const fs::path src = ctx.dir / (std::string(u.name) + ".cpp");
    const fs::path obj = ctx.dir / (std::string(u.name) + ".o");
    {
      std::ofstream f(src);
      f << generate_tu(u.hydra, u.named, u.statements);
    }
    std::vector<std::string> args = {cxx};
    for (const auto& a : split(common, ' ')) args.push_back(a);
    for (const auto& a : split(u.hydra ? HYDRA_BENCH_HYDRA_FLAGS : HYDRA_BENCH_SPDLOG_FLAGS, ' '))
      args.push_back(a);
    for (const auto& a : split(u.flags, ' ')) args.push_back(a);
    args.insert(args.end(), {"-c", src.string(), "-o", obj.string()});
    std::vector<double> wall, cpu;
    for (int r = 0; r < reps; ++r) {
      fs::remove(obj);
      const ChildResult c = run_child(args, true);
      if (!child_ok(c)) {
        std::fprintf(stderr, "compile %s failed:\n%s\n", u.name, c.out.c_str());
        ctx.ok = false;
        break;
      }
      wall.push_back(c.wall_s);
      cpu.push_back(cpu_seconds(c.usage));
    }
    if (wall.empty()) continue;
    const auto bytes = fs::file_size(obj);
    std::printf("%-16s %10d %8.2f %8.2f %12ju\n", u.name, u.statements, median(wall), median(cpu),
                static_cast<std::uintmax_t>(bytes));
    ctx.out["compile"][u.name] = {{"statements", u.statements},
                                  {"wall_s", median(wall)},
                                  {"cpu_s", median(cpu)},
                                  {"object_bytes", bytes}};
  }
  ctx.out["compile"]["command"] = cxx + " " + common + " -c";
}

// ------------------------------------------------------------ scenarios

struct Scenario {
  const char* name;
  bool in_quick;
  const char* what;
  void (*run)(Context&);
};

const Scenario kScenarios[] = {
    {"throughput", true, "records/s and MB/s, 1 and 2 threads, output verified",
     scenario_throughput},
    {"latency", true, "caller ns per call: drained and sustained regimes, four messages",
     scenario_latency},
    {"formats", true, "Hydra throughput in text, JSON Lines, logfmt, with and without fields",
     scenario_formats},
    {"redaction", true, "Hydra throughput with the protect stage (redaction) on and off",
     scenario_redaction},
    {"plugins", true, "Hydra throughput with a no-op filter plus the rates analytics, and without",
     scenario_plugins},
    {"memory", true, "peak RSS per workload in a child process; async queue footprint",
     scenario_memory},
    {"startup", true, "process spawn to first record in the file", scenario_startup},
    {"compile", false, "compiling 500 log statements, Hydra against spdlog", scenario_compile},
    {"modes", false, "the high_performance and bare_metal presets against the default",
     scenario_modes},
    {"growth", false, "caller latency while an async queue grows: backend-made vs caller-made",
     scenario_growth},
    {"cold", false, "one call with every cache line pushed out first: what its lines cost",
     scenario_cold},
    {"turns", false, "drained latency with the async loggers taking turns on one thread",
     scenario_turns},
};

std::string self_path(const char* argv0) {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

std::string today() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--quick] [--json FILE] [--scenarios NAME[,NAME...]]\n"
               "       [--only LOGGER[,LOGGER...]] [--records N] [--runs R] [--bursts B]\n"
               "       [--sustained N] [--reps R] [--list]\n",
               argv0);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool list = false;
  bool quick_records = false, quick_runs = false, quick_bursts = false;
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    const bool has_value = i + 1 < argc;
    if (opt == "--quick") {
      o.quick = true;
    } else if (opt == "--list") {
      list = true;
    } else if (opt == "--records" && has_value) {
      o.records = std::stoull(argv[++i]);
      quick_records = true;
    } else if (opt == "--runs" && has_value) {
      o.runs = std::stoi(argv[++i]);
      quick_runs = true;
    } else if (opt == "--bursts" && has_value) {
      o.bursts = std::stoi(argv[++i]);
      quick_bursts = true;
    } else if (opt == "--sustained" && has_value) {
      o.sustained = std::stoull(argv[++i]);
    } else if (opt == "--reps" && has_value) {
      o.reps = std::stoi(argv[++i]);
    } else if (opt == "--json" && has_value) {
      o.json_path = argv[++i];
    } else if (opt == "--only" && has_value) {
      o.only = std::string(",") + argv[++i] + ",";
    } else if (opt == "--scenarios" && has_value) {
      o.scenarios = std::string(",") + argv[++i] + ",";
    } else if (opt == "--child" && has_value) {
      o.child = argv[++i];
    } else if (opt == "--child-logger" && has_value) {
      o.child_logger = argv[++i];
    } else if (opt == "--child-path" && has_value) {
      o.child_path = argv[++i];
    } else if (opt == "--child-threads" && has_value) {
      o.child_threads = std::stoi(argv[++i]);
    } else {
      return usage(argv[0]);
    }
  }
  if (!o.child.empty()) return child_main(o);
  if (list) {
    for (const Scenario& s : kScenarios)
      std::printf("%-12s %s%s\n", s.name, s.what, s.in_quick ? "" : " (not in --quick)");
    return 0;
  }
  if (o.quick) {
    if (!quick_records) o.records = 200'000;
    if (!quick_runs) o.runs = 3;
    if (!quick_bursts) o.bursts = 500;
    o.thread_counts = {1};
  }

  Context ctx;
  ctx.opt = o;
  ctx.self = self_path(argv[0]);
  std::string pattern = (fs::temp_directory_path() / "hydra-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return 1;
  ctx.dir = pattern;

  utsname un{};
  ::uname(&un);
  ctx.out["machine"] = {
      {"cores", std::thread::hardware_concurrency()},
      {"cpu", read_first_line("/proc/cpuinfo", "model name")},
      {"memory", read_first_line("/proc/meminfo", "MemTotal")},
      {"kernel", std::string(un.sysname) + " " + un.release},
      {"compiler", std::string("g++ ") + __VERSION__},
      {"spdlog", std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) + "." +
                     std::to_string(SPDLOG_VER_PATCH)},
      {"fmt", FMT_VERSION},
      {"date", today()},
      {"quick", o.quick},
      {"records", o.records},
      {"runs", o.runs},
      {"bursts", o.bursts},
      {"sustained_calls", o.sustained},
      {"inline_calls", kInlineCalls}};
  if (kInlineCalls) {
    std::printf(
        "hydra-bench-inline: Hydra's calls compiled into their call sites "
        "(HYDRA_INLINE_CALLS)\n");
  }

  for (const Scenario& s : kScenarios) {
    const bool picked = o.scenarios.empty() ? (s.in_quick || !o.quick)
                                            : o.scenarios.find("," + std::string(s.name) + ",") !=
                                                  std::string::npos;
    if (!picked) continue;
    const auto t0 = std::chrono::steady_clock::now();
    s.run(ctx);
    std::fflush(stdout);
    ctx.out["seconds"][s.name] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  fs::remove_all(ctx.dir);
  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    f << ctx.out.dump(2) << '\n';
    if (!f) {
      std::fprintf(stderr, "hydra-bench: cannot write %s\n", o.json_path.c_str());
      return 1;
    }
  }
  if (!ctx.ok) std::fprintf(stderr, "hydra-bench: FAILED (see the messages above)\n");
  return ctx.ok ? 0 : 1;
}
