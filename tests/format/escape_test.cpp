// The shared escaping and time rules (hydra/format/detail/escape.hpp).
#include "hydra/format/detail/escape.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using detail::Buffer;

template <typename F>
std::string run(F f, std::string_view in) {
  Buffer out;
  f(in, out);
  return fmt::to_string(out);
}

std::string text(std::string_view in) {
  return run(detail::append_escaped_text, in);
}
std::string json(std::string_view in) {
  return run(detail::append_json_string, in);
}
std::string logfmt(std::string_view in) {
  return run(detail::append_logfmt_value, in);
}
std::string csv(std::string_view in) {
  return run(detail::append_csv_value, in);
}
std::string sd(std::string_view in) {
  return run(detail::append_sd_param_value, in);
}

TEST(TextEscape, PlainAndValidUtf8PassThrough) {
  EXPECT_EQ(text("hello, world = \"x\" \\ ]"), "hello, world = \"x\" \\ ]");
  EXPECT_EQ(text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
  EXPECT_EQ(text(""), "");
}

TEST(TextEscape, LineBreaksAndTab) {
  EXPECT_EQ(text("a\rb\nc\td"), R"(a\rb\nc\td)");
}

TEST(TextEscape, ControlsDelAndEsc) {
  EXPECT_EQ(text(std::string_view("\0\x01\x1b[31m\x7f", 8)), R"(\x00\x01\x1b[31m\x7f)");
}

TEST(TextEscape, C1Controls) {
  EXPECT_EQ(text("a\xc2\x80z\xc2\x85\xc2\x9b"), R"(a\u0080z\u0085\u009b)");
}

TEST(TextEscape, InvalidUtf8BecomesHexBytes) {
  EXPECT_EQ(text("\xff\xfe"), R"(\xff\xfe)");
  EXPECT_EQ(text("\xc0\xaf"), R"(\xc0\xaf)");                  // overlong '/'
  EXPECT_EQ(text("\xed\xa0\x80"), R"(\xed\xa0\x80)");          // surrogate
  EXPECT_EQ(text("\xf4\x90\x80\x80"), R"(\xf4\x90\x80\x80)");  // above U+10FFFF
  EXPECT_EQ(text("ab\xe2\x82"), R"(ab\xe2\x82)");              // truncated at the end
  EXPECT_EQ(text("\xe2\x82z"), R"(\xe2\x82z)");                // truncated in the middle
  EXPECT_EQ(text("\x80"), R"(\x80)");                          // lone continuation
}

TEST(TextEscape, OutputIsAlwaysOneSafeLine) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string out = text(all) + "\n";
  EXPECT_TRUE(test::is_one_safe_line(out));
  EXPECT_TRUE(test::is_valid_utf8(out));
  EXPECT_TRUE(detail::needs_text_escape(all));
  EXPECT_FALSE(detail::needs_text_escape("plain caf\xc3\xa9"));
  EXPECT_EQ(detail::to_printable("a\nb"), R"(a\nb)");
}

// The word-at-a-time fast path must agree with the byte-at-a-time rules: for
// ASCII, escaping a string equals escaping each byte on its own.
TEST(Escape, FastPathAgreesWithPerByteRules) {
  std::uint32_t seed = 12345;
  const auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (const auto f :
       {detail::append_escaped_text, detail::append_json_escaped, detail::append_sd_param_value}) {
    for (int round = 0; round < 2000; ++round) {
      std::string s(1 + next() % 40, ' ');
      for (char& c : s) c = static_cast<char>(next() % 8 == 0 ? next() % 128 : 'a' + next() % 26);
      std::string by_byte;
      for (char c : s) by_byte += run(f, std::string_view(&c, 1));
      ASSERT_EQ(run(f, s), by_byte);
    }
  }
}

TEST(JsonEscape, QuotesBackslashAndShortForms) {
  EXPECT_EQ(json("a\"b\\c\b\f\n\r\t"), R"("a\"b\\c\b\f\n\r\t")");
}

