// Plugins in configuration files: [[filters]], [[analytics]], registry sink
// and formatter types, `plugins = [...]`, checked as strictly as Hydra's own
// keys.
#include <gtest/gtest.h>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/plugin/registry.hpp>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config_test_util.hpp"

namespace {

using hydra::test::expect_mentions;
using hydra::test::load_error;
using hydra::test::load_text;
using hydra::test::TempDir;

class KeepFilter final : public hydra::plugin::Filter {
 public:
  Verdict filter(const hydra::Record&, hydra::plugin::RecordEdit&) override {
    return Verdict::keep;
  }
};
class NoSink final : public hydra::Sink {
 public:
  void write(const hydra::Record&, std::string_view) override {}
  void flush() override {}
};
class NoFormatter final : public hydra::Formatter {
 public:
  void format(const hydra::Record&, hydra::Buffer& out) const override { out.push_back('\n'); }
};

void register_types() {
  using hydra::plugin::OptionType;
  auto& r = hydra::plugin::Registry::global();
  r.add_filter({.name = "cfg_sample",
                .options = {{.name = "every",
                             .type = OptionType::integer,
                             .required = true,
                             .doc = "keep one in N",
                             .min = 1,
                             .max = 100},
                            {.name = "keys",
                             .type = OptionType::string_list,
                             .default_value = "user",
                             .doc = "who"},
                            {.name = "window",
                             .type = OptionType::duration,
                             .default_value = "1m",
                             .doc = "how long"}}},
               [](const hydra::plugin::Options&) { return std::make_shared<KeepFilter>(); });
  r.add_sink({.name = "cfg_sink",
              .options = {{.name = "endpoint", .required = true, .doc = "where"},
                          {.name = "batch",
                           .type = OptionType::integer,
                           .default_value = "100",
                           .doc = "records per batch",
                           .min = 1,
                           .max = 10000}}},
             [](const hydra::plugin::Options&) { return std::make_shared<NoSink>(); });
  r.add_formatter({.name = "cfg_format",
                   .options = {{.name = "pretty",
                                .type = OptionType::boolean,
                                .default_value = "false",
                                .doc = "indent"}}},
                  [](const hydra::plugin::Options&) { return std::make_shared<NoFormatter>(); });
}

TEST(PluginConfig, FiltersAndRegistryTypesLoadWithTheirOptions) {
  register_types();
  TempDir dir;
  const auto cfg = load_text(dir, "c.toml", R"(
plugin_failure_limit = 7
analytics_interval = "30s"
[[filters]]
type = "cfg_sample"
every = 3
keys = ["user", "ip"]

[[layers.APP.destinations]]
type = "cfg_sink"
endpoint = "http://127.0.0.1:1"
format = "cfg_format"
format_options = { pretty = true }
)");
  ASSERT_EQ(cfg.filters.size(), 1u);
  EXPECT_EQ(cfg.filters[0].type, "cfg_sample");
  EXPECT_EQ(cfg.filters[0].options.integer("every"), 3);
  EXPECT_EQ(cfg.filters[0].options.list("keys"), (std::vector<std::string>{"user", "ip"}));
  EXPECT_EQ(cfg.filters[0].options.duration("window"), std::chrono::minutes(1));  // the default
  EXPECT_EQ(cfg.plugin_failure_limit, 7);
  EXPECT_EQ(cfg.analytics_interval, std::chrono::seconds(30));
  const auto& d = cfg.layers.at("APP").destinations.at(0);
  EXPECT_EQ(d.type, "cfg_sink");
  EXPECT_EQ(d.sink_options.text("endpoint"), "http://127.0.0.1:1");
  EXPECT_EQ(d.sink_options.integer("batch"), 100);
  EXPECT_EQ(d.format, "cfg_format");
  EXPECT_TRUE(d.format_options.boolean("pretty"));
  hydra::Logger log(cfg);  // and they build
  log.info("x");
}

TEST(PluginConfig, MistakesNameTheFileTheKeyAndWhatIsValid) {
  register_types();
  TempDir dir;
  expect_mentions(
      load_error(dir, "a.toml", "[[filters]]\ntype = \"cfg_sample\"\nevery = 0\n"),
      {"a.toml:1", "filters[0]", "option 'every': '0' is not valid", "an integer from 1 to 100"});
  expect_mentions(load_error(dir, "b.toml", "[[filters]]\ntype = \"nope\"\n"),
                  {"b.toml", "filters[0]", "'nope' is not a registered filter type", "cfg_sample"});
  expect_mentions(load_error(dir, "c.toml", "[[filters]]\nevery = 2\n"),
                  {"filters[0]", "needs a type", "cfg_sample"});
  expect_mentions(
      load_error(dir, "d.toml",
                 "[[layers.APP.destinations]]\ntype = \"cfg_sink\"\nendpoint = \"x\"\nbach = 5\n"),
      {"d.toml", "layers.APP.destinations[0].bach", "unknown key", "endpoint", "batch"});
  expect_mentions(load_error(dir, "e.toml", "[[layers.APP.destinations]]\ntype = \"cfg_sink\"\n"),
                  {"layers.APP.destinations[0]", "option 'endpoint' is required"});
  expect_mentions(
      load_error(dir, "f.toml",
                 "[[layers.APP.destinations]]\ntype = \"console\"\nformat_options = { a = 1 }\n"),
      {"format_options", "only a formatter type of the plugin registry"});
  expect_mentions(
      load_error(dir, "g.toml", "[[layers.APP.destinations]]\ntype = \"pigeon\"\n"),
      {"'pigeon' is not a destination type", "rotating_file", "registered sink type", "cfg_sink"});
  expect_mentions(load_error(dir, "h.toml", "[[filters]]\ntype = \"cfg_sample\"\nevery = [[1]]\n"),
                  {"filters[0].every[0]", "expected a string, a number or a boolean"});
  expect_mentions(load_error(dir, "i.toml", "plugin_failure_limit = 0\n"),
                  {"plugin_failure_limit", "0"});
}

TEST(PluginConfig, PluginFilesThatCannotBeFoundAreNamed) {
  TempDir dir;
  expect_mentions(load_error(dir, "a.toml", "plugins = [\"./missing.so\"]\n"),
                  {"a.toml", "plugins[0]", "missing.so", "no such file"});
  setenv("HYDRA_PLUGIN_PATH", dir.path().c_str(), 1);
  expect_mentions(load_error(dir, "b.toml", "plugins = [\"nowhere\"]\n"),
                  {"plugins[0]", "no plugin named 'nowhere'", "nowhere.so", "libnowhere.so",
                   dir.path().string()});
  unsetenv("HYDRA_PLUGIN_PATH");
  // Not a shared object at all.
  hydra::test::write_file(dir.file("junk.so"), "this is not an ELF file\n");
  expect_mentions(load_error(dir, "c.toml", "plugins = [\"junk.so\"]\n"),
                  {"plugins[0]", "junk.so", "cannot be loaded"});
}

TEST(PluginConfig, ExplainShowsEveryPluginOptionWithItsDefault) {
  register_types();
  TempDir dir;
  hydra::test::write_file(dir.file("c.toml"), "[[filters]]\ntype = \"cfg_sample\"\nevery = 4\n");
  hydra::ConfigSources sources;
  sources.file = dir.file("c.toml");
  sources.env = hydra::env_from_map({});
  const auto resolved = hydra::resolve_config(sources);
  EXPECT_EQ(resolved.values.at("filters[0].every"), "\"4\"");
  EXPECT_EQ(resolved.values.at("filters[0].window"), "\"60000\"");
  EXPECT_EQ(resolved.values.at("filters[0].keys"), "\"user\"");
  EXPECT_NE(resolved.origins.at("filters[0].every").find("c.toml"), std::string::npos);
}

}  // namespace

