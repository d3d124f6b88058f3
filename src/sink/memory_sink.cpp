#include "hydra/sink/memory_sink.hpp"

namespace hydra {

void MemorySink::write(const Record& /*record*/, std::string_view bytes) {
  std::lock_guard lock(mutex_);
  lines_.emplace_back(bytes);
}

std::vector<std::string> MemorySink::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::string MemorySink::contents() const {
  std::lock_guard lock(mutex_);
  std::string all;
  for (const auto& l : lines_) all += l;
  return all;
}

std::size_t MemorySink::size() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

void MemorySink::clear() {
  std::lock_guard lock(mutex_);
  lines_.clear();
}

}  // namespace hydra
