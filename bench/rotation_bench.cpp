// hydra-rotation-bench: what one size rotation of a rotating file sink (or,
// with --audit, of the protect module's audit chain) costs, by backup_count
// and by how many backups already exist. docs/sinks.md and docs/protect.md
// quote this program.
//
//   hydra-rotation-bench [--audit] [--counts N,N,...] [--present K]
//                        [--naming index|date] [--rotations R] [--timeout S]
//                        [--dir DIR]
//     --audit:     time an AuditChainSink instead (needs the protect module;
//                  durable off, so the figure is the rotation's own work, not
//                  the fsyncs of its checkpoints)
//     --counts:    the backup_count of each row (default 5,20000,100000,2147483647);
//                  with --audit, "all" is kKeepAllAuditFiles
//     --present:   backups made before each row starts (default 0): app.log.1 ..
//                  app.log.K, or with date naming app.log.2000-01-01.1 .. .K
//                  (with --audit: audit.log.1 .. .K beside a chain of one record)
//     --naming:    the sink's backup_naming (default index; date needs a
//                  version that has it; not with --audit)
//     --rotations: rotations timed per row (default 20)
//     --timeout:   seconds a row may take; a row that has not finished by then is
//                  stopped and shown with the rotations it finished (default 10)
//     --dir:       where the rows' directories are made (default $TMPDIR or /tmp)
//
// Each row runs in a child process, in a fresh directory: a RotatingFileSink
// (or AuditChainSink) with max_size 100 is given 100-byte records, so that
// every write after the first rotates; each such write is timed with steady_clock (wall time, since
// the cost is in the kernel: renames, unlinks, a directory read). A
// backup_count the sink refuses shows the refusal. Options that older
// versions of the sink lack are set only where they exist, so the program
// builds against older commits too (to measure before and after a change).
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <hydra/core/record.hpp>
#include <hydra/sink/rotating_file_sink.hpp>
#if HYDRA_BENCH_WITH_PROTECT
#include <hydra/protect/audit_chain.hpp>
#endif

namespace {

using SteadyClock = std::chrono::steady_clock;

// A --counts entry for the audit chain's kKeepAllAuditFiles.
constexpr long long kKeepAll = -1;

struct Settings {
  bool audit = false;
  std::vector<long long> counts = {5, 20000, 100000, INT_MAX};
  int present = 0;
  bool date_naming = false;
  int rotations = 20;
  int timeout_seconds = 10;
  std::string dir;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "hydra-rotation-bench: %s\nusage: hydra-rotation-bench [--audit] [--counts "
               "N,N,...] [--present K] [--naming index|date] [--rotations R] [--timeout S] "
               "[--dir DIR]\n",
               why);
  std::exit(2);
}

long long number(const char* text, const char* option) {
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || n < 0) {
    usage((std::string(option) + ": '" + text + "' is not a number >= 0").c_str());
  }
  return n;
}

Settings parse(int argc, char** argv) {
  Settings s;
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') s.dir = tmp;
  if (s.dir.empty()) s.dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    if (option == "--audit") {
#if HYDRA_BENCH_WITH_PROTECT
      s.audit = true;
      continue;
#else
      usage("--audit: this build has no protect module");
#endif
    }
    if (i + 1 >= argc) usage((option + " needs a value").c_str());
    const char* value = argv[++i];
    if (option == "--counts") {
      s.counts.clear();
      std::string list = value;
      std::size_t start = 0;
      while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        const std::string count = list.substr(start, comma - start);
        s.counts.push_back(count == "all" ? kKeepAll : number(count.c_str(), "--counts"));
        start = comma + 1;
      }
    } else if (option == "--present") {
      s.present = static_cast<int>(number(value, "--present"));
    } else if (option == "--naming") {
      if (std::strcmp(value, "index") != 0 && std::strcmp(value, "date") != 0) {
        usage("--naming: index or date");
      }
      s.date_naming = std::strcmp(value, "date") == 0;
    } else if (option == "--rotations") {
      s.rotations = std::max(1, static_cast<int>(number(value, "--rotations")));
    } else if (option == "--timeout") {
      s.timeout_seconds = std::max(1, static_cast<int>(number(value, "--timeout")));
    } else if (option == "--dir") {
      s.dir = value;
    } else {
      usage(("unknown option " + option).c_str());
    }
  }
  for (const long long count : s.counts) {
    if (count == kKeepAll && !s.audit) usage("--counts: 'all' is for --audit");
  }
  if (s.audit && s.date_naming) usage("--naming date: not with --audit");
  return s;
}

// Sets date naming where the sink has it (a template, so that an older
// sink without the option still compiles this).
template <typename Options>
bool set_date_naming(Options& o) {
  if constexpr (requires { o.backup_naming = decltype(o.backup_naming)::date; }) {
    o.backup_naming = decltype(o.backup_naming)::date;
    return true;
  }
  return false;
}

// One line per rotation ("R <microseconds>"), or "E <message>".
struct Reporter {
  int out;
  void say(const std::string& line) const {
    const std::string text = line + "\n";
    if (::write(out, text.data(), text.size()) < 0) std::_Exit(3);
  }
};

