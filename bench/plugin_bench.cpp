// hydra-plugin-bench: what the built-in analytics cost per record on the
// pipeline's hot path (Analytics::observe), beside what a record costs the
// logger itself, so that the share can be read off.
//
//   hydra-plugin-bench [--records N] [--runs R] [--threads T]
//     --records: records per run (default 1000000)
//     --runs:    runs per row; the median is shown with min and max (default 7)
//     --threads: observing threads for the contended rows (default 2)
//     --only:    one row by name ("rates", "threads" for the last), to profile
//
// Rows, in ns per record of the calling thread's CPU time:
//   logger:          a sync Logger, text format, a sink that discards, one
//                    call with two positional arguments (the denominator)
//   logger + filter + rates: the same with a filter that keeps every record
//                    and the rates analytics configured
//   no-op analytics: an observe() that does next to nothing: the cost of the
//                    call and of this program's loop, to subtract
//   rates:           rates.observe() on records of 16 message shapes from
//                    16 call sites, in turn
//   rates (one statement): records of one call site and layer, the path a
//                    run of records from one statement takes
//   rates (no call site): the same records without their call site, so
//                    counted by message shape
//   security_bursts: its observe() on the same records (1 in 16 a failure)
//   rates xT:        T threads observing one rates instance at once
//
// The records are made before the clock starts: only observe() is timed.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <hydra/hydra.hpp>
#include <hydra/plugin/filter.hpp>

#include "plugin/analytics/rates.hpp"
#include "plugin/analytics/security_bursts.hpp"

namespace {

using hydra::Field;
using hydra::Level;
using hydra::Record;

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Row {
  double median;
  double min;
  double max;
};

Row measure(int runs, std::size_t records, const std::function<void()>& run) {
  std::vector<double> ns;
  for (int r = 0; r < runs; ++r) {
    const double start = thread_cpu_seconds();
    run();
    ns.push_back((thread_cpu_seconds() - start) * 1e9 / static_cast<double>(records));
  }
  std::sort(ns.begin(), ns.end());
  return {ns[ns.size() / 2], ns.front(), ns.back()};
}

void print(const char* name, const Row& row) {
  std::printf("%-22s %8.1f ns/record  (min %.1f, max %.1f)\n", name, row.median, row.min, row.max);
}

// Messages of realistic shape: what a logger's formatted text looks like.
struct Corpus {
  std::vector<std::string> messages;
  std::vector<std::vector<Field>> fields;
  std::vector<std::string> users;
  std::vector<Record> records;
};

Corpus make_corpus(std::size_t distinct) {
  static const char* const kShapes[] = {
      "user %u logged in from 10.0.%u.%u",
      "GET /api/v1/orders/%u took %ums status=200",
      "cache miss for key 'session:%u'",
      "payment %u authorised amount=%u.%02u EUR",
      "worker %u finished job %u in %u ms",
      "connection pool exhausted (%u waiting, %u active, %u idle)",
      "retrying request %u after %u ms (attempt %u)",
      "login failed for user u%u from 198.51.100.%u",
      "slow query on table orders: %u ms, %u rows",
      "trace=4bf92f3577b34da6a3ce929d0e0e%04x span=%u sampled=%u",
      "config reloaded: %u destinations, %u layers",
      "file \"/var/data/export-%u.csv\" written (%u bytes)",
      "health check ok in %u us",
      "message queue depth %u above watermark %u",
      "websocket client %u disconnected code=%u",
      "scheduled task cleanup ran, removed %u of %u entries",
  };
  Corpus c;
  c.messages.reserve(distinct);
  c.users.reserve(distinct);
  char buf[256];
  for (std::size_t i = 0; i < distinct; ++i) {
    const auto n = static_cast<unsigned>(i);
    std::snprintf(buf, sizeof buf, kShapes[i % std::size(kShapes)], n * 7919 % 100000, n % 250,
                  n % 97);
    c.messages.emplace_back(buf);
    c.users.push_back("u" + std::to_string(n % 50));
  }
  c.fields.resize(distinct);
  c.records.resize(distinct);
  const auto now = std::chrono::system_clock::now();
  for (std::size_t i = 0; i < distinct; ++i) {
    c.fields[i] = {{"user", c.users[i]}, {"request_id", static_cast<std::uint64_t>(i)}};
    Record& r = c.records[i];
    r.time = now + std::chrono::microseconds(i);
    r.level = i % 10 == 0 ? Level::warning : Level::info;
    r.layer = i % 3 == 0 ? "DB" : "APP";
    r.logger = "bench";
    r.message = c.messages[i];
    r.fields = c.fields[i];
    // One call site per shape, as log statements have.
    r.source = {"src/service/handler.cpp", "handle", static_cast<std::uint32_t>(100 + i % 16)};
  }
  return c;
}

// Records a run cycles through (a power of two: the loop masks, it does not
// divide).
constexpr std::size_t kDistinct = 4096;

class KeepAll final : public hydra::plugin::Filter {
 public:
  Verdict filter(const Record& /*record*/, hydra::plugin::RecordEdit& /*edit*/) override {
    return Verdict::keep;
  }
};

// What a call to observe() costs by itself, with this program's loop.
class Nothing final : public hydra::plugin::Analytics {
 public:
  void observe(const Record& record) override { seen_ += record.sequence; }
  std::string insights() const override { return std::to_string(seen_); }

