// The cloudwatch plugin (plugins/cloudwatch), loaded from its built .so by a
// configuration file as a user would (and, where a test needs records of
// chosen times, into a registry of its own), against a local endpoint that
// answers as the CloudWatch Logs API documents (support/
// cloudwatch_receiver.py): it recomputes each request's SigV4 signature
// with the test's fake credentials and refuses any batch that breaks
// PutLogEvents' rules. The plugin's delivery counts (its health) reconcile
// with what was stored. Waits are flush barriers, never sleeps.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/plugin/loader.hpp>
#include <hydra/plugin/plugin.hpp>
#include <hydra/plugin/registry.hpp>
#include <nlohmann/json.hpp>

#include "plugins/support.hpp"
#include "support/scripted_receiver.hpp"
#include "test_util.hpp"

namespace {

using hydra::test::ScopedEnv;
using hydra::test::ScriptedReceiver;
using json = nlohmann::json;

constexpr const char* kAccessKey = "AKIDHYDRATESTEXAMPLE";
constexpr const char* kSecret = "hydra/test/secret/wJalrXUtnFEMI/K7MDENG+bPxRfiCY";

// The test's fake credentials, and nothing else AWS could pick up.
void fake_credentials(ScopedEnv& env) {
  env.set("AWS_ACCESS_KEY_ID", kAccessKey);
  env.set("AWS_SECRET_ACCESS_KEY", kSecret);
  for (const char* name :
       {"AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"}) {
    env.unset(name);
  }
}

// A configuration that loads the plugin and ships layer APP to the
// receiver, one batch per flush (flush() ends the linger).
std::string config(const ScriptedReceiver& receiver, const std::string& extra = "") {
  return "name = \"cw-test\"\nplugins = [\"" + std::string(HYDRA_CLOUDWATCH_PLUGIN) +
         "\"]\n[[layers.DEFAULT.destinations]]\ntype = \"null\"\n"
         "[[layers.APP.destinations]]\ntype = \"cloudwatch\"\nformat = \"logfmt\"\n"
         "log_group = \"/hydra/test\"\nlog_stream = \"checkout-1\"\nregion = \"eu-west-1\"\n"
         "endpoint = \"" +
         receiver.base_url() +
         "/\"\nlinger = \"10s\"\nretry_initial = \"1ms\"\nretry_max = \"10ms\"\n" + extra;
}

// The msg= of a logfmt line.
std::string msg_of(const std::string& line) {
  const auto at = line.find("msg=") + 4;
  return line.substr(at, line.find(' ', at) - at);
}

std::vector<std::string> messages(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["message"].get<std::string>());
  return out;
}

// 2500 records of about 1 KB: one batch from the engine, split by the
// transport into requests of at most 1,048,576 bytes (each message + 26),
// every one signed, in order; all stored once.
TEST(CloudWatch, SignedEventsArriveInOrderInRequestsWithinTheLimits) {
  ScopedEnv env;
  fake_credentials(env);
  hydra::test::TempDir dir;
  ScriptedReceiver cw("cloudwatch_receiver.py", dir.path() / "cw", {});
  ASSERT_TRUE(cw.ok()) << cw.errors();
  hydra::test::write_file(dir.file("c.toml"),
                          config(cw,
                                 "batch_max_records = 10000\nbatch_max_bytes = 16777216\n"
                                 "queue_max_bytes = 67108864\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  const std::string padding(1000, 'x');
  for (int i = 0; i < 2500; ++i) log.layer("APP").info("record {} {} \xff", i, padding);
  const json counts = hydra::test::settle(log, 2500);
  EXPECT_EQ(counts["delivered"], 2500) << counts;
  EXPECT_EQ(counts["dead_lettered"], 0);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;

  const auto requests = cw.requests();
  ASSERT_GE(requests.size(), 3u);
  std::size_t events = 0;
  for (const auto& r : requests) {
    EXPECT_EQ(r["answer"], "200") << r["answer"];  // signed, and within every rule
    EXPECT_EQ(r["action"], "PutLogEvents");
    EXPECT_LE(r["bytes"], 1048576);
    EXPECT_EQ(r["headers"]["content-type"], "application/x-amz-json-1.1");
    EXPECT_EQ(r["headers"]["authorization"].get<std::string>().rfind(
                  std::string("AWS4-HMAC-SHA256 Credential=") + kAccessKey + "/", 0),
              0u);
    events += r["events"].get<std::size_t>();
  }
  EXPECT_EQ(events, 2500u);
  const auto stored = cw.lines("events.jsonl");
  ASSERT_EQ(stored.size(), 2500u);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const std::string m = stored[i]["message"];
    EXPECT_NE(m.find("record " + std::to_string(i) + " x"), std::string::npos) << m.substr(0, 80);
    EXPECT_EQ(m.find('\n'), std::string::npos);
    EXPECT_EQ(m.find('\xff'), std::string::npos);  // the format escaped it
    EXPECT_EQ(stored[i]["group"], "/hydra/test");
    EXPECT_EQ(stored[i]["stream"], "checkout-1");
  }
}

// Records out of order, over more than a day: sorted by time, and split
// where a request would span 24 hours.
TEST(CloudWatch, ABatchIsSortedAndSplitWhereItWouldSpan24Hours) {
  ScopedEnv env;
  fake_credentials(env);
  hydra::test::TempDir dir;
  ScriptedReceiver cw("cloudwatch_receiver.py", dir.path() / "cw", {});
  ASSERT_TRUE(cw.ok()) << cw.errors();
  hydra::plugin::Registry registry;
  hydra::plugin::load_plugin(HYDRA_CLOUDWATCH_PLUGIN, registry);
  auto sink = registry.make_sink("cloudwatch", {{"log_group", "g"},
                                                {"log_stream", "s"},
                                                {"region", "us-east-1"},
                                                {"endpoint", cw.base_url() + "/"},
                                                {"linger", "10s"}});
  using std::chrono::hours;
  using std::chrono::minutes;
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const std::vector<std::pair<std::string, std::chrono::system_clock::time_point>> records = {
      {"e0", now},
      {"e1", now - hours(25)},
      {"e2", now - hours(1)},
      {"e3", now - hours(24) - minutes(30)},
      {"e4", now - hours(2)},
      {"e5", now - hours(25)},
  };
  for (const auto& [message, time] : records) {
    hydra::Record r;
    r.time = time;
    r.layer = "APP";
    r.message = message;
    sink->write(r, message + "\n");
  }
  sink->flush();
  const auto* plugin = dynamic_cast<const hydra::plugin::Plugin*>(sink.get());
  ASSERT_NE(plugin, nullptr);
  const json health = json::parse(plugin->health());
  EXPECT_EQ(health["counts"]["delivered"], 6) << health;

  // e1 e5 (-25 h), e3 (-24.5 h), e4 (-2 h): under 24 hours; e2 (-1 h) would
  // make it 24, so it begins the next request, with e0.
  const auto requests = cw.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["answer"], "200");
  EXPECT_EQ(requests[1]["answer"], "200");
  EXPECT_EQ(requests[0]["events"], 4);
  EXPECT_EQ(messages(cw.lines("events.jsonl")),
            (std::vector<std::string>{"e1", "e5", "e3", "e4", "e2", "e0"}));
  const auto millis = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  EXPECT_EQ(requests[0]["timestamps"][0], millis(now - hours(25)));
  EXPECT_EQ(requests[1]["timestamps"][1], millis(now));
}

