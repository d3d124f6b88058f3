#include "hydra/format/formatter.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>  // program_invocation_short_name (GNU)

#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/csv_formatter.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/format/gelf_formatter.hpp"
#include "hydra/format/json_formatter.hpp"
#include "hydra/format/logfmt_formatter.hpp"
#include "hydra/format/logstash_formatter.hpp"
#include "hydra/format/syslog_formatter.hpp"
#include "hydra/format/text_formatter.hpp"

namespace hydra {
namespace {

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return {};
  return name.data();
}

std::string program_name() {
  const char* name = program_invocation_short_name;
  return name != nullptr ? name : "";
}

// The options with the process's identity filled in where left empty.
FormatterOptions with_identity(const FormatterOptions& options) {
  FormatterOptions o = options;
  if (o.hostname.empty()) o.hostname = host_name();
  if (o.app_name.empty()) o.app_name = program_name();
  return o;
}

}  // namespace

bool is_format_name(std::string_view name) noexcept {
  std::string_view rest = kFormatChoices;
  while (!rest.empty()) {
    const auto comma = rest.find(", ");
    if (detail::iequals(rest.substr(0, comma), name)) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
  }
  return false;
}

std::unique_ptr<Formatter> make_formatter(std::string_view format,
                                          const FormatterOptions& options) {
  std::string name(format);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "text") return std::make_unique<TextFormatter>(options);
  if (name == "json") return std::make_unique<JsonFormatter>(options);
  if (name == "gcp_json") return std::make_unique<JsonFormatter>(options, JsonDialect::gcp);
  if (name == "logfmt") return std::make_unique<LogfmtFormatter>(options);
  if (name == "csv") return std::make_unique<CsvFormatter>(options);
  if (name == "syslog") return std::make_unique<SyslogFormatter>(with_identity(options));
  if (name == "gelf") return std::make_unique<GelfFormatter>(with_identity(options));
  if (name == "logstash") return std::make_unique<LogstashFormatter>(with_identity(options));
  throw ConfigError(fmt::format("format: '{}' is not a format (valid: {})",
                                detail::to_printable(format), kFormatChoices));
}

}  // namespace hydra
