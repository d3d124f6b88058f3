#include "hydra/protect/audit_event.hpp"

namespace hydra::protect {

std::string_view audit_outcome_name(AuditOutcome outcome) noexcept {
  switch (outcome) {
    case AuditOutcome::success: return "success";
    case AuditOutcome::failure: return "failure";
    case AuditOutcome::denied: return "denied";
    case AuditOutcome::error: return "error";
  }
  return "error";
}

std::optional<AuditOutcome> parse_audit_outcome(std::string_view name) noexcept {
  for (const AuditOutcome o :
       {AuditOutcome::success, AuditOutcome::failure, AuditOutcome::denied, AuditOutcome::error}) {
    if (name == audit_outcome_name(o)) return o;
  }
  return std::nullopt;
}

AuditFields::AuditFields(const AuditEvent& event) noexcept {
  // Indexed by which required fields are missing: actor 1, action 2, outcome 4.
  static constexpr std::array<std::string_view, 8> kMissing = {"",
                                                               "missing actor",
                                                               "missing action",
                                                               "missing actor, action",
                                                               "missing outcome",
                                                               "missing actor, outcome",
                                                               "missing action, outcome",
                                                               "missing actor, action, outcome"};
  const unsigned missing = (event.actor.empty() ? 1U : 0U) | (event.action.empty() ? 2U : 0U) |
                           (event.outcome ? 0U : 4U);
  problem_ = kMissing[missing];
  const auto add = [this](std::string_view key, std::string_view value) {
    fields_[count_++] = Field{key, FieldValue(value)};
  };
  add("actor", event.actor);
  add("action", event.action);
  if (!event.resource.empty()) add("resource", event.resource);
  add("outcome", event.outcome ? audit_outcome_name(*event.outcome) : std::string_view{});
  if (!event.reason.empty()) add("reason", event.reason);
  if (missing != 0) add("audit_error", problem_);
}

void audit(Logger& logger, std::string_view message, const AuditEvent& event) {
  const AuditFields fields(event);
  logger.write_to(logger.slot_for(Level::audit), Level::audit, message, fields.span());
}

void audit(const LayerLogger& layer, std::string_view message, const AuditEvent& event) {
  const AuditFields fields(event);
  layer.write(Level::audit, message, fields.span());
}

}  // namespace hydra::protect
