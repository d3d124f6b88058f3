// `hydra plugin check`, the conformance kit, run as the built command: it
// passes the example plugin and the well-behaved fixtures, and fails each
// plugin broken on purpose on the row that names its fault.
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using hydra::test::ProcessResult;

std::string fixture(const std::string& name) {
  return HYDRA_PLUGIN_FIXTURES "/" + name;
}

ProcessResult check(std::vector<std::string> args) {
  std::vector<std::string> argv = {HYDRA_CLI, "plugin",    "check", "--threads",
                                   "3",       "--records", "200"};
  argv.insert(argv.end(), args.begin(), args.end());
  return hydra::test::run_process(argv, "");
}

struct Row {
  std::string outcome;  // PASS, FAIL, SKIP
  std::string detail;
};

// The row whose check name starts with `name` ("sink example_file: create").
std::optional<Row> row(const std::string& out, const std::string& name) {
  for (const std::string& line : hydra::test::split_lines(out)) {
    if (line.size() < 6 || line.compare(6, name.size(), name) != 0) continue;
    const auto detail = line.find_first_not_of(' ', line.find("  ", 6 + name.size()));
    return Row{line.substr(0, 4), detail == std::string::npos ? "" : line.substr(detail)};
  }
  return std::nullopt;
}

std::vector<std::string> failed_rows(const std::string& out) {
  std::vector<std::string> failed;
  for (const std::string& line : hydra::test::split_lines(out)) {
    if (line.starts_with("FAIL")) failed.push_back(line);
  }
  return failed;
}

// Runs the kit on a plugin that must fail, and returns the failing row
// `name`, checking that it failed.
Row failing(const std::string& plugin, const std::string& name) {
  const ProcessResult r = check({plugin});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto found = row(r.out, name);
  EXPECT_TRUE(found) << "no row '" << name << "' in:\n" << r.out;
  if (!found) return {};
  EXPECT_EQ(found->outcome, "FAIL") << r.out;
  return *found;
}

TEST(PluginCheck, PassesTheExamplePlugin) {
  const ProcessResult r = check({HYDRA_EXAMPLE_PLUGIN});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(failed_rows(r.out), std::vector<std::string>{});
  const auto load = row(r.out, "load");
  ASSERT_TRUE(load) << r.out;
  EXPECT_TRUE(load->detail.starts_with("hydra-example 1.0.0 (ABI 1.2): 3 types")) << load->detail;
  for (const std::string type :
       {"sink example_file", "filter example_sample", "analytics example_counter"}) {
    for (const std::string check :
         {"create", "bad options", "3 threads x 200 records", "hostile records", "lifecycle"}) {
      const auto found = row(r.out, type + ": " + check);
      ASSERT_TRUE(found) << type << ": " << check << " missing in\n" << r.out;
      EXPECT_EQ(found->outcome, "PASS") << type << ": " << check;
    }
  }
  // The file sink's records were counted in its file, and its option refused by name.
  EXPECT_EQ(row(r.out, "sink example_file: 3 threads")->detail,
            "600 records, each in example_file.out once");
  EXPECT_EQ(row(r.out, "filter example_sample: bad options")->detail,
            "refused with the option named: an unknown option; a wrong integer for rate; rate "
            "out of range");
  EXPECT_TRUE(r.out.ends_with("16 passed, 0 failed, 0 skipped\n")) << r.out;
}

