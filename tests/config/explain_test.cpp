// `hydra config explain`: the effective configuration with each setting's
// source, and a non-zero exit with the validation error for a broken file.
#include <gtest/gtest.h>

#include "test_util.hpp"

#if defined(HYDRA_CLI)

namespace {

using hydra::test::run_process;
using hydra::test::TempDir;
using hydra::test::write_file;

TEST(ConfigExplain, PrintsSettingsWithTheirSources) {
  TempDir dir;
  const std::string path = dir.file("app.toml");
  write_file(path,
             "preset = \"testing\"\n"
             "name = \"shop\"\n");
  const auto r = run_process({HYDRA_CLI, "config", "explain", path}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name = \"shop\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# " + path + ":2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("default_level = \"debug\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# preset testing"), std::string::npos) << r.out;
}

TEST(ConfigExplain, BrokenFileExitsNonZeroWithTheError) {
  TempDir dir;
  const std::string path = dir.file("bad.yaml");
  write_file(path, "name: x\ndefault_level: loud\n");
  const auto r = run_process({HYDRA_CLI, "config", "explain", path}, "");
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find(path + ":2: default_level: 'loud' is not a level"), std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(ConfigExplain, PresetsAreListed) {
  const auto r = run_process({HYDRA_CLI, "config", "presets"}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("production"), std::string::npos);
  EXPECT_NE(r.out.find("bare_metal"), std::string::npos);
}

}  // namespace

#endif
