#include "hydra/core/detail/notice.hpp"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>

namespace hydra::detail {

void notice_once(std::string_view key, std::string_view message) {
  struct Reported {
    std::mutex mutex;
    std::set<std::string, std::less<>> keys;
  };
  // Never destroyed: a logger may be built (and notice) during static teardown.
  static auto* reported = new Reported;  // NOLINT: intentionally leaked
  std::lock_guard lock(reported->mutex);
  if (!reported->keys.emplace(key).second) return;
  std::fprintf(stderr, "hydra: %.*s\n", static_cast<int>(message.size()), message.data());
}

}  // namespace hydra::detail