TEST(PluginCheck, PassesAFormatterAndADetectorWrittenWithTheSdk) {
  const ProcessResult r = check({fixture("sdk_extra.so")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(failed_rows(r.out), std::vector<std::string>{});
  EXPECT_EQ(row(r.out, "formatter extra_line: 3 threads")->outcome, "PASS");
  EXPECT_EQ(row(r.out, "detector extra_digits: hostile records")->outcome, "PASS");
}

// A plugin of ABI 1.0 (kinds without `health`) is a plugin like any other.
TEST(PluginCheck, PassesAPluginOfAnOlderMinorVersion) {
  const ProcessResult r = check({fixture("abi_older_minor.so")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(row(r.out, "filter older_first: lifecycle")) << r.out;
  EXPECT_TRUE(row(r.out, "filter older_second: lifecycle")) << r.out;
}

TEST(PluginCheck, AnOptionFromTheCommandLineIsUsed) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("mine.log");
  const ProcessResult r = check({"--option", "example_file.path=" + path, HYDRA_EXAMPLE_PLUGIN});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(row(r.out, "sink example_file: 3 threads")->detail,
            "600 records, each in mine.log once");
  std::size_t records = 0;
  for (const std::string& line : hydra::test::split_lines(hydra::test::read_file(path)))
    records += line.starts_with("hydra-check ");
  EXPECT_EQ(records, 600u + 1u);  // the threads' records and the lifecycle check's
}

TEST(PluginCheck, FailsASinkThatLosesRecords) {
  const Row r = failing(fixture("broken_lossy_sink.so"), "sink lossy_file: 3 threads x 200");
  EXPECT_NE(r.detail.find("60 of 600 records missing"), std::string::npos) << r.detail;
}

TEST(PluginCheck, FailsAFormatterThatLetsLineBreaksThrough) {
  const Row r = failing(fixture("broken_raw_formatter.so"), "formatter raw_message: hostile");
  EXPECT_NE(r.detail.find("CR/LF in the message: a raw LF"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("ANSI escapes in the message: a raw ESC"), std::string::npos) << r.detail;
}

TEST(PluginCheck, FailsAFilterThatFailsOnLargeRecords) {
  const Row r = failing(fixture("broken_fragile_filter.so"), "filter fragile: hostile records");
  EXPECT_NE(r.detail.find("a 1 MB message: threw"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("a 1 MB field: threw"), std::string::npos) << r.detail;
}

TEST(PluginCheck, FailsAnalyticsWhoseInsightsAreNotJson) {
  const Row r = failing(fixture("broken_bad_json.so"), "analytics bad_json: 3 threads");
  EXPECT_NE(r.detail.find("not a JSON object"), std::string::npos) << r.detail;
}

TEST(PluginCheck, FailsADetectorWhoseSpansAreOutOfOrder) {
  const Row r = failing(fixture("broken_bad_spans.so"), "detector bad_spans: 3 threads");
  EXPECT_NE(r.detail.find("overlaps or precedes the one before"), std::string::npos) << r.detail;
}

TEST(PluginCheck, FailsAnOptionWhoseDefaultIsNotOfItsType) {
  const ProcessResult r = check({fixture("broken_bad_defaults.so")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  // The host refuses the declaration when it loads it, or the default when it
  // makes an instance: either way the row names the option.
  const auto failed = failed_rows(r.out);
  ASSERT_FALSE(failed.empty()) << r.out;
  EXPECT_NE(failed.front().find("'rate'"), std::string::npos) << failed.front();
}

TEST(PluginCheck, FailsAPluginThatFailsOrThrowsOnEveryCall) {
  const ProcessResult r = check({fixture("throwing.so")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  // Errors returned through the ABI: start() already fails.
  for (const std::string type :
       {"sink failing_sink", "filter failing_filter", "analytics failing_analytics"}) {
    const auto create = row(r.out, type + ": create");
    ASSERT_TRUE(create) << type << "\n" << r.out;
    EXPECT_EQ(create->outcome, "FAIL") << type;
    EXPECT_NE(create->detail.find("start failed: failing: start failed"), std::string::npos)
        << create->detail;
  }
  // Exceptions, which the SDK turned into errors with their what().
  for (const auto& [type, reason] : std::vector<std::pair<std::string, std::string>>{
           {"sink throwing_sink", "write failed: throwing: write threw over two lines"},
           {"filter throwing_filter", "filter failed: throwing: filter threw"},
           {"analytics throwing_analytics", "observe failed: throwing: observe threw"}}) {
    const auto threads = row(r.out, type + ": 3 threads");
    ASSERT_TRUE(threads) << type << "\n" << r.out;
    EXPECT_EQ(threads->outcome, "FAIL") << type;
    EXPECT_NE(threads->detail.find("600 of 600 calls failed, first: "), std::string::npos)
        << threads->detail;
    EXPECT_NE(threads->detail.find(reason), std::string::npos) << threads->detail;
  }
  const auto refused = row(r.out, "filter refusing_filter: create");
  ASSERT_TRUE(refused) << r.out;
  EXPECT_EQ(refused->outcome, "FAIL");
  EXPECT_NE(refused->detail.find("refusing_filter: refuses every configuration"), std::string::npos)
      << refused->detail;
  EXPECT_EQ(row(r.out, "filter refusing_filter: hostile records")->outcome, "SKIP");
}

TEST(PluginCheck, FailsToLoadWhatIsNotAPluginOfThisAbi) {
  hydra::test::TempDir dir;
  const std::string corrupt = dir.file("x.so");
  std::mt19937 random(18);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  hydra::test::write_file(corrupt, bytes);

  for (const std::string& plugin :
       {fixture("abi_newer_minor.so"), fixture("abi_other_major.so"), fixture("bad_size.so"),
        fixture("no_entry.so"), corrupt, dir.file("missing.so")}) {
    const ProcessResult r = check({plugin});
    EXPECT_EQ(r.exit_code, 1) << plugin << "\n" << r.out << r.err;
    const auto load = row(r.out, "load");
    ASSERT_TRUE(load) << plugin << "\n" << r.out;
    EXPECT_EQ(load->outcome, "FAIL") << plugin;
    EXPECT_NE(load->detail.find(std::filesystem::path(plugin).filename().string()),
              std::string::npos)
        << "the error names the file: " << load->detail;
    EXPECT_TRUE(r.out.ends_with("0 passed, 1 failed, 0 skipped\n")) << r.out;
  }
}

TEST(PluginCheck, RefusesABadCommandLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"--threads", "0", HYDRA_EXAMPLE_PLUGIN},
                                             {"--records", "many", HYDRA_EXAMPLE_PLUGIN},
                                             {"--option", "nodot=1", HYDRA_EXAMPLE_PLUGIN},
                                             {"--bogus", HYDRA_EXAMPLE_PLUGIN},
                                             {HYDRA_EXAMPLE_PLUGIN, "second.so"}}) {
    std::vector<std::string> argv = {HYDRA_CLI, "plugin", "check"};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult r = hydra::test::run_process(argv, "");
    EXPECT_EQ(r.exit_code, 64) << testing::PrintToString(args) << "\n" << r.err;
    EXPECT_TRUE(r.err.starts_with("hydra plugin check: ")) << r.err;
  }
}

}  // namespace
