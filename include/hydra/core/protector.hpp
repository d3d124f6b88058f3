// The protect stage of the pipeline: a Protector sees every record after its
// message and fields exist and before any sink does, and may rewrite the
// message and the fields (redaction) or withhold the record (drop).
//
// Core defines only this interface; the protect module (hydra::protect, with
// RE2 and OpenSSL) provides the redacting one:
//   cfg.protector = hydra::protect::make_protector();
// Which destinations get the protected record: every one, unless its layer
// or the destination itself says `protect = false`; records at the security,
// audit and compliance levels are protected everywhere regardless.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/core/record.hpp"

namespace hydra {

// What a protector made of a record, in storage the pipeline owns (one per
// thread, reused). Set `message_changed` / `fields_changed` for the parts it
// replaced; fields may view text kept with keep().
struct ProtectedParts {
  fmt::memory_buffer message;
  bool message_changed = false;
  std::vector<Field> fields;
  bool fields_changed = false;

  // Copies `text` into storage that lives until the next clear().
  std::string_view keep(std::string_view text) {
    if (used_ == storage_.size()) storage_.emplace_back();
    std::string& s = storage_[used_++];
    s.assign(text);
    return s;
  }
  void clear() noexcept {
    message.clear();
    fields.clear();
    message_changed = fields_changed = false;
    used_ = 0;
  }

 private:
  std::deque<std::string> storage_;
  std::size_t used_ = 0;
};

class Protector {
 public:
  enum class Verdict : std::uint8_t {
    unchanged,  // write the record as it is
    changed,    // write it with the parts in `out` that say they changed
    drop,       // write it to no protected destination (counted)
  };
  virtual ~Protector() = default;
  // Called for every record, from any thread (callers in sync mode, the
  // backend in async mode), concurrently: must be thread-safe. Must not log.
  virtual Verdict protect(const Record& record, ProtectedParts& out) const = 0;
  // Calls into plugin code of its own that failed (the redacting protector:
  // detector plugins whose detect() threw), counted since it was made;
  // Logger::metrics().plugin_failures includes them. Thread-safe.
  virtual std::uint64_t plugin_failures() const noexcept { return 0; }
};

}  // namespace hydra
