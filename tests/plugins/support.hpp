// What the first-party plugins' tests share: a loaded network plugin's
// delivery counts (its sink's health(), plugins/common/delivery_sink.hpp,
// as Logger::plugin_health() reports it), a flush barrier over retries, and
// environment variables set for one test.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <hydra/hydra.hpp>
#include <nlohmann/json.hpp>

namespace hydra::test {

// The health of the logger's first plugin sink: {"ok", "failing",
// "counts": {...}, "last_error"}; null when there is none.
inline nlohmann::json plugin_sink_health(const hydra::Logger& log) {
  for (const auto& entry : nlohmann::json::parse(log.plugin_health())) {
    if (entry["kind"] == "sink") return entry["health"];
  }
  return nullptr;
}

// A flush barrier over retries: flushes until `records` were submitted and
// none is queued or spooled any more (a flush returns at once while the
// destination fails, so it is asked again; the engine's own retry wait is
// what paces it). Returns the counts then.
inline nlohmann::json settle(hydra::Logger& log, std::uint64_t records) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  nlohmann::json counts;
  do {
    log.flush();
    counts = plugin_sink_health(log)["counts"];
    if (counts["submitted"] >= records && counts["queued"] == 0 && counts["spooled"] == 0) break;
  } while (std::chrono::steady_clock::now() < deadline);
  return counts;
}

// Every record submitted is in exactly one state (DeliveryCounts::balanced).
inline bool balanced(const nlohmann::json& c) {
  return c["submitted"].get<std::uint64_t>() ==
         c["delivered"].get<std::uint64_t>() + c["dead_lettered"].get<std::uint64_t>() +
             c["spooled"].get<std::uint64_t>() + c["dropped"].get<std::uint64_t>() +
             c["queued"].get<std::uint64_t>();
}

// Sets environment variables for one test (the processes it starts inherit
// them) and restores them after.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }
  void set(const char* name, const std::string& value) {
    save(name);
    ::setenv(name, value.c_str(), 1);
  }
  void unset(const char* name) {
    save(name);
    ::unsetenv(name);
  }

 private:
  void save(const char* name) {
    const char* v = std::getenv(name);
    saved_.emplace_back(name, v != nullptr ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace hydra::test
