// Null sink: takes records and throws them away (benchmarks, disabled outputs).
#pragma once

#include "hydra/sink/sink.hpp"

namespace hydra {

class NullSink final : public Sink {
 public:
  void write(const Record& /*record*/, std::string_view /*bytes*/) override {}
  void flush() override {}
};

}  // namespace hydra
