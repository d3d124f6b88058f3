// Logstash JSON (the logstash-logback-encoder layout), one object per line:
//   {"@timestamp":"...","@version":"1","message":"...","logger_name":"hydra",
//    "level":"INFO","level_value":20000,"layer":"APP","thread_name":"1234",...,
//    "user":"alice"}
// Fields are flat; a field named like one of the format's own keys is
// written as "field_<key>".
#pragma once

#include <string>

#include "hydra/format/formatter.hpp"

namespace hydra {

class LogstashFormatter final : public Formatter {
 public:
  // Reads options.app_name (written as "app_name" when not empty).
  explicit LogstashFormatter(const FormatterOptions& options = {});

  void format(const Record& record, Buffer& out) const override;

 private:
  std::string app_name_json_;  // ,"app_name":"..." or empty
};

}  // namespace hydra
