// Internal to hydra::config: the one format-neutral representation that every
// parser produces (a JSON value plus where each key was written), and the
// operations on it that do not care which format it came from.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "hydra/config/config.hpp"
#include "hydra/config/environment.hpp"
#include "hydra/config/presets.hpp"

namespace hydra::config_detail {

using Json = nlohmann::json;

// Where a value was written: a file and its line (0: unknown), or a preset.
struct Origin {
  std::string source;
  int line = 0;
  std::string where() const { return line > 0 ? source + ":" + std::to_string(line) : source; }
};

// A document: the value (an object at the top) and, by key path
// ("layers.APP.destinations[1].max_size"), where each key was written.
struct Tree {
  Json value = Json::object();
  std::map<std::string, Origin, std::less<>> origins;
  std::string source;  // the file, for keys without an origin of their own

  // "file:line" for the key at `path`, or of its nearest ancestor that has one.
  std::string where(std::string_view path) const;
};

std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

// A value as it appears in a message: strings in single quotes, others as JSON
// (shortened when long).
std::string describe(const Json& value);

// Throws ConfigError("where: path: what").
[[noreturn]] void fail(const Tree& tree, std::string_view path, const std::string& what);

// Bounds on a document, whatever its format. A configuration is small; a
// document that is not (a YAML alias bomb, a runaway generator, the wrong
// file) must fail at once, at start-up and on hot reload alike.
inline constexpr std::size_t kMaxDocumentBytes = std::size_t{1} << 20;
// Values (tables, lists, scalars), YAML aliases counted each time they are used.
inline constexpr std::size_t kMaxDocumentValues = 100'000;
// Tables and lists inside one another.
inline constexpr std::size_t kMaxDocumentDepth = 64;

// Counts the values a parser turns into a Tree, refusing a document with
// more than kMaxDocumentValues or nested deeper than kMaxDocumentDepth
// (ConfigError naming the file, the line and the key path).
class DocumentBudget {
 public:
  explicit DocumentBudget(const Tree& tree) : tree_(tree) {}
  // One value at `path`, `depth` tables and lists deep (the top level is 0).
  // Its origin is recorded before: the error gives its line.
  void count(std::string_view path, std::size_t depth);

 private:
  const Tree& tree_;
  std::size_t values_ = 0;
};

// Throws ConfigError("source:line: path: duplicate key (first at line N)")
// for a key written twice in one table (TOML's parser refuses it itself).
[[noreturn]] void duplicate_key(const Tree& tree, std::string_view path, int line);

// Parsers: text → Tree. Parse errors become ConfigError with source and line.
Tree parse_toml(std::string_view text, const std::string& source);
Tree parse_yaml(std::string_view text, const std::string& source);
Tree parse_json(std::string_view text, const std::string& source);

// Lays `overlay` over `base`: objects merge key by key, anything else
// (lists included) replaces. Origins follow the values.
void merge(Tree& base, Tree overlay);

// Replaces ${VAR} and ${VAR:-default} in every string value ($$ is a literal
// $). An unset variable without a default is a ConfigError naming it and the key.
void interpolate(Tree& tree, const Env& env);

// Rewrites what the Python Hydra-Logger's schema writes otherwise into this
// one (python_schema.cpp): its format names (plain-text, json-lines,
// colored) and its rotating `file` (with max_size or backup_count).
void apply_python_schema(Tree& tree);

// The strict walk: Tree → LoggerConfig. Keys `extends`, `preset` and `log_dir`
// must have been resolved (removed) before. The `compliance` table is applied
// last, over everything else, unless `with_compliance` is false: then
// resolve_config() applies it (apply_compliance_table) after the environment.
// `detectors`, when given, gets the file's [[detectors]] as `hydra config
// explain` lists them, which the built protector keeps no record of: an array
// with, per entry, its `type`, the `token` its instance writes, its `action`
// and every option of its type (defaults filled in), values as in the file's
// [[filters]]. Left as it is when the file has no [[detectors]].
LoggerConfig to_config(const Tree& tree, bool with_compliance = true, Json* detectors = nullptr);
// The tree's `compliance` table, if it has one, laid over `config` (the
// protect module's profiles); ConfigError naming the key for a bad table, and
// when built without hydra::protect.
void apply_compliance_table(const Tree& tree, LoggerConfig& config);
// HYDRA_LOG_COMPLIANCE=gdpr,pci: sets compliance.profiles in `tree` (the
// rest of the table, key material included, stays the file's), with the
// variable as its origin.
void compliance_from_environment(Tree& tree, const Env& env);
// The redacting protector with the default detectors (`redact = true`,
// HYDRA_LOG_REDACT_SENSITIVE); ConfigError when built without hydra::protect.
std::shared_ptr<const Protector> default_protector();
// LoggerConfig → the same shape of JSON, with every setting present.
Json to_json(const LoggerConfig& config);

// Every leaf of `value` by key path, rendered as JSON text.
void flatten(const Json& value, const std::string& path, std::map<std::string, std::string>& out);

}  // namespace hydra::config_detail
