// hydra-bridge-bench: what the live view costs the application, and how fast
// a record reaches a client (docs/bridge.md, "Performance").
//
//   hydra-bridge-bench [--records N] [--runs R] [--rate N] [--seconds S] [--quick]
//                      [--only none|idle|keep|client|spdlog|latency]
//
// Throughput rows: an async logger writing N records (each "order {} paid",
// with two fields) to a JSON file, timed from the first call to the return
// of flush(): with no bridge; with a `bridge` destination and no client;
// with one that keeps records with no client (keep_when_idle); with one client subscribed to the
// full stream (a WebSocket client on a thread of its own, which counts what arrives). spdlog's
// async file logger writes the same lines beside them. Medians of R runs. Latency: N records a
// second for S seconds, paced, each carrying the time it was logged; the client notes when each
// arrives (p50, p99, max).
// --only runs one of them (to profile it: perf record -g hydra-bridge-bench
// --only client).
// CPU per record: the time on a CPU of the logger's backend thread
// (hydra-backend) and of the bridge's (hydra-bridge) over a run, divided by
// its records (from /proc/self/task/*/schedstat). On a machine where the
// threads share fewer cores than they are (2 here: the application's, the
// backend, the bridge and the client), the throughput rows measure that
// sharing; the backend's CPU per record is what bounds the application
// where each has a core of its own (the application thread only enqueues).
#include <utility>  // before Asio (Boost 1.74)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "hydra/bridge/bridge_sink.hpp"
#include "hydra/config/builder.hpp"
#include "hydra/hydra.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// A client of the full stream on its own thread: counts records and gapped
// records; with `latency`, parses each record's t field and keeps now - t.
class Client {
 public:
  Client(std::uint16_t port, bool latency) : latency_(latency) {
    net::ip::tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve("127.0.0.1", std::to_string(port));
    net::connect(ws_.next_layer(), endpoints);
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol, "hydra.v1");
    }));
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/ws");
    ws_.write(net::buffer(std::string(R"({"type":"hello","protocol":1})")));
    ws_.write(net::buffer(std::string(R"({"type":"subscribe","id":"all"})")));
    thread_ = std::thread([this] { run(); });
  }
  ~Client() {
    stop_ = true;
    beast::error_code ec;
    ws_.next_layer().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    thread_.join();
  }
  // Waits until `n` records arrived or were reported in gaps (or 60 s).
  bool wait_for(std::uint64_t n) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (received_ + gapped_ < n) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  std::uint64_t received() const { return received_; }
  std::uint64_t gapped() const { return gapped_; }
  std::vector<double> latencies_ms() {
    std::lock_guard lock(mutex_);
    return latencies_;
  }

 private:
  void run() {
    beast::flat_buffer buffer;
    while (!stop_) {
      beast::error_code ec;
      ws_.read(buffer, ec);
      if (ec) return;
      const std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
      const std::int64_t at = now_ns();
      if (text.find(R"("type":"records")") != std::string_view::npos) {
        std::uint64_t n = 0;
        for (std::size_t p = text.find(R"({"seq":")"); p != std::string_view::npos;
             p = text.find(R"({"seq":")", p + 1)) {
          ++n;
        }
        if (latency_) {
          const auto frame = nlohmann::json::parse(text);
          std::lock_guard lock(mutex_);
          for (const auto& r : frame["records"]) {
            latencies_.push_back(static_cast<double>(at - r["fields"]["t"].get<std::int64_t>()) /
                                 1e6);
          }
        }
        received_ += n;
      } else if (text.find(R"("type":"gap")") != std::string_view::npos) {
        const auto frame = nlohmann::json::parse(text);
        if (frame.contains("count")) gapped_ += std::stoull(frame["count"].get<std::string>());
      }
      buffer.consume(buffer.size());
    }
  }

  net::io_context ioc_;
  websocket::stream<net::ip::tcp::socket> ws_{ioc_};
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> received_{0}, gapped_{0};
  const bool latency_;
  std::mutex mutex_;
  std::vector<double> latencies_;
};

// The time on a CPU, in ns, of this process's threads named `name` (their
// comm: pthread_setname_np), from /proc/self/task/*/schedstat.
std::uint64_t thread_cpu_ns(std::string_view name) {
  std::uint64_t total = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string got;
    std::getline(comm, got);
    if (got != name) continue;
    std::ifstream stat(task.path() / "schedstat");
    std::uint64_t ns = 0;
    if (stat >> ns) total += ns;
  }
  return total;
}

