// The subcommands of the `hydra` program. Each takes its own arguments (after
// the subcommand name) and returns the process exit code.
#pragma once

#include <span>
#include <string_view>

namespace hydra::tools {

using Args = std::span<const std::string_view>;

int run_demo(Args args);
int run_pipe(Args args);
int run_redact(Args args);  // built with HYDRA_WITH_PROTECT only
int run_audit(Args args);   // built with HYDRA_WITH_PROTECT only
int run_config(Args args);  // built with HYDRA_WITH_CONFIG only
int run_plugin(Args args);  // built with HYDRA_WITH_PLUGINS only
int run_spool(Args args);   // built with HYDRA_WITH_NET only
// hydra plugin check (plugin_check.cpp): the arguments after "check".
int plugin_check(Args args);

// Exit code for a usage error (as sysexits' EX_USAGE).
inline constexpr int kUsageError = 64;

}  // namespace hydra::tools
