// Filters, analytics and registry sinks/formatters in the pipeline, in both
// modes: what they may change, what they see, and what happens when they fail.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <hydra/hydra.hpp>
#include <hydra/plugin/registry.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "recording_sink.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::LoggerMode;
using hydra::plugin::Filter;
using hydra::plugin::RecordEdit;
using hydra::test::RecordingSink;

class PluginPipelineTest : public testing::TestWithParam<LoggerMode> {
 protected:
  hydra::LoggerConfig config() {
    hydra::LoggerConfig cfg;
    cfg.mode = GetParam();
    cfg.layers["APP"] = {Level::info, {hydra::to_sink(sink)}};
    cfg.layers["OTHER"] = {Level::warning, {hydra::to_sink(other)}};
    return cfg;
  }
  std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
  std::shared_ptr<RecordingSink> other = std::make_shared<RecordingSink>();
};

INSTANTIATE_TEST_SUITE_P(BothModes, PluginPipelineTest,
                         testing::Values(LoggerMode::sync, LoggerMode::async),
                         [](const auto& info) {
                           return info.param == LoggerMode::sync ? "sync" : "async";
                         });

// Drops health checks, tags the rest, moves "payment" records to OTHER at
// warning, and "quiet" ones to OTHER at info (below OTHER's level).
class ExampleFilter final : public Filter {
 public:
  Verdict filter(const hydra::Record& r, RecordEdit& edit) override {
    calls.fetch_add(1);
    if (r.message.find("GET /health") != std::string_view::npos) return Verdict::drop;
    edit.add_field("build", std::string("1.4.") + "2");  // a temporary: copied
    if (r.message.find("payment") != std::string_view::npos) {
      edit.set_layer("OTHER");
      edit.set_level(Level::warning);
    }
    if (r.message.find("quiet") != std::string_view::npos) edit.set_layer("OTHER");
    return Verdict::keep;
  }
  std::atomic<int> calls{0};
};

TEST_P(PluginPipelineTest, FilterDropsAddsFieldsAndMovesRecords) {
  auto filter = std::make_shared<ExampleFilter>();
  auto cfg = config();
  cfg.filters.push_back({.instance = filter});
  hydra::Logger log(cfg);
  log.info("GET /health 200");
  log.info("user {user} logged in", "alice");
  log.info("payment {id} accepted", 42);
  log.info("quiet one");
  log.flush();

  const auto app = sink->records();
  ASSERT_EQ(app.size(), 1u);
  EXPECT_EQ(app[0].message, "user alice logged in");
  EXPECT_EQ(app[0].field("user"), "alice");
  EXPECT_EQ(app[0].field("build"), "1.4.2");
  const auto moved = other->records();
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].message, "payment 42 accepted");
  EXPECT_EQ(moved[0].layer, "OTHER");
  EXPECT_EQ(moved[0].level, Level::warning);
  EXPECT_EQ(moved[0].field("id"), "42");
  EXPECT_EQ(moved[0].field("build"), "1.4.2");
  EXPECT_EQ(filter->calls.load(), 4);
  // The health check, and "quiet one" (info, moved to a warning layer).
  EXPECT_EQ(log.metrics().filter_dropped, 2u);
}

// Drops every record and tries to move it; tags it first.
class DropAll final : public Filter {
 public:
  Verdict filter(const hydra::Record&, RecordEdit& edit) override {
    edit.add_field("seen_by", "drop_all");
    edit.set_layer("OTHER");
    edit.set_level(Level::trace);
    return Verdict::drop;
  }
};

TEST_P(PluginPipelineTest, SecurityAuditAndComplianceRecordsAreEnrichedNeverDroppedOrMoved) {
  auto cfg = config();
  cfg.layers["AUDIT"] = {Level::info, {hydra::to_sink(sink)}};
  cfg.layers["SECURITY"] = {Level::info, {hydra::to_sink(sink)}};
  cfg.filters.push_back({.instance = std::make_shared<DropAll>()});
  hydra::Logger log(cfg);
  log.info("dropped");
  log.audit("user {user} exported the ledger", "bob");
  log.security("login failed for {user}", "eve");
  log.flush();
  const auto r = sink->records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].layer, "AUDIT");
  EXPECT_EQ(r[0].level, Level::audit);
  EXPECT_EQ(r[0].field("seen_by"), "drop_all");
  EXPECT_EQ(r[1].layer, "SECURITY");
  EXPECT_EQ(r[1].level, Level::security);
  EXPECT_TRUE(other->records().empty());
  EXPECT_EQ(log.metrics().filter_dropped, 1u);
}

