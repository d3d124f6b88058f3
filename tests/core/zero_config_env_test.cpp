// The zero-config logger (`hydra::Logger log;`) and the HYDRA_LOG_* variables:
// it honours HYDRA_LOG_LEVEL and HYDRA_LOG_FORMAT like the config component
// (one parser), and a bad variable never stops it: one notice on stderr, and
// the default. Real environment variables, set and restored around each test.
#include <gtest/gtest.h>

#include <hydra/hydra.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "format/format_test_support.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::test::ScopedEnv;
using hydra::test::split_lines;

class ZeroConfigEnvTest : public testing::TestWithParam<hydra::LoggerMode> {
 protected:
  LoggerConfig zero() const {
    LoggerConfig cfg;  // no layers: zero-config
    cfg.mode = GetParam();
    return cfg;
  }
  // Unique per test and mode: notices are once per variable and value in a
  // process, and every test runs in one process.
  std::string unique(const std::string& value) const {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    return value + "-" + info->name();
  }
};
const auto kModes = testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async);
std::string mode_name(const testing::TestParamInfo<hydra::LoggerMode>& info) {
  return info.param == hydra::LoggerMode::sync ? "sync" : "async";
}
INSTANTIATE_TEST_SUITE_P(BothModes, ZeroConfigEnvTest, kModes, mode_name);

// Everything that shapes zero-config's output, unset; TZ=UTC.
struct CleanZeroConfigEnv : hydra::test::CleanEnv {
  CleanZeroConfigEnv() {
    for (const char* name : {"HYDRA_LOG_LEVEL", "HYDRA_LOG_FORMAT", "HYDRA_LOG_THEME"}) {
      set(name, std::nullopt);
    }
  }
};

struct Output {
  std::vector<std::string> lines;  // stdout
  std::string err;
};

// Builds a zero-config logger from `cfg` and runs `body` with it, capturing
// what reaches stdout and stderr.
template <typename Body>
Output run_zero_config(const LoggerConfig& cfg, Body body) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  try {
    hydra::Logger log(cfg);
    body(log);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "zero-config threw: " << e.what();
  }
  Output out;
  out.err = testing::internal::GetCapturedStderr();
  out.lines = split_lines(testing::internal::GetCapturedStdout());
  return out;
}

TEST_P(ZeroConfigEnvTest, HonoursLevelAndFormatLikeTheConfigComponent) {
  CleanZeroConfigEnv clean;
  ScopedEnv env({{"HYDRA_LOG_LEVEL", "debug, DATABASE=warning"}, {"HYDRA_LOG_FORMAT", "json"}});
  const Output out = run_zero_config(zero(), [](hydra::Logger& log) {
    log.trace("below debug");
    log.debug("shown at debug");
    log.layer("DATABASE").info("below DATABASE's warning");
    log.layer("DATABASE").warning("database warning");
  });
  ASSERT_EQ(out.lines.size(), 2u) << out.err;
  const auto first = nlohmann::json::parse(out.lines[0]);
  const auto second = nlohmann::json::parse(out.lines[1]);
  EXPECT_EQ(first["message"], "shown at debug");
  EXPECT_EQ(first["level"], "debug");
  EXPECT_EQ(second["message"], "database warning");
  EXPECT_EQ(second["layer"], "DATABASE");
  EXPECT_EQ(out.err, "");
}

// The variable wins over default_level set in code, as in resolve_config's
// precedence (the environment over code defaults); reconfigure() to a
// zero-config applies it again.
TEST_P(ZeroConfigEnvTest, TheLevelVariableOverridesTheDefaultLevelAndSurvivesAReload) {
  CleanZeroConfigEnv clean;
  ScopedEnv env(std::map<std::string, std::optional<std::string>>{{"HYDRA_LOG_LEVEL", "error"}});
  LoggerConfig cfg = zero();
  cfg.default_level = Level::debug;
  const Output out = run_zero_config(cfg, [&cfg](hydra::Logger& log) {
    log.warning("below error");
    log.error("first error");
    log.reconfigure(cfg);
    log.warning("still below error");
    log.error("second error");
  });
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_NE(out.lines[0].find("first error"), std::string::npos);
  EXPECT_NE(out.lines[1].find("second error"), std::string::npos);
}

