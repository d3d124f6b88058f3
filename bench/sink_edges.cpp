// hydra-sink-edges: what a file destination does at the edges, in numbers
// (issue 17 items 1, 4 and 5). Each scenario runs in child processes and
// prints what it counted; nothing here is timed against a threshold.
//
//   hydra-sink-edges full-disk [--mode sync|async] [--records N] [--threads T]
//                              [--limit BYTES]
//     A device that fills up and does not recover: the child's files cannot
//     grow past --limit bytes (RLIMIT_FSIZE). It logs T x N records of 101
//     bytes, then closes the logger. Prints the time (wall and CPU) per
//     record while the device fails, and how many bytes were logged, written, reported lost
//     (stderr, and metrics() where the build has sink_dropped_*) and lost
//     without a report.
//   hydra-sink-edges fork [--runs R] [--children C] [--threads T]
//     T threads log into a buffered file (sync mode) while the parent forks C
//     children, each logging 100 records; a child not done in 10 s is hung.
//     Prints the parent records written more than once, and hung children.
//   hydra-sink-edges sigterm [--runs R] [--threads T] [--flush-each]
//     A child with the crash handler logs from T threads (the main thread
//     too) into a file in sync mode; the parent sends SIGTERM once it is
//     logging. A child not ended 10 s later is hung. Prints runs that ended.
//
// It compiles against older builds too (only the metrics line needs the
// newer API), so the same source measures before and after a change.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <hydra/hydra.hpp>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Args {
  std::string scenario;
  std::string mode = "sync";
  long records = 200000;
  int threads = 1;
  long limit = 1 << 20;
  int runs = 5;
  int children = 10;
  bool flush_each = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string temp_dir() {
  std::string pattern = "/tmp/hydra-sink-edges-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return pattern;
}

