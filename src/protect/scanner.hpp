// Internal: the built-in detectors, written by hand for speed. One pass over
// the text: a 16-byte-wide pre-filter skips every byte that cannot start or
// announce a match (digits, '@', ':', '=', '+', '-', '_', 'A', 'J'); at each
// such byte a small handler looks around it and either reports a match or
// moves on. Every handler's look-back and look-ahead is bounded or consumed,
// so a scan is linear in the size of the text whatever its content.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "hydra/protect/detector.hpp"
#include "hydra/protect/redactor_options.hpp"

namespace hydra::protect::detail {

// Receives the matches of one scan, in order: each begins at or after the end
// of the one before, and none is empty. `type` is the <TYPE> to write and
// points to static storage.
class MatchSink {
 public:
  virtual void on_match(std::size_t begin, std::size_t end, Detector detector,
                        std::string_view type) = 0;

 protected:
  ~MatchSink() = default;
};

// The bytes that can start or announce a match, whatever their neighbours:
// the only ones scan() hands to a handler (scanner.cpp, class kAnchor).
inline constexpr std::string_view kAnchorChars = "0123456789@:=+-_AJ";
inline constexpr std::array<bool, 256> kAnchorBytes = [] {
  std::array<bool, 256> t{};
  for (const char c : kAnchorChars) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

class Scanner {
 public:
  explicit Scanner(const std::array<DetectorSetting, kDetectorCount>& settings) noexcept;

  // Thread-safe: a Scanner is immutable.
  void scan(std::string_view text, MatchSink& sink) const;

  // False when scan(text) cannot report anything because no byte of `text`
  // can start or announce a match (scan() hands only such bytes to its
  // handlers). One pass over the text, without scan()'s setup: for short
  // texts such as field values.
  bool may_match(std::string_view text) const noexcept {
    if (!any_) return false;
    for (const char c : text) {
      if (kAnchorBytes[static_cast<unsigned char>(c)]) return true;
    }
    return false;
  }

  bool on(Detector d) const noexcept { return on_[static_cast<std::size_t>(d)]; }

 private:
  friend class Scan;
  std::array<bool, kDetectorCount> on_{};
  bool any_ = false;           // any detector at all
  bool numeric_ = false;       // credit_card, ssn, phone, ipv4 or iban
  bool keyed_ = false;         // secret, authorization or aws_key: key=value forms
  bool digit_filter_ = false;  // neither ipv4 nor iban: see Scan::run
};

}  // namespace hydra::protect::detail