 private:
  std::uint64_t seen_ = 0;
};

class Discard final : public hydra::Sink {
 public:
  void write(const Record& /*record*/, std::string_view bytes) override { size_ += bytes.size(); }
  void flush() override {}
  std::size_t size_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t records = 1'000'000;
  int runs = 7;
  int threads = 2;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    if (std::strcmp(argv[i], "--records") == 0) records = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  runs = std::max(runs, 1);
  threads = std::max(threads, 1);
  const Corpus corpus = make_corpus(kDistinct);
  const auto feed = [&](hydra::plugin::Analytics& a, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) a.observe(corpus.records[i & (kDistinct - 1)]);
  };
  std::printf("hydra-plugin-bench: %zu records a run, %d runs, median of thread CPU time\n",
              records, runs);
  const auto row = [&](const char* name, const std::function<void()>& run) {
    if (only.empty() || only == name) print(name, measure(runs, records, run));
  };

  // The logger itself, then with a filter that keeps everything and the
  // rates analytics (the plugin stages' cost in a real pipeline).
  for (const bool plugins : {false, true}) {
    auto sink = std::make_shared<Discard>();
    hydra::LoggerConfig cfg;
    cfg.name = "bench";
    cfg.layers["APP"].destinations = {hydra::to_sink(sink)};
    if (plugins) {
      hydra::PluginConfig keep;
      keep.instance = std::make_shared<KeepAll>();
      cfg.filters.push_back(keep);
      hydra::PluginConfig rates;
      rates.type = "rates";
      cfg.analytics.push_back(rates);
    }
    hydra::Logger log(cfg);
    row(plugins ? "logger + filter + rates" : "logger (sync, text)", [&] {
      for (std::size_t i = 0; i < records; ++i) {
        log.info("user {} logged in from {}", i, corpus.users[i & 31]);
      }
    });
  }

  Nothing nothing;
  row("no-op analytics", [&] { feed(nothing, records); });

  hydra::plugin::analytics::Rates rates(hydra::plugin::analytics::RatesSettings{});
  row("rates", [&] { feed(rates, records); });

  // A run of records from one statement (one layer, one call site): the
  // path rates caches, as in a loop that logs.
  Corpus one = make_corpus(kDistinct);
  for (std::size_t i = 0; i < one.records.size(); ++i) {
    Record& r = one.records[i];
    r.layer = "APP";
    r.message = one.messages[i - i % 16];  // the first shape's, its numbers varying
    r.source = {"src/service/handler.cpp", "handle", 100};
  }
  hydra::plugin::analytics::Rates one_site(hydra::plugin::analytics::RatesSettings{});
  row("rates (one statement)", [&] {
    for (std::size_t i = 0; i < records; ++i) one_site.observe(one.records[i & (kDistinct - 1)]);
  });

  // Records without a call site (hydra pipe's): counted by message shape.
  Corpus unsited = make_corpus(kDistinct);
  for (Record& r : unsited.records) r.source = {};
  hydra::plugin::analytics::Rates by_shape(hydra::plugin::analytics::RatesSettings{});
  row("rates (no call site)", [&] {
    for (std::size_t i = 0; i < records; ++i) {
      by_shape.observe(unsited.records[i & (kDistinct - 1)]);
    }
  });

  hydra::plugin::analytics::SecurityBursts bursts(
      hydra::plugin::analytics::SecurityBurstsSettings{});
  row("security_bursts", [&] { feed(bursts, records); });
  if (!only.empty() && only != "threads") return 0;

  // Contended: each thread measures its own CPU time; the row shows the
  // median over threads and runs.
  std::vector<double> per_thread;
  for (int r = 0; r < runs; ++r) {
    hydra::plugin::analytics::Rates shared(hydra::plugin::analytics::RatesSettings{});
    std::vector<double> ns(static_cast<std::size_t>(threads));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const double start = thread_cpu_seconds();
        feed(shared, records);
        ns[static_cast<std::size_t>(t)] =
            (thread_cpu_seconds() - start) * 1e9 / static_cast<double>(records);
      });
    }
    for (std::thread& t : pool) t.join();
    per_thread.insert(per_thread.end(), ns.begin(), ns.end());
  }
  std::sort(per_thread.begin(), per_thread.end());
  char name[32];
  std::snprintf(name, sizeof name, "rates x%d threads", threads);
  print(name, {per_thread[per_thread.size() / 2], per_thread.front(), per_thread.back()});
  return 0;
}
