// Helpers for the config tests: write a configuration file, expect a
// ConfigError whose message holds given fragments.
#pragma once

#include <gtest/gtest.h>

#include <hydra/config/loader.hpp>
#include <hydra/core/error.hpp>
#include <initializer_list>
#include <string>

#include "test_util.hpp"

namespace hydra::test {

inline void expect_mentions(const std::string& message,
                            std::initializer_list<std::string> fragments) {
  ASSERT_FALSE(message.empty()) << "no ConfigError was thrown";
  for (const auto& f : fragments) {
    EXPECT_NE(message.find(f), std::string::npos) << "'" << f << "' missing in: " << message;
  }
}

// Loads `text` written to `name` in `dir`.
inline LoggerConfig load_text(const TempDir& dir, const std::string& name, const std::string& text,
                              const Env& env = env_from_map({})) {
  write_file(dir.file(name), text);
  return load_config(dir.file(name), env);
}

// The error of loading `text` written to `name` in `dir`.
inline std::string load_error(const TempDir& dir, const std::string& name, const std::string& text,
                              const Env& env = env_from_map({})) {
  write_file(dir.file(name), text);
  return config_error_of([&] { load_config(dir.file(name), env); });
}

}  // namespace hydra::test
