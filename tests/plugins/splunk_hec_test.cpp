// The splunk_hec plugin (plugins/splunk_hec), loaded from its built .so by a
// configuration file as a user would, against a local HTTP Event Collector
// that answers as Splunk documents (support/hec_receiver.py): every event
// arrives with the token, code 6 mid-batch dead-letters exactly the invalid
// event and resends the ones after it, busy and 429 are retried; the
// plugin's delivery counts (its health) reconcile with what was indexed.
// Waits are flush barriers, never sleeps.
#include <gtest/gtest.h>

#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <nlohmann/json.hpp>

#include "plugins/support.hpp"
#include "support/scripted_receiver.hpp"
#include "test_util.hpp"

namespace {

using hydra::test::ScriptedReceiver;
using json = nlohmann::json;

constexpr const char* kToken = "11111111-2222-3333-4444-555555555555";

// A configuration that loads the plugin and ships layer APP to `url`
// (the logger's own records, such as its audit record of the plugin's
// load, to a null sink). One batch per flush unless `linger` is short: flush()
// ends a linger.
std::string config(const std::string& url, const std::string& extra = "",
                   const std::string& linger = "10s") {
  return "name = \"hec-test\"\nplugins = [\"" + std::string(HYDRA_SPLUNK_HEC_PLUGIN) +
         "\"]\n[[layers.DEFAULT.destinations]]\ntype = \"null\"\n"
         "[[layers.APP.destinations]]\ntype = \"splunk_hec\"\nurl = \"" +
         url + "\"\ntoken = \"" + kToken +
         "\"\nsource = \"checkout\"\nsourcetype = \"hydra:json\"\nindex = \"main\"\n"
         "linger = \"" +
         linger + "\"\nretry_initial = \"1ms\"\nretry_max = \"10ms\"\n" + extra;
}

std::vector<std::string> messages(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["event"]["message"].get<std::string>());
  return out;
}

TEST(SplunkHec, EveryEventArrivesWithTheTokenOnceWithItsParts) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {kToken});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(dir.file("c.toml"),
                          config(hec.base_url(), "batch_max_records = 40\n", "10ms"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 100; ++i) {
    log.layer("APP").with({{"order", i}, {"paid", true}}).warning("order {} \"shipped\"\n", i);
  }
  const json counts = hydra::test::settle(log, 100);
  EXPECT_EQ(counts["delivered"], 100) << counts;
  EXPECT_EQ(counts["dead_lettered"], 0);
  EXPECT_EQ(counts["dropped"], 0);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;

  const auto requests = hec.requests();
  ASSERT_GE(requests.size(), 3u);  // 100 records in batches of at most 40
  for (const auto& r : requests) {
    EXPECT_EQ(r["answer"], "200") << r;
    EXPECT_EQ(r["headers"]["authorization"], std::string("Splunk ") + kToken);
    EXPECT_LE(r["events"], 40);
  }
  const auto events = hec.lines("events.jsonl");
  ASSERT_EQ(events.size(), 100u);
  std::set<std::string> keys;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    EXPECT_EQ(e["event"]["message"], "order " + std::to_string(i) + " \"shipped\"\n") << e;
    EXPECT_EQ(e["event"]["level"], "warning");
    EXPECT_EQ(e["event"]["layer"], "APP");
    EXPECT_EQ(e["event"]["logger"], "hec-test");
    EXPECT_EQ(e["event"]["fields"]["order"], i);
    EXPECT_EQ(e["event"]["fields"]["paid"], true);
    EXPECT_EQ(e["source"], "checkout");
    EXPECT_EQ(e["sourcetype"], "hydra:json");
    EXPECT_EQ(e["index"], "main");
    EXPECT_TRUE(e["host"].is_string() && !e["host"].get<std::string>().empty());
    EXPECT_TRUE(e["time"].is_number_float()) << e;
    EXPECT_NEAR(e["time"].get<double>(), static_cast<double>(std::time(nullptr)), 600);
    keys.insert(e["fields"]["hydra_key"].get<std::string>());
  }
  EXPECT_EQ(keys.size(), 100u);  // the record keys: one each, none repeated
}

// The plugin's counts are the logger's, as a built-in destination's are
// (ABI 1.2, hydra_kind.delivery): in metrics().destinations while it runs,
// and, final, in the audit trail when the logger ends.
TEST(SplunkHec, ItsCountsAreInTheLoggersMetricsAndFinalInTheAuditTrail) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {kToken});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  std::string toml = config(hec.base_url(), "", "10ms");
#if defined(HYDRA_PLUGINS_TEST_WITH_PROTECT)
  const std::string audit = dir.file("audit.log");
  ::setenv("HEC_TEST_AUDIT_KEY", "key-of-the-hec-final-counts-test-0123", 1);
  toml += "[[layers.AUDIT.destinations]]\ntype = \"audit\"\npath = \"" + audit +
          "\"\nkey_env = \"HEC_TEST_AUDIT_KEY\"\n";
