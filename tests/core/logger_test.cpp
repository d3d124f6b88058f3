#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <hydra/hydra.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/recording_sink.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerConfig;
using hydra::test::RecordingSink;

// A logger whose given layers each write to their own recording sink.
struct Fixture {
  std::map<std::string, std::shared_ptr<RecordingSink>> sinks;
  std::unique_ptr<hydra::Logger> logger;

  Fixture(hydra::LoggerMode mode, std::initializer_list<std::string> layers,
          Level level = Level::trace) {
    LoggerConfig cfg;
    cfg.mode = mode;
    cfg.name = "test";
    cfg.default_level = level;
    for (const auto& name : layers) {
      auto sink = std::make_shared<RecordingSink>();
      sinks[name] = sink;
      cfg.layers[name].destinations.push_back(hydra::to_sink(sink));
    }
    logger = std::make_unique<hydra::Logger>(std::move(cfg));
  }
  // Flushes first: in async mode that is the barrier after which every
  // record logged so far is in the sinks.
  RecordingSink& sink(const std::string& name) {
    logger->flush();
    return *sinks.at(name);
  }
};

class LoggerTest : public testing::TestWithParam<hydra::LoggerMode> {};
class RoutingTest : public testing::TestWithParam<hydra::LoggerMode> {};
class LevelsTest : public testing::TestWithParam<hydra::LoggerMode> {};
class MacrosTest : public testing::TestWithParam<hydra::LoggerMode> {};
class ConfigTest : public testing::TestWithParam<hydra::LoggerMode> {};
class ZeroConfigTest : public testing::TestWithParam<hydra::LoggerMode> {};
class FilesTest : public testing::TestWithParam<hydra::LoggerMode> {};

// Every test here runs in both modes: the same pipeline, run on the caller
// (sync) or on the backend (async).
const auto kModes = testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async);
std::string mode_name(const testing::TestParamInfo<hydra::LoggerMode>& info) {
  return info.param == hydra::LoggerMode::sync ? "sync" : "async";
}
INSTANTIATE_TEST_SUITE_P(BothModes, LoggerTest, kModes, mode_name);
INSTANTIATE_TEST_SUITE_P(BothModes, RoutingTest, kModes, mode_name);
INSTANTIATE_TEST_SUITE_P(BothModes, LevelsTest, kModes, mode_name);
INSTANTIATE_TEST_SUITE_P(BothModes, MacrosTest, kModes, mode_name);
INSTANTIATE_TEST_SUITE_P(BothModes, ConfigTest, kModes, mode_name);
INSTANTIATE_TEST_SUITE_P(BothModes, ZeroConfigTest, kModes, mode_name);
INSTANTIATE_TEST_SUITE_P(BothModes, FilesTest, kModes, mode_name);

TEST_P(LoggerTest, NamedPlaceholdersGiveTextAndFields) {
  Fixture fx(GetParam(), {"APP"});
  fx.logger->info("user {user} from {ip} tried {n} times", "alice", std::string("10.0.0.1"), 3);
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].message, "user alice from 10.0.0.1 tried 3 times");
  ASSERT_EQ(recs[0].fields.size(), 3u);
  EXPECT_EQ(recs[0].field("user"), "alice");
  EXPECT_EQ(recs[0].field("ip"), "10.0.0.1");
  EXPECT_EQ(recs[0].field("n"), "3");
  EXPECT_EQ(recs[0].layer, "APP");
  EXPECT_EQ(recs[0].logger, "test");
  EXPECT_EQ(recs[0].level, Level::info);
}

TEST_P(LoggerTest, SpecsApplyToTextButFieldsKeepTheRawValue) {
  Fixture fx(GetParam(), {"APP"});
  fx.logger->info("took {ms:.2f} ms, {} left", 1.23456, 7);
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].message, "took 1.23 ms, 7 left");
  ASSERT_EQ(recs[0].fields.size(), 1u);  // only named placeholders become fields
  EXPECT_EQ(recs[0].field("ms"), "1.23456");
}

