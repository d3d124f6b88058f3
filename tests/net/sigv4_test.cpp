// AWS Signature Version 4 against AWS's published signing test suite (the v4
// cases as kept in awslabs/aws-c-auth: tests/net/aws-sigv4-test-suite): for
// each case the request is parsed from request.txt, signed with its context,
// and the canonical request, the string to sign, the signature and the
// Authorization header must be exactly the suite's. Then the credentials:
// from the environment, from a shared credentials file, and the errors.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <hydra/net/aws_sigv4.hpp>
#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
namespace aws = hydra::net::aws;
using hydra::test::read_file;

const fs::path kSuite = HYDRA_SIGV4_SUITE;

// "2015-08-30T12:36:00Z"
std::chrono::system_clock::time_point parse_time(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// request.txt: "METHOD PATH[?QUERY] HTTP/1.1", "Name:value" lines (a line
// that starts with whitespace continues the header before), an empty line,
// the body.
aws::Request parse_request(const std::string& text, std::string& body) {
  aws::Request r;
  std::vector<std::string> lines;
  std::size_t at = 0;
  bool in_body = false;
  while (at <= text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    std::string line = text.substr(at, end - at);
    at = end + 1;
    if (in_body) {
      body += (body.empty() ? "" : "\n") + line;
      continue;
    }
    if (line.empty() && !lines.empty()) {
      in_body = true;
      continue;
    }
    lines.push_back(line);
  }
  const std::string& first = lines.at(0);
  const std::size_t space = first.find(' ');
  const std::size_t version = first.rfind(" HTTP/");
  r.method = first.substr(0, space);
  const std::string target = first.substr(space + 1, version - space - 1);
  const std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    if (lines[i][0] == ' ' || lines[i][0] == '\t') {
      r.headers.back().second += "\n" + lines[i];
      continue;
    }
    const std::size_t colon = lines[i].find(':');
    r.headers.emplace_back(lines[i].substr(0, colon), lines[i].substr(colon + 1));
  }
  return r;
}

std::vector<std::string> cases() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(kSuite)) {
    if (entry.is_directory()) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SigV4Suite : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4Suite, SignsAsTheSuiteSays) {
  const fs::path dir = kSuite / GetParam();
  const auto context = nlohmann::json::parse(read_file(dir / "context.json"));
  std::string body;
  aws::Request request = parse_request(read_file(dir / "request.txt"), body);
  request.body = body;
  aws::Credentials credentials;
  credentials.access_key_id = context["credentials"]["access_key_id"];
  credentials.secret_access_key = context["credentials"]["secret_access_key"];
  credentials.session_token = context["credentials"].value("token", "");
  aws::SigningOptions options;
  options.region = context["region"];
  options.service = context["service"];
  options.time = parse_time(context["timestamp"]);
  options.normalize_path = context.value("normalize", true);
  options.content_sha256_header = context.value("sign_body", false);
  options.sign_session_token = !context.value("omit_session_token", false);

  const aws::Signature s = aws::sign(request, credentials, options);
  EXPECT_EQ(s.canonical_request, read_file(dir / "header-canonical-request.txt"));
  EXPECT_EQ(s.string_to_sign, read_file(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(s.signature, read_file(dir / "header-signature.txt"));
  // Every header we add is in the suite's signed request, with its value
  // (names compare without case: the suite writes x-amz-content-sha256).
  std::string body_unused;
  const aws::Request signed_request =
      parse_request(read_file(dir / "header-signed-request.txt"), body_unused);
  std::map<std::string, std::string> expected;
  for (const auto& [name, value] : signed_request.headers) {
    std::string key = name;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    expected[key] = value;
  }
  for (const auto& [name, value] : s.headers) {
    std::string key = name;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(expected[key], value) << name;
  }
  EXPECT_EQ(expected["authorization"], s.authorization);
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4Suite, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// Every v4 case of the suite (38 at the commit kept), so that none goes missing unseen.
TEST(SigV4, TheSuiteIsThere) {
  EXPECT_EQ(cases().size(), 38u);
}

TEST(SigV4, RefusesWhatItCannotSign) {
  aws::Request r{"POST", "/", "", {{"Host", "logs.eu-west-1.amazonaws.com"}}, "{}"};
  aws::SigningOptions o{"eu-west-1", "logs", std::chrono::system_clock::now()};
  EXPECT_THROW(aws::sign(r, {}, o), std::invalid_argument);
  const aws::Credentials c{"AKID", "secret", "", "test"};
  r.headers.clear();
  try {
    aws::sign(r, c, o);
    ADD_FAILURE() << "signed a request without Host";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "AWS signing: the request has no Host header");
  }
}

// Sets environment variables for one test and restores them after.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                             "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "HOME"}) {
      const char* v = std::getenv(name);
      if (v != nullptr) saved_[name] = v;
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                             "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "HOME"}) {
      ::unsetenv(name);
    }
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  static std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  }
  hydra::test::TempDir dir_;
  std::map<std::string, std::string> saved_;
};

