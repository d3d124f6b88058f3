#include <gtest/gtest.h>

#include <hydra/hydra.hpp>
#include <string>

namespace {

using hydra::detail::shape_of;

// The shape of a template is known at compile time.
static_assert(shape_of("plain").placeholders == 0);
static_assert(shape_of("{} and {}").placeholders == 2);
static_assert(!shape_of("{} and {}").has_names);
static_assert(shape_of("user {user} from {ip}").has_names);
static_assert(shape_of("user {user} from {ip}").placeholders == 2);
static_assert(shape_of("{{literal}} {x}").placeholders == 1);
static_assert(!shape_of("{user").valid);
static_assert(!shape_of("user}").valid);
static_assert(shape_of("{0} {user}").has_indices);
static_assert(shape_of("{a} {a}").duplicate_name);
static_assert(shape_of("{a-b}").bad_name);

std::string strip(std::string_view s) {
  std::string out(s.size() * 2, '\0');
  out.resize(hydra::detail::strip_names(s, out.data()));
  return out;
}

TEST(FormatString, StripNamesKeepsSpecsAndEscapedBraces) {
  EXPECT_EQ(strip("user {user} from {ip}"), "user {} from {}");
  EXPECT_EQ(strip("took {ms:.2f} ms"), "took {:.2f} ms");
  EXPECT_EQ(strip("{{not}} {x:>8}"), "{{not}} {:>8}");
  EXPECT_EQ(strip("no placeholders"), "no placeholders");
}

TEST(FormatString, CarriesTheCallSite) {
  const int line = __LINE__ + 1;
  hydra::format_string<int> f("n={}");
  EXPECT_EQ(f.location().line(), static_cast<std::uint_least32_t>(line));
  EXPECT_NE(std::string(f.location().file_name()).find("format_string_test.cpp"),
            std::string::npos);
  EXPECT_FALSE(f.has_names());
  hydra::format_string<int> g("n={n}");
  EXPECT_TRUE(g.has_names());
}

}  // namespace
