// Memory sink: keeps every formatted record in memory, for tests and for
// showing recent records. Thread-safe; lines() returns a copy.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "hydra/sink/sink.hpp"

namespace hydra {

class MemorySink final : public Sink {
 public:
  void write(const Record& record, std::string_view bytes) override;
  void flush() override {}
  // The lock is held across fork(), so that the child never inherits it taken.
  void before_fork() override { mutex_.lock(); }
  void after_fork(bool /*in_child*/) override { mutex_.unlock(); }

  // Each write as it arrived (formatted bytes, line ending included).
  std::vector<std::string> lines() const;
  // All writes concatenated.
  std::string contents() const;
  std::size_t size() const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace hydra