TEST_P(LoggerTest, PositionalTemplatesFormatLikeFmt) {
  Fixture fx(GetParam(), {"APP"});
  fx.logger->warning("{} + {} = {:>4}", 1, 2, 3);
  fx.logger->info("braces {{kept}}");
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "1 + 2 =    3");
  EXPECT_TRUE(recs[0].fields.empty());
  EXPECT_EQ(recs[1].message, "braces {kept}");
}

struct Point {
  int x, y;
};

}  // namespace

template <>
struct fmt::formatter<Point> : fmt::formatter<std::string_view> {
  auto format(const Point& p, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "({}, {})", p.x, p.y);
  }
};

namespace {

TEST_P(LoggerTest, UserTypesAreFormattedIntoFields) {
  Fixture fx(GetParam(), {"APP"});
  fx.logger->info("at {pos}", Point{1, 2});
  fx.logger->info("from {from} to {to}", Point{1, 2}, Point{3, 4});
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "at (1, 2)");
  EXPECT_EQ(recs[0].field("pos"), "(1, 2)");
  // Two user-typed fields in one record: each keeps its own text.
  EXPECT_EQ(recs[1].field("from"), "(1, 2)");
  EXPECT_EQ(recs[1].field("to"), "(3, 4)");
}

TEST_P(LoggerTest, RuntimeTemplateErrorsAreRenderedNotThrown) {
  Fixture fx(GetParam(), {"APP"});
  std::string tmpl = "needs {} and {}";
  EXPECT_NO_THROW(fx.logger->info(hydra::runtime(tmpl), 1));
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_NE(recs[0].message.find("needs {} and {}"), std::string::npos);
  EXPECT_NE(recs[0].message.find("[hydra: format error:"), std::string::npos);
  EXPECT_EQ(fx.logger->metrics().format_errors, 1u);
}

TEST_P(LoggerTest, ExplicitKeyValuesAndScopedContext) {
  Fixture fx(GetParam(), {"APP"});
  {
    hydra::ScopedContext request({{"request_id", "r-1"}, {"user", "alice"}});
    {
      hydra::ScopedContext inner({{"step", 2}});
      fx.logger->with({{"amount", 12.5}, {"currency", "EUR"}}).info("paid {order}", 42);
    }
    fx.logger->info("after inner scope");
  }
  fx.logger->info("no context");
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), 3u);
  // named placeholders, then explicit key-values, then context outermost first
  std::vector<std::string> keys;
  for (const auto& [k, v] : recs[0].fields) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"order", "amount", "currency", "request_id", "user",
                                            "step"}));
  EXPECT_EQ(recs[0].field("amount"), "12.5");
  EXPECT_EQ(recs[0].field("request_id"), "r-1");
  EXPECT_EQ(recs[1].fields.size(), 2u);
  EXPECT_FALSE(recs[1].has_field("step"));
  EXPECT_TRUE(recs[2].fields.empty());
}

TEST_P(LoggerTest, TimestampsAreTheTimeOfTheCall) {
  Fixture fx(GetParam(), {"APP"});
  std::vector<
      std::pair<std::chrono::system_clock::time_point, std::chrono::system_clock::time_point>>
      windows;
  for (int i = 0; i < 50; ++i) {
    const auto before = std::chrono::system_clock::now();
    fx.logger->info("tick {}", i);
    windows.emplace_back(before, std::chrono::system_clock::now());
  }
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), windows.size());
  // Async timestamps are TSC ticks converted on the backend: allow for the
  // calibration error, which is far below a millisecond.
  const auto slack = std::chrono::milliseconds(2);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    EXPECT_GE(recs[i].time, windows[i].first - slack) << i;
    EXPECT_LE(recs[i].time, windows[i].second + slack) << i;
  }
}

TEST_P(LoggerTest, ContextBelongsToItsThread) {
  Fixture fx(GetParam(), {"APP"});
  hydra::ScopedContext mine({{"who", "main"}});
  std::thread([&] { fx.logger->info("from worker"); }).join();
  fx.logger->info("from main");
  auto recs = fx.sink("APP").records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].has_field("who"));
  EXPECT_EQ(recs[1].field("who"), "main");
  EXPECT_NE(recs[0].thread_id, recs[1].thread_id);
}

