// Bounds: every numeric setting has one, checked by the validator (file, line,
// key) and, for what code sets, when the logger is built (ConfigError naming
// the key); a document has a size, value-count and depth bound, so that a
// hostile file (a YAML alias bomb, deep nesting) fails fast instead of eating
// memory or the stack, at start-up and on hot reload alike.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
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
  // The same file keeps its sink across a reload; its interval is checked still.
  hydra::LoggerConfig slower = config;
  slower.layers["APP"].destinations[0].flush_interval = std::chrono::hours{2};
  expect_mentions(config_error_of([&] { log.reconfigure(slower); }), {"flush_interval"});
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

// A NUL byte in a path would make open() name another file: refused in
// every format and from code.
TEST(ConfigLimits, PathsWithANulByteAreRefused) {
  TempDir dir;
  expect_mentions(load_error(dir, "p.json",
                             "{\"layers\": {\"APP\": {\"destinations\": [\n"
                             "  {\"type\": \"file\", \"path\": \"app.log\\u0000.evil\"}]}}}"),
                  {"p.json:2", "layers.APP.destinations[0].path", "NUL byte"});
  expect_mentions(load_error(dir, "p.yaml",
                             "layers:\n  APP:\n    destinations:\n      - type: file\n"
                             "        path: \"app.log\\0.evil\"\n"),
                  {"p.yaml:5", "layers.APP.destinations[0].path", "NUL byte"});
  expect_mentions(load_error(dir, "e.toml", "extends = \"base.toml\\u0000x\"\nname = \"x\"\n"),
                  {"e.toml:1", "extends", "NUL byte"});
  hydra::LoggerConfig config;
  config.layers["APP"].destinations = {
      hydra::file(dir.file("app.log") + std::string(1, '\0') + "x")};
  expect_mentions(config_error_of([&] { hydra::Logger log(config); }),
                  {"layers.APP.destinations[0]", "path", "NUL byte"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("app.log")));
}

// A YAML alias bomb: each line doubles... nine times the one before it, in
// 200 bytes; expanded it is 531441 strings. Refused after at most 100000
// values, within a fraction of a second.
TEST(DocumentLimits, AYamlAliasBombIsRefusedBeforeItExpands) {
  TempDir dir;
  const std::string bomb =
      "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
  expect_mentions(load_error(dir, "bomb.yaml", bomb),
                  {"bomb.yaml:", "more than 100000 values", "YAML aliases"});
  // Aliases as such are fine.
  const hydra::LoggerConfig ok = load_text(dir, "alias.yaml",
                                           "layers:\n"
                                           "  APP:\n"
                                           "    destinations: &both\n"
                                           "      - type: console\n"
                                           "        format: json\n"
                                           "  DB:\n"
                                           "    destinations: *both\n");
  EXPECT_EQ(ok.layers.at("DB").destinations.at(0).format, "json");
}

TEST(DocumentLimits, DeepNestingIsAnErrorNotACrash) {
  TempDir dir;
  constexpr int kDeep = 100000;  // deep enough to overflow a recursive walk's stack
  const std::string json =
      "{\"name\": \"x\",\n\"layers\": " + std::string(kDeep, '[') + std::string(kDeep, ']') + "}";
  expect_mentions(load_error(dir, "deep.json", json),
                  {"deep.json:2", "layers[0]", "nested more than 64"});
  const std::string yaml = "layers: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  expect_mentions(load_error(dir, "deep.yaml", yaml), {"deep.yaml:1", "nested more than 64"});
  const std::string toml = "layers = " + std::string(100, '[') + std::string(100, ']') + "\n";
  expect_mentions(load_error(dir, "deep.toml", toml), {"deep.toml:1", "nested more than 64"});
}

TEST(DocumentLimits, FilesLargerThanOneMegabyteAreRefused) {
  TempDir dir;
  // Valid TOML: a comment line, then enough padding to pass 1 MiB.
  const std::string padding = "# " + std::string((1 << 20), 'x') + "\nname = \"big\"\n";
  expect_mentions(load_error(dir, "big.toml", padding),
                  {"big.toml", "larger than 1MB", "the most a configuration file may hold"});
  expect_mentions(config_error_of([&] {
                    hydra::parse_config(padding, hydra::ConfigFormat::toml, "text.toml");
                  }),
                  {"text.toml", "larger than 1MB"});
  // A device that never ends is read only as far as the bound.
  std::filesystem::create_symlink("/dev/zero", dir.file("zero.json"));
  expect_mentions(config_error_of([&] { hydra::load_config(dir.file("zero.json")); }),
                  {"zero.json", "larger than 1MB"});
}

TEST(DocumentLimits, ExtendsChainsLongerThan32FilesAreRefused) {
  TempDir dir;
  constexpr int kFiles = 40;
  for (int i = 0; i < kFiles; ++i) {
    const std::string body = i + 1 < kFiles ? "extends = \"c" + std::to_string(i + 1) + ".toml\"\n"
                                            : "name = \"root\"\n";
    hydra::test::write_file(dir.file("c" + std::to_string(i) + ".toml"), body);
  }
  expect_mentions(config_error_of([&] { hydra::load_config(dir.file("c0.toml")); }),
                  {"c32.toml", "more than 32 files in one extends chain"});
  EXPECT_EQ(hydra::load_config(dir.file("c8.toml")).name, "root");  // 32 files: fine
}

}  // namespace
