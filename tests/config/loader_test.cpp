// Loading TOML, YAML and JSON files into LoggerConfig: the same settings in
// each format give the same configuration, and every kind of mistake gives a
// message naming the file, the line (TOML, YAML), the key, the value and what
// is valid.
#include <gtest/gtest.h>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/config_test_util.hpp"

namespace {

using hydra::test::config_error_of;
using hydra::test::expect_mentions;
using hydra::test::load_error;
using hydra::test::load_text;
using hydra::test::TempDir;

constexpr const char* kToml = R"(name = "shop"
mode = "async"
default_level = "debug"
default_layer = "WEB"

[async]
queue_capacity = "1MB"
overflow = "drop"
idle_wait = "250us"
stall_timeout = "1s"

[layers.APP]
level = "info"

[[layers.APP.destinations]]
type = "console"
format = "text"
color_mode = "never"
stream = "stderr"
message_format = "{level} {message}"

[[layers.APP.destinations]]
type = "rotating_file"
level = "warning"
path = "logs/app.jsonl"
format = "json"
max_size = "5MB"
backup_count = 3
rotation = "daily"
compress = true
flush_interval = "500ms"
buffer_size = "512KB"
flush_level = "critical"

[[layers.DATABASE.destinations]]
type = "null"
)";

constexpr const char* kYaml = R"(name: shop
mode: async
default_level: debug
default_layer: WEB
async:
  queue_capacity: 1MB
  overflow: drop
  idle_wait: 250us
  stall_timeout: 1s
layers:
  APP:
    level: info
    destinations:
      - type: console
        format: text
        color_mode: never
        stream: stderr
        message_format: "{level} {message}"
      - type: rotating_file
        level: warning
        path: logs/app.jsonl
        format: json
        max_size: 5MB
        backup_count: 3
        rotation: daily
        compress: true
        flush_interval: 500ms
        buffer_size: 512KB
        flush_level: critical
  DATABASE:
    destinations:
      - type: "null"
)";

constexpr const char* kJson = R"({
  "name": "shop", "mode": "async", "default_level": "debug", "default_layer": "WEB",
  "async": {"queue_capacity": "1MB", "overflow": "drop", "idle_wait": "250us",
            "stall_timeout": "1s"},
  "layers": {
    "APP": {"level": "info", "destinations": [
      {"type": "console", "format": "text", "color_mode": "never", "stream": "stderr",
       "message_format": "{level} {message}"},
      {"type": "rotating_file", "level": "warning", "path": "logs/app.jsonl", "format": "json",
       "max_size": 5242880, "backup_count": 3, "rotation": "daily", "compress": true,
       "flush_interval": 500, "buffer_size": "512KB", "flush_level": "critical"}]},
    "DATABASE": {"destinations": [{"type": "null"}]}
  }
})";

