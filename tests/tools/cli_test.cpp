// The hydra command's help and command-line errors, run as a real process:
// every command answers --help and -h with its own usage on stdout and exit
// 0; `hydra help` lists every option every command takes; a mistake on the
// command line is exit 64 with a message naming the option or value, which
// cannot forge a second line.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <hydra/core/level.hpp>
#include <hydra/format/formatter.hpp>

#include "test_util.hpp"

namespace {

using hydra::test::run_process;

constexpr int kUsageError = 64;

// A command (one or two words) and every option its parser takes: the
// contract the help is held to.
struct Command {
  std::vector<std::string> words;
  std::vector<std::string> options;

  std::string name() const {
    std::string n;
    for (const auto& w : words) n += (n.empty() ? "" : " ") + w;
    return n;
  }
};

std::vector<Command> commands() {
  std::vector<Command> all = {
      {{"demo"}, {"--dir"}},
      {{"pipe"}, {"--format", "--layer", "--level", "--color", "--name", "--mode", "--config"}},
      {{"help"}, {}},
      {{"version"}, {}},
  };
#if defined(HYDRA_CLI_WITH_PROTECT)
  all.push_back({{"redact"}, {"--config"}});
  all.push_back({{"audit", "append"}, {"--key-file", "--key-env", "--max-size", "--backup-count"}});
  all.push_back(
      {{"audit", "verify"}, {"--key-file", "--key-env", "--checkpoint", "--no-checkpoint"}});
#endif
#if defined(HYDRA_CLI_WITH_CONFIG)
  all.push_back({{"config", "explain"}, {}});
  all.push_back({{"config", "presets"}, {}});
#endif
#if defined(HYDRA_CLI_WITH_PLUGINS)
  all.push_back({{"plugin", "check"}, {"--threads", "--records", "--option"}});
  all.push_back({{"plugin", "index", "build"}, {"--out", "--publisher", "--base-url"}});
  all.push_back({{"plugin", "index", "sign"}, {"--key"}});
  all.push_back({{"plugin", "search"}, {"--index", "--key", "--ca-file"}});
  all.push_back({{"plugin", "info"}, {"--index", "--key", "--ca-file"}});
  all.push_back({{"plugin", "install"}, {"--index", "--key", "--ca-file", "--allow-unsigned"}});
  for (const char* sub : {"list", "remove", "verify", "trust"}) {
    all.push_back({{"plugin", sub}, {}});
  }
#endif
#if defined(HYDRA_CLI_WITH_NET)
  all.push_back({{"spool", "inspect"}, {}});
  all.push_back({{"spool", "replay"}, {"--consume"}});
#endif
  return all;
}

// The commands that only group subcommands.
std::vector<std::string> groups() {
  std::vector<std::string> all;
#if defined(HYDRA_CLI_WITH_PROTECT)
  all.emplace_back("audit");
#endif
#if defined(HYDRA_CLI_WITH_CONFIG)
  all.emplace_back("config");
#endif
#if defined(HYDRA_CLI_WITH_PLUGINS)
  all.emplace_back("plugin");
#endif
#if defined(HYDRA_CLI_WITH_NET)
  all.emplace_back("spool");
#endif
  return all;
}

hydra::test::ProcessResult hydra_cli(const Command& command, std::vector<std::string> args) {
  std::vector<std::string> argv = {HYDRA_CLI};
  argv.insert(argv.end(), command.words.begin(), command.words.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, "");
}

hydra::test::ProcessResult hydra_cli(std::vector<std::string> args) {
  return hydra_cli(Command{}, std::move(args));
}

// Up to the first blank line: the "usage:" lines.
std::string usage_block(const std::string& help) {
  return help.substr(0, help.find("\n\n"));
}

// The part of `hydra help` about one command: from its first synopsis line
// to the next command's.
std::string overview_section(const std::string& overview, const std::string& name) {
  const std::string start = "\n  hydra " + name;
  const auto begin = overview.find(start);
  if (begin == std::string::npos) return {};
  auto end = begin + start.size();
  // A command with two forms (pipe) has two synopsis lines of its own.
  while ((end = overview.find("\n  hydra ", end)) != std::string::npos &&
         overview.compare(end, start.size(), start) == 0) {
    end += start.size();
  }
  return overview.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// The flags in the "options:" part of a command's help ("  --format F  the ...").
std::vector<std::string> listed_flags(const std::string& help) {
  std::vector<std::string> flags;
  const auto begin = help.find("\noptions:\n");
  if (begin == std::string::npos) return flags;
  const auto end = help.find("\n\n", begin + 1);
  for (const auto& line : hydra::test::split_lines(help.substr(begin + 10, end - begin - 10))) {
    if (!line.starts_with("  -")) continue;
    std::string flag = line.substr(2, line.find(' ', 2) - 2);
    if (flag.ends_with(',')) flag.pop_back();  // "-h, --help"
    flags.push_back(flag);
    if (flag == "-h") flags.emplace_back("--help");
  }
  return flags;
}

TEST(HydraCli, EveryCommandPrintsItsOwnUsageOnHelp) {
  std::vector<Command> all = commands();
  for (const auto& group : groups()) all.push_back({{group}, {}});
  for (const auto& command : all) {
    std::vector<std::string> help_command = {"help"};
    help_command.insert(help_command.end(), command.words.begin(), command.words.end());
    const auto via_help = hydra_cli(help_command);
    ASSERT_EQ(via_help.exit_code, 0) << command.name() << ": " << via_help.err;
    for (const std::string flag : {"--help", "-h"}) {
      const auto r = hydra_cli(command, {flag});
      EXPECT_EQ(r.exit_code, 0) << command.name() << " " << flag << ": " << r.err;
      EXPECT_EQ(r.err, "") << command.name() << " " << flag;
      EXPECT_TRUE(r.out.starts_with("usage: hydra " + command.name()))
          << command.name() << " " << flag << ":\n"
          << r.out;
      EXPECT_EQ(r.out, via_help.out) << "hydra help " << command.name();
    }
  }
  // Help where an option may stand, after other options.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"pipe", "--format", "json", "--help"}, {"demo", "--dir", "/nonexistent", "-h"}}) {
    const auto r = hydra_cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.out.starts_with("usage: hydra " + args[0])) << r.out;
  }
  // `hydra help`, `hydra --help`, `hydra -h`: the overview, on stdout; no
  // command at all is a usage error with the overview on stderr.
  const auto overview = hydra_cli({"help"});
  ASSERT_EQ(overview.exit_code, 0);
  EXPECT_TRUE(overview.out.starts_with("usage: hydra COMMAND")) << overview.out;
  for (const std::string flag : {"--help", "-h"}) {
    const auto r = hydra_cli({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_EQ(r.out, overview.out) << flag;
  }
  const auto none = hydra_cli({});
  EXPECT_EQ(none.exit_code, kUsageError);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.err, overview.out);
}

TEST(HydraCli, TheOverviewListsEveryOptionOfEveryCommand) {
  const auto overview = hydra_cli({"help"});
  ASSERT_EQ(overview.exit_code, 0) << overview.err;
  for (const auto& command : commands()) {
    const std::string section = overview_section(overview.out, command.name());
    ASSERT_FALSE(section.empty()) << "hydra help does not list " << command.name() << ":\n"
                                  << overview.out;
    const auto help = hydra_cli(command, {"--help"});
    ASSERT_EQ(help.exit_code, 0) << command.name() << ": " << help.err;
    for (const auto& option : command.options) {
      EXPECT_NE(section.find(option), std::string::npos)
          << "hydra help: " << command.name() << " without " << option << ":\n"
          << section;
      EXPECT_NE(usage_block(help.out).find(option), std::string::npos)
          << "hydra " << command.name() << " --help: usage without " << option << ":\n"
          << help.out;
    }
    // What the help explains is what the command takes.
    std::vector<std::string> expected = command.options;
    expected.insert(expected.end(), {"-h", "--help"});
    std::vector<std::string> listed = listed_flags(help.out);
    std::sort(expected.begin(), expected.end());
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(listed, expected) << "hydra " << command.name() << " --help:\n" << help.out;
  }
}

TEST(HydraCli, EveryListedOptionIsTakenByItsCommand) {
  for (const auto& command : commands()) {
    for (const auto& option : command.options) {
      // Without its value (or anything else the command needs): whatever the
      // complaint, it is not that the option is unknown.
      const auto r = hydra_cli(command, {option});
      EXPECT_EQ(r.err.find("unknown option"), std::string::npos)
          << command.name() << " " << option << ": " << r.err;
      EXPECT_NE(r.exit_code, 0) << command.name() << " " << option;
    }
  }
}

TEST(HydraCli, AnUnknownOptionIsAUsageErrorNamingIt) {
  for (const auto& command : commands()) {
    const auto r = hydra_cli(command, {"--no-such-option"});
    EXPECT_EQ(r.exit_code, kUsageError) << command.name() << ": " << r.err;
    EXPECT_EQ(r.out, "") << command.name();
    EXPECT_TRUE(
        r.err.starts_with("hydra " + command.name() + ": unknown option '--no-such-option'\n"))
        << command.name() << ": " << r.err;
    // ...followed by the command's synopsis.
    EXPECT_NE(r.err.find("\nusage: hydra " + command.name()), std::string::npos) << r.err;
  }
  for (const auto& group : groups()) {
    const auto r = hydra_cli({group, "frobnicate"});
    EXPECT_EQ(r.exit_code, kUsageError) << group;
    EXPECT_TRUE(r.err.starts_with("hydra " + group + ": unknown subcommand 'frobnicate'")) << r.err;
  }
  const auto r = hydra_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, kUsageError);
  EXPECT_TRUE(r.err.starts_with("hydra: unknown command 'frobnicate'\n")) << r.err;
}

