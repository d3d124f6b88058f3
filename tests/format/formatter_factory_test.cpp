// make_formatter: every name, errors, and the identity it fills in.
#include <errno.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>

#include "format/format_test_support.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/csv_formatter.hpp"
#include "hydra/format/gelf_formatter.hpp"
#include "hydra/format/json_formatter.hpp"
#include "hydra/format/logfmt_formatter.hpp"
#include "hydra/format/logstash_formatter.hpp"
#include "hydra/format/syslog_formatter.hpp"
#include "hydra/format/text_formatter.hpp"

namespace hydra {
namespace {

template <typename T>
bool makes(std::string_view name) {
  return dynamic_cast<T*>(make_formatter(name, {}).get()) != nullptr;
}

TEST(MakeFormatter, EveryName) {
  test::CleanEnv env;
  EXPECT_TRUE(makes<TextFormatter>("text"));
  EXPECT_TRUE(makes<JsonFormatter>("json"));
  EXPECT_TRUE(makes<LogfmtFormatter>("logfmt"));
  EXPECT_TRUE(makes<CsvFormatter>("csv"));
  EXPECT_TRUE(makes<SyslogFormatter>("syslog"));
  EXPECT_TRUE(makes<GelfFormatter>("gelf"));
  EXPECT_TRUE(makes<LogstashFormatter>("logstash"));
  EXPECT_TRUE(makes<JsonFormatter>("JSON"));  // case does not matter
}

TEST(MakeFormatter, UnknownNameListsTheChoices) {
  try {
    (void)make_formatter("xml", {});
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "format: 'xml' is not a format (valid: text, json, logfmt, csv, syslog, gelf, "
                 "logstash, gcp_json)");
  }
  try {
    (void)make_formatter("js\non", {});
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string_view(e.what()).find(R"('js\non')"), std::string_view::npos) << e.what();
  }
}

TEST(MakeFormatter, TextOptionErrorsPassThrough) {
  test::CleanEnv env;
  FormatterOptions o;
  o.text.message_format = "{nope}";
  EXPECT_THROW((void)make_formatter("text", o), ConfigError);
  o.syslog_facility = 99;
  EXPECT_THROW((void)make_formatter("syslog", o), ConfigError);
}

TEST(MakeFormatter, FillsHostnameAndProgramName) {
  std::array<char, 256> host{};
  ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
  test::TestRecord r({});
  const std::string syslog = test::render("syslog", r.record);
  EXPECT_NE(syslog.find(
                fmt::format(" {} {} {} ", host.data(), program_invocation_short_name, ::getpid())),
            std::string::npos)
      << syslog;
  const std::string gelf = test::render("gelf", r.record);
  EXPECT_NE(gelf.find(fmt::format(R"("host":"{}")", host.data())), std::string::npos) << gelf;
  // Given values win.
  EXPECT_NE(test::render("syslog", r.record, test::fixed_identity()).find(" web1 shop "),
            std::string::npos);
}

}  // namespace
}  // namespace hydra