// Sees every record; counts what it sees and remembers the messages.
class Collector final : public hydra::plugin::Analytics {
 public:
  void observe(const hydra::Record& r) override {
    std::lock_guard lock(mutex);
    messages.emplace_back(r.message);
  }
  void tick(std::chrono::system_clock::time_point, hydra::plugin::Emitter& emit) override {
    const hydra::Field fields[] = {{"seen", hydra::FieldValue(std::uint64_t{count()})}};
    emit.emit(Level::warning, "OTHER", "collector summary", fields);
  }
  std::string insights() const override { return R"({"seen":)" + std::to_string(count()) + "}"; }
  std::size_t count() const {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  mutable std::mutex mutex;
  std::vector<std::string> messages;
};

// Redacts the word "hunter2".
class TestProtector final : public hydra::Protector {
 public:
  Verdict protect(const hydra::Record& r, hydra::ProtectedParts& out) const override {
    const auto at = r.message.find("hunter2");
    if (at == std::string_view::npos) return Verdict::unchanged;
    out.message.append(r.message.substr(0, at));
    out.message.append(std::string_view("[REDACTED]"));
    out.message.append(r.message.substr(at + 7));
    out.message_changed = true;
    return Verdict::changed;
  }
};

TEST_P(PluginPipelineTest, AnalyticsSeeEveryRecordAfterProtectionAndEmitFromTick) {
  auto collector = std::make_shared<Collector>();
  auto cfg = config();
  cfg.protector = std::make_shared<TestProtector>();
  cfg.layers["APP"].protect = false;  // the sink gets the raw record; analytics never do
  cfg.analytics.push_back({.type = "collector", .instance = collector});
  hydra::Logger log(cfg);
  log.info("password is hunter2");
  log.layer("OTHER").warning("to the other layer");
  log.flush();
  EXPECT_EQ(sink->records().at(0).message, "password is hunter2");
  {
    std::lock_guard lock(collector->mutex);
    EXPECT_EQ(collector->messages,
              (std::vector<std::string>{"password is [REDACTED]", "to the other layer"}));
  }
  hydra::detail::tick_plugins_for_test(log, std::chrono::system_clock::now());
  log.flush();
  const auto others = other->records();
  ASSERT_EQ(others.size(), 2u);
  EXPECT_EQ(others[1].message, "collector summary");
  EXPECT_EQ(others[1].field("seen"), "2");
  EXPECT_EQ(others[1].field("plugin"), "collector");
  // The summary went through the pipeline, the analytics included.
  EXPECT_EQ(collector->count(), 3u);
  const auto insights = nlohmann::json::parse(log.insights());
  EXPECT_EQ(insights["collector"]["seen"], 3);
}

// Throws on every call.
class ThrowingFilter final : public Filter {
 public:
  Verdict filter(const hydra::Record&, RecordEdit& edit) override {
    edit.add_field("half", "done");  // a change made before the failure stays
    throw std::runtime_error("filter exploded");
  }
};
class ThrowingAnalytics final : public hydra::plugin::Analytics {
 public:
  void observe(const hydra::Record&) override { throw std::logic_error("observe exploded"); }
  std::string insights() const override { throw std::logic_error("insights exploded"); }
};

TEST_P(PluginPipelineTest, ThrowingPluginsAreCountedDisabledAndLoseNoRecord) {
  auto cfg = config();
  cfg.plugin_failure_limit = 3;
  cfg.filters.push_back({.type = "boom", .instance = std::make_shared<ThrowingFilter>()});
  cfg.analytics.push_back({.type = "bang", .instance = std::make_shared<ThrowingAnalytics>()});
  hydra::Logger log(cfg);
  for (int i = 0; i < 10; ++i) log.info("record {}", i);
  log.flush();
  const auto records = sink->records();
  std::vector<std::string> messages;
  for (const auto& r : records) messages.push_back(r.message);
  for (int i = 0; i < 10; ++i) {
    EXPECT_NE(std::find(messages.begin(), messages.end(), "record " + std::to_string(i)),
              messages.end())
        << i;
  }
  // Both disabled after three failures each, each with a notice in-band.
  const auto m = log.metrics();
  EXPECT_EQ(m.plugin_failures, 6u);
  EXPECT_EQ(m.plugins_disabled, 2u);
  int notices = 0;
  for (const auto& r : records) {
    if (r.message.find("disabled after 3 failures in a row") == std::string::npos) continue;
    ++notices;
    EXPECT_EQ(r.level, Level::error);
    EXPECT_TRUE(r.message.find("filter 'boom'") != std::string::npos ||
                r.message.find("analytics 'bang'") != std::string::npos)
        << r.message;
  }
  EXPECT_EQ(notices, 2);
  EXPECT_EQ(records.size(), 12u);
  // A disabled analytics shows as null, and the health says why.
  EXPECT_EQ(nlohmann::json::parse(log.insights())["bang"], nullptr);
  const auto health = nlohmann::json::parse(log.plugin_health());
  ASSERT_EQ(health.size(), 2u);
  EXPECT_EQ(health[0]["type"], "boom");
  EXPECT_EQ(health[0]["disabled"], true);
  EXPECT_EQ(health[0]["failures"], 3);
}

// A registry type: tags records with its `value` option; counts its
// lifecycle calls; takes new options on reload unless `sticky`.
struct Lifecycle {
  std::atomic<int> made{0}, started{0}, reconfigured{0}, stopped{0};
};
Lifecycle g_tag_life;

class TagFilter final : public Filter {
 public:
  explicit TagFilter(const hydra::plugin::Options& o)
      : value_(o.string("value")), sticky_(o.boolean("sticky")) {
    g_tag_life.made++;
  }
  void start() override { g_tag_life.started++; }
  void stop() override { g_tag_life.stopped++; }
  bool reconfigure(const hydra::plugin::Options& o) override {
    if (sticky_ || o.boolean("sticky")) return false;
    std::lock_guard lock(mutex_);
    value_ = o.string("value");
    g_tag_life.reconfigured++;
    return true;
  }
  Verdict filter(const hydra::Record&, RecordEdit& edit) override {
    std::lock_guard lock(mutex_);
    edit.add_field("tag", value_);
    return Verdict::keep;
  }

