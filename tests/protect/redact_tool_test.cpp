// `hydra redact`, run as a real process on the built command.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

#if defined(HYDRA_CLI)

hydra::test::ProcessResult redact(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {HYDRA_CLI, "redact"};
  argv.insert(argv.end(), args.begin(), args.end());
  return hydra::test::run_process(argv, input);
}

TEST(HydraRedact, RedactsStandardInputLineByLineWithTheDefaults) {
  const std::string input =
      "2026-11-27 10:13:12 INFO login alice@example.com password=hunter2\n"
      "clean line trace_id=4bf92f3577b34da6a3ce929d0e0e4736 ip 10.0.0.1\n"
      "\n"
      "crlf card 4111 1111 1111 1111\r\n"
      "bad utf8 \xff\xfe token=abc\n"
      "last line without newline +1 415 555 0132";
  const auto r = redact({}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "2026-11-27 10:13:12 INFO login [REDACTED_EMAIL] password=[REDACTED_PASSWORD]\n"
            "clean line trace_id=4bf92f3577b34da6a3ce929d0e0e4736 ip 10.0.0.1\n"
            "\n"
            "crlf card [REDACTED_CREDIT_CARD]\r\n"
            "bad utf8 \xff\xfe token=[REDACTED_TOKEN]\n"
            "last line without newline [REDACTED_PHONE]");
  EXPECT_EQ(r.err, "");
}

TEST(HydraRedact, LargeInputKeepsEveryLine) {
  std::string input;
  std::string expected;
  for (int i = 0; i < 100000; ++i) {
    input += "line " + std::to_string(i) + " user" + std::to_string(i) + "@example.com ok\n";
    expected += "line " + std::to_string(i) + " [REDACTED_EMAIL] ok\n";
  }
  const auto r = redact({}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
}

TEST(HydraRedact, ConfigFileTurnsDetectorsOnAndSetsActions) {
  hydra::test::TempDir dir;
  const std::string config = dir.file("redact.json");
  hydra::test::write_file(config, R"({
    "detectors": {"ipv4": true, "phone": false},
    "actions": {"email": "mask", "credit_card": "hash"},
    "hash_key": "secret-key",
    "custom": [{"name": "employee", "pattern": "EMP-\\d+", "type": "EMPLOYEE"},
               {"name": "vip", "pattern": "VIP", "type": "VIP", "action": "drop"}]
  })");
  const auto r = redact({"--config", config},
                        "from 10.0.0.1 mail bob@example.com by EMP-42 call 415-555-0132\n"
                        "a VIP line\n"
                        "card 4111111111111111\n"
                        "card 4111-1111-1111-1111\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = hydra::test::split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0],
            "from [REDACTED_IP_ADDRESS] mail ***********.com by [REDACTED_EMPLOYEE] call "
            "415-555-0132");
  EXPECT_EQ(lines[1].substr(0, 18), "card [CREDIT_CARD:");
  EXPECT_EQ(lines[1], lines[2]);  // the same card, the same pseudonym
  EXPECT_NE(r.err.find("1 line dropped"), std::string::npos) << r.err;
}

TEST(HydraRedact, ConfigErrorsNameTheCulprit) {
  hydra::test::TempDir dir;
  const std::string config = dir.file("bad.json");
  struct Case {
    std::string json;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"detector": {}})", "unknown key 'detector'"},
           {R"({"detectors": {"mail": true}})", "unknown detector 'mail'"},
           {R"({"detectors": {"email": "yes"}})", "detectors.email: must be true or false"},
           {R"({"actions": {"email": "shred"}})", "unknown action 'shred'"},
           {R"({"actions": {"email": "hash"}})", "hash_key is empty"},
           {R"({"custom": [{"name": "x", "pattern": "(", "type": "X"}]})",
            "custom detector 'x': invalid pattern '('"},
           {R"({"custom": [{"name": "x", "pattern": "a", "type": "X", "colour": 1}]})",
            "custom[0]: unknown key 'colour'"},
           {R"({"custom": [{"name": "x", "type": "X"}]})", "'pattern' is missing"},
           {R"({"hash_key_env": "HYDRA_TEST_SURELY_UNSET"})", "HYDRA_TEST_SURELY_UNSET"},
           {"{not json", "not valid JSON"},
       }) {
    hydra::test::write_file(config, c.json);
    const auto r = redact({"--config", config}, "a@b.io\n");
    EXPECT_EQ(r.exit_code, 78) << c.json;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.json << "\n" << r.err;
    EXPECT_EQ(r.out, "") << c.json;
  }
  const auto missing = redact({"--config", dir.file("missing.json")}, "");
  EXPECT_EQ(missing.exit_code, 78);
  EXPECT_NE(missing.err.find("missing.json"), std::string::npos) << missing.err;
}

TEST(HydraRedact, UsageErrors) {
  auto r = redact({"--colour"}, "");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("unknown option '--colour'"), std::string::npos) << r.err;
  r = redact({"--config"}, "");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("needs a value"), std::string::npos) << r.err;
}

TEST(HydraRedact, IsListedInTheHelp) {
  const auto r = hydra::test::run_process({HYDRA_CLI, "help"}, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("redact [--config F]"), std::string::npos) << r.out;
}

#else

TEST(HydraRedact, NeedsTheHydraCommand) {
  GTEST_SKIP() << "built without the hydra command";
}

#endif

}  // namespace
