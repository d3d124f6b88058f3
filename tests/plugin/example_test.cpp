// The example plugin's configuration (examples/plugins/example.toml) works as
// its README says: `hydra pipe --config` loads the plugin next to it, and its
// filter, sink and analytics each do their part.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

TEST(ExamplePlugin, ItsConfigurationLoadsItAndUsesEachType) {
  hydra::test::TempDir dir;
  fs::copy_file(HYDRA_EXAMPLE_PLUGIN, dir.path() / "hydra-example.so");
  // The configuration as it is, but for its log file, which goes into `dir`.
  std::string config = hydra::test::read_file(HYDRA_EXAMPLE_PLUGIN_CONFIG);
  const std::string path_line = "path = \"example-plugin.log\"";
  const auto at = config.find(path_line);
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, path_line.size(), "path = \"" + dir.file("example-plugin.log") + "\"");
  hydra::test::write_file(dir.path() / "example.toml", config);
  const auto r = hydra::test::run_process({HYDRA_CLI, "pipe", "--config", dir.file("example.toml")},
                                          "hello\nGET /health 200\nworld\nagain\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // example_sample keeps 1 record in 2 (the logger's audit record of the
  // loaded plugin, then "world") and never the health check; example_file
  // writes the kept ones as JSON Lines.
  std::vector<std::string> messages;
  for (const std::string& line :
       hydra::test::split_lines(hydra::test::read_file(dir.file("example-plugin.log")))) {
    const auto record = nlohmann::json::parse(line);
    messages.push_back(record.at("message").get<std::string>());
    EXPECT_EQ(record.at("fields").at("sampled_rate"), 2) << line;
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"plugin loaded", "world"}));
}

}  // namespace