 private:
  std::mutex mutex_;
  std::string value_;
  bool sticky_;
};

void register_tag_filter() {
  hydra::plugin::Registry::global().add_filter(
      {.name = "test_tag",
       .description = "adds tag=<value>",
       .options = {{.name = "value", .required = true, .doc = "the tag"},
                   {.name = "sticky",
                    .type = hydra::plugin::OptionType::boolean,
                    .default_value = "false",
                    .doc = "refuse new options"}}},
      [](const hydra::plugin::Options& o) { return std::make_shared<TagFilter>(o); });
}

TEST_P(PluginPipelineTest, RegistryTypesAreMadeByNameAndReconfiguredOnReload) {
  register_tag_filter();
  g_tag_life.made = g_tag_life.started = g_tag_life.reconfigured = g_tag_life.stopped = 0;
  auto cfg = config();
  cfg.filters.push_back({.type = "test_tag", .options = {{"value", "one"}}});
  hydra::Logger log(cfg);
  log.info("first");
  EXPECT_EQ(g_tag_life.made.load(), 1);
  EXPECT_EQ(g_tag_life.started.load(), 1);

  // New options: the same instance takes them.
  cfg.filters[0].options = {{"value", "two"}};
  log.reconfigure(cfg);
  log.info("second");
  EXPECT_EQ(g_tag_life.made.load(), 1);
  EXPECT_EQ(g_tag_life.reconfigured.load(), 1);

  // Unchanged options: nothing is called.
  log.reconfigure(cfg);
  EXPECT_EQ(g_tag_life.reconfigured.load(), 1);

  // An instance that declines is replaced by a new one, started.
  cfg.filters[0].options = {{"value", "three"}, {"sticky", "true"}};
  log.reconfigure(cfg);
  log.info("third");
  log.flush();
  EXPECT_EQ(g_tag_life.made.load(), 2);
  EXPECT_EQ(g_tag_life.started.load(), 2);
  const auto r = sink->records();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].field("tag"), "one");
  EXPECT_EQ(r[1].field("tag"), "two");
  EXPECT_EQ(r[2].field("tag"), "three");
  if (GetParam() == LoggerMode::async) {
    EXPECT_EQ(g_tag_life.stopped.load(), 1);
  }
}