TEST(Loader, TheThreeFormatsGiveTheSameConfiguration) {
  TempDir dir;
  const hydra::LoggerConfig toml = load_text(dir, "c.toml", kToml);
  const hydra::LoggerConfig yaml = load_text(dir, "c.yaml", kYaml);
  const hydra::LoggerConfig json = load_text(dir, "c.json", kJson);
  EXPECT_EQ(hydra::config_to_json(toml), hydra::config_to_json(yaml));
  EXPECT_EQ(hydra::config_to_json(toml), hydra::config_to_json(json));

  EXPECT_EQ(toml.name, "shop");
  EXPECT_EQ(toml.mode, hydra::LoggerMode::async);
  EXPECT_EQ(toml.default_level, hydra::Level::debug);
  EXPECT_EQ(toml.default_layer, "WEB");
  EXPECT_EQ(toml.async.queue_capacity, 1024u * 1024u);
  EXPECT_EQ(toml.async.overflow, hydra::OverflowPolicy::drop);
  EXPECT_EQ(toml.async.idle_wait, std::chrono::microseconds{250});
  EXPECT_EQ(toml.async.stall_timeout, std::chrono::milliseconds{1000});
  ASSERT_EQ(toml.layers.size(), 2u);
  const hydra::LayerConfig& app = toml.layers.at("APP");
  EXPECT_EQ(app.level, hydra::Level::info);
  ASSERT_EQ(app.destinations.size(), 2u);
  const hydra::DestinationConfig& con = app.destinations[0];
  EXPECT_EQ(con.type, "console");
  EXPECT_EQ(con.color_mode, hydra::ColorMode::never);
  EXPECT_EQ(con.stream, "stderr");
  EXPECT_EQ(con.text.message_format, "{level} {message}");
  EXPECT_FALSE(con.level.has_value());
  const hydra::DestinationConfig& rot = app.destinations[1];
  EXPECT_EQ(rot.type, "rotating_file");
  EXPECT_EQ(rot.level, hydra::Level::warning);
  EXPECT_EQ(rot.path, "logs/app.jsonl");
  EXPECT_EQ(rot.format, "json");
  EXPECT_EQ(rot.max_size, 5u * 1024u * 1024u);
  EXPECT_EQ(rot.backup_count, 3);
  EXPECT_EQ(rot.rotation, hydra::RotationInterval::daily);
  EXPECT_TRUE(rot.compress);
  EXPECT_EQ(rot.flush_interval, std::chrono::milliseconds{500});
  EXPECT_EQ(rot.buffer_size, 512u * 1024u);
  EXPECT_EQ(rot.flush_level, hydra::Level::critical);
  EXPECT_EQ(toml.layers.at("DATABASE").destinations.at(0).type, "null");
}

TEST(Loader, YmlExtensionAndParseConfigFromText) {
  TempDir dir;
  EXPECT_EQ(hydra::config_to_json(load_text(dir, "c.yml", kYaml)),
            hydra::config_to_json(hydra::parse_config(kToml, hydra::ConfigFormat::toml)));
}

// A file with no settings is almost always a mistake, or a file caught half
// written (truncated, not yet filled): loading it would silently move all
// output to the zero-config console. Refused, at start-up as on reload.
TEST(Loader, EmptyFilesAreRefused) {
  TempDir dir;
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{{"e.toml", ""},
                                                        {"c.toml", "# nothing yet\n\n"},
                                                        {"e.yaml", ""},
                                                        {"d.yaml", "---\n# nothing yet\n"},
                                                        {"e.json", "{}"},
                                                        {"w.json", " {\n }\n"}}) {
    expect_mentions(load_error(dir, name, text), {name + ": the file holds no settings"});
  }
  expect_mentions(config_error_of([] { hydra::parse_config("", hydra::ConfigFormat::yaml, "s"); }),
                  {"s: the file holds no settings"});
  // An extends parent too.
  hydra::test::write_file(dir.file("empty.toml"), "");
  expect_mentions(load_error(dir, "child.toml", "extends = \"empty.toml\"\nname = \"x\"\n"),
                  {"child.toml:1", "extends", "empty.toml: the file holds no settings"});
  // One setting is enough: a file may ask for the zero-config console.
  EXPECT_EQ(load_text(dir, "n.toml", "name = \"x\"\n").name, "x");
}

TEST(Loader, UnknownExtensionNamesThePathAndTheValidOnes) {
  TempDir dir;
  const std::string msg = load_error(dir, "c.ini", "name = x");
  expect_mentions(msg, {"c.ini", ".toml", ".yaml", ".yml", ".json"});
}

TEST(Loader, MissingFileNamesThePath) {
  TempDir dir;
  const std::string msg = config_error_of([&] { hydra::load_config(dir.file("none.toml")); });
  expect_mentions(msg, {"none.toml", "cannot read"});
}

