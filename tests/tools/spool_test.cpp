// `hydra spool inspect|replay`, run as a real process over a spool made
// with the library (what a network destination leaves when its server is
// down): the counts, the records in order, --consume, and the refusals.
#include <gtest/gtest.h>

#include <string>

#include <hydra/net/spool.hpp>

#include "test_util.hpp"

namespace {

hydra::test::ProcessResult hydra_spool(std::vector<std::string> args) {
  args.insert(args.begin(), {HYDRA_CLI, "spool"});
  return hydra::test::run_process(args, "");
}

TEST(HydraSpool, InspectCountsAndReplayWritesTheRecordsInOrder) {
  hydra::test::TempDir dir;
  const std::string spool_dir = dir.file("spool");
  {
    hydra::net::SpoolOptions o;
    o.dir = spool_dir;
    hydra::net::Spool spool(o);
    // 2026-12-06T12:00:00Z and on.
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(spool.append(static_cast<std::uint64_t>(i), 1'796'558'400'000'000'000 + i * 1000,
                             "<14>1 - h app - - - record " + std::to_string(i) + "\n"),
                hydra::net::Spool::Append::ok);
    }
  }
  auto r = hydra_spool({"inspect", spool_dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::size_t record = std::string("<14>1 - h app - - - record 0\n").size();
  // A 16-byte segment header, and 36 bytes besides each payload (docs/shipping.md).
  EXPECT_EQ(r.out, spool_dir + ": 3 records in 1 segment, " +
                       std::to_string(16 + 3 * (36 + record)) +
                       " bytes\noldest record: 2026-12-06T12:00:00.000000Z\n"
                       "corrupt bytes skipped: 0\ntorn bytes cut: 0\n");

  const std::string expected =
      "<14>1 - h app - - - record 0\n<14>1 - h app - - - record 1\n<14>1 - h app - - - record 2\n";
  r = hydra_spool({"replay", spool_dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
  r = hydra_spool({"replay", spool_dir});  // left as it was
  EXPECT_EQ(r.out, expected);
  r = hydra_spool({"replay", "--consume", spool_dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
  r = hydra_spool({"inspect", spool_dir});
  EXPECT_TRUE(r.out.starts_with(spool_dir + ": 0 records in 0 segments, 0 bytes\n")) << r.out;
}

TEST(HydraSpool, ASpoolInUseOrUsageErrorsAreRefused) {
  hydra::test::TempDir dir;
  hydra::net::SpoolOptions o;
  o.dir = dir.file("spool");
  hydra::net::Spool in_use(o);
  auto r = hydra_spool({"inspect", o.dir.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "hydra spool inspect: spool '" + o.dir.string() + "': in use by another process\n");
  r = hydra_spool({"inspect"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_TRUE(r.err.starts_with("hydra spool inspect: which spool directory?")) << r.err;
  r = hydra_spool({"inspect", "--consume", "x"});
  EXPECT_EQ(r.exit_code, 64);
  r = hydra_spool({"drain", "x"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_TRUE(r.err.starts_with("hydra spool: unknown subcommand 'drain' (valid: inspect, replay)"))
      << r.err;
}

}  // namespace
