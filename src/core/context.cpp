#include "hydra/core/context.hpp"

#include <deque>
#include <string>
#include <vector>

#include "hydra/core/detail/thread_instance.hpp"

namespace hydra {
namespace {

// Owned copy of a field; deque keeps addresses stable as scopes grow.
struct OwnedField {
  std::string key;
  std::string text;  // string values live here
  FieldValue value;  // non-string values, or a view into `text`
};

struct ContextStack {
  std::deque<OwnedField> owned;
  std::vector<std::size_t> scope_starts;
  std::vector<Field> views;

  void rebuild() {
    ++detail::t_hot.context_version;
    detail::t_hot.ready_engine = 0;  // async: the next call sends the new context first
    views.clear();
    views.reserve(owned.size());
    for (const OwnedField& f : owned) views.push_back(Field{f.key, f.value});
  }
};

ContextStack& stack() {
  return detail::thread_instance<ContextStack>();
}

}  // namespace

ScopedContext::ScopedContext(std::initializer_list<Field> fields) {
  ContextStack& s = stack();
  depth_ = s.scope_starts.size();
  s.scope_starts.push_back(s.owned.size());
  for (const Field& f : fields) {
    OwnedField& o = s.owned.emplace_back();
    o.key.assign(f.key);
    if (f.value.is_string()) {
      o.text.assign(f.value.as_string());
      o.value = FieldValue(std::string_view(o.text));
    } else {
      o.value = f.value;
    }
  }
  s.rebuild();
}

ScopedContext::~ScopedContext() {
  ContextStack& s = stack();
  // Scopes close in reverse order of opening; if one outlives an inner one
  // (moved into a longer-lived object), close everything above it too.
  if (depth_ < s.scope_starts.size()) {
    s.owned.resize(s.scope_starts[depth_]);
    s.scope_starts.resize(depth_);
    s.rebuild();
  }
}

std::span<const Field> current_context() noexcept {
  return stack().views;
}

}  // namespace hydra
