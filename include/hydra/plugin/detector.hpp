// A detector of sensitive data of one's own for the protect stage: given a
// text (a message, or a string field's value), it reports the spans to
// redact, which the redactor replaces with [REDACTED_<token>] (or masks,
// hashes or drops, as the action configured for it says). It runs after the
// built-in detectors, on the same text; a span that overlaps one already
// found is skipped. Add it with RedactorOptions::plugin_detectors, or with
// [[detectors]] in a configuration file.
//
// Threads: detect() runs on every thread that runs the pipeline, at once:
// keep no mutable state, or guard it.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "hydra/plugin/plugin.hpp"

namespace hydra::plugin {

class Detector : public Plugin {
 public:
  // Appends [begin, end) byte ranges of `text`, in increasing order.
  virtual void detect(std::string_view text,
                      std::vector<std::pair<std::size_t, std::size_t>>& spans) const = 0;
  // The <TYPE> of the replacement: [A-Za-z0-9_]+.
  virtual std::string_view token() const = 0;
};

}  // namespace hydra::plugin
