// The rotating_file keys of configuration files (rotation, rotation_time,
// backup_count, backup_naming): loaded alike from TOML, YAML and JSON,
// bounded by the validator with file, line and key, dumped back by
// config_to_json and `hydra config explain`, and checked again with the path
// when a destination is built from code.
#include <gtest/gtest.h>

#include <chrono>
#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config_test_util.hpp"

namespace {

using hydra::BackupNaming;
using hydra::RotationInterval;
using hydra::test::config_error_of;
using hydra::test::expect_mentions;
using hydra::test::load_error;
using hydra::test::load_text;
using hydra::test::TempDir;
using namespace std::chrono_literals;

const hydra::DestinationConfig& first_destination(const hydra::LoggerConfig& cfg) {
  return cfg.layers.at("APP").destinations.at(0);
}

TEST(RotationConfig, IntervalTimeOfDayAndDateNamingLoadFromEveryFormat) {
  TempDir dir;
  const auto toml = load_text(dir, "r.toml",
                              "[[layers.APP.destinations]]\n"
                              "type = \"rotating_file\"\n"
                              "path = \"app.log\"\n"
                              "rotation = \"15m\"\n"
                              "rotation_time = \"00:05\"\n"
                              "backup_naming = \"date\"\n"
                              "backup_count = 100000\n");
  const auto yaml = load_text(dir, "r.yaml",
                              "layers:\n  APP:\n    destinations:\n"
                              "      - type: rotating_file\n"
                              "        path: app.log\n"
                              "        rotation: 15m\n"
                              "        rotation_time: \"00:05\"\n"
                              "        backup_naming: DATE\n"
                              "        backup_count: 100000\n");
  const auto json = load_text(dir, "r.json",
                              R"({"layers": {"APP": {"destinations": [{"type": "rotating_file",
                                  "path": "app.log", "rotation": "15m", "rotation_time": "00:05",
                                  "backup_naming": "date", "backup_count": 100000}]}}})");
  for (const auto* cfg : {&toml, &yaml, &json}) {
    const auto& d = first_destination(*cfg);
    EXPECT_EQ(d.rotation, RotationInterval::every(15min));
    EXPECT_EQ(d.rotation_time, 5min);
    EXPECT_EQ(d.backup_naming, BackupNaming::date);
    EXPECT_EQ(d.backup_count, 100000);
  }
  const auto daily = load_text(dir, "d.toml",
                               "[[layers.APP.destinations]]\n"
                               "type = \"rotating_file\"\npath = \"a.log\"\n"
                               "rotation = \"Daily\"\nrotation_time = \"23:59\"\n");
  EXPECT_EQ(first_destination(daily).rotation, RotationInterval::daily);
  EXPECT_EQ(first_destination(daily).rotation_time, 23h + 59min);
  EXPECT_EQ(first_destination(daily).backup_naming, BackupNaming::index);  // the default
  const auto hours = load_text(dir, "h.toml",
                               "[[layers.APP.destinations]]\n"
                               "type = \"rotating_file\"\npath = \"a.log\"\nrotation = \"6h\"\n");
  EXPECT_EQ(first_destination(hours).rotation, RotationInterval::every(6h));
}

TEST(RotationConfig, BackupCountAboveTheBoundNamesFileLineAndKey) {
  TempDir dir;
  for (const std::string count : {"100001", "2147483647"}) {
    expect_mentions(load_error(dir, "b.toml",
                               "[[layers.APP.destinations]]\n"
                               "type = \"rotating_file\"\n"
                               "path = \"app.log\"\n"
                               "max_size = \"1MB\"\n"
                               "backup_count = " +
                                   count + "\n"),
                    {"b.toml:5", "layers.APP.destinations[0].backup_count", count,
                     "out of range (valid: 0 to 100000)"});
  }
  expect_mentions(load_error(dir, "b.yaml",
                             "layers:\n  APP:\n    destinations:\n"
                             "      - type: rotating_file\n        path: a.log\n"
                             "        max_size: 1MB\n        backup_count: -1\n"),
                  {"b.yaml:7", "layers.APP.destinations[0].backup_count", "out of range"});
}