TEST(JsonEscape, ControlsDelC1AndInvalid) {
  EXPECT_EQ(json(std::string_view("\0\x1b\x7f\xc2\x85\xff", 6)),
            R"("\u0000\u001b\u007f\u0085\ufffd")");
  EXPECT_EQ(json("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}

TEST(JsonEscape, EveryByteParsesBackAsValidUtf8) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string out = json(all);
  EXPECT_TRUE(test::is_valid_utf8(out));
  const auto parsed = nlohmann::json::parse(out).get<std::string>();
  // Bytes 0..127 come back exactly; each of the 128 invalid bytes is U+FFFD.
  EXPECT_EQ(parsed.substr(0, 128), all.substr(0, 128));
  std::string replacements;
  for (int i = 0; i < 128; ++i) replacements += "\xef\xbf\xbd";
  EXPECT_EQ(parsed.substr(128), replacements);
}

TEST(JsonValue, TypesAndNonFinite) {
  const auto value = [](FieldValue v) {
    Buffer out;
    detail::append_json_value(v, out);
    return fmt::to_string(out);
  };
  EXPECT_EQ(value(FieldValue()), "null");
  EXPECT_EQ(value(true), "true");
  EXPECT_EQ(value(-42), "-42");
  EXPECT_EQ(value(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(value(1.5), "1.5");
  EXPECT_EQ(value(std::nan("")), "\"nan\"");
  EXPECT_EQ(value(-std::numeric_limits<double>::infinity()), "\"-inf\"");
  EXPECT_EQ(value("a\"b"), R"("a\"b")");
  EXPECT_EQ(nlohmann::json::parse(value(1e300)).get<double>(), 1e300);
}

TEST(LogfmtValue, BareWhenPossibleQuotedOtherwise) {
  EXPECT_EQ(logfmt("alice"), "alice");
  EXPECT_EQ(logfmt("a\\b"), "a\\b");
  EXPECT_EQ(logfmt("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(logfmt(""), R"("")");
  EXPECT_EQ(logfmt("a b"), R"("a b")");
  EXPECT_EQ(logfmt("a=b"), R"("a=b")");
  EXPECT_EQ(logfmt("say \"hi\" \\o/"), R"("say \"hi\" \\o/")");
  EXPECT_EQ(logfmt("a\nb"), R"("a\nb")");
  EXPECT_EQ(logfmt("\x1b[2J"), R"("\x1b[2J")");
  EXPECT_EQ(logfmt("\xff"), R"("\xff")");
}

TEST(CsvValue, QuotesOnlyWhenNeededAndStaysOneLine) {
  EXPECT_EQ(csv("plain text"), "plain text");
  EXPECT_EQ(csv("a,b"), R"("a,b")");
  EXPECT_EQ(csv("say \"hi\""), R"("say ""hi""")");
  EXPECT_EQ(csv("a\r\nb"), R"("a\r\nb")");
  EXPECT_EQ(csv("\x1b[31m"), R"(\x1b[31m)");
}

TEST(SdParamValue, EscapesQuoteBackslashBracketAndControls) {
  EXPECT_EQ(sd(R"(a"b\c]d)"), R"(a\"b\\c\]d)");
  EXPECT_EQ(sd("x\ny\xff"), R"(x\ny\xff)");
}

bool is_lower_letter(unsigned char c) {
  return c >= 'a' && c <= 'z';
}

TEST(FieldName, SanitisesCutsAndRenamesReserved) {
  const std::array<std::string_view, 2> reserved = {"level", "msg"};
  const auto name = [&](std::string_view in, std::size_t max) {
    Buffer out;
    detail::append_field_name(in, out, {is_lower_letter, max}, reserved);
    return fmt::to_string(out);
  };
  EXPECT_EQ(name("user", 32), "user");
  EXPECT_EQ(name("us er\n", 32), "us_er_");
  EXPECT_EQ(name("", 32), "_");
  EXPECT_EQ(name("abcdefgh", 4), "abcd");
  EXPECT_EQ(name("level", 32), "field_level");
  EXPECT_EQ(name("ms\xff", 32), "ms_");  // sanitised, then not reserved
  EXPECT_EQ(name("msg", 8), "field_ms");
}

TEST(Time, Rfc3339Utc) {
  const auto rfc = [](std::chrono::system_clock::time_point t) {
    Buffer out;
    detail::append_rfc3339_utc(t, out);
    return fmt::to_string(out);
  };
  using namespace std::chrono;
  EXPECT_EQ(rfc(test::fixed_time()), "2026-11-27T10:13:12.345678Z");
  EXPECT_EQ(rfc(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(rfc(sys_days(year(2024) / February / 29) + hours(23) + minutes(59) + seconds(59)),
            "2024-02-29T23:59:59.000000Z");
  EXPECT_EQ(rfc(system_clock::time_point{} - microseconds(1)), "1969-12-31T23:59:59.999999Z");
}

TEST(Time, UnixSeconds) {
  const auto unix_seconds = [](std::chrono::system_clock::time_point t) {
    Buffer out;
    detail::append_unix_seconds(t, out);
    return fmt::to_string(out);
  };
  using namespace std::chrono;
  EXPECT_EQ(unix_seconds(test::fixed_time()), "1795774392.345678");
  EXPECT_EQ(unix_seconds(system_clock::time_point{} - milliseconds(1500)), "-1.500000");
}

TEST(Time, SplitTime) {
  using namespace std::chrono;
  const detail::SplitTime t = detail::split_time(system_clock::time_point{} - nanoseconds(1));
  EXPECT_EQ(t.seconds, -1);
  EXPECT_EQ(t.nanos, 999'999'999u);
}

// The public building blocks for formatters of one's own
// (hydra/format/formatter.hpp) follow the same rules as the built-in formats.
TEST(PublicEscape, HelpersForCustomFormattersEscapeLikeTheBuiltInFormats) {
  const std::string_view hostile = "a\r\nb \x1b[31m \xff\"";
  Buffer text;
  hydra::append_escaped_text(hostile, text);
  EXPECT_EQ(fmt::to_string(text), "a\\r\\nb \\x1b[31m \\xff\"");
  Buffer json;
  hydra::append_json_string(hostile, json);
  EXPECT_TRUE(nlohmann::json::accept(fmt::to_string(json))) << fmt::to_string(json);
  EXPECT_EQ(nlohmann::json::parse(fmt::to_string(json)), "a\r\nb \x1b[31m \ufffd\"");
  Buffer field;
  hydra::append_logfmt_field(Field{"user name", FieldValue(std::string_view("a b"))}, field);
  EXPECT_EQ(fmt::to_string(field), "user_name=\"a b\"");
  Buffer time;
  hydra::append_rfc3339_utc(test::fixed_time(), time);
  EXPECT_EQ(fmt::to_string(time), "2026-11-27T10:13:12.345678Z");
}

}  // namespace
}  // namespace hydra
