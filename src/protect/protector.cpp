#include "hydra/protect/protector.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string>
#include <utility>

namespace hydra::protect {
namespace {

std::string text_of(const FieldValue& v) {
  fmt::memory_buffer b;
  v.append_text(b);
  return fmt::to_string(b);
}

// Values shorter than this are not searched for in messages whose field
// places are unknown: replacing every "7" would wreck the message.
constexpr std::size_t kMinSearchedValue = 4;

// `patched`: the record's message with each changed field's value replaced
// by the field's new value. Where the pipeline knows the placeholders'
// places (field_spans), exactly those; otherwise every occurrence of the old
// value's text (values of kMinSearchedValue characters or more). Returns
// false when nothing was replaced.
bool patch_message(const Record& record, std::span<const Field> now, std::string& patched) {
  const std::string_view message = record.message;
  patched.clear();
  bool any = false;
  if (!record.field_spans.empty()) {
    std::size_t pos = 0;
    for (const FieldSpan& s : record.field_spans) {
      if (s.field >= now.size() || s.field >= record.fields.size() || s.begin < pos ||
          s.end > message.size()) {
        continue;
      }
      const std::string after = text_of(now[s.field].value);
      if (after == text_of(record.fields[s.field].value)) continue;
      patched.append(message.substr(pos, s.begin - pos));
      patched.append(after);
      pos = s.end;
      any = true;
    }
    patched.append(message.substr(pos));
    return any;
  }
  patched.assign(message);
  for (std::size_t i = 0; i < now.size() && i < record.fields.size(); ++i) {
    const std::string before = text_of(record.fields[i].value);
    if (before.size() < kMinSearchedValue) continue;
    const std::string after = text_of(now[i].value);
    if (after == before) continue;
    for (std::size_t at = patched.find(before); at != std::string::npos;
         at = patched.find(before, at + after.size())) {
      patched.replace(at, before.size(), after);
      any = true;
    }
  }
  return any;
}

class RedactingProtector final : public hydra::Protector {
 public:
  explicit RedactingProtector(std::shared_ptr<const Redactor> redactor)
      : redactor_(std::move(redactor)) {}

  Verdict protect(const Record& record, ProtectedParts& out) const override {
    Outcome fields = Outcome::unchanged;
    // Per thread: the pipeline copies what it needs before the next call.
    thread_local RedactedFields redacted;
    if (!record.fields.empty()) fields = redactor_->redact_fields(record.fields, redacted);
    if (fields != Outcome::unchanged) {
      for (Field f : redacted.fields()) {
        if (f.value.is_string()) f.value = FieldValue(out.keep(f.value.as_string()));
        out.fields.push_back(f);  // keys are the record's own, valid for its dispatch
      }
      out.fields_changed = true;
    }
    // A field redacted by its name (password=..., user_id=...) may also
    // stand in the message, where no detector recognises it: put the
    // field's replacement there too before the message is scanned.
    std::string_view text = record.message;
    thread_local std::string patched;
    if (fields != Outcome::unchanged && patch_message(record, redacted.fields(), patched)) {
      text = patched;
    }
    const Outcome message = redactor_->redact(text, out.message);
    if (message == Outcome::unchanged && text.data() != record.message.data()) {
      out.message.append(text);
      out.message_changed = true;
    } else {
      out.message_changed = message != Outcome::unchanged;
    }
    if (message == Outcome::drop || fields == Outcome::drop) return Verdict::drop;
    return out.message_changed || out.fields_changed ? Verdict::changed : Verdict::unchanged;
  }

  std::uint64_t plugin_failures() const noexcept override { return redactor_->plugin_failures(); }

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