std::shared_ptr<hydra::bridge::Bridge> make_bridge(bool keep_when_idle = false) {
  hydra::bridge::BridgeOptions o;
  o.keep_when_idle = keep_when_idle;
  o.listen = "127.0.0.1:0";
  o.service = "bench";
  o.client_queue_bytes = 64u << 20;  // the ring and the rest as configured by default
  return std::make_shared<hydra::bridge::Bridge>(o);
}

// keeping: no client, but the bridge copies each record into its ring
// (keep_when_idle), as it does while a client watches: the copy's own cost.
enum class Mode { no_bridge, no_client, keeping, one_client };

struct Outcome {
  double records_per_s = 0;
  std::uint64_t received = 0, gapped = 0;
  double backend_ns = 0, bridge_ns = 0;  // CPU per record
};

Outcome run_hydra(Mode mode, std::uint64_t n, const std::filesystem::path& dir) {
  const auto path = dir / "hydra.jsonl";
  std::filesystem::remove(path);
  hydra::LoggerBuilder b("bench");
  b.async().layer("DEFAULT").file(path.string(), "json");
  std::shared_ptr<hydra::bridge::Bridge> bridge;
  if (mode != Mode::no_bridge) {
    bridge = make_bridge(mode == Mode::keeping);
    b.sink(std::make_shared<hydra::bridge::BridgeSink>(bridge), "json");
  }
  hydra::Logger logger(std::move(b).config());
  std::unique_ptr<Client> client;
  if (mode == Mode::one_client) client = std::make_unique<Client>(bridge->port(), false);
  // Let the client's subscribe land before timing.
  if (client) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::uint64_t backend_at = thread_cpu_ns("hydra-backend");
  const std::uint64_t bridge_at = thread_cpu_ns("hydra-bridge");
  const auto start = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    logger.info("order {id} paid {amount}", i, 42.5);
  }
  logger.flush();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Outcome out;
  out.records_per_s = static_cast<double>(n) / seconds;
  out.backend_ns =
      static_cast<double>(thread_cpu_ns("hydra-backend") - backend_at) / static_cast<double>(n);
  if (client) {
    client->wait_for(n);
    out.received = client->received();
    out.gapped = client->gapped();
  }
  // The bridge's thread: up to when the client has what it will get.
  out.bridge_ns =
      static_cast<double>(thread_cpu_ns("hydra-bridge") - bridge_at) / static_cast<double>(n);
  return out;
}

double run_spdlog(std::uint64_t n, const std::filesystem::path& dir) {
  const auto path = dir / "spdlog.log";
  std::filesystem::remove(path);
  spdlog::init_thread_pool(1 << 18, 1);
  auto logger = spdlog::basic_logger_mt<spdlog::async_factory>("bench", path.string());
  logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","message":"%v"})");
  const auto start = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) logger->info("order {} paid {}", i, 42.5);
  logger->flush();
  spdlog::drop_all();
  spdlog::shutdown();
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

