// The `syslog` destination over TLS (RFC 5425) against a real rsyslog with
// a gtls input (tests/support/rsyslog.hpp), with throw-away certificates
// (tests/support/tls_certs.py): records arrive byte for byte and the counts
// reconcile; a server certificate from another CA, or for another name, is
// refused and nothing counts as delivered; a server that requires a client
// certificate gets one, and without one the client says why; and the
// destination named in a configuration file.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <hydra/config/loader.hpp>
#include <hydra/hydra.hpp>
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
using hydra::test::TlsInput;

// A CA, a server certificate for 127.0.0.1 and localhost, and a client
// certificate, in `dir`.
struct Pki {
  explicit Pki(const std::filesystem::path& d) : dir(d) {
    const std::string command = std::string("'") + HYDRA_PYTHON3 + "' '" + HYDRA_TEST_SUPPORT +
                                "/tls_certs.py' '" + dir.string() + "' --client --localhost";
    made = std::system(command.c_str()) == 0;
  }
  std::filesystem::path ca() const { return dir / "ca.pem"; }
  TlsInput input(std::string auth_mode = "anon") const {
    return {ca(), dir / "server.pem", dir / "server.key", std::move(auth_mode)};
  }
  std::filesystem::path dir;
  bool made = false;
};

SyslogTarget tls_target(const RsyslogServer& server, const Pki& pki) {
  SyslogTarget target;
  target.protocol = SyslogTarget::Protocol::tls;
  target.port = server.tls_port();
  target.ca_file = pki.ca().string();
  target.timeout = std::chrono::seconds(10);
  return target;
}

// Logs `records` lines (hostile ones among them) through a logger with the
// TLS destination and a memory sink beside it; returns what the formatter
// wrote, without line ends: what the server must have received.
std::vector<std::string> log_records(const std::shared_ptr<NetworkSink>& network, int records) {
  auto memory = std::make_shared<hydra::MemorySink>();
  hydra::LoggerConfig config;
  config.name = "shipper";
  config.layers["APP"].destinations = {hydra::to_sink(memory, "syslog"),
                                       hydra::to_sink(network, "syslog")};
  {
    hydra::Logger log(config);
    for (int i = 0; i < records; ++i) {
      if (i % 50 == 7) {
        log.layer("APP").warning("hostile {}: CR\rLF\nESC\x1b[31m bad\xff utf8", i);
      } else {
        log.layer("APP").info("record {} of {}", i, records);
      }
    }
    log.flush();
  }
  std::vector<std::string> out;
  for (std::string line : memory->lines()) {
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

void expect_delivered(const RsyslogServer& server, const std::shared_ptr<NetworkSink>& network,
                      int records) {
  const auto expected = log_records(network, records);
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(records));
  EXPECT_TRUE(network->engine().flush(std::chrono::minutes(1))) << network->engine().last_error();
  const auto received = server.wait_for("tls", expected.size());
  ASSERT_EQ(received.size(), expected.size()) << server.output();
  for (std::size_t i = 0; i < received.size(); ++i) {
    ASSERT_EQ(received[i], expected[i]) << "record " << i;
  }
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, received.size());  // reconciled with the server
  EXPECT_EQ(counts.dropped(), 0u);
  EXPECT_TRUE(counts.balanced());
}

// Sends a record that must not get through, and returns the engine's
// last_error once a send has failed (polled, bounded: the engine retries
// on its own time). Nothing is counted delivered.
std::string refusal_of(const std::shared_ptr<NetworkSink>& network) {
  hydra::Record r;
  r.time = std::chrono::system_clock::now();
  network->write(r, "<14>1 - host app - - - must not arrive\n");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // (The engine counts the retry a moment before it records the error.)
  while ((network->counts().retries == 0 || network->engine().last_error().empty()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_GT(network->counts().retries, 0u);
  EXPECT_EQ(network->counts().delivered, 0u);
  EXPECT_TRUE(network->engine().failing());
  return network->engine().last_error();
}

class SyslogTls : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.made) << "tls_certs.py failed"; }
  hydra::test::TempDir dir_;
  Pki pki_{dir_.path() / "pki"};
};

