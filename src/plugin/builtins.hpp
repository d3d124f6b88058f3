// Internal: the plugin types Hydra registers in Registry::global() from the
// start: the analytics `rates` and `security_bursts` (src/plugin/analytics/).
#pragma once

#include "hydra/plugin/registry.hpp"

namespace hydra::plugin {

// Registers `rates` and `security_bursts` (origin "built-in") with their
// option specs and factories.
void register_builtin_analytics(Registry& registry);

namespace detail {

// The built-in analytics and whatever else ships compiled in
// (Registry::global() calls it once).
void register_builtins(Registry& registry);

}  // namespace detail
}  // namespace hydra::plugin