TEST_P(LoggerTest, ContextValuesAreCopied) {
  Fixture fx(GetParam(), {"APP"});
  auto value = std::make_unique<std::string>("temporary");
  hydra::ScopedContext ctx({{"k", *value}});
  value.reset();
  fx.logger->info("x");
  EXPECT_EQ(fx.sink("APP").records().at(0).field("k"), "temporary");
}

TEST_P(LoggerTest, SourceLocationWithoutMacros) {
  Fixture fx(GetParam(), {"APP"});
  const int line = __LINE__ + 1;
  fx.logger->info("here");
  auto rec = fx.sink("APP").records().at(0);
  EXPECT_EQ(rec.line, static_cast<std::uint32_t>(line));
  EXPECT_NE(rec.file.find("logger_test.cpp"), std::string::npos);
  EXPECT_NE(rec.function.find("SourceLocationWithoutMacros"), std::string::npos);
}

TEST_P(LoggerTest, ARecordWrittenAsTextKeepsTheSourceLocationItWasGiven) {
  Fixture fx(GetParam(), {"APP"});
  const hydra::Field fields[] = {{"k", 1}};
  fx.logger->layer("APP").write(hydra::Level::info, "relayed", fields,
                                hydra::SourceLocation{"remote.py", "handler", 42});
  auto rec = fx.sink("APP").records().at(0);
  EXPECT_EQ(rec.message, "relayed");
  EXPECT_EQ(rec.file, "remote.py");
  EXPECT_EQ(rec.function, "handler");
  EXPECT_EQ(rec.line, 42u);
  EXPECT_EQ(rec.field("k"), "1");
}

TEST_P(LoggerTest, SpecialLevelsGoToTheirLayers) {
  Fixture fx(GetParam(), {"APP", "SECURITY", "AUDIT", "COMPLIANCE"});
  fx.logger->security("login failed for {user}", "bob");
  fx.logger->audit("record {id} deleted", 7);
  fx.logger->compliance("retention checked");
  fx.logger->info("plain");
  EXPECT_EQ(fx.sink("SECURITY").records().at(0).level, Level::security);
  EXPECT_EQ(fx.sink("SECURITY").records().at(0).layer, "SECURITY");
  EXPECT_EQ(fx.sink("AUDIT").records().at(0).level, Level::audit);
  EXPECT_EQ(fx.sink("COMPLIANCE").records().at(0).layer, "COMPLIANCE");
  EXPECT_EQ(fx.sink("APP").size(), 1u);
  // A named layer takes special levels too.
  fx.logger->layer("APP").security("on app");
  EXPECT_EQ(fx.sink("APP").records().at(1).level, Level::security);
}

// Security, audit and compliance records say who and where, and are numbered
// per process (across loggers), so a missing one shows as a gap.
TEST_P(LoggerTest, AccountableRecordsCarryIdentityAndASequence) {
  Fixture fx(GetParam(), {"APP", "SECURITY", "AUDIT", "COMPLIANCE"});
  Fixture other(GetParam(), {"AUDIT"});
  fx.logger->security("login failed for {user}", "bob");
  fx.logger->flush();  // numbered in the order written: this one first
  other.logger->audit("from another logger");
  other.logger->flush();
  fx.logger->audit("record {id} deleted", 7);
  fx.logger->compliance("retention checked");
  fx.logger->info("plain");
  const auto sec = fx.sink("SECURITY").records().at(0);
  const auto aud = fx.sink("AUDIT").records().at(0);
  const auto com = fx.sink("COMPLIANCE").records().at(0);
  const auto between = other.sink("AUDIT").records().at(0);
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(sec.field("host"), host);
  EXPECT_EQ(sec.field("pid"), std::to_string(::getpid()));
  EXPECT_EQ(sec.field("process"), program_invocation_short_name);
  EXPECT_FALSE(sec.field("os_user").empty());
  EXPECT_NE(sec.field("os_user"), "<missing>");
  EXPECT_EQ(sec.field("thread"), std::to_string(sec.thread_id));
  EXPECT_EQ(sec.field("user"), "bob");
  fx.logger->with({{"host", "given"}}).security("the caller's key wins");
  const auto given = fx.sink("SECURITY").records().at(1);
  EXPECT_EQ(given.field("host"), "given");
  int hosts = 0;
  for (const auto& [k, v] : given.fields) hosts += k == "host" ? 1 : 0;
  EXPECT_EQ(hosts, 1) << "no key twice";
  const std::uint64_t first = std::stoull(sec.field("seq"));
  EXPECT_EQ(std::stoull(between.field("seq")), first + 1);
  EXPECT_EQ(std::stoull(aud.field("seq")), first + 2);
  EXPECT_EQ(std::stoull(com.field("seq")), first + 3);
  EXPECT_FALSE(fx.sink("APP").records().at(0).has_field("seq")) << "ordinary records: none";
}

