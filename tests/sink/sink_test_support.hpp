// Helpers for the sink tests: hand-built records and counting (directories
// and files: test_util.hpp).
#pragma once

#include <string>

#include "hydra/core/record.hpp"
#include "test_util.hpp"

namespace hydra::test {

inline Record record_at(Level level = Level::info) {
  Record r;
  r.level = level;
  r.message = "m";
  return r;
}

inline std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace hydra::test