TEST(HydraCli, ABadPipeValueNamesTheOptionNotAKeyPath) {
  auto r = hydra_cli({"pipe", "--format", "nope"});
  EXPECT_EQ(r.exit_code, kUsageError);
  EXPECT_EQ(r.err, "hydra pipe: --format: 'nope' is not a format (valid: " +
                       std::string(hydra::kFormatChoices) + ")\n");

  r = hydra_cli({"pipe", "--layer", "__X__"});
  EXPECT_EQ(r.exit_code, kUsageError);
  EXPECT_TRUE(r.err.starts_with("hydra pipe: --layer: '__X__' is reserved")) << r.err;
  EXPECT_EQ(r.err.find("layers."), std::string::npos) << r.err;

  r = hydra_cli({"pipe", "--layer", ""});
  EXPECT_EQ(r.exit_code, kUsageError);
  EXPECT_EQ(r.err, "hydra pipe: --layer: a layer name must not be empty\n");

  // What the library accepts, pipe accepts: a format name in any case, and
  // the one __X__ layer a configuration may use.
  r = run_process({HYDRA_CLI, "pipe", "--format", "JSON", "--layer", "__CENTRALIZED__"}, "x\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"layer\":\"__CENTRALIZED__\""), std::string::npos) << r.out;
}

TEST(HydraCli, WhatAUserTypedCannotForgeALineOfTheError) {
  const std::string forged = "x\nhydra pipe: all is well";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"pipe", "--level", forged},
                                             {"pipe", "--format", forged},
                                             {"pipe", "--color", forged},
                                             {"pipe", "--mode", forged},
                                             {"pipe", "--layer", "__" + forged + "__"},
                                             {"pipe", "--" + forged},
                                             {forged}}) {
    const auto r = hydra_cli(args);
    EXPECT_EQ(r.exit_code, kUsageError) << r.err;
    // Line by line: none of them starts with what was forged.
    for (const auto& line : hydra::test::split_lines(r.err)) {
      EXPECT_FALSE(line.starts_with("hydra pipe: all")) << r.err;
    }
    EXPECT_NE(r.err.find("x\\nhydra pipe: all is well"), std::string::npos) << r.err;
  }
}

}  // namespace
