// hydra-ship-bench: shipping records off the machine (hydra::net, issue 19),
// end to end against local servers, with every count checked.
//
//   hydra-ship-bench [--records N] [--runs R] [--quick] [--only S] [--dir D]
//     --records: records per run (default 1000000)
//     --runs:    runs per row; the median is shown with min and max (default 5)
//     --quick:   20000 records, 1 run (a smoke test)
//     --only:    one scenario: syslog, otlp or spool (hydra-syslog: the
//                syslog scenario without spdlog, to profile)
//     --spool-overflow: spool (default) or block, the spool rows' overflow
//     --dir:     where rsyslog's files and the spools go (default: a new
//                directory under $TMPDIR, removed at the end)
//
// Scenarios, each a sync hydra::Logger logging from one thread:
//   syslog: a `syslog` destination (TCP, octet counting) into a local rsyslogd
//           writing each message to a file; spdlog's tcp_sink (one message a
//           line) into a second input of the same rsyslogd, side by side.
//   otlp:   an `otlp` destination, protobuf and JSON, to an in-process
//           OTLP/HTTP receiver (bench/otlp_sink_server.hpp).
//   spool:  a null sink beside a `syslog` destination with a spool
//           (overflow = spool, or --spool-overflow block): the
//           application's calls/s with the destination up (rsyslogd) and
//           down (connection refused); up, every record must then reach
//           rsyslogd's file, down, the spool.
//
// Rates, in records/s of one run's N records, all from the first call:
//   app calls: until the last logging call returned;
//   delivered: until the engine's flush said every record was delivered
//              (syslog over TCP: the kernel took it; OTLP: the receiver's
//              200); spdlog's tcp_sink sends in the call, so its calls are its
//              deliveries;
//   stored:    until rsyslogd's file held all N lines (polled every 2 ms),
//              or the receiver had counted all N LogRecords.
// Every run reconciles: the engine's delivered (or spooled) equals N with
// nothing dropped, and rsyslogd's file or the receiver has exactly N more
// records. A run that does not is reported and the program exits 1.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/tcp_sink.h>
#include <hydra/hydra.hpp>
#include <hydra/net/network_sink.hpp>
#include <hydra/net/otlp.hpp>
#include <hydra/net/syslog.hpp>
#include <hydra/sink/memory_sink.hpp>
#include <hydra/sink/null_sink.hpp>

#include "otlp_sink_server.hpp"
#include "rsyslog_server.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using hydra::bench::LineCounter;
using hydra::bench::OtlpSinkServer;
using hydra::bench::RsyslogServer;
using hydra::net::NetworkSink;

// The message, checked at compile time by each library: hydra_bench.cpp's line.
#define SHIP_BENCH_MESSAGE "request {} handled in {:.3f} ms by worker {}"
constexpr const char* kWorkers[] = {"alpha", "beta", "gamma", "delta"};

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// One run's figures, in records/s (0: not measured for that row).
struct Run {
  double app = 0;
  double delivered = 0;
  double stored = 0;
  double bytes_per_record = 0;
};

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
};