TEST_P(LoggerTest, SeverityOfSpecialLevels) {
  EXPECT_TRUE(hydra::passes(Level::security, Level::warning));
  EXPECT_FALSE(hydra::passes(Level::security, Level::error));
  EXPECT_TRUE(hydra::passes(Level::audit, Level::info));
  EXPECT_FALSE(hydra::passes(Level::compliance, Level::warning));
  EXPECT_EQ(hydra::parse_level("WARN"), Level::warning);
  EXPECT_EQ(hydra::parse_level("Compliance"), Level::compliance);
  EXPECT_EQ(hydra::parse_level("loud"), std::nullopt);
}

TEST_P(RoutingTest, RequestedThenDefaultThenCentralized) {
  {
    Fixture fx(GetParam(), {"DATABASE", "DEFAULT", "__CENTRALIZED__"});
    fx.logger->layer("DATABASE").info("db");
    fx.logger->layer("CACHE").info("cache");
    EXPECT_EQ(fx.sink("DATABASE").size(), 1u);
    ASSERT_EQ(fx.sink("DEFAULT").size(), 1u);
    EXPECT_EQ(fx.sink("DEFAULT").records()[0].layer, "CACHE");  // keeps its own name
    EXPECT_EQ(fx.sink("__CENTRALIZED__").size(), 0u);
  }
  {
    Fixture fx(GetParam(), {"DATABASE", "__CENTRALIZED__"});
    fx.logger->layer("CACHE").info("cache");
    EXPECT_EQ(fx.sink("__CENTRALIZED__").size(), 1u);
    EXPECT_EQ(fx.logger->metrics().fallback_records, 0u);
  }
}

TEST_P(RoutingTest, NoRouteFallsBackToStderrWithOneNotice) {
  Fixture fx(GetParam(), {"DATABASE"});
  testing::internal::CaptureStderr();
  fx.logger->layer("CACHE").error("first");
  fx.logger->layer("CACHE").error("second");
  fx.logger->flush();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("first"), std::string::npos);
  EXPECT_NE(err.find("second"), std::string::npos);
  const std::string notice = "layer 'CACHE' has no route";
  const auto at = err.find(notice);
  ASSERT_NE(at, std::string::npos) << err;
  EXPECT_EQ(err.find(notice, at + 1), std::string::npos) << "notice printed twice";
  EXPECT_EQ(fx.logger->metrics().fallback_records, 2u);
}

TEST_P(RoutingTest, ReservedNamesAreRejected) {
  LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.layers["__SECRET__"].destinations.push_back(
      hydra::to_sink(std::make_shared<RecordingSink>()));
  try {
    hydra::Logger log(cfg);
    FAIL() << "expected ConfigError";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("__SECRET__"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("reserved"), std::string::npos);
  }
}

// The one rule the logger, the config loader and `hydra pipe` share.
TEST(LayerNames, TheDoubleUnderscoreFormsAreReservedButCentralized) {
  EXPECT_TRUE(hydra::is_reserved_layer_name("__SECRET__"));
  EXPECT_TRUE(hydra::is_reserved_layer_name("____"));
  EXPECT_FALSE(hydra::is_reserved_layer_name("__CENTRALIZED__"));
  EXPECT_FALSE(hydra::is_reserved_layer_name("___"));  // too short to be __X__
  EXPECT_FALSE(hydra::is_reserved_layer_name("__APP"));
  EXPECT_FALSE(hydra::is_reserved_layer_name("APP__"));
  EXPECT_FALSE(hydra::is_reserved_layer_name("DEFAULT"));
}

