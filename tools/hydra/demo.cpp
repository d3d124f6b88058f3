// hydra demo: a small service's worth of logging. Four worker threads handle
// "requests" with a scoped request id and log to several layers: APP and
// DATABASE to the colour console, APP to a JSON Lines file, DATABASE to a
// rotating text file, SECURITY to a logfmt file, AUDIT to a CSV file. At the
// end it prints where everything went.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <hydra/hydra.hpp>

#include "commands.hpp"
#include "help.hpp"

namespace hydra::tools {
namespace {

std::size_t count_lines(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

void handle_requests(Logger& log, int worker, int requests) {
  LayerLogger db = log.layer("DATABASE");
  const char* users[] = {"alice", "bob", "carol", "dave"};
  for (int r = 0; r < requests; ++r) {
    const std::string request_id = fmt::format("req-{}-{:03}", worker, r);
    ScopedContext context({{"request_id", request_id}, {"worker", worker}});
    const char* user = users[(worker + r) % 4];
    log.info("user {user} opened {path}", user, "/orders");
    db.debug("SELECT * FROM orders WHERE user = {user} took {ms:.1f} ms", user, 0.4 + r % 7);
    if (r % 9 == 4) db.warning("slow query: {ms} ms", 250 + r);
    if (r % 13 == 7) log.security("failed login for {user} from {ip}", user, "203.0.113.9");
    if (r % 5 == 0) {
      log.with({{"actor", user}, {"action", "update"}, {"resource", "order"}, {"outcome", "ok"}})
          .audit("order {order} updated", 1000 + r);
    }
    if (r % 17 == 16) log.error("payment provider timeout after {attempts} attempts", 3);
  }
}

}  // namespace

int run_demo(Args args) {
  std::filesystem::path dir;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view opt = args[i];
    if (is_help_option(opt)) return print_help("demo");
    if (opt != "--dir") return unknown_argument("demo", opt);
    if (i + 1 >= args.size()) return usage_error("demo", "option '--dir' needs a value");
    dir = std::string(args[++i]);
  }
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "hydra-demo-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("hydra demo: mkdtemp");
      return 1;
    }
    dir = pattern;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "hydra demo: cannot create '%s': %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }

  LoggerConfig config;
  config.name = "demo";
  config.default_level = Level::debug;
  auto console_info = console();
  console_info.level = Level::info;
  config.layers["APP"].destinations = {console_info, file((dir / "app.jsonl").string(), "json")};
  config.layers["DATABASE"].destinations = {
      console_info, rotating_file((dir / "database.log").string(), std::uint64_t{8} * 1024, 3)};
  config.layers["SECURITY"].destinations = {console(),
                                            file((dir / "security.log").string(), "logfmt")};
  auto audit_csv = file((dir / "audit.csv").string(), "csv");
  audit_csv.csv_header = true;
  config.layers["AUDIT"].destinations = {audit_csv};

  try {
    Logger log(config);
    constexpr int kWorkers = 4;
    log.info("demo starting with {workers} workers, logs in {dir}", kWorkers, dir.string());
    std::vector<std::thread> workers;
    workers.reserve(kWorkers);
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&log, w] { handle_requests(log, w, 40); });
    }
    for (auto& t : workers) t.join();
    log.info("demo finished");
    log.flush();
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "hydra demo: %s\n", e.what());
    return 1;
  }

  std::printf("\nWhere the output went (%s):\n", dir.c_str());
  std::printf(
      "  console            APP and DATABASE at info and above, SECURITY, colour on a TTY\n");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::printf("  %-18s %zu lines\n", f.filename().c_str(), count_lines(f));
  }
  return 0;
}

}  // namespace hydra::tools
