#include "help.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <hydra/format/detail/escape.hpp>
#include <hydra/format/formatter.hpp>

#include "commands.hpp"

namespace hydra::tools {
namespace {

struct OptionHelp {
  std::string_view flag;  // as the synopsis writes it: "--format F"
  std::string_view text;
};

struct CommandHelp {
  std::string_view name;                // "pipe", "audit append"
  std::vector<std::string_view> forms;  // what follows "hydra NAME", one per form
  std::string_view summary;             // what it does
  std::vector<OptionHelp> options;      // every option of every form
  std::string_view exit_status;         // the codes it exits with (empty: not shown)
};

// The options of the commands that read a plugin index.
constexpr OptionHelp kIndexOption{
    "--index FILE|URL",
    "the index: a file, or an https URL (default: $HYDRA_PLUGIN_INDEX); its signature is FILE.sig "
    "or URL.sig"};
constexpr OptionHelp kCaFileOption{
    "--ca-file PEM",
    "CA certificates that verify an https server (default: $HYDRA_PLUGIN_CA_FILE, else the "
    "system's)"};

// Texts may name {formats} and {levels}: the library's own lists of what it
// accepts, so the help cannot fall behind them.
const std::vector<CommandHelp>& commands() {
  static const std::vector<CommandHelp> table = {
      {"demo",
       {"[--dir DIR]"},
       "Logs from several threads and layers to the console and to files in DIR (JSON Lines, "
       "rotating text, logfmt, CSV), then says where everything went.",
       {{"--dir DIR",
         "the directory for the files, created if missing (default: a new "
         "hydra-demo-XXXXXX directory in $TMPDIR, or /tmp)"}},
       "0; 64 for a usage error; 1 when DIR cannot be created or written"},
      {"pipe",
       {"[--format F] [--layer L] [--level LEVEL] [--color auto|always|never] [--name N] "
        "[--mode sync|async]",
        "--config FILE [--layer L] [--level LEVEL]"},
       "Turns every line of standard input into one record, written to standard output in "
       "format F ({formats}), or with --config routed through FILE's layers and destinations.",
       {{"--format F", "the output format: {formats} (default: text)"},
        {"--layer L",
         "the layer of every record (default: APP; with --config, the file's default_layer)"},
        {"--level LEVEL", "the level of every record: {levels} (default: info)"},
        {"--color auto|always|never",
         "colour the level: auto (the default) does on a terminal, as NO_COLOR and FORCE_COLOR "
         "allow"},
        {"--name N", "the logger's name, in the formats that show one (default: pipe)"},
        {"--mode sync|async",
         "sync (the default) writes each line before reading the next; async formats and "
         "writes on a backend thread, and a line read reaches the output even if SIGTERM, "
         "SIGINT, SIGSEGV or SIGABRT then stops hydra"},
        {"--config FILE",
         "a configuration file (.toml, .yaml, .yml, .json) whose layers, destinations, mode and "
         "redaction the records go through; --format, --color, --name and --mode are the "
         "file's then, and refused"}},
       "0; 64 for a usage error or a mistake in FILE (the message names the file, line and "
       "key)"},
      {"redact",
       {"[--config F]"},
       "Copies standard input to standard output, line by line, with personal data and secrets "
       "redacted; bytes outside the redacted spans pass unchanged. A line a 'drop' detector "
       "matches is left out and counted on standard error.",
       {{"--config F",
         "a JSON file: detectors turned on or off, an action per detector, the hash key "
         "(hash_key or hash_key_env) and custom RE2 patterns (docs/protect.md)"}},
       "0; 64 for a usage error; 78 for a mistake in F (the message names the key); 1 for an "
       "I/O error"},
      {"audit append",
       {"(--key-file K | --key-env VAR) [--max-size BYTES] [--backup-count N] FILE"},
       "Appends each line of standard input to the audit trail FILE as one HMAC-chained "
       "record, continuing FILE's chain; waits up to 10 s for another writer's lock.",
       {{"--key-file K",
         "the file holding the key (at least 16 bytes; a trailing newline is "
         "ignored)"},
        {"--key-env VAR", "the environment variable holding the key"},
        {"--max-size BYTES",
         "rotate rather than let FILE grow past BYTES; FILE.1 is the newest rotated file "
         "(default: 0, never)"},
        {"--backup-count N", "rotated files kept, older ones deleted (default: 5; at most 1000)"}},
       "0; 64 for a usage error; 74 for an I/O error; 78 for a key problem, or when FILE's "
       "chain does not verify"},
      {"audit verify",
       {"(--key-file K | --key-env VAR) [--checkpoint F | --no-checkpoint] FILE..."},
       "Checks an audit trail: the FILEs (rotated ones oldest first) as one chain, and its end "
       "against the last FILE's checkpoint (docs/protect.md).",
       {{"--key-file K", "the file holding the key"},
        {"--key-env VAR", "the environment variable holding the key"},
        {"--checkpoint F",
         "the checkpoint to compare the chain's end with (default: the last FILE's "
         "FILE.checkpoint)"},
        {"--no-checkpoint", "check no checkpoint; a cut tail then goes unnoticed"}},
       "0 when intact; 1 naming the first damaged line; 64 for a usage error; 66 when a FILE "
       "does not exist; 74 for an I/O error; 78 for a key problem"},
      {"config explain",
       {"[FILE]"},
       "Prints every effective setting and where it came from (default, preset, FILE:LINE, "
       "environment): FILE (.toml, .yaml, .yml, .json; default: $HYDRA_LOG_CONFIG) over the "
       "defaults and preset, under the HYDRA_LOG_* variables (docs/configuration.md).",
       {},
       "0; 64 for a usage error; 78 for a mistake in FILE or the environment (the message names "
       "the file, line and key)"},
      {"config presets", {""}, "Lists the magic presets and what each is for.", {}, ""},
      {"plugin check",
       {"[--threads N] [--records M] [--option TYPE.KEY=VALUE]... PATH.so"},
       "Loads the plugin PATH.so into a registry of its own and checks every type it declares "
       "as the host will use it: creation from its options and refusal of bad ones, N threads "
       "x M records with exact counts, hostile records (CR/LF, escapes, invalid UTF-8, 1 MB "
       "values), health, reconfigure, flush and stop (docs/plugins-sdk.md). Prints a row per "
       "check.",
       {{"--threads N", "threads calling one instance at once (default: 4; at most 256)"},
        {"--records M", "records each thread sends (default: 1000)"},
        {"--option TYPE.KEY=VALUE",
         "an option for type TYPE's instances, over its default; repeatable (a required option "
         "without one gets a value of its type, and an option naming a path or file a file in "
         "a scratch directory)"}},
       "0 when every check passed; 1 when one failed (its row says FAIL and why); 64 for a "
       "usage error"},
      {"plugin index build",
       {"[--out FILE] [--publisher NAME] [--base-url URL] DIR"},
       "Writes a plugin index with one entry for each *.so in DIR: its name, version, "
       "description, kinds, ABI version and SHA-256, read by loading it (docs/plugin-index.md).",
       {{"--out FILE", "where to write the index (default: DIR/index.json)"},
        {"--publisher NAME", "the publisher every entry names (default: unknown)"},
        {"--base-url URL",
         "an https URL the files will be served from; each location is URL/FILE (default: the "
         "file's path relative to the index)"}},
       "0; 64 for a usage error; 1 when a file cannot be inspected or the index written"},
      {"plugin index sign",
       {"--key KEY INDEX"},
       "Signs INDEX with the Ed25519 private key in KEY (PEM: openssl genpkey -algorithm "
       "ed25519): sets each entry's key id to KEY's and writes INDEX.sig beside it.",
       {{"--key KEY", "the private key file"}},
       "0; 64 for a usage error; 1 when INDEX or KEY cannot be read or signed"},
      {"plugin search",
       {"[--index FILE|URL] [--key PUB]... [--ca-file PEM] TERM"},
       "Lists the plugins of the index whose name, description or kinds contain TERM (case "
       "does not matter); warns when the index's signature does not verify.",
       {kIndexOption,
        kCaFileOption,
        {"--key PUB",
         "a publisher's public key to trust, besides those in "
         "$XDG_CONFIG_HOME/hydra/trusted-keys (repeatable)"}},
       "0; 1 when nothing matches or the index cannot be read; 64 for a usage error"},
      {"plugin info",
       {"[--index FILE|URL] [--key PUB]... [--ca-file PEM] NAME"},
       "Prints the index's entry for plugin NAME and whether the index's signature verified.",
       {kIndexOption,
        kCaFileOption,
        {"--key PUB", "a publisher's public key to trust (repeatable)"}},
       "0; 1 when the index has no NAME or cannot be read; 64 for a usage error"},
      {"plugin install",
       {"[--index FILE|URL] [--key PUB]... [--ca-file PEM] [--allow-unsigned] NAME",
        "--allow-unsigned FILE.so"},
       "Installs plugin NAME from a signed index into the user's plugin directory "
       "($XDG_DATA_HOME/hydra/plugins, else ~/.local/share/hydra/plugins), where configuration "
       "finds it by name. A location that is an https URL is downloaded (https only, the "
       "server's certificate verified). Refuses an index that is unsigned or not signed by a "
       "trusted key or changed since, and a file whose SHA-256 is not the index's.",
       {kIndexOption,
        kCaFileOption,
        {"--key PUB", "a publisher's public key to trust (repeatable)"},
        {"--allow-unsigned",
         "use an index whose signature is missing or does not verify (the file's SHA-256 is "
         "still checked), or install a FILE.so that no index vouches for"}},
       "0; 1 when refused (the message names the index, key id, plugin or digests); 64 for a "
       "usage error"},
      {"plugin list",
       {""},
       "Lists the installed plugins: name, version, SHA-256 and the key that signed their index.",
       {},
       ""},
      {"plugin remove",
       {"NAME"},
       "Uninstalls plugin NAME.",
       {},
       "0; 1 when NAME is not installed; 64 for a usage error"},
      {"plugin verify",
       {"[NAME]"},
       "Checks that each installed plugin (or NAME) is still the file that was installed: its "
       "SHA-256 against the one recorded at install.",
       {},
       "0 when every file is intact; 1 naming each changed or missing one"},
      {"plugin trust",
       {"PUB"},
       "Adds the Ed25519 public key in PUB (or a private key's public half) to the trusted keys "
       "($XDG_CONFIG_HOME/hydra/trusted-keys, else ~/.config/hydra/trusted-keys).",
       {},
       "0; 1 when PUB holds no Ed25519 key"},
      {"spool inspect",
       {"DIR"},
       "Prints what the disk spool of a network destination in DIR holds: records, segments, "
       "bytes, the oldest record's time, and the bytes skipped as corrupt or cut off as torn "
       "(docs/shipping.md). The spool must not be in use by its process.",
       {},
       "0; 1 when DIR cannot be opened as a spool (the message says why); 64 for a usage "
       "error"},
      {"spool replay",
       {"[--consume] DIR"},
       "Writes the records of the spool in DIR to standard output, oldest first, one a line, "
       "as its destination formatted them.",
       {{"--consume",
         "take each batch out of the spool once it was written (without: the spool is left as "
         "it is)"}},
       "0; 1 when DIR cannot be opened as a spool or the output cannot be written; 64 for a "
       "usage error"},
      {"help",
       {"[COMMAND]"},
       "Prints every command with its options; with COMMAND, that command's usage and options "
       "explained (as hydra COMMAND --help does).",
       {},
       ""},
      {"version", {""}, "Prints the version (as hydra --version does).", {}, ""},
  };
  return table;
}

constexpr std::size_t kWidth = 80;
constexpr std::string_view kHelpFlag = "-h, --help";

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
}

std::string expand(std::string_view text) {
  std::string out(text);
  replace_all(out, "{formats}", kFormatChoices);
  replace_all(out, "{levels}", kRecordLevelChoices);
  return out;
}

// Appends `first` and then `text`, wrapped at kWidth columns with later lines
// indented by `indent`. `keep_groups`: a space inside [...] or (...) does not
// break, so that a synopsis wraps between options, never inside one.
void append_wrapped(std::string& out, std::string_view first, std::string_view text,
                    std::size_t indent, bool keep_groups) {
  out += first;
  std::size_t column = first.size();
  bool line_has_word = false;
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (keep_groups && (c == '[' || c == '(')) ++depth;
    if (keep_groups && (c == ']' || c == ')')) --depth;
    if (c != ' ' || depth > 0) continue;
    const std::string_view word = text.substr(start, i - start);
    start = i + 1;
    if (word.empty()) continue;
    if (line_has_word && column + 1 + word.size() > kWidth) {
      out += '\n';
      out.append(indent, ' ');
      column = indent;
      line_has_word = false;
    }
    if (line_has_word) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_has_word = true;
  }
  out += '\n';
}

