// The bounds of a logger's numeric settings. A configuration file is checked
// against them when it loads (the error names the file, the line and the key);
// what code sets is checked when the logger, or a destination, is built
// (ConfigError naming the key). A value within its bounds cannot make an
// allocation fail when the logger starts or make a timed wait overflow.
// docs/configuration.md tables them with the reason for each.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hydra {

struct AsyncOptions;
struct DestinationConfig;
struct LoggerConfig;

// A closed range of bytes.
struct SizeLimit {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
};

// A closed range of time.
struct DurationLimit {
  std::chrono::microseconds min{0};
  std::chrono::microseconds max{0};
};

namespace limits {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = kKiB * 1024;
inline constexpr std::uint64_t kGiB = kMiB * 1024;

// async.queue_capacity: one thread's queue, allocated when the thread first
// logs (values below 4KB are rounded up to 4KB).
inline constexpr SizeLimit kQueueCapacity{0, kGiB};
// async.grow_limit: what one thread's queues may take together under `grow`.
inline constexpr SizeLimit kGrowLimit{0, 16 * kGiB};
// async.idle_wait: how long the idle backend sleeps between looks (0 would
// make it spin).
inline constexpr DurationLimit kIdleWait{std::chrono::microseconds{1}, std::chrono::seconds{1}};
// async.stall_timeout: 0 would take every busy backend for a stalled one.
inline constexpr DurationLimit kStallTimeout{std::chrono::milliseconds{1}, std::chrono::hours{1}};
// async.health_interval (0: no health records).
inline constexpr DurationLimit kHealthInterval{std::chrono::microseconds{0},
                                               std::chrono::hours{24}};
// buffer_size of a file or rotating_file destination: allocated when the file
// opens.
inline constexpr SizeLimit kBufferSize{0, 64 * kMiB};
// flush_interval of a file or rotating_file destination (0: none).
inline constexpr DurationLimit kFlushInterval{std::chrono::microseconds{0}, std::chrono::hours{1}};
// analytics_interval: how often analytics are ticked (0: never).
inline constexpr DurationLimit kAnalyticsInterval{std::chrono::microseconds{0},
                                                  std::chrono::hours{24}};
// max_size of a rotating_file or audit destination (0: no rotation by size).
inline constexpr SizeLimit kRotationSize{0, 1024 * kGiB};

}  // namespace limits

namespace detail {

// How a size reads in messages: "64MB", "1GB", "512KB", "100B" (the largest
// 1024-based unit that divides it).
std::string size_text(std::uint64_t bytes);
// How a duration reads in messages: "1h", "2s", "500ms", "250us".
std::string duration_text(std::chrono::microseconds duration);
// "0B to 64MB", "1us to 1s".
std::string range_text(const SizeLimit& limit);
std::string range_text(const DurationLimit& limit);

// Throw ConfigError for the first setting outside its bounds, naming it:
// "async.queue_capacity: 2147483648 bytes is out of range (valid: 0B to 1GB)",
// "buffer_size: ...". A destination's sizes and intervals are checked for the
// types that use them (file, rotating_file).
void check_limits(const AsyncOptions& options);
void check_limits(const DestinationConfig& destination);
// plugin_failure_limit (1 to 1000000) and analytics_interval.
void check_plugin_limits(const LoggerConfig& config);

}  // namespace detail
}  // namespace hydra