TEST(LoaderErrors, UnknownKeyHasFileLineKeyPathAndValidKeys) {
  TempDir dir;
  const std::string toml = load_error(dir, "u.toml",
                                      "name = \"x\"\n"
                                      "[[layers.APP.destinations]]\n"
                                      "type = \"file\"\n"
                                      "path = \"a.log\"\n"
                                      "colour = \"never\"\n");
  expect_mentions(toml, {"u.toml:5", "layers.APP.destinations[0].colour", "unknown key",
                         "color_mode", "flush_interval"});

  const std::string yaml = load_error(dir, "u.yaml",
                                      "name: x\n"
                                      "layers:\n"
                                      "  APP:\n"
                                      "    levle: info\n");
  expect_mentions(yaml, {"u.yaml:4", "layers.APP.levle", "unknown key", "level, destinations"});

  const std::string json = load_error(dir, "u.json",
                                      "{\n"
                                      "  \"name\": \"x\",\n"
                                      "  \"layers\": {\"APP\": {\"destinations\": [\n"
                                      "    {\"type\": \"console\"},\n"
                                      "    {\"type\": \"null\",\n"
                                      "     \"p\\u0061th\": \"x\"}]}}}\n");
  expect_mentions(json, {"u.json:6", "layers.APP.destinations[1].path", "unknown key",
                         "for a null destination"});
}

TEST(LoaderErrors, AKeyOfAnotherDestinationTypeIsRejected) {
  TempDir dir;
  const std::string msg = load_error(dir, "t.toml",
                                     "[[layers.APP.destinations]]\n"
                                     "type = \"console\"\n"
                                     "max_size = \"5MB\"\n");
  expect_mentions(msg, {"t.toml:3", "layers.APP.destinations[0].max_size",
                        "valid keys for a console destination", "stream"});
}

TEST(LoaderErrors, WrongType) {
  TempDir dir;
  expect_mentions(
      load_error(dir, "w.toml", "[layers.APP]\ndestinations = \"console\"\n"),
      {"w.toml:2", "layers.APP.destinations", "expected a list", "got a string", "'console'"});
  expect_mentions(
      load_error(dir, "w.yaml",
                 "layers:\n  APP:\n    destinations:\n"
                 "      - type: rotating_file\n        path: a.log\n"
                 "        max_size: 1MB\n        backup_count: many\n"),
      {"w.yaml:7", "layers.APP.destinations[0].backup_count", "expected an integer", "'many'"});
  expect_mentions(load_error(dir, "w.json", "{\"layers\":\n {\"APP\": {\"level\": 3}}}"),
                  {"w.json:2", "layers.APP.level", "expected a string", "an integer"});
}

TEST(LoaderErrors, BadLevelNamesTheChoices) {
  TempDir dir;
  expect_mentions(load_error(dir, "l.toml", "name = \"x\"\ndefault_level = \"loud\"\n"),
                  {"l.toml:2", "default_level", "'loud'", "not a level",
                   "trace, debug, info, warning, error, critical"});
}

TEST(LoaderErrors, BadSizeString) {
  TempDir dir;
  expect_mentions(
      load_error(dir, "s.toml",
                 "[[layers.APP.destinations]]\n"
                 "type = \"rotating_file\"\n"
                 "path = \"a.log\"\n"
                 "max_size = \"5XB\"\n"),
      {"s.toml:4", "layers.APP.destinations[0].max_size", "'5XB'", "not a size", "KB, MB, GB"});
  expect_mentions(load_error(dir, "s.json", R"({"async": {"queue_capacity": -1}})"),
                  {"async.queue_capacity", "out of range"});
}

