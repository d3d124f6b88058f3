// Colour themes and `format = "auto"` from configuration: the file keys, the
// HYDRA_LOG_THEME variable, and what a built destination does with them
// (colour in structured formats, the format chosen for "auto").
#include <gtest/gtest.h>

#include <hydra/config/detect.hpp>
#include <hydra/config/environment.hpp>
#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/sink/memory_sink.hpp>
#include <nlohmann/json.hpp>

#include "config/config_test_util.hpp"
#include "format/format_test_support.hpp"

namespace {

using hydra::test::config_error_of;
using hydra::test::expect_mentions;
using hydra::test::load_error;
using hydra::test::load_text;
using hydra::test::TempDir;

const hydra::DestinationConfig& first(const hydra::LoggerConfig& c, const std::string& layer) {
  return c.layers.at(layer).destinations.at(0);
}

TEST(ThemeConfig, ByNameInEachFileFormat) {
  TempDir dir;
  const auto toml = load_text(dir, "a.toml", R"(
[[layers.APP.destinations]]
theme = "high-contrast"
)");
  const auto yaml = load_text(dir, "a.yaml", R"(
layers:
  APP:
    destinations:
      - theme: high-contrast
)");
  const auto json = load_text(
      dir, "a.json", R"({"layers": {"APP": {"destinations": [{"theme": "high-contrast"}]}}})");
  for (const auto* c : {&toml, &yaml, &json}) {
    EXPECT_EQ(first(*c, "APP").theme.name, "high-contrast");
    EXPECT_TRUE(first(*c, "APP").theme.level_colors.empty());
  }
  EXPECT_EQ(hydra::config_to_json(toml), hydra::config_to_json(yaml));
  EXPECT_EQ(hydra::config_to_json(toml), hydra::config_to_json(json));
}

TEST(ThemeConfig, TableOfColoursOverABase) {
  TempDir dir;
  const auto c = load_text(dir, "a.toml", R"(
[[layers.APP.destinations]]
theme = { base = "monochrome", info = "green", error = "1;31", debug = "none", layer = "bold" }
)");
  const hydra::ColorTheme& t = first(c, "APP").theme;
  EXPECT_EQ(t.name, "monochrome");
  EXPECT_EQ(t.level_colors.at(hydra::Level::info), "green");
  EXPECT_EQ(t.level_colors.at(hydra::Level::error), "1;31");
  EXPECT_EQ(t.level_colors.at(hydra::Level::debug), "none");
  EXPECT_EQ(t.layer_color, "bold");
  // Without `base`, the colours go over the default theme.
  const auto d = load_text(dir, "b.toml", R"(
[[layers.APP.destinations]]
theme = { warning = "bright_magenta" }
)");
  EXPECT_EQ(first(d, "APP").theme.name, "default");
}

TEST(ThemeConfig, TopLevelThemeIsForDestinationsThatNameNone) {
  TempDir dir;
  const auto c = load_text(dir, "a.toml", R"(
theme = "monochrome"
[[layers.APP.destinations]]
type = "console"
[[layers.APP.destinations]]
type = "null"
theme = "high-contrast"
)");
  EXPECT_EQ(c.layers.at("APP").destinations.at(0).theme.name, "monochrome");
  EXPECT_EQ(c.layers.at("APP").destinations.at(1).theme.name, "high-contrast");
}

TEST(ThemeConfig, TopLevelThemeWithoutLayersColoursZeroConfigsConsole) {
  TempDir dir;
  const auto c = load_text(dir, "a.toml", "theme = \"monochrome\"\n");
  ASSERT_EQ(c.layers.count("DEFAULT"), 1u);
  EXPECT_EQ(first(c, "DEFAULT").type, "console");
  EXPECT_EQ(first(c, "DEFAULT").theme.name, "monochrome");
}

TEST(ThemeConfig, UnknownThemeNamesTheFileTheKeyAndTheValidOnes) {
  TempDir dir;
  expect_mentions(load_error(dir, "bad.toml", R"(
[[layers.APP.destinations]]
type = "console"
theme = "neon"
)"),
                  {"bad.toml:4", "layers.APP.destinations[0].theme", "'neon' is not a theme",
                   "(valid: default, high-contrast, monochrome)"});
  expect_mentions(load_error(dir, "top.yaml", "theme: solarized\n"),
                  {"top.yaml:1", "theme: 'solarized' is not a theme"});
  expect_mentions(load_error(dir, "base.toml", R"(
[[layers.APP.destinations]]
theme = { base = "neon" }
)"),
                  {"layers.APP.destinations[0].theme.base", "'neon' is not a theme"});
}

TEST(ThemeConfig, BadColourNamesTheKeyAndTheValue) {
  TempDir dir;
  expect_mentions(load_error(dir, "bad.yaml", R"(
layers:
  APP:
    destinations:
      - theme:
          info: pink
)"),
                  {"bad.yaml:6", "layers.APP.destinations[0].theme.info", "'pink' is not a colour",
                   "bright_cyan", "1;31"});
}

TEST(ThemeConfig, UnknownKeyOrWrongTypeInATheme) {
  TempDir dir;
  expect_mentions(load_error(dir, "key.toml", R"(
[[layers.APP.destinations]]
theme = { fatal = "red" }
)"),
                  {"layers.APP.destinations[0].theme.fatal", "unknown key",
                   "valid keys in a theme: base, trace, debug", "layer"});
  expect_mentions(load_error(dir, "type.toml", R"(
[[layers.APP.destinations]]
theme = 3
)"),
                  {"layers.APP.destinations[0].theme", "a theme name or a table of colours"});
  expect_mentions(load_error(dir, "value.toml", R"(
[[layers.APP.destinations]]
theme = { info = 32 }
)"),
                  {"theme.info", "expected a string"});
}

TEST(ThemeConfig, RoundTripsThroughConfigToJson) {
  TempDir dir;
  const auto c = load_text(dir, "a.toml", R"(
[[layers.APP.destinations]]
theme = { base = "high-contrast", audit = "38;5;208", layer = "dim" }
[[layers.APP.destinations]]
theme = "monochrome"
[[layers.APP.destinations]]
type = "null"
)");
  const std::string json = hydra::config_to_json(c);
  const auto parsed = nlohmann::json::parse(json);
  const auto& list = parsed["layers"]["APP"]["destinations"];
  EXPECT_EQ(list[0]["theme"],
            nlohmann::json({{"base", "high-contrast"}, {"audit", "38;5;208"}, {"layer", "dim"}}));
  EXPECT_EQ(list[1]["theme"], "monochrome");
  EXPECT_FALSE(list[2].contains("theme"));  // the default is not written
  const auto back = hydra::parse_config(json, hydra::ConfigFormat::json);
  EXPECT_EQ(hydra::config_to_json(back), json);
}

TEST(ThemeEnvironment, ReplacesEveryDestinationsTheme) {
  hydra::LoggerConfig c;
  hydra::ColorTheme custom;
  custom.level_colors[hydra::Level::info] = "red";
  c.layers["APP"].destinations = {hydra::console(), hydra::file("a.log")};
  c.layers["APP"].destinations[0].theme = custom;
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_THEME", "high_contrast"}}));
  for (const auto& d : c.layers.at("APP").destinations) {
    EXPECT_EQ(d.theme.name, "high_contrast");
    EXPECT_TRUE(d.theme.level_colors.empty());
  }
}

TEST(ThemeEnvironment, ZeroConfigKeepsItsConsole) {
  hydra::LoggerConfig c;
  hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_THEME", "monochrome"}}));
  ASSERT_EQ(c.layers.count("DEFAULT"), 1u);
  EXPECT_EQ(first(c, "DEFAULT").theme.name, "monochrome");
}

TEST(ThemeEnvironment, BadValueNamesTheVariableAndChangesNothing) {
  hydra::LoggerConfig c;
  c.layers["APP"].destinations = {hydra::console()};
  const std::string before = hydra::config_to_json(c);
  expect_mentions(
      config_error_of([&] {
        hydra::apply_environment(c, hydra::env_from_map({{"HYDRA_LOG_THEME", "neon"}}));
      }),
      {"HYDRA_LOG_THEME='neon' is not a theme", "(valid: default, high-contrast, monochrome)"});
  EXPECT_EQ(hydra::config_to_json(c), before);
}

TEST(ThemeEnvironment, EnvironmentBeatsTheFileAndCodeBeatsTheEnvironment) {
  TempDir dir;
  hydra::test::write_file(dir.file("a.toml"), R"(
[[layers.APP.destinations]]
theme = "monochrome"
)");
  hydra::ConfigSources sources;
  sources.file = dir.file("a.toml");
  sources.env = hydra::env_from_map({{"HYDRA_LOG_THEME", "high-contrast"}});
  const hydra::ResolvedConfig resolved = hydra::resolve_config(sources);
  EXPECT_EQ(first(resolved.config, "APP").theme.name, "high-contrast");
  bool credited = false;
  for (const auto& [key, origin] : resolved.origins) {
    if (key.find("theme") == std::string::npos) continue;
    EXPECT_EQ(origin, "environment HYDRA_LOG_THEME") << key;
    credited = true;
  }
  EXPECT_TRUE(credited);
  sources.code = [](hydra::LoggerConfig& c) {
    c.layers.at("APP").destinations.at(0).theme.name = "default";
  };
  EXPECT_EQ(first(hydra::resolve_config(sources).config, "APP").theme.name, "default");
}

TEST(FormatAuto, AcceptedInFiles) {
  TempDir dir;
  const auto c = load_text(dir, "a.toml", R"(
[[layers.APP.destinations]]
format = "AUTO"
)");
  EXPECT_EQ(first(c, "APP").format, "auto");
  expect_mentions(load_error(dir, "bad.toml", R"(
[[layers.APP.destinations]]
format = "xml"
)"),
                  {"'xml' is not a format", "logstash", "auto, or a registered formatter type"});
  const std::string json = hydra::config_to_json(c);
  EXPECT_EQ(hydra::config_to_json(hydra::parse_config(json, hydra::ConfigFormat::json)), json);
}

TEST(FormatAuto, FilesByExtension) {
  const hydra::Environment nowhere;
  const auto format_of = [&](const std::string& path) {
    return std::string(hydra::auto_format_for(hydra::file(path, "auto"), false, nowhere));
  };
  EXPECT_EQ(format_of("logs/app.json"), "json");
  EXPECT_EQ(format_of("logs/app.JSONL"), "json");
  EXPECT_EQ(format_of("logs/app.ndjson"), "json");
  EXPECT_EQ(format_of("logs/app.logfmt"), "logfmt");
  EXPECT_EQ(format_of("logs/app.csv"), "csv");
  EXPECT_EQ(format_of("logs/app.log"), "text");
  EXPECT_EQ(format_of("logs/app"), "text");
  EXPECT_EQ(format_of("logs.json/app.txt"), "text");
  EXPECT_EQ(std::string(hydra::auto_format_for(hydra::rotating_file("a.jsonl", 1024, 3, "auto"),
                                               false, nowhere)),
            "json");
}

TEST(FormatAuto, ConsoleByTerminalAndEnvironment) {
  const hydra::DestinationConfig console = hydra::console("auto");
  const auto format_of = [&](bool tty, const hydra::Environment& e) {
    return std::string(hydra::auto_format_for(console, tty, e));
  };
  hydra::Environment plain;
  EXPECT_EQ(format_of(true, plain), "text");
  EXPECT_EQ(format_of(false, plain), "text");  // a pipe, a file, a service manager

  hydra::Environment container;
  container.container =
      hydra::Environment::Container{hydra::ContainerRuntime::docker, "/.dockerenv"};
  EXPECT_EQ(format_of(false, container), "json");
  EXPECT_EQ(format_of(true, container), "text");  // docker run -t

  hydra::Environment k8s;
  k8s.kubernetes = hydra::Environment::Kubernetes{"pod", "ns", "node", "KUBERNETES_SERVICE_HOST"};
  EXPECT_EQ(format_of(false, k8s), "json");

  hydra::Environment cloud_run;
  cloud_run.cloud =
      hydra::Environment::Cloud{hydra::CloudPlatform::gcp_cloud_run, "europe-west1", "K_SERVICE"};
  EXPECT_EQ(format_of(false, cloud_run), "gcp_json");

  hydra::Environment vm;  // a bare VM: nobody collects stdout
  vm.cloud = hydra::Environment::Cloud{hydra::CloudPlatform::aws_ec2, "", "dmi"};
  EXPECT_EQ(format_of(false, vm), "text");

  hydra::Environment ci = container;  // CI in a container: read by people
  ci.ci = hydra::Environment::Ci{"gitlab", "GITLAB_CI"};
  EXPECT_EQ(format_of(false, ci), "text");

  // Only a console is collected: a custom sink (or null) gets text.
  EXPECT_EQ(std::string(hydra::auto_format_for(
                hydra::to_sink(std::make_shared<hydra::MemorySink>(), "auto"), false, k8s)),
            "text");
}

// A memory sink that says it is a terminal, for the colour decision.
class TerminalSink final : public hydra::Sink {
 public:
  void write(const hydra::Record& record, std::string_view bytes) override {
    lines.write(record, bytes);
  }
  void flush() override {}
  bool is_terminal() const override { return true; }
  hydra::MemorySink lines;
};

// Every variable that changes the colour decision unset, TERM a colour one.
struct ColourEnv : hydra::test::CleanEnv {
  ColourEnv() { set("TERM", "xterm-256color"); }
};

TEST(BuiltDestination, StructuredFormatsColourOnATerminal) {
  ColourEnv env;
  for (const std::string format : {"json", "logfmt", "csv", "syslog"}) {
    auto sink = std::make_shared<TerminalSink>();
    hydra::DestinationConfig d = hydra::to_sink(sink, format);
    d.theme.name = "high-contrast";
    hydra::LoggerConfig cfg;
    cfg.layers["APP"].destinations = {d};
    hydra::Logger log(cfg);
    log.error("disk full");
    log.flush();
    const std::string line = sink->lines.contents();
    EXPECT_NE(line.find("\x1b[1;97;41m"), std::string::npos) << format << ": " << line;
  }
}

TEST(BuiltDestination, ForceColourDoesNotColourStructuredFormatsOffATerminal) {
  ColourEnv env;
  env.set("FORCE_COLOR", "1");
  const auto written = [](const std::string& format, hydra::ColorMode mode) {
    auto sink = std::make_shared<hydra::MemorySink>();  // not a terminal
    hydra::DestinationConfig d = hydra::to_sink(sink, format);
    d.color_mode = mode;
    hydra::LoggerConfig cfg;
    cfg.layers["APP"].destinations = {d};
    hydra::Logger log(cfg);
    log.info("hello");
    log.flush();
    return sink->contents();
  };
  EXPECT_EQ(written("json", hydra::ColorMode::automatic).find('\x1b'), std::string::npos);
  EXPECT_EQ(written("csv", hydra::ColorMode::never).find('\x1b'), std::string::npos);
  EXPECT_NE(written("text", hydra::ColorMode::automatic).find("\x1b[32m"), std::string::npos);
  EXPECT_NE(written("json", hydra::ColorMode::always).find("\x1b[32m\"info\""), std::string::npos);
}

TEST(BuiltDestination, ThemeIsCheckedEvenWithoutColour) {
  hydra::test::CleanEnv env;
  hydra::DestinationConfig d = hydra::to_sink(std::make_shared<hydra::MemorySink>());
  d.color_mode = hydra::ColorMode::never;
  d.theme.level_colors[hydra::Level::info] = "pink";
  hydra::LoggerConfig cfg;
  cfg.layers["APP"].destinations = {d};
  expect_mentions(config_error_of([&] { hydra::Logger log(cfg); }),
                  {"layers.APP.destinations[0]", "theme.info: 'pink' is not a colour"});
}

TEST(BuiltDestination, AutoFormatFollowsTheFileExtension) {
  hydra::test::CleanEnv env;
  TempDir dir;
  {
    hydra::LoggerConfig cfg;
    cfg.layers["APP"].destinations = {hydra::file(dir.file("app.jsonl"), "auto"),
                                      hydra::file(dir.file("app.log"), "auto")};
    hydra::Logger log(cfg);
    log.info("hello {who}", "world");
  }
  const std::string json = hydra::test::read_file(dir.file("app.jsonl"));
  ASSERT_TRUE(nlohmann::json::accept(json)) << json;
  EXPECT_EQ(nlohmann::json::parse(json)["message"], "hello world");
  const std::string text = hydra::test::read_file(dir.file("app.log"));
  EXPECT_NE(text.find(" INFO  [APP] hello world who=world"), std::string::npos) << text;
}

}  // namespace