struct Series {
  std::vector<double> v;
  double median() {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  double min() { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
  double max() { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t records = 1'000'000;
  int runs = 5;
  int rate = 10'000;
  int seconds = 10;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has = i + 1 < argc;
    if (arg == "--records" && has) {
      records = std::stoull(argv[++i]);
    } else if (arg == "--runs" && has) {
      runs = std::stoi(argv[++i]);
    } else if (arg == "--rate" && has) {
      rate = std::stoi(argv[++i]);
    } else if (arg == "--seconds" && has) {
      seconds = std::stoi(argv[++i]);
    } else if (arg == "--only" && has) {
      only = argv[++i];
      if (only != "none" && only != "idle" && only != "keep" && only != "client" &&
          only != "spdlog" && only != "latency") {
        std::fprintf(stderr,
                     "hydra-bridge-bench: --only '%s': none, idle, keep, client, spdlog or "
                     "latency\n",
                     only.c_str());
        return 64;
      }
    } else if (arg == "--quick") {
      records = 100'000;
      runs = 1;
      seconds = 2;
    } else {
      std::fprintf(stderr,
                   "usage: hydra-bridge-bench [--records N] [--runs R] [--rate N] [--seconds S] "
                   "[--quick] [--only none|idle|keep|client|spdlog|latency]\n");
      return 64;
    }
  }
  const auto dir = std::filesystem::temp_directory_path() / "hydra-bridge-bench";
  std::filesystem::create_directories(dir);

  Series none, idle, keeping, watched, spd;
  Series none_cpu, idle_cpu, keeping_cpu, watched_cpu, watched_bridge_cpu;
  std::uint64_t received = 0, gapped = 0;
  const auto wanted = [&](const char* name) { return only.empty() || only == name; };
  // One run of a row: its throughput and the backend's CPU per record.
  const auto measure = [&](const char* name, Mode mode, Series& rate, Series& cpu) {
    Outcome o;
    if (!wanted(name)) return o;
    o = run_hydra(mode, records, dir);
    rate.v.push_back(o.records_per_s);
    cpu.v.push_back(o.backend_ns);
    return o;
  };
  for (int r = 0; r < runs; ++r) {
    measure("none", Mode::no_bridge, none, none_cpu);
    measure("idle", Mode::no_client, idle, idle_cpu);
    measure("keep", Mode::keeping, keeping, keeping_cpu);
    if (wanted("client")) {
      const Outcome o = measure("client", Mode::one_client, watched, watched_cpu);
      watched_bridge_cpu.v.push_back(o.bridge_ns);
      received += o.received;
      gapped += o.gapped;
    }
    if (wanted("spdlog")) spd.v.push_back(run_spdlog(records, dir));
  }
  if (only != "latency") {
    std::printf("\nasync logger, %llu records to a JSON file; records/s, median of %d (min-max)\n",
                static_cast<unsigned long long>(records), runs);
    const auto row = [](const char* name, Series& s) {
      if (s.v.empty()) return;
      std::printf("%-44s %8.0fk (%.0f-%.0f)\n", name, s.median() / 1e3, s.min() / 1e3,
                  s.max() / 1e3);
    };
    row("hydra, no bridge", none);
    row("hydra + bridge, no client", idle);
    row("hydra + bridge keeping records, no client", keeping);
    row("hydra + bridge, 1 client on the full stream", watched);
    row("spdlog async file (same lines)", spd);
    if (!none.v.empty() && !idle.v.empty()) {
      std::printf("%-44s %8.2f  (target >= 0.95)\n", "no client / no bridge",
                  idle.median() / none.median());
    }
    if (!none.v.empty() && !watched.v.empty()) {
      std::printf("%-44s %8.2f  (target >= 0.85)\n", "1 client / no bridge",
                  watched.median() / none.median());
    }
    std::printf("\nCPU per record (ns), median of %d: the backend thread [the bridge's]\n", runs);
    const auto cpu = [](const char* name, Series& s) {
      if (!s.v.empty()) std::printf("%-44s %8.0f\n", name, s.median());
    };
    cpu("hydra, no bridge", none_cpu);
    cpu("hydra + bridge, no client", idle_cpu);
    cpu("hydra + bridge keeping records, no client", keeping_cpu);
    cpu("hydra + bridge, 1 client on the full stream", watched_cpu);
    cpu("  [the bridge's thread, 1 client]", watched_bridge_cpu);
    if (!none_cpu.v.empty() && !watched_cpu.v.empty()) {
      std::printf("%-44s %8.2f  (the 1-client ratio with a core each)\n",
                  "backend no bridge / backend 1 client", none_cpu.median() / watched_cpu.median());
    }
    if (!watched.v.empty()) {
      std::printf("%-44s %llu received + %llu in gaps, of %llu\n", "the client got",
                  static_cast<unsigned long long>(received),
                  static_cast<unsigned long long>(gapped),
                  static_cast<unsigned long long>(records * static_cast<std::uint64_t>(runs)));
    }
  }

  // Latency: paced records carrying their time.
  if (wanted("latency")) {
    auto bridge = make_bridge();
    hydra::LoggerBuilder b("bench");
    b.async().layer("DEFAULT").file((dir / "latency.jsonl").string(), "json");
    b.sink(std::make_shared<hydra::bridge::BridgeSink>(bridge), "json");
    hydra::Logger logger(std::move(b).config());
    Client client(bridge->port(), true);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::uint64_t total =
        static_cast<std::uint64_t>(rate) * static_cast<std::uint64_t>(seconds);
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < total; ++i) {
      const auto due = start + std::chrono::nanoseconds(
                                   static_cast<std::int64_t>(1e9 * static_cast<double>(i) / rate));
      while (Clock::now() < due) {
      }
      logger.info("order {id} paid at {t}", i, now_ns());
    }
    logger.flush();
    client.wait_for(total);
    const auto l = client.latencies_ms();
    std::printf(
        "\nlatency, log call to the client, %d records/s for %d s (%zu records, %llu in gaps)\n",
        rate, seconds, l.size(), static_cast<unsigned long long>(client.gapped()));
    std::printf("%-44s %8.1f ms\n", "p50", percentile(l, 0.50));
    std::printf("%-44s %8.1f ms  (target < 250)\n", "p99", percentile(l, 0.99));
    std::printf("%-44s %8.1f ms\n", "max", percentile(l, 1.0));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
