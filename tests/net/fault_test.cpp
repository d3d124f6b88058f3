// Faults between a destination and its server, through a TCP fault proxy
// (tests/support/fault_proxy.hpp) in front of a real rsyslog: a connection
// reset in the middle of a batch (in the middle of a record), a server that
// stops reading (the sends time out), refused connections, a slow link.
// Each test checks what arrived against what was logged, and states what
// syslog over TCP promises in that case (docs/shipping.md, "Guarantees").
// (The nats tests put the proxy in front of nats-server.)
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <hydra/net/network_sink.hpp>
#include <hydra/net/syslog.hpp>

#include "support/fault_proxy.hpp"
#include "support/rsyslog.hpp"
#include "test_util.hpp"

namespace {

using hydra::net::NetworkSink;
using hydra::net::SyslogTarget;
using hydra::test::FaultProxy;
using hydra::test::RsyslogServer;
using std::chrono::milliseconds;

std::string message(int i) {
  // About 120 bytes: a batch of 100 is about 12 KiB.
  return "<14>1 2026-12-06T12:00:00.000000Z host app - - - fault record " + std::to_string(i) +
         " " + std::string(50, static_cast<char>('a' + i % 26));
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << server_.output();
    proxy_ = std::make_unique<FaultProxy>(server_.tcp_port());
  }

