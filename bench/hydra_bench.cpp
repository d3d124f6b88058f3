// hydra-bench: Hydra against spdlog, in the same run, writing the same line
// content. Every claim on docs/benchmarks.md comes from this program.
//
//   throughput: N records of a ~87-byte text line to a file, from 1 and 2
//     threads, until everything is on disk; records/s and MB/s (median of the
//     runs); every output file's line count is checked and a mismatch fails
//     the run (exit 1).
//   latency: the caller's cost of one call (int, int, double message), drained
//     regime: bursts of 20 calls with ~2 ms pauses, so each burst starts with
//     an idle backend; 1 and 2 threads. Measured with the TSC; the timer's own
//     overhead is measured, printed and subtracted, and a "floor" row times
//     the loop without a logging call.
//
//   hydra-bench [--quick] [--json FILE] [--records N] [--runs R] [--bursts B]
//               [--only LOGGER[,LOGGER...]]
//     --only:  run just these loggers (hydra_sync, hydra_async, spdlog_sync,
//              spdlog_async; the floor row always runs), e.g. under perf.
//     --quick: one thread, 200,000 records x 3 runs, 500 bursts (under 60 s).
//     --json:  results as {"latency": {logger: {threads: {p50_ns, ...}}},
//              "throughput": {logger: {records_per_s, mb_per_s, lines_verified}},
//              "throughput_threads": {logger: {threads: {...}}}, "machine": {...}}
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <hydra/hydra.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Sample {
  double seconds;
  std::uintmax_t bytes;
};

std::size_t count_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A logger under test: how to make it for a path, log one record, finish.
struct Subject {
  const char* name;
  std::function<void(const std::string& path)> open;
  std::function<void(int thread, std::size_t i)> log;
  std::function<void()> close;  // flush everything to disk and release
};

std::unique_ptr<hydra::Logger> g_hydra;
std::shared_ptr<spdlog::logger> g_spdlog;

Subject hydra_subject(hydra::LoggerMode mode, const char* name) {
  return {name,
          [mode](const std::string& path) {
            hydra::LoggerConfig cfg;
            cfg.mode = mode;
            auto dest = hydra::file(path);
            dest.flush_interval = std::chrono::milliseconds(0);
            cfg.layers["APP"].destinations = {dest};
            g_hydra = std::make_unique<hydra::Logger>(cfg);
          },
          [](int t, std::size_t i) {
            g_hydra->info("request {} handled in {:.3f} ms by worker {}", i, 0.5 + t, "alpha");
          },
          [] {
            g_hydra->flush();
            g_hydra.reset();
          }};
}

Subject spdlog_subject(bool async, const char* name) {
  return {name,
          [async](const std::string& path) {
            auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
            if (async) {
              spdlog::init_thread_pool(8192, 1);
              g_spdlog = std::make_shared<spdlog::async_logger>(
                  "bench", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block);
            } else {
              g_spdlog = std::make_shared<spdlog::logger>("bench", sink);
            }
            g_spdlog->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5!l [APP] %v");
          },
          [](int t, std::size_t i) {
            g_spdlog->info("request {} handled in {:.3f} ms by worker {}", i, 0.5 + t, "alpha");
          },
          [] {
            g_spdlog->flush();
            // spdlog's async flush only queues a flush: drop the logger and the
            // pool (which joins its worker after draining) to be sure.
            g_spdlog.reset();
            spdlog::shutdown();
          }};
}

Sample run_throughput(Subject& s, const std::string& path, int threads, std::size_t records) {
  fs::remove(path);
  s.open(path);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&s, t, n = records / threads] {
      for (std::size_t i = 0; i < n; ++i) s.log(t, i);
    });
  }
  for (auto& th : pool) th.join();
  s.close();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {secs, fs::file_size(path)};
}

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

struct Percentiles {
  double p50, p75, p90, p99, p999, max;
};

