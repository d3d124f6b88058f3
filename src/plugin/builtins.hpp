// Internal: the plugin types Hydra registers in Registry::global() from the
// start.
#pragma once

#include "hydra/plugin/registry.hpp"

namespace hydra::plugin::detail {

// The built-in analytics (`rates`, `security_bursts`) and whatever else
// ships compiled in.
void register_builtins(Registry& registry);

}  // namespace hydra::plugin::detail
