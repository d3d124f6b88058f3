// The parsed-template cache must render exactly what {fmt} renders.
#include "../../src/core/message_template.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using hydra::detail::ParsedTemplate;

struct Point {
  int x, y;
};

}  // namespace

template <>
struct fmt::formatter<Point> : fmt::formatter<std::string_view> {
  auto format(const Point& p, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "({}, {})", p.x, p.y);
  }
};

namespace {

template <typename... Args>
std::string cached(std::string_view tmpl, const Args&... args) {
  const ParsedTemplate parsed(tmpl);
  EXPECT_TRUE(parsed.usable()) << tmpl;
  fmt::memory_buffer out;
  const bool ok = parsed.render(tmpl, fmt::make_format_args(args...), out, nullptr);
  EXPECT_TRUE(ok) << tmpl;
  return fmt::to_string(out);
}

template <typename... Args>
void expect_same(std::string_view tmpl, const Args&... args) {
  EXPECT_EQ(cached(tmpl, args...), fmt::vformat(tmpl, fmt::make_format_args(args...))) << tmpl;
}

TEST(ParsedTemplateTest, RendersLikeFmtForEveryArgumentKind) {
  expect_same("plain text, no fields");
  expect_same("int {} unsigned {} ll {} ull {}", -42, 42u, -(1LL << 40), ~0ULL);
  expect_same("bool {} {} char {}", true, false, 'x');
  expect_same("double {} {} {} float {}", 0.1, 1e300, -0.0, 2.5f);
  expect_same("long double {}", 1.25L);
  expect_same("c string {} view {} string {}", "abc", std::string_view("def"), std::string("ghi"));
  int value = 7;
  expect_same("pointer {}", static_cast<const void*>(&value));
  expect_same("custom {} type", Point{1, 2});
  expect_same("{}", 1);
  expect_same("{}{}{}", 1, 2, 3);
}

TEST(ParsedTemplateTest, RendersSpecsEscapesAndIndices) {
  expect_same("{:.3f} ms {:>8} [{:<5}] {:#x} {:+d}", 0.5, "right", "l", 255, 3);
  expect_same("{{literal}} {} }}{{ {{{}}}", 1, 2);
  expect_same("{{", 0);
  expect_same("{1} before {0} and {1} again", "a", "b");
  expect_same("{0:>6.2f}|{0}", 3.14159);
  expect_same("{:>10}", Point{3, 4});  // a custom type's own spec parser
  expect_same("unused arguments {} are fine", 1, 2, 3);
}

TEST(ParsedTemplateTest, NamedPlaceholdersGiveTheirNames) {
  constexpr std::string_view tmpl = "user {user} from {ip:>15} took {}ms";
  const ParsedTemplate parsed(tmpl);
  ASSERT_TRUE(parsed.usable());
  fmt::memory_buffer out;
  std::vector<std::string_view> names;
  ASSERT_TRUE(parsed.render(tmpl, fmt::make_format_args("ann", "10.0.0.1", 12), out, &names));
  EXPECT_EQ(fmt::to_string(out), "user ann from        10.0.0.1 took 12ms");
  EXPECT_EQ(names, (std::vector<std::string_view>{"user", "ip", ""}));
}

TEST(ParsedTemplateTest, RefusesWhatItCannotExpress) {
  EXPECT_FALSE(ParsedTemplate("{:{}}").usable());   // nested width
  EXPECT_FALSE(ParsedTemplate("{} {0}").usable());  // automatic and indexed mixed
  EXPECT_FALSE(ParsedTemplate("open { brace").usable());
  EXPECT_FALSE(ParsedTemplate("close } brace").usable());

  const ParsedTemplate two("{} and {}");
  ASSERT_TRUE(two.usable());
  fmt::memory_buffer out;
  EXPECT_FALSE(two.render("{} and {}", fmt::make_format_args(1), out, nullptr));
  EXPECT_EQ(out.size(), 0u) << "nothing written when an argument is missing";
}

TEST(ParsedTemplateTest, ASpecIsReparsedWhenTheArgumentTypeChanges) {
  const ParsedTemplate parsed("[{:>6}]");
  ASSERT_TRUE(parsed.usable());
  const auto render = [&](auto value) {
    fmt::memory_buffer out;
    EXPECT_TRUE(parsed.render("[{:>6}]", fmt::make_format_args(value), out, nullptr));
    return fmt::to_string(out);
  };
  EXPECT_EQ(render(42), "[    42]");
  EXPECT_EQ(render(42), "[    42]");  // the parsed spec, reused
  EXPECT_EQ(render("ab"), "[    ab]");
  EXPECT_EQ(render(1.5), "[   1.5]");
  EXPECT_EQ(render(42), "[    42]");
}

TEST(ParsedTemplateTest, BadSpecThrowsLikeFmt) {
  const ParsedTemplate parsed("{:d}");
  ASSERT_TRUE(parsed.usable());
  fmt::memory_buffer out;
  EXPECT_THROW(parsed.render("{:d}", fmt::make_format_args("text"), out, nullptr),
               fmt::format_error);
  const ParsedTemplate trailing("{:5x!}");
  ASSERT_TRUE(trailing.usable());
  EXPECT_THROW(trailing.render("{:5x!}", fmt::make_format_args(1), out, nullptr),
               fmt::format_error);
}

TEST(ParsedTemplateTest, CacheComparesContentNotJustTheAddress) {
  std::string buffer = "first {}";
  const auto& a = hydra::detail::parsed_template(buffer);
  EXPECT_TRUE(a.matches("first {}"));
  buffer = "other {}";  // same address, same size, new text
  const auto& b = hydra::detail::parsed_template(buffer);
  EXPECT_TRUE(b.matches("other {}"));
  fmt::memory_buffer out;
  ASSERT_TRUE(b.render(buffer, fmt::make_format_args(5), out, nullptr));
  EXPECT_EQ(fmt::to_string(out), "other 5");
}

}  // namespace
