// Internal: what a log call captured, as the pipeline's right-hand side takes
// it. In sync mode the caller fills it from its own stack and runs the
// pipeline at once; in async mode the backend fills it from the bytes the
// caller queued. Either way Logger::process runs the same stages on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <fmt/core.h>

#include "hydra/core/level.hpp"
#include "hydra/core/record.hpp"

namespace hydra::detail {

struct LayerSlot;

// The OS id of the calling thread (gettid), cached per thread.
std::uint64_t current_thread_id() noexcept;

// Formats a template with its arguments into `message`; with has_names, the
// names are stripped first and returned in `names` (one per placeholder,
// empty for {}). A template that does not fit its arguments (runtime
// templates only) renders itself and the error instead, and returns false.
// With `spans` (and has_names), also each placeholder's [begin, end) in
// `message`, one per name; left empty when the template was rendered by
// {fmt} directly (templates the cache cannot express).
// `literal`: tmpl is a string literal (static and immutable), so the parsed-
// template cache may recognise it by its address alone.
bool render_message(std::string_view tmpl, bool has_names, fmt::format_args args,
                    std::size_t arg_count, fmt::memory_buffer& message,
                    fmt::memory_buffer& stripped, std::vector<std::string_view>& names,
                    std::vector<std::pair<std::uint32_t, std::uint32_t>>* spans = nullptr,
                    bool literal = false);

struct Capture {
  LayerSlot* slot = nullptr;
  Level level = Level::info;
  std::chrono::system_clock::time_point time{};
  std::uint64_t thread_id = 0;
  // The template, or the finished message when `preformatted`.
  std::string_view text;
  bool has_names = false;
  bool preformatted = false;
  bool literal = false;  // text is a string literal (see render_message)
  SourceLocation source;
  fmt::format_args args;
  std::span<const FieldValue> values;  // one per argument when has_names
  std::span<const Field> extra;        // key-values bound with with()
  std::span<const Field> context;      // the calling thread's scoped context
};

}  // namespace hydra::detail
