// Compile-time level elimination: this translation unit is built with
// HYDRA_ACTIVE_LEVEL at WARNING, so debug and info statements vanish.
#define HYDRA_ACTIVE_LEVEL HYDRA_LEVEL_WARNING
#include <gtest/gtest.h>

#include <hydra/hydra.hpp>

#include "core/recording_sink.hpp"

namespace {

TEST(Macros, LevelsBelowActiveLevelCompileToNothing) {
  auto sink = std::make_shared<hydra::test::RecordingSink>();
  hydra::LoggerConfig cfg;
  cfg.default_level = hydra::Level::trace;
  cfg.layers["DEFAULT"].destinations = {hydra::to_sink(sink)};
  hydra::Logger log(cfg);
  int evaluated = 0;
  HYDRA_DEBUG(log, "gone {}", ++evaluated);
  HYDRA_INFO(log, "gone too {}", ++evaluated);
  HYDRA_WARNING(log, "kept {}", ++evaluated);
  HYDRA_SECURITY(log, "kept, security is warning severity");
  EXPECT_EQ(evaluated, 1);
  // runtime calls are unaffected by the compile-time level
  log.info("function call still logs");
  ASSERT_EQ(sink->size(), 3u);  // warning, security (via DEFAULT), info
}

}  // namespace
