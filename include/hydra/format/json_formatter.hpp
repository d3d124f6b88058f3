// JSON Lines: one JSON object per record, e.g.
//   {"timestamp":"2026-11-27T10:13:12.345678Z","level":"info","layer":"APP",
//    "logger":"hydra","message":"...","fields":{"user":"alice","n":3},
//    "source":{"file":"app.cpp","line":12,"function":"main"},"thread":1234}
// (on one line; "fields" is left out when the record has none). Always valid
// UTF-8 JSON, whatever the record holds. Names are listed in docs/formats.md.
#pragma once

#include "hydra/format/formatter.hpp"

namespace hydra {

class JsonFormatter final : public Formatter {
 public:
  void format(const Record& record, Buffer& out) const override;
};

}  // namespace hydra
