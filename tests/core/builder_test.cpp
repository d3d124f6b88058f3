// LoggerBuilder: the fluent form of LoggerConfig.
#include <gtest/gtest.h>

#include <hydra/hydra.hpp>
#include <string>

#include "core/recording_sink.hpp"
#include "test_util.hpp"

namespace {

using hydra::Level;
using hydra::test::RecordingSink;

TEST(Builder, WritesTheSameConfigurationAsTheStructs) {
  const hydra::LoggerConfig built = hydra::LoggerBuilder("shop")
                                        .async()
                                        .default_level(Level::warning)
                                        .default_layer("WEB")
                                        .crash_handler()
                                        .static_field("service", "shop")
                                        .layer("APP", Level::debug)
                                        .console("json", hydra::ColorMode::never)
                                        .file("app.log")
                                        .with_level(Level::error)
                                        .with_format("logfmt")
                                        .layer("SECURITY")
                                        .rotating_file("sec.log", 1024, 3, "json")
                                        .with_protect(false)
                                        .config();
  EXPECT_EQ(built.name, "shop");
  EXPECT_EQ(built.mode, hydra::LoggerMode::async);
  EXPECT_EQ(built.default_level, Level::warning);
  EXPECT_EQ(built.default_layer, "WEB");
  EXPECT_TRUE(built.crash_handler);
  ASSERT_EQ(built.static_fields.size(), 1u);
  EXPECT_EQ(built.static_fields[0].first, "service");

  const hydra::LayerConfig& app = built.layers.at("APP");
  EXPECT_EQ(app.level, Level::debug);
  ASSERT_EQ(app.destinations.size(), 2u);
  EXPECT_EQ(app.destinations[0].type, "console");
  EXPECT_EQ(app.destinations[0].format, "json");
  EXPECT_EQ(app.destinations[0].color_mode, hydra::ColorMode::never);
  EXPECT_FALSE(app.destinations[0].level.has_value());
  EXPECT_EQ(app.destinations[1].type, "file");
  EXPECT_EQ(app.destinations[1].path, "app.log");
  EXPECT_EQ(app.destinations[1].level, Level::error);
  EXPECT_EQ(app.destinations[1].format, "logfmt");

  const hydra::LayerConfig& sec = built.layers.at("SECURITY");
  EXPECT_FALSE(sec.level.has_value());
  ASSERT_EQ(sec.destinations.size(), 1u);
  EXPECT_EQ(sec.destinations[0].type, "rotating_file");
  EXPECT_EQ(sec.destinations[0].max_size, 1024u);
  EXPECT_EQ(sec.destinations[0].backup_count, 3);
  EXPECT_EQ(sec.destinations[0].protect, false);
}

TEST(Builder, BuildsAWorkingLogger) {
  auto app = std::make_shared<RecordingSink>();
  auto errors = std::make_shared<RecordingSink>();
  auto log = hydra::LoggerBuilder("built")
                 .layer("APP", Level::debug)
                 .sink(app)
                 .sink(errors)
                 .with_level(Level::error)
                 .build();
  log->debug("d {}", 1);
  log->error("e {}", 2);
  log->flush();
  ASSERT_EQ(app->size(), 2u);
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ(errors->records()[0].message, "e 2");
  EXPECT_EQ(errors->records()[0].logger, "built");
}

TEST(Builder, DestinationsWithoutALayerGoToTheDefaultLayer) {
  auto sink = std::make_shared<RecordingSink>();
  const hydra::LoggerConfig c = hydra::LoggerBuilder().default_layer("MAIN").sink(sink).config();
  ASSERT_EQ(c.layers.count("MAIN"), 1u);
  EXPECT_EQ(c.layers.at("MAIN").destinations.size(), 1u);
}

TEST(Builder, AModifierWithoutADestinationNamesTheCall) {
  hydra::LoggerBuilder b;
  b.layer("APP");
  try {
    b.with_level(Level::error);
    FAIL() << "with_level without a destination was accepted";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("with_level: no destination"), std::string::npos)
        << e.what();
  }
}

TEST(Builder, BuildReportsConfigurationErrors) {
  hydra::LoggerBuilder b;
  b.layer("APP").file("/dev/null/app.log");
  try {
    (void)b.build();
    FAIL() << "an unopenable file was accepted";
  } catch (const hydra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/null/app.log"), std::string::npos) << e.what();
  }
}

}  // namespace
