// JSON Lines: one JSON object per record, e.g.
//   {"timestamp":"2026-11-27T10:13:12.345678Z","level":"info","layer":"APP",
//    "logger":"hydra","message":"...","fields":{"user":"alice","n":3},
//    "source":{"file":"app.cpp","line":12,"function":"main"},"thread":1234}
// (on one line; "fields" is left out when the record has none). Always valid
// UTF-8 JSON, whatever the record holds. Names are listed in docs/formats.md.
#pragma once

#include "hydra/format/formatter.hpp"

namespace hydra {

// Which names a log platform expects for the record's own parts. The record
// is the same in each; only the names of time, level and source change.
enum class JsonDialect {
  // As above (format "json").
  standard,
  // Google Cloud Logging's structured logging (format "gcp_json"): "time",
  // "severity" (DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, as the level's
  // syslog severity) beside "level", and
  // "logging.googleapis.com/sourceLocation" {"file","line","function"} with
  // the line as a string, so the agent fills the log entry's own fields.
  gcp,
};

class JsonFormatter final : public Formatter {
 public:
  explicit JsonFormatter(JsonDialect dialect = JsonDialect::standard) : dialect_(dialect) {}
  // Reads options.color and palette: when colour is on, the level's value
  // token ("info", quotes included) is wrapped in its colour, so the line is
  // the uncoloured JSON once SGR sequences are removed (as jq -C does).
  explicit JsonFormatter(const FormatterOptions& options,
                         JsonDialect dialect = JsonDialect::standard)
      : dialect_(dialect), palette_(options.color ? options.palette : Palette{}) {}

  void format(const Record& record, Buffer& out) const override;

 private:
  JsonDialect dialect_;
  Palette palette_;  // no colours when colour is off
};

}  // namespace hydra
