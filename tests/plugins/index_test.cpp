// The project's plugin index as a release makes it (docs/plugin-index.md,
// "The project's own index"): `hydra plugin index build` over the built
// splunk_hec.so and cloudwatch.so, signed with a throw-away Ed25519 key made
// by the openssl commands the docs give; `hydra plugin search` finds them,
// `hydra plugin install splunk_hec` installs it, and a configuration then
// loads it by name and ships records with it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <hydra/plugin/loader.hpp>
#include <nlohmann/json.hpp>

#include "plugins/support.hpp"
#include "support/scripted_receiver.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using hydra::test::run_process;
using json = nlohmann::json;

hydra::test::ProcessResult hydra_plugin(std::vector<std::string> args) {
  args.insert(args.begin(), {HYDRA_CLI, "plugin"});
  return run_process(args, "");
}

TEST(PluginIndex, TheFirstPartyPluginsAreIndexedSignedInstalledAndLoadedByName) {
#ifndef HYDRA_OPENSSL_CLI
  GTEST_SKIP() << "no openssl command";
#else
  hydra::test::TempDir dir;
  hydra::test::ScopedEnv env;
  env.set("XDG_DATA_HOME", dir.file("data"));
  env.set("XDG_CONFIG_HOME", dir.file("config"));
  env.unset("HYDRA_PLUGIN_INDEX");
  env.unset("HYDRA_PLUGIN_PATH");

  // The release: the two plugins in one directory, indexed, signed.
  const fs::path release = dir.path() / "release";
  fs::create_directories(release);
  fs::copy_file(HYDRA_SPLUNK_HEC_PLUGIN, release / "splunk_hec.so");
  fs::copy_file(HYDRA_CLOUDWATCH_PLUGIN, release / "cloudwatch.so");
  const std::string key = dir.file("publisher.pem"), pub = dir.file("publisher.pub.pem");
  auto r = run_process({HYDRA_OPENSSL_CLI, "genpkey", "-algorithm", "ed25519", "-out", key}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_process({HYDRA_OPENSSL_CLI, "pkey", "-in", key, "-pubout", "-out", pub}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = hydra_plugin({"index", "build", release.string(), "--publisher", "hydra-logger"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string index = (release / "index.json").string();
  r = hydra_plugin({"index", "sign", "--key", key, index});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const json entries = json::parse(hydra::test::read_file(index))["plugins"];
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    EXPECT_EQ(e["publisher"], "hydra-logger");
    EXPECT_EQ(e["kinds"], json::array({"sink:" + e["name"].get<std::string>()})) << e;
    EXPECT_EQ(e["sha256"], hydra::plugin::sha256_file(release / e["location"].get<std::string>()));
  }

  // A user: trusts the key, finds the plugins, installs one.
  r = hydra_plugin({"trust", pub});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  env.set("HYDRA_PLUGIN_INDEX", index);
  r = hydra_plugin({"search", "splunk"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("splunk_hec 1.0.0  ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("[sink:splunk_hec]"), std::string::npos) << r.out;
  r = hydra_plugin({"search", "cloudwatch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[sink:cloudwatch]"), std::string::npos) << r.out;
  r = hydra_plugin({"install", "splunk_hec"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path installed = dir.path() / "data" / "hydra" / "plugins" / "splunk_hec.so";
  EXPECT_NE(r.out.find("installed splunk_hec 1.0.0 to " + installed.string()), std::string::npos)
      << r.out;
  r = hydra_plugin({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // ... and names it in a configuration: `hydra pipe` (a process of its
  // own, as a program would be) finds it in the user's plugin directory
  // and ships the lines it reads with it.
  hydra::test::ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {"tok"});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(dir.file("c.toml"),
                          "plugins = [\"splunk_hec\"]\n[[layers.DEFAULT.destinations]]\n"
                          "type = \"splunk_hec\"\nurl = \"" +
                              hec.base_url() + "\"\ntoken = \"tok\"\n");
  r = run_process({HYDRA_CLI, "pipe", "--config", dir.file("c.toml")}, "one\ntwo\nthree\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> messages;
  for (const auto& e : hec.lines("events.jsonl")) messages.push_back(e["event"]["message"]);
  EXPECT_NE(std::find(messages.begin(), messages.end(), "plugin loaded"), messages.end());
  messages.erase(std::remove(messages.begin(), messages.end(), "plugin loaded"), messages.end());
  EXPECT_EQ(messages, (std::vector<std::string>{"one", "two", "three"}));
#endif
}

}  // namespace
