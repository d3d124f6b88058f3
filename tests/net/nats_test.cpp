// The `nats` destination against a real nats-server with JetStream
// (tests/support/nats_server.hpp), read back through libnats: every record
// is in the stream once, on its subject, with its Nats-Msg-Id, and the
// engine's counts reconcile with the stream's; a batch sent again is dropped
// by JetStream as duplicates; what JetStream refuses is rejected with its
// reason; the server killed and restarted while logging, with a spool, loses
// nothing and duplicates nothing; and the destination named in a file.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/net/destinations.hpp>
#include <hydra/net/nats.hpp>
#include <hydra/net/network_sink.hpp>
#include <hydra/sink/memory_sink.hpp>

#include "fast_delivery.hpp"
#include "support/fault_proxy.hpp"
#include "support/nats_server.hpp"
#include "test_util.hpp"

namespace {

using hydra::test::fast;

using hydra::net::NatsTarget;
using hydra::net::NetworkSink;
using hydra::net::QueuedRecord;
using hydra::net::SendResult;
using hydra::test::NatsServer;

struct StoredMessage {
  std::string subject;
  std::string id;  // Nats-Msg-Id
  std::string data;
};

// A JetStream client of the test's own, to look at the stream.
class StreamReader {
 public:
  explicit StreamReader(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&nc_, url.c_str()), NATS_OK);
    if (nc_ != nullptr) {
      EXPECT_EQ(natsConnection_JetStream(&js_, nc_, nullptr), NATS_OK);
    }
  }
  ~StreamReader() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  std::uint64_t count(const std::string& stream) {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
    const std::uint64_t n = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    return n;
  }

  std::vector<StoredMessage> messages(const std::string& stream) {
    std::vector<StoredMessage> out;
    const std::uint64_t n = count(stream);
    for (std::uint64_t seq = 1; seq <= n; ++seq) {
      natsMsg* msg = nullptr;
      if (js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) {
        ADD_FAILURE() << "no message " << seq;
        continue;
      }
      const char* id = nullptr;
      natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
      out.push_back({natsMsg_GetSubject(msg), id != nullptr ? id : "",
                     std::string(natsMsg_GetData(msg),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(msg)))});
      natsMsg_Destroy(msg);
    }
    return out;
  }

  // A stream of the test's own, with limits.
  void add_stream(const std::string& name, const char* subject, std::int64_t max_msgs) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name.c_str();
    config.Subjects = &subject;
    config.SubjectsLen = 1;
    config.MaxMsgs = max_msgs;
    config.Discard = js_DiscardNew;
    jsStreamInfo* info = nullptr;
    ASSERT_EQ(js_AddStream(&info, js_, &config, nullptr, nullptr), NATS_OK);
    jsStreamInfo_Destroy(info);
  }

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Batches of 100, so that the fault tests' resets fall in the middle of one.
hydra::net::DeliveryOptions nats_options() {
  auto o = fast("nats");
  o.batch_max_records = 100;
  return o;
}

NatsTarget target_of(const NatsServer& server) {
  NatsTarget t;
  t.url = server.url();
  t.stream = "LOGS";
  t.timeout = std::chrono::seconds(5);
  return t;
}

// Records as the encoder queues them (subject, record), with the ids and
// the instance 0x7 that make their keys (the Nats-Msg-Id).
std::vector<QueuedRecord> records(const std::string& subject, int n) {
  std::vector<QueuedRecord> out;
  for (int i = 1; i <= n; ++i) {
    out.push_back({static_cast<std::uint64_t>(i), 0,
                   subject + "\n{\"message\":\"record " + std::to_string(i) + "\"}", 7});
  }
  return out;
}

TEST(NatsSubject, EachTokenIsMadeSafe) {
  EXPECT_EQ(hydra::net::nats_subject("acme", "billing", "APP"), "hydra.logs.acme.billing.APP");
  EXPECT_EQ(hydra::net::nats_subject("a.b", "my svc\t*", ">x\n"), "hydra.logs.a_b.my_svc__._x_");
  EXPECT_EQ(hydra::net::nats_subject("", "s", ""), "hydra.logs._.s._");
  std::string out;
  hydra::Record r;
  r.layer = "DB.read";
  hydra::net::nats_encoder("t", "s")(r, "{\"a\":1}\n", out);
  const auto nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(out.substr(0, nl + 1), "hydra.logs.t.s.DB_read\n");
  EXPECT_EQ(out.substr(nl + 1), "{\"a\":1}") << out;  // then the record, without its line end
}

