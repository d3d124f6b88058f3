// `hydra audit append` and `hydra audit verify`, run as real processes on the
// built command, against real files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

#if defined(HYDRA_CLI)

namespace fs = std::filesystem;
using hydra::test::read_file;
using hydra::test::split_lines;
using hydra::test::TempDir;
using hydra::test::write_file;

hydra::test::ProcessResult audit(const std::vector<std::string>& args,
                                 const std::string& input = "") {
  std::vector<std::string> argv = {HYDRA_CLI, "audit"};
  argv.insert(argv.end(), args.begin(), args.end());
  return hydra::test::run_process(argv, input);
}

class HydraAudit : public ::testing::Test {
 protected:
  void SetUp() override { write_file(key, "cli-test-key-0123456789abcdef\n"); }
  TempDir dir;
  std::string key = dir.file("audit.key");
  std::string file = dir.file("audit.log");
};

TEST_F(HydraAudit, AppendThenVerify) {
  auto r = audit({"append", "--key-file", key, file}, "user=alice action=login\nsecond\nthird");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const auto lines = split_lines(read_file(file));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].substr(0, 4), "H 0 ");
  EXPECT_EQ(lines[1].substr(0, 4), "R 1 ");
  EXPECT_EQ(lines[1].substr(69), "user=alice action=login");
  EXPECT_EQ(lines[3].substr(69), "third") << "a last line without a newline is a record too";
  r = audit({"verify", "--key-file", key, file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "intact: 3 records, seq 0..3; checkpoint at seq 3 matches\n");
}

TEST_F(HydraAudit, AppendContinuesTheChainFromRunToRun) {
  ASSERT_EQ(audit({"append", "--key-file", key, file}, "a\nb\n").exit_code, 0);
  ASSERT_EQ(audit({"append", "--key-file", key, file}, "c\n").exit_code, 0);
  const auto lines = split_lines(read_file(file));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3].substr(0, 4), "R 3 ");
  const auto r = audit({"verify", "--key-file", key, file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("intact: 3 records"), std::string::npos) << r.out;
}

TEST_F(HydraAudit, ControlCharactersCannotForgeOrHide) {
  const std::string forged = "R 2 " + std::string(64, 'f') + " forged";
  const auto r =
      audit({"append", "--key-file", key, file}, "clear\x1b[2J screen\rcarriage\n" + forged + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(file);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  const auto lines = split_lines(text);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].substr(69), "clear\\x1b[2J screen\\x0dcarriage");
  EXPECT_EQ(lines[2].substr(69), forged) << "a line that looks like a record is a payload";
  EXPECT_EQ(audit({"verify", "--key-file", key, file}).exit_code, 0);
}

