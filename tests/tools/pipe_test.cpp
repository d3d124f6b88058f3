#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"
#if defined(HYDRA_CLI_WITH_NET)
#include "support/rsyslog.hpp"
#endif

namespace {

struct Result {
  int exit_code;
  std::string out;
  std::string err;
};

// Runs the hydra command with `args`, feeding `input` on stdin.
Result run_hydra(const std::vector<std::string>& args, const std::string& input) {
  hydra::test::TempDir dir;
  const std::string in = dir.file("in"), out = dir.file("out"), err = dir.file("err");
  {
    std::ofstream f(in, std::ios::binary);
    f << input;
  }
  std::string cmd = std::string(HYDRA_CLI);
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " <" + in + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, hydra::test::read_file(out),
          hydra::test::read_file(err)};
}

const std::string kHostile =
    "plain line\n"
    "forged\r2019-01-01 INFO  [APP] admin logged in\n"
    "ansi \x1b[31mred\x1b[0m and bell \x07\n"
    "bad utf8 \xff\xfe end\n"
    "quotes \" and , comma and ] bracket and \\ backslash\n"
    "\n";

TEST(HydraPipe, EveryFormatKeepsOneRecordPerLine) {
  for (const std::string mode : {"sync", "async"}) {
    for (const std::string format :
         {"text", "json", "logfmt", "csv", "syslog", "gelf", "logstash"}) {
      Result r =
          run_hydra({"pipe", "--mode", mode, "--format", format, "--color", "never"}, kHostile);
      ASSERT_EQ(r.exit_code, 0) << format << ": " << r.err;
      auto lines = hydra::test::split_lines(r.out);
      // kHostile has 6 lines; a CR inside a line is content and must be escaped.
      EXPECT_EQ(lines.size(), 6u) << format << ":\n" << r.out;
      for (const auto& l : lines) {
        EXPECT_EQ(l.find('\x1b'), std::string::npos) << format << ": raw ESC in " << l;
        EXPECT_EQ(l.find('\r'), std::string::npos) << format << ": raw CR in " << l;
      }
    }
  }
}

TEST(HydraPipe, JsonIsValidAndRoundTripsTheLine) {
  for (const std::string mode : {"sync", "async"}) {
    Result r = run_hydra(
        {"pipe", "--mode", mode, "--format", "json", "--layer", "LEGACY", "--level", "warning"},
        kHostile);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = hydra::test::split_lines(r.out);
    ASSERT_EQ(lines.size(), 6u) << mode;
    std::vector<std::string> messages;
    for (const auto& l : lines) {
      auto j = nlohmann::json::parse(l);
      EXPECT_EQ(j["layer"], "LEGACY");
      EXPECT_EQ(j["level"], "warning");
      messages.push_back(j["message"]);
    }
    EXPECT_EQ(messages[0], "plain line");
    EXPECT_EQ(messages[1], "forged\r2019-01-01 INFO  [APP] admin logged in");
    EXPECT_EQ(messages[2], "ansi \x1b[31mred\x1b[0m and bell \x07");
    EXPECT_EQ(messages[3], "bad utf8 \xef\xbf\xbd\xef\xbf\xbd end");  // U+FFFD each
    EXPECT_EQ(messages[4], "quotes \" and , comma and ] bracket and \\ backslash");
    EXPECT_EQ(messages[5], "");
  }
}

