// The built-in detectors of the redaction engine and the actions a match can
// take. Names here are the ones configuration files and `hydra redact
// --config` use; docs/protect.md has the table of what each detector matches
// and what it deliberately leaves alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hydra::protect {

// One hand-written scanner each. The order is the order of the table in
// docs/protect.md; it is not a priority (matches never overlap: the text is
// scanned once, left to right, and a match is skipped over).
enum class Detector : std::uint8_t {
  email,            // alice@example.com                          EMAIL
  credit_card,      // 13-19 digits, Luhn-valid, network prefix    CREDIT_CARD
  ssn,              // US social security number, valid ranges    SSN
  phone,            // NANP with separators, E.164 with '+'        PHONE
  secret,           // password=, "token": "..", api-key: ..       PASSWORD SECRET TOKEN API_KEY
  authorization,    // Authorization: Bearer|Basic ...             AUTHORIZATION
  jwt,              // eyJ...eyJ...sig                             JWT
  aws_key,          // AKIA/ASIA ids; secret keys after their key  AWS_KEY
  github_token,     // ghp_ gho_ ghu_ ghs_ ghr_ github_pat_        GITHUB_TOKEN
  stripe_key,       // sk_/pk_/rk_ + live_/test_                   STRIPE_KEY
  slack_token,      // xoxa- xoxb- xoxp- xoxr- xoxs-               SLACK_TOKEN
  google_api_key,   // AIza + 35                                   GOOGLE_API_KEY
  url_credentials,  // scheme://user:PASSWORD@host                 PASSWORD
  private_key,      // -----BEGIN ... PRIVATE KEY----- blocks      PRIVATE_KEY
  ipv4,             // off by default                              IP_ADDRESS
  ipv6,             // off by default                              IP_ADDRESS
  iban,             // off by default; mod-97 checked              IBAN
};
inline constexpr std::size_t kDetectorCount = 17;

// What happens to a sensitive span (the value only, in key=value forms).
enum class Action : std::uint8_t {
  redact,  // [REDACTED_<TYPE>]
  mask,    // every character but the last four becomes '*' (all of them when
           // the span is shorter than eight characters)
  hash,    // [<TYPE>:<12 hex digits of HMAC-SHA256(hash_key, value)>]: a
           // stable, keyed pseudonym, so records still correlate
  drop,    // the span is redacted as with `redact`, and the whole record
           // should be dropped: Redactor reports Outcome::drop
};

// "email", "credit_card", ... (the enumerator's name).
std::string_view detector_name(Detector detector) noexcept;
std::optional<Detector> parse_detector(std::string_view name) noexcept;

// The <TYPE> the detector writes. `secret` writes PASSWORD, SECRET, TOKEN or
// API_KEY after the key it found; this returns SECRET for it.
std::string_view detector_type(Detector detector) noexcept;

// On unless the detector is ipv4, ipv6 or iban (those need a profile that
// asks for them: addresses and IBANs are often legitimately logged).
bool enabled_by_default(Detector detector) noexcept;

// "redact", "mask", "hash", "drop".
std::string_view action_name(Action action) noexcept;
std::optional<Action> parse_action(std::string_view name) noexcept;

// The valid names, comma-separated, for error messages.
inline constexpr std::string_view kDetectorChoices =
    "email, credit_card, ssn, phone, secret, authorization, jwt, aws_key, github_token, "
    "stripe_key, slack_token, google_api_key, url_credentials, private_key, ipv4, ipv6, iban";
inline constexpr std::string_view kActionChoices = "redact, mask, hash, drop";

}  // namespace hydra::protect
