// logfmt: golden output, quoting and key sanitising.
#include "hydra/format/logfmt_formatter.hpp"

#include <gtest/gtest.h>

#include "format/format_test_support.hpp"

namespace hydra {
namespace {

using test::HostileRecord;
using test::render;
using test::TestRecord;

TEST(LogfmtFormatter, Golden) {
  TestRecord r(test::plain_fields());
  EXPECT_EQ(render(LogfmtFormatter(), r.record),
            "ts=2026-11-27T10:13:12.345678Z level=info layer=APP logger=hydra "
            "msg=\"user alice logged in\" user=alice n=3 ok=true source=app.cpp:12 function=main "
            "thread=1234\n");
}

TEST(LogfmtFormatter, GoldenHostile) {
  HostileRecord r;
  EXPECT_EQ(render(LogfmtFormatter(), r.record),
            R"x(ts=2026-11-27T10:13:12.345678Z level=info layer="A P\x1b" logger="hy\"dra" )x"
            R"x(msg="evil\r\n2026-11-27 INFO forged \x1b[31mred\x1b[0m \xff\xfe \"q\" a,b ]" )x"
            R"x(us_er="a\nb" ]__="x]\"\\y" field_level=forged bad="\xff\xfe" source=app.cpp:12 )x"
            R"x(function=main thread=1234)x"
            "\n");
}

TEST(LogfmtFormatter, EmptyValuesAndQuotedSource) {
  TestRecord r({{"empty", ""}, {"", "no key"}});
  r.record.message = "";
  r.record.layer = "";
  r.record.source = SourceLocation{"my dir/a.cpp", "void f(int)", 3};
  EXPECT_EQ(render(LogfmtFormatter(), r.record),
            "ts=2026-11-27T10:13:12.345678Z level=info layer=\"\" logger=hydra msg=\"\" "
            "empty=\"\" _=\"no key\" source=\"my dir/a.cpp:3\" function=\"void f(int)\" "
            "thread=1234\n");
}

}  // namespace
}  // namespace hydra