#endif
  hydra::test::write_file(dir.file("c.toml"), toml);
  {
    hydra::Logger log(hydra::load_config(dir.file("c.toml")));
    for (int i = 0; i < 20; ++i) log.layer("APP").info("event {}", i);
    (void)hydra::test::settle(log, 20);
    const auto destinations = log.metrics().destinations;
    ASSERT_EQ(destinations.size(), 1u);
    const hydra::DestinationMetrics& d = destinations[0];
    EXPECT_EQ(d.name, "splunk_hec " + hec.base_url() + "/services/collector/event");
    EXPECT_EQ(d.counts.submitted, 20u);
    EXPECT_EQ(d.counts.delivered, 20u);
    EXPECT_EQ(d.counts.dropped(), 0u);
    EXPECT_TRUE(d.counts.balanced());
    EXPECT_EQ(d.last_error, "");
    for (int i = 20; i < 25; ++i) log.layer("APP").info("event {}", i);
  }  // the logger ends: the plugin sink stops, sending what is left
  EXPECT_EQ(hec.lines("events.jsonl").size(), 25u);
#if defined(HYDRA_PLUGINS_TEST_WITH_PROTECT)
  std::vector<json> finals;
  for (const auto& line : hydra::test::split_lines(hydra::test::read_file(audit))) {
    const auto at = line.find('{');
    if (at == std::string::npos) continue;
    const auto j = json::parse(line.substr(at), nullptr, false);
    if (!j.is_discarded() && j.value("message", "") == "hydra: destination final counts") {
      finals.push_back(j);
    }
  }
  ASSERT_EQ(finals.size(), 1u) << hydra::test::read_file(audit);
  const json& fields = finals[0]["fields"];
  EXPECT_EQ(fields["destination"], "splunk_hec " + hec.base_url() + "/services/collector/event");
  EXPECT_EQ(fields["submitted"], 25) << fields;
  EXPECT_EQ(fields["delivered"], 25) << fields;
  EXPECT_EQ(fields["queued"], 0) << fields;
#endif
}

// senders = 3: three connections send side by side. The receiver holds
// each of the first three requests until all three are in progress
// (meet:3), and refuses them (400 code 7: dead-lettered) if they never
// are: every event arrives, once, only if three senders sent together.
TEST(SplunkHec, SendersSendSideBySideEachEventOnce) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec",
                       {kToken, "meet:3", "meet:3", "meet:3"});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(dir.file("c.toml"),
                          config(hec.base_url(), "senders = 3\nbatch_max_records = 10\n", "0ms"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 200; ++i) log.layer("APP").info("event {}", i);
  const json counts = hydra::test::settle(log, 200);
  EXPECT_EQ(counts["delivered"], 200) << counts;
  EXPECT_EQ(counts["dead_lettered"], 0);
  EXPECT_EQ(counts["dropped"], 0);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;
  const auto events = hec.lines("events.jsonl");
  ASSERT_EQ(events.size(), 200u);
  std::set<std::string> keys;
  for (const auto& e : events) keys.insert(e["fields"]["hydra_key"].get<std::string>());
  EXPECT_EQ(keys.size(), 200u);  // none twice
}

// 400 code 6 for event 3 of 10: Splunk indexed 0-2; 3 is dead-lettered with
// Splunk's text; 4-9 are sent again, once. Nothing is indexed twice.
TEST(SplunkHec, InvalidDataFormatMidBatchDeadLettersThatEventAndResendsTheRest) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {kToken, "invalid:3"});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(
      dir.file("c.toml"),
      config(hec.base_url(), "dead_letter_path = \"" + dir.file("dead.jsonl") + "\"\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 10; ++i) log.layer("APP").info("event {}", i);
  const json counts = hydra::test::settle(log, 10);
  EXPECT_EQ(counts["delivered"], 9) << counts;
  EXPECT_EQ(counts["dead_lettered"], 1);
  EXPECT_EQ(counts["dropped"], 0);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;

  const auto requests = hec.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["events"], 10);
  EXPECT_EQ(requests[0]["answer"], "invalid:3");
  EXPECT_EQ(requests[1]["events"], 6);  // 4..9, once
  EXPECT_EQ(messages(hec.lines("events.jsonl")),
            (std::vector<std::string>{"event 0", "event 1", "event 2", "event 4", "event 5",
                                      "event 6", "event 7", "event 8", "event 9"}));
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.file("dead.jsonl")));
  ASSERT_EQ(dead.size(), 1u);
  const json line = json::parse(dead[0]);
  EXPECT_NE(line["reason"].get<std::string>().find("code 6: Invalid data format (event 3)"),
            std::string::npos)
      << line;
  EXPECT_EQ(json::parse(line["record"].get<std::string>())["message"], "event 3") << line;
}

// 503 code 9 (with Retry-After: 0) and 429: the same batch again, delivered
// once; the retries are counted.
TEST(SplunkHec, ServerBusyAndTooManyRequestsAreRetried) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {kToken, "busy:0", "429"});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(dir.file("c.toml"), config(hec.base_url()));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 5; ++i) log.layer("APP").error("busy {}", i);
  const json counts = hydra::test::settle(log, 5);
  EXPECT_EQ(counts["delivered"], 5) << counts;
  EXPECT_EQ(counts["retries"], 2);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;
  const auto requests = hec.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["answer"], "busy:0");
  EXPECT_EQ(requests[1]["answer"], "429");
  EXPECT_EQ(requests[2]["answer"], "200");
  EXPECT_EQ(messages(hec.lines("events.jsonl")),
            (std::vector<std::string>{"busy 0", "busy 1", "busy 2", "busy 3", "busy 4"}));
}

