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
}  // namespace

int main(int argc, char** argv) {
  hydra::LoggerConfig cfg;
  cfg.mode = hydra::LoggerMode::async;
  cfg.layers["APP"].destinations = {hydra::file(argc > 1 ? argv[1] : "/dev/null")};
  hydra::Logger log(cfg);
  std::fprintf(stderr, "markers %p %p\n", static_cast<volatile void*>(&g_marker_begin),
               static_cast<volatile void*>(&g_marker_end));
  for (int burst = 0; burst < 3; ++burst) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int k = 0; k < 3; ++k) {
      g_marker_begin = burst;
      log.info("latency {} {} {:.2f}", burst, k, 1.5 * k);
      g_marker_end = burst;
    }
  }
  log.flush();
}