#if defined(HYDRA_CONFIG_TEST_WITH_PROTECT)
namespace {

// Finds EMP-dddddd employee ids.
class EmployeeIds final : public hydra::plugin::Detector {
 public:
  void detect(std::string_view text,
              std::vector<std::pair<std::size_t, std::size_t>>& spans) const override {
    for (std::size_t at = text.find("EMP-"); at != std::string_view::npos;
         at = text.find("EMP-", at + 1)) {
      if (at + 10 <= text.size()) spans.emplace_back(at, at + 10);
    }
  }
  std::string_view token() const override { return "EMPLOYEE_ID"; }
};

TEST(PluginConfig, DetectorsJoinTheProtectStage) {
  hydra::plugin::Registry::global().add_detector(
      {.name = "cfg_employee_ids"},
      [](const hydra::plugin::Options&) { return std::make_shared<EmployeeIds>(); });
  TempDir dir;
  auto cfg = load_text(dir, "d.toml", R"(
[[detectors]]
type = "cfg_employee_ids"
[[layers.APP.destinations]]
type = "file"
path = "out.log"
format = "logfmt"
)");
  cfg.layers["APP"].destinations[0].path = dir.file("out.log");
  {
    hydra::Logger log(cfg);
    log.info("badge {id} used by alice@example.com", "EMP-123456");
  }
  const std::string out = hydra::test::read_file(dir.file("out.log"));
  EXPECT_NE(out.find("badge [REDACTED_EMPLOYEE_ID] used by [REDACTED_EMAIL]"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("EMP-123456"), std::string::npos) << out;

  expect_mentions(
      load_error(dir, "e.toml", "redact = false\n[[detectors]]\ntype = \"cfg_employee_ids\"\n"),
      {"detectors", "redact = false"});
  expect_mentions(
      load_error(dir, "f.toml", "[[detectors]]\ntype = \"cfg_employee_ids\"\naction = \"shred\"\n"),
      {"detectors[0].action", "'shred' is not an action", "redact, mask, hash, drop"});
  expect_mentions(load_error(dir, "g.toml", "[[detectors]]\ntype = \"nope\"\n"),
                  {"detectors[0]", "'nope' is not a registered detector type", "cfg_employee_ids"});
}

// Finds what follows `prefix`: `width` characters.
class Prefixed final : public hydra::plugin::Detector {
 public:
  explicit Prefixed(const hydra::plugin::Options& o)
      : prefix_(o.text("prefix")), width_(static_cast<std::size_t>(o.integer("width"))) {}
  void detect(std::string_view text,
              std::vector<std::pair<std::size_t, std::size_t>>& spans) const override {
    for (std::size_t at = text.find(prefix_); at != std::string_view::npos;
         at = text.find(prefix_, at + 1)) {
      if (at + prefix_.size() + width_ <= text.size()) {
        spans.emplace_back(at + prefix_.size(), at + prefix_.size() + width_);
      }
    }
  }
  std::string_view token() const override { return "PREFIXED"; }

 private:
  std::string prefix_;
  std::size_t width_;
};

TEST(PluginConfig, ExplainShowsEachDetectorWithItsTokenActionAndOptions) {
  using hydra::plugin::OptionType;
  hydra::plugin::Registry::global().add_detector(
      {.name = "cfg_prefixed",
       .options = {{.name = "prefix", .required = true, .doc = "what precedes"},
                   {.name = "width",
                    .type = OptionType::integer,
                    .default_value = "6",
                    .doc = "how many characters",
                    .min = 1,
                    .max = 64}}},
      [](const hydra::plugin::Options& o) { return std::make_shared<Prefixed>(o); });
  TempDir dir;
  hydra::test::write_file(dir.file("d.toml"), R"(name = "x"
[[detectors]]
type = "cfg_prefixed"
prefix = "ACCT-"
action = "mask"

[[detectors]]
type = "cfg_prefixed"
width = 4
prefix = "PIN:"
)");
  hydra::ConfigSources sources;
  sources.file = dir.file("d.toml");
  sources.env = hydra::env_from_map({});
  auto resolved = hydra::resolve_config(sources);
  const std::string at = dir.file("d.toml") + ":";
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"detectors[0].type", {"\"cfg_prefixed\"", at + "3"}},
      {"detectors[0].token", {"\"PREFIXED\"", at + "3"}},  // the type's line
      {"detectors[0].action", {"\"mask\"", at + "5"}},
      {"detectors[0].prefix", {"\"ACCT-\"", at + "4"}},
      {"detectors[0].width", {"\"6\"", "default"}},
      {"detectors[1].type", {"\"cfg_prefixed\"", at + "8"}},
      {"detectors[1].token", {"\"PREFIXED\"", at + "8"}},
      {"detectors[1].action", {"\"redact\"", "default"}},
      {"detectors[1].prefix", {"\"PIN:\"", at + "10"}},
      {"detectors[1].width", {"\"4\"", at + "9"}},
  };
  std::map<std::string, std::pair<std::string, std::string>> listed;
  for (const auto& [path, value] : resolved.values) {
    if (path.starts_with("detectors")) listed[path] = {value, resolved.origins.at(path)};
  }
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(resolved.values.at("redact"), "true");
  EXPECT_EQ(resolved.origins.at("redact"), at + "2");  // the detectors turn it on

