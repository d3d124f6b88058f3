// What a logger says about records its sinks could not write: metrics()
// counts them, stderr reports them, and a file says so in its own format
// once writing works again. Both modes.
#include <gtest/gtest.h>

#include <cerrno>
#include <hydra/hydra.hpp>
#include <hydra/sink/file_sink.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

class SinkLossTest : public testing::TestWithParam<hydra::LoggerMode> {};

TEST_P(SinkLossTest, MetricsCountDroppedRecordsAndTheFileGetsANoticeWhenItRecovers) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("app.jsonl");
  hydra::FileSinkOptions options;
  options.path = path;
  options.max_pending = 2000;
  auto file = std::make_shared<hydra::FileSink>(options);
  hydra::LoggerConfig cfg;
  cfg.mode = GetParam();
  cfg.name = "shop";
  cfg.layers["APP"].destinations = {hydra::to_sink(file, "json")};
  hydra::Logger log(cfg);
  auto app = log.layer("APP");

  testing::internal::CaptureStderr();
  file->inject_write_failures(1000000, ENOSPC);
  constexpr int kRecords = 100;
  for (int i = 0; i < kRecords; ++i) app.error("order {}", i);  // each one tries to write
  log.flush();
  const hydra::LoggerMetrics failing = log.metrics();
  EXPECT_GT(failing.sink_dropped_records, 0U);
  EXPECT_LT(failing.sink_dropped_records, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(failing.sink_dropped_bytes, file->dropped_bytes());
  EXPECT_EQ(hydra::test::read_file(path), "");

  file->inject_write_failures(0, 0);  // the device works again
  log.flush();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.metrics().sink_dropped_records, failing.sink_dropped_records);

  std::vector<nlohmann::json> lines;
  for (const auto& line : hydra::test::split_lines(hydra::test::read_file(path))) {
    lines.push_back(nlohmann::json::parse(line));  // every line is JSON, the notice too
  }
  ASSERT_FALSE(lines.empty());
  const std::uint64_t kept = lines.size() - 1;
  for (std::uint64_t i = 0; i < kept; ++i) {  // the oldest are kept, in order
    EXPECT_EQ(lines[i]["message"], "order " + std::to_string(i));
  }
  EXPECT_EQ(kept + failing.sink_dropped_records, static_cast<std::uint64_t>(kRecords));
  const nlohmann::json& notice = lines.back();
  EXPECT_EQ(notice["level"], "warning");
  EXPECT_EQ(notice["layer"], "APP");
  EXPECT_EQ(notice["logger"], "shop");
  EXPECT_EQ(notice["fields"]["lost_records"], failing.sink_dropped_records);
  EXPECT_EQ(notice["fields"]["lost_bytes"], failing.sink_dropped_bytes);
  EXPECT_EQ(notice["message"], "hydra: " + std::to_string(failing.sink_dropped_records) +
                                   " records (" + std::to_string(failing.sink_dropped_bytes) +
                                   " bytes) lost: No space left on device (file '" + path + "')");
  EXPECT_NE(err.find("records (" + std::to_string(failing.sink_dropped_bytes) +
                     " bytes) were lost meanwhile"),
            std::string::npos)
      << err;
}

INSTANTIATE_TEST_SUITE_P(BothModes, SinkLossTest,
                         testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const testing::TestParamInfo<hydra::LoggerMode>& info) {
                           return std::string(info.param == hydra::LoggerMode::sync ? "sync"
                                                                                    : "async");
                         });

}  // namespace
