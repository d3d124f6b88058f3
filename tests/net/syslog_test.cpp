// The `syslog` destination against a real rsyslog (tests/support/rsyslog.hpp)
// over TCP with octet counting, UDP and a Unix socket: every record arrives,
// byte for byte as the syslog format wrote it (hostile content included),
// and the engine's counts reconcile with what the server received. Then the
// server down at first, and restarted in the middle with a spool; and the
// destination named in a configuration file.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
#include <hydra/net/destinations.hpp>
#include <hydra/net/network_sink.hpp>
#include <hydra/net/syslog.hpp>
#include <hydra/sink/memory_sink.hpp>

#include "fast_delivery.hpp"
#include "support/rsyslog.hpp"
#include "test_util.hpp"

namespace {

using hydra::test::fast;

using hydra::net::NetworkSink;
using hydra::net::SyslogTarget;
using hydra::test::RsyslogServer;

// The syslog lines as the formatter wrote them, without their line end:
// what the server must have received.
std::vector<std::string> expected_of(const hydra::MemorySink& memory) {
  std::vector<std::string> out;
  for (std::string line : memory.lines()) {
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

struct Case {
  const char* name;
  SyslogTarget::Protocol protocol;
  int records;
};

class SyslogDestination : public ::testing::TestWithParam<Case> {
 protected:
  hydra::test::TempDir dir_;
};

TEST_P(SyslogDestination, DeliversEveryRecordByteForByteAndTheCountsReconcile) {
  const Case c = GetParam();
  RsyslogServer server(dir_.path() / "rsyslog");
  ASSERT_TRUE(server.start());
  SyslogTarget target;
  target.protocol = c.protocol;
  target.port = c.protocol == SyslogTarget::Protocol::tcp ? server.tcp_port() : server.udp_port();
  target.path = server.socket_path();
  auto network =
      std::make_shared<NetworkSink>(fast(c.name), hydra::net::make_syslog_transport(target));
  auto memory = std::make_shared<hydra::MemorySink>();
  hydra::LoggerConfig config;
  config.name = "shipper";
  config.layers["APP"].destinations = {hydra::to_sink(memory, "syslog"),
                                       hydra::to_sink(network, "syslog")};
  {
    hydra::Logger log(config);
    for (int i = 0; i < c.records; ++i) {
      if (i % 50 == 7) {
        log.layer("APP").warning("hostile {}: CR\rLF\nESC\x1b[31m bad\xff utf8", i);
      } else {
        log.layer("APP").info("record {} of {}", i, c.records);
      }
    }
    log.flush();
    EXPECT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  }
  const auto expected = expected_of(*memory);
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(c.records));
  const auto received = server.wait_for(c.name, expected.size());
  ASSERT_EQ(received.size(), expected.size()) << server.output();
  for (std::size_t i = 0; i < received.size(); ++i) {
    ASSERT_EQ(received[i], expected[i]) << "record " << i;
  }
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, received.size());  // reconciled with the server
  EXPECT_EQ(counts.dropped(), 0u);
  EXPECT_TRUE(counts.balanced());
}

INSTANTIATE_TEST_SUITE_P(Protocols, SyslogDestination,
                         ::testing::Values(Case{"tcp", SyslogTarget::Protocol::tcp, 2000},
                                           Case{"udp", SyslogTarget::Protocol::udp, 100},
                                           Case{"unix", SyslogTarget::Protocol::unix_socket, 200}),
                         [](const auto& info) { return std::string(info.param.name); });

// The server is not there at first; the spool holds the records; once it
// starts they all arrive, in order, exactly once each.
TEST(SyslogDestinationFaults, RecordsWaitInTheSpoolUntilTheServerComesUp) {
  hydra::test::TempDir dir;
  RsyslogServer server(dir.path() / "rsyslog");
  ASSERT_TRUE(server.start());  // for its ports
  server.stop();
  SyslogTarget target;
  target.protocol = SyslogTarget::Protocol::tcp;
  target.port = server.tcp_port();
  auto options = fast("tcp");
  options.spool = hydra::net::SpoolOptions{};
  options.spool->dir = dir.path() / "spool";
  auto network = std::make_shared<NetworkSink>(options, hydra::net::make_syslog_transport(target));
  std::vector<std::string> sent;
  for (int i = 0; i < 100; ++i) {
    sent.push_back("<14>1 - host app - - - down " + std::to_string(i));
    hydra::Record r;
    r.time = std::chrono::system_clock::now();
    network->write(r, sent.back() + "\n");
  }
  // Nothing listens: the records go to the spool.
  while (network->counts().spooled < 100) std::this_thread::yield();
  EXPECT_GT(network->counts().retries, 0u);
  EXPECT_NE(network->engine().last_error().find("Connection refused"), std::string::npos)
      << network->engine().last_error();
  ASSERT_TRUE(server.start());
  EXPECT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  EXPECT_EQ(server.wait_for("tcp", 100), sent);
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, 100u);
  EXPECT_EQ(counts.spooled, 0u);
  EXPECT_TRUE(counts.balanced());
}

