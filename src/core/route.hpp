// Internal: the routing table's pieces. A Route is one configured layer's
// destinations; a Destination is a sink with its own level and formatter.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hydra/core/level.hpp"
#include "hydra/format/formatter.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::detail {

struct Destination {
  std::shared_ptr<Sink> sink;
  // Shared with the sink's notice formatter (Sink::set_notice_formatter),
  // which may outlive the route.
  std::shared_ptr<const Formatter> formatter;
  Level level = Level::trace;
  bool protect = true;    // gets the protected record (when there is a protector)
  bool formatted = true;  // the sink's wants_bytes(): false, it is given none
};

struct Route {
  std::string name;  // the configured layer that serves it
  Level level = Level::info;
  std::vector<Destination> destinations;
  bool last_resort = false;  // the stderr fallback for records with no route

  int min_destination_severity() const {
    int m = severity(Level::off);
    for (const Destination& d : destinations) m = std::min(m, severity(d.level));
    return m;
  }
};

}  // namespace hydra::detail
