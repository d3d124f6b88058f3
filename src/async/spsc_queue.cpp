#include "hydra/async/detail/spsc_queue.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace hydra::detail {
namespace {

// Set once the kernel has refused MADV_POPULATE_WRITE (or a test says so).
std::atomic<bool> g_populate_unsupported{false};

}  // namespace

bool populate_pages(std::byte* p, std::size_t n) noexcept {
#ifdef MADV_POPULATE_WRITE
  if (g_populate_unsupported.load(std::memory_order_relaxed)) return false;
  // madvise wants a page-aligned start: round down to the system's page
  // (larger than kPageSize on some machines). Populating the bytes before
  // `p` in that page is harmless: nothing is written.
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<std::uintptr_t>(p) & ~(page - 1);
  const std::size_t len = reinterpret_cast<std::uintptr_t>(p) + n - start;
  if (::madvise(reinterpret_cast<void*>(start), len, MADV_POPULATE_WRITE) == 0) return true;
  if (errno != EINVAL) return true;  // e.g. no memory now: the pages fault in when written
  g_populate_unsupported.store(true, std::memory_order_relaxed);
  return false;
#else
  (void)p;
  (void)n;
  return false;
#endif
}

void set_populate_unsupported_for_test(bool unsupported) noexcept {
  g_populate_unsupported.store(unsupported, std::memory_order_relaxed);
}

}  // namespace hydra::detail
