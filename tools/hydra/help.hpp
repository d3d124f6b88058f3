// The `hydra` command's help and command-line errors. Every command's
// synopsis, summary and options live in one table (help.cpp), and both
// `hydra help` (every command with every option it takes) and
// `hydra COMMAND --help` (one command, each option explained) are printed
// from it, so the two cannot disagree. A command's synopsis lists every
// option its parser takes; tests/tools/cli_test.cpp holds them to that.
#pragma once

#include <string>
#include <string_view>

#include <hydra/core/level.hpp>

namespace hydra::tools {

// The levels a record can have, for messages: kLevelChoices without "off",
// which is a threshold only.
inline constexpr std::string_view kRecordLevelChoices =
    kLevelChoices.substr(0, kLevelChoices.rfind(','));

// Whether `arg`, standing where an option may stand, asks for help.
bool is_help_option(std::string_view arg) noexcept;

// Whether `arg` stands for an option: it starts with '-' and is not "-".
bool is_option(std::string_view arg) noexcept;

// Every command with every option it takes, what `hydra help` prints.
std::string overview();

// One command's usage, what it does and each option explained: "pipe",
// "audit append"; a name with subcommands ("audit", "config") gives them
// all. Empty when no command has that name.
std::string command_help(std::string_view command);

// Prints command_help(command) to standard output and returns 0, the exit
// code of `hydra COMMAND --help`.
int print_help(std::string_view command);

// A command line the command cannot take (an unknown option, a missing
// value or operand): "hydra COMMAND: MESSAGE" and the command's synopsis on
// standard error. Returns kUsageError.
int usage_error(std::string_view command, std::string_view message);

// An argument the command does not take: usage_error naming it as an
// unknown option (when it starts with '-') or an unexpected argument.
int unknown_argument(std::string_view command, std::string_view arg);

// A value an option cannot take: "hydra COMMAND: MESSAGE" on standard error
// (the message names the option, the value and what is valid). Returns
// kUsageError.
int option_error(std::string_view command, std::string_view message);

// A command that could not do its work (an index refused, a spool in use):
// "hydra COMMAND: MESSAGE" on standard error. Returns 1.
int command_failed(std::string_view command, std::string_view message);

// `text` in single quotes for an error message, control characters and
// invalid UTF-8 escaped: what a user typed cannot add a line to the error.
std::string quote(std::string_view text);

}  // namespace hydra::tools
