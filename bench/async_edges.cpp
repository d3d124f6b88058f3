// hydra-async-edges: async mode at its edges, as numbers (issue 17, items 2
// and 3). Each scenario prints what a user would check by hand:
//
//   drop-burst: one thread logs a burst of --records calls into a small
//     queue under overflow = drop, then flushes (and later destroys the
//     logger). Drops counted in metrics() against drops reported in-band
//     (the "N records dropped" records' `dropped` fields), and written +
//     reported against logged.
//   drop-exit: --threads-exit threads each log a burst of --records calls
//     under drop and exit; the main thread joins them and flushes. The same
//     counts.
//   shutdown: --threads-shutdown threads log continuously (overflow =
//     block, the default queue) for --warmup-ms; then shutdown() is timed
//     while they go on logging, with how many records were written during
//     it. The threads stop when shutdown() returns, or --cap-s seconds after
//     it began (so that a shutdown that never ends still ends the program;
//     the row then says "capped").
//
//   hydra-async-edges [--scenarios drop-burst,drop-exit,shutdown]
//                     [--records N] [--queue BYTES] [--threads-exit N]
//                     [--threads-shutdown N] [--warmup-ms N] [--cap-s N]
//
// Records go to a sink that counts them (after the text formatter), so that
// the counts are exact and the disk is not what is measured.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <hydra/hydra.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Counts records, and the drop reports among them with their counts.
class CountingSink final : public hydra::Sink {
 public:
  void write(const hydra::Record& record, std::string_view /*bytes*/) override {
    if (record.message.starts_with("hydra: ") && record.message.find(" dropped ") != npos) {
      for (const hydra::Field& f : record.fields) {
        const auto* count = std::get_if<std::uint64_t>(&f.value.storage());
        if (f.key == "dropped" && count != nullptr) {
          reported_.fetch_add(*count, std::memory_order_relaxed);
          reports_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      return;
    }
    written_.fetch_add(1, std::memory_order_relaxed);
  }
  void flush() override {}

  std::uint64_t written() const { return written_.load(); }
  std::uint64_t reported() const { return reported_.load(); }
  std::uint64_t reports() const { return reports_.load(); }

 private:
  static constexpr auto npos = std::string_view::npos;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> reported_{0};
  std::atomic<std::uint64_t> reports_{0};
};

struct Options {
  std::string scenarios = ",drop-burst,drop-exit,shutdown,";
  std::uint64_t records = 100'000;
  std::size_t queue = 16 * 1024;
  int threads_exit = 16;
  int threads_shutdown = 8;
  int warmup_ms = 1000;
  int cap_s = 60;
};

hydra::LoggerConfig config_for(std::shared_ptr<hydra::Sink> sink, hydra::AsyncOptions async) {
  hydra::LoggerConfig cfg;
  cfg.name = "edges";
  cfg.mode = hydra::LoggerMode::async;
  cfg.async = async;
  cfg.layers["APP"].destinations = {hydra::to_sink(std::move(sink), "text")};
  return cfg;
}

void print_drop_counts(const char* when, std::uint64_t logged, const CountingSink& sink,
                       std::uint64_t dropped) {
  const std::uint64_t written = sink.written();
  const std::uint64_t reported = sink.reported();
  std::printf(
      "  %-18s logged %llu, written %llu, dropped (metrics) %llu, reported in-band %llu in %llu "
      "record(s), unreported %lld; written + reported = %llu (%s)\n",
      when, static_cast<unsigned long long>(logged), static_cast<unsigned long long>(written),
      static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(reported),
      static_cast<unsigned long long>(sink.reports()),
      static_cast<long long>(dropped) - static_cast<long long>(reported),
      static_cast<unsigned long long>(written + reported),
      written + reported == logged ? "== logged" : "!= logged");
}

void drop_scenario(const Options& o, int threads) {
  const std::uint64_t per_thread = o.records;
  const std::uint64_t logged = per_thread * static_cast<std::uint64_t>(threads);
  std::printf("%s: %d thread(s) x %llu records, queue %zu bytes, overflow drop\n",
              threads == 1 ? "drop-burst" : "drop-exit", threads,
              static_cast<unsigned long long>(per_thread), o.queue);
  auto sink = std::make_shared<CountingSink>();
  hydra::AsyncOptions async;
  async.queue_capacity = o.queue;
  async.overflow = hydra::OverflowPolicy::drop;
  std::uint64_t dropped = 0;
  {
    hydra::Logger log(config_for(sink, async));
    auto burst = [&log, per_thread](int t) {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        log.info("burst {t} record {i} of the edge benchmark", t, i);
      }
    };
    if (threads == 1) {
      burst(0);
    } else {
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) pool.emplace_back(burst, t);
      for (auto& th : pool) th.join();
    }
    log.flush();
    dropped = log.metrics().async.dropped_full;
    print_drop_counts("after flush():", logged, *sink, dropped);
  }
  print_drop_counts("after ~Logger():", logged, *sink, dropped);
}