TEST_P(LevelsTest, LayerAndDestinationLevelsBothFilter) {
  auto all = std::make_shared<RecordingSink>();
  auto errors = std::make_shared<RecordingSink>();
  LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.default_level = Level::info;
  auto err_dest = hydra::to_sink(errors);
  err_dest.level = Level::error;
  cfg.layers["APP"].destinations = {hydra::to_sink(all), err_dest};
  cfg.layers["DATABASE"].level = Level::warning;
  cfg.layers["DATABASE"].destinations = {hydra::to_sink(all)};
  hydra::Logger log(cfg);
  log.debug("dropped by layer level");
  log.info("info");
  log.error("error");
  log.layer("DATABASE").info("dropped by DATABASE level");
  log.layer("DATABASE").warning("db warning");
  log.flush();
  auto recs = all->records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].message, "info");
  EXPECT_EQ(recs[1].message, "error");
  EXPECT_EQ(recs[2].message, "db warning");
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ(errors->records()[0].message, "error");
  EXPECT_FALSE(log.should_log("APP", Level::debug));
  EXPECT_TRUE(log.should_log("DATABASE", Level::error));
}

// A layer configured for its level alone (no destinations: what
// HYDRA_LOG_LEVEL=info,DATABASE=debug makes) has that level, and its records
// take the fallback chain's route; one with neither follows default_level.
TEST_P(LevelsTest, ALayerConfiguredForItsLevelAloneHasThatLevel) {
  auto sink = std::make_shared<RecordingSink>();
  LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.default_level = Level::info;
  cfg.layers["DEFAULT"] = {Level::warning, {hydra::to_sink(sink)}};
  cfg.layers["DATABASE"].level = Level::debug;
  cfg.layers["CACHE"];  // neither level nor destinations
  hydra::Logger log(cfg);
  log.layer("DATABASE").trace("below DATABASE's debug");
  log.layer("DATABASE").debug("database debug");
  log.layer("CACHE").debug("below default_level");
  log.layer("CACHE").info("cache info");
  log.layer("OTHER").info("below DEFAULT's warning");
  log.flush();
  const auto recs = sink->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].message, "database debug");
  EXPECT_EQ(recs[0].layer, "DATABASE");
  EXPECT_EQ(recs[1].message, "cache info");
  EXPECT_EQ(log.level("DATABASE"), Level::debug);
}

// `off` is a threshold ("nothing passes"), not the level of a record: a call
// at `off`, or at a value outside the enum, writes nothing on any path, even
// where every level passes.
TEST_P(LevelsTest, OffAndOutOfRangeLevelsAreNeverWritten) {
  Fixture fx(GetParam(), {"APP", "SECURITY"}, Level::trace);
  const auto out_of_range = static_cast<Level>(200);
  auto app = fx.logger->layer("APP");
  for (const Level level : {Level::off, out_of_range}) {
    fx.logger->log(level, "logger {}", 1);
    fx.logger->with({{"k", 1}}).log(level, "bound");
    app.log(level, "layer {}", 2);
    app.with({{"k", 2}}).log(level, "layer bound");
    app.write(level, "written as text");
    EXPECT_FALSE(fx.logger->should_log(level));
    EXPECT_FALSE(app.should_log(level));
    EXPECT_FALSE(fx.logger->should_log("APP", level));
  }
  fx.logger->info("the only record");
  EXPECT_EQ(fx.sink("APP").size(), 1u);
  EXPECT_EQ(fx.sink("SECURITY").size(), 0u);
  EXPECT_EQ(fx.logger->metrics().records, 1u);
  EXPECT_FALSE(hydra::passes(Level::off, Level::trace));
  EXPECT_FALSE(hydra::passes(out_of_range, Level::trace));
  EXPECT_TRUE(hydra::passes(Level::critical, Level::critical));
}

