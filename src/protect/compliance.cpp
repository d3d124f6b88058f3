#include "hydra/protect/compliance.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "hydra/core/error.hpp"
#include "hydra/protect/protector.hpp"

namespace hydra::protect {

namespace {

constexpr std::array<std::string_view, 4> kNames = {"gdpr", "pci", "hipaa", "sox"};

// Higher is stricter: what reveals less of the value wins.
int strictness(Action a) {
  switch (a) {
    case Action::mask: return 0;
    case Action::hash: return 1;
    case Action::redact: return 2;
    case Action::drop: return 3;
  }
  return 2;
}

struct DetectorRule {
  Detector detector;
  Action action;
};
struct FieldRule {
  std::string_view name;
  std::string_view type;
  Action action;
};
struct Profile {
  std::vector<DetectorRule> detectors;
  std::vector<FieldRule> fields;
  bool protect_everywhere = false;
  bool audit_chain = false;
  bool keep_audit_files = false;
};

Profile profile_of(ComplianceProfile p) {
  switch (p) {
    case ComplianceProfile::gdpr:
      return {{{Detector::email, Action::redact},
               {Detector::phone, Action::redact},
               {Detector::ipv4, Action::redact},
               {Detector::ipv6, Action::redact}},
              {{"user_id", "USER", Action::hash},
               {"userid", "USER", Action::hash},
               {"username", "USER", Action::hash},
               {"customer_id", "CUSTOMER", Action::hash},
               {"account_id", "ACCOUNT", Action::hash},
               {"email", "EMAIL", Action::hash},
               {"phone", "PHONE", Action::hash},
               {"first_name", "NAME", Action::hash},
               {"last_name", "NAME", Action::hash},
               {"full_name", "NAME", Action::hash},
               {"ip_address", "IP_ADDRESS", Action::hash},
               {"client_ip", "IP_ADDRESS", Action::hash},
               {"remote_addr", "IP_ADDRESS", Action::hash}},
              false,
              false,
              false};
    case ComplianceProfile::pci:
      return {{{Detector::credit_card, Action::mask}},
              {{"card_number", "CREDIT_CARD", Action::mask},
               {"pan", "CREDIT_CARD", Action::mask},
               {"cvv", "CVV", Action::redact},
               {"cvc", "CVV", Action::redact},
               {"card_expiry", "CARD_EXPIRY", Action::redact}},
              true,
              false,
              false};
    case ComplianceProfile::hipaa: {
      Profile h;
      for (std::size_t i = 0; i < kDetectorCount; ++i) {
        h.detectors.push_back({static_cast<Detector>(i), Action::redact});
      }
      h.fields = {{"patient", "PATIENT", Action::redact},
                  {"patient_id", "PATIENT", Action::redact},
                  {"patient_name", "PATIENT", Action::redact},
                  {"mrn", "MEDICAL_RECORD", Action::redact},
                  {"medical_record_number", "MEDICAL_RECORD", Action::redact},
                  {"dob", "DATE_OF_BIRTH", Action::redact},
                  {"date_of_birth", "DATE_OF_BIRTH", Action::redact},
                  {"birth_date", "DATE_OF_BIRTH", Action::redact},
                  {"address", "ADDRESS", Action::redact},
                  {"ssn", "SSN", Action::redact},
                  {"insurance_id", "INSURANCE", Action::redact},
                  {"diagnosis", "DIAGNOSIS", Action::redact},
                  {"email", "EMAIL", Action::redact},
                  {"phone", "PHONE", Action::redact},
                  {"first_name", "NAME", Action::redact},
                  {"last_name", "NAME", Action::redact},
                  {"full_name", "NAME", Action::redact}};
      h.protect_everywhere = true;
      h.audit_chain = true;
      return h;
    }
    case ComplianceProfile::sox: return {{}, {}, false, true, true};
  }
  return {};
}

// The same normalisation the redactor applies to names: case and '_', '-',
// '.' do not count.
std::string normalised(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (c == '_' || c == '-' || c == '.') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace

std::string_view profile_name(ComplianceProfile profile) noexcept {
  return kNames[static_cast<std::size_t>(profile)];
}

std::optional<ComplianceProfile> parse_compliance_profile(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ComplianceProfile>(i);
  }
  return std::nullopt;
}

RedactorOptions compliance_redactor_options(const ComplianceOptions& options) {
  RedactorOptions out = options.base;
  if (!options.hash_key.empty()) out.hash_key = options.hash_key;
  // Per detector and per field: the strictest action among the profiles
  // that name it, which then replaces the base's.
  std::array<std::optional<Action>, kDetectorCount> detector_action{};
  std::vector<SensitiveField> fields;
  for (const ComplianceProfile p : options.profiles) {
    const Profile profile = profile_of(p);
    for (const DetectorRule& r : profile.detectors) {
      auto& a = detector_action[static_cast<std::size_t>(r.detector)];
      if (!a || strictness(r.action) > strictness(*a)) a = r.action;
    }
    for (const FieldRule& f : profile.fields) {
      auto same = std::find_if(fields.begin(), fields.end(), [&](const SensitiveField& s) {
        return normalised(s.name) == normalised(f.name);
      });
      if (same == fields.end()) {
        fields.push_back({std::string(f.name), std::string(f.type), f.action});
      } else if (strictness(f.action) > strictness(same->action)) {
        same->type = f.type;
        same->action = f.action;
      }
    }
  }
  for (std::size_t i = 0; i < kDetectorCount; ++i) {
    if (!detector_action[i]) continue;
    out.detectors[i].enabled = true;
    out.detectors[i].action = *detector_action[i];
  }
  // Profile fields go first, so they win over a base field with a shorter
  // name that also matches (a field matches its first rule).
  for (const SensitiveField& f : out.sensitive_fields) {
    const auto same = std::find_if(fields.begin(), fields.end(), [&](const SensitiveField& s) {
      return normalised(s.name) == normalised(f.name);
    });
    if (same == fields.end()) fields.push_back(f);
  }
  out.sensitive_fields = std::move(fields);
  return out;
}

void apply_compliance(LoggerConfig& config, const ComplianceOptions& options) {
  bool protect_everywhere = false, audit_chain = false, keep_audit_files = false;
  std::string needs_audit;  // the profile that asks for the chain, for messages
  for (const ComplianceProfile p : options.profiles) {
    const Profile profile = profile_of(p);
    protect_everywhere = protect_everywhere || profile.protect_everywhere;
    if (profile.audit_chain && !audit_chain) needs_audit = std::string(profile_name(p));
    audit_chain = audit_chain || profile.audit_chain;
    keep_audit_files = keep_audit_files || profile.keep_audit_files;
  }
  const RedactorOptions redaction = compliance_redactor_options(options);
  const bool gdpr = std::find(options.profiles.begin(), options.profiles.end(),
                              ComplianceProfile::gdpr) != options.profiles.end();
  if (gdpr && redaction.hash_key.empty()) {
    throw ConfigError(
        "compliance: gdpr pseudonymises identifiers with a keyed hash: set the hash key "
        "(hash_key, or hash_key_file / hash_key_env in files)");
  }
  config.protector = make_protector(redaction);  // throws ConfigError for bad base options

  if (protect_everywhere) {
    for (auto& [name, layer] : config.layers) {
      layer.protect = true;
      for (DestinationConfig& d : layer.destinations) d.protect = true;
    }
  }
  if (audit_chain) {
    if (options.audit.path.empty()) {
      throw ConfigError("compliance: " + needs_audit +
                        " needs the audit chain: set its path (audit.path)");
    }
    LayerConfig& audit_layer = config.layers["AUDIT"];
    if (keep_audit_files) {
      for (std::size_t i = 0; i < audit_layer.destinations.size(); ++i) {
        const DestinationConfig& d = audit_layer.destinations[i];
        if (d.type == "rotating_file" && d.sink == nullptr) {
          throw ConfigError(
              "compliance: sox keeps every audit file, but layers.AUDIT.destinations[" +
              std::to_string(i) + "] is a rotating_file that deletes old ones (" + d.path +
              "); the audit chain sox adds keeps them all");
        }
      }
    }
    AuditChainOptions chain = options.audit;
    if (keep_audit_files) chain.backup_count = kKeepAllAuditFiles;
    audit_layer.destinations.push_back(audit_destination(std::move(chain)));
  }
}

}  // namespace hydra::protect
