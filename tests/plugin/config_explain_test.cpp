// `hydra config explain` on a file whose plugins provide a detector: each
// [[detectors]] entry is listed with its type, token, action and options,
// each with where it came from.
#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"

#if defined(HYDRA_PLUGIN_TEST_WITH_CONFIG)

namespace {

TEST(PluginConfigExplain, ListsEachDetectorWithItsOrigins) {
  hydra::test::TempDir dir;
  const std::string path = dir.file("app.toml");
  hydra::test::write_file(path, "plugins = [\"" + std::string(HYDRA_PLUGIN_FIXTURES) +
                                    "/sdk_extra.so\"]\n"
                                    "[[detectors]]\n"
                                    "type = \"extra_digits\"\n"
                                    "action = \"mask\"\n");
  const auto r = hydra::test::run_process({HYDRA_CLI, "config", "explain", path}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // "key = value", padded, then "# origin".
  const auto listed = [&r](const std::string& setting, const std::string& origin) {
    const auto at = r.out.find("\n" + setting + " ");
    if (at == std::string::npos) return false;
    const auto end = r.out.find('\n', at + 1);
    return r.out.substr(at + 1, end - at - 1).ends_with("# " + origin);
  };
  EXPECT_TRUE(listed("detectors[0].type = \"extra_digits\"", path + ":3")) << r.out;
  EXPECT_TRUE(listed("detectors[0].token = \"DIGITS\"", path + ":3")) << r.out;
  EXPECT_TRUE(listed("detectors[0].action = \"mask\"", path + ":4")) << r.out;
  EXPECT_TRUE(listed("detectors[0].min_digits = \"6\"", "default")) << r.out;
  EXPECT_TRUE(listed("redact = true", path + ":2")) << r.out;
}

}  // namespace

#endif