TEST(LoaderErrors, BadEnumValues) {
  TempDir dir;
  expect_mentions(
      load_error(dir, "e.yaml",
                 "layers:\n  APP:\n    destinations:\n      - type: console\n"
                 "        color_mode: sometimes\n"),
      {"e.yaml:5", "layers.APP.destinations[0].color_mode", "'sometimes'", "auto, always, never"});
  expect_mentions(load_error(dir, "e.toml", "mode = \"turbo\"\n"),
                  {"e.toml:1", "mode", "'turbo'", "sync, async"});
  expect_mentions(load_error(dir, "f.toml", "[[layers.APP.destinations]]\nformat = \"xml\"\n"),
                  {"f.toml:2", "format", "'xml'", "text, json, logfmt"});
  expect_mentions(load_error(dir, "g.toml", "[[layers.APP.destinations]]\ntype = \"kafka\"\n"),
                  {"g.toml:2", "type", "'kafka'", "console, file, rotating_file, null"});
  expect_mentions(load_error(dir, "h.toml", "[async]\noverflow = \"maybe\"\n"),
                  {"h.toml:2", "async.overflow", "block, drop, grow, sync_fallback, auto"});
  expect_mentions(load_error(dir, "d.toml",
                             "[[layers.APP.destinations]]\ntype = \"file\"\npath = \"a\"\n"
                             "flush_interval = \"soon\"\n"),
                  {"d.toml:4", "flush_interval", "not a duration"});
}

TEST(LoaderErrors, MissingPathAndRotationAreCaughtAtLoad) {
  TempDir dir;
  expect_mentions(load_error(dir, "p.toml", "[[layers.APP.destinations]]\ntype = \"file\"\n"),
                  {"p.toml", "layers.APP.destinations[0]", "needs a path"});
  expect_mentions(load_error(dir, "r.toml",
                             "[[layers.APP.destinations]]\ntype = \"rotating_file\"\n"
                             "path = \"a.log\"\n"),
                  {"layers.APP.destinations[0]", "max_size and/or rotation"});
}

TEST(LoaderErrors, ParseErrorsHaveFileAndLine) {
  TempDir dir;
  expect_mentions(load_error(dir, "p.toml", "name = \"x\"\nmode = \n"),
                  {"p.toml:2", "TOML parse error"});
  expect_mentions(load_error(dir, "p.yaml", "name: x\nlayers: [a, b\n"),
                  {"p.yaml:", "YAML parse error"});
  expect_mentions(load_error(dir, "p.json", "{\n  \"name\": \"x\",\n  \"mode\": \n}\n"),
                  {"p.json:4", "parse error"});
  expect_mentions(load_error(dir, "top.yaml", "- a\n- b\n"), {"top.yaml:1", "mapping"});
}

// TOML's parser refuses a key written twice; yaml-cpp and nlohmann keep one of
// them silently, so the loader refuses it for them.
TEST(LoaderErrors, DuplicateKeysAreRefusedInEveryFormat) {
  TempDir dir;
  expect_mentions(load_error(dir, "d.yaml", "name: a\ndefault_level: info\nname: b\n"),
                  {"d.yaml:3", "name: duplicate key (first at line 1)"});
  expect_mentions(load_error(dir, "n.yaml",
                             "layers:\n  APP:\n    level: debug\n    destinations: []\n"
                             "    level: error\n"),
                  {"n.yaml:5", "layers.APP.level: duplicate key (first at line 3)"});
  expect_mentions(load_error(dir, "q.yaml", "name: a\n\"name\": b\n"),
                  {"q.yaml:2", "name: duplicate key"});
  expect_mentions(
      load_error(dir, "d.json", "{\"name\": \"a\",\n \"mode\": \"sync\",\n \"name\": \"b\"}"),
      {"d.json:3", "name: duplicate key (first at line 1)"});
  expect_mentions(load_error(dir, "n.json",
                             "{\"layers\": {\"APP\": {\"destinations\": [\n"
                             "  {\"type\": \"console\",\n   \"type\": \"null\"}]}}}"),
                  {"n.json:3", "layers.APP.destinations[0].type: duplicate key (first at line 2)"});
  // The same key in two tables is not a duplicate; an escaped spelling of
  // the same key is.
  EXPECT_NO_THROW(
      load_text(dir, "ok.json",
                "{\"layers\": {\"A\": {\"level\": \"info\"}, \"B\": {\"level\": \"info\"}}}"));
  expect_mentions(load_error(dir, "e.json", "{\"name\": \"a\", \"n\\u0061me\": \"b\"}"),
                  {"e.json:1", "name: duplicate key"});
  expect_mentions(load_error(dir, "d.toml", "name = \"a\"\nname = \"b\"\n"),
                  {"d.toml:2", "TOML parse error"});
  // A key must be a string (yaml-cpp also takes a mapping or null as one).
  expect_mentions(load_error(dir, "k.yaml", "? [a, b]\n: x\n"),
                  {"k.yaml:1", "a key must be a string"});
}