TEST(RotationConfig, BadRotationValuesNameFileLineKeyAndWhatIsValid) {
  TempDir dir;
  const auto error_of = [&dir](const std::string& keys) {
    return load_error(dir, "r.toml",
                      "[[layers.APP.destinations]]\n"
                      "type = \"rotating_file\"\n"
                      "path = \"app.log\"\n" +
                          keys);
  };
  expect_mentions(error_of("rotation = \"7m\"\n"),
                  {"r.toml:4", "layers.APP.destinations[0].rotation", "'7m' does not divide a day",
                   "'15m'", "'6h'"});
  expect_mentions(error_of("rotation = \"48h\"\n"), {"r.toml:4", "'48h' does not divide a day"});
  expect_mentions(error_of("rotation = \"weekly\"\n"),
                  {"r.toml:4", "'weekly' is not a rotation", "none, hourly, daily"});
  expect_mentions(error_of("rotation = \"15 m\"\n"), {"r.toml:4", "is not a rotation"});
  expect_mentions(error_of("rotation = \"0m\"\n"), {"r.toml:4", "'0m' does not divide a day"});
  expect_mentions(error_of("rotation = 15\n"), {"r.toml:4", "expected a string"});
  expect_mentions(error_of("rotation = \"daily\"\nrotation_time = \"24:00\"\n"),
                  {"r.toml:5", "layers.APP.destinations[0].rotation_time",
                   "'24:00' is not a time of day", "00:00 to 23:59"});
  expect_mentions(error_of("rotation = \"daily\"\nrotation_time = \"2:30\"\n"),
                  {"r.toml:5", "'2:30' is not a time of day"});
  expect_mentions(error_of("max_size = \"1MB\"\nrotation_time = \"02:30\"\n"),
                  {"r.toml:5", "layers.APP.destinations[0].rotation_time", "needs rotation"});
  expect_mentions(
      error_of("rotation = \"daily\"\nbackup_naming = \"serial\"\n"),
      {"r.toml:5", "layers.APP.destinations[0].backup_naming", "'serial'", "index, date"});
  expect_mentions(load_error(dir, "c.toml",
                             "[[layers.APP.destinations]]\ntype = \"file\"\npath = \"a\"\n"
                             "backup_naming = \"date\"\n"),
                  {"c.toml:4", "unknown key", "for a file destination"});
}

TEST(RotationConfig, ConfigToJsonDumpsTheKeysAndLoadsBack) {
  TempDir dir;
  const auto cfg = load_text(dir, "r.toml",
                             "[[layers.APP.destinations]]\n"
                             "type = \"rotating_file\"\n"
                             "path = \"app.log\"\n"
                             "rotation = \"30m\"\n"
                             "rotation_time = \"00:10\"\n"
                             "backup_naming = \"date\"\n");
  const std::string json = hydra::config_to_json(cfg);
  const auto dumped = nlohmann::json::parse(json)["layers"]["APP"]["destinations"][0];
  EXPECT_EQ(dumped["rotation"], "30m") << json;
  EXPECT_EQ(dumped["rotation_time"], "00:10") << json;
  EXPECT_EQ(dumped["backup_naming"], "date") << json;
  const auto again = hydra::parse_config(json, hydra::ConfigFormat::json);
  EXPECT_EQ(first_destination(again).rotation, RotationInterval::every(30min));
  EXPECT_EQ(first_destination(again).rotation_time, 10min);
  EXPECT_EQ(first_destination(again).backup_naming, BackupNaming::date);
  hydra::LoggerConfig other = cfg;
  hydra::DestinationConfig& d = other.layers.at("APP").destinations.at(0);
  d.rotation = RotationInterval::every(120min);
  d.rotation_time = 0min;
  d.backup_naming = BackupNaming::index;
  const std::string other_json = hydra::config_to_json(other);
  const auto other_dumped = nlohmann::json::parse(other_json)["layers"]["APP"]["destinations"][0];
  EXPECT_EQ(other_dumped["rotation"], "2h") << other_json;
  EXPECT_EQ(other_dumped["rotation_time"], "00:00") << other_json;
  EXPECT_EQ(other_dumped["backup_naming"], "index") << other_json;
}

