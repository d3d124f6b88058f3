// hydra-call-lines: a program to run under valgrind's lackey, which counts
// the cache lines one async log call touches (code and data), the measure
// that timing cannot give on a noisy machine: after an idle pause each of
// those lines may have to come back from memory. scripts/call-lines.py runs
// it and reads the trace.
//
// The calls sit between stores to two marker variables whose addresses the
// program prints first; the script keeps what happens between them. The
// first call makes the thread's queue; the later ones are what every call
// costs.
#include <chrono>
#include <cstdio>
#include <hydra/hydra.hpp>
#include <thread>

namespace {
volatile int g_marker_begin = 0;
volatile int g_marker_end = 0;

// Forty call sites of the same argument types: a program with many log
// calls, where the compiler calls the engine's function for them rather than
// inlining it into each one.
[[gnu::noinline]] void many_sites(hydra::Logger& log, int site, int a, int b) {
  switch (site) {
    case 0: log.info("site 0: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 1: log.info("site 1: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 2: log.info("site 2: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 3: log.info("site 3: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 4: log.info("site 4: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 5: log.info("site 5: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 6: log.info("site 6: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 7: log.info("site 7: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 8: log.info("site 8: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 9: log.info("site 9: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 10: log.info("site 10: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 11: log.info("site 11: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 12: log.info("site 12: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 13: log.info("site 13: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 14: log.info("site 14: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 15: log.info("site 15: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 16: log.info("site 16: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 17: log.info("site 17: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 18: log.info("site 18: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 19: log.info("site 19: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 20: log.info("site 20: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 21: log.info("site 21: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 22: log.info("site 22: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 23: log.info("site 23: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 24: log.info("site 24: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 25: log.info("site 25: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 26: log.info("site 26: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 27: log.info("site 27: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 28: log.info("site 28: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 29: log.info("site 29: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 30: log.info("site 30: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 31: log.info("site 31: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 32: log.info("site 32: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 33: log.info("site 33: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 34: log.info("site 34: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 35: log.info("site 35: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 36: log.info("site 36: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 37: log.info("site 37: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 38: log.info("site 38: {} {} {:.2f}", a, b, 1.5 * b); break;
    case 39: log.info("site 39: {} {} {:.2f}", a, b, 1.5 * b); break;
    default: break;
  }
}
}  // namespace

int main(int argc, char** argv) {
  hydra::LoggerConfig cfg;
  cfg.mode = hydra::LoggerMode::async;
  cfg.layers["APP"].destinations = {hydra::file(argc > 1 ? argv[1] : "/dev/null")};
  hydra::Logger log(cfg);
  std::fprintf(stderr, "markers %p %p\n", static_cast<volatile void*>(&g_marker_begin),
               static_cast<volatile void*>(&g_marker_end));
  // Calls 0-8: the only call site of its kind (which the compiler may
  // inline); calls 9-17: one of forty.
  for (int burst = 0; burst < 3; ++burst) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int k = 0; k < 3; ++k) {
      g_marker_begin = burst;
      log.info("latency {} {} {:.2f}", burst, k, 1.5 * k);
      g_marker_end = burst;
    }
  }
  for (int burst = 0; burst < 3; ++burst) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int k = 0; k < 3; ++k) {
      g_marker_begin = burst;
      many_sites(log, 7, burst, k);
      g_marker_end = burst;
    }
  }
  log.flush();
}
