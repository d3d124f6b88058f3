// hydra audit: the tamper-evident audit trail from the shell.
//   hydra audit append --key-file K FILE     each line of stdin becomes one chained record
//   hydra audit verify --key-file K FILE...  checks the chain, oldest file first
// (--key-env VAR instead of --key-file takes the key from a variable.) The
// file format and what verify can and cannot notice: docs/protect.md.
//
// Exit codes: 0 intact (or appended); 1 the chain is damaged (the message
// names the file, the line, the seq and the kind of damage); 64 usage; 66 a
// FILE to verify does not exist; 74 an I/O error; 78 a key problem, or append
// to a chain that does not verify.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <hydra/core/error.hpp>
#include <hydra/protect/audit_chain.hpp>
#include <hydra/protect/audit_verify.hpp>

#include "commands.hpp"
#include "help.hpp"

namespace hydra::tools {
namespace {

constexpr int kDamaged = 1;
constexpr int kNoInput = 66;      // sysexits' EX_NOINPUT
constexpr int kIoError = 74;      // sysexits' EX_IOERR
constexpr int kConfigError = 78;  // sysexits' EX_CONFIG

int fail(const char* command, int code, const std::string& message) {
  std::fprintf(stderr, "hydra audit %s: %s\n", command, message.c_str());
  return code;
}

// The options both subcommands share, and the rest.
struct Parsed {
  protect::AuditKeySource key;
  std::optional<std::uint64_t> max_size;
  std::optional<int> backup_count;
  std::optional<std::string> checkpoint;
  bool no_checkpoint = false;
  std::vector<std::string> files;
  bool help = false;  // -h or --help stood where an option may
};

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  out = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

// Returns an error message, or nothing.
std::optional<std::string> parse(Args args, bool append, Parsed& p) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view opt = args[i];
    if (is_help_option(opt)) {
      p.help = true;
      return std::nullopt;
    }
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return std::string(args[++i]);
    };
    if (opt == "--key-file" || opt == "--key-env" || opt == "--max-size" ||
        opt == "--backup-count" || opt == "--checkpoint") {
      const bool for_append = opt == "--max-size" || opt == "--backup-count";
      if ((opt == "--checkpoint" && append) || (for_append && !append)) {
        return "option " + quote(opt) + " is not one of " + (append ? "append" : "verify") + "'s";
      }
      const auto v = value();
      if (!v) return "option " + quote(opt) + " needs a value";
      std::uint64_t number = 0;
      if (opt == "--key-file") {
        p.key.file = *v;
      } else if (opt == "--key-env") {
        p.key.env = *v;
      } else if (opt == "--checkpoint") {
        p.checkpoint = *v;
      } else if (!parse_number(*v, number) || (opt == "--backup-count" && number > 1000)) {
        return "option " + quote(opt) + ": " + quote(*v) + " is not a valid number";
      } else if (opt == "--max-size") {
        p.max_size = number;
      } else {
        p.backup_count = static_cast<int>(number);
      }
    } else if (opt == "--no-checkpoint" && !append) {
      p.no_checkpoint = true;
    } else if (is_option(opt)) {
      return "unknown option " + quote(opt);
    } else {
      p.files.emplace_back(opt);
    }
  }
  if (p.key.file.empty() && p.key.env.empty()) return "give the key: --key-file K or --key-env VAR";
  if (!p.key.file.empty() && !p.key.env.empty()) return "give one of --key-file and --key-env";
  if (p.checkpoint && p.no_checkpoint) return "give one of --checkpoint and --no-checkpoint";
  if (p.files.empty()) return append ? "which FILE?" : "which FILE(s)?";
  if (append && p.files.size() > 1) return "append takes one FILE";
  return std::nullopt;
}

int run_append(const Parsed& p) {
  protect::AuditChainOptions options;
  options.path = p.files.front();
  options.key = p.key;
  if (p.max_size) options.max_size = *p.max_size;
  if (p.backup_count) options.backup_count = *p.backup_count;
  // Shell scripts appending at once take turns instead of failing.
  options.lock_timeout = std::chrono::seconds(10);
  std::optional<protect::AuditChainSink> sink;
  try {
    sink.emplace(options);
  } catch (const ConfigError& e) {
    return fail("append", kConfigError, e.what());
  }
  Record record;
  record.level = Level::audit;
  constexpr std::size_t kChunk = 1 << 16;
  std::string buffer(kChunk, '\0');
  std::string line;
  for (;;) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), stdin);
    if (got == 0) break;
    std::string_view chunk(buffer.data(), got);
    for (std::size_t nl; (nl = chunk.find('\n')) != std::string_view::npos;) {
      line.append(chunk.substr(0, nl));
      sink->write(record, line);
      line.clear();
      chunk.remove_prefix(nl + 1);
    }
    line.append(chunk);
  }
  if (!line.empty()) sink->write(record, line);
  const bool input_failed = std::ferror(stdin) != 0;
  const int input_errno = errno;
  sink->flush();
  if (sink->write_errors() > 0 || sink->dropped_records() > 0) {
    return fail("append", kIoError, "'" + options.path + "': some records could not be written");
  }
  if (input_failed) {
    return fail("append", kIoError,
                "reading standard input: " + std::generic_category().message(input_errno));
  }
  return 0;
}

int run_verify(const Parsed& p) {
  protect::AuditVerifyOptions options;
  if (!p.no_checkpoint) options.checkpoint = p.checkpoint.value_or(p.files.back() + ".checkpoint");
  try {
    const std::string key = protect::load_audit_key(p.key);
    const protect::AuditVerifyResult result = protect::verify_audit_files(p.files, key, options);
    if (!result.ok()) {
      std::string message = result.describe();
      if (result.damage == protect::AuditDamage::checkpoint && !p.checkpoint) {
        message += " (--checkpoint F names another, --no-checkpoint skips the check)";
      }
      if (result.lines > 0) {
        message += "; the " + std::to_string(result.lines) + " line" +
                   (result.lines == 1 ? "" : "s") + " before it verified";
      }
      return fail("verify", kDamaged, message);
    }
    std::printf("%s\n", result.describe().c_str());
    return 0;
  } catch (const ConfigError& e) {
    return fail("verify", kConfigError, e.what());
  } catch (const std::system_error& e) {
    return fail("verify", e.code() == std::errc::no_such_file_or_directory ? kNoInput : kIoError,
                e.what());
  }
}

}  // namespace

int run_audit(Args args) {
  if (args.empty()) return usage_error("audit", "append or verify?");
  const std::string_view command = args.front();
  if (is_help_option(command) || command == "help") return print_help("audit");
  if (command != "append" && command != "verify") {
    return usage_error("audit",
                       "unknown subcommand " + quote(command) + " (valid: append, verify)");
  }
  const bool append = command == "append";
  const std::string name = append ? "audit append" : "audit verify";
  Parsed parsed;
  if (const auto error = parse(args.subspan(1), append, parsed)) return usage_error(name, *error);
  if (parsed.help) return print_help(name);
  return append ? run_append(parsed) : run_verify(parsed);
}

}  // namespace hydra::tools
