// An https file server on 127.0.0.1 for tests: https_files.py as a child
// process, with its own throw-away CA (ca_file()) and an ephemeral port.
// Needs HYDRA_TEST_SUPPORT (this directory) and HYDRA_PYTHON3 defined.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "support/child_process.hpp"

namespace hydra::test {

class HttpsFiles {
 public:
  // Serves `root`; certificates and logs go to `work`. Check ok() (and
  // errors()) before use.
  HttpsFiles(const std::filesystem::path& root, const std::filesystem::path& work) : work_(work) {
    std::filesystem::create_directories(work);
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{HYDRA_PYTHON3, std::string(HYDRA_TEST_SUPPORT) + "/https_files.py",
                                 root.string(), work.string()},
        work / "server.err");
    // Starting Python and making two keys: seconds on a loaded machine.
    const auto line = child_->read_line(std::chrono::seconds(60));
    if (line && line->starts_with("port ")) port_ = std::stoi(line->substr(5));
  }

  bool ok() const { return port_ > 0; }
  std::string errors() const { return child_->errors(); }
  int port() const { return port_; }
  // https://127.0.0.1:PORT + path (path starts with '/').
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::filesystem::path ca_file() const { return work_ / "ca.pem"; }
  std::filesystem::path request_log() const { return work_ / "requests.log"; }

 private:
  std::filesystem::path work_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

}  // namespace hydra::test
