// Internal: a layer name as callers see it. Not part of the public API.
#pragma once

#include <atomic>
#include <string>

#include "hydra/core/level.hpp"

namespace hydra::detail {

struct Route;  // a configured layer's destinations (src/core/route.hpp)

struct LayerSlot {
  std::string name;
  // The layer's own level, changed by Logger::set_level.
  std::atomic<Level> level{Level::info};
  // The severity a record needs to reach any destination: the larger of the
  // layer's level and the lowest destination level. The one load on the
  // fast path.
  std::atomic<int> threshold{0};
  // The default layer's threshold is also kept here, in the Logger object's
  // own cache line (written wherever `threshold` is), so that a call on the
  // default layer reads one line fewer.
  std::atomic<int>* threshold_copy = nullptr;
  // Where records of this layer go; never null. Routes are immutable and live
  // as long as the logger.
  std::atomic<const Route*> route{nullptr};
};

}  // namespace hydra::detail