  // Compliance profiles keep the detectors: still listed.
  hydra::test::write_file(dir.file("c.toml"), R"([[detectors]]
type = "cfg_prefixed"
prefix = "ACCT-"
[compliance]
profiles = ["pci"]
)");
  sources.file = dir.file("c.toml");
  resolved = hydra::resolve_config(sources);
  EXPECT_EQ(resolved.values.at("detectors[0].prefix"), "\"ACCT-\"");
  EXPECT_EQ(resolved.origins.at("detectors[0].prefix"), dir.file("c.toml") + ":3");
  EXPECT_EQ(resolved.values.count("detectors"), 0u);

  // HYDRA_LOG_REDACT_SENSITIVE=true asks for redaction, which the file's
  // detectors already give: they stay, and so does the credit for `redact`.
  sources.file = dir.file("d.toml");
  sources.env = hydra::env_from_map({{"HYDRA_LOG_REDACT_SENSITIVE", "true"}});
  resolved = hydra::resolve_config(sources);
  EXPECT_EQ(resolved.values.at("detectors[1].prefix"), "\"PIN:\"");
  EXPECT_EQ(resolved.origins.at("redact"), at + "2");
  // =false turns the protect stage off, detectors and all.
  sources.env = hydra::env_from_map({{"HYDRA_LOG_REDACT_SENSITIVE", "false"}});
  resolved = hydra::resolve_config(sources);
  EXPECT_EQ(resolved.values.count("detectors[0].type"), 0u);
  EXPECT_EQ(resolved.values.at("detectors"), "[]");
  EXPECT_EQ(resolved.origins.at("detectors"), "environment HYDRA_LOG_REDACT_SENSITIVE");
  EXPECT_EQ(resolved.values.at("redact"), "false");
  EXPECT_EQ(resolved.origins.at("redact"), "environment HYDRA_LOG_REDACT_SENSITIVE");