TEST_F(SyslogTls, DeliversEveryRecordByteForByteAndTheCountsReconcile) {
  RsyslogServer server(dir_.path() / "rsyslog", pki_.input());
  ASSERT_TRUE(server.start());
  auto network = std::make_shared<NetworkSink>(
      fast("tls"), hydra::net::make_syslog_transport(tls_target(server, pki_)));
  expect_delivered(server, network, 1000);
}

// The server restarts between two batches: the connection it closed is
// noticed before the next batch goes into it, and a new one is made.
TEST_F(SyslogTls, AConnectionTheServerClosedIsReplaced) {
  RsyslogServer server(dir_.path() / "rsyslog", pki_.input());
  ASSERT_TRUE(server.start());
  auto network = std::make_shared<NetworkSink>(
      fast("tls"), hydra::net::make_syslog_transport(tls_target(server, pki_)));
  std::vector<std::string> sent;
  const auto send = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      sent.push_back("<14>1 - host app - - - restart " + std::to_string(i));
      hydra::Record r;
      r.time = std::chrono::system_clock::now();
      network->write(r, sent.back() + "\n");
    }
    EXPECT_TRUE(network->engine().flush(std::chrono::minutes(1))) << network->engine().last_error();
  };
  send(0, 50);
  ASSERT_EQ(server.wait_for("tls", 50).size(), 50u) << server.output();
  server.stop();
  ASSERT_TRUE(server.start());  // the same port, the same output file
  send(50, 100);
  EXPECT_EQ(server.wait_for("tls", 100), sent);
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, 100u);
  EXPECT_TRUE(counts.balanced());
}

// The certificate is for 127.0.0.1 and localhost: a host name is checked
// (and sent as SNI) as an address is; server_name replaces host for both.
TEST_F(SyslogTls, TheServerMustBeTheOneItsCertificateNames) {
  RsyslogServer server(dir_.path() / "rsyslog", pki_.input());
  ASSERT_TRUE(server.start());
  auto target = tls_target(server, pki_);
  target.server_name = "localhost";
  auto named =
      std::make_shared<NetworkSink>(fast("tls"), hydra::net::make_syslog_transport(target));
  expect_delivered(server, named, 20);

  target.server_name = "elsewhere.example";
  auto wrong =
      std::make_shared<NetworkSink>(fast("tls"), hydra::net::make_syslog_transport(target));
  const std::string error = refusal_of(wrong);
  EXPECT_NE(error.find("TLS handshake with 127.0.0.1:" + std::to_string(server.tls_port()) +
                       ": certificate verify failed: hostname mismatch"),
            std::string::npos)
      << error;
  EXPECT_EQ(server.wait_for("tls", 20).size(), 20u);  // only the first sink's
  wrong->engine().shutdown(std::chrono::milliseconds(0));
}

// A server certificate from a CA the client does not trust (ca_file is
// another one, or the system's store) is refused.
TEST_F(SyslogTls, AnUntrustedServerCertificateIsRefused) {
  RsyslogServer server(dir_.path() / "rsyslog", pki_.input());
  ASSERT_TRUE(server.start());
  const Pki other(dir_.path() / "other");
  ASSERT_TRUE(other.made);
  auto target = tls_target(server, pki_);
  target.ca_file = other.ca().string();
  auto network =
      std::make_shared<NetworkSink>(fast("tls"), hydra::net::make_syslog_transport(target));
  std::string error = refusal_of(network);
  EXPECT_NE(error.find("TLS handshake with 127.0.0.1:" + std::to_string(server.tls_port()) +
                       ": certificate verify failed: unable to get local issuer certificate"),
            std::string::npos)
      << error;
  network->engine().shutdown(std::chrono::milliseconds(0));

  target.ca_file.clear();  // the system's store
  auto system =
      std::make_shared<NetworkSink>(fast("tls"), hydra::net::make_syslog_transport(target));
  error = refusal_of(system);
  EXPECT_NE(error.find("certificate verify failed: unable to get local issuer certificate"),
            std::string::npos)
      << error;
  system->engine().shutdown(std::chrono::milliseconds(0));
  EXPECT_TRUE(server.wait_for("tls", 0).empty());
}

