// The built-in analytics as configuration sees them: registered in
// Registry::global() with their options, and running in a Logger in both
// modes (insights(), a burst written from tick() into the pipeline).
#include <gtest/gtest.h>
#include <hydra/core/error.hpp>
#include <hydra/hydra.hpp>
#include <hydra/plugin/registry.hpp>
#include <hydra/sink/memory_sink.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using hydra::plugin::Kind;
using hydra::plugin::Options;
using hydra::plugin::Registry;
using json = nlohmann::json;

TEST(BuiltinAnalytics, AreRegisteredWithTheirOptions) {
  const Registry& registry = Registry::global();
  EXPECT_EQ(registry.names(Kind::analytics), "rates, security_bursts");
  const auto rates = registry.find(Kind::analytics, "rates");
  ASSERT_TRUE(rates.has_value());
  EXPECT_EQ(rates->origin, "built-in");
  std::vector<std::string> names;
  for (const auto& o : rates->options) names.push_back(o.name);
  EXPECT_EQ(names, (std::vector<std::string>{"top", "window", "max_templates"}));
  const auto bursts = registry.find(Kind::analytics, "security_bursts");
  ASSERT_TRUE(bursts.has_value());
  names.clear();
  for (const auto& o : bursts->options) names.push_back(o.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"threshold", "window", "keys", "match", "max_tracked"}));

  const Options defaults = registry.check(Kind::analytics, "security_bursts", {});
  EXPECT_EQ(defaults.integer("threshold"), 5);
  EXPECT_EQ(defaults.duration("window"), std::chrono::seconds(60));
  EXPECT_EQ(defaults.list("keys"), (std::vector<std::string>{"user", "ip"}));
}

TEST(BuiltinAnalytics, MakesInstancesAndRefusesBadOptions) {
  const Registry& registry = Registry::global();
  auto rates = registry.make_analytics("rates", {{"top", "2"}, {"window", "10s"}});
  ASSERT_NE(rates, nullptr);
  EXPECT_EQ(json::parse(rates->insights())["window_s"], 10);
  EXPECT_NE(registry.make_analytics("security_bursts", {{"keys", "user, client_ip"}}), nullptr);
  EXPECT_THROW(registry.make_analytics("rates", {{"top", "0"}}), hydra::ConfigError);
  EXPECT_THROW(registry.make_analytics("rates", {{"window", "ten"}}), hydra::ConfigError);
  EXPECT_THROW(registry.make_analytics("security_bursts", {{"treshold", "3"}}), hydra::ConfigError);
}

class BuiltinAnalyticsInALogger : public ::testing::TestWithParam<hydra::LoggerMode> {};

TEST_P(BuiltinAnalyticsInALogger, CountAndWriteBursts) {
  auto sink = std::make_shared<hydra::MemorySink>();
  hydra::LoggerConfig cfg;
  cfg.name = "analytics";
  cfg.mode = GetParam();
  cfg.layers["APP"].destinations = {hydra::to_sink(sink, "json")};
  cfg.layers["SECURITY"].destinations = {hydra::to_sink(sink, "json")};
  hydra::PluginConfig rates;
  rates.type = "rates";
  hydra::PluginConfig bursts;
  bursts.type = "security_bursts";
  bursts.options.set("threshold", "3");
  cfg.analytics = {rates, bursts};
  hydra::Logger log(cfg);
  for (int i = 0; i < 4; ++i) log.info("request {} served", i);
  for (int i = 0; i < 3; ++i) log.with({{"user", "bob"}}).warning("login failed: bad password");
  log.flush();

  hydra::detail::tick_plugins_for_test(log, std::chrono::system_clock::now());
  log.flush();
  const std::vector<std::string> lines = sink->lines();
  ASSERT_EQ(lines.size(), 8u);
  const json burst = json::parse(lines.back());
  EXPECT_EQ(burst["message"], "burst of 3 failed logins for user=bob within 60s");
  EXPECT_EQ(burst["fields"]["plugin"], "security_bursts");
  EXPECT_EQ(burst["fields"]["count"], 3);

  const json insights = json::parse(log.insights());
  EXPECT_EQ(insights["rates"]["by_layer"]["APP"], json::parse(R"({"info":4,"warning":3})"));
  EXPECT_EQ(insights["rates"]["by_layer"]["SECURITY"]["security"], 1);
  EXPECT_EQ(insights["rates"]["top_templates"][0]["template"], "request <n> served");
  EXPECT_EQ(insights["rates"]["top_templates"][0]["count"], 4);
  // Its own record came back through the pipeline and was not counted.
  EXPECT_EQ(insights["security_bursts"]["failures"], 3);
  EXPECT_EQ(insights["security_bursts"]["bursts"], 1);
  // A second tick in the same window writes nothing more.
  hydra::detail::tick_plugins_for_test(log, std::chrono::system_clock::now());
  log.flush();
  EXPECT_EQ(sink->lines().size(), 8u);
}

INSTANTIATE_TEST_SUITE_P(Modes, BuiltinAnalyticsInALogger,
                         ::testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const auto& info) {
                           return info.param == hydra::LoggerMode::sync ? "sync" : "async";
                         });

}  // namespace
