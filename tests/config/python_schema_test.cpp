// Files written for the Python Hydra-Logger load unchanged: its rotating
// `file` (max_size / backup_count, defaults 5MB and 3) and its format names
// (plain-text, json-lines, colored; syslog is ours too).
#include <gtest/gtest.h>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <string>

#include "config/config_test_util.hpp"

namespace {

using hydra::test::expect_mentions;
using hydra::test::load_error;
using hydra::test::load_text;
using hydra::test::read_file;
using hydra::test::TempDir;

const hydra::DestinationConfig& only_destination(const hydra::LoggerConfig& c) {
  return c.layers.at("APP").destinations.at(0);
}

hydra::DestinationConfig file_with(const TempDir& dir, const std::string& keys) {
  return only_destination(load_text(dir, "f.yaml",
                                    "layers:\n  APP:\n    destinations:\n"
                                    "      - type: file\n        path: app.log\n" +
                                        keys));
}

TEST(PythonSchema, AFileWithMaxSizeOrBackupCountRotates) {
  TempDir dir;
  hydra::DestinationConfig d = file_with(dir, "        max_size: 10MB\n        backup_count: 5\n");
  EXPECT_EQ(d.type, "rotating_file");
  EXPECT_EQ(d.max_size, 10u << 20);
  EXPECT_EQ(d.backup_count, 5);

  d = file_with(dir, "        max_size: 1MB\n");
  EXPECT_EQ(d.type, "rotating_file");
  EXPECT_EQ(d.max_size, 1u << 20);
  EXPECT_EQ(d.backup_count, 3);  // the Python default

  d = file_with(dir, "        backup_count: 7\n");
  EXPECT_EQ(d.type, "rotating_file");
  EXPECT_EQ(d.max_size, 5u << 20);  // the Python default
  EXPECT_EQ(d.backup_count, 7);

  d = file_with(dir, "");
  EXPECT_EQ(d.type, "file");  // neither: a plain file, as here

  d = file_with(dir, "        max_size: 0\n        backup_count: 3\n");
  EXPECT_EQ(d.type, "file");  // never rotates, as Python's RotatingFileHandler

  // Still strictly checked, naming the key as written.
  expect_mentions(load_error(dir, "bad.yaml",
                             "layers:\n  APP:\n    destinations:\n      - type: file\n"
                             "        path: app.log\n        max_size: 5XB\n"),
                  {"bad.yaml:6", "layers.APP.destinations[0].max_size", "'5XB' is not a size"});
  expect_mentions(load_error(dir, "con.yaml",
                             "layers:\n  APP:\n    destinations:\n      - type: console\n"
                             "        max_size: 5MB\n"),
                  {"con.yaml:5", "max_size", "unknown key"});
}

TEST(PythonSchema, FormatNamesAreAliases) {
  TempDir dir;
  const auto dest = [&](const std::string& keys) {
    return only_destination(
        load_text(dir, "f.toml", "[[layers.APP.destinations]]\ntype = \"console\"\n" + keys));
  };
  EXPECT_EQ(dest("format = \"plain-text\"\n").format, "text");
  EXPECT_EQ(dest("format = \"json-lines\"\n").format, "json");
  EXPECT_EQ(dest("format = \"syslog\"\n").format, "syslog");
  EXPECT_EQ(dest("format = \"Plain-Text\"\n").format, "text");  // Python took any case
  EXPECT_EQ(dest("format = \"JSON\"\n").format, "json");
  hydra::DestinationConfig colored = dest("format = \"colored\"\n");
  EXPECT_EQ(colored.format, "text");
  EXPECT_EQ(colored.color_mode, hydra::ColorMode::always);
  // A colour mode that is written wins over what `colored` implies.
  colored = dest("format = \"colored\"\ncolor_mode = \"never\"\n");
  EXPECT_EQ(colored.color_mode, hydra::ColorMode::never);
  expect_mentions(load_error(dir, "bad.toml",
                             "[[layers.APP.destinations]]\ntype = \"console\"\n"
                             "format = \"plain_text\"\n"),
                  {"bad.toml:3", "'plain_text' is not a format"});
}

// `hydra config explain` credits what the rewrite adds to the line it came from.
TEST(PythonSchema, ExplainCreditsTheLinesThatImplyTheSettings) {
  TempDir dir;
  hydra::test::write_file(dir.file("py.toml"),
                          "[layers.APP]\n"
                          "destinations = [\n"
                          "  { type = \"file\", path = \"app.log\", backup_count = 2 },\n"
                          "  { type = \"console\", format = \"colored\" },\n"
                          "]\n");
  hydra::ConfigSources sources;
  sources.file = dir.file("py.toml");
  sources.env = hydra::env_from_map({});
  const hydra::ResolvedConfig r = hydra::resolve_config(sources);
  const std::string where = dir.file("py.toml");
  EXPECT_EQ(r.values.at("layers.APP.destinations[0].type"), "\"rotating_file\"");
  EXPECT_EQ(r.origins.at("layers.APP.destinations[0].type"), where + ":3");
  EXPECT_EQ(r.values.at("layers.APP.destinations[0].max_size"), "5242880");
  EXPECT_EQ(r.origins.at("layers.APP.destinations[0].max_size"), where + ":3");
  EXPECT_EQ(r.values.at("layers.APP.destinations[1].color_mode"), "\"always\"");
  EXPECT_EQ(r.origins.at("layers.APP.destinations[1].color_mode"), where + ":4");
}

// A configuration from the Python Hydra-Logger's documentation, unchanged,
// builds a logger that writes where it says.
TEST(PythonSchema, ItsDocumentedExampleLoadsAndLogs) {
  TempDir dir;
  const std::string app = dir.file("app.log"), api = dir.file("requests.json");
  const hydra::LoggerConfig c = load_text(dir, "logging.yaml",
                                          "default_level: INFO\n"
                                          "layers:\n"
                                          "  APP:\n"
                                          "    level: INFO\n"
                                          "    destinations:\n"
                                          "      - type: file\n"
                                          "        path: " +
                                              app +
                                              "\n"
                                              "        format: plain-text\n"
                                              "        max_size: 100MB\n"
                                              "        backup_count: 10\n"
                                              "  API:\n"
                                              "    level: DEBUG\n"
                                              "    destinations:\n"
                                              "      - type: file\n"
                                              "        path: " +
                                              api +
                                              "\n"
                                              "        format: json-lines\n");
  {
    hydra::Logger log(c);
    log.info("application started");
    log.layer("API").debug("GET /health");
  }
  EXPECT_NE(read_file(app).find("INFO"), std::string::npos) << read_file(app);
  EXPECT_NE(read_file(app).find("application started"), std::string::npos);
  EXPECT_NE(read_file(api).find("\"message\":\"GET /health\""), std::string::npos)
      << read_file(api);
}

}  // namespace
