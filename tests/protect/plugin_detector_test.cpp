// Detector plugins in the protect stage (RedactorOptions::plugin_detectors):
// what they replace, with which action, in messages and fields, in a logger
// in both modes; and what the engine does with one that misbehaves (throws,
// reports spans out of range, out of order or overlapping).
#include <gtest/gtest.h>
#include <hydra/core/error.hpp>
#include <hydra/hydra.hpp>
#include <hydra/plugin/detector.hpp>
#include <hydra/protect/protector.hpp>
#include <hydra/protect/redactor.hpp>
#include <hydra/sink/memory_sink.hpp>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using hydra::protect::Action;
using hydra::protect::Outcome;
using hydra::protect::PluginDetector;
using hydra::protect::Redactor;
using hydra::protect::RedactorOptions;
using Spans = std::vector<std::pair<std::size_t, std::size_t>>;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Employee ids: EMP- and exactly six digits (EMP-\d{6} not followed by a
// seventh digit).
class EmployeeIds final : public hydra::plugin::Detector {
 public:
  void detect(std::string_view text, Spans& spans) const override {
    constexpr std::size_t kSize = 10;  // "EMP-" and six digits
    for (std::size_t at = text.find("EMP-"); at != std::string_view::npos;
         at = text.find("EMP-", at + 1)) {
      if (at + kSize > text.size()) break;
      bool digits = true;
      for (std::size_t i = at + 4; i < at + kSize; ++i) digits = digits && is_digit(text[i]);
      if (!digits || (at + kSize < text.size() && is_digit(text[at + kSize]))) continue;
      spans.emplace_back(at, at + kSize);
    }
  }
  std::string_view token() const override { return "EMPLOYEE_ID"; }
};

// Reports the spans it was given whatever the text, then maybe throws.
class Scripted final : public hydra::plugin::Detector {
 public:
  Scripted(Spans spans, bool throws, std::string token = "BAD")
      : spans_(std::move(spans)), throws_(throws), token_(std::move(token)) {}
  void detect(std::string_view /*text*/, Spans& spans) const override {
    spans.insert(spans.end(), spans_.begin(), spans_.end());
    if (throws_) throw std::runtime_error("detector failed");
  }
  std::string_view token() const override { return token_; }

 private:
  Spans spans_;
  bool throws_;
  std::string token_;
};

RedactorOptions with(std::shared_ptr<const hydra::plugin::Detector> detector,
                     Action action = Action::redact) {
  RedactorOptions o;
  o.plugin_detectors.push_back({std::move(detector), action});
  return o;
}

TEST(PluginDetector, ReplacesWhatItFindsAlongsideTheBuiltIns) {
  const Redactor r(with(std::make_shared<EmployeeIds>()));
  EXPECT_EQ(r.redacted("employee EMP-123456 joined"), "employee [REDACTED_EMPLOYEE_ID] joined");
  EXPECT_EQ(r.redacted("EMP-123456 and EMP-000001 mail bob@example.com"),
            "[REDACTED_EMPLOYEE_ID] and [REDACTED_EMPLOYEE_ID] mail [REDACTED_EMAIL]");
  // Not an id: five digits, seven digits.
  EXPECT_EQ(r.redacted("EMP-12345 EMP-1234567"), "EMP-12345 EMP-1234567");
  // Short texts are not skipped by the quick check.
  EXPECT_EQ(r.redacted("EMP-123456"), "[REDACTED_EMPLOYEE_ID]");
  // Idempotent, like the rest of the engine.
  EXPECT_EQ(r.redacted(r.redacted("id EMP-123456")), "id [REDACTED_EMPLOYEE_ID]");
  EXPECT_EQ(r.plugin_failures(), 0u);
}

TEST(PluginDetector, RedactsStringFields) {
  const Redactor r(with(std::make_shared<EmployeeIds>()));
  const hydra::Field in[] = {{"who", "EMP-123456"}, {"note", "manager EMP-654321"}, {"n", 7}};
  hydra::protect::RedactedFields out;
  ASSERT_EQ(r.redact_fields(in, out), Outcome::redacted);
  ASSERT_EQ(out.fields().size(), 3u);
  EXPECT_EQ(out.fields()[0].value.as_string(), "[REDACTED_EMPLOYEE_ID]");
  EXPECT_EQ(out.fields()[1].value.as_string(), "manager [REDACTED_EMPLOYEE_ID]");
  EXPECT_EQ(out.fields()[1].key, "note");
}

TEST(PluginDetector, TakesItsAction) {
  const std::string text = "id EMP-123456 here";
  EXPECT_EQ(Redactor(with(std::make_shared<EmployeeIds>(), Action::mask)).redacted(text),
            "id ******3456 here");
  std::string out;
  EXPECT_EQ(Redactor(with(std::make_shared<EmployeeIds>(), Action::drop)).redact(text, out),
            Outcome::drop);
  RedactorOptions hashed = with(std::make_shared<EmployeeIds>(), Action::hash);
  hashed.hash_key = "k";
  const std::string h = Redactor(hashed).redacted(text);
  EXPECT_EQ(h.rfind("id [EMPLOYEE_ID:", 0), 0u) << h;
  EXPECT_EQ(h.find("123456"), std::string::npos) << h;
}

std::string config_error(RedactorOptions o) {
  try {
    Redactor r(std::move(o));
  } catch (const hydra::ConfigError& e) {
    return e.what();
  }
  return "no ConfigError";
}

TEST(PluginDetector, ABadTokenANullDetectorOrAnUnkeyedHashIsAConfigError) {
  EXPECT_EQ(config_error(with(std::make_shared<Scripted>(Spans{}, false, "EMPLOYEE-ID"))),
            "protect: detector plugin #1: token 'EMPLOYEE-ID' must be letters, digits and '_'");
  EXPECT_EQ(config_error(with(std::make_shared<Scripted>(Spans{}, false, ""))),
            "protect: detector plugin #1: token '' must be letters, digits and '_'");
  EXPECT_EQ(config_error(with(nullptr)), "protect: detector plugin #1 is null");
  EXPECT_EQ(config_error(with(std::make_shared<EmployeeIds>(), Action::hash)),
            "protect: detector plugin #1 (token 'EMPLOYEE_ID') uses action 'hash' but hash_key "
            "is empty");
}

TEST(PluginDetector, OneThatThrowsFindsNothingAndIsCounted) {
  RedactorOptions o = with(std::make_shared<Scripted>(Spans{{0, 4}}, true));
  o.plugin_detectors.push_back({std::make_shared<EmployeeIds>(), Action::redact});
  const Redactor r(std::move(o));
  // The spans it appended before throwing are discarded; the other plugin
  // and the built-ins still run.
  EXPECT_EQ(r.redacted("text EMP-123456 bob@example.com"),
            "text [REDACTED_EMPLOYEE_ID] [REDACTED_EMAIL]");
  EXPECT_EQ(r.redacted("nothing here at all"), "nothing here at all");
  EXPECT_EQ(r.plugin_failures(), 2u);
  const hydra::Field in[] = {{"a", "one value"}};
  hydra::protect::RedactedFields out;
  EXPECT_EQ(r.redact_fields(in, out), Outcome::unchanged);
  EXPECT_EQ(r.plugin_failures(), 3u);
}

TEST(PluginDetector, SpansOutOfRangeOutOfOrderOrOverlappingAreSafe) {
  // On "abcdef": (4,100) is cut to (4,6); (50,60) starts past the end,
  // (3,1) is reversed and (2,2) empty: ignored; (0,3) and (1,2) overlap and
  // are merged into one replacement.
  const Spans spans = {{4, 100}, {50, 60}, {3, 1}, {2, 2}, {1, 2}, {0, 3}};
  const Redactor r(with(std::make_shared<Scripted>(spans, false)));
  EXPECT_EQ(r.redacted("abcdef"), "[REDACTED_BAD]d[REDACTED_BAD]");
  // The empty text is never scanned.
  EXPECT_EQ(r.redacted(""), "");
  // A span over a built-in finding: one replacement covers both, and no
  // byte of the address is written in clear.
  const Redactor over(with(std::make_shared<Scripted>(Spans{{2, 9}}, false)));
  const std::string out = over.redacted("a bob@example.com z");
  EXPECT_EQ(out, "a [REDACTED_BAD] z");
  // Huge values near the top of size_t do not overflow.
  const std::size_t top = static_cast<std::size_t>(-1);
  const Redactor huge(with(std::make_shared<Scripted>(Spans{{top - 1, top}, {3, top}}, false)));
  EXPECT_EQ(huge.redacted("abcdef"), "abc[REDACTED_BAD]");
}

// A detector that redacts another text with the same Redactor from detect(),
// as one that logs would: the nested scan must not disturb the outer one.
class Nesting final : public hydra::plugin::Detector {
 public:
  void detect(std::string_view text, Spans& spans) const override {
    if (redactor != nullptr && !text.starts_with("EMP-999999")) {
      nested_output = redactor->redacted("EMP-999999 zzzzzzzzzzzzzzzz mail bob@example.com");
    }
    EmployeeIds().detect(text, spans);
  }
  std::string_view token() const override { return "EMPLOYEE_ID"; }
  const Redactor* redactor = nullptr;
  mutable std::string nested_output;
};

TEST(PluginDetector, ARedactionInsideDetectDoesNotDisturbTheOuterOne) {
  RedactorOptions o;
  o.custom.push_back({"order", R"(order=(\d+))", "ORDER"});
  auto nesting = std::make_shared<Nesting>();
  o.plugin_detectors.push_back({nesting, Action::redact});
  const Redactor r(std::move(o));
  nesting->redactor = &r;
  EXPECT_EQ(r.redacted("id EMP-123456 order=77 carol@example.com"),
            "id [REDACTED_EMPLOYEE_ID] order=[REDACTED_ORDER] [REDACTED_EMAIL]");
  EXPECT_EQ(nesting->nested_output,
            "[REDACTED_EMPLOYEE_ID] zzzzzzzzzzzzzzzz mail [REDACTED_EMAIL]");
}

class PluginDetectorPipeline : public ::testing::TestWithParam<hydra::LoggerMode> {};

TEST_P(PluginDetectorPipeline, EmployeeIdsAreRedactedBeforeTheSink) {
  auto sink = std::make_shared<hydra::MemorySink>();
  hydra::LoggerConfig cfg;
  cfg.name = "plugin";
  cfg.mode = GetParam();
  cfg.protector = hydra::protect::make_protector(with(std::make_shared<EmployeeIds>()));
  cfg.layers["APP"].destinations = {hydra::to_sink(sink, "json")};
  {
    hydra::Logger log(cfg);
    log.with({{"manager", "EMP-654321"}})
        .info("badge {employee} scanned at gate {gate}", "EMP-123456", 4);
    log.info("positional {} text", "EMP-777777");
    log.info("nothing to hide, EMP-12 is not an id");
    log.flush();
  }
  const std::vector<std::string> lines = sink->lines();
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& line : {lines[0], lines[1]}) {
    EXPECT_EQ(line.find("EMP-"), std::string::npos) << line;
  }
  EXPECT_NE(lines[0].find(R"("badge [REDACTED_EMPLOYEE_ID] scanned at gate 4")"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find(R"("employee":"[REDACTED_EMPLOYEE_ID]")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("manager":"[REDACTED_EMPLOYEE_ID]")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("gate":4)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("positional [REDACTED_EMPLOYEE_ID] text")"), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("nothing to hide, EMP-12 is not an id"), std::string::npos) << lines[2];
}

TEST_P(PluginDetectorPipeline, AThrowingDetectorLosesNoRecord) {
  auto sink = std::make_shared<hydra::MemorySink>();
  RedactorOptions o = with(std::make_shared<Scripted>(Spans{{0, 1}}, true));
  o.plugin_detectors.push_back({std::make_shared<EmployeeIds>(), Action::redact});
  auto redactor = std::make_shared<const Redactor>(std::move(o));
  hydra::LoggerConfig cfg;
  cfg.name = "plugin";
  cfg.mode = GetParam();
  cfg.protector = hydra::protect::make_protector(redactor);
  cfg.layers["APP"].destinations = {hydra::to_sink(sink, "json")};
  {
    hydra::Logger log(cfg);
    for (int i = 0; i < 5; ++i) log.info("record {} of EMP-123456", i);
    log.flush();
  }
  const std::vector<std::string> lines = sink->lines();
  ASSERT_EQ(lines.size(), 5u);
  for (const std::string& line : lines) {
    EXPECT_NE(line.find("of [REDACTED_EMPLOYEE_ID]"), std::string::npos) << line;
  }
  EXPECT_GE(redactor->plugin_failures(), 5u);
}

// Each record below is one text (a message, no fields), so one detect() call
// of the throwing detector, one failure in the logger's metrics.
TEST_P(PluginDetectorPipeline, FailuresCountInTheLoggersMetricsAcrossReloads) {
  auto sink = std::make_shared<hydra::MemorySink>();
  const auto throwing = [] {
    return std::make_shared<const Redactor>(with(std::make_shared<Scripted>(Spans{}, true)));
  };
  // Failures a redactor counted before the logger took it are not the logger's.
  const auto first = throwing();
  (void)first->redacted("before the logger");
  ASSERT_EQ(first->plugin_failures(), 1u);
  hydra::LoggerConfig cfg;
  cfg.name = "plugin";
  cfg.mode = GetParam();
  cfg.protector = hydra::protect::make_protector(first);
  cfg.layers["APP"].destinations = {hydra::to_sink(sink, "json")};
  hydra::Logger log(cfg);
  EXPECT_EQ(log.metrics().plugin_failures, 0u);
  for (int i = 0; i < 3; ++i) log.info("first protector");
  log.flush();
  EXPECT_EQ(log.metrics().plugin_failures, 3u);

  // A new protector: the retired one's failures stay counted.
  cfg.protector = hydra::protect::make_protector(throwing());
  log.reconfigure(cfg);
  EXPECT_EQ(log.metrics().plugin_failures, 3u);
  for (int i = 0; i < 2; ++i) log.info("second protector");
  log.flush();
  EXPECT_EQ(log.metrics().plugin_failures, 5u);

  // The same protector again is not counted twice, nor is one that shares
  // the first one's redactor.
  log.reconfigure(cfg);
  log.info("second protector again");
  log.flush();
  EXPECT_EQ(log.metrics().plugin_failures, 6u);
  cfg.protector = hydra::protect::make_protector(first);
  log.reconfigure(cfg);
  log.info("first redactor again");
  log.flush();
  EXPECT_EQ(log.metrics().plugin_failures, 7u);
  EXPECT_EQ(first->plugin_failures(), 5u);  // 1 before + 3 + 1

  // No protector: the count stays.
  cfg.protector = nullptr;
  log.reconfigure(cfg);
  log.info("unprotected");
  log.flush();
  EXPECT_EQ(log.metrics().plugin_failures, 7u);
  EXPECT_EQ(sink->lines().size(), 8u);  // every record written
}

INSTANTIATE_TEST_SUITE_P(Modes, PluginDetectorPipeline,
                         ::testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const auto& info) {
                           return info.param == hydra::LoggerMode::sync ? "sync" : "async";
                         });

}  // namespace
