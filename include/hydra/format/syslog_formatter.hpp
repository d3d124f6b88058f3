// Syslog (RFC 5424), one line per record:
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [hydra@32473 ...] MSG
// PRI = facility * 8 + syslog_severity(level), TIMESTAMP in UTC with
// microseconds, PROCID the pid, MSGID the layer; the structured data holds the
// logger, source, thread and fields. Header fields are cut to the RFC's
// lengths and printable ASCII ("-" when empty); MSG is text-escaped.
#pragma once

#include <string>

#include "hydra/format/formatter.hpp"

namespace hydra {

// The SD-ID of the structured data element (32473 is the enterprise number
// RFC 5612 reserves for documentation and examples).
inline constexpr std::string_view kSyslogSdId = "hydra@32473";

class SyslogFormatter final : public Formatter {
 public:
  // Reads options.hostname, app_name (as given: make_formatter fills them
  // with gethostname() and the program name when empty) and syslog_facility.
  // Throws ConfigError when the facility is not 0..23. Reads options.color
  // and palette: when colour is on, the PRI token (<14>, which carries the
  // severity) is wrapped in the level's colour.
  explicit SyslogFormatter(const FormatterOptions& options);

  void format(const Record& record, Buffer& out) const override;

 private:
  int facility_;
  std::string hostname_;  // sanitised and cut, ready to write
  std::string app_name_;
  Palette palette_;  // no colours when colour is off
};

}  // namespace hydra