void shutdown_scenario(const Options& o) {
  std::printf(
      "shutdown: %d threads logging continuously (overflow block, default queue), "
      "shutdown() after %d ms\n",
      o.threads_shutdown, o.warmup_ms);
  auto sink = std::make_shared<CountingSink>();
  hydra::Logger log(config_for(sink, hydra::AsyncOptions{}));
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> logged{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < o.threads_shutdown; ++t) {
    pool.emplace_back([&, t] {
      std::uint64_t i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        log.info("thread {t} record {i} of the edge benchmark", t, i++);
      }
      logged.fetch_add(i, std::memory_order_relaxed);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(o.warmup_ms));
  // Ends the logging threads if shutdown() has not returned by then.
  std::atomic<bool> returned{false};
  bool capped = false;
  std::thread watchdog([&] {
    const auto deadline = Clock::now() + std::chrono::seconds(o.cap_s);
    while (!returned.load() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!returned.load()) {
      capped = true;
      stop.store(true);
    }
  });
  const auto before = log.metrics().async;
  const std::uint64_t written_before = sink->written();
  const auto t0 = Clock::now();
  log.shutdown();
  const auto t1 = Clock::now();
  const std::uint64_t written_during = sink->written() - written_before;
  const auto after = log.metrics().async;
  returned.store(true);
  stop.store(true);
  watchdog.join();
  for (auto& th : pool) th.join();
  log.flush();
  const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  std::printf(
      "  shutdown() took %.1f ms%s; written during it: %llu records (%llu of them by their "
      "callers, synchronously)\n",
      ms, capped ? " (capped: the threads were stopped, then it returned)" : "",
      static_cast<unsigned long long>(written_during),
      static_cast<unsigned long long>(after.sync_writes - before.sync_writes));
  std::printf("  in all: logged %llu, written %llu (%s)\n",
              static_cast<unsigned long long>(logged.load()),
              static_cast<unsigned long long>(sink->written()),
              logged.load() == sink->written() ? "all of them" : "MISSING RECORDS");
}

bool picked(const Options& o, const char* name) {
  return o.scenarios.find("," + std::string(name) + ",") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view opt = argv[i];
    const bool has_value = i + 1 < argc;
    auto number = [&] { return std::strtoull(argv[++i], nullptr, 10); };
    if (opt == "--scenarios" && has_value) {
      o.scenarios = std::string(",") + argv[++i] + ",";
    } else if (opt == "--records" && has_value) {
      o.records = number();
    } else if (opt == "--queue" && has_value) {
      o.queue = number();
    } else if (opt == "--threads-exit" && has_value) {
      o.threads_exit = static_cast<int>(number());
    } else if (opt == "--threads-shutdown" && has_value) {
      o.threads_shutdown = static_cast<int>(number());
    } else if (opt == "--warmup-ms" && has_value) {
      o.warmup_ms = static_cast<int>(number());
    } else if (opt == "--cap-s" && has_value) {
      o.cap_s = static_cast<int>(number());
    } else {
      std::fprintf(stderr,
                   "usage: %s [--scenarios drop-burst,drop-exit,shutdown] [--records N] "
                   "[--queue BYTES] [--threads-exit N] [--threads-shutdown N] [--warmup-ms N] "
                   "[--cap-s N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (picked(o, "drop-burst")) drop_scenario(o, 1);
  if (picked(o, "drop-exit")) drop_scenario(o, o.threads_exit);
  if (picked(o, "shutdown")) shutdown_scenario(o);
  return 0;
}
