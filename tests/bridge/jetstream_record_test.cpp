// What hydra-bridge makes of a JetStream message: the subject's tenant,
// service and layer, and the body (the `json` format's record, or any line).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hydra/bridge/jetstream_source.hpp"

namespace hydra::bridge {
namespace {

TEST(BridgeJetStreamRecord, AJsonRecordKeepsItsLevelTimeAndTypedFields) {
  const auto r = parse_jetstream_record(
      "hydra.logs.acme.shop.PAYMENTS",
      R"({"timestamp":"2026-12-07T10:15:02.123456Z","level":"error","layer":"PAYMENTS",)"
      R"("logger":"checkout","message":"card declined","fields":{"order":1234,"ok":false,)"
      R"("amount":12.5,"big":18446744073709551615,"who":"ann","cart":{"n":2}}})"
      "\n");
  EXPECT_EQ(r.tenant, "acme");
  EXPECT_EQ(r.service, "shop");
  EXPECT_EQ(r.layer, "PAYMENTS");
  EXPECT_EQ(r.level, Level::error);
  EXPECT_EQ(r.logger, "checkout");
  EXPECT_EQ(r.message, "card declined");
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::microseconds>(r.time.time_since_epoch()).count(),
      1796638502123456);
  std::vector<Field> fields;
  const Record record = r.record(fields);
  ASSERT_EQ(record.fields.size(), 6u);
  const auto value = [&](std::string_view key) {
    for (const Field& f : record.fields) {
      if (f.key == key) return f.value.storage();
    }
    ADD_FAILURE() << "no field " << key;
    return FieldValue().storage();
  };
  EXPECT_EQ(std::get<std::int64_t>(value("order")), 1234);
  EXPECT_EQ(std::get<bool>(value("ok")), false);
  EXPECT_EQ(std::get<double>(value("amount")), 12.5);
  EXPECT_TRUE(std::holds_alternative<double>(value("big")))
      << "past int64: a double, not a wrapped negative";
  EXPECT_EQ(std::get<std::string_view>(value("who")), "ann");
  EXPECT_EQ(std::get<std::string_view>(value("cart")), R"({"n":2})");
}

TEST(BridgeJetStreamRecord, AnyOtherBodyIsTheMessageAtInfo) {
  const auto r = parse_jetstream_record("hydra.logs.acme.shop.APP", "2026-12-07 plain text line\n");
  EXPECT_EQ(r.message, "2026-12-07 plain text line");
  EXPECT_EQ(r.level, Level::info);
  EXPECT_EQ(r.layer, "APP");
  const auto odd =
      parse_jetstream_record("elsewhere", R"({"message":"m","timestamp":"yesterday"})");
  EXPECT_EQ(odd.tenant, "_");
  EXPECT_EQ(odd.message, "m");
  EXPECT_GT(odd.time.time_since_epoch().count(), 0) << "an unreadable time: when it was read";
}

}  // namespace
}  // namespace hydra::bridge