TEST(LoaderErrors, ReservedLayerName) {
  TempDir dir;
  expect_mentions(load_error(dir, "r.toml", "[layers.__MINE__]\nlevel = \"info\"\n"),
                  {"layers.__MINE__", "reserved"});
}

TEST(Extends, ParentFirstChildOverridesMapsMergeListsReplace) {
  TempDir dir;
  hydra::test::write_file(dir.file("base.yaml"),
                          "name: base\n"
                          "default_level: warning\n"
                          "layers:\n"
                          "  APP:\n"
                          "    level: info\n"
                          "    destinations:\n"
                          "      - type: console\n"
                          "      - type: file\n"
                          "        path: base.log\n"
                          "  DB:\n"
                          "    level: error\n");
  const hydra::LoggerConfig c = load_text(dir, "child.toml",
                                          "extends = \"base.yaml\"\n"
                                          "name = \"child\"\n"
                                          "[layers.APP]\n"
                                          "level = \"debug\"\n"
                                          "[layers.DB]\n"
                                          "destinations = [{type = \"null\"}]\n");
  EXPECT_EQ(c.name, "child");
  EXPECT_EQ(c.default_level, hydra::Level::warning);         // from the parent
  EXPECT_EQ(c.layers.at("APP").level, hydra::Level::debug);  // child wins
  EXPECT_EQ(c.layers.at("APP").destinations.size(), 2u);     // kept from the parent
  EXPECT_EQ(c.layers.at("DB").level, hydra::Level::error);   // maps merge
  ASSERT_EQ(c.layers.at("DB").destinations.size(), 1u);
  EXPECT_EQ(c.layers.at("DB").destinations[0].type, "null");
}

TEST(Extends, ListsReplaceAndErrorsNameTheParentFile) {
  TempDir dir;
  hydra::test::write_file(dir.file("base.toml"),
                          "[[layers.APP.destinations]]\ntype = \"console\"\n"
                          "[[layers.APP.destinations]]\ntype = \"null\"\n");
  const hydra::LoggerConfig c = load_text(
      dir, "child.json",
      R"({"extends": "base.toml", "layers": {"APP": {"destinations": [{"type": "null"}]}}})");
  ASSERT_EQ(c.layers.at("APP").destinations.size(), 1u);

  hydra::test::write_file(dir.file("bad_base.toml"), "name = \"x\"\n\nbogus = 1\n");
  expect_mentions(load_error(dir, "c2.toml", "extends = \"bad_base.toml\"\n"),
                  {"bad_base.toml:3", "bogus", "unknown key"});
}

TEST(Extends, CyclesAreDetectedAndNamed) {
  TempDir dir;
  hydra::test::write_file(dir.file("a.toml"), "extends = \"b.yaml\"\n");
  hydra::test::write_file(dir.file("b.yaml"), "extends: a.toml\n");
  const std::string msg = config_error_of([&] { hydra::load_config(dir.file("a.toml")); });
  expect_mentions(msg, {"extends cycle", "a.toml -> ", "b.yaml -> ", "a.toml"});
  expect_mentions(load_error(dir, "self.toml", "extends = \"self.toml\"\n"),
                  {"extends cycle", "self.toml -> ", "self.toml"});
}