  // A preset's `redact = false` is a default: the file's detectors turn the
  // protect stage on over it. The file's own `redact = false` contradicts
  // them: an error naming both.
  hydra::test::write_file(dir.file("p.toml"), R"(preset = "production"
[[detectors]]
type = "cfg_prefixed"
prefix = "ACCT-"
)");
  sources.file = dir.file("p.toml");
  sources.env = hydra::env_from_map({});
  resolved = hydra::resolve_config(sources);
  EXPECT_EQ(resolved.values.at("redact"), "true");
  EXPECT_EQ(resolved.origins.at("redact"), dir.file("p.toml") + ":2");
  EXPECT_EQ(resolved.values.at("detectors[0].prefix"), "\"ACCT-\"");
  hydra::test::write_file(dir.file("f.toml"), R"(preset = "production"
redact = false
[[detectors]]
type = "cfg_prefixed"
prefix = "ACCT-"
)");
  sources.file = dir.file("f.toml");
  const std::string error = hydra::test::config_error_of([&] { hydra::resolve_config(sources); });
  EXPECT_NE(error.find("detectors run in the protect stage, which redact = false turns off"),
            std::string::npos)
      << error;

  // A protector without them (code's): none listed, and `detectors = []`
  // credited to what replaced them.
  sources.file = dir.file("d.toml");
  sources.env = hydra::env_from_map({});
  sources.code = [](hydra::LoggerConfig& c) { c.protector = nullptr; };
  resolved = hydra::resolve_config(sources);
  EXPECT_EQ(resolved.values.count("detectors[0].type"), 0u);
  EXPECT_EQ(resolved.origins.at("detectors"), "code");
  EXPECT_EQ(resolved.origins.at("redact"), "code");

  // No [[detectors]]: an empty list, by default.
  hydra::test::write_file(dir.file("n.toml"), "name = \"x\"\n");
  sources.file = dir.file("n.toml");
  sources.code = nullptr;
  resolved = hydra::resolve_config(sources);
  EXPECT_EQ(resolved.values.at("detectors"), "[]");
  EXPECT_EQ(resolved.origins.at("detectors"), "default");
}

}  // namespace
#endif
