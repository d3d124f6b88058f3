// Bounds: every numeric setting has one, checked by the validator (file, line,
// key) and, for what code sets, when the logger is built (ConfigError naming
// the key).
#include <gtest/gtest.h>

#include <chrono>
#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <string>

#include "config/config_test_util.hpp"

namespace {

using hydra::test::config_error_of;
using hydra::test::expect_mentions;
using hydra::test::load_error;
using hydra::test::load_text;
using hydra::test::TempDir;

std::string file_destination(const std::string& key, const std::string& value) {
  return "[[layers.APP.destinations]]\ntype = \"rotating_file\"\npath = \"app.log\"\n"
         "max_size = \"5MB\"\n" +
         key + " = " + value + "\n";
}

TEST(ConfigLimits, SizesPastTheirBoundNameFileLineKeyAndRange) {
  TempDir dir;
  expect_mentions(load_error(dir, "b.toml", file_destination("buffer_size", "\"100GB\"")),
                  {"b.toml:5", "layers.APP.destinations[0].buffer_size", "'100GB'", "out of range",
                   "0B to 64MB"});
  // One byte over, as an integer.
  expect_mentions(load_error(dir, "b1.toml", file_destination("buffer_size", "67108865")),
                  {"b1.toml:5", "buffer_size", "67108865", "0B to 64MB"});
  EXPECT_EQ(load_text(dir, "ok.toml", file_destination("buffer_size", "\"64MB\""))
                .layers.at("APP")
                .destinations[0]
                .buffer_size,
            64u << 20);
  expect_mentions(load_error(dir, "m.yaml",
                             "layers:\n  APP:\n    destinations:\n      - type: rotating_file\n"
                             "        path: app.log\n        max_size: 2000GB\n"),
                  {"m.yaml:6", "layers.APP.destinations[0].max_size", "'2000GB'", "0B to 1024GB"});
  expect_mentions(load_error(dir, "q.yaml", "async:\n  queue_capacity: 2GB\n"),
                  {"q.yaml:2", "async.queue_capacity", "'2GB'", "0B to 1GB"});
  expect_mentions(load_error(dir, "g.json", "{\n  \"async\": {\n    \"grow_limit\": \"32GB\"}}"),
                  {"g.json:3", "async.grow_limit", "'32GB'", "0B to 16GB"});
  // Past what 64 bits hold: out of range too, not a crash or a wrap.
  expect_mentions(
      load_error(dir, "w.toml", "[async]\nqueue_capacity = \"99999999999999999999GB\"\n"),
      {"w.toml:2", "async.queue_capacity", "out of range"});
  expect_mentions(load_error(dir, "n.toml", "[async]\nqueue_capacity = -1\n"),
                  {"n.toml:2", "async.queue_capacity", "out of range"});
}

TEST(ConfigLimits, DurationsPastTheirBoundNameFileLineKeyAndRange) {
  TempDir dir;
  expect_mentions(load_error(dir, "f.toml", file_destination("flush_interval", "\"2h\"")),
                  {"f.toml:5", "layers.APP.destinations[0].flush_interval", "'2h'", "0us to 1h"});
  // A count of hours that overflows when turned into microseconds.
  expect_mentions(load_error(dir, "i.toml", "[async]\nidle_wait = \"2147483647h\"\n"),
                  {"i.toml:2", "async.idle_wait", "out of range", "1us to 1s"});
  expect_mentions(load_error(dir, "i0.toml", "[async]\nidle_wait = 0\n"),
                  {"i0.toml:2", "async.idle_wait", "1us to 1s"});
  expect_mentions(load_error(dir, "s.yaml", "async:\n  stall_timeout: 0ms\n"),
                  {"s.yaml:2", "async.stall_timeout", "1ms to 1h"});
  expect_mentions(load_error(dir, "h.json", "{\"async\": {\"health_interval\": \"25h\"}}"),
                  {"h.json:1", "async.health_interval", "0us to 24h"});
  // Finer than the setting's unit: it would silently become 0 (no periodic flush).
  expect_mentions(load_error(dir, "u.toml", file_destination("flush_interval", "\"500us\"")),
                  {"u.toml:5", "flush_interval", "'500us'", "whole number of milliseconds"});
  const hydra::LoggerConfig ok = load_text(dir, "ok.toml",
                                           "[async]\nidle_wait = \"1s\"\nstall_timeout = \"1h\"\n"
                                           "health_interval = \"24h\"\n");
  EXPECT_EQ(ok.async.idle_wait, std::chrono::seconds{1});
  EXPECT_EQ(ok.async.stall_timeout, std::chrono::hours{1});
  EXPECT_EQ(ok.async.health_interval, std::chrono::hours{24});
}

// What code sets is checked when the logger is built, with the key named:
// no std::bad_alloc, no timed wait that overflows.
TEST(ConfigLimits, CodeSettingsPastTheirBoundAreConfigErrors) {
  TempDir dir;
  hydra::LoggerConfig config;
  hydra::DestinationConfig big = hydra::file(dir.file("app.log"));
  big.buffer_size = std::size_t{100} << 30;
  config.layers["APP"].destinations = {big};
  expect_mentions(config_error_of([&] { hydra::Logger log(config); }),
                  {"layers.APP.destinations[0]", "buffer_size", "107374182400 bytes",
                   "out of range", "0B to 64MB"});

  config.layers["APP"].destinations[0].buffer_size = 64 << 10;
  config.layers["APP"].destinations[0].flush_interval = std::chrono::hours{24 * 365};
  expect_mentions(config_error_of([&] { hydra::Logger log(config); }),
                  {"layers.APP.destinations[0]", "flush_interval", "0us to 1h"});
  config.layers["APP"].destinations[0].flush_interval = std::chrono::milliseconds{100};

  // A reload is checked the same way, and changes nothing when refused.
  hydra::Logger log(config);
  hydra::LoggerConfig bigger = config;
  bigger.layers["APP"].destinations[0].buffer_size = std::size_t{100} << 30;
  expect_mentions(config_error_of([&] { log.reconfigure(bigger); }), {"buffer_size"});
  EXPECT_EQ(log.generation(), 0u);

  const auto async_error = [&](auto change) {
    hydra::LoggerConfig c;
    c.mode = hydra::LoggerMode::async;
    c.layers["APP"].destinations = {hydra::to_sink(std::make_shared<hydra::NullSink>())};
    change(c.async);
    return config_error_of([&] { hydra::Logger l(c); });
  };
  expect_mentions(async_error([](hydra::AsyncOptions& o) { o.grow_limit = std::size_t{32} << 30; }),
                  {"async.grow_limit", "out of range", "0B to 16GB"});
  expect_mentions(async_error([](hydra::AsyncOptions& o) { o.idle_wait = {}; }),
                  {"async.idle_wait", "0us is out of range", "1us to 1s"});
  expect_mentions(async_error([](hydra::AsyncOptions& o) {
                    o.stall_timeout = std::chrono::milliseconds::max();
                  }),
                  {"async.stall_timeout", "1ms to 1h"});
  expect_mentions(
      async_error([](hydra::AsyncOptions& o) { o.health_interval = std::chrono::hours{25}; }),
      {"async.health_interval", "0us to 24h"});
}

}  // namespace
