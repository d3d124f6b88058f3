// hydra-redact-bench: how fast the redaction engine scans, in MB/s of input,
// on clean log text (nothing to redact: the common case, and the one that
// must stay cheap) and on PII-rich text (every line holds something).
// docs/protect.md quotes this program.
//
//   hydra-redact-bench [--mb N] [--runs R]
//     --mb:   megabytes of each text (default 32)
//     --runs: runs per row; the median is shown with min and max (default 7)
//
// Each text is a list of log lines of realistic shape (timestamps, levels,
// key=value fields, hex trace ids, UUIDs, JSON), generated from a fixed seed.
// "per record" calls Redactor::redact once per line, as the logger pipeline
// does for each message; "one text" calls it once on all the lines joined,
// which shows the scanner without the per-call cost.
//
// MB/s is input bytes over the thread's CPU time (median, min and max of the
// runs): on a shared machine, time spent descheduled is not the scanner's.
// The wall-clock median is shown beside it.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <hydra/protect/redactor.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Lines {
  std::vector<std::string> lines;
  std::string joined;  // the lines separated by '\n'
  std::size_t bytes = 0;
};

std::string hex(std::mt19937_64& rng, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < digits; ++i) s.push_back(kHex[rng() % 16]);
  return s;
}

std::string num(std::mt19937_64& rng, unsigned limit) {
  return std::to_string(rng() % limit);
}

std::string timestamp(std::mt19937_64& rng) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-11-27T%02u:%02u:%02u.%06uZ", unsigned(rng() % 24),
                unsigned(rng() % 60), unsigned(rng() % 60), unsigned(rng() % 1000000));
  return buf;
}

std::string uuid(std::mt19937_64& rng) {
  return hex(rng, 8) + "-" + hex(rng, 4) + "-4" + hex(rng, 3) + "-a" + hex(rng, 3) + "-" +
         hex(rng, 12);
}

// Log lines with nothing to redact: what most services write most of the time.
std::string clean_line(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:
      return timestamp(rng) + " INFO  [APP] request completed method=GET path=/api/v1/users/" +
             num(rng, 100000) + "/orders status=200 duration_ms=" + num(rng, 900) + "." +
             num(rng, 10) + " bytes=" + num(rng, 100000) + " trace_id=" + hex(rng, 32) +
             " span_id=" + hex(rng, 16);
    case 1:
      return timestamp(rng) + " DEBUG [DATABASE] query took " + num(rng, 50) + "." + num(rng, 100) +
             " ms rows=" + num(rng, 500) + " table=orders conn=pool-" + num(rng, 8) +
             " sql=\"SELECT id, total FROM orders WHERE customer_id = ? ORDER BY created_at "
             "DESC LIMIT 50\"";
    case 2:
      return timestamp(rng) + " WARNING [CACHE] cache miss ratio 0." + num(rng, 100) +
             " above threshold 0.25 for region eu-west-1 (node cache-" + num(rng, 16) +
             ", version 4.2." + num(rng, 20) + ", uptime " + num(rng, 100000) + " s)";
    case 3:
      return "{\"time\":\"" + timestamp(rng) +
             "\",\"level\":\"info\",\"msg\":\"job finished\",\"job_id\":\"" + uuid(rng) +
             "\",\"attempt\":" + num(rng, 5) + ",\"elapsed\":\"" + num(rng, 10) + "." +
             num(rng, 1000) + "s\",\"queue\":\"default\",\"worker\":\"worker-" + num(rng, 32) +
             "\"}";
    case 4:
      return timestamp(rng) + " ERROR [WORKER] task " + num(rng, 100000) + " failed after " +
             num(rng, 5) + " retries: connection reset by peer (errno 104); next attempt in " +
             num(rng, 1000) + " ms";
    default:
      return "10.0." + num(rng, 256) + "." + num(rng, 256) +
             " - - [27/Nov/2026:10:13:12 +0000] \"GET /static/app." + hex(rng, 8) +
             ".js HTTP/1.1\" 304 0 \"https://shop.example.com/cart\" \"Mozilla/5.0 (X11; "
             "Linux x86_64) AppleWebKit/537.36\" rt=0.00" +
             num(rng, 10);
  }
}