TEST(NatsDestination, EveryRecordIsInTheStreamOnItsSubjectWithItsIdAndTheCountsReconcile) {
  hydra::test::TempDir dir;
  NatsServer server(dir.path() / "nats");
  ASSERT_TRUE(server.start());
  auto network = std::make_shared<NetworkSink>(
      nats_options(), hydra::net::make_nats_transport(target_of(server)), std::chrono::seconds(5),
      std::chrono::seconds(5), hydra::net::nats_encoder("acme", "shipper svc"));
  auto memory = std::make_shared<hydra::MemorySink>();
  hydra::LoggerConfig config;
  config.name = "shipper";
  for (const char* layer : {"APP", "DB"}) {
    config.layers[layer].destinations = {hydra::to_sink(memory, "json"),
                                         hydra::to_sink(network, "json")};
  }
  constexpr int kRecords = 1000;
  {
    hydra::Logger log(config);
    for (int i = 0; i < kRecords; ++i) {
      log.layer(i % 3 == 0 ? "DB" : "APP").info("record {} with \"quotes\" and\nnewline", i);
    }
    log.flush();
    EXPECT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  }
  StreamReader reader(server.url());
  const auto stored = reader.messages("LOGS");
  const auto lines = memory->lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRecords));
  ASSERT_EQ(stored.size(), lines.size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    std::string expected = lines[i];
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    ASSERT_EQ(stored[i].data, expected) << "message " << i;
    const bool db =
        nlohmann::json::parse(stored[i].data).dump().find("\"DB\"") != std::string::npos;
    EXPECT_EQ(stored[i].subject,
              db ? "hydra.logs.acme.shipper_svc.DB" : "hydra.logs.acme.shipper_svc.APP");
    EXPECT_EQ(stored[i].id.size(), 16u + 1 + std::to_string(i + 1).size()) << stored[i].id;
    EXPECT_TRUE(stored[i].id.ends_with("-" + std::to_string(i + 1))) << stored[i].id;
    ids.insert(stored[i].id);
  }
  EXPECT_EQ(ids.size(), stored.size());
  // The monitoring endpoint agrees.
  const auto jsz = server.http_get("/jsz");
  ASSERT_TRUE(jsz);
  EXPECT_EQ(nlohmann::json::parse(*jsz)["messages"], kRecords) << *jsz;
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, stored.size());  // reconciled with the stream
  EXPECT_EQ(counts.dropped(), 0u);
  EXPECT_TRUE(counts.balanced());
}

// A batch sent again (as a retry or a replay does) keeps its Nats-Msg-Ids:
// JetStream acknowledges them as duplicates and stores nothing new.
TEST(NatsTransport, ABatchSentAgainIsDroppedByTheStreamAsDuplicates) {
  hydra::test::TempDir dir;
  NatsServer server(dir.path() / "nats");
  ASSERT_TRUE(server.start());
  auto transport = hydra::net::make_nats_transport(target_of(server));
  const auto batch = records("hydra.logs.t.s.APP", 50);
  EXPECT_EQ(transport->send(batch).status, SendResult::Status::delivered);
  EXPECT_EQ(transport->duplicates(), 0u);
  StreamReader reader(server.url());
  EXPECT_EQ(reader.count("LOGS"), 50u);
  const auto again = transport->send(batch);
  EXPECT_EQ(again.status, SendResult::Status::delivered) << again.reason;
  EXPECT_EQ(transport->duplicates(), 50u);
  EXPECT_EQ(reader.count("LOGS"), 50u);
  const auto stored = reader.messages("LOGS");
  ASSERT_EQ(stored.size(), 50u);
  EXPECT_EQ(stored[0].id, "0000000000000007-1");
  EXPECT_EQ(stored[49].data, "{\"message\":\"record 50\"}");
}

// What JetStream refuses for good (a full stream that discards new
// messages) is rejected with its reason; what it took is delivered.
TEST(NatsTransport, WhatTheStreamRefusesIsRejectedWithTheReason) {
  hydra::test::TempDir dir;
  NatsServer server(dir.path() / "nats");
  ASSERT_TRUE(server.start());
  StreamReader reader(server.url());
  reader.add_stream("SMALL", "hydra.logs.small.>", 5);
  NatsTarget target = target_of(server);
  target.stream.clear();  // it exists
  auto transport = hydra::net::make_nats_transport(target);
  const auto result = transport->send(records("hydra.logs.small.s.APP", 8));
  ASSERT_EQ(result.status, SendResult::Status::partial) << result.reason;
  ASSERT_EQ(result.items.size(), 8u);
  int delivered = 0, rejected = 0;
  for (const auto& item : result.items) {
    if (item.outcome == SendResult::Item::Outcome::delivered) ++delivered;
    if (item.outcome == SendResult::Item::Outcome::rejected) {
      ++rejected;
      EXPECT_NE(item.reason.find("maximum messages exceeded"), std::string::npos) << item.reason;
    }
  }
  EXPECT_EQ(delivered, 5);
  EXPECT_EQ(rejected, 3);
  EXPECT_EQ(reader.count("SMALL"), 5u);
  // Bytes not in the encoder's shape: rejected, never sent.
  const std::vector<QueuedRecord> malformed = {{1, 0, "no subject", 7}};
  const auto bad = transport->send(malformed);
  EXPECT_EQ(bad.status, SendResult::Status::permanent);
  EXPECT_NE(bad.reason.find("not a subject and a record"), std::string::npos) << bad.reason;
  // No stream takes the subject: no responders, retryable.
  const auto nowhere = transport->send(records("elsewhere.x", 1));
  EXPECT_EQ(nowhere.status, SendResult::Status::retryable) << nowhere.reason;
}