TEST(Extends, MissingParentNamesTheKey) {
  TempDir dir;
  expect_mentions(load_error(dir, "c.toml", "name = \"x\"\nextends = \"gone.toml\"\n"),
                  {"c.toml:2", "extends", "gone.toml", "cannot read"});
}

TEST(Interpolation, VariablesAndDefaults) {
  TempDir dir;
  const auto env = hydra::env_from_map({{"LOG_DIR", "/var/log/shop"}, {"EMPTY", ""}});
  const hydra::LoggerConfig c = load_text(dir, "i.toml",
                                          "name = \"${APP_NAME:-shop}\"\n"
                                          "default_level = \"${LEVEL:-warning}\"\n"
                                          "[[layers.APP.destinations]]\n"
                                          "type = \"rotating_file\"\n"
                                          "path = \"${LOG_DIR}/app.log\"\n"
                                          "max_size = \"${SIZE:-5MB}\"\n"
                                          "app_name = \"${EMPTY:-fallback} costs $$5\"\n",
                                          env);
  EXPECT_EQ(c.name, "shop");
  EXPECT_EQ(c.default_level, hydra::Level::warning);
  EXPECT_EQ(c.layers.at("APP").destinations[0].path, "/var/log/shop/app.log");
  EXPECT_EQ(c.layers.at("APP").destinations[0].max_size, 5u << 20);
  EXPECT_EQ(c.layers.at("APP").destinations[0].app_name, "fallback costs $5");
}

TEST(Interpolation, DefaultsNestAndExpandInTurn) {
  TempDir dir;
  const auto name_of = [&](const std::string& value,
                           std::map<std::string, std::string, std::less<>> vars) {
    return load_text(dir, "n.toml", "name = \"" + value + "\"\n", hydra::env_from_map(vars)).name;
  };
  EXPECT_EQ(name_of("${A:-${B:-x}}", {}), "x");
  EXPECT_EQ(name_of("${A:-${B:-x}}", {{"B", "b"}}), "b");
  EXPECT_EQ(name_of("${A:-${B:-x}}", {{"A", "a"}, {"B", "b"}}), "a");
  EXPECT_EQ(name_of("${A:-${B:-x}-${C:-y}}/z", {{"C", "c"}}), "x-c/z");
  EXPECT_EQ(name_of("${A:-$${B}}", {}), "${B}");  // $$ stays a literal $ in a default
  // A variable's value is used as it is, never expanded again.
  EXPECT_EQ(name_of("${A:-x}", {{"A", "${B:-y}"}}), "${B:-y}");
  // A nested variable without a default must be set, as at the top.
  expect_mentions(load_error(dir, "u.toml", "name = \"${A:-${B}}\"\n"),
                  {"u.toml:1", "name", "${B}", "B is not set"});
  // Nesting is bounded; a variable name cannot be made of variables.
  std::string deep = "x";
  for (int i = 0; i < 9; ++i) deep = "${V" + std::to_string(i) + ":-" + deep + "}";
  expect_mentions(load_error(dir, "d.toml", "name = \"" + deep + "\"\n"),
                  {"d.toml:1", "name", "nested more than 8 deep"});
  expect_mentions(load_error(dir, "v.toml", "name = \"${A${B}}\"\n"),
                  {"v.toml:1", "'A${B}' is not a variable name"});
}

TEST(Interpolation, MissingVariableNamesTheVariableAndTheKey) {
  TempDir dir;
  const std::string msg = load_error(dir, "m.yaml",
                                     "layers:\n  APP:\n    destinations:\n"
                                     "      - type: file\n        path: ${LOG_DIR}/app.log\n");
  expect_mentions(
      msg, {"m.yaml:5", "layers.APP.destinations[0].path", "LOG_DIR", "not set", "${LOG_DIR:-"});
}

