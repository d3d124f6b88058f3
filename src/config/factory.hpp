// Internal: turns configuration into live objects.
#pragma once

#include <memory>
#include <string>

#include "../core/route.hpp"
#include "hydra/config/config.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::detail {

// The line each file (or console stream) of a destination starts with: its
// formatter's header() — kCsvHeader for csv with csv_header, whatever a
// formatter of the caller's own says — or "" for none.
std::string header_of(const DestinationConfig& config);

// The sink a destination asks for (type console | file | rotating_file | null),
// or the supplied `sink`. Throws ConfigError naming the type and the valid
// choices, or the path and errno text of a file that cannot be opened.
std::shared_ptr<Sink> make_sink(const DestinationConfig& config);

// A complete destination: sink, formatter (with the colour decision made for
// that sink), level. `default_level` applies when the destination sets none.
Destination build_destination(const DestinationConfig& config);

}  // namespace hydra::detail