// "hydra NAME FORM" for each form: the first after `first_lead`, the others
// after `lead` (as wide), each wrapped under its own start.
void append_synopsis(std::string& out, const CommandHelp& command, std::string_view first_lead,
                     std::string_view lead) {
  for (std::size_t i = 0; i < command.forms.size(); ++i) {
    const std::string_view form = command.forms[i];
    const std::string head = std::string(i == 0 ? first_lead : lead) + "hydra " +
                             std::string(command.name) + (form.empty() ? "" : " ");
    append_wrapped(out, head, form, head.size(), true);
  }
}

// What the command does (after `lead`), each option explained, the exit
// status.
void append_details(std::string& out, const CommandHelp& command, std::string_view lead) {
  constexpr std::size_t kTextColumn = 22;  // "  --flag" and two spaces
  out += '\n';
  append_wrapped(out, lead, expand(command.summary), 0, false);
  std::vector<OptionHelp> options = command.options;
  options.push_back({kHelpFlag, "this text"});
  out += "\noptions:\n";
  for (const auto& o : options) {
    std::string head = "  " + std::string(o.flag);
    if (head.size() + 2 > kTextColumn) {  // on a line of its own
      out += head + '\n';
      head.clear();
    }
    head.resize(kTextColumn, ' ');
    append_wrapped(out, head, expand(o.text), kTextColumn, false);
  }
  if (!command.exit_status.empty()) {
    out += "\nexit status:\n";
    append_wrapped(out, "  ", command.exit_status, 2, false);
  }
}