TEST(EndToEnd, LoadAFileBuildALoggerTheLineIsInTheFile) {
  TempDir dir;
  const std::string log_path = dir.file("out.log");
  const hydra::LoggerConfig config = load_text(dir, "e2e.toml",
                                               "name = \"e2e\"\n"
                                               "[[layers.APP.destinations]]\n"
                                               "type = \"file\"\n"
                                               "path = \"" +
                                                   log_path +
                                                   "\"\n"
                                                   "message_format = \"{level} {message}\"\n");
  {
    hydra::Logger log(config);
    log.info("hello {}", "config");
    log.flush();
  }
  const auto lines = hydra::test::split_lines(hydra::test::read_file(log_path));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "INFO hello config");
}

#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
// `redact = true` turns the protect stage on; `protect = false` on a layer
// or a destination opts it out (docs/protect.md).
TEST(EndToEnd, RedactAndProtectKeys) {
  TempDir dir;
  const std::string clean = dir.file("clean.log"), raw = dir.file("raw.log");
  const hydra::LoggerConfig config = load_text(dir, "protect.toml",
                                               "redact = true\n"
                                               "[layers.APP]\n"
                                               "[[layers.APP.destinations]]\n"
                                               "type = \"file\"\npath = \"" +
                                                   clean +
                                                   "\"\nmessage_format = \"{message}\"\n"
                                                   "[[layers.APP.destinations]]\n"
                                                   "type = \"file\"\nprotect = false\npath = \"" +
                                                   raw +
                                                   "\"\nmessage_format = \"{message}\"\n"
                                                   "[layers.RAW]\nprotect = false\n");
  ASSERT_NE(config.protector, nullptr);
  EXPECT_EQ(config.layers.at("RAW").protect, std::optional<bool>(false));
  EXPECT_EQ(config.layers.at("APP").destinations[1].protect, std::optional<bool>(false));
  {
    hydra::Logger log(config);
    log.info("mail {}", "alice@example.com");
    log.flush();
  }
  EXPECT_EQ(hydra::test::read_file(clean), "mail [REDACTED_EMAIL]\n");
  EXPECT_EQ(hydra::test::read_file(raw), "mail alice@example.com\n");

  const std::string json = hydra::config_to_json(config);
  EXPECT_NE(json.find("\"redact\": true"), std::string::npos) << json;
  const std::string msg = load_error(dir, "bad.toml", "redact = \"yes\"\n");
  expect_mentions(msg, {"bad.toml:1", "redact", "a boolean"});
}
#else
TEST(EndToEnd, RedactNeedsTheProtectModule) {
  TempDir dir;
  const std::string msg = load_error(dir, "protect.toml", "redact = true\n");
  expect_mentions(msg, {"protect.toml", "redact", "protect module"});
}
#endif

TEST(Loader, CrashHandlerKey) {
  TempDir dir;
  EXPECT_TRUE(
      load_text(dir, "c.json", R"({"mode": "async", "crash_handler": true})").crash_handler);
  EXPECT_FALSE(load_text(dir, "d.yaml", "mode: async\n").crash_handler);
  expect_mentions(load_error(dir, "e.toml", "crash_handler = 1\n"),
                  {"e.toml:1", "crash_handler", "a boolean"});
}

TEST(EndToEnd, AsyncModeFromAYamlFile) {
  TempDir dir;
  const std::string log_path = dir.file("async.jsonl");
  const hydra::LoggerConfig config = load_text(dir, "e2e.yaml",
                                               "mode: async\n"
                                               "layers:\n"
                                               "  APP:\n"
                                               "    destinations:\n"
                                               "      - type: file\n"
                                               "        format: json\n"
                                               "        path: " +
                                                   log_path + "\n");
  {
    hydra::Logger log(config);
    log.warning("queued {}", 1);
  }
  const std::string text = hydra::test::read_file(log_path);
  EXPECT_NE(text.find("queued 1"), std::string::npos) << text;
}

}  // namespace
