#include "builtins.hpp"

namespace hydra::plugin::detail {

void register_builtins(Registry& /*registry*/) {
  // The built-in analytics (rates, security_bursts) register here.
}

}  // namespace hydra::plugin::detail
