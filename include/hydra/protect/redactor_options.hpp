// What a Redactor looks for and what it does with what it finds. Every field
// has a safe default: a default-constructed RedactorOptions turns on every
// detector except ipv4, ipv6 and iban, redacts, and redacts the values of the
// usual secret-bearing fields by name.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "hydra/plugin/detector.hpp"
#include "hydra/protect/detector.hpp"

namespace hydra::protect {

struct DetectorSetting {
  bool enabled = true;
  Action action = Action::redact;
};

// A user-supplied detector. The pattern is RE2 syntax, run by RE2 (linear
// time: no pattern can backtrack catastrophically). When the pattern has a
// capturing group, only the first group is replaced, so a key can stay
// visible: `order_secret=(\w+)` gives `order_secret=[REDACTED_ORDER]`.
// Otherwise the whole match is.
struct CustomDetector {
  std::string name;     // for error messages
  std::string pattern;  // RE2 syntax
  std::string type;     // the <TYPE> written: letters, digits and '_'
  Action action = Action::redact;
};

// A detector plugin (hydra/plugin/detector.hpp): code of one's own that
// reports the spans to replace with [REDACTED_<token>] (or masks, hashes or
// drops them, as `action` says). It runs after the built-in detectors and the
// custom patterns, on the same texts (messages and string field values).
// The engine does not trust it: spans out of range are clipped or ignored,
// overlapping ones are merged, and a detect() that throws counts as no
// finding (see Redactor::plugin_failures()).
struct PluginDetector {
  std::shared_ptr<const hydra::plugin::Detector> detector;
  Action action = Action::redact;
};

// A structured field redacted by its name whatever its value (strings and
// numbers; booleans and null are left alone). A field matches when its key,
// compared case-insensitively and ignoring '_', '-' and '.', equals `name` or
// ends with it: "password" covers db_password, userPassword and
// X-Password alike.
struct SensitiveField {
  std::string name;
  std::string type;  // the <TYPE> written: letters, digits and '_'
  Action action = Action::redact;
};

// password, passwd, pwd, passphrase, secret, token, authorization, cookie,
// api_key, private_key, credentials.
std::vector<SensitiveField> default_sensitive_fields();

struct RedactorOptions {
  RedactorOptions();

  // Which built-in detectors run, and the action of each.
  std::array<DetectorSetting, kDetectorCount> detectors;
  DetectorSetting& detector(Detector d) { return detectors[static_cast<std::size_t>(d)]; }
  const DetectorSetting& detector(Detector d) const {
    return detectors[static_cast<std::size_t>(d)];
  }

  // The HMAC-SHA256 key of the `hash` action. Required (non-empty) as soon
  // as any detector or field uses `hash`: an unkeyed hash of an email address
  // or a card number is trivially reversed by guessing.
  std::string hash_key;

  // Fields redacted by name (redact_fields); the content of every other
  // string field is scanned like a message.
  std::vector<SensitiveField> sensitive_fields = default_sensitive_fields();

  // Run after the built-in detectors are configured, over the same text.
  std::vector<CustomDetector> custom;

  // Run after the custom patterns, over the same text.
  std::vector<PluginDetector> plugin_detectors;
};

}  // namespace hydra::protect