// Times `rotations` writes of `sink`, each of which must rotate.
template <typename Sink>
void time_rotations(Sink& sink, const Reporter& reporter, const Settings& s) {
  const std::string record = std::string(99, 'x') + "\n";
  hydra::Record r;
  r.message = "m";
  for (int i = 0; i < s.rotations; ++i) {
    const auto start = SteadyClock::now();
    sink.write(r, record);  // rotates first
    const auto took = SteadyClock::now() - start;
    if (sink.rotations() != static_cast<std::uint64_t>(i) + 1) {
      reporter.say("E the write did not rotate (rotations() = " + std::to_string(sink.rotations()) +
                   ")");
      std::_Exit(1);
    }
    reporter.say(
        "R " + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  }
}

void run_rotating_file(const Reporter& reporter, const std::string& dir, long long backup_count,
                       const Settings& s) {
  const std::string path = dir + "/app.log";
  const std::string backup_prefix = path + (s.date_naming ? ".2000-01-01." : ".");
  for (int i = 1; i <= s.present; ++i) {
    std::ofstream(backup_prefix + std::to_string(i)) << "an older backup\n";
  }
  hydra::RotatingFileSinkOptions o;
  o.file.path = path;
  o.max_size = 100;
  o.backup_count = static_cast<int>(std::min<long long>(backup_count, INT_MAX));
  if (s.date_naming && !set_date_naming(o)) {
    reporter.say("E this version of the sink has no date naming");
    std::_Exit(1);
  }
  hydra::RotatingFileSink sink(o);
  hydra::Record r;
  r.message = "m";
  sink.write(r, std::string(99, 'x') + "\n");  // the first file
  time_rotations(sink, reporter, s);
}

#if HYDRA_BENCH_WITH_PROTECT
void run_audit_chain(const Reporter& reporter, const std::string& dir, long long backup_count,
                     const Settings& s) {
  hydra::protect::AuditChainOptions o;
  o.path = dir + "/audit.log";
  o.key.value = "key-of-hydra-rotation-bench-0123456789";
  o.durable = false;
  {
    // A chain of one record, which the next record rotates. The rotated
    // files beside it are stand-ins: a rotation never reads them.
    hydra::protect::AuditChainSink first(o);
    first.write(hydra::Record{}, "the first record\n");
  }
  for (int i = 1; i <= s.present; ++i) {
    std::ofstream(o.path + "." + std::to_string(i)) << "an older file\n";
  }
  o.max_size = 100;
  o.backup_count = backup_count == kKeepAll
                       ? hydra::protect::kKeepAllAuditFiles
                       : static_cast<int>(std::min<long long>(backup_count, INT_MAX));
  hydra::protect::AuditChainSink sink(o);
  time_rotations(sink, reporter, s);
}
#endif

// The child: one row.
[[noreturn]] void run_row(int out, const std::string& dir, long long backup_count,
                          const Settings& s) {
  const Reporter reporter{out};
  try {
#if HYDRA_BENCH_WITH_PROTECT
    if (s.audit) {
      run_audit_chain(reporter, dir, backup_count, s);
      std::_Exit(0);
    }
#endif
    run_rotating_file(reporter, dir, backup_count, s);
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    reporter.say("E " + what);
  }
  std::_Exit(0);
}

std::string ms(double microseconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", microseconds / 1000.0);
  return buf;
}

void report_row(long long backup_count, const Settings& s) {
  char pattern[PATH_MAX];
  std::snprintf(pattern, sizeof pattern, "%s/hydra-rotation-bench-XXXXXX", s.dir.c_str());
  if (::mkdtemp(pattern) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  const std::string dir = pattern;
  int fds[2];
  if (::pipe(fds) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    run_row(fds[1], dir, backup_count, s);
  }
  ::close(fds[1]);
  std::vector<double> times;
  std::string error;
  std::string pending;
  bool timed_out = false;
  const auto deadline = SteadyClock::now() + std::chrono::seconds(s.timeout_seconds);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) == 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // the child is done
    pending.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.starts_with("R ")) times.push_back(std::strtod(line.c_str() + 2, nullptr));
      if (line.starts_with("E ")) error = line.substr(2);
    }
  }
  if (timed_out) ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(fds[0]);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  if (backup_count == kKeepAll) {
    std::printf("%-12s %-9d ", "all", s.present);
  } else {
    std::printf("%-12lld %-9d ", backup_count, s.present);
  }
  if (!error.empty()) {
    std::printf("refused: %s\n", error.c_str());
    return;
  }
  if (times.empty()) {
    std::printf("no rotation finished within %d s\n", s.timeout_seconds);
    return;
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  double total = 0;
  for (const double t : times) total += t;
  std::printf("%-9zu %-10s %-10s %-10s %-10s%s\n", times.size(), ms(total / times.size()).c_str(),
              ms(sorted[sorted.size() / 2]).c_str(), ms(sorted.front()).c_str(),
              ms(sorted.back()).c_str(), timed_out ? "  (stopped at the timeout)" : "");
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse(argc, argv);
  if (s.audit) {
    std::printf(
        "one size rotation of an AuditChainSink, durable off, wall time in ms (%d rotations a "
        "row, timeout %d s)\n",
        s.rotations, s.timeout_seconds);
  } else {
    std::printf(
        "one size rotation of a RotatingFileSink, %s naming, wall time in ms (%d rotations a "
        "row, timeout %d s)\n",
        s.date_naming ? "date" : "index", s.rotations, s.timeout_seconds);
  }
  std::printf("%-12s %-9s %-9s %-10s %-10s %-10s %-10s\n", "backup_count", "present", "rotations",
              "mean", "median", "min", "max");
  for (const long long count : s.counts) report_row(count, s);
  return 0;
}
