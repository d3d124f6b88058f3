#include "hydra/protect/detector.hpp"

#include <array>

#include "hydra/protect/redactor_options.hpp"

namespace hydra::protect {
namespace {

struct DetectorInfo {
  std::string_view name;
  std::string_view type;
  bool on_by_default;
};

// Indexed by Detector.
constexpr std::array<DetectorInfo, kDetectorCount> kDetectors{{
    {"email", "EMAIL", true},
    {"credit_card", "CREDIT_CARD", true},
    {"ssn", "SSN", true},
    {"phone", "PHONE", true},
    {"secret", "SECRET", true},
    {"authorization", "AUTHORIZATION", true},
    {"jwt", "JWT", true},
    {"aws_key", "AWS_KEY", true},
    {"github_token", "GITHUB_TOKEN", true},
    {"stripe_key", "STRIPE_KEY", true},
    {"slack_token", "SLACK_TOKEN", true},
    {"google_api_key", "GOOGLE_API_KEY", true},
    {"url_credentials", "PASSWORD", true},
    {"private_key", "PRIVATE_KEY", true},
    {"ipv4", "IP_ADDRESS", false},
    {"ipv6", "IP_ADDRESS", false},
    {"iban", "IBAN", false},
}};

constexpr std::array<std::string_view, 4> kActions{"redact", "mask", "hash", "drop"};

const DetectorInfo& info(Detector d) noexcept {
  return kDetectors[static_cast<std::size_t>(d)];
}

}  // namespace

std::string_view detector_name(Detector detector) noexcept {
  return info(detector).name;
}
std::string_view detector_type(Detector detector) noexcept {
  return info(detector).type;
}
bool enabled_by_default(Detector detector) noexcept {
  return info(detector).on_by_default;
}

std::optional<Detector> parse_detector(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDetectors.size(); ++i) {
    if (kDetectors[i].name == name) return static_cast<Detector>(i);
  }
  return std::nullopt;
}

std::string_view action_name(Action action) noexcept {
  return kActions[static_cast<std::size_t>(action)];
}

std::optional<Action> parse_action(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kActions.size(); ++i) {
    if (kActions[i] == name) return static_cast<Action>(i);
  }
  return std::nullopt;
}

std::vector<SensitiveField> default_sensitive_fields() {
  return {
      {"password", "PASSWORD"},           {"passwd", "PASSWORD"},         {"pwd", "PASSWORD"},
      {"passphrase", "PASSWORD"},         {"secret", "SECRET"},           {"token", "TOKEN"},
      {"authorization", "AUTHORIZATION"}, {"cookie", "COOKIE"},           {"api_key", "API_KEY"},
      {"private_key", "PRIVATE_KEY"},     {"credentials", "CREDENTIALS"},
  };
}

RedactorOptions::RedactorOptions() {
  for (std::size_t i = 0; i < kDetectorCount; ++i) {
    detectors[i].enabled = kDetectors[i].on_by_default;
  }
}

}  // namespace hydra::protect