// rsyslog with AuthMode x509/certvalid requires a client certificate from
// its CA: it gets one; a client without one is told why.
TEST_F(SyslogTls, AServerThatRequiresAClientCertificateGetsIt) {
  RsyslogServer server(dir_.path() / "rsyslog", pki_.input("x509/certvalid"));
  ASSERT_TRUE(server.start());
  auto target = tls_target(server, pki_);
  auto anonymous =
      std::make_shared<NetworkSink>(fast("tls"), hydra::net::make_syslog_transport(target));
  const std::string error = refusal_of(anonymous);
  EXPECT_NE(error.find("TLS handshake with 127.0.0.1:" + std::to_string(server.tls_port()) +
                       ": the server refused the connection after the handshake ("),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("): it asked for a client certificate, and there is none (cert_file)"),
            std::string::npos)
      << error;
  anonymous->engine().shutdown(std::chrono::milliseconds(0));

  target.cert_file = (pki_.dir / "client.pem").string();
  target.key_file = (pki_.dir / "client.key").string();
  auto network =
      std::make_shared<NetworkSink>(fast("tls"), hydra::net::make_syslog_transport(target));
  expect_delivered(server, network, 500);
}

TEST_F(SyslogTls, AMissingCertificateFileIsAnErrorNamingIt) {
  SyslogTarget target;
  target.protocol = SyslogTarget::Protocol::tls;
  target.ca_file = (dir_.path() / "absent.pem").string();
  try {
    hydra::net::make_syslog_transport(target);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "ca_file '" + target.ca_file + "': No such file or directory");
  }
}

// protocol = "tls" in a configuration file, the port given (6514 when not).
TEST_F(SyslogTls, AFileNamesItWithItsOptions) {
  RsyslogServer server(dir_.path() / "rsyslog", pki_.input("x509/certvalid"));
  ASSERT_TRUE(server.start());
  const std::string file = dir_.file("ship.toml");
  const std::string destination =
      "[[layers.APP.destinations]]\ntype = \"syslog\"\n"
      "protocol = \"tls\"\nca_file = \"" +
      pki_.ca().string() + "\"\n";
  hydra::test::write_file(file, "name = \"cfg\"\n" + destination +
                                    "port = " + std::to_string(server.tls_port()) +
                                    "\nserver_name = \"localhost\"\ncert_file = \"" +
                                    (pki_.dir / "client.pem").string() + "\"\nkey_file = \"" +
                                    (pki_.dir / "client.key").string() + "\"\nlinger = \"10ms\"\n");
  {
    hydra::Logger log(hydra::load_config(file));
    for (int i = 0; i < 10; ++i) log.layer("APP").info("from a file {}", i);
    log.flush();
  }
  const auto received = server.wait_for("tls", 10);
  ASSERT_EQ(received.size(), 10u) << server.output();
  EXPECT_TRUE(received[0].starts_with("<14>1 ")) << received[0];
  EXPECT_NE(received[9].find("from a file 9"), std::string::npos) << received[9];

  hydra::test::write_file(file, destination + "cert_file = \"/nonexistent/client.pem\"\n");
  const std::string error =
      hydra::test::config_error_of([&] { hydra::Logger log(hydra::load_config(file)); });
  EXPECT_NE(error.find("option cert_file '/nonexistent/client.pem': No such file or directory"),
            std::string::npos)
      << error;
}

}  // namespace
