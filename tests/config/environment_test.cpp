// HYDRA_LOG_* variables (through a fake environment) and the precedence of
// sources: code > environment > file > preset > defaults.
#include <gtest/gtest.h>

#include <hydra/config/environment.hpp>
#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/config_test_util.hpp"

namespace {

using hydra::test::config_error_of;
using hydra::test::expect_mentions;
using hydra::test::TempDir;

hydra::LoggerConfig two_layers() {
  hydra::LoggerConfig c;
  c.layers["APP"] = {hydra::Level::warning, {hydra::console(), hydra::file("a.log")}};
  c.layers["DATABASE"].destinations = {hydra::file("db.log", "logfmt")};
  return c;
}

TEST(Environment, PlainLevelSetsTheDefaultAndEveryLayer) {
  hydra::LoggerConfig c = two_layers();
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_LEVEL", "error"}}));
  EXPECT_EQ(c.default_level, hydra::Level::error);
  EXPECT_EQ(c.layers.at("APP").level, hydra::Level::error);
  EXPECT_FALSE(c.layers.at("DATABASE").level.has_value());  // follows default_level
}

TEST(Environment, PerLayerLevels) {
  hydra::LoggerConfig c = two_layers();
  hydra::apply_environment(
      c, hydra::env_from_map({{"HYDRA_LOG_LEVEL", "info, DATABASE=debug,CACHE=off"}}));
  EXPECT_EQ(c.default_level, hydra::Level::info);
  EXPECT_EQ(c.layers.at("APP").level, hydra::Level::info);
  EXPECT_EQ(c.layers.at("DATABASE").level, hydra::Level::debug);
  EXPECT_EQ(c.layers.at("CACHE").level, hydra::Level::off);
  EXPECT_TRUE(c.layers.at("CACHE").destinations.empty());

  hydra::LoggerConfig only = two_layers();
  hydra::apply_environment(only, hydra::env_from_map({{"HYDRA_LOG_LEVEL", "DATABASE=trace"}}));
  EXPECT_EQ(only.default_level, hydra::Level::info);  // unchanged
  EXPECT_EQ(only.layers.at("APP").level, hydra::Level::warning);
  EXPECT_EQ(only.layers.at("DATABASE").level, hydra::Level::trace);
}

TEST(Environment, PerLayerLevelOnZeroConfigKeepsTheConsole) {
  hydra::LoggerConfig c;
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_LEVEL", "DATABASE=debug"}}));
  ASSERT_EQ(c.layers.count("DEFAULT"), 1u);
  EXPECT_EQ(c.layers.at("DEFAULT").destinations.at(0).type, "console");
}

// `info,DATABASE=debug,CACHE=off` gives DATABASE and CACHE a level but no
// destinations: their records take the DEFAULT route at their own level.
TEST(Environment, APerLayerLevelAppliesToALayerWithoutDestinations) {
  auto sink = std::make_shared<hydra::MemorySink>();
  hydra::LoggerConfig c;
  c.layers["DEFAULT"].destinations = {hydra::to_sink(sink, "logfmt")};
  hydra::apply_environment(
      c, hydra::env_from_map({{"HYDRA_LOG_LEVEL", "info,DATABASE=debug,CACHE=off"}}));
  hydra::Logger log(c);
  log.layer("DATABASE").debug("db-debug");
  log.layer("CACHE").error("cache-error");
  log.layer("OTHER").debug("other-debug");
  log.layer("OTHER").info("other-info");
  log.flush();
  const std::vector<std::string> lines = sink->lines();
  ASSERT_EQ(lines.size(), 2u) << sink->contents();
  EXPECT_NE(lines[0].find("db-debug"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("other-info"), std::string::npos) << lines[1];
}

TEST(Environment, FormatAppliesToEveryDestination) {
  hydra::LoggerConfig c = two_layers();
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_FORMAT", "json"}}));
  for (const auto& [name, layer] : c.layers) {
    for (const auto& d : layer.destinations) EXPECT_EQ(d.format, "json") << name;
  }
}

TEST(Environment, EmptyAndUnsetChangeNothing) {
  hydra::LoggerConfig c = two_layers();
  const std::string before = hydra::config_to_json(c);
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_LEVEL", ""}}));
  hydra::apply_environment(c, hydra::env_from_map({}));
  EXPECT_EQ(hydra::config_to_json(c), before);
}

TEST(Environment, BadValuesNameTheVariableAndTheChoices) {
  hydra::LoggerConfig c = two_layers();
  const std::string before = hydra::config_to_json(c);
  expect_mentions(config_error_of([&] {
                    hydra::apply_environment(
                        c, hydra::env_from_map({{"HYDRA_LOG_LEVEL", "info,DATABASE=chatty"},
                                                {"HYDRA_LOG_FORMAT", "json"}}));
                  }),
                  {"HYDRA_LOG_LEVEL", "'chatty'", "not a level", "trace, debug"});
  expect_mentions(config_error_of([&] {
                    hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_FORMAT", "xml"}}));
                  }),
                  {"HYDRA_LOG_FORMAT", "'xml'", "text, json, logfmt"});
  expect_mentions(
      config_error_of([&] {
        hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_LEVEL", "=debug"}}));
      }),
      {"HYDRA_LOG_LEVEL", "names no layer"});
  EXPECT_EQ(hydra::config_to_json(c), before);  // a bad environment changes nothing
}

#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
TEST(Environment, RedactSensitiveSwitchesTheProtectStage) {
  hydra::LoggerConfig c = two_layers();
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_REDACT_SENSITIVE", "true"}}));
  EXPECT_NE(c.protector, nullptr);
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_REDACT_SENSITIVE", "off"}}));
  EXPECT_EQ(c.protector, nullptr);
  const std::string msg = config_error_of([&] {
    hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_REDACT_SENSITIVE", "maybe"}}));
  });
  expect_mentions(msg, {"HYDRA_LOG_REDACT_SENSITIVE", "maybe", "valid"});
}
#else
// Without the protect module, asking for redaction is an error that says so
// (never a silently unredacted log).
TEST(Environment, RedactSensitiveNeedsTheProtectModule) {
  hydra::LoggerConfig c = two_layers();
  const std::string msg = config_error_of([&] {
    hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_REDACT_SENSITIVE", "true"}}));
  });
  expect_mentions(msg, {"HYDRA_LOG_REDACT_SENSITIVE", "protect module"});
  EXPECT_EQ(c.protector, nullptr);
}
#endif

TEST(Precedence, CodeOverEnvironmentOverFileOverPresetOverDefaults) {
  TempDir dir;
  hydra::test::write_file(dir.file("app.toml"),
                          "preset = \"development\"\n"
                          "name = \"from-file\"\n"
                          "default_layer = \"WEB\"\n"
                          "[layers.DEFAULT]\n"
                          "level = \"info\"\n");
  hydra::ConfigSources sources;
  sources.file = dir.file("app.toml");
  sources.env = hydra::env_from_map({{"HYDRA_LOG_LEVEL", "warning"}});
  sources.code = [](hydra::LoggerConfig& c) { c.name = "from-code"; };
  const hydra::ResolvedConfig r = hydra::resolve_config(sources);

  EXPECT_EQ(r.config.name, "from-code");                                  // code > file
  EXPECT_EQ(r.config.layers.at("DEFAULT").level, hydra::Level::warning);  // env > file
  EXPECT_EQ(r.config.default_level, hydra::Level::warning);               // env > preset (debug)
  EXPECT_EQ(r.config.default_layer, "WEB");                               // file > default
  EXPECT_EQ(r.config.layers.at("DEFAULT").destinations.size(), 2u);       // preset kept
  EXPECT_EQ(r.config.async.queue_capacity, hydra::AsyncOptions{}.queue_capacity);  // default

  EXPECT_EQ(r.origins.at("name"), "code");
  EXPECT_EQ(r.origins.at("layers.DEFAULT.level"), "environment HYDRA_LOG_LEVEL");
  EXPECT_EQ(r.origins.at("default_layer"), dir.file("app.toml") + ":3");
  EXPECT_EQ(r.origins.at("layers.DEFAULT.destinations[1].path"), "preset development");
  EXPECT_EQ(r.origins.at("async.queue_capacity"), "preset development");
}

TEST(Precedence, EnvironmentChoosesFileAndPreset) {
  TempDir dir;
  hydra::test::write_file(dir.file("env.yaml"), "name: from-env-file\n");
  hydra::ConfigSources sources;
  sources.env = hydra::env_from_map({{"HYDRA_LOG_CONFIG", dir.file("env.yaml")},
                                     {"HYDRA_LOG_PRESET", "testing"},
                                     {"HYDRA_LOG_FORMAT", "logfmt"}});
  const hydra::ResolvedConfig r = hydra::resolve_config(sources);
  EXPECT_EQ(r.config.name, "from-env-file");
  EXPECT_EQ(r.config.default_level, hydra::Level::debug);  // the testing preset
  EXPECT_EQ(r.config.layers.at("DEFAULT").destinations.at(0).format, "logfmt");
  EXPECT_EQ(r.origins.at("layers.DEFAULT.destinations[0].format"), "environment HYDRA_LOG_FORMAT");
  EXPECT_EQ(r.origins.at("name"), dir.file("env.yaml") + ":1");

  // Code's choices beat the environment's.
  sources.preset = "production";
  sources.file = dir.file("missing.toml");
  expect_mentions(config_error_of([&] { hydra::resolve_config(sources); }),
                  {"missing.toml", "cannot read"});
  sources.file.reset();
  sources.env = hydra::env_from_map({{"HYDRA_LOG_PRESET", "testing"}});
  EXPECT_EQ(hydra::resolve_config(sources).config.layers.count("SECURITY"), 1u);
}

TEST(Precedence, NothingSetIsTheDefaults) {
  hydra::ConfigSources sources;
  sources.env = hydra::env_from_map({});
  const hydra::ResolvedConfig r = hydra::resolve_config(sources);
  EXPECT_EQ(hydra::config_to_json(r.config), hydra::config_to_json(hydra::LoggerConfig{}));
  for (const auto& [path, origin] : r.origins) EXPECT_EQ(origin, "default") << path;
}

TEST(Precedence, BadEnvironmentSourcesNameTheVariable) {
  hydra::ConfigSources sources;
  sources.env = hydra::env_from_map({{"HYDRA_LOG_PRESET", "prodution"}});
  expect_mentions(config_error_of([&] { hydra::resolve_config(sources); }),
                  {"HYDRA_LOG_PRESET", "'prodution'", "production", "testing"});
  sources.env = hydra::env_from_map({{"HYDRA_LOG_CONFIG", "/nonexistent/x.toml"}});
  expect_mentions(config_error_of([&] { hydra::resolve_config(sources); }),
                  {"HYDRA_LOG_CONFIG", "/nonexistent/x.toml"});
}

}  // namespace
