#include "hydra/sink/console_sink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "sink/sink_test_support.hpp"

namespace hydra {
namespace {

using test::record_at;

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    if (fds[0] >= 0) ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  std::string read_available() const {
    std::string out;
    char buf[4096];
    const int flags = ::fcntl(fds[0], F_GETFL);
    ::fcntl(fds[0], F_SETFL, flags | O_NONBLOCK);
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, n);
    ::fcntl(fds[0], F_SETFL, flags);
    return out;
  }
  int fds[2] = {-1, -1};
};

TEST(ConsoleSink, WritesExactBytesToAPipe) {
  Pipe pipe;
  ConsoleSink sink(pipe.fds[1]);
  sink.write(record_at(), "one\n");
  sink.write(record_at(Level::error), "two \x1b[31mred\x1b[0m\n");
  sink.flush();
  EXPECT_EQ(pipe.read_available(), "one\ntwo \x1b[31mred\x1b[0m\n");
  EXPECT_EQ(sink.write_errors(), 0U);
}

TEST(ConsoleSink, IsNotATerminalOnAPipe) {
  Pipe pipe;
  EXPECT_FALSE(ConsoleSink(pipe.fds[1]).is_terminal());
}

TEST(ConsoleSink, FullNonBlockingPipeCountsAnErrorInsteadOfBlocking) {
  Pipe pipe;
  ASSERT_EQ(::fcntl(pipe.fds[1], F_SETFL, O_NONBLOCK), 0);
  ASSERT_GT(::fcntl(pipe.fds[1], F_SETPIPE_SZ, 4096), 0);
  ConsoleSink sink(pipe.fds[1]);
  testing::internal::CaptureStderr();
  const std::string big(64 * 1024, 'x');
  sink.write(record_at(), big);  // cannot fit: waits briefly, then gives up
  sink.write(record_at(), big);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(sink.write_errors(), 2U);
  EXPECT_EQ(test::count_of(err, "write failed"), 1U) << err;
}

TEST(ConsoleSink, BadDescriptorIsCountedNotThrown) {
  int fd = 1000;  // a descriptor nobody has open
  while (::fcntl(fd, F_GETFD) != -1) ++fd;
  testing::internal::CaptureStderr();
  ConsoleSink sink(fd);
  EXPECT_NO_THROW(sink.write(record_at(), "lost\n"));
  EXPECT_NO_THROW(sink.write(record_at(), "lost\n"));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(sink.write_errors(), 2U);
  EXPECT_EQ(test::count_of(err, "Bad file descriptor"), 1U) << err;
}

}  // namespace
}  // namespace hydra