// type = "syslog" in a configuration file: its options checked, the format
// syslog unless said otherwise.
TEST(SyslogDestinationConfig, AFileNamesItByTypeWithItsOptions) {
  hydra::test::TempDir dir;
  RsyslogServer server(dir.path() / "rsyslog");
  ASSERT_TRUE(server.start());
  const std::string file = dir.file("ship.toml");
  hydra::test::write_file(file,
                          "name = \"cfg\"\n[[layers.APP.destinations]]\ntype = \"syslog\"\n"
                          "protocol = \"tcp\"\nport = " +
                              std::to_string(server.tcp_port()) +
                              "\nlinger = \"10ms\"\nbatch_max_records = 50\n");
  {
    hydra::Logger log(hydra::load_config(file));
    for (int i = 0; i < 10; ++i) log.layer("APP").info("from a file {}", i);
    log.flush();  // waits for the destination (it is up)
    // The logger's metrics list the destination's accounting.
    const auto destinations = log.metrics().destinations;
    ASSERT_EQ(destinations.size(), 1u);
    EXPECT_EQ(destinations[0].name, "syslog tcp 127.0.0.1:" + std::to_string(server.tcp_port()));
    EXPECT_EQ(destinations[0].counts.submitted, 10u);
    EXPECT_EQ(destinations[0].counts.delivered, 10u);
    EXPECT_TRUE(destinations[0].counts.balanced());
    EXPECT_EQ(destinations[0].last_error, "");
  }
  const auto received = server.wait_for("tcp", 10);
  ASSERT_EQ(received.size(), 10u) << server.output();
  EXPECT_TRUE(received[0].starts_with("<14>1 ")) << received[0];
  EXPECT_NE(received[9].find("from a file 9"), std::string::npos) << received[9];

  hydra::test::write_file(file,
                          "[[layers.APP.destinations]]\ntype = \"syslog\"\nprotocol = \"sctp\"\n");
  // Checked when the logger makes the destination.
  std::string error =
      hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("protocol 'sctp' is not one (valid: udp, tcp, unix, tls)"),
            std::string::npos)
      << error;
  hydra::test::write_file(file, "[[layers.APP.destinations]]\ntype = \"syslog\"\nport = 70000\n");
  error = hydra::test::config_error_of([&] { hydra::load_config(file); });
  EXPECT_NE(error.find("port"), std::string::npos) << error;
  EXPECT_NE(error.find("70000"), std::string::npos) << error;
  hydra::test::write_file(file,
                          "[[layers.APP.destinations]]\ntype = \"syslog\"\noverflow = \"spool\"\n");
  error = hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("'spool' needs a spool_dir"), std::string::npos) << error;
}

}  // namespace
