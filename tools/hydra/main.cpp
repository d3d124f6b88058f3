// hydra: the command-line face of Hydra-Logger.
//   hydra demo [--dir DIR]           several threads and layers, console + files
//   hydra pipe [options]             each line of stdin becomes one record
//   hydra redact [--config F]        stdin to stdout with PII and secrets redacted
//   hydra audit append|verify ...    write to and check a tamper-evident audit trail
//   hydra config explain [FILE]      the effective configuration and its sources
#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: hydra <command> [options]\n"
    "\n"
    "commands:\n"
    "  demo [--dir DIR]    log from several threads and layers to the console and to\n"
    "                      files (JSON Lines, rotating text, logfmt, CSV) in DIR\n"
    "  pipe [--format F] [--layer L] [--level LEVEL] [--color auto|always|never] [--name N]\n"
    "       [--mode sync|async]\n"
    "                      turn every line of standard input into one record written\n"
    "                      to standard output; F: text, json, logfmt, csv, syslog, gelf, "
    "logstash,\n"
    "                      gcp_json\n"
    "  pipe --config FILE [--layer L] [--level LEVEL]\n"
    "                      the same, routed through FILE's layers and destinations\n"
    "  redact [--config F] copy standard input to standard output, line by line, with\n"
    "                      personal data and secrets redacted (F: a JSON file, see\n"
    "                      docs/protect.md)\n"
    "  audit append (--key-file K | --key-env VAR) FILE\n"
    "                      append each line of standard input to the audit trail FILE\n"
    "                      as one HMAC-chained record\n"
    "  audit verify (--key-file K | --key-env VAR) FILE...\n"
    "                      check an audit trail (rotated files oldest first); exits 0\n"
    "                      when intact, 1 naming the first damaged line (docs/protect.md)\n"
    "  config explain [FILE]\n"
    "                      print the effective configuration (FILE, or $HYDRA_LOG_CONFIG,\n"
    "                      over defaults and preset, under HYDRA_LOG_*) and where each\n"
    "                      setting came from; exits 78 with the error for a broken file\n"
    "  config presets      list the magic presets (docs/configuration.md)\n"
    "  help                this text\n"
    "  version             the version\n";

// A command whose module this hydra was built without.
[[maybe_unused]] int without_module(std::string_view command, std::string_view module) {
  std::string option(module);
  for (char& c : option) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::fprintf(stderr,
               "hydra: %.*s: this hydra was built without the %.*s module (HYDRA_WITH_%s=OFF)\n",
               static_cast<int>(command.size()), command.data(), static_cast<int>(module.size()),
               module.data(), option.c_str());
  return hydra::tools::kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage.data(), stderr);
    return hydra::tools::kUsageError;
  }
  const std::string_view command = args.front();
  const hydra::tools::Args rest(args.data() + 1, args.size() - 1);
  if (command == "demo") return hydra::tools::run_demo(rest);
  if (command == "pipe") return hydra::tools::run_pipe(rest);
#if defined(HYDRA_WITH_PROTECT)
  if (command == "redact") return hydra::tools::run_redact(rest);
  if (command == "audit") return hydra::tools::run_audit(rest);
#else
  if (command == "redact" || command == "audit") return without_module(command, "protect");
#endif
#if defined(HYDRA_WITH_CONFIG)
  if (command == "config") return hydra::tools::run_config(rest);
#else
  if (command == "config") return without_module(command, "config");
#endif
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage.data(), stdout);
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::puts("hydra " HYDRA_VERSION);
    return 0;
  }
  std::fprintf(stderr, "hydra: unknown command '%.*s'\n\n%s", static_cast<int>(command.size()),
               command.data(), kUsage.data());
  return hydra::tools::kUsageError;
}
