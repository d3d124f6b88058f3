// GELF 1.1 (Graylog), one JSON object per line, e.g.
//   {"version":"1.1","host":"web1","short_message":"...","timestamp":1795774392.345678,
//    "level":6,"_layer":"APP","_logger":"hydra",...,"_user":"alice"}
// Field names are sanitised to [A-Za-z0-9_.-]; a field that would clash with
// a name of the format's own, or be the forbidden "_id", is written as
// "_field_<key>". Booleans and null go as strings (GELF values are strings or
// numbers).
#pragma once

#include <string>

#include "hydra/format/formatter.hpp"

namespace hydra {

class GelfFormatter final : public Formatter {
 public:
  // Reads options.hostname and app_name (as given: make_formatter fills them
  // with gethostname() and the program name when empty).
  explicit GelfFormatter(const FormatterOptions& options);

  void format(const Record& record, Buffer& out) const override;

 private:
  std::string host_json_;      // "host":"..." ready to write
  std::string app_name_json_;  // ,"_app_name":"..." or empty
};

}  // namespace hydra
