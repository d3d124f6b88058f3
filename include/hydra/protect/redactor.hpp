// The redaction engine: finds personal data and credentials in text and in
// structured fields, and replaces them before any sink sees a record.
//
//   hydra::protect::Redactor redactor;  // the default detectors
//   std::string out;
//   if (redactor.redact("login alice@example.com password=hunter2", out) !=
//       hydra::protect::Outcome::unchanged) {
//     // out == "login [REDACTED_EMAIL] password=[REDACTED_PASSWORD]"
//   }
//
// Cost: the built-in detectors are hand-written scanners that skip, 16 bytes
// at a time, over bytes that cannot announce a match, and look around only
// where one could; the time is linear in the text whatever it holds
// (docs/protect.md has the measured MB/s). Clean text allocates nothing.
// Custom patterns add one RE2 search per pattern per text (and a match list
// kept per thread); detector plugins one detect() call each per text.
//
// Thread safety: a Redactor is immutable once built; any number of threads
// may call its const members at once. A moved-from Redactor may only be
// destroyed or assigned to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "hydra/core/record.hpp"
#include "hydra/protect/detector.hpp"
#include "hydra/protect/redactor_options.hpp"

namespace hydra::protect {
namespace detail {
class Engine;
}  // namespace detail

// What redaction did to a text or a record.
enum class Outcome : std::uint8_t {
  unchanged,  // nothing sensitive found; the output was not touched
  redacted,   // something was replaced
  drop,       // something was replaced, and a detector whose action is
              // Action::drop matched: the caller should discard the record
};

// Output storage for Redactor::redact_fields: the fields after redaction and
// the text their replaced values point into. Keep one per thread (or per
// backend) and reuse it: once it has grown, redaction allocates nothing.
class RedactedFields {
 public:
  // After Outcome::redacted or Outcome::drop: every input field, in order,
  // with the same keys; replaced values point into this object and stay
  // valid until its next use. After Outcome::unchanged: empty.
  std::span<const Field> fields() const noexcept { return fields_; }

 private:
  friend class Redactor;
  struct Replaced {
    std::size_t index;
    std::size_t offset;
    std::size_t size;
  };
  std::vector<Field> fields_;
  std::vector<Replaced> replaced_;
  std::string text_;
};

class Redactor {
 public:
  // The defaults of RedactorOptions.
  Redactor();
  // Throws hydra::ConfigError, naming the culprit, when a custom pattern does
  // not compile (the message holds the detector's name, the pattern and
  // RE2's error), a custom detector or field has no name or a type that is
  // not [A-Za-z0-9_]+, a detector plugin is null or has a token that is not
  // [A-Za-z0-9_]+, or an action is `hash` while hash_key is empty.
  explicit Redactor(RedactorOptions options);
  ~Redactor();
  Redactor(Redactor&&) noexcept;
  Redactor& operator=(Redactor&&) noexcept;
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Scans `in`. When something is found, appends the redacted text to `out`
  // and returns redacted (or drop); otherwise returns unchanged and leaves
  // `out` exactly as it was, so the caller keeps using `in` (no copy, no
  // allocation). Bytes are bytes: invalid UTF-8 is passed through and never
  // matched. Running it again on its own output changes nothing more.
  Outcome redact(std::string_view in, std::string& out) const;
  Outcome redact(std::string_view in, fmt::memory_buffer& out) const;

  // redact() into a new string, which is `in` itself when nothing matched
  // (allocates: for tools and tests rather than the record path).
  std::string redacted(std::string_view in) const;

  // Redacts structured fields: a field whose key matches a sensitive field
  // name has its (string or number) value replaced whole; the content of
  // every other string value is scanned as redact() does. Keys are never
  // changed. See RedactedFields for where the result is.
  Outcome redact_fields(std::span<const Field> in, RedactedFields& out) const;

  // How many times a detector plugin (RedactorOptions::plugin_detectors)
  // threw from detect() since construction. Each such call counts as no
  // finding: the text goes on with what the other detectors found. A
  // logger's Logger::metrics().plugin_failures includes the count of its
  // protector's Redactor (Protector::plugin_failures()).
  std::uint64_t plugin_failures() const noexcept;

 private:
  std::unique_ptr<const detail::Engine> engine_;
};

}  // namespace hydra::protect