TEST(PluginRegistry, BadTypesAndOptionsNameWhatIsWrong) {
  register_tag_filter();
  hydra::LoggerConfig cfg;
  cfg.layers["APP"] = {Level::info, {hydra::to_sink(std::make_shared<RecordingSink>())}};
  cfg.filters.push_back({.type = "no_such_filter"});
  std::string e = hydra::test::config_error_of([&] { hydra::Logger log(cfg); });
  EXPECT_NE(e.find("filters[0]: 'no_such_filter' is not a registered filter type"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("test_tag"), std::string::npos) << e;

  cfg.filters = {{.type = "test_tag"}};
  e = hydra::test::config_error_of([&] { hydra::Logger log(cfg); });
  EXPECT_NE(e.find("filter 'test_tag': option 'value' is required"), std::string::npos) << e;

  cfg.filters = {{.type = "test_tag", .options = {{"value", "x"}, {"valeu", "y"}}}};
  e = hydra::test::config_error_of([&] { hydra::Logger log(cfg); });
  EXPECT_NE(e.find("unknown option 'valeu' (valid options: value, sticky)"), std::string::npos)
      << e;

  cfg.filters = {{.type = "test_tag", .options = {{"value", "x"}, {"sticky", "maybe"}}}};
  e = hydra::test::config_error_of([&] { hydra::Logger log(cfg); });
  EXPECT_NE(e.find("option 'sticky': 'maybe' is not valid (valid: true or false)"),
            std::string::npos)
      << e;

  // An analytics object where a filter belongs.
  cfg.filters = {{.instance = std::make_shared<Collector>()}};
  e = hydra::test::config_error_of([&] { hydra::Logger log(cfg); });
  EXPECT_NE(e.find("filters[0]: the instance is not a plugin::Filter"), std::string::npos) << e;
}

// A registry sink that fails every write once `fail` is set.
class FlakySink final : public hydra::Sink {
 public:
  void write(const hydra::Record&, std::string_view bytes) override {
    if (fail.load()) throw std::runtime_error("device on fire");
    std::lock_guard lock(mutex);
    lines.emplace_back(bytes);
  }
  void flush() override {}
  static inline std::atomic<bool> fail{false};
  static inline std::mutex mutex;
  static inline std::vector<std::string> lines;
};

// Formats "<message>|" and throws for messages that say "poison".
class PipeFormatter final : public hydra::Formatter {
 public:
  void format(const hydra::Record& r, hydra::Buffer& out) const override {
    if (r.message.find("poison") != std::string_view::npos) throw std::runtime_error("poisoned");
    out.append(r.message);
    out.append(std::string_view("|\n"));
  }
};

TEST_P(PluginPipelineTest, RegistrySinksAndFormattersAreGuarded) {
  auto& registry = hydra::plugin::Registry::global();
  registry.add_sink({.name = "test_flaky"},
                    [](const hydra::plugin::Options&) { return std::make_shared<FlakySink>(); });
  registry.add_formatter({.name = "test_pipe"}, [](const hydra::plugin::Options&) {
    return std::make_shared<PipeFormatter>();
  });
  FlakySink::fail = false;
  {
    std::lock_guard lock(FlakySink::mutex);
    FlakySink::lines.clear();
  }
  auto cfg = config();
  cfg.plugin_failure_limit = 2;
  hydra::DestinationConfig flaky;
  flaky.type = "test_flaky";
  flaky.format = "test_pipe";
  cfg.layers["APP"].destinations.push_back(flaky);
  hydra::Logger log(cfg);
  log.info("hello");
  log.info("poison one");  // the formatter fails: this destination's copy is lost
  log.info("poison two");  // ...and again: the formatter is disabled, JSON from now on
  log.info("poison three");
  log.flush();  // written before the device fails
  FlakySink::fail = true;
  log.info("fire one");
  log.info("fire two");  // the sink is disabled
  log.info("after");
  log.flush();
  {
    std::lock_guard lock(FlakySink::mutex);
    // hello; the formatter's notice and poison three, in JSON.
    ASSERT_EQ(FlakySink::lines.size(), 3u);
    EXPECT_EQ(FlakySink::lines[0], "hello|\n");
    EXPECT_NE(nlohmann::json::parse(FlakySink::lines[1])["message"].get<std::string>().find(
                  "formatter 'test_pipe' disabled after 2 failures"),
              std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(FlakySink::lines[2])["message"], "poison three");
  }
  // The other destination got everything, notices included.
  std::vector<std::string> messages;
  for (const auto& r : sink->records()) messages.push_back(r.message);
  for (const char* m :
       {"hello", "poison one", "poison two", "poison three", "fire one", "fire two", "after"}) {
    EXPECT_NE(std::find(messages.begin(), messages.end(), m), messages.end()) << m;
  }
  int notices = 0;
  for (const auto& m : messages) notices += m.find("disabled after 2 failures") != m.npos;
  EXPECT_EQ(notices, 2);
  const auto m = log.metrics();
  EXPECT_EQ(m.plugins_disabled, 1u);      // the sink (formatters fall back rather than stop)
  EXPECT_GE(m.sink_dropped_records, 3u);  // fire one, fire two, after (and a notice)
  EXPECT_EQ(m.format_errors, 2u);         // poison one, poison two
}

}  // namespace
