// An OTLP/HTTP logs receiver for tests: otlp_receiver.py as a child process
// on 127.0.0.1 and an ephemeral port, answering each request with the next
// of the responses it was given ("200", "partial:N:TEXT", "503:1", "400",
// "drop"; see the script), and saving every request. Needs
// HYDRA_TEST_SUPPORT (this directory) and HYDRA_PYTHON3 defined.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "test_util.hpp"

namespace hydra::test {

class OtlpReceiver {
 public:
  // `tls`: https, with a throw-away CA (ca_file()). Check ok() (and
  // errors()) before use.
  OtlpReceiver(const std::filesystem::path& work, std::vector<std::string> responses = {},
               bool tls = false)
      : work_(work), tls_(tls) {
    std::filesystem::create_directories(work);
    std::vector<std::string> argv{HYDRA_PYTHON3,
                                  std::string(HYDRA_TEST_SUPPORT) + "/otlp_receiver.py"};
    if (tls) argv.push_back("--tls");
    argv.push_back(work.string());
    for (auto& r : responses) argv.push_back(std::move(r));
    child_ = std::make_unique<ChildProcess>(argv, work / "receiver.err");
    // Starting Python (and making keys): seconds on a loaded machine.
    const auto line = child_->read_line(std::chrono::seconds(60));
    if (line && line->starts_with("port ")) port_ = std::stoi(line->substr(5));
  }

  bool ok() const { return port_ > 0; }
  std::string errors() const { return child_->errors(); }
  int port() const { return port_; }
  // The receiver's logs URL.
  std::string url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           "/v1/logs";
  }
  std::filesystem::path ca_file() const { return work_ / "ca.pem"; }
  void stop() { child_->stop(); }

  // What each request was (one JSON object a request, in order).
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(work_ / "requests.jsonl");
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  // Request n's body (from 1), gunzipped.
  std::string body(int n) const {
    char name[32];
    std::snprintf(name, sizeof name, "body-%04d.bin", n);
    return read_file(work_ / name);
  }

 private:
  std::filesystem::path work_;
  bool tls_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

}  // namespace hydra::test