// The server killed and started again while the application logs, with a
// spool: every record ends in the stream exactly once.
TEST(NatsDestinationFaults, AServerKilledAndRestartedWhileLoggingLosesAndDuplicatesNothing) {
  hydra::test::TempDir dir;
  NatsServer server(dir.path() / "nats");
  ASSERT_TRUE(server.start());
  auto options = nats_options();
  options.spool = hydra::net::SpoolOptions{};
  options.spool->dir = dir.path() / "spool";
  auto transport = hydra::net::make_nats_transport(target_of(server));
  auto* nats = transport.get();
  auto network =
      std::make_shared<NetworkSink>(options, std::move(transport), std::chrono::seconds(5),
                                    std::chrono::seconds(5), hydra::net::nats_encoder("t", "s"));
  auto write = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      hydra::Record r;
      r.time = std::chrono::system_clock::now();
      r.layer = "APP";
      network->write(r, "{\"i\":" + std::to_string(i) + "}\n");
    }
  };
  write(0, 1000);
  // Some delivered, the rest in flight or queued: the server goes.
  while (network->counts().delivered < 200) std::this_thread::yield();
  server.stop();
  write(1000, 2000);
  while (network->counts().spooled == 0) std::this_thread::yield();
  EXPECT_GT(network->counts().retries, 0u);
  ASSERT_TRUE(server.start());
  write(2000, 3000);
  EXPECT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  StreamReader reader(server.url());
  const auto stored = reader.messages("LOGS");
  std::set<std::string> payloads, ids;
  for (const auto& m : stored) {
    payloads.insert(m.data);
    ids.insert(m.id);
  }
  EXPECT_EQ(stored.size(), 3000u);
  EXPECT_EQ(payloads.size(), 3000u);
  EXPECT_EQ(ids.size(), 3000u);
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, 3000u);
  EXPECT_EQ(counts.spooled, 0u);
  EXPECT_EQ(counts.dropped(), 0u);
  EXPECT_TRUE(counts.balanced());
  // What was stored before the server went and sent again came back as duplicates.
  std::cout << "duplicates acknowledged: " << nats->duplicates() << "\n";
}

// The server down and the process ending: the records wait in the spool
// with their keys; the next process (another sink on the same spool)
// sends them once the server is up, under the keys the first one made (its
// instance, their sequence), not under keys of its own.
TEST(NatsDestinationFaults, RecordsSpooledByOneProcessArriveFromTheNextWithTheirKeys) {
  hydra::test::TempDir dir;
  NatsServer server(dir.path() / "nats");
  ASSERT_TRUE(server.start());  // for its ports
  server.stop();
  auto options = nats_options();
  options.spool = hydra::net::SpoolOptions{};
  options.spool->dir = dir.path() / "spool";
  {
    // Its shutdown does not wait long for a server that is down: what it
    // holds is in the spool already.
    NetworkSink first(options, hydra::net::make_nats_transport(target_of(server)),
                      std::chrono::seconds(5), std::chrono::milliseconds(100),
                      hydra::net::nats_encoder("t", "s"));
    for (int i = 0; i < 100; ++i) {
      hydra::Record r;
      r.time = std::chrono::system_clock::now();
      r.layer = "APP";
      first.write(r, "{\"i\":" + std::to_string(i) + "}\n");
    }
    while (first.counts().spooled < 100) std::this_thread::yield();
  }
  ASSERT_TRUE(server.start());
  NetworkSink next(options, hydra::net::make_nats_transport(target_of(server)),
                   std::chrono::seconds(5), std::chrono::seconds(5),
                   hydra::net::nats_encoder("t", "s"));
  EXPECT_TRUE(next.engine().flush(std::chrono::minutes(1)));
  // One of the next process's own.
  hydra::Record own;
  own.time = std::chrono::system_clock::now();
  own.layer = "APP";
  next.write(own, "{\"i\":100}\n");
  EXPECT_TRUE(next.engine().flush(std::chrono::minutes(1)));
  StreamReader reader(server.url());
  const auto stored = reader.messages("LOGS");
  ASSERT_EQ(stored.size(), 101u);
  const std::string first_instance = stored[0].id.substr(0, 16);
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(stored[i].id, first_instance + "-" + std::to_string(i + 1));
    EXPECT_EQ(stored[i].data, "{\"i\":" + std::to_string(i) + "}");
  }
  EXPECT_NE(stored[100].id.substr(0, 16), first_instance);
  EXPECT_EQ(stored[100].id.substr(16), "-1");
  EXPECT_EQ(next.counts().delivered, 101u);
  EXPECT_TRUE(next.counts().balanced());
}

