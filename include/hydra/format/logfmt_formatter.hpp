// logfmt: key=value pairs, one line per record, e.g.
//   ts=2026-11-27T10:13:12.345678Z level=info layer=APP logger=hydra
//   msg="user alice logged in" user=alice source=app.cpp:12 function=main thread=1234
// (on one line). Keys are sanitised, values quoted when needed; a field named
// like one of the format's own keys is written as field_<key>.
#pragma once

#include "hydra/format/formatter.hpp"

namespace hydra {

class LogfmtFormatter final : public Formatter {
 public:
  // Reads options.color and palette: when colour is on, the level's value is
  // wrapped in its colour (level=<SGR>info<reset>).
  explicit LogfmtFormatter(const FormatterOptions& options = {})
      : palette_(options.color ? options.palette : Palette{}) {}

  void format(const Record& record, Buffer& out) const override;

 private:
  Palette palette_;  // no colours when colour is off
};

}  // namespace hydra
