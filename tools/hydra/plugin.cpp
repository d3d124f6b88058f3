// hydra plugin: plugin indexes for publishers, installed plugins for users.
//   hydra plugin index build DIR      an index of the *.so files in DIR
//   hydra plugin index sign --key K   its detached Ed25519 signature
//   hydra plugin search|info          what an index offers
//   hydra plugin install NAME         from a signed index into the user's plugin directory
//   hydra plugin list|remove|verify   what is installed
//   hydra plugin trust PUB.pem        adds a publisher's key to the trusted keys
// The format, the trust rules and the messages: docs/plugin-index.md.
//
// Exit codes: 0 done; 1 refused or failed (an unsigned, untrusted or altered
// index, a digest mismatch, a plugin not found; the message names the file,
// the plugin, the key id or the digests); 64 usage.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <hydra/plugin/download.hpp>
#include <hydra/plugin/index.hpp>
#include <hydra/plugin/installed.hpp>
#include <hydra/plugin/loader.hpp>
#include <hydra/plugin/signature.hpp>

#include "commands.hpp"
#include "help.hpp"

namespace hydra::tools {
namespace {

namespace fs = std::filesystem;
using plugin::PluginError;

// The options of every subcommand; each takes a few of them.
struct Parsed {
  std::vector<std::string> operands;
  std::vector<fs::path> keys;  // --key, repeatable
  std::optional<std::string> index, out, publisher, base_url, ca_file;
  bool allow_unsigned = false;
  bool help = false;  // -h or --help stood where an option may
};

// Parses `args` for subcommand `name`, which takes the options `takes` and
// `min`..`max` operands. Returns an error message, or nothing.
std::optional<std::string> parse(Args args, const std::vector<std::string_view>& takes,
                                 std::size_t min, std::size_t max, Parsed& p) {
  const auto takes_option = [&](std::string_view opt) {
    return std::find(takes.begin(), takes.end(), opt) != takes.end();
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (is_help_option(arg)) {
      p.help = true;
      return std::nullopt;
    }
    if (!is_option(arg)) {
      p.operands.emplace_back(arg);
      continue;
    }
    if (!takes_option(arg)) return "unknown option " + quote(arg);
    if (arg == "--allow-unsigned") {
      p.allow_unsigned = true;
      continue;
    }
    if (i + 1 >= args.size()) return "option " + quote(arg) + " needs a value";
    const std::string value(args[++i]);
    if (arg == "--key") {
      p.keys.emplace_back(value);
    } else {
      std::optional<std::string>& slot = arg == "--index"       ? p.index
                                         : arg == "--out"       ? p.out
                                         : arg == "--publisher" ? p.publisher
                                         : arg == "--ca-file"   ? p.ca_file
                                                                : p.base_url;
      if (slot) return "option " + quote(arg) + " given twice";
      slot = value;
    }
  }
  if (p.operands.size() < min) return "missing operand";
  if (p.operands.size() > max) return "unexpected argument " + quote(p.operands[max]);
  return std::nullopt;
}

std::string index_location(const Parsed& p) {
  return p.index ? *p.index : plugin::default_index();
}

plugin::DownloadOptions download_options(const Parsed& p) {
  plugin::DownloadOptions options;
  if (p.ca_file) options.ca_file = *p.ca_file;
  return options;
}

// The index for reading (search, info): used even when it does not verify,
// with a warning, since nothing is installed from it.
plugin::OpenedIndex open_for_reading(std::string_view command, const Parsed& p) {
  const auto keys = plugin::trusted_keys(p.keys);
  plugin::OpenedIndex opened =
      plugin::open_index(index_location(p), keys, true, download_options(p));
  if (!opened.signer) {
    std::fprintf(stderr, "hydra %.*s: warning: %s\n", static_cast<int>(command.size()),
                 command.data(), opened.problem.c_str());
  }
  return opened;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

// hydra plugin index build DIR [--out FILE] [--publisher NAME] [--base-url URL]
int index_build(const Parsed& p) {
  const fs::path dir = p.operands.front();
  const fs::path out = p.out ? fs::path(*p.out) : dir / "index.json";
  plugin::IndexBuildOptions options;
  if (p.publisher) options.publisher = *p.publisher;
  if (p.base_url) {
    if (!p.base_url->starts_with("https://")) {
      return option_error("plugin index build",
                          "option '--base-url': " + quote(*p.base_url) + " is not an https URL");
    }
    options.base_url = *p.base_url;
  }
  options.index_dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  const plugin::PluginIndex index = plugin::build_index(dir, options);
  plugin::write_index(out, index);
  fmt::print("{}: {} plugin{} (sign it: hydra plugin index sign --key KEY.pem {})\n", out.string(),
             index.plugins.size(), index.plugins.size() == 1 ? "" : "s", out.string());
  return 0;
}

// hydra plugin index sign --key K INDEX
int index_sign(const Parsed& p) {
  if (p.keys.size() != 1) return usage_error("plugin index sign", "give one --key PRIVATE.pem");
  const fs::path file = p.operands.front();
  const std::string key_id = plugin::sign_index(file, p.keys.front());
  fmt::print("{}: signed with key id {}\n", plugin::signature_path(file).string(), key_id);
  return 0;
}

// hydra plugin search TERM
int search(const Parsed& p) {
  const auto opened = open_for_reading("plugin search", p);
  const auto found = opened.index.search(p.operands.front());
  if (found.empty())
    return command_failed("plugin search", "no plugin matches " + quote(p.operands.front()));
  std::size_t width = 0;
  for (const auto* e : found) width = std::max(width, e->name.size() + 1 + e->version.size());
  for (const auto* e : found) {
    fmt::print("{:<{}}  {} [{}]\n", e->name + " " + e->version, width, e->description,
               join(e->kinds));
  }
  return 0;
}

// hydra plugin info NAME
int info(const Parsed& p) {
  const auto opened = open_for_reading("plugin info", p);
  const plugin::IndexEntry* e = opened.index.find(p.operands.front());
  if (e == nullptr) {
    return command_failed("plugin info", "index '" + opened.location + "' has no plugin " +
                                             quote(p.operands.front()));
  }
  fmt::print("name:        {}\nversion:     {}\ndescription: {}\nkinds:       {}\n", e->name,
             e->version, e->description, join(e->kinds));
  fmt::print(
      "abi:         {}\nsha256:      {}\nlocation:    {}\npublisher:   {}\nkey id:      {}\n",
      e->abi, e->sha256, e->location, e->publisher, e->key_id);
  if (opened.signer) {
    fmt::print("signature:   verified with trusted key {} ({})\n", opened.signer->key_id,
               opened.signer->origin.string());
  } else {
    fmt::print("signature:   NOT verified\n");
  }
  return 0;
}

// hydra plugin install NAME|FILE.so [--index F] [--key PUB]... [--allow-unsigned]
int install(const Parsed& p) {
  const std::string& what = p.operands.front();
  const fs::path dir = plugin::user_plugin_dir();
  plugin::InstalledPlugin installed;
  if (plugin::is_url(what)) {
    return command_failed("plugin install",
                          "'" + what +
                              "' is a URL; plugins are downloaded only through a signed "
                              "index that lists them (--index URL, then the name)");
  }
  if (what.find('/') != std::string::npos || what.ends_with(".so")) {
    if (!p.allow_unsigned) {
      return command_failed("plugin install",
                            "'" + what +
                                "' is a file that no signed index vouches for; refusing "
                                "it (--allow-unsigned installs it anyway)");
    }
    installed = plugin::install_plugin_file(what, dir);
  } else {
    const auto keys = plugin::trusted_keys(p.keys);
    const auto opened =
        plugin::open_index(index_location(p), keys, p.allow_unsigned, download_options(p));
    if (!opened.signer) {
      std::fprintf(stderr,
                   "hydra plugin install: warning: %s; installing anyway "
                   "(--allow-unsigned)\n",
                   opened.problem.c_str());
    }
    installed = plugin::install_plugin(opened, what, dir, download_options(p));
  }
  fmt::print(
      "installed {} {} to {}{}\n", installed.name, installed.version,
      (dir / installed.file).string(),
      installed.key_id.empty() ? " (unverified)" : " (signed by key id " + installed.key_id + ")");
  return 0;
}

// hydra plugin list
int list(const Parsed&) {
  const fs::path dir = plugin::user_plugin_dir();
  const auto plugins = plugin::installed_plugins(dir);
  if (plugins.empty()) {
    fmt::print("no plugins installed in {}\n", dir.string());
    return 0;
  }
  std::size_t name_width = 0, version_width = 0;
  for (const auto& p : plugins) {
    name_width = std::max(name_width, p.name.size());
    version_width = std::max(version_width, p.version.size());
  }
  for (const auto& p : plugins) {
    fmt::print("{:<{}}  {:<{}}  {}  {}\n", p.name, name_width, p.version, version_width, p.sha256,
               p.key_id.empty() ? "unverified" : "key " + p.key_id);
  }
  return 0;
}

// hydra plugin remove NAME
int remove(const Parsed& p) {
  const fs::path dir = plugin::user_plugin_dir();
  plugin::remove_plugin(p.operands.front(), dir);
  fmt::print("removed {} from {}\n", p.operands.front(), dir.string());
  return 0;
}

// hydra plugin verify [NAME]
int verify(const Parsed& p) {
  const fs::path dir = plugin::user_plugin_dir();
  const auto checks =
      plugin::verify_installed(dir, p.operands.empty() ? std::string() : p.operands.front());
  int bad = 0;
  for (const auto& c : checks) {
    if (c.problem.empty()) {
      fmt::print("ok       {} {}\n", c.plugin.name, c.plugin.version);
    } else {
      ++bad;
      fmt::print("CHANGED  {} {}: {}\n", c.plugin.name, c.plugin.version, c.problem);
    }
  }
  if (checks.empty()) fmt::print("no plugins installed in {}\n", dir.string());
  if (bad > 0) {
    return command_failed("plugin verify",
                          fmt::format("{} of {} installed plugin{} changed", bad, checks.size(),
                                      checks.size() == 1 ? "" : "s"));
  }
  return 0;
}

// hydra plugin trust PUB.pem
int trust(const Parsed& p) {
  const plugin::PublicKey key = plugin::trust_key(p.operands.front());
  fmt::print("trusted key id {} ({})\n", key.key_id, key.origin.string());
  return 0;
}

struct Subcommand {
  std::string_view name;  // after "plugin "
  std::vector<std::string_view> options;
  std::size_t min_operands, max_operands;
  int (*run)(const Parsed&);
};

const Subcommand kSubcommands[] = {
    {"index build", {"--out", "--publisher", "--base-url"}, 1, 1, index_build},
    {"index sign", {"--key"}, 1, 1, index_sign},
    {"search", {"--index", "--key", "--ca-file"}, 1, 1, search},
    {"info", {"--index", "--key", "--ca-file"}, 1, 1, info},
    {"install", {"--index", "--key", "--ca-file", "--allow-unsigned"}, 1, 1, install},
    {"list", {}, 0, 0, list},
    {"remove", {}, 1, 1, remove},
    {"verify", {}, 0, 1, verify},
    {"trust", {}, 1, 1, trust},
};

}  // namespace

int run_plugin(Args args) {
  if (args.empty() || is_help_option(args.front()) || args.front() == "help") {
    if (args.empty()) return usage_error("plugin", "which subcommand?");
    return print_help("plugin");
  }
  std::string name(args.front());
  Args rest = args.subspan(1);
  if (name == "check") return plugin_check(rest);  // the conformance kit: plugin_check.cpp
  if (name == "index") {
    if (rest.empty()) return usage_error("plugin index", "build or sign?");
    if (is_help_option(rest.front()) || rest.front() == "help") return print_help("plugin index");
    name += " " + std::string(rest.front());
    rest = rest.subspan(1);
  }
  const auto sub = std::find_if(std::begin(kSubcommands), std::end(kSubcommands),
                                [&](const Subcommand& s) { return s.name == name; });
  const std::string command = "plugin " + name;
  if (sub == std::end(kSubcommands)) {
    const bool in_index = name.starts_with("index ");
    return usage_error(in_index ? "plugin index" : "plugin",
                       "unknown subcommand " + quote(in_index ? name.substr(6) : name) +
                           (in_index ? " (valid: build, sign)"
                                     : " (valid: check, index, search, info, install, list, "
                                       "remove, verify, trust)"));
  }
  Parsed parsed;
  if (const auto error = parse(rest, sub->options, sub->min_operands, sub->max_operands, parsed)) {
    return usage_error(command, *error);
  }
  if (parsed.help) return print_help(command);
  try {
    return sub->run(parsed);
  } catch (const ConfigError& e) {
    return command_failed(command, e.what());
  }
}

}  // namespace hydra::tools