// The commands `name` stands for: itself, or its subcommands.
std::vector<const CommandHelp*> find(std::string_view name) {
  std::vector<const CommandHelp*> found;
  for (const auto& c : commands()) {
    if (c.name == name ||
        (c.name.size() > name.size() && c.name.starts_with(name) && c.name[name.size()] == ' ')) {
      found.push_back(&c);
    }
  }
  return found;
}

std::string synopsis(std::string_view name) {
  std::string out;
  std::string_view lead = "usage: ";
  for (const CommandHelp* c : find(name)) {
    append_synopsis(out, *c, lead, "       ");
    lead = "       ";
  }
  return out;
}

}  // namespace

bool is_help_option(std::string_view arg) noexcept {
  return arg == "--help" || arg == "-h";
}

bool is_option(std::string_view arg) noexcept {
  return arg.size() > 1 && arg.front() == '-';
}

std::string overview() {
  std::string out =
      "usage: hydra COMMAND [OPTION]...\n"
      "'hydra COMMAND --help' (or 'hydra help COMMAND') explains a command's options.\n"
      "\n"
      "commands:\n";
  for (const auto& c : commands()) {
    append_synopsis(out, c, "  ", "  ");
    append_wrapped(out, "      ", expand(c.summary), 6, false);
  }
  return out;
}

std::string command_help(std::string_view command) {
  const auto found = find(command);
  if (found.empty()) return {};
  std::string out = synopsis(command);
  for (const CommandHelp* c : found) {
    // Subcommands of one command: each explained under its own name.
    append_details(out, *c, found.size() > 1 ? "hydra " + std::string(c->name) + ": " : "");
  }
  return out;
}

int print_help(std::string_view command) {
  const std::string text = command_help(command);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

int usage_error(std::string_view command, std::string_view message) {
  const std::string text =
      "hydra " + std::string(command) + ": " + std::string(message) + "\n" + synopsis(command);
  std::fwrite(text.data(), 1, text.size(), stderr);
  return kUsageError;
}

int unknown_argument(std::string_view command, std::string_view arg) {
  return usage_error(command,
                     (is_option(arg) ? "unknown option " : "unexpected argument ") + quote(arg));
}

int option_error(std::string_view command, std::string_view message) {
  std::fprintf(stderr, "hydra %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return kUsageError;
}

int command_failed(std::string_view command, std::string_view message) {
  (void)option_error(command, message);  // the same line
  return 1;
}

std::string quote(std::string_view text) {
  return "'" + detail::to_printable(text) + "'";
}

}  // namespace hydra::tools
