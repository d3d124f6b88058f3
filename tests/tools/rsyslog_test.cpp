// Hydra's syslog lines read by a real rsyslog server (imtcp, LF framing): every
// header field, the structured data and the message must come out of
// rsyslog's RFC 5424 parser exactly as Hydra wrote them, hostile content
// included. Needs /usr/sbin/rsyslogd (scripts/install-deps.sh installs it);
// the test fails, never skips, without it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <hydra/hydra.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/ports.hpp"
#include "test_util.hpp"

namespace {

using hydra::test::TempDir;
using nlohmann::json;
using namespace std::string_literals;

constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";
constexpr auto kDeadline = std::chrono::seconds(10);

// Writes each parsed message as one JSON object of the properties below;
// "sd" is the structured data as mmpstrucdata parsed it (unescaped values),
// {"SD-ID": {"PARAM-NAME": "value", ...}}.
constexpr const char* kTemplate = R"(template(name="json" type="list") {
  constant(value="{") property(outname="pri" name="pri" format="jsonf")
  constant(value=",") property(outname="timereported" name="timereported" dateFormat="rfc3339" format="jsonf")
  constant(value=",") property(outname="hostname" name="hostname" format="jsonf")
  constant(value=",") property(outname="app-name" name="app-name" format="jsonf")
  constant(value=",") property(outname="procid" name="procid" format="jsonf")
  constant(value=",") property(outname="msgid" name="msgid" format="jsonf")
  constant(value=",") property(outname="structured-data" name="structured-data" format="jsonf")
  constant(value=",") property(outname="msg" name="msg" format="jsonf")
  constant(value=",\"sd\":") property(name="$!rfc5424-sd")
  constant(value="}\n")
}
)";

