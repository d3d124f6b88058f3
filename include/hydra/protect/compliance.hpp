// Compliance profiles: named bundles of protection settings, so that "this
// service logs under PCI DSS" is one line of configuration rather than a
// dozen. docs/protect.md ("Compliance profiles") tables what each one turns on.
//
//   hydra::protect::ComplianceOptions c;
//   c.profiles = {hydra::protect::ComplianceProfile::gdpr, hydra::protect::ComplianceProfile::pci};
//   c.hash_key = load_secret("pseudonym.key");  // gdpr pseudonyms are keyed
//   hydra::protect::apply_compliance(cfg, c);   // cfg: a hydra::LoggerConfig
//
// Profiles combine: each detector and field a profile names gets the
// strictest action any of them asks for (drop > redact > hash > mask), over
// whatever `base` said.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hydra/config/config.hpp"
#include "hydra/protect/audit_chain.hpp"
#include "hydra/protect/redactor_options.hpp"

namespace hydra::protect {

enum class ComplianceProfile : std::uint8_t {
  gdpr,   // pseudonymise personal identifiers (HMAC); redact emails, phones, IP addresses
  pci,    // card numbers masked everywhere: no sink ever sees one in clear
  hipaa,  // strict redaction of identifiers everywhere; the audit chain on
  sox,    // the audit chain for the AUDIT layer, keeping every file
};

std::string_view profile_name(ComplianceProfile profile) noexcept;
std::optional<ComplianceProfile> parse_compliance_profile(std::string_view name) noexcept;
inline constexpr std::string_view kComplianceProfileChoices = "gdpr, pci, hipaa, sox";

struct ComplianceOptions {
  std::vector<ComplianceProfile> profiles;
  // gdpr: the HMAC-SHA256 key of the pseudonyms (or any profile using the
  // hash action). Required then: an unkeyed hash of an email is reversed by
  // guessing.
  std::string hash_key;
  // hipaa, sox: the audit chain the AUDIT layer writes (path and key
  // required). sox makes it keep every rotated file.
  AuditChainOptions audit;
  // What to start from (custom detectors, more fields); the profiles tighten it.
  RedactorOptions base;
};

// The profiles' redaction settings laid over `options.base`.
RedactorOptions compliance_redactor_options(const ComplianceOptions& options);

// Makes `config` comply with the profiles:
// - its protector redacts as compliance_redactor_options() says (replacing
//   any protector it had);
// - pci, hipaa: every layer and destination is protected (opt-outs removed);
// - hipaa, sox: the AUDIT layer writes the audit chain (added to its
//   destinations as an audit_destination(), opened when a Logger is built
//   from `config`); with sox the chain deletes no rotated file, and a
//   rotating_file destination on the AUDIT layer (which deletes old files) is
//   an error.
// Throws hydra::ConfigError naming the profile and what it lacks (a bad
// audit key: when the Logger is built).
void apply_compliance(LoggerConfig& config, const ComplianceOptions& options);

}  // namespace hydra::protect
