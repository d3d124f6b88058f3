// The audit event schema: who (actor) did what (action) to what (resource),
// how it ended (outcome) and why (reason), as structured fields on an audit
// record, so every format renders them and every reader finds them under the
// same keys:
//
//   hydra::protect::audit(log, "user deleted",
//                         {.actor = "alice", .action = "delete", .resource = "user/42",
//                          .outcome = hydra::protect::AuditOutcome::success,
//                          .reason = "gdpr request"});
//   // JSON: {..."level":"AUDIT","message":"user deleted","actor":"alice",
//   //        "action":"delete","resource":"user/42","outcome":"success",
//   //        "reason":"gdpr request","host":...,"pid":...,"seq":...}
//
// The logger adds host, pid, process, os_user, thread and seq to every audit
// record; the event adds the five fields above. actor, action and outcome are
// required: an event without one is still written (an audit record is never
// dropped), with the missing ones empty and a field audit_error naming them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "hydra/core/logger.hpp"
#include "hydra/core/record.hpp"

namespace hydra::protect {

// How the audited action ended.
enum class AuditOutcome : std::uint8_t {
  success,  // it was done
  failure,  // it was tried and did not work (bad input, conflict, not found)
  denied,   // it was refused: not authenticated or not authorised
  error,    // it broke: an internal error, the outcome is unknown
};

// "success", "failure", "denied", "error".
std::string_view audit_outcome_name(AuditOutcome outcome) noexcept;
std::optional<AuditOutcome> parse_audit_outcome(std::string_view name) noexcept;
inline constexpr std::string_view kAuditOutcomeChoices = "success, failure, denied, error";

// One audit event, for designated initializers (every member may be left
// out). Views: the strings must live until the record is logged (the logger
// copies them, in both modes).
struct AuditEvent {
  std::string_view actor{};               // required: a user id, a service account
  std::string_view action{};              // required: a verb ("delete", "login", "export")
  std::string_view resource{};            // what it was done to ("user/42"); omitted when empty
  std::optional<AuditOutcome> outcome{};  // required
  std::string_view reason{};              // why: a ticket, a legal basis; omitted when empty
};

// The event as fields, in schema order: actor, action, resource, outcome,
// reason (then audit_error when the event is incomplete). For records at
// other levels:
//   const hydra::protect::AuditFields fields(event);
//   log.layer("SECURITY").write(hydra::Level::security, "login refused", fields.span());
class AuditFields {
 public:
  explicit AuditFields(const AuditEvent& event) noexcept;
  std::span<const Field> span() const noexcept { return {fields_.data(), count_}; }
  // "missing actor", "missing actor, outcome", ...; empty for a complete event.
  std::string_view problem() const noexcept { return problem_; }

 private:
  std::array<Field, 6> fields_{};
  std::size_t count_ = 0;
  std::string_view problem_;
};

// Writes `message` as an audit record (Level::audit) carrying the event's
// fields: on the logger's AUDIT layer, or on `layer`. Never throws.
void audit(Logger& logger, std::string_view message, const AuditEvent& event);
void audit(const LayerLogger& layer, std::string_view message, const AuditEvent& event);

}  // namespace hydra::protect
