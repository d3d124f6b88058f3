// An analytics plugin sees every record after the protect stage (so it never
// holds what redaction removes), read-only, in both modes. It keeps state, is
// ticked on an interval (LoggerConfig::analytics_interval) by the logger's
// housekeeping thread, may write records of its own from tick(), and answers
// insights() with a JSON snapshot (Logger::insights() gathers them).
//
// Threads: observe() runs on the threads that run the pipeline (every logging
// thread in sync mode, the backend in async mode), concurrently with tick()
// and insights(): guard the state (a mutex, atomics).
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "hydra/core/level.hpp"
#include "hydra/core/record.hpp"
#include "hydra/plugin/plugin.hpp"

namespace hydra::plugin {

// Writes records into the logger's pipeline from tick(). They pass through
// the filters, the protect stage and the analytics (this one included) like
// any other record; the logger adds the field plugin=<type> to each.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void emit(Level level, std::string_view layer, std::string_view message,
                    std::span<const Field> fields = {}) = 0;
};

class Analytics : public Plugin {
 public:
  virtual void observe(const Record& record) = 0;
  virtual void tick(std::chrono::system_clock::time_point /*now*/, Emitter& /*emit*/) {}
  // A JSON object.
  virtual std::string insights() const = 0;
};

}  // namespace hydra::plugin
