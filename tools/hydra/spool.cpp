// hydra spool: a network destination's disk spool (hydra/net/spool.hpp).
//   hydra spool inspect DIR              its counts
//   hydra spool replay [--consume] DIR   its records, oldest first, to stdout
// Opening a spool takes its lock (a spool in use by its process is refused)
// and cuts off a record that a crash left half-written at its end.
//
// Exit codes: 0 done; 1 the spool cannot be opened or read; 64 usage.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <hydra/net/spool.hpp>

#include "commands.hpp"
#include "help.hpp"

namespace hydra::tools {
namespace {

std::string utc(std::int64_t ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06}Z", text, (ns % 1'000'000'000) / 1000);
}

int inspect(const std::string& dir) {
  net::SpoolOptions options;
  options.dir = dir;
  const net::Spool spool(options);
  const net::SpoolStats s = spool.stats();
  fmt::print("{}: {} record{} in {} segment{}, {} bytes\n", dir, s.records,
             s.records == 1 ? "" : "s", s.segments, s.segments == 1 ? "" : "s", s.bytes);
  if (s.records > 0) fmt::print("oldest record: {}\n", utc(s.oldest_time_ns));
  fmt::print("corrupt bytes skipped: {}\ntorn bytes cut: {}\n", s.corrupt_bytes, s.torn_bytes);
  return 0;
}

void print(const net::SpooledRecord& r) {
  std::fwrite(r.bytes.data(), 1, r.bytes.size(), stdout);
  if (r.bytes.empty() || r.bytes.back() != '\n') std::fputc('\n', stdout);
}

// Without `consume` the spool is left as it is, and read whole (it holds at
// most its cap); with it, each batch is taken out once it was written.
int replay(const std::string& dir, bool consume) {
  net::SpoolOptions options;
  options.dir = dir;
  net::Spool spool(options);
  if (!consume) {
    for (const auto& r : spool.peek(static_cast<std::size_t>(-1), static_cast<std::size_t>(-1))) {
      print(r);
    }
  } else {
    for (;;) {
      const auto batch = spool.peek(1000, std::size_t{4} << 20);
      if (batch.empty()) break;
      for (const auto& r : batch) print(r);
      if (std::fflush(stdout) != 0) break;  // nothing taken out that was not written
      spool.pop(batch.size());
    }
  }
  return std::fflush(stdout) == 0
             ? 0
             : command_failed("spool replay", "cannot write to standard output");
}

}  // namespace

int run_spool(Args args) {
  if (args.empty()) return usage_error("spool", "inspect or replay?");
  const std::string_view sub = args.front();
  if (is_help_option(sub) || sub == "help") return print_help("spool");
  if (sub != "inspect" && sub != "replay") {
    return usage_error("spool", "unknown subcommand " + quote(sub) + " (valid: inspect, replay)");
  }
  const std::string name = "spool " + std::string(sub);
  bool consume = false;
  std::string dir;
  for (const std::string_view arg : args.subspan(1)) {
    if (is_help_option(arg)) return print_help(name);
    if (sub == "replay" && arg == "--consume") {
      consume = true;
    } else if (is_option(arg)) {
      return usage_error(name, "unknown option " + quote(arg));
    } else if (dir.empty()) {
      dir = std::string(arg);
    } else {
      return usage_error(name, "unexpected argument " + quote(arg));
    }
  }
  if (dir.empty()) return usage_error(name, "which spool directory?");
  try {
    return sub == "inspect" ? inspect(dir) : replay(dir, consume);
  } catch (const std::exception& e) {
    return command_failed(name, e.what());
  }
}

}  // namespace hydra::tools