TEST_P(ZeroConfigEnvTest, BadVariablesGiveOneNoticeEachAndTheDefaults) {
  CleanZeroConfigEnv clean;
  const std::string level = unique("chatty");
  const std::string format = unique("xml");
  const std::string message_format = unique("{oops}");
  const std::string theme = unique("neon");
  const std::string date_format = unique("%Q");
  ScopedEnv env({{"HYDRA_LOG_LEVEL", "info,DATABASE=" + level},
                 {"HYDRA_LOG_FORMAT", format},
                 {"HYDRA_LOG_MESSAGE_FORMAT", message_format},
                 {"HYDRA_LOG_DATE_FORMAT", date_format},
                 {"HYDRA_LOG_THEME", theme}});
  const Output out = run_zero_config(zero(), [](hydra::Logger& log) {
    log.debug("below the default level");
    log.info("user {user} logged in", "alice");
  });
  // The defaults: info and up, the text format's default line.
  ASSERT_EQ(out.lines.size(), 1u) << out.err << "stdout:\n" << testing::PrintToString(out.lines);
  EXPECT_NE(out.lines[0].find("INFO  [APP] user alice logged in user=alice"), std::string::npos)
      << out.lines[0];
  const auto notices = split_lines(out.err);
  ASSERT_EQ(notices.size(), 5u) << out.err;
  const auto expect_notice = [&out](std::initializer_list<std::string> parts) {
    for (const auto& line : split_lines(out.err)) {
      bool all = true;
      for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
      if (all) return;
    }
    ADD_FAILURE() << "no notice with all of the expected parts in:\n" << out.err;
  };
  expect_notice({"hydra: HYDRA_LOG_LEVEL='info,DATABASE=" + level + "' is ignored",
                 "'" + level + "' is not a level", "trace, debug", "the default is used"});
  expect_notice({"HYDRA_LOG_FORMAT='" + format + "' is ignored", "valid: text, json"});
  expect_notice({"HYDRA_LOG_MESSAGE_FORMAT='" + message_format + "' is ignored",
                 "unknown placeholder", "the default '{date} {time}"});
  expect_notice({"HYDRA_LOG_DATE_FORMAT='" + date_format + "' is ignored", "%Q", "valid:"});
  expect_notice({"HYDRA_LOG_THEME='" + theme + "' is ignored", "high-contrast"});

  // A second logger in the same process says nothing more.
  const Output again = run_zero_config(zero(), [](hydra::Logger& log) { log.info("again"); });
  EXPECT_EQ(again.err, "");
  EXPECT_EQ(again.lines.size(), 1u);
}

// A hostile value cannot forge a line on stderr.
TEST_P(ZeroConfigEnvTest, ANoticeShowsAHostileValueEscaped) {
  CleanZeroConfigEnv clean;
  const std::string value = unique("x\nhydra: forged\x1b[31m");
  ScopedEnv env({{"HYDRA_LOG_FORMAT", value}});
  const Output out = run_zero_config(zero(), [](hydra::Logger& log) { log.info("fine"); });
  ASSERT_EQ(split_lines(out.err).size(), 1u) << out.err;
  EXPECT_NE(out.err.find("x\\nhydra: forged\\x1b[31m"), std::string::npos) << out.err;
  EXPECT_EQ(out.lines.size(), 1u);
}

// Only zero-config is lenient: a logger configured in code keeps the strict
// errors (and the config component's apply_environment its own).
TEST_P(ZeroConfigEnvTest, AnExplicitConfigurationStaysStrict) {
  CleanZeroConfigEnv clean;
  ScopedEnv env(
      std::map<std::string, std::optional<std::string>>{{"HYDRA_LOG_MESSAGE_FORMAT", "{oops}"}});
  LoggerConfig cfg = zero();
  cfg.layers["APP"].destinations = {hydra::console()};
  try {
    hydra::Logger log(cfg);
    ADD_FAILURE() << "a bad HYDRA_LOG_MESSAGE_FORMAT was accepted for a configured console";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("HYDRA_LOG_MESSAGE_FORMAT"), std::string::npos);
  }
}

TEST(LevelSpec, ParsesWhatHydraLogLevelTakes) {
  const hydra::LevelSpec spec = hydra::parse_level_spec(" info, DATABASE = debug,,CACHE=off ");
  EXPECT_EQ(spec.overall, Level::info);
  ASSERT_EQ(spec.layers.size(), 2u);
  EXPECT_EQ(spec.layers[0], (std::pair<std::string, Level>{"DATABASE", Level::debug}));
  EXPECT_EQ(spec.layers[1], (std::pair<std::string, Level>{"CACHE", Level::off}));
  EXPECT_FALSE(hydra::parse_level_spec("").overall);
  EXPECT_THROW(hydra::parse_level_spec("info,=debug"), hydra::ConfigError);
  EXPECT_THROW(hydra::parse_level_spec("DATABASE=chatty"), hydra::ConfigError);
  EXPECT_TRUE(hydra::is_format_name("json"));
  EXPECT_TRUE(hydra::is_format_name("JSON"));  // as make_formatter
  EXPECT_FALSE(hydra::is_format_name("xml"));
  EXPECT_FALSE(hydra::is_format_name("auto"));
}

}  // namespace
