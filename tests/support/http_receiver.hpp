// A scripted HTTP receiver for tests: a Python script of this directory
// (loki_receiver.py, elasticsearch_receiver.py, on http_receiver_base.py)
// as a child process on 127.0.0.1 and an ephemeral port, answering as the
// service it stands for, or with the next of the responses it was given,
// and saving every request. Needs HYDRA_TEST_SUPPORT and HYDRA_PYTHON3.
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

class HttpReceiver {
 public:
  // `args`: the script's arguments after DIR (options, then responses).
  HttpReceiver(const std::string& script, const std::filesystem::path& work,
               std::vector<std::string> args = {})
      : work_(work) {
    std::filesystem::create_directories(work);
    std::vector<std::string> argv{HYDRA_PYTHON3, std::string(HYDRA_TEST_SUPPORT) + "/" + script,
                                  work.string()};
    for (auto& a : args) argv.push_back(std::move(a));
    child_ = std::make_unique<ChildProcess>(argv, work / "receiver.err");
    const auto line = child_->read_line(std::chrono::seconds(60));
    if (line && line->starts_with("port ")) port_ = std::stoi(line->substr(5));
  }

  bool ok() const { return port_ > 0; }
  std::string errors() const { return child_->errors(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void stop() { child_->stop(); }

  // The lines of DIR/`name` (requests.jsonl, entries.jsonl, docs.jsonl) as JSON.
  std::vector<nlohmann::json> lines(const std::string& name) const {
    std::vector<nlohmann::json> out;
    std::ifstream in(work_ / name);
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  std::vector<nlohmann::json> requests() const { return lines("requests.jsonl"); }
  // Request n's body (from 1), gunzipped.
  std::string body(int n) const {
    char name[32];
    std::snprintf(name, sizeof name, "body-%04d.bin", n);
    return read_file(work_ / name);
  }

 private:
  std::filesystem::path work_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

}  // namespace hydra::test