int connect_local(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// rsyslogd as a child process with its own config, work directory, pidfile
// and port, writing what it receives to received.jsonl. Stopped (SIGTERM,
// then waited for) by the destructor.
class Rsyslog {
 public:
  explicit Rsyslog(const TempDir& dir) : dir_(dir) {}
  ~Rsyslog() { stop(); }
  Rsyslog(const Rsyslog&) = delete;
  Rsyslog& operator=(const Rsyslog&) = delete;

  ::testing::AssertionResult start() {
    if (::access(kRsyslogd, X_OK) != 0) {
      return ::testing::AssertionFailure()
             << kRsyslogd
             << " not found: rsyslog is needed by this test; run scripts/install-deps.sh";
    }
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {  // the port may be taken meanwhile
      port_ = hydra::test::free_port();
      if (port_ <= 0) return ::testing::AssertionFailure() << "no free TCP port";
      why = launch();
      if (why.empty()) return ::testing::AssertionSuccess();
      stop();
    }
    return ::testing::AssertionFailure() << why;
  }

  // Sends `bytes` over one TCP connection, then closes it.
  ::testing::AssertionResult send(const std::string& bytes) const {
    const int fd = connect_local(port_);
    if (fd < 0) return ::testing::AssertionFailure() << "connect: " << std::strerror(errno);
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int e = errno;
        ::close(fd);
        return ::testing::AssertionFailure() << "send: " << std::strerror(e);
      }
      sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
    return ::testing::AssertionSuccess();
  }

  // The received lines, once there are `count` of them or the deadline
  // has passed (then fewer).
  std::vector<std::string> wait_for_lines(std::size_t count) const {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    std::vector<std::string> lines;
    while (true) {
      const std::string text = hydra::test::read_file(dir_.file("received.jsonl"));
      // Only complete lines count: omfile may be mid-write.
      lines = hydra::test::split_lines(text.substr(0, text.rfind('\n') + 1));
      if (lines.size() >= count || std::chrono::steady_clock::now() > deadline) return lines;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // What rsyslogd printed (for failure messages).
  std::string output() const { return hydra::test::read_file(dir_.file("rsyslogd.out")); }

 private:
  // Starts rsyslogd on port_ and waits until it accepts connections; returns
  // why it failed, or "".
  std::string launch() {
    const std::string work = dir_.file("work");
    std::filesystem::create_directories(work);
    const std::string conf = dir_.file("rsyslog.conf");
    hydra::test::write_file(
        conf, "global(workDirectory=\"" + work +
                  "\" maxMessageSize=\"64k\" parser.escapeControlCharactersOnReceive=\"off\")\n"
                  "module(load=\"imtcp\")\nmodule(load=\"mmpstrucdata\")\n" +
                  kTemplate +
                  "ruleset(name=\"remote\") {\n  action(type=\"mmpstrucdata\")\n"
                  "  action(type=\"omfile\" file=\"" +
                  dir_.file("received.jsonl") +
                  "\" template=\"json\")\n}\n"
                  "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" +
                  std::to_string(port_) + "\" ruleset=\"remote\")\n");
    const std::string out = dir_.file("rsyslogd.out"), pidfile = dir_.file("rsyslogd.pid");
    std::vector<std::string> argv = {kRsyslogd, "-n", "-f", conf, "-i", pidfile};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = ::posix_spawn(&pid_, kRsyslogd, &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return "posix_spawn " + std::string(kRsyslogd) + ": " + std::strerror(rc);
    }
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "rsyslogd exited at start-up (status " + std::to_string(status) + "):\n" + output();
      }
      const int fd = connect_local(port_);
      if (fd >= 0) {
        ::close(fd);
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "rsyslogd did not listen on port " + std::to_string(port_) + " within 10 s:\n" +
           output();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "rsyslogd ignored SIGTERM for 10 s; killing it";
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  const TempDir& dir_;
  int port_ = -1;
  pid_t pid_ = -1;
};

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// Parses rsyslog's JSON lines; a line that is not JSON is a failure.
std::vector<json> parse_received(const std::vector<std::string>& lines) {
  std::vector<json> parsed;
  for (const auto& l : lines) {
    json j = json::parse(l, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "rsyslog wrote a line that is not JSON: " << l;
    parsed.push_back(j.is_discarded() ? json::object() : std::move(j));
  }
  return parsed;
}

// The line rebuilt from what rsyslog parsed: equal to what Hydra wrote only
// if every field boundary was found where Hydra put it.
std::string rebuild(const json& r) {
  std::string line = "<" + r.value("pri", "?") + ">1 " + r.value("timereported", "?") + " " +
                     r.value("hostname", "?") + " " + r.value("app-name", "?") + " " +
                     r.value("procid", "?") + " " + r.value("msgid", "?") + " " +
                     r.value("structured-data", "?");
  const std::string msg = r.value("msg", "?");
  if (!msg.empty()) line += " " + msg;
  return line;
}

// The params of the one SD element, hydra@32473, as mmpstrucdata parsed them.
json hydra_element(const json& r) {
  const json sd = r.value("sd", json::object());
  EXPECT_EQ(sd.size(), 1u) << "not one SD element: " << sd.dump();
  return sd.value("hydra@32473", json::object());
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

struct Case {
  std::string input;     // one stdin line of hydra pipe
  std::string expected;  // the MSG: the line, text-escaped (docs/formats.md, Escaping)
};

TEST(rsyslog, ParsesHydraPipeSyslogLinesExactly) {
  TempDir dir;
  Rsyslog server(dir);
  ASSERT_TRUE(server.start());

  const std::string big_a(5000, 'a'), big_b(5000, 'b');
  const std::vector<Case> cases = {
      {"plain line", "plain line"},
      {"forged\r<12>1 2019-01-01T00:00:00Z evil app 1 WEB - admin logged in",
       "forged\\r<12>1 2019-01-01T00:00:00Z evil app 1 WEB - admin logged in"},
      {"ansi \x1b[31mred\x1b[0m bell \x07 del \x7f tab\tend",
       "ansi \\x1b[31mred\\x1b[0m bell \\x07 del \\x7f tab\\tend"},
      {"bad utf8 \xff\xfe end, overlong \xc0\xaf, truncated \xe2\x82",
       "bad utf8 \\xff\\xfe end, overlong \\xc0\\xaf, truncated \\xe2\\x82"},
      {"sd breakers ] \"] \\ \\] [x@1 a=\"b\"] \"", "sd breakers ] \"] \\ \\] [x@1 a=\"b\"] \""},
      {"[hydra@32473 logger=\"forged\"] sd in the message",
       "[hydra@32473 logger=\"forged\"] sd in the message"},
      {"c1 \xc2\x85 nel, nul \0 byte"s, "c1 \\u0085 nel, nul \\x00 byte"},
      {"utf8 caf\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
       "utf8 caf\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"},
      {"  two leading spaces, trailing one ", "  two leading spaces, trailing one "},
      {"\xef\xbb\xbf"
       "BOM first",
       "\xef\xbb\xbf"
       "BOM first"},  // rsyslog keeps it in msg
      {"", ""},       // no MSG at all
      {big_a + "\x1b" + big_b + "]\"\\", big_a + "\\x1b" + big_b + "]\"\\"},  // 10 KB
  };
  std::string input;
  for (const auto& c : cases) input += c.input + "\n";

  const hydra::test::ProcessResult piped =
      hydra::test::run_process({HYDRA_CLI, "pipe", "--format", "syslog", "--layer", "WEB",
                                "--level", "warning", "--name", "shop"},
                               input);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  const auto sent = hydra::test::split_lines(piped.out);
  ASSERT_EQ(sent.size(), cases.size()) << piped.out;

  ASSERT_TRUE(server.send(piped.out));
  const auto received = parse_received(server.wait_for_lines(cases.size()));
  ASSERT_EQ(received.size(), cases.size()) << "rsyslogd output:\n" << server.output();

  const std::string pid = std::to_string(piped.pid);
  const std::regex sd(R"(\[hydra@32473 logger="shop" thread="[0-9]+"\])");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i) + ": " + sent[i].substr(0, 200));
    const json& r = received[i];
    EXPECT_EQ(r.value("pri", ""), "12");  // user (1) * 8 + warning (4)
    EXPECT_EQ(r.value("timereported", ""), sent[i].substr(6, sent[i].find(' ', 6) - 6));
    EXPECT_EQ(r.value("hostname", ""), host_name());
    EXPECT_EQ(r.value("app-name", ""), "hydra");
    EXPECT_EQ(r.value("procid", ""), pid);
    EXPECT_EQ(r.value("msgid", ""), "WEB");
    EXPECT_TRUE(std::regex_match(r.value("structured-data", ""), sd))
        << r.value("structured-data", "");
    json params = hydra_element(r);
    EXPECT_TRUE(all_digits(params.value("thread", ""))) << params.dump();
    params.erase("thread");
    EXPECT_EQ(params, json({{"logger", "shop"}}));
    EXPECT_EQ(r.value("msg", ""), cases[i].expected);
    EXPECT_EQ(rebuild(r), sent[i]);
  }
}

TEST(rsyslog, ParsesEscapedStructuredDataParams) {
  TempDir dir;
  Rsyslog server(dir);
  ASSERT_TRUE(server.start());

  const std::string path = dir.file("app.log");
  {
    hydra::LoggerConfig config;
    config.name = "hy\"dra]";
    config.default_layer = "ORDERS";
    config.layers["ORDERS"].destinations.push_back(hydra::file(path, "syslog"));
    hydra::Logger log(std::move(config));
    log.warning("order {id} by {user}: {note}", 42, "a]b\"c\\d", "x\ny\x1b[2J\xff");
    log.with({{"logger", "forged"}, {"k]e\"y =", "v]"}, {"ok", true}, {"ratio", 0.5}})
        .error("bound {n}", 7);
    log.flush();
  }
  const auto sent = hydra::test::split_lines(hydra::test::read_file(path));
  ASSERT_EQ(sent.size(), 2u);

  ASSERT_TRUE(server.send(hydra::test::read_file(path)));
  const auto received = parse_received(server.wait_for_lines(sent.size()));
  ASSERT_EQ(received.size(), sent.size()) << "rsyslogd output:\n" << server.output();

  // RFC 5424 6.3.3: '"', '\' and ']' in a PARAM-VALUE are escaped with '\';
  // the controls and the invalid byte get Hydra's text escaping.
  const std::string prefix = R"([hydra@32473 logger="hy\"dra\]" file=")";
  const std::vector<std::string> suffixes = {
      R"( id="42" user="a\]b\"c\\d" note="x\ny\x1b[2J\xff"])",
      R"( n="7" field_logger="forged" k_e_y__="v\]" ok="true" ratio="0.5"])",
  };
  const std::vector<std::string> messages = {R"(order 42 by a]b"c\d: x\ny\x1b[2J\xff)", "bound 7"};
  const std::vector<std::string> pris = {"12", "11"};  // user * 8 + warning (4) / error (3)
  // The same params unescaped by mmpstrucdata (RFC 5424: only \", \\ and \]
  // are escapes, so Hydra's \n and \x1b stay as written). Source and thread
  // are checked apart.
  const std::vector<json> params = {
      {{"logger", "hy\"dra]"}, {"id", "42"}, {"user", "a]b\"c\\d"}, {"note", R"(x\ny\x1b[2J\xff)"}},
      {{"logger", "hy\"dra]"},
       {"n", "7"},
       {"field_logger", "forged"},
       {"k_e_y__", "v]"},
       {"ok", "true"},
       {"ratio", "0.5"}},
  };
  for (std::size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i) + ": " + sent[i]);
    const json& r = received[i];
    EXPECT_EQ(r.value("pri", ""), pris[i]);
    EXPECT_EQ(r.value("hostname", ""), host_name());
    EXPECT_EQ(r.value("app-name", ""), program_invocation_short_name);
    EXPECT_EQ(r.value("procid", ""), std::to_string(::getpid()));
    EXPECT_EQ(r.value("msgid", ""), "ORDERS");
    const std::string data = r.value("structured-data", "");
    EXPECT_EQ(data.substr(0, prefix.size()), prefix) << data;
    ASSERT_GE(data.size(), suffixes[i].size()) << data;
    EXPECT_EQ(data.substr(data.size() - suffixes[i].size()), suffixes[i]) << data;
    EXPECT_NE(data.find(R"(" line=")"), std::string::npos) << data;
    EXPECT_NE(data.find(R"(" thread=")"), std::string::npos) << data;
    json parsed = hydra_element(r);
    EXPECT_EQ(parsed.value("file", ""), __FILE__);
    EXPECT_TRUE(all_digits(parsed.value("line", ""))) << parsed.dump();
    EXPECT_NE(parsed.value("function", "").find("TestBody"), std::string::npos) << parsed.dump();
    EXPECT_TRUE(all_digits(parsed.value("thread", ""))) << parsed.dump();
    for (const char* key : {"file", "line", "function", "thread"}) parsed.erase(key);
    EXPECT_EQ(parsed, params[i]);
    EXPECT_EQ(r.value("msg", ""), messages[i]);
    EXPECT_EQ(rebuild(r), sent[i]);
  }
}

}  // namespace
