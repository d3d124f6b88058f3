// hydra: the command-line face of Hydra-Logger. Each command parses its own
// arguments (demo.cpp, pipe.cpp, ...); `hydra help` and `hydra COMMAND
// --help` print from the one table in help.cpp.
#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "help.hpp"

namespace {

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

// hydra help [COMMAND...]: the overview, or one command's help.
int run_help(hydra::tools::Args args) {
  using namespace hydra::tools;
  if (args.empty()) {
    const std::string text = overview();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::string name;
  for (const std::string_view arg : args) {
    if (is_help_option(arg)) return print_help("help");
    if (is_option(arg)) return unknown_argument("help", arg);
    if (!name.empty()) name += ' ';
    name += arg;
  }
  if (command_help(name).empty()) return usage_error("help", "no command is named " + quote(name));
  return print_help(name);
}

int run_version(hydra::tools::Args args) {
  using namespace hydra::tools;
  if (!args.empty()) {
    if (is_help_option(args.front())) return print_help("version");
    return unknown_argument("version", args.front());
  }
  std::puts("hydra " HYDRA_VERSION);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hydra::tools;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    const std::string text = overview();
    std::fwrite(text.data(), 1, text.size(), stderr);
    return kUsageError;
  }
  const std::string_view command = args.front();
  const Args rest(args.data() + 1, args.size() - 1);
  if (command == "demo") return run_demo(rest);
  if (command == "pipe") return run_pipe(rest);
#if defined(HYDRA_WITH_PROTECT)
  if (command == "redact") return run_redact(rest);
  if (command == "audit") return run_audit(rest);
#else
  if (command == "redact" || command == "audit") return without_module(command, "protect");
#endif
#if defined(HYDRA_WITH_CONFIG)
  if (command == "config") return run_config(rest);
#else
  if (command == "config") return without_module(command, "config");
#endif
#if defined(HYDRA_WITH_PLUGINS)
  if (command == "plugin") return run_plugin(rest);
#else
  if (command == "plugin") return without_module(command, "plugins");
#endif
#if defined(HYDRA_WITH_NET)
  if (command == "spool") return run_spool(rest);
#else
  if (command == "spool") return without_module(command, "net");
#endif
  if (command == "help" || is_help_option(command)) return run_help(rest);
  if (command == "version" || command == "--version") return run_version(rest);
  const std::string text = "hydra: unknown command " + quote(command) + "\n\n" + overview();
  std::fwrite(text.data(), 1, text.size(), stderr);
  return kUsageError;
}