TEST_P(LevelsTest, RuntimeChangesAreThreadSafeAndImmediate) {
  Fixture fx(GetParam(), {"APP"}, Level::info);
  auto app = fx.logger->layer("APP");
  EXPECT_FALSE(app.should_log(Level::debug));
  fx.logger->set_level("APP", Level::debug);
  EXPECT_TRUE(app.should_log(Level::debug));
  EXPECT_EQ(fx.logger->level("APP"), Level::debug);

  std::atomic<bool> stop{false};
  std::thread toggler([&] {
    for (int i = 0; i < 2000; ++i) {
      fx.logger->set_level("APP", i % 2 == 0 ? Level::error : Level::debug);
    }
    stop = true;
  });
  int logged = 0;
  while (!stop) {
    app.error("always passes");
    ++logged;
  }
  toggler.join();
  EXPECT_EQ(fx.sink("APP").size(), static_cast<std::size_t>(logged));
  fx.logger->set_level("APP", Level::off);
  app.critical("nothing passes off");
  EXPECT_EQ(fx.sink("APP").size(), static_cast<std::size_t>(logged));
}

TEST_P(MacrosTest, ArgumentsAreNotEvaluatedWhenDisabled) {
  Fixture fx(GetParam(), {"APP"}, Level::warning);
  int evaluated = 0;
  auto expensive = [&] { return ++evaluated; };
  HYDRA_DEBUG(*fx.logger, "value {}", expensive());
  EXPECT_EQ(evaluated, 0);
  HYDRA_ERROR(*fx.logger, "value {v}", expensive());
  EXPECT_EQ(evaluated, 1);
  auto app = fx.logger->layer("APP");
  HYDRA_WARNING(app, "layer handle {}", 1);
  EXPECT_EQ(fx.sink("APP").size(), 2u);
}

TEST_P(ConfigTest, BadDestinationNamesLayerIndexPathAndErrno) {
  LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.layers["APP"].destinations = {hydra::console(), hydra::file("/dev/null/x/app.log")};
  try {
    hydra::Logger log(cfg);
    FAIL() << "expected ConfigError";
  } catch (const hydra::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("layers.APP.destinations[1]"), std::string::npos) << what;
    EXPECT_NE(what.find("/dev/null/x/app.log"), std::string::npos) << what;
    EXPECT_NE(what.find("Not a directory"), std::string::npos) << what;
  }
}

TEST_P(ConfigTest, UnknownFormatAndTypeAreNamed) {
  LoggerConfig cfg;
  cfg.mode = GetParam();
  auto d = hydra::console("xml");
  cfg.layers["APP"].destinations = {d};
  EXPECT_THROW(
      {
        try {
          hydra::Logger log(cfg);
        } catch (const hydra::ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("'xml'"), std::string::npos);
          throw;
        }
      },
      hydra::ConfigError);
  d = hydra::console();
  d.type = "carrier-pigeon";
  cfg.layers["APP"].destinations = {d};
  EXPECT_THROW(
      {
        try {
          hydra::Logger log(cfg);
        } catch (const hydra::ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("carrier-pigeon"), std::string::npos);
          EXPECT_NE(std::string(e.what()).find("rotating_file"), std::string::npos);
          throw;
        }
      },
      hydra::ConfigError);
}

TEST_P(ZeroConfigTest, WritesReadableLinesToStdout) {
  testing::internal::CaptureStdout();
  {
    LoggerConfig zero;  // no layers: zero-config
    zero.mode = GetParam();
    hydra::Logger log(zero);
    log.info("user {user} logged in", "alice");
    log.debug("not shown at the default level");
  }
  const std::string out = testing::internal::GetCapturedStdout();
  auto lines = hydra::test::split_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_NE(lines[0].find("INFO"), std::string::npos);
  EXPECT_NE(lines[0].find("[APP]"), std::string::npos);
  EXPECT_NE(lines[0].find("user alice logged in"), std::string::npos);
  EXPECT_NE(lines[0].find("user=alice"), std::string::npos);
  EXPECT_EQ(lines[0].find('\x1b'), std::string::npos) << "no colour on a pipe";
}

TEST_P(FilesTest, ManyThreadsOneFileEveryLineWhole) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("threads.log");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  {
    LoggerConfig cfg;
    cfg.mode = GetParam();
    auto d = hydra::file(path, "json");
    d.buffer_size = 4096;  // many buffer flushes while threads race
    cfg.layers["APP"].destinations = {d};
    hydra::Logger log(cfg);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i) log.info("thread {t} record {i}", t, i);
      });
    }
    for (auto& th : threads) th.join();
    log.flush();
  }
  auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line);  // throws on a torn line
    const int t = j["fields"]["t"];
    const int i = j["fields"]["i"];
    ASSERT_EQ(i, next[t]) << "per-thread order broken";
    ++next[t];
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
}