// rejectedLogEventsInfo {tooOldLogEventEndIndex: 2, expiredLogEventEndIndex:
// 1, tooNewLogEventStartIndex: 8} of 10: events 0, 1, 8, 9 rejected
// (dead-lettered, never sent again), 2-7 delivered.
TEST(CloudWatch, RejectedLogEventsInfoRejectsExactlyTheNamedRanges) {
  ScopedEnv env;
  fake_credentials(env);
  hydra::test::TempDir dir;
  ScriptedReceiver cw("cloudwatch_receiver.py", dir.path() / "cw", {"reject:2:1:8"});
  ASSERT_TRUE(cw.ok()) << cw.errors();
  hydra::test::write_file(dir.file("c.toml"),
                          config(cw, "dead_letter_path = \"" + dir.file("dead.jsonl") + "\"\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 10; ++i) log.layer("APP").info("m{}", i);
  const json counts = hydra::test::settle(log, 10);
  EXPECT_EQ(counts["delivered"], 6) << counts;
  EXPECT_EQ(counts["dead_lettered"], 4);
  EXPECT_EQ(counts["retries"], 0);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;
  ASSERT_EQ(cw.requests().size(), 1u);
  std::vector<std::string> stored;
  for (const std::string& m : messages(cw.lines("events.jsonl"))) {
    stored.push_back(msg_of(m));
  }
  EXPECT_EQ(stored, (std::vector<std::string>{"m2", "m3", "m4", "m5", "m6", "m7"}));
  std::vector<std::string> dead;
  for (const auto& line :
       hydra::test::split_lines(hydra::test::read_file(dir.file("dead.jsonl")))) {
    const json d = json::parse(line);
    dead.push_back(msg_of(d["record"]));
    EXPECT_NE(d["reason"].get<std::string>().find("rejectedLogEventsInfo: "), std::string::npos)
        << d;
  }
  EXPECT_EQ(dead, (std::vector<std::string>{"m0", "m1", "m8", "m9"}));
}

// ThrottlingException (HTTP 400) and ServiceUnavailableException (503,
// Retry-After: 0): the same events again, stored once.
TEST(CloudWatch, ThrottlingAndServiceUnavailableAreRetried) {
  ScopedEnv env;
  fake_credentials(env);
  hydra::test::TempDir dir;
  ScriptedReceiver cw("cloudwatch_receiver.py", dir.path() / "cw", {"throttle", "unavailable:0"});
  ASSERT_TRUE(cw.ok()) << cw.errors();
  hydra::test::write_file(dir.file("c.toml"), config(cw));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 5; ++i) log.layer("APP").warning("w{}", i);
  const json counts = hydra::test::settle(log, 5);
  EXPECT_EQ(counts["delivered"], 5) << counts;
  EXPECT_EQ(counts["retries"], 2);
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;
  const auto requests = cw.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["answer"], "throttle");
  EXPECT_EQ(requests[1]["answer"], "unavailable:0");
  EXPECT_EQ(requests[2]["answer"], "200");
  EXPECT_EQ(cw.lines("events.jsonl").size(), 5u);
}

