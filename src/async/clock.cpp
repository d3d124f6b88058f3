#include "hydra/async/detail/clock.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace hydra::detail {

bool tsc_is_invariant() noexcept {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007) return false;
  __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx);
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

TickConverter::Sample TickConverter::sample() noexcept {
  // Bracket the clock read with two tick reads and take their middle.
  const std::uint64_t before = record_ticks();
  const std::int64_t ns = now_ns();
  const std::uint64_t after = record_ticks();
  return {before + (after - before) / 2, ns};
}

void TickConverter::calibrate() noexcept {
  calibrated_ = true;
  if (!kUseTsc) {  // ticks are nanoseconds already
    ns_per_tick_ = 1.0;
    base_ = first_ = Sample{0, 0};
    return;
  }
  first_ = sample();
  Sample s = first_;
  while (s.ns - first_.ns < 2'000'000) s = sample();
  anchor(s);
}

void TickConverter::anchor(const Sample& s) noexcept {
  // The rate over the converter's whole life: its error shrinks as it runs.
  ns_per_tick_ =
      static_cast<double>(s.ns - first_.ns) / static_cast<double>(s.ticks - first_.ticks);
  base_ = s;
  reanchor_after_ = static_cast<std::uint64_t>(1e9 / ns_per_tick_);
}

std::int64_t TickConverter::to_ns(std::uint64_t ticks) noexcept {
  if (!calibrated_) calibrate();
  if (!kUseTsc) return static_cast<std::int64_t>(ticks);
  // Re-anchor once about a second of ticks has passed; judged by the ticks,
  // so that converting costs no clock read.
  if (ticks > base_.ticks && ticks - base_.ticks > reanchor_after_) anchor(sample());
  const auto delta = static_cast<double>(static_cast<std::int64_t>(ticks - base_.ticks));
  return base_.ns + static_cast<std::int64_t>(delta * ns_per_tick_);
}

}  // namespace hydra::detail
