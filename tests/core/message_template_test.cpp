// The parsed-template cache must render exactly what {fmt} renders.
#include "../../src/core/message_template.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
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

// append_fixed (the fast path of "{:.Nf}" for doubles) must write exactly
// what {fmt} writes: the exact binary value rounded half to even.
std::string fixed_of(double v, int precision) {
  fmt::memory_buffer out;
  if (!hydra::detail::append_fixed(v, precision, out)) return "(declined)";
  return fmt::to_string(out);
}

TEST(AppendFixedTest, MatchesFmtOnTiesSignsAndEdges) {
  const double values[] = {0.125,
                           0.375,
                           2.5,
                           3.5,
                           0.5,
                           1.5,
                           1.0625,
                           5e-324,
                           -0.0,
                           0.0,
                           -1e-10,
                           123.4565,
                           0.0005,
                           0.0015,
                           999.9995,
                           9.995,
                           -2.675,
                           1e15,
                           4503599627370497.0,
                           0.1,
                           0.7,
                           1e-300,
                           18446.744073709552,
                           65535.99999};
  for (const double v : values) {
    for (int p = 0; p <= hydra::detail::kMaxFixedPrecision; ++p) {
      if (std::fabs(v) * std::pow(10.0, p) >= 1.8e19) continue;  // declined: tested below
      EXPECT_EQ(fixed_of(v, p), fmt::format("{:.{}f}", v, p)) << v << " precision " << p;
    }
  }
}

TEST(AppendFixedTest, MatchesFmtOnRandomDoublesOfEveryMagnitude) {
  std::mt19937_64 rng(20261127);
  int compared = 0;
  for (int i = 0; i < 200000; ++i) {
    // Random mantissas at exponents from 2^-60 to 2^50, and k/2^j values
    // (exact ties at some precision).
    double v = 0;
    if (i % 4 == 3) {
      v = static_cast<double>(rng() % 100000) / static_cast<double>(1u << (rng() % 20));
    } else {
      const auto mantissa = static_cast<double>(rng() >> 11) / 9007199254740992.0;  // [0, 1)
      v = std::ldexp(mantissa, static_cast<int>(rng() % 111) - 60);
    }
    if ((rng() & 1) != 0) v = -v;
    const int p = static_cast<int>(rng() % (hydra::detail::kMaxFixedPrecision + 1));
    const std::string fast = fixed_of(v, p);
    if (fast == "(declined)") {
      EXPECT_GE(std::fabs(v) * std::pow(10.0, p), 1.8e19) << v << " precision " << p;
      continue;
    }
    ASSERT_EQ(fast, fmt::format("{:.{}f}", v, p)) << v << " precision " << p;
    ++compared;
  }
  EXPECT_GT(compared, 150000);
}

TEST(AppendFixedTest, DeclinesWhatItCannotWrite) {
  fmt::memory_buffer out;
  EXPECT_FALSE(hydra::detail::append_fixed(std::numeric_limits<double>::infinity(), 2, out));
  EXPECT_FALSE(hydra::detail::append_fixed(std::nan(""), 2, out));
  EXPECT_FALSE(hydra::detail::append_fixed(1e19, 2, out));
  EXPECT_FALSE(hydra::detail::append_fixed(1.0, hydra::detail::kMaxFixedPrecision + 1, out));
  EXPECT_EQ(out.size(), 0u);
}

TEST(AppendFixedTest, TemplatesUseItOnlyForExactlyDotNF) {
  for (const char* tmpl : {"{:.3f}", "{:.0f}", "{:.12f}", "{:8.3f}", "{:+.3f}", "{:.3F}", "{:.3e}",
                           "{:.20f}", "{x:.2f}"}) {
    for (const double v : {0.125, -2.5, 1234.5678, 1e300}) {
      const ParsedTemplate parsed(tmpl);
      ASSERT_TRUE(parsed.usable()) << tmpl;
      fmt::memory_buffer out;
      ASSERT_TRUE(parsed.render(tmpl, fmt::make_format_args(v), out, nullptr));
      const std::string stripped =
          std::string(tmpl).find('x') != std::string::npos ? "{:.2f}" : tmpl;
      EXPECT_EQ(fmt::to_string(out), fmt::format(fmt::runtime(stripped), v)) << tmpl << " " << v;
    }
  }
}

}  // namespace
