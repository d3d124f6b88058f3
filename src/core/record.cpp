#include "hydra/core/record.hpp"

#include <iterator>

namespace hydra {

bool has_source(const Record& record) noexcept {
  return record.source.file != nullptr && record.source.file[0] != '\0';
}

void FieldValue::append_text(fmt::memory_buffer& out) const {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out.append(std::string_view("null"));
        } else if constexpr (std::is_same_v<T, bool>) {
          out.append(std::string_view(v ? "true" : "false"));
        } else if constexpr (std::is_same_v<T, std::string_view>) {
          out.append(v);
        } else {
          fmt::format_to(fmt::appender(out), "{}", v);
        }
      },
      v_);
}

}  // namespace hydra