// 400 code 7 (incorrect index) is the batch's: dead-lettered whole, once.
TEST(SplunkHec, IncorrectIndexIsPermanentForTheBatch) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {kToken, "index"});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(
      dir.file("c.toml"),
      config(hec.base_url(), "dead_letter_path = \"" + dir.file("dead.jsonl") + "\"\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 3; ++i) log.layer("APP").info("lost {}", i);
  const json counts = hydra::test::settle(log, 3);
  EXPECT_EQ(counts["dead_lettered"], 3) << counts;
  EXPECT_EQ(counts["delivered"], 0);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;
  EXPECT_EQ(hec.requests().size(), 1u);
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.file("dead.jsonl")));
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_NE(json::parse(dead[0])["reason"].get<std::string>().find("Incorrect index"),
            std::string::npos)
      << dead[0];
}

// ack = true: every request carries the sink's data channel, and a batch
// counts as delivered only once /services/collector/ack says its ackId was
// indexed (the receiver says false the first time it is asked).
TEST(SplunkHec, WithAckABatchIsDeliveredOnlyOnceItsAckIdIsAcknowledged) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {kToken, "--ack"});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(dir.file("c.toml"),
                          config(hec.base_url(), "ack = true\nack_poll_interval = \"1ms\"\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 5; ++i) log.layer("APP").info("acked {}", i);
  const json counts = hydra::test::settle(log, 5);
  EXPECT_EQ(counts["delivered"], 5) << counts;
  EXPECT_EQ(counts["retries"], 0);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;
  const auto requests = hec.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["path"], "/services/collector/event");
  EXPECT_EQ(requests[0]["answer"], "200");
  const std::string channel = requests[0]["headers"]["x-splunk-request-channel"];
  EXPECT_TRUE(std::regex_match(
      channel, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << channel;
  EXPECT_EQ(requests[1]["path"], "/services/collector/ack");
  EXPECT_EQ(requests[1]["acks"], json({{"0", false}}));
  EXPECT_EQ(requests[2]["acks"], json({{"0", true}}));
  EXPECT_EQ(requests[2]["headers"]["x-splunk-request-channel"], channel);
  EXPECT_EQ(hec.lines("events.jsonl").size(), 5u);
}

// A wrong token is the configuration's fault, not the records': they are
// kept and retried (never dead-lettered), and the health says why.
TEST(SplunkHec, AWrongTokenKeepsTheRecordsAndReportsTheError) {
  hydra::test::TempDir dir;
  ScriptedReceiver hec("hec_receiver.py", dir.path() / "hec", {"another-token"});
  ASSERT_TRUE(hec.ok()) << hec.errors();
  hydra::test::write_file(
      dir.file("c.toml"),
      config(hec.base_url(), "shutdown_timeout = \"0ms\"\nflush_timeout = \"100ms\"\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  log.layer("APP").info("kept");
  json health;
  do {  // until the first answer was read: a flush barrier, then the health
    log.flush();
    health = hydra::test::plugin_sink_health(log);
  } while (health["counts"]["retries"] == 0);
  EXPECT_EQ(health["ok"], false);
  EXPECT_EQ(health["counts"]["dead_lettered"], 0);
  EXPECT_EQ(health["counts"]["queued"], 1);
  EXPECT_NE(health["last_error"].get<std::string>().find("HTTP 403 code 4: Invalid token"),
            std::string::npos)
      << health;
  EXPECT_TRUE(hec.lines("events.jsonl").empty());
}

// Options are checked as the host checks its own: an unknown one, a bad
// URL, no token anywhere.
TEST(SplunkHec, BadOptionsAreConfigurationErrorsNamingTheOption) {
  hydra::test::TempDir dir;
  const auto error_of = [&](const std::string& text) {
    hydra::test::write_file(dir.file("c.toml"), text);
    return hydra::test::config_error_of(
        [&] { hydra::Logger log(hydra::load_config(dir.file("c.toml"))); });
  };
  std::string e = error_of(config("http://127.0.0.1:9", "colour = \"blue\"\n"));
  EXPECT_NE(e.find("colour"), std::string::npos) << e;
  e = error_of(config("ftp://127.0.0.1:9"));
  EXPECT_NE(e.find("option 'url': 'ftp://127.0.0.1:9' is not an http:// or https:// URL"),
            std::string::npos)
      << e;
  std::string no_token = config("http://127.0.0.1:9");
  no_token.replace(no_token.find(kToken), std::string(kToken).size(), "");
  ::unsetenv("SPLUNK_HEC_TOKEN");
  e = error_of(no_token);
  EXPECT_NE(e.find("option 'token': empty, and $SPLUNK_HEC_TOKEN is not set"), std::string::npos)
      << e;
}

}  // namespace