void remove_dir(const std::string& dir) {
  const std::string command = "rm -rf '" + dir + "'";
  if (std::system(command.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
}

// CPU time of this process, all threads (a wall-clock time is inflated on a
// shared, loaded machine).
double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Waits for `pid` at most `limit`; -1 (after SIGKILL) when it hung.
int wait_or_kill(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(5ms);
  }
}

// The metrics line, where this build has the counts.
template <typename Metrics>
std::string dropped_metrics(const Metrics& m) {
  if constexpr (requires { m.sink_dropped_records; }) {
    return std::to_string(m.sink_dropped_records) + " records, " +
           std::to_string(m.sink_dropped_bytes) + " bytes";
  } else {
    return "(no sink_dropped_* in this build)";
  }
}

int full_disk(const Args& args) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/app.log";
  const std::string err_path = dir + "/stderr";
  const std::string out_path = dir + "/result";
  const std::string message(100, 'x');  // + '\n': 101 bytes a record
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* err = std::freopen(err_path.c_str(), "w", stderr);
    (void)err;
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{};
    ::getrlimit(RLIMIT_FSIZE, &limit);
    limit.rlim_cur = static_cast<rlim_t>(args.limit);
    ::setrlimit(RLIMIT_FSIZE, &limit);
    double seconds = 0;
    double cpu_seconds = 0;
    std::string metrics;
    {
      hydra::LoggerConfig cfg;
      cfg.mode = args.mode == "async" ? hydra::LoggerMode::async : hydra::LoggerMode::sync;
      cfg.async.overflow = hydra::OverflowPolicy::block;
      auto destination = hydra::file(path);
      destination.text.message_format = "{message}";
      cfg.layers["APP"].destinations = {destination};
      hydra::Logger log(cfg);
      auto app = log.layer("APP");
      const auto start = Clock::now();
      const double cpu_start = process_cpu_seconds();
      std::vector<std::thread> threads;
      for (int t = 0; t < args.threads; ++t) {
        threads.emplace_back([&] {
          for (long i = 0; i < args.records; ++i) app.info("{}", message);
        });
      }
      for (auto& th : threads) th.join();
      log.flush();
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      cpu_seconds = process_cpu_seconds() - cpu_start;
      metrics = dropped_metrics(log.metrics());
    }  // closed: what is still held is reported
    // The limit stays: this file is small.
    std::FILE* out = std::fopen(out_path.c_str(), "w");
    if (out != nullptr) {
      std::fprintf(out, "%.3f %.3f\n%s\n", seconds, cpu_seconds, metrics.c_str());
      std::fclose(out);
    }
    std::_Exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string result = read_file(out_path);
  const std::string err = read_file(err_path);
  double seconds = 0;
  double cpu_seconds = 0;
  if (std::sscanf(result.c_str(), "%lf %lf", &seconds, &cpu_seconds) != 2) {
    std::fprintf(stderr, "the child left no result\n");
  }
  const std::string metrics = result.substr(result.find('\n') + 1);
  const long long logged = static_cast<long long>(args.records) * args.threads * 101;
  const long long written = static_cast<long long>(read_file(path).size());
  // Bytes the reports name as lost: "... (B bytes) lost: ..." and "B bytes
  // could not be written before close" (a summary "were lost meanwhile"
  // repeats earlier reports and is not added).
  long long reported = 0;
  const std::regex bytes_re(R"((\d+) bytes)");
  std::size_t start = 0;
  while (start < err.size()) {
    std::size_t end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    const std::string line = err.substr(start, end - start);
    start = end + 1;
    if (line.find("meanwhile") != std::string::npos) continue;
    if (line.find(" lost: ") == std::string::npos &&
        line.find("before close") == std::string::npos) {
      continue;
    }
    std::smatch m;
    if (std::regex_search(line, m, bytes_re)) reported += std::stoll(m[1]);
  }
  const long long records = static_cast<long long>(args.records) * args.threads;
  std::printf("full-disk mode=%s threads=%d records=%lld limit=%ld\n", args.mode.c_str(),
              args.threads, records, args.limit);
  std::printf("  time: %.3f s wall, %.3f s CPU (all threads): %.2f us CPU a record\n", seconds,
              cpu_seconds, cpu_seconds * 1e6 / records);
  std::printf("  bytes logged %lld, in the file %lld, reported lost on stderr %lld\n", logged,
              written, reported);
  std::printf("  lost without a report: %lld bytes (%.1f MB)\n", logged - written - reported,
              (logged - written - reported) / 1e6);
  std::printf("  metrics(): %s", metrics.c_str());
  std::printf("  stderr lines: %zu\n",
              static_cast<std::size_t>(std::count(err.begin(), err.end(), '\n')));
  remove_dir(dir);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int fork_scenario(const Args& args) {
  int total_twice = 0;
  int total_hung = 0;
  for (int run = 0; run < args.runs; ++run) {
    const std::string dir = temp_dir();
    const std::string path = dir + "/fork.log";
    int twice = 0;
    int hung = 0;
    {
      hydra::LoggerConfig cfg;
      auto destination = hydra::file(path);
      destination.text.message_format = "{message}";
      cfg.layers["APP"].destinations = {destination};
      hydra::Logger log(cfg);
      auto app = log.layer("APP");
      std::atomic<bool> stop{false};
      std::atomic<long> logged{0};
      std::vector<long> per_thread(static_cast<std::size_t>(args.threads), 0);
      std::vector<std::thread> threads;
      for (int t = 0; t < args.threads; ++t) {
        threads.emplace_back([&, t] {
          long i = 0;
          for (; !stop.load(std::memory_order_relaxed); ++i) {
            app.info("thread {} record {}", t, i);
            logged.fetch_add(1, std::memory_order_relaxed);
          }
          per_thread[static_cast<std::size_t>(t)] = i;
        });
      }
      for (int c = 0; c < args.children; ++c) {
        const long start = logged.load();
        while (logged.load() < start + 2000) std::this_thread::yield();
        const pid_t pid = ::fork();
        if (pid == 0) {
          for (int j = 0; j < 100; ++j) app.info("child {} record {}", c, j);
          log.flush();
          std::_Exit(0);
        }
        if (wait_or_kill(pid, 10s) == -1) ++hung;
      }
      stop = true;
      for (auto& th : threads) th.join();
      log.flush();
      std::vector<std::vector<unsigned char>> seen(static_cast<std::size_t>(args.threads));
      for (int t = 0; t < args.threads; ++t) {
        seen[static_cast<std::size_t>(t)].resize(
            static_cast<std::size_t>(per_thread[static_cast<std::size_t>(t)]));
      }
      std::ifstream in(path);
      std::string line;
      while (std::getline(in, line)) {
        int t = -1;
        long i = -1;
        if (std::sscanf(line.c_str(), "thread %d record %ld", &t, &i) == 2 && t >= 0 &&
            t < args.threads && i >= 0 &&
            static_cast<std::size_t>(i) < seen[static_cast<std::size_t>(t)].size()) {
          auto& n = seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
          if (n == 1) ++twice;
          if (n < 255) ++n;
        }
      }
    }
    std::printf("fork run %d: %d parent records written more than once, %d of %d children hung\n",
                run + 1, twice, hung, args.children);
    total_twice += twice;
    total_hung += hung;
    remove_dir(dir);
  }
  std::printf("fork: threads=%d, %d runs x %d children: %d records twice, %d children hung\n",
              args.threads, args.runs, args.children, total_twice, total_hung);
  return 0;
}

int sigterm_scenario(const Args& args) {
  int ended = 0;
  int hung = 0;
  int other = 0;
  for (int run = 0; run < args.runs; ++run) {
    const std::string dir = temp_dir();
    const std::string path = dir + "/app.log";
    int ready[2];
    if (::pipe(ready) != 0) return 1;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      hydra::LoggerConfig cfg;
      cfg.crash_handler = true;
      auto destination = hydra::file(path);
      if (args.flush_each) destination.flush_level = hydra::Level::trace;
      cfg.layers["APP"].destinations = {destination};
      auto* log = new hydra::Logger(cfg);
      for (int t = 1; t < args.threads; ++t) {
        std::thread([log, t] {
          for (long i = 0;; ++i) log->layer("APP").info("thread {} record {}", t, i);
        }).detach();
      }
      for (long i = 0;; ++i) {
        log->layer("APP").info("thread {} record {}", 0, i);
        if (i == 1000) {
          const char byte = 1;
          (void)!::write(ready[1], &byte, 1);
        }
      }
    }
    ::close(ready[1]);
    char byte = 0;
    if (::read(ready[0], &byte, 1) != 1) return 1;
    ::close(ready[0]);
    ::kill(pid, SIGTERM);
    const int status = wait_or_kill(pid, 10s);
    if (status == -1) {
      ++hung;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) {
      ++ended;
    } else {
      ++other;
    }
    remove_dir(dir);
  }
  std::printf(
      "sigterm: threads=%d%s, %d runs: %d ended by SIGTERM, %d hung (killed after 10 s), %d "
      "other\n",
      args.threads, args.flush_each ? " (a write(2) per record)" : "", args.runs, ended, hung,
      other);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s full-disk|fork|sigterm [options] (see the source)\n", argv[0]);
    return 2;
  }
  args.scenario = argv[1];
  bool threads_given = false;
  bool runs_given = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (a == "--mode") {
      args.mode = value();
    } else if (a == "--records") {
      args.records = std::stol(value());
    } else if (a == "--threads") {
      args.threads = std::stoi(value());
      threads_given = true;
    } else if (a == "--limit") {
      args.limit = std::stol(value());
    } else if (a == "--runs") {
      args.runs = std::stoi(value());
      runs_given = true;
    } else if (a == "--children") {
      args.children = std::stoi(value());
    } else if (a == "--flush-each") {
      args.flush_each = true;
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (args.scenario == "full-disk") return full_disk(args);
  if (args.scenario == "fork") {
    if (!threads_given) args.threads = 8;
    return fork_scenario(args);
  }
  if (args.scenario == "sigterm") {
    if (!threads_given) args.threads = 4;
    if (!runs_given) args.runs = 20;
    return sigterm_scenario(args);
  }
  std::fprintf(stderr, "unknown scenario %s (full-disk, fork, sigterm)\n", args.scenario.c_str());
  return 2;
}
