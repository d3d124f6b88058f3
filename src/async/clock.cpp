#include "hydra/async/detail/clock.hpp"

#include <algorithm>

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
  // Bracket the clock read with two tick reads and take their middle; a
  // bracket made wide by an interrupt or preemption says little, so keep
  // the narrowest of a few.
  Sample best{};
  std::uint64_t best_width = ~std::uint64_t{0};
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::uint64_t before = record_ticks();
    const std::int64_t ns = now_ns();
    const std::uint64_t after = record_ticks();
    if (after - before < best_width) {
      best_width = after - before;
      best = {before + (after - before) / 2, ns};
    }
  }
  return best;
}

void TickConverter::calibrate() noexcept {
  calibrated_ = true;
  ticks_are_ns_ = !injected_ && !kUseTsc;
  if (ticks_are_ns_) return;
  first_ = sample_();
  Sample s = first_;
  while (s.ns - first_.ns < 2'000'000 || s.ticks <= first_.ticks) s = sample_();
  ns_per_tick_ =
      static_cast<double>(s.ns - first_.ns) / static_cast<double>(s.ticks - first_.ticks);
  base_ = s;
  reanchor_after_ = static_cast<std::uint64_t>(1e9 / ns_per_tick_);
}

void TickConverter::reanchor(const Sample& s) noexcept {
  // The rate over the converter's whole life: its error shrinks as it runs.
  const double life_rate =
      static_cast<double>(s.ns - first_.ns) / static_cast<double>(s.ticks - first_.ticks);
  const double period = 1e9 / life_rate;  // ticks in a second
  const auto mapped = base_.ns + static_cast<std::int64_t>(
                                     static_cast<double>(s.ticks - base_.ticks) * ns_per_tick_);
  const std::int64_t error = s.ns - mapped;
  if (error > 1'000'000'000 || error < -1'000'000'000 || !(life_rate > 0)) {
    base_ = s;  // the wall clock was set: follow it
    ns_per_tick_ = life_rate > 0 ? life_rate : ns_per_tick_;
  } else {
    // Continue from where the line is now and meet the clock a second on.
    base_ = {s.ticks, mapped};
    ns_per_tick_ = std::max(life_rate + static_cast<double>(error) / period, life_rate / 2);
  }
  reanchor_after_ = static_cast<std::uint64_t>(period);
}

std::int64_t TickConverter::to_ns(std::uint64_t ticks) noexcept {
  if (!calibrated_) calibrate();
  if (ticks_are_ns_) return static_cast<std::int64_t>(ticks);
  // Re-anchor once about a second of ticks has passed; judged by the ticks,
  // so that converting costs no clock read.
  if (ticks > base_.ticks && ticks - base_.ticks > reanchor_after_) reanchor(sample_());
  const auto delta = static_cast<double>(static_cast<std::int64_t>(ticks - base_.ticks));
  std::int64_t ns = base_.ns + static_cast<std::int64_t>(delta * ns_per_tick_);
  if (ticks >= last_ticks_) {
    // Never before a time already given for an earlier tick (but a wall
    // clock set back by more than a second is followed).
    if (ns < last_ns_ && last_ns_ - ns < 1'000'000'000) ns = last_ns_;
    last_ticks_ = ticks;
    last_ns_ = ns;
  }
  return ns;
}

}  // namespace hydra::detail