// Connections reset in the middle of batches, through a TCP fault proxy
// (tests/support/fault_proxy.hpp) in front of nats-server: the batch that
// was cut is published again on a new connection with the same
// Nats-Msg-Ids, and the stream keeps each record once. Effectively once
// (docs/shipping.md, "Guarantees").
TEST(NatsDestinationFaults, ConnectionsResetMidBatchStillStoreEachRecordOnce) {
  hydra::test::TempDir dir;
  NatsServer server(dir.path() / "nats");
  ASSERT_TRUE(server.start());
  hydra::test::FaultProxy proxy(server.port());
  NatsTarget target = target_of(server);
  target.url = "nats://127.0.0.1:" + std::to_string(proxy.port());
  auto network = std::make_shared<NetworkSink>(
      nats_options(), hydra::net::make_nats_transport(target), std::chrono::seconds(5),
      std::chrono::seconds(5), hydra::net::nats_encoder("t", "s"));
  constexpr int kRecords = 3000;
  auto write = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      hydra::Record r;
      r.time = std::chrono::system_clock::now();
      r.layer = "APP";
      network->write(r, "{\"i\":" + std::to_string(i) + "}\n");
    }
  };
  // Three resets, each some way into what is published next.
  for (int part = 0; part < 3; ++part) {
    proxy.cut_after(20'000 + 7'919 * part);
    write(part * kRecords / 3, (part + 1) * kRecords / 3);
    ASSERT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  }
  EXPECT_EQ(proxy.cuts(), 3u);
  StreamReader reader(server.url());
  const auto stored = reader.messages("LOGS");
  std::set<std::string> payloads, ids;
  for (const auto& m : stored) {
    payloads.insert(m.data);
    ids.insert(m.id);
  }
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(payloads.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kRecords));
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, static_cast<std::uint64_t>(kRecords));
  EXPECT_GE(counts.retries, 3u);
  EXPECT_TRUE(counts.balanced());
}

// type = "nats" in a configuration file: its options checked, the format
// json unless said otherwise, the service the program's name by default.
TEST(NatsDestinationConfig, AFileNamesItByTypeWithItsOptions) {
  hydra::test::TempDir dir;
  NatsServer server(dir.path() / "nats");
  ASSERT_TRUE(server.start());
  const std::string file = dir.file("ship.toml");
  hydra::test::write_file(file,
                          "name = \"cfg\"\n[[layers.APP.destinations]]\ntype = \"nats\"\n"
                          "url = \"" +
                              server.url() +
                              "\"\ntenant = \"acme\"\nstream = \"HYDRA\"\n"
                              "linger = \"10ms\"\nretry_initial = \"10ms\"\n");
  {
    hydra::Logger log(hydra::load_config(file));
    for (int i = 0; i < 10; ++i) log.layer("APP").info("from a file {}", i);
    log.flush();
  }
  StreamReader reader(server.url());
  const auto stored = reader.messages("HYDRA");
  ASSERT_EQ(stored.size(), 10u) << server.log();
  EXPECT_EQ(stored[0].subject, "hydra.logs.acme.hydra_net_tests.APP");
  const auto json = nlohmann::json::parse(stored[9].data);
  EXPECT_NE(json.dump().find("from a file 9"), std::string::npos) << stored[9].data;

  hydra::test::write_file(file, "[[layers.APP.destinations]]\ntype = \"nats\"\ntimeout = \"x\"\n");
  std::string error = hydra::test::config_error_of([&] { hydra::load_config(file); });
  EXPECT_NE(error.find("timeout"), std::string::npos) << error;
  hydra::test::write_file(file, "[[layers.APP.destinations]]\ntype = \"nats\"\nsubject = \"x\"\n");
  error = hydra::test::config_error_of([&] { hydra::load_config(file); });
  EXPECT_NE(error.find("subject"), std::string::npos) << error;
}

}  // namespace