TEST_F(HydraAudit, VerifyNamesTheFileLineSeqAndDamage) {
  ASSERT_EQ(audit({"append", "--key-file", key, file}, "one\ntwo\nthree\nfour\n").exit_code, 0);
  const std::string intact = read_file(file);

  auto lines = split_lines(intact);
  lines[2].back() = '!';  // seq 2's payload
  std::string changed;
  for (const auto& l : lines) changed += l + "\n";
  write_file(file, changed);
  auto r = audit({"verify", "--key-file", key, file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(file + ":3: seq 2: modified: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the 2 lines before it verified"), std::string::npos) << r.err;

  lines = split_lines(intact);
  lines.erase(lines.begin() + 2);
  changed.clear();
  for (const auto& l : lines) changed += l + "\n";
  write_file(file, changed);
  r = audit({"verify", "--key-file", key, file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(file + ":3: seq 3: deleted: seq 2 is missing"), std::string::npos) << r.err;

  lines = split_lines(intact);
  lines.pop_back();
  changed.clear();
  for (const auto& l : lines) changed += l + "\n";
  write_file(file, changed);
  r = audit({"verify", "--key-file", key, file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("truncated: the chain ends at seq 3, but its checkpoint records seq 4"),
            std::string::npos)
      << r.err;
  // Appending to the cut chain is refused too.
  r = audit({"append", "--key-file", key, file}, "more\n");
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(HydraAudit, WrongKeyIsNamed) {
  ASSERT_EQ(audit({"append", "--key-file", key, file}, "x\n").exit_code, 0);
  write_file(dir.file("other.key"), "another-key-0123456789abcdef");
  const auto r = audit({"verify", "--key-file", dir.file("other.key"), file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(file + ":1: seq 0: wrong_key: the chain was written with key id"),
            std::string::npos)
      << r.err;
}

TEST_F(HydraAudit, KeyFromTheEnvironment) {
  ::setenv("HYDRA_AUDIT_CLI_KEY", "env-key-0123456789abcdefgh", 1);
  auto r = audit({"append", "--key-env", "HYDRA_AUDIT_CLI_KEY", file}, "from env\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = audit({"verify", "--key-env", "HYDRA_AUDIT_CLI_KEY", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = audit({"verify", "--key-file", key, file});
  EXPECT_EQ(r.exit_code, 1) << "a key file with another key";
  ::unsetenv("HYDRA_AUDIT_CLI_KEY");
  r = audit({"verify", "--key-env", "HYDRA_AUDIT_CLI_KEY", file});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("'HYDRA_AUDIT_CLI_KEY' is not set"), std::string::npos) << r.err;
}

TEST_F(HydraAudit, CheckpointOptions) {
  ASSERT_EQ(audit({"append", "--key-file", key, file}, "x\n").exit_code, 0);
  fs::rename(file + ".checkpoint", dir.file("saved.checkpoint"));
  auto r = audit({"verify", "--key-file", key, file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("checkpoint: checkpoint '" + file + ".checkpoint' does not exist"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--no-checkpoint"), std::string::npos) << r.err;
  r = audit({"verify", "--key-file", key, "--no-checkpoint", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no checkpoint checked"), std::string::npos) << r.out;
  r = audit({"verify", "--key-file", key, "--checkpoint", dir.file("saved.checkpoint"), file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(HydraAudit, RotatedFilesVerifyOldestFirst) {
  std::string input;
  for (int i = 0; i < 40; ++i) input += "event " + std::to_string(i) + "\n";
  auto r = audit({"append", "--key-file", key, "--max-size", "600", "--backup-count", "50", file},
                 input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> args = {"verify", "--key-file", key};
  int rotated = 0;
  while (fs::exists(file + "." + std::to_string(rotated + 1))) ++rotated;
  ASSERT_GE(rotated, 3);
  for (int i = rotated; i >= 1; --i) args.push_back(file + "." + std::to_string(i));
  args.push_back(file);
  r = audit(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("intact: 40 records"), std::string::npos) << r.out;
  // Newest first: the verifier says how to give them.
  std::swap(args[3], args.back());
  r = audit(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("reordered"), std::string::npos) << r.err;
}

TEST_F(HydraAudit, UsageAndInputErrors) {
  auto r = audit({});
  EXPECT_EQ(r.exit_code, 64);
  r = audit({"append", file}, "x\n");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("give the key: --key-file K or --key-env VAR"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(file)) << "no key, no file";
  r = audit({"verify", "--key-file", key});
  EXPECT_EQ(r.exit_code, 64);
  r = audit({"verify", "--key-file", key, "--max-size", "10", file});
  EXPECT_EQ(r.exit_code, 64);
  r = audit({"frobnicate"});
  EXPECT_EQ(r.exit_code, 64);
  r = audit({"verify", "--key-file", key, dir.file("missing.log")});
  EXPECT_EQ(r.exit_code, 66);
  EXPECT_NE(r.err.find(dir.file("missing.log")), std::string::npos) << r.err;
  r = audit({"append", "--key-file", dir.file("missing.key"), file}, "x\n");
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("key_file '" + dir.file("missing.key") + "': cannot read: No such file"),
            std::string::npos)
      << r.err;
  write_file(dir.file("short.key"), "short\n");
  r = audit({"append", "--key-file", dir.file("short.key"), file}, "x\n");
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("at least 16"), std::string::npos) << r.err;
}

#endif  // HYDRA_CLI

}  // namespace
