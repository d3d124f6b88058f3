// The spool's promise across a crash: a process logging to a destination
// that is down, with a spool, is killed with SIGKILL in the middle of a
// flood; the next process, with the destination back, delivers every record
// that had reached the spool, in order, once each, intact. (A forked child
// does the logging: each test runs in a process of its own under ctest, so
// the child is forked before any other thread exists. The name ends in
// CrashTest so that the TSan suite, which cannot follow a fork, leaves it
// out.)
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <hydra/net/delivery.hpp>

#include "test_util.hpp"

namespace {

using hydra::net::DeliveryEngine;
using hydra::net::DeliveryOptions;
using hydra::net::QueuedRecord;
using hydra::net::SendResult;
using std::chrono::milliseconds;

class DownTransport final : public hydra::net::Transport {
 public:
  SendResult send(std::span<const QueuedRecord>) override {
    return SendResult::retry("connection refused");
  }
  std::string describe() const override { return "down"; }
};

class CollectingTransport final : public hydra::net::Transport {
 public:
  explicit CollectingTransport(std::vector<std::string>* out) : out_(out) {}
  SendResult send(std::span<const QueuedRecord> batch) override {
    for (const auto& r : batch) out_->push_back(r.bytes);
    return SendResult::ok();
  }
  std::string describe() const override { return "collecting"; }

 private:
  std::vector<std::string>* out_;
};

std::string record(std::uint64_t i) {
  return "record " + std::to_string(i) + " " + std::string(40 + i % 60, 'x') + "\n";
}

DeliveryOptions options(const std::filesystem::path& spool) {
  DeliveryOptions o;
  o.name = "crash";
  o.linger = milliseconds(0);
  o.retry = {milliseconds(1), milliseconds(2)};
  o.queue_max_bytes = 64 << 10;
  o.overflow = hydra::net::Overflow::block;  // the spool then holds a prefix, in order
  o.spool = hydra::net::SpoolOptions{};
  o.spool->dir = spool;
  o.spool->segment_bytes = 256 << 10;  // several segments
  return o;
}

// The child: floods an engine whose destination is down, reporting on `fd`
// how many records the spool holds, until it is killed (or a bound is hit).
[[noreturn]] void flood(const std::filesystem::path& spool, int fd) {
  DeliveryEngine engine(options(spool), std::make_unique<DownTransport>());
  std::uint64_t reported = 0;
  for (std::uint64_t i = 0; i < 5'000'000; ++i) {
    engine.submit(record(i), static_cast<std::int64_t>(i));
    const std::uint64_t spooled = engine.counts().spooled;
    if (spooled != reported) {
      reported = spooled;
      if (::write(fd, &reported, sizeof reported) != sizeof reported) ::_exit(3);
    }
  }
  ::_exit(2);  // never killed: the parent failed
}

TEST(SpoolCrashTest, EveryRecordThatReachedTheSpoolIsDeliveredAfterSigkill) {
  hydra::test::TempDir dir;
  const auto spool = dir.path() / "spool";
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    flood(spool, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  // Kill it once the spool holds at least 20,000 records, in the middle of
  // the flood (it goes on submitting and spooling).
  std::uint64_t spooled = 0;
  while (spooled < 20'000) {
    std::uint64_t n = 0;
    const ssize_t got = ::read(pipe_fds[0], &n, sizeof n);
    ASSERT_EQ(got, static_cast<ssize_t>(sizeof n)) << "the child ended before it was killed";
    spooled = n;
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // What it reported after the last read may be more: drain the pipe.
  for (std::uint64_t n = 0; ::read(pipe_fds[0], &n, sizeof n) == sizeof n;) spooled = n;
  ::close(pipe_fds[0]);

  // The next process, with the destination back.
  std::vector<std::string> delivered;
  {
    DeliveryEngine engine(options(spool), std::make_unique<CollectingTransport>(&delivered));
    ASSERT_TRUE(engine.flush(std::chrono::minutes(2)));
    const auto counts = engine.counts();
    EXPECT_EQ(counts.delivered, delivered.size());
    EXPECT_EQ(counts.spooled, 0u);
    EXPECT_TRUE(counts.balanced());
  }
  // Every record the child saw in the spool, and perhaps a few it wrote
  // after its last report: a prefix of what it submitted, in order, intact,
  // each once.
  ASSERT_GE(delivered.size(), spooled);
  for (std::size_t i = 0; i < delivered.size(); ++i) {
    ASSERT_EQ(delivered[i], record(i)) << "record " << i << " of " << delivered.size();
  }
}

}  // namespace