TEST_P(FilesTest, FlushIntervalWritesWithoutAnExplicitFlush) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("interval.log");
  LoggerConfig cfg;
  cfg.mode = GetParam();
  auto d = hydra::file(path);
  d.flush_interval = std::chrono::milliseconds(20);
  cfg.layers["APP"].destinations = {d};
  hydra::Logger log(cfg);
  log.info("buffered until the interval passes");
  // Bounded wait for the flusher thread (it is what is under test).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hydra::test::read_file(path).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_NE(hydra::test::read_file(path).find("buffered until"), std::string::npos);
}

TEST_P(FilesTest, ExitWithoutShutdownLosesNothing) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("exit.log");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    LoggerConfig cfg;
    cfg.mode = GetParam();
    auto d = hydra::file(path);
    d.flush_interval = std::chrono::milliseconds(0);
    cfg.layers["APP"].destinations = {d};
    auto* leaked = new hydra::Logger(cfg);  // never destroyed
    for (int i = 0; i < 100; ++i) leaked->info("record {}", i);
    std::exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  auto lines = hydra::test::split_lines(hydra::test::read_file(path));
  ASSERT_EQ(lines.size(), 100u);
  EXPECT_NE(lines.back().find("record 99"), std::string::npos);
}

// A logger that outlives main() (leaked, or static) may be used from an
// atexit handler or a static destructor, which run after the main thread's
// thread_local objects are gone: the per-thread working storage (scratch,
// template cache, context, time cache) must still work. Sync mode, in a
// child process (its exit runs the handlers); a fork test, not under TSan.
TEST(LoggerAtExitForkTest, ALeakedLoggerMayLogFromAtexitHandlersAndStaticDestructors) {
  hydra::test::TempDir dir;
  const std::string out_path = dir.file("out");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    static hydra::Logger* leaked = nullptr;
    LoggerConfig cfg;
    cfg.layers["APP"].destinations = {hydra::console("text", hydra::ColorMode::never)};
    leaked = new hydra::Logger(cfg);  // never destroyed
    struct LogsWhenDestroyed {
      ~LogsWhenDestroyed() { leaked->info("from a static destructor {n}", 2); }
    };
    static LogsWhenDestroyed logs_when_destroyed;
    std::atexit([] {
      hydra::ScopedContext context({{"phase", "exit"}});
      leaked->info("from an atexit handler {n}", 1);
    });
    leaked->info("from main {n}", 0);
    std::exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string out = hydra::test::read_file(out_path);
  const auto lines = hydra::test::split_lines(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_NE(lines[0].find("from main 0 n=0"), std::string::npos) << out;
  EXPECT_NE(lines[1].find("from an atexit handler 1 n=1 phase=exit"), std::string::npos) << out;
  EXPECT_NE(lines[2].find("from a static destructor 2 n=2"), std::string::npos) << out;
}

TEST_P(FilesTest, SighupReopensForExternalLogrotate) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("app.log");
  LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.layers["APP"].destinations = {hydra::file(path)};
  hydra::Logger log(cfg);
  hydra::enable_reopen_on_sighup();
  log.info("before rotate");
  log.flush();
  std::filesystem::rename(path, path + ".1");
  ASSERT_EQ(::raise(SIGHUP), 0);
  log.info("after rotate");
  log.flush();
  EXPECT_NE(hydra::test::read_file(path + ".1").find("before rotate"), std::string::npos);
  const std::string fresh = hydra::test::read_file(path);
  EXPECT_NE(fresh.find("after rotate"), std::string::npos);
  EXPECT_EQ(fresh.find("before rotate"), std::string::npos);
}

TEST_P(FilesTest, SequenceNumbersIncrease) {
  Fixture fx(GetParam(), {"APP"});
  for (int i = 0; i < 5; ++i) fx.logger->info("n {}", i);
  auto recs = fx.sink("APP").records();
  for (std::size_t i = 1; i < recs.size(); ++i) EXPECT_GT(recs[i].sequence, recs[i - 1].sequence);
}

}  // namespace