TEST(HydraPipe, TextIsReadable) {
  Result r = run_hydra({"pipe", "--color", "never"}, "hello world\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("INFO  [APP] hello world\n"), std::string::npos) << r.out;
}

TEST(HydraPipe, ColorAlwaysColoursTheLevelOnly) {
  Result r = run_hydra({"pipe", "--color", "always", "--level", "error"}, "boom \x1b[2J\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\x1b[31mERROR"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\x1b[2J"), std::string::npos) << "message escape reached the terminal";
}

TEST(HydraPipe, BadOptionsNameTheValue) {
  Result r = run_hydra({"pipe", "--format", "xml"}, "");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'xml'"), std::string::npos) << r.err;
  r = run_hydra({"pipe", "--level", "loud"}, "");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'loud'"), std::string::npos) << r.err;
  r = run_hydra({"pipe", "--color", "sometimes"}, "");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'sometimes'"), std::string::npos) << r.err;
}

// hydra pipe --mode async: every line it has taken in reaches the output
// even when a signal then stops it. The test feeds lines through a pipe and
// sends the signal once the pipe is empty (the child has read every byte:
// FIONREAD on our copy of the read end says 0), without sleeping.
class HydraPipeKilled : public ::testing::TestWithParam<int> {};

TEST_P(HydraPipeKilled, EveryLineTakenInIsWritten) {
  const int sig = GetParam();
  hydra::test::TempDir dir;
  const std::string out = dir.file("out");
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);  // SIGSEGV/SIGABRT: no core file
  constexpr int kLines = 3000;
  std::string input;
  for (int i = 0; i < kLines; ++i) input += "line " + std::to_string(i) + " of the input\n";
  std::string error;
  const int status = hydra::test::kill_after_input_is_read(
      {HYDRA_CLI, "pipe", "--mode", "async", "--format", "logfmt"}, input, sig, out, &error);
  ASSERT_NE(status, -1) << error;
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), sig) << "the signal takes its default course after the flush";
  const auto lines = hydra::test::split_lines(hydra::test::read_file(out));
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  for (int i = 0; i < kLines; i += 499) {
    EXPECT_NE(lines[i].find("msg=\"line " + std::to_string(i) + " of the input\""),
              std::string::npos)
        << lines[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, HydraPipeKilled,
                         ::testing::Values(SIGTERM, SIGINT, SIGSEGV, SIGABRT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(sigabbrev_np(info.param));
                         });

TEST(HydraDemo, WritesItsFilesAndSaysWhere) {
  hydra::test::TempDir dir;
  Result r = run_hydra({"demo", "--dir", dir.path().string()}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Where the output went"), std::string::npos);
  for (const char* f : {"app.jsonl", "database.log", "security.log", "audit.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / f)) << f;
    EXPECT_NE(r.out.find(f), std::string::npos) << f;
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "database.log.1")) << "no rotation happened";
  for (const auto& l : hydra::test::split_lines(hydra::test::read_file(dir.path() / "app.jsonl"))) {
    EXPECT_TRUE(nlohmann::json::accept(l)) << l;
  }
}

}  // namespace

#if defined(HYDRA_CLI_WITH_NET) && defined(HYDRA_CLI_WITH_CONFIG)
// `hydra pipe --config F` ships standard input to a network destination:
// here a real rsyslog over TCP. Every line arrives, in order, and the
// command exits only once they are delivered (the destination's flush at
// the end).
TEST(HydraPipe, ShipsStdinToASyslogServerThroughAConfigFile) {
  hydra::test::TempDir dir;
  hydra::test::RsyslogServer server(dir.path() / "rsyslog");
  ASSERT_TRUE(server.start()) << server.output();
  const std::string config = dir.file("ship.toml");
  {
    std::ofstream f(config);
    f << "name = \"shipper\"\ndefault_layer = \"APP\"\n[[layers.APP.destinations]]\n"
         "type = \"syslog\"\nprotocol = \"tcp\"\nport = "
      << server.tcp_port() << "\nlinger = \"5ms\"\n";
  }
  std::string input;
  for (int i = 0; i < 500; ++i) input += "piped line " + std::to_string(i) + "\n";
  const Result r = run_hydra({"pipe", "--config", config}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto received = server.wait_for("tcp", 500);
  ASSERT_EQ(received.size(), 500u) << server.output();
  for (int i = 0; i < 500; ++i) {
    const std::string want = "piped line " + std::to_string(i);
    EXPECT_TRUE(received[i].starts_with("<14>1 ")) << received[i];
    EXPECT_EQ(received[i].substr(received[i].size() - want.size()), want) << received[i];
  }
}
#endif
