// A protocol receiver for tests, written in Python beside this file
// (hec_receiver.py, cloudwatch_receiver.py): a child process on 127.0.0.1
// and an ephemeral port that answers each request with the next of the
// responses it was given, and writes what it received as JSON Lines in its
// work directory before it answers (so once the client has its answer, the
// files are there). Needs HYDRA_TEST_SUPPORT (this directory) and
// HYDRA_PYTHON3 defined.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"

namespace hydra::test {

class ScriptedReceiver {
 public:
  // Runs `script` (a file in tests/support) with `work` then `args`. Check
  // ok() (and errors()) before use.
  ScriptedReceiver(const std::string& script, const std::filesystem::path& work,
                   const std::vector<std::string>& args)
      : work_(work) {
    std::filesystem::create_directories(work);
    std::vector<std::string> argv{HYDRA_PYTHON3, std::string(HYDRA_TEST_SUPPORT) + "/" + script,
                                  work.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = std::make_unique<ChildProcess>(argv, work / "receiver.err");
    // Starting Python: seconds on a loaded machine.
    const auto line = child_->read_line(std::chrono::seconds(60));
    if (line && line->starts_with("port ")) port_ = std::stoi(line->substr(5));
  }

  bool ok() const { return port_ > 0; }
  std::string errors() const { return child_->errors(); }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void stop() { child_->stop(); }

  // The JSON Lines file `name` of the work directory, one object a line.
  std::vector<nlohmann::json> lines(const std::string& name) const {
    std::vector<nlohmann::json> out;
    std::ifstream in(work_ / name);
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  std::vector<nlohmann::json> requests() const { return lines("requests.jsonl"); }

 private:
  std::filesystem::path work_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

}  // namespace hydra::test
