#include "hydra/protect/protector.hpp"

#include <utility>

namespace hydra::protect {
namespace {

class RedactingProtector final : public hydra::Protector {
 public:
  explicit RedactingProtector(std::shared_ptr<const Redactor> redactor)
      : redactor_(std::move(redactor)) {}

  Verdict protect(const Record& record, ProtectedParts& out) const override {
    const Outcome message = redactor_->redact(record.message, out.message);
    Outcome fields = Outcome::unchanged;
    if (!record.fields.empty()) {
      // Per thread: the pipeline copies what it needs before the next call.
      thread_local RedactedFields redacted;
      fields = redactor_->redact_fields(record.fields, redacted);
      if (fields != Outcome::unchanged) {
        for (Field f : redacted.fields()) {
          if (f.value.is_string()) f.value = FieldValue(out.keep(f.value.as_string()));
          out.fields.push_back(f);  // keys are the record's own, valid for its dispatch
        }
        out.fields_changed = true;
      }
    }
    out.message_changed = message != Outcome::unchanged;
    if (message == Outcome::drop || fields == Outcome::drop) return Verdict::drop;
    return out.message_changed || out.fields_changed ? Verdict::changed : Verdict::unchanged;
  }

 private:
  std::shared_ptr<const Redactor> redactor_;
};

}  // namespace

std::shared_ptr<const hydra::Protector> make_protector(RedactorOptions options) {
  return make_protector(std::make_shared<const Redactor>(std::move(options)));
}

std::shared_ptr<const hydra::Protector> make_protector(std::shared_ptr<const Redactor> redactor) {
  return std::make_shared<const RedactingProtector>(std::move(redactor));
}

}  // namespace hydra::protect