#if defined(HYDRA_CLI)
TEST(RotationConfig, ExplainShowsTheKeysWithTheirLines) {
  TempDir dir;
  const std::string path = dir.file("app.toml");
  hydra::test::write_file(path,
                          "[[layers.APP.destinations]]\n"
                          "type = \"rotating_file\"\n"
                          "path = \"app.log\"\n"
                          "rotation = \"daily\"\n"
                          "rotation_time = \"02:30\"\n"
                          "backup_naming = \"date\"\n");
  const auto r = hydra::test::run_process({HYDRA_CLI, "config", "explain", path}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string key : {"rotation = \"daily\"", "rotation_time = \"02:30\"",
                                "backup_naming = \"date\"", "backup_count = 5"}) {
    EXPECT_NE(r.out.find("layers.APP.destinations[0]." + key), std::string::npos) << key << " in:\n"
                                                                                  << r.out;
  }
  EXPECT_NE(r.out.find("# " + path + ":5"), std::string::npos) << r.out;
}
#endif

// From code, the same bounds are checked when the logger builds the sink,
// with the path in the message.
TEST(RotationConfig, ADestinationFromCodeIsCheckedWhenTheLoggerIsBuilt) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  hydra::LoggerConfig cfg;
  cfg.layers["APP"] = {hydra::Level::info, {hydra::rotating_file(path, 1024, 100001)}};
  expect_mentions(config_error_of([&] { hydra::Logger log(cfg); }),
                  {"layers.APP.destinations[0]",
                   "rotating_file '" + path + "': backup_count: 100001 is more than 100000"});
  cfg.layers["APP"].destinations[0] = hydra::rotating_file(path, 0, 3);
  cfg.layers["APP"].destinations[0].rotation = RotationInterval::every(25min);
  EXPECT_NE(config_error_of([&] {
              hydra::Logger log(cfg);
            }).find("rotating_file '" + path + "': rotation: every 25 minutes does not divide"),
            std::string::npos);
}

// A reload that changes only how backups are named gets a sink that names
// them so (sink reuse is keyed on every rotation option).
// One file has one sink, and reconfigure() keeps the sink of a file that
// stays configured: changing its naming is refused, naming the option, and
// the running sink goes on as it was.
TEST(RotationConfig, AReloadThatChangesTheNamingOfAnOpenFileIsRefused) {
  TempDir dir;
  const std::string path = dir.file("app.log");
  hydra::LoggerConfig cfg;
  cfg.layers["APP"] = {hydra::Level::info, {hydra::rotating_file(path, 60, 3)}};
  hydra::Logger log(cfg);
  log.info("before the reload");
  hydra::LoggerConfig dated = cfg;
  dated.layers["APP"].destinations[0].backup_naming = BackupNaming::date;
  try {
    log.reconfigure(dated);
    ADD_FAILURE() << "a reload that changes an open file's backup_naming was taken";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("backup_naming index, not date"), std::string::npos)
        << e.what();
  }
  for (int i = 0; i < 4; ++i) log.info("a record long enough to rotate the file twice");
  log.flush();
  bool indexed_backup = false;
  for (const std::string& name : dir.entries()) {
    EXPECT_FALSE(name.starts_with("app.log.20")) << name;
    if (name == "app.log.1") indexed_backup = true;
  }
  EXPECT_TRUE(indexed_backup) << "the running sink stopped rotating";
}

}  // namespace