// The receiver does check signatures: signed with another secret, the
// request is refused (InvalidSignatureException); the records are kept
// and retried, never dead-lettered, and the health says why.
TEST(CloudWatch, AWrongSecretIsRefusedAndTheRecordsAreKept) {
  ScopedEnv env;
  fake_credentials(env);
  hydra::test::TempDir dir;
  ScriptedReceiver cw("cloudwatch_receiver.py", dir.path() / "cw", {});
  ASSERT_TRUE(cw.ok()) << cw.errors();
  env.set("AWS_SECRET_ACCESS_KEY", "not-the-secret");  // the plugin's, not the receiver's
  hydra::test::write_file(dir.file("c.toml"),
                          config(cw, "shutdown_timeout = \"0ms\"\nflush_timeout = \"100ms\"\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  log.layer("APP").info("kept");
  json health;
  do {
    log.flush();
    health = hydra::test::plugin_sink_health(log);
  } while (health["counts"]["retries"] == 0);
  EXPECT_EQ(health["ok"], false);
  EXPECT_EQ(health["counts"]["dead_lettered"], 0);
  EXPECT_EQ(health["counts"]["queued"], 1);
  EXPECT_NE(health["last_error"].get<std::string>().find("HTTP 400 InvalidSignatureException"),
            std::string::npos)
      << health;
  EXPECT_TRUE(cw.lines("events.jsonl").empty());
}

// A log stream that does not exist: with create_stream, CreateLogStream
// then the events again; without, the events are dead-lettered.
TEST(CloudWatch, AMissingStreamIsCreatedWhenAskedElseDeadLettered) {
  ScopedEnv env;
  fake_credentials(env);
  hydra::test::TempDir dir;
  {
    ScriptedReceiver cw("cloudwatch_receiver.py", dir.path() / "create", {"--no-stream"});
    ASSERT_TRUE(cw.ok()) << cw.errors();
    hydra::test::write_file(dir.file("c.toml"), config(cw, "create_stream = true\n"));
    hydra::Logger log(hydra::load_config(dir.file("c.toml")));
    for (int i = 0; i < 3; ++i) log.layer("APP").info("c{}", i);
    const json counts = hydra::test::settle(log, 3);
    EXPECT_EQ(counts["delivered"], 3) << counts;
    const auto requests = cw.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0]["answer"], "notfound");
    EXPECT_EQ(requests[1]["action"], "CreateLogStream");
    EXPECT_EQ(requests[1]["answer"], "created");
    EXPECT_EQ(requests[2]["answer"], "200");
    EXPECT_EQ(cw.lines("events.jsonl").size(), 3u);
  }
  ScriptedReceiver cw("cloudwatch_receiver.py", dir.path() / "plain", {"--no-stream"});
  ASSERT_TRUE(cw.ok()) << cw.errors();
  hydra::test::write_file(dir.file("c.toml"),
                          config(cw, "dead_letter_path = \"" + dir.file("dead.jsonl") + "\"\n"));
  hydra::Logger log(hydra::load_config(dir.file("c.toml")));
  for (int i = 0; i < 3; ++i) log.layer("APP").info("d{}", i);
  const json counts = hydra::test::settle(log, 3);
  EXPECT_EQ(counts["dead_lettered"], 3) << counts;
  EXPECT_TRUE(hydra::test::balanced(counts)) << counts;
  const auto dead = hydra::test::split_lines(hydra::test::read_file(dir.file("dead.jsonl")));
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_NE(json::parse(dead[0])["reason"].get<std::string>().find("ResourceNotFoundException"),
            std::string::npos)
      << dead[0];
}

// No credentials anywhere: a configuration error saying where it looked.
TEST(CloudWatch, MissingCredentialsAreAConfigurationError) {
  ScopedEnv env;
  fake_credentials(env);
  hydra::test::TempDir dir;
  env.unset("AWS_ACCESS_KEY_ID");
  env.unset("AWS_SECRET_ACCESS_KEY");
  env.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("no-such-credentials"));
  hydra::test::write_file(
      dir.file("c.toml"),
      "plugins = [\"" + std::string(HYDRA_CLOUDWATCH_PLUGIN) +
          "\"]\n[[layers.APP.destinations]]\ntype = \"cloudwatch\"\nlog_group = \"g\"\n"
          "log_stream = \"s\"\nregion = \"eu-west-1\"\n");
  const std::string e = hydra::test::config_error_of(
      [&] { hydra::Logger log(hydra::load_config(dir.file("c.toml"))); });
  EXPECT_NE(e.find("no-such-credentials"), std::string::npos) << e;
}

}  // namespace