  std::shared_ptr<NetworkSink> sink(milliseconds timeout = milliseconds(10'000)) {
    SyslogTarget target;
    target.protocol = SyslogTarget::Protocol::tcp;
    target.port = proxy_->port();
    target.timeout = timeout;
    hydra::net::DeliveryOptions o;
    o.name = "fault";
    o.linger = milliseconds(5);
    o.batch_max_records = 100;
    o.retry = {milliseconds(5), milliseconds(20)};
    o.queue_max_bytes = 64 << 20;
    o.overflow = hydra::net::Overflow::block;
    return std::make_shared<NetworkSink>(o, hydra::net::make_syslog_transport(target));
  }

  static void write(NetworkSink& sink, int from, int to) {
    hydra::Record r;
    r.time = std::chrono::system_clock::now();
    for (int i = from; i < to; ++i) sink.write(r, message(i) + "\n");
  }

  // rsyslog's lines once the last record is among them (the engine's flush
  // says what left; rsyslog writes its file a little after).
  std::vector<std::string> received_through(int last) {
    const std::string want = message(last);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      const std::string text = hydra::test::read_file(server_.file("tcp"));
      std::vector<std::string> lines =
          hydra::test::split_lines(text.substr(0, text.rfind('\n') + 1));
      if (std::find(lines.begin(), lines.end(), want) != lines.end() ||
          std::chrono::steady_clock::now() > deadline) {
        return lines;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  // Each record 0..n-1 arrived, whole, exactly once, in order.
  static void check_exactly_once(const std::vector<std::string>& lines, int n) {
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) ASSERT_EQ(lines[i], message(i)) << "line " << i;
  }

  hydra::test::TempDir dir_;
  RsyslogServer server_{dir_.path() / "rsyslog"};
  std::unique_ptr<FaultProxy> proxy_;
};

// A reset in the middle of a batch, in the middle of a record. RFC 6587
// has no acknowledgement: the bytes the kernel took before the reset and
// the server never read are lost with the connection, and the sender cannot
// know it (docs/shipping.md, "Guarantees"): all of a flood that fit in the
// socket buffers, at worst. The next send fails, and it is made again,
// whole, on a new connection. What the server holds: the records in order,
// each once, with one run missing where the connection broke, at most one
// fragment (the record cut in two), and everything from the failed send on.
TEST_F(FaultTest, AConnectionResetMidBatchLosesOnlyWhatWasInFlightAndDeliveryGoesOn) {
  auto network = sink();
  write(*network, 0, 500);
  ASSERT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  ASSERT_EQ(received_through(499).size(), 500u);  // the proxy has passed them all on
  // Reset after 5,000 more bytes: in the middle of the next batch's 41st record.
  proxy_->cut_after(5'000);
  write(*network, 500, 2000);
  ASSERT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  while (proxy_->cuts() < 1) std::this_thread::yield();
  // The reset is in: the next send finds it, and goes again on a new connection.
  write(*network, 2000, 2200);
  ASSERT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  const auto lines = received_through(2199);
  EXPECT_EQ(proxy_->cuts(), 1u);
  EXPECT_EQ(proxy_->connections(), 2u);
  std::vector<int> arrived;
  int fragments = 0;
  for (const auto& line : lines) {
    const auto at = line.find("fault record ");
    const int i = at == std::string::npos ? -1 : std::atoi(line.c_str() + at + 13);
    if (i >= 0 && line == message(i)) {
      arrived.push_back(i);
    } else {
      ++fragments;
    }
  }
  EXPECT_LE(fragments, 1);
  ASSERT_FALSE(arrived.empty());
  // In order, each once, one run missing.
  int runs = 0, missing = 0;
  for (std::size_t k = 1; k < arrived.size(); ++k) {
    ASSERT_GT(arrived[k], arrived[k - 1]) << "out of order or twice at " << k;
    if (arrived[k] != arrived[k - 1] + 1) {
      ++runs;
      missing += arrived[k] - arrived[k - 1] - 1;
    }
  }
  EXPECT_EQ(arrived.front(), 0);
  EXPECT_EQ(arrived.back(), 2199);
  EXPECT_LE(runs, 1);
  EXPECT_GE(std::count_if(arrived.begin(), arrived.end(), [](int i) { return i >= 2000; }), 200);
  const auto counts = network->counts();
  EXPECT_EQ(counts.delivered, 2200u);  // what the kernel took: syslog's "delivered"
  EXPECT_GE(counts.retries, 1u);
  EXPECT_TRUE(counts.balanced());
  std::printf("reset mid-batch: %d record(s) lost in flight, %d fragment(s)\n", missing, fragments);
}

// A server that stops reading: a send times out, the connection is given
// up (closed: what the kernel took of it still goes out) and the batch is
// sent again on a new one. Once the server reads again, every record
// arrives, whole; the batch that timed out can arrive twice (once from
// each connection), and the record it was cut in can leave a fragment.
TEST_F(FaultTest, AStalledServerTimesOutTheSendAndEveryRecordArrives) {
  auto network = sink(milliseconds(200));
  proxy_->set_mode(FaultProxy::Mode::stall);
  // More than the socket buffers take (12 MB), so that a send must wait.
  write(*network, 0, 100'000);
  while (network->counts().retries < 2) std::this_thread::yield();
  EXPECT_NE(network->engine().last_error().find("timed out"), std::string::npos)
      << network->engine().last_error();
  proxy_->set_mode(FaultProxy::Mode::pass);
  ASSERT_TRUE(network->engine().flush(std::chrono::minutes(2)));
  const auto lines = received_through(99'999);
  std::vector<int> times(100'000, 0);
  int fragments = 0;
  for (const auto& line : lines) {
    const auto at = line.find("fault record ");
    const int i = at == std::string::npos ? -1 : std::atoi(line.c_str() + at + 13);
    if (i >= 0 && i < 100'000 && line == message(i)) {
      ++times[i];
    } else {
      ++fragments;
    }
  }
  int duplicates = 0;
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_GE(times[i], 1) << "record " << i << " never arrived";
    duplicates += times[i] - 1;
  }
  const auto counts = network->counts();
  EXPECT_LE(fragments, static_cast<int>(proxy_->connections()));
  EXPECT_EQ(counts.delivered, 100'000u);
  EXPECT_TRUE(counts.balanced());
  std::printf("stalled: %llu retries, %d duplicate(s), %d fragment(s)\n",
              static_cast<unsigned long long>(counts.retries), duplicates, fragments);
}

// Refused connections are retried until the proxy lets them through.
TEST_F(FaultTest, RefusedConnectionsAreRetriedUntilTheyPass) {
  proxy_->set_mode(FaultProxy::Mode::refuse);
  auto network = sink();
  write(*network, 0, 300);
  while (network->counts().retries < 3) std::this_thread::yield();
  EXPECT_EQ(network->counts().delivered, 0u);
  proxy_->set_mode(FaultProxy::Mode::pass);
  ASSERT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  check_exactly_once(received_through(299), 300);
  EXPECT_EQ(network->counts().delivered, 300u);
}

// A slow link (64 KiB/s): the records arrive, in order, once each; the
// application's writes are not held up by it (they only queue). How many
// are still queued when the writes return depends on the scheduler (the
// kernel's socket buffers take all 120 KB), so only the account is checked
// then: each record is submitted, and delivered, queued or being sent.
TEST_F(FaultTest, ASlowLinkDeliversEverythingInOrder) {
  proxy_->set_rate(64);
  auto network = sink();
  write(*network, 0, 1000);
  const auto at_return = network->counts();
  EXPECT_EQ(at_return.submitted, 1000u);
  EXPECT_EQ(at_return.dropped(), 0u);
  EXPECT_TRUE(at_return.balanced());
  ASSERT_TRUE(network->engine().flush(std::chrono::minutes(1)));
  check_exactly_once(received_through(999), 1000);
  EXPECT_EQ(network->counts().delivered, 1000u);
}

}  // namespace
