// Internal: turns configuration into live objects.
#pragma once

#include <memory>

#include "../core/route.hpp"
#include "hydra/config/config.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::detail {

// The sink a destination asks for (type console | file | rotating_file | null),
// or the supplied `sink`. Throws ConfigError naming the type and the valid
// choices, or the path and errno text of a file that cannot be opened.
std::shared_ptr<Sink> make_sink(const DestinationConfig& config);

// A complete destination: sink, formatter (with the colour decision made for
// that sink), level. `default_level` applies when the destination sets none.
Destination build_destination(const DestinationConfig& config);

}  // namespace hydra::detail