Summary summarize(std::vector<double> v) {
  if (v.empty() || v.front() == 0) return {};
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

struct Row {
  std::string name;
  std::vector<Run> runs;
  Summary app() const { return pick(&Run::app); }
  Summary delivered() const { return pick(&Run::delivered); }
  Summary stored() const { return pick(&Run::stored); }
  Summary bytes() const { return pick(&Run::bytes_per_record); }

 private:
  Summary pick(double Run::*field) const {
    std::vector<double> v;
    for (const Run& r : runs) v.push_back(r.*field);
    return summarize(v);
  }
};

struct Options {
  std::size_t records = 1'000'000;
  int runs = 5;
  std::string only;
  std::filesystem::path dir;
  // The spool rows' overflow policy: spool (the default: a full queue goes
  // to disk on the caller, nothing is lost and the caller never waits for
  // the network) or block (the caller waits for the sender).
  hydra::net::Overflow spool_overflow = hydra::net::Overflow::spool;
};

// Reconciliation failures, printed as they happen; any makes the exit code 1.
int g_failures = 0;

void fail(const std::string& row, const std::string& what) {
  std::fprintf(stderr, "FAIL %s: %s\n", row.c_str(), what.c_str());
  ++g_failures;
}

std::string counts_text(const hydra::DeliveryCounts& c) {
  return "submitted " + std::to_string(c.submitted) + ", delivered " + std::to_string(c.delivered) +
         ", spooled " + std::to_string(c.spooled) + ", dropped " + std::to_string(c.dropped()) +
         ", queued " + std::to_string(c.queued) + ", retries " + std::to_string(c.retries);
}

// Waits (bounded, 120 s) until `lines` has `target` lines; the time it got
// there, or nullopt.
std::optional<Clock::time_point> wait_for_lines(LineCounter& lines, std::uint64_t target) {
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (lines.count() < target) {
    if (Clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return Clock::now();
}

hydra::net::DeliveryOptions delivery(const std::string& name) {
  hydra::net::DeliveryOptions o;
  o.name = name;
  o.overflow = hydra::net::Overflow::block;  // a bench counts every record
  return o;
}

// The application's loop: N records, one thread.
void log_records(hydra::Logger& log, std::size_t records) {
  for (std::size_t i = 0; i < records; ++i) log.info(SHIP_BENCH_MESSAGE, i, 0.5, kWorkers[i & 3]);
}

// --- syslog ---------------------------------------------------------------

Run hydra_syslog_run(const Options& opt, RsyslogServer& server, LineCounter& lines,
                     std::uint64_t& expected_lines) {
  hydra::net::SyslogTarget target;
  target.protocol = hydra::net::SyslogTarget::Protocol::tcp;
  target.port = server.octet_port();
  auto network = std::make_shared<NetworkSink>(delivery("syslog tcp"),
                                               hydra::net::make_syslog_transport(target));
  hydra::LoggerConfig config;
  config.name = "ship-bench";
  config.layers["APP"].destinations = {hydra::to_sink(network, "syslog")};
  hydra::Logger log(config);
  const std::uint64_t bytes_before = lines.bytes();
  Run run;
  const auto start = Clock::now();
  log_records(log, opt.records);
  const auto called = Clock::now();
  const bool flushed = network->engine().flush(std::chrono::minutes(2));
  const auto delivered = Clock::now();
  expected_lines += opt.records;
  const auto stored = wait_for_lines(lines, expected_lines);
  const auto c = network->counts();
  if (!flushed || c.delivered != opt.records || c.dropped() != 0 || !c.balanced()) {
    fail("hydra syslog", "engine: " + counts_text(c) + "; " + network->engine().last_error());
  }
  if (!stored || lines.count() != expected_lines) {
    fail("hydra syslog", "rsyslog's file has " + std::to_string(lines.count()) + " lines, " +
                             std::to_string(expected_lines) + " expected");
    expected_lines = lines.count();
  }
  const double n = static_cast<double>(opt.records);
  run.app = n / seconds(start, called);
  run.delivered = n / seconds(start, delivered);
  if (stored) run.stored = n / seconds(start, *stored);
  run.bytes_per_record = static_cast<double>(lines.bytes() - bytes_before) / n;
  return run;
}

// rsyslogd's own ceiling on this machine: the syslog row's N lines, made
// ahead (one line Hydra formatted, as the syslog row sends it, repeated),
// octet-counted and written to rsyslogd's octet input in 256 KiB writes from
// one thread, with no logger and no engine on the way. What rsyslogd stores
// per second bounds every sender; the syslog rows are read against it.
Run rsyslog_ceiling_run(const Options& opt, RsyslogServer& server, LineCounter& lines,
                        std::uint64_t& expected_lines) {
  auto memory = std::make_shared<hydra::MemorySink>();
  {
    hydra::LoggerConfig config;
    config.name = "ship-bench";
    config.layers["APP"].destinations = {hydra::to_sink(memory, "syslog")};
    hydra::Logger log(config);
    log_records(log, 1);
  }
  std::string line = memory->lines().at(0);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const std::string frame = std::to_string(line.size()) + " " + line;
  std::string chunk;
  const std::size_t per_chunk = std::max<std::size_t>(1, (std::size_t{256} << 10) / frame.size());
  for (std::size_t i = 0; i < per_chunk; ++i) chunk += frame;

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(server.octet_port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Run run;
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    fail("rsyslogd ceiling", std::string("connect: ") + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return run;
  }
  const std::uint64_t bytes_before = lines.bytes();
  const auto start = Clock::now();
  std::size_t left = opt.records;
  bool ok = true;
  while (left > 0 && ok) {
    const std::size_t n = std::min(left, per_chunk);
    std::string_view out(chunk.data(), n * frame.size());
    while (!out.empty()) {
      const ssize_t w = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        fail("rsyslogd ceiling", std::string("send: ") + std::strerror(errno));
        ok = false;
        break;
      }
      out.remove_prefix(static_cast<std::size_t>(w));
    }
    left -= n;
  }
  const auto sent = Clock::now();
  ::close(fd);
  expected_lines += opt.records;
  const auto stored = wait_for_lines(lines, expected_lines);
  if (!stored || lines.count() != expected_lines) {
    fail("rsyslogd ceiling", "rsyslog's file has " + std::to_string(lines.count()) + " lines, " +
                                 std::to_string(expected_lines) + " expected");
    expected_lines = lines.count();
  }
  const double n = static_cast<double>(opt.records);
  run.app = n / seconds(start, sent);
  run.delivered = run.app;
  if (stored) run.stored = n / seconds(start, *stored);
  run.bytes_per_record = static_cast<double>(lines.bytes() - bytes_before) / n;
  return run;
}

// The RFC 5424 header Hydra writes, as spdlog's pattern, so that both send
// lines of about the same size.
std::string spdlog_syslog_pattern() {
  char host[256] = "-";
  ::gethostname(host, sizeof host - 1);
  return "<14>1 %Y-%m-%dT%H:%M:%S.%fZ " + std::string(host) + " ship-bench " +
         std::to_string(::getpid()) + " - - %v";
}

Run spdlog_syslog_run(const Options& opt, RsyslogServer& server, LineCounter& lines,
                      std::uint64_t& expected_lines) {
  spdlog::sinks::tcp_sink_config config("127.0.0.1", server.lf_port());
  auto sink = std::make_shared<spdlog::sinks::tcp_sink_mt>(config);
  spdlog::logger log("ship-bench", sink);
  log.set_pattern(spdlog_syslog_pattern(), spdlog::pattern_time_type::utc);
  const std::uint64_t bytes_before = lines.bytes();
  Run run;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < opt.records; ++i)
    log.info(SHIP_BENCH_MESSAGE, i, 0.5, kWorkers[i & 3]);
  log.flush();
  const auto called = Clock::now();
  expected_lines += opt.records;
  const auto stored = wait_for_lines(lines, expected_lines);
  if (!stored || lines.count() != expected_lines) {
    fail("spdlog tcp_sink", "rsyslog's file has " + std::to_string(lines.count()) + " lines, " +
                                std::to_string(expected_lines) + " expected");
    expected_lines = lines.count();
  }
  const double n = static_cast<double>(opt.records);
  run.app = n / seconds(start, called);
  run.delivered = run.app;
  if (stored) run.stored = n / seconds(start, *stored);
  run.bytes_per_record = static_cast<double>(lines.bytes() - bytes_before) / n;
  return run;
}

// --- otlp -----------------------------------------------------------------

Run otlp_run(const Options& opt, OtlpSinkServer& receiver, hydra::net::OtlpEncoding encoding) {
  const std::string name = encoding == hydra::net::OtlpEncoding::json ? "otlp json" : "otlp pb";
  hydra::net::OtlpTarget target;
  target.endpoint = receiver.url();
  target.encoding = encoding;
  target.resource = hydra::net::otlp_resource("ship-bench");
  auto network = std::make_shared<NetworkSink>(
      delivery(name), hydra::net::make_otlp_transport(target), std::chrono::seconds(5),
      std::chrono::seconds(5), hydra::net::make_otlp_encoder(encoding));
  hydra::LoggerConfig config;
  config.name = "ship-bench";
  config.layers["APP"].destinations = {hydra::to_sink(network)};
  hydra::Logger log(config);
  const std::uint64_t records_before = receiver.records();
  const std::uint64_t bytes_before = receiver.body_bytes();
  const std::uint64_t malformed_before = receiver.malformed();
  Run run;
  const auto start = Clock::now();
  log_records(log, opt.records);
  const auto called = Clock::now();
  const bool flushed = network->engine().flush(std::chrono::minutes(2));
  const auto delivered = Clock::now();
  const auto c = network->counts();
  if (!flushed || c.delivered != opt.records || c.dropped() != 0 || !c.balanced()) {
    fail(name, "engine: " + counts_text(c) + "; " + network->engine().last_error());
  }
  // The receiver counted each batch before it answered: nothing to wait for.
  const std::uint64_t received = receiver.records() - records_before;
  if (received != opt.records || receiver.malformed() != malformed_before) {
    fail(name, "the receiver counted " + std::to_string(received) + " LogRecords (" +
                   std::to_string(receiver.malformed() - malformed_before) +
                   " malformed requests), " + std::to_string(opt.records) + " expected");
  }
  const double n = static_cast<double>(opt.records);
  run.app = n / seconds(start, called);
  run.delivered = n / seconds(start, delivered);
  run.bytes_per_record = static_cast<double>(receiver.body_bytes() - bytes_before) / n;
  return run;
}

// --- spool ----------------------------------------------------------------

// The application's calls/s with a null sink and a syslog destination that
// spools (overflow = spool: a full queue goes to disk, the caller never
// waits for the network); `port` is rsyslogd's (up) or nothing's (down).
Run spool_run(const Options& opt, int port, bool up, const std::filesystem::path& spool_dir,
              LineCounter& lines, std::uint64_t& expected_lines) {
  const std::string name = up ? "spool, destination up" : "spool, destination down";
  std::filesystem::remove_all(spool_dir);
  hydra::net::SyslogTarget target;
  target.protocol = hydra::net::SyslogTarget::Protocol::tcp;
  target.port = port;
  auto options = delivery(name);
  options.overflow = opt.spool_overflow;
  options.spool = hydra::net::SpoolOptions{};
  options.spool->dir = spool_dir;
  options.spool->max_bytes = std::uint64_t{4} << 30;  // every record of a run fits
  // Down, the sink's destructor need not try to send what is spooled.
  auto network = std::make_shared<NetworkSink>(
      options, hydra::net::make_syslog_transport(target), std::chrono::seconds(5),
      up ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(100));
  Run run;
  {
    hydra::LoggerConfig config;
    config.name = "ship-bench";
    config.layers["APP"].destinations = {hydra::to_sink(std::make_shared<hydra::NullSink>()),
                                         hydra::to_sink(network, "syslog")};
    hydra::Logger log(config);
    const auto start = Clock::now();
    log_records(log, opt.records);
    run.app = static_cast<double>(opt.records) / seconds(start, Clock::now());
  }
  // Up: every record delivered (some through the spool), and in rsyslog's
  // file. Down: every record in the spool, none dropped.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  auto settled = [&] {
    const auto c = network->counts();
    return up ? c.delivered == opt.records : c.spooled == opt.records && c.queued == 0;
  };
  if (up) (void)network->engine().flush(std::chrono::seconds(30));
  while (!settled() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto c = network->counts();
  if (!settled() || c.dropped() != 0 || !c.balanced()) {
    fail(name, "engine, 30 s after the last call: " + counts_text(c) + "; " +
                   network->engine().last_error());
  }
  if (up) {
    expected_lines += c.delivered;  // the records not delivered failed above
    if (!wait_for_lines(lines, expected_lines) || lines.count() != expected_lines) {
      fail(name, "rsyslog's file has " + std::to_string(lines.count()) + " lines, " +
                     std::to_string(expected_lines) + " expected");
      expected_lines = lines.count();
    }
  }
  network.reset();
  std::filesystem::remove_all(spool_dir);
  return run;
}

// --- output ---------------------------------------------------------------

std::string rate(const Summary& s) {
  if (s.median == 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0fk (%.0f-%.0f)", s.median / 1e3, s.min / 1e3, s.max / 1e3);
  return buf;
}

void print_table(const std::vector<Row>& rows, int runs) {
  std::printf("\nrecords/s, median of %d (min-max), in thousands\n", runs);
  std::printf("%-26s %-22s %-22s %-22s %s\n", "row", "app calls", "delivered", "stored",
              "bytes/record");
  for (const Row& row : rows) {
    const Summary b = row.bytes();
    char bytes[32] = "-";
    if (b.median > 0) std::snprintf(bytes, sizeof bytes, "%.0f", b.median);
    std::printf("%-26s %-22s %-22s %-22s %s\n", row.name.c_str(), rate(row.app()).c_str(),
                rate(row.delivered()).c_str(), rate(row.stored()).c_str(), bytes);
  }
}

const Row* find(const std::vector<Row>& rows, const std::string& name) {
  for (const Row& r : rows) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

void print_ratio(const char* what, double value, const char* target, bool met) {
  std::printf("%-52s %8.2f   %s%s\n", what, value, target, met ? "" : "  (below target)");
}

void print_ratios(const std::vector<Row>& rows) {
  std::printf("\n");
  if (const Row* h = find(rows, "hydra syslog tcp")) {
    const double d = h->delivered().median;
    print_ratio("hydra syslog tcp, delivered (k records/s)", d / 1e3, "target >= 500", d >= 5e5);
    if (const Row* s = find(rows, "spdlog tcp_sink")) {
      std::printf("%-52s %8.2f\n", "hydra / spdlog, delivered", d / s->delivered().median);
      std::printf("%-52s %8.2f\n", "hydra / spdlog, stored in rsyslog's file",
                  h->stored().median / s->stored().median);
    }
    if (const Row* c = find(rows, "rsyslogd ceiling")) {
      std::printf("%-52s %8.2f\n", "hydra / rsyslogd's ceiling, stored",
                  h->stored().median / c->stored().median);
    }
  }
  for (const char* name : {"hydra otlp protobuf", "hydra otlp json"}) {
    if (const Row* o = find(rows, name)) {
      const double d = o->delivered().median;
      print_ratio((std::string(name) + ", delivered (k records/s)").c_str(), d / 1e3,
                  "target >= 300", d >= 3e5);
    }
  }
  const Row* up = find(rows, "spool, destination up");
  const Row* down = find(rows, "spool, destination down");
  if (up != nullptr && down != nullptr) {
    const double r = down->app().median / up->app().median;
    print_ratio("app calls/s, destination down / up (spooling)", r, "target >= 0.90", r >= 0.9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool keep_dir = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      opt.records = 20'000;
      opt.runs = 1;
    } else if (arg == "--records" && has_value) {
      opt.records = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--runs" && has_value) {
      opt.runs = std::max(std::atoi(argv[++i]), 1);
    } else if (arg == "--only" && has_value) {
      opt.only = argv[++i];
    } else if (arg == "--spool-overflow" && has_value) {
      const std::string policy = argv[++i];
      if (policy != "spool" && policy != "block") {
        std::fprintf(stderr, "--spool-overflow: spool or block, not '%s'\n", policy.c_str());
        return 2;
      }
      opt.spool_overflow =
          policy == "block" ? hydra::net::Overflow::block : hydra::net::Overflow::spool;
    } else if (arg == "--dir" && has_value) {
      opt.dir = argv[++i];
      keep_dir = true;
    } else {
      std::fprintf(
          stderr,
          "usage: hydra-ship-bench [--records N] [--runs R] [--quick] "
          "[--only syslog|hydra-syslog|otlp|spool] [--spool-overflow spool|block] [--dir D]\n");
      return 2;
    }
  }
  opt.records = std::max<std::size_t>(opt.records, 1);
  if (opt.dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hydra-ship-bench-XXXXXX");
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    opt.dir = tmpl;
  }
  const auto wanted = [&](const char* s) { return opt.only.empty() || opt.only == s; };
  std::printf("hydra-ship-bench: %zu records a run, %d runs, one logging thread, in %s\n",
              opt.records, opt.runs, opt.dir.c_str());
  std::vector<Row> rows;
  try {
    const bool hydra_syslog_only = opt.only == "hydra-syslog";  // to profile
    if (wanted("syslog") || wanted("spool") || hydra_syslog_only) {
      RsyslogServer server(opt.dir / "rsyslog");
      LineCounter octet_lines(server.file("octet"));
      LineCounter lf_lines(server.file("lf"));
      std::uint64_t octet_expected = 0;
      std::uint64_t lf_expected = 0;
      if (wanted("syslog") || hydra_syslog_only) {
        Row hydra{"hydra syslog tcp", {}};
        Row spdlog{"spdlog tcp_sink", {}};
        Row ceiling{"rsyslogd ceiling", {}};
        for (int r = 0; r < opt.runs; ++r) {  // alternating
          hydra.runs.push_back(hydra_syslog_run(opt, server, octet_lines, octet_expected));
          if (!hydra_syslog_only) {
            spdlog.runs.push_back(spdlog_syslog_run(opt, server, lf_lines, lf_expected));
            ceiling.runs.push_back(rsyslog_ceiling_run(opt, server, octet_lines, octet_expected));
          }
          std::printf("  run %d: syslog hydra %.0fk/s delivered", r + 1,
                      hydra.runs.back().delivered / 1e3);
          if (!hydra_syslog_only) {
            std::printf(", spdlog %.0fk/s, rsyslogd ceiling %.0fk/s stored",
                        spdlog.runs.back().delivered / 1e3, ceiling.runs.back().stored / 1e3);
          }
          std::printf("\n");
          std::fflush(stdout);
        }
        rows.push_back(hydra);
        if (!spdlog.runs.empty()) rows.push_back(spdlog);
        if (!ceiling.runs.empty()) rows.push_back(ceiling);
      }
      if (wanted("spool")) {
        Row up{"spool, destination up", {}};
        Row down{"spool, destination down", {}};
        const int refused = hydra::bench::free_tcp_port();
        for (int r = 0; r < opt.runs; ++r) {
          up.runs.push_back(spool_run(opt, server.octet_port(), true, opt.dir / "spool",
                                      octet_lines, octet_expected));
          down.runs.push_back(
              spool_run(opt, refused, false, opt.dir / "spool", octet_lines, octet_expected));
          std::printf("  run %d: spool app calls up %.0fk/s, down %.0fk/s\n", r + 1,
                      up.runs.back().app / 1e3, down.runs.back().app / 1e3);
          std::fflush(stdout);
        }
        rows.push_back(up);
        rows.push_back(down);
      }
    }
    if (wanted("otlp")) {
      OtlpSinkServer receiver;
      Row pb{"hydra otlp protobuf", {}};
      Row json{"hydra otlp json", {}};
      for (int r = 0; r < opt.runs; ++r) {
        pb.runs.push_back(otlp_run(opt, receiver, hydra::net::OtlpEncoding::protobuf));
        json.runs.push_back(otlp_run(opt, receiver, hydra::net::OtlpEncoding::json));
        std::printf("  run %d: otlp protobuf %.0fk/s, json %.0fk/s delivered\n", r + 1,
                    pb.runs.back().delivered / 1e3, json.runs.back().delivered / 1e3);
        std::fflush(stdout);
      }
      rows.push_back(pb);
      rows.push_back(json);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hydra-ship-bench: %s\n", e.what());
    return 1;
  }
  print_table(rows, opt.runs);
  print_ratios(rows);
  if (!keep_dir) {
    std::error_code ec;
    std::filesystem::remove_all(opt.dir, ec);
  }
  if (g_failures > 0) {
    std::printf("\n%d run(s) did not reconcile\n", g_failures);
    return 1;
  }
  return 0;
}
