// Magic presets: the built-ins' contents, register_magic, and presets named
// in files.
#include <gtest/gtest.h>

#include <filesystem>
#include <hydra/config/loader.hpp>
#include <hydra/config/presets.hpp>
#include <hydra/hydra.hpp>

#include "config/config_test_util.hpp"

namespace {

using hydra::test::config_error_of;
using hydra::test::expect_mentions;
using hydra::test::read_file;
using hydra::test::TempDir;

TEST(Presets, AllBuiltInsAreListed) {
  for (const char* name : {"production", "development", "testing", "microservice", "web_app",
                           "api_service", "background_worker", "high_performance", "bare_metal"}) {
    EXPECT_TRUE(hydra::has_magic(name)) << name;
  }
  EXPECT_FALSE(hydra::has_magic("nonsense"));
  const auto all = hydra::list_magic();
  EXPECT_GE(all.size(), 9u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
  for (const auto& m : all) EXPECT_FALSE(m.description.empty()) << m.name;
}

TEST(Presets, ProductionLayersAndDestinations) {
  const hydra::LoggerConfig c = hydra::magic("production");
  EXPECT_EQ(c.mode, hydra::LoggerMode::async);
  EXPECT_EQ(c.default_level, hydra::Level::info);
  const auto& general = c.layers.at("DEFAULT").destinations;
  ASSERT_EQ(general.size(), 3u);
  EXPECT_EQ(general[0].type, "console");
  EXPECT_EQ(general[1].path, "logs/app.jsonl");
  EXPECT_EQ(general[1].format, "json");
  EXPECT_EQ(general[2].path, "logs/errors.log");
  EXPECT_EQ(general[2].level, hydra::Level::error);
  EXPECT_EQ(c.layers.at("SECURITY").destinations.at(0).path, "logs/security.jsonl");
  EXPECT_EQ(c.layers.at("PERFORMANCE").destinations.at(0).path, "logs/performance.jsonl");
}

// Production-style (async) presets install the crash handler; the others
// leave signal handling alone.
TEST(Presets, ProductionStylePresetsTurnTheCrashHandlerOn) {
  for (const char* name : {"production", "microservice", "api_service", "background_worker",
                           "high_performance", "bare_metal"}) {
    EXPECT_TRUE(hydra::magic(name).crash_handler) << name;
  }
  for (const char* name : {"development", "testing", "web_app"}) {
    EXPECT_FALSE(hydra::magic(name).crash_handler) << name;
  }
}

TEST(Presets, LogDirectoryIsConfigurable) {
  hydra::MagicOptions o;
  o.log_dir = "/var/log/shop";
  EXPECT_EQ(hydra::magic("production", o).layers.at("SECURITY").destinations.at(0).path,
            "/var/log/shop/security.jsonl");
}

TEST(Presets, EveryBuiltInSurvivesTheFileRoundTrip) {
  // A preset is also reachable from a file, so each must pass the strict walk.
  for (const auto& m : hydra::list_magic()) {
    const hydra::LoggerConfig c = hydra::magic(m.name);
    const std::string json = hydra::config_to_json(c);
    const hydra::LoggerConfig back = hydra::parse_config(json, hydra::ConfigFormat::json);
    EXPECT_EQ(hydra::config_to_json(back), json) << m.name;
  }
}

TEST(Presets, SomeContents) {
  EXPECT_EQ(hydra::magic("testing").layers.at("DEFAULT").destinations.at(0).color_mode,
            hydra::ColorMode::never);
  EXPECT_EQ(hydra::magic("microservice").layers.at("DEFAULT").destinations.at(0).format, "json");
  EXPECT_EQ(hydra::magic("bare_metal").layers.at("DEFAULT").destinations.size(), 1u);
  EXPECT_EQ(hydra::magic("high_performance").async.queue_capacity, 4u << 20);
  EXPECT_EQ(hydra::magic("web_app").layers.at("ACCESS").destinations.at(0).rotation,
            hydra::RotationInterval::daily);
  EXPECT_EQ(hydra::magic("api_service").layers.count("AUTH"), 1u);
  EXPECT_EQ(hydra::magic("background_worker").layers.count("JOBS"), 1u);
  EXPECT_EQ(hydra::magic("development").default_level, hydra::Level::debug);
}

TEST(Presets, UnknownNameListsTheValidOnes) {
  expect_mentions(config_error_of([] { hydra::magic("prod"); }),
                  {"'prod'", "not a preset", "production", "bare_metal"});
}

TEST(Presets, RegisterMagic) {
  hydra::register_magic("my_team", "our house style", [](const hydra::MagicOptions& o) {
    hydra::LoggerConfig c;
    c.name = "team";
    c.layers["DEFAULT"].destinations = {hydra::file(o.log_dir + "/team.log", "logfmt")};
    return c;
  });
  EXPECT_TRUE(hydra::has_magic("my_team"));
  bool listed = false;
  for (const auto& m : hydra::list_magic()) {
    listed = listed || (m.name == "my_team" && m.description == "our house style");
  }
  EXPECT_TRUE(listed);
  EXPECT_EQ(hydra::magic("my_team").layers.at("DEFAULT").destinations.at(0).path, "logs/team.log");

  // A file can name it, with log_dir, and override on top.
  TempDir dir;
  const hydra::LoggerConfig c =
      hydra::test::load_text(dir, "t.yaml", "preset: my_team\nlog_dir: /tmp/x\nname: mine\n");
  EXPECT_EQ(c.name, "mine");
  EXPECT_EQ(c.layers.at("DEFAULT").destinations.at(0).path, "/tmp/x/team.log");

  expect_mentions(config_error_of([] { hydra::register_magic("", "x", {}); }), {"empty"});
  expect_mentions(config_error_of([] { hydra::register_magic("y", "x", {}); }), {"empty"});
}

TEST(Presets, FileOverridesOnTopOfAPreset) {
  TempDir dir;
  const hydra::LoggerConfig c = hydra::test::load_text(dir, "p.toml",
                                                       "preset = \"production\"\n"
                                                       "mode = \"sync\"\n"
                                                       "[layers.SECURITY]\n"
                                                       "level = \"warning\"\n");
  EXPECT_EQ(c.mode, hydra::LoggerMode::sync);
  EXPECT_EQ(c.layers.at("SECURITY").level, hydra::Level::warning);
  EXPECT_EQ(c.layers.at("SECURITY").destinations.size(), 1u);  // from the preset
  EXPECT_EQ(c.layers.at("DEFAULT").destinations.size(), 3u);

  expect_mentions(hydra::test::load_error(dir, "bad.toml", "name = \"a\"\npreset = \"prod\"\n"),
                  {"bad.toml:2", "preset", "'prod'", "production"});
}

// A fresh working directory has no logs/: the file destinations make it.
TEST(Presets, EveryBuiltInStartsInAFreshDirectory) {
  TempDir dir;
  const std::filesystem::path old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  for (const auto& m : hydra::list_magic()) {
    std::string error;
    try {
      hydra::Logger log(hydra::magic(m.name));
      log.warning("started");
    } catch (const hydra::ConfigError& e) {
      error = e.what();
    }
    EXPECT_EQ(error, "") << m.name;
  }
  // The README's configuration file example.
  std::string error = config_error_of([&] {
    const hydra::LoggerConfig c = hydra::test::load_text(dir, "logging.toml",
                                                         "mode = \"async\"\n"
                                                         "[[layers.APP.destinations]]\n"
                                                         "type = \"rotating_file\"\n"
                                                         "path = \"${LOG_DIR:-logs}/app.jsonl\"\n"
                                                         "format = \"json\"\n"
                                                         "max_size = \"50MB\"\n"
                                                         "backup_count = 10\n");
    hydra::Logger log(c);
    log.layer("APP").info("started");
  });
  std::filesystem::current_path(old_cwd);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(std::filesystem::is_directory(dir.file("logs")));
  EXPECT_NE(read_file(dir.file("logs/app.jsonl")).find("\"message\":\"started\""),
            std::string::npos);
}

}  // namespace