// Log lines each holding personal data or a credential.
std::string pii_line(std::mt19937_64& rng) {
  static const char* const kNames[] = {"alice.smith", "bob", "carol_j", "dave+test", "erin.o"};
  static const char* const kCards[] = {"4111 1111 1111 1111", "5555-5555-5555-4444",
                                       "378282246310005", "6011111111111117"};
  const std::string name = kNames[rng() % 5];
  switch (rng() % 6) {
    case 0:
      return timestamp(rng) + " INFO  [AUTH] user " + name +
             "@example.com logged in from 203.0.113." + num(rng, 256) +
             " password=" + hex(rng, 10) + " session ok";
    case 1:
      return timestamp(rng) + " INFO  [PAYMENT] card " + kCards[rng() % 4] + " charged " +
             num(rng, 500) + ".50 EUR for order " + num(rng, 100000);
    case 2:
      return "{\"user\":\"" + name + "\",\"email\":\"" + name +
             "@example.org\",\"phone\":\"+1 415-555-0" + num(rng, 900) + "\",\"ssn\":\"123-45-" +
             std::to_string(1000 + rng() % 9000) + "\"}";
    case 3:
      return timestamp(rng) +
             " DEBUG [HTTP] Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI" + hex(rng, 16) +
             "In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    case 4:
      return timestamp(rng) + " INFO  [DB] connecting to postgres://app:" + hex(rng, 12) +
             "@db.internal:5432/prod with aws key AKIAIOSFODNN7EXAMPLE";
    default:
      return timestamp(rng) + " INFO  [CI] token ghp_" + hex(rng, 36) + " used by " + name +
             "@example.net";
  }
}

Lines make_text(bool pii, std::size_t bytes) {
  std::mt19937_64 rng(pii ? 42 : 7);
  Lines t;
  while (t.bytes < bytes) {
    t.lines.push_back(pii ? pii_line(rng) : clean_line(rng));
    t.bytes += t.lines.back().size();
  }
  for (const auto& l : t.lines) {
    t.joined += l;
    t.joined += '\n';
  }
  return t;
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Row {
  double median_mb_s;  // CPU time
  double min_mb_s;
  double max_mb_s;
  double wall_median_mb_s;
  std::size_t changed;
};

template <typename Body>
Row measure(std::size_t bytes, int runs, Body body) {
  std::vector<double> cpu;
  std::vector<double> wall;
  std::size_t changed = 0;
  const double mb = static_cast<double>(bytes) / 1e6;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    const double cpu_start = thread_cpu_seconds();
    changed = body();
    cpu.push_back(mb / (thread_cpu_seconds() - cpu_start));
    wall.push_back(mb / std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  return {cpu[cpu.size() / 2], cpu.front(), cpu.back(), wall[wall.size() / 2], changed};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mb = 32;
  int runs = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if ((a == "--mb" || a == "--runs") && i + 1 < argc) {
      const long v = std::strtol(argv[++i], nullptr, 10);
      if (v <= 0) {
        std::fprintf(stderr, "hydra-redact-bench: %s needs a positive number\n", a.data());
        return 64;
      }
      if (a == "--mb") {
        mb = static_cast<std::size_t>(v);
      } else {
        runs = static_cast<int>(v);
      }
    } else {
      std::fprintf(stderr, "usage: hydra-redact-bench [--mb N] [--runs R]\n");
      return 64;
    }
  }

  const hydra::protect::Redactor redactor;  // the default detectors
  std::printf(
      "hydra-redact-bench: default detectors, %zu MB per text, %d runs; MB/s over CPU time "
      "(median, min, max), wall: median over wall-clock time\n\n",
      mb, runs);
  std::printf("%-10s %-11s %9s %9s %9s %9s %10s %9s\n", "text", "calls", "MB/s", "min", "max",
              "wall", "lines", "changed");
  for (const bool pii : {false, true}) {
    const Lines text = make_text(pii, mb * 1000 * 1000);
    std::string out;
    out.reserve(4096);
    const Row per_record = measure(text.bytes, runs, [&] {
      std::size_t changed = 0;
      for (const std::string& line : text.lines) {
        out.clear();
        changed += redactor.redact(line, out) != hydra::protect::Outcome::unchanged ? 1 : 0;
      }
      return changed;
    });
    const Row one_text = measure(text.joined.size(), runs, [&] {
      out.clear();
      return redactor.redact(text.joined, out) != hydra::protect::Outcome::unchanged ? 1u : 0u;
    });
    const char* name = pii ? "pii-rich" : "clean";
    std::printf("%-10s %-11s %9.0f %9.0f %9.0f %9.0f %10zu %9zu\n", name, "per record",
                per_record.median_mb_s, per_record.min_mb_s, per_record.max_mb_s,
                per_record.wall_median_mb_s, text.lines.size(), per_record.changed);
    std::printf("%-10s %-11s %9.0f %9.0f %9.0f %9.0f %10s %9s\n", name, "one text",
                one_text.median_mb_s, one_text.min_mb_s, one_text.max_mb_s,
                one_text.wall_median_mb_s, "-", one_text.changed != 0 ? "yes" : "no");
  }
  return 0;
}