TEST_F(CredentialsTest, FromTheEnvironmentFirst) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  ::setenv("AWS_SESSION_TOKEN", "envtoken", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", dir_.file("never-read").c_str(), 1);
  const aws::Credentials c = aws::find_credentials();
  EXPECT_EQ(c.access_key_id, "AKIDENV");
  EXPECT_EQ(c.secret_access_key, "envsecret");
  EXPECT_EQ(c.session_token, "envtoken");
  EXPECT_EQ(c.origin, "environment");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(error_of([] { aws::find_credentials(); }),
            "AWS credentials: AWS_ACCESS_KEY_ID is set but not AWS_SECRET_ACCESS_KEY");
}

TEST_F(CredentialsTest, FromTheSharedFileByProfile) {
  const std::string file = dir_.file("credentials");
  hydra::test::write_file(file, R"(# a comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = defaultsecret

; another comment
[ci]
aws_access_key_id=AKIDCI
aws_secret_access_key= cisecret
aws_session_token =citoken
)");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", file.c_str(), 1);
  aws::Credentials c = aws::find_credentials();
  EXPECT_EQ(c.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(c.session_token, "");
  EXPECT_EQ(c.origin, file + " [default]");
  ::setenv("AWS_PROFILE", "ci", 1);
  c = aws::find_credentials();
  EXPECT_EQ(c.access_key_id, "AKIDCI");
  EXPECT_EQ(c.secret_access_key, "cisecret");
  EXPECT_EQ(c.session_token, "citoken");
  c = aws::find_credentials("default");  // the profile given wins over AWS_PROFILE
  EXPECT_EQ(c.access_key_id, "AKIDDEFAULT");
  // ~/.aws/credentials without the variable.
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ::unsetenv("AWS_PROFILE");
  fs::create_directories(dir_.path() / ".aws");
  fs::copy_file(file, dir_.path() / ".aws" / "credentials");
  ::setenv("HOME", dir_.path().c_str(), 1);
  EXPECT_EQ(aws::find_credentials().origin,
            (dir_.path() / ".aws" / "credentials").string() + " [default]");
}

TEST_F(CredentialsTest, ErrorsSayWhereItLookedAndWhatIsMissing) {
  const std::string file = dir_.file("credentials");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", file.c_str(), 1);
  EXPECT_EQ(error_of([] { aws::find_credentials(); }),
            "AWS credentials: none in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), "
            "and '" +
                file + "' cannot be read");
  hydra::test::write_file(file, "[default]\naws_access_key_id = AKID\n");
  EXPECT_EQ(error_of([] { aws::find_credentials(); }),
            file + ": profile [default] lacks aws_secret_access_key");
  EXPECT_EQ(error_of([] { aws::find_credentials("prod"); }), file + ": no profile [prod]");
  hydra::test::write_file(file, "[default\n");
  EXPECT_EQ(error_of([] { aws::find_credentials(); }), file + ":1: a section without its ']'");
  hydra::test::write_file(file, "[default]\naws_access_key_id AKID\n");
  EXPECT_EQ(error_of([] { aws::find_credentials(); }),
            file + ":2: expected 'key = value', found 'aws_access_key_id AKID'");
}

}  // namespace
