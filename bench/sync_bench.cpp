// Synchronous file logging, Hydra against spdlog, in the same run.
//
// Each logger writes N records of the same content (a ~90-byte text line: a
// timestamp, the level, the layer, a message with an int, a double and a
// string) to its own file in a temporary directory, from 1 and from 2
// threads, until everything is on disk (flush). Runs alternate between the
// loggers; the table shows the median of the runs, and bytes per line so
// that line content can be compared. Every output file's line count is
// checked; a mismatch fails the run.
//
//   hydra_sync_bench [--records N] [--runs R]
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <hydra/hydra.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

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

// Runs `body(thread_index, count)` on `threads` threads, then `finish()`.
double timed(int threads, std::size_t records, const std::function<void(int, std::size_t)>& body,
             const std::function<void()>& finish) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(body, t, records / threads);
  for (auto& th : pool) th.join();
  finish();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Sample run_hydra(const std::string& path, int threads, std::size_t records) {
  std::filesystem::remove(path);
  hydra::LoggerConfig cfg;
  auto dest = hydra::file(path);
  dest.flush_interval = std::chrono::milliseconds(0);
  cfg.layers["APP"].destinations = {dest};
  hydra::Logger log(cfg);
  const double s = timed(
      threads, records,
      [&](int t, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          log.info("request {} handled in {:.3f} ms by worker {}", i, 0.5 + t, "alpha");
        }
      },
      [&] { log.flush(); });
  return {s, std::filesystem::file_size(path)};
}

Sample run_spdlog(const std::string& path, int threads, std::size_t records) {
  std::filesystem::remove(path);
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
  spdlog::logger log("bench", sink);
  log.set_pattern("%Y-%m-%d %H:%M:%S.%e %-5!l [APP] %v");
  const double s = timed(
      threads, records,
      [&](int t, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          log.info("request {} handled in {:.3f} ms by worker {}", i, 0.5 + t, "alpha");
        }
      },
      [&] { log.flush(); });
  return {s, std::filesystem::file_size(path)};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t records = 1'000'000;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    if (opt == "--records")
      records = std::stoull(argv[i + 1]);
    else if (opt == "--runs")
      runs = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--records N] [--runs R]\n", argv[0]);
      return 64;
    }
  }
  std::string dir_pattern =
      (std::filesystem::temp_directory_path() / "hydra-bench-XXXXXX").string();
  if (::mkdtemp(dir_pattern.data()) == nullptr) return 1;
  const std::filesystem::path dir = dir_pattern;

  std::printf("sync file logging: %zu records per run, median of %d runs\n", records, runs);
  std::printf("%-14s %7s %14s %10s %10s\n", "logger", "threads", "records/s", "MB/s", "bytes/line");
  bool ok = true;
  for (int threads : {1, 2}) {
    std::vector<double> hs, ss;
    std::uintmax_t hbytes = 0, sbytes = 0;
    for (int r = 0; r < runs; ++r) {
      const std::string hp = (dir / "hydra.log").string(), sp = (dir / "spdlog.log").string();
      Sample h = run_hydra(hp, threads, records);
      Sample s = run_spdlog(sp, threads, records);
      const std::size_t expect = records / threads * threads;
      if (count_lines(hp) != expect || count_lines(sp) != expect) {
        std::fprintf(stderr, "line count mismatch: hydra %zu, spdlog %zu, expected %zu\n",
                     count_lines(hp), count_lines(sp), expect);
        ok = false;
      }
      hs.push_back(h.seconds);
      ss.push_back(s.seconds);
      hbytes = h.bytes;
      sbytes = s.bytes;
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    const double n = static_cast<double>(records / threads * threads);
    for (auto [name, secs, bytes] : {std::tuple{"hydra_sync", median(hs), hbytes},
                                     std::tuple{"spdlog_sync", median(ss), sbytes}}) {
      std::printf("%-14s %7d %14.0f %10.1f %10.1f\n", name, threads, n / secs,
                  static_cast<double>(bytes) / secs / 1e6, static_cast<double>(bytes) / n);
    }
  }
  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
