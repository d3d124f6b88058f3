// Errors that Hydra reports by exception: configuration mistakes (a bad
// level, an unopenable path, an unknown placeholder) are found when a logger
// is built, never when a record is written.
#pragma once

#include <stdexcept>
#include <string>

namespace hydra {

// Thrown when a logger or destination configuration is invalid. The message
// names the thing at fault: the key, the value, the path and the errno text.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hydra