// Each of `threads` threads runs `bursts` bursts of 20 timed calls with a
// ~2 ms pause after each; the samples of all threads are pooled.
Percentiles run_latency(Subject& s, const std::string& path, int threads, int bursts, double ghz,
                        double overhead_cycles) {
  fs::remove(path);
  s.open(path);
  std::vector<std::vector<double>> per_thread(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& ns = per_thread[static_cast<std::size_t>(t)];
      ns.reserve(static_cast<std::size_t>(bursts) * 20);
      std::size_t i = 0;
      for (int b = 0; b < bursts; ++b) {
        for (int k = 0; k < 20; ++k, ++i) {
          const std::uint64_t t0 = stamp();
          if (g_hydra) {
            g_hydra->info("latency {} {} {:.2f}", i, k, 1.5 * static_cast<double>(k));
          } else if (g_spdlog) {
            g_spdlog->info("latency {} {} {:.2f}", i, k, 1.5 * static_cast<double>(k));
          }  // else: the floor, nothing but the timer in this regime
          const std::uint64_t t1 = stamp();
          ns.push_back(std::max(0.0, static_cast<double>(t1 - t0) - overhead_cycles) / ghz);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  for (auto& th : pool) th.join();
  s.close();
  std::vector<double> ns;
  for (const auto& v : per_thread) ns.insert(ns.end(), v.begin(), v.end());
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return ns[static_cast<std::size_t>(q * (ns.size() - 1))]; };
  return {at(0.50), at(0.75), at(0.90), at(0.99), at(0.999), ns.back()};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t records = 1'000'000;
  int runs = 5;
  int bursts = 2000;
  std::vector<int> thread_counts = {1, 2};
  std::string json_path;
  std::string only;  // ",name,name," or empty for every logger
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    const bool has_value = i + 1 < argc;
    if (opt == "--quick") {
      records = 200'000;
      runs = 3;
      bursts = 500;
      thread_counts = {1};
    } else if (opt == "--records" && has_value) {
      records = std::stoull(argv[++i]);
    } else if (opt == "--runs" && has_value) {
      runs = std::stoi(argv[++i]);
    } else if (opt == "--bursts" && has_value) {
      bursts = std::stoi(argv[++i]);
    } else if (opt == "--json" && has_value) {
      json_path = argv[++i];
    } else if (opt == "--only" && has_value) {
      only = std::string(",") + argv[++i] + ",";
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--json FILE] [--records N] [--runs R] [--bursts B]\n"
                   "       [--only LOGGER[,LOGGER...]]\n",
                   argv[0]);
      return 64;
    }
  }
  std::string pattern = (fs::temp_directory_path() / "hydra-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return 1;
  const fs::path dir = pattern;

  std::vector<Subject> subjects = {
      hydra_subject(hydra::LoggerMode::sync, "hydra_sync"),
      spdlog_subject(false, "spdlog_sync"),
      hydra_subject(hydra::LoggerMode::async, "hydra_async"),
      spdlog_subject(true, "spdlog_async"),
  };
  if (!only.empty()) {
    std::erase_if(subjects, [&](const Subject& s) {
      return only.find("," + std::string(s.name) + ",") == std::string::npos;
    });
  }
  nlohmann::json out;
  out["machine"] = {{"cores", std::thread::hardware_concurrency()},
                    {"records", records},
                    {"runs", runs},
                    {"bursts", bursts}};

  std::printf("throughput: %zu records of a text line to a file, median of %d runs\n", records,
              runs);
  std::printf("%-14s %7s %14s %10s %10s\n", "logger", "threads", "records/s", "MB/s", "bytes/line");
  bool ok = true;
  for (int threads : thread_counts) {
    std::vector<std::vector<double>> secs(subjects.size());
    std::vector<std::uintmax_t> bytes(subjects.size());
    std::vector<bool> verified(subjects.size(), true);
    for (int r = 0; r < runs; ++r) {
      for (std::size_t k = 0; k < subjects.size(); ++k) {
        const std::string path = (dir / (std::string(subjects[k].name) + ".log")).string();
        const Sample s = run_throughput(subjects[k], path, threads, records);
        const std::size_t expect = records / threads * threads;
        if (const std::size_t got = count_lines(path); got != expect) {
          std::fprintf(stderr, "%s: %zu lines, expected %zu\n", subjects[k].name, got, expect);
          verified[k] = false;
          ok = false;
        }
        secs[k].push_back(s.seconds);
        bytes[k] = s.bytes;
      }
    }
    const double n = static_cast<double>(records / threads * threads);
    for (std::size_t k = 0; k < subjects.size(); ++k) {
      const double t = median(secs[k]);
      std::printf("%-14s %7d %14.0f %10.1f %10.1f\n", subjects[k].name, threads, n / t,
                  static_cast<double>(bytes[k]) / t / 1e6, static_cast<double>(bytes[k]) / n);
      const nlohmann::json result = {{"records_per_s", n / t},
                                     {"mb_per_s", static_cast<double>(bytes[k]) / t / 1e6},
                                     {"bytes_per_line", static_cast<double>(bytes[k]) / n},
                                     {"lines_verified", static_cast<bool>(verified[k])}};
      out["throughput_threads"][subjects[k].name][std::to_string(threads)] = result;
      if (threads == 1) out["throughput"][subjects[k].name] = result;
    }
  }

  const double ghz = tsc_ghz();
  std::vector<double> overhead;
  for (int i = 0; i < 10000; ++i) {
    const auto a = stamp();
    const auto b = stamp();
    overhead.push_back(static_cast<double>(b - a));
  }
  const double overhead_cycles = median(overhead);
  out["machine"]["tsc_ghz"] = ghz;
  out["machine"]["timer_overhead_ns"] = overhead_cycles / ghz;
  std::printf(
      "\nlatency: caller ns per call (int, int, double), %d bursts of 20 calls with 2 ms pauses\n"
      "(TSC %.2f GHz; timer overhead %.1f ns, subtracted)\n",
      bursts, ghz, overhead_cycles / ghz);
  std::printf("%-14s %7s %8s %8s %8s %8s %8s %10s\n", "logger", "threads", "p50", "p75", "p90",
              "p99", "p99.9", "max");
  // The floor: the same loop with no logging call, so that what the regime
  // itself costs (a cold cache or a descheduled core after each pause) shows.
  Subject floor{"floor", [](const std::string&) {}, [](int, std::size_t) {}, [] {}};
  std::vector<Subject*> timed = {&floor};
  for (auto& s : subjects) timed.push_back(&s);
  for (int threads : thread_counts) {
    for (Subject* subject : timed) {
      Subject& s = *subject;
      const std::string path = (dir / (std::string(s.name) + "-lat.log")).string();
      const Percentiles p = run_latency(s, path, threads, bursts, ghz, overhead_cycles);
      std::printf("%-14s %7d %8.0f %8.0f %8.0f %8.0f %8.0f %10.0f\n", s.name, threads, p.p50, p.p75,
                  p.p90, p.p99, p.p999, p.max);
      out["latency"][s.name][std::to_string(threads)] = {{"p50_ns", p.p50},   {"p75_ns", p.p75},
                                                         {"p90_ns", p.p90},   {"p99_ns", p.p99},
                                                         {"p999_ns", p.p999}, {"max_ns", p.max}};
    }
  }
  fs::remove_all(dir);
  if (!json_path.empty()) {
    std::ofstream f(json_path);
    f << out.dump(2) << '\n';
    if (!f) {
      std::fprintf(stderr, "hydra-bench: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return ok ? 0 : 1;
}
