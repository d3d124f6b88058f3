// Internal: the boundary between the pipeline and a plugin instance. Every
// call into a plugin goes through a Guard, which catches what it throws,
// counts it, and disables the instance after `limit` failures in a row: a
// plugin never takes the pipeline down, and records bound for other
// destinations are never lost to it. The caller reports a disabling in-band
// (see Logger, "plugin notices").
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "hydra/format/formatter.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::plugin::detail {

class Guard {
 public:
  enum class Outcome : std::uint8_t {
    ok,             // the call returned normally
    failed,         // it threw; counted
    just_disabled,  // it threw, and that was the limit: the instance is off now
    disabled,       // the instance was off; nothing was called
  };
  // `what`: "filter 'sample'" for messages. `total`: a counter the logger
  // sums every guard's failures into (may be null).
  Guard(std::string what, int limit, std::atomic<std::uint64_t>* total = nullptr)
      : what_(std::move(what)), limit_(limit < 1 ? 1 : limit), total_(total) {}

  template <typename Call>
  Outcome run(Call&& call) noexcept {
    if (disabled_.load(std::memory_order_relaxed)) return Outcome::disabled;
    try {
      call();
      // A store only after a failure: the usual call writes nothing shared.
      if (in_a_row_.load(std::memory_order_relaxed) != 0) {
        in_a_row_.store(0, std::memory_order_relaxed);
      }
      return Outcome::ok;
    } catch (const std::exception& e) {
      return fail(e.what());
    } catch (...) {
      return fail("an exception that is not a std::exception");
    }
  }

  bool disabled() const noexcept { return disabled_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
  const std::string& what() const noexcept { return what_; }
  // The notice of the disabling: "filter 'sample' disabled after 5 failures
  // in a row (last: ...)".
  std::string disabled_notice() const {
    std::lock_guard lock(mutex_);
    return what_ + " disabled after " + std::to_string(limit_) +
           " failures in a row (last: " + last_error_ + ")";
  }

 private:
  Outcome fail(const char* why) noexcept {
    failures_.fetch_add(1, std::memory_order_relaxed);
    if (total_ != nullptr) total_->fetch_add(1, std::memory_order_relaxed);
    try {
      std::lock_guard lock(mutex_);
      last_error_ = why;
    } catch (...) {  // NOLINT(bugprone-empty-catch): the count is what matters
    }
    if (in_a_row_.fetch_add(1, std::memory_order_relaxed) + 1 < limit_) return Outcome::failed;
    if (disabled_.exchange(true, std::memory_order_relaxed)) return Outcome::disabled;
    try {
      const std::string notice = disabled_notice();
      std::fprintf(stderr, "hydra: %s\n", notice.c_str());
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
    return Outcome::just_disabled;
  }

  std::string what_;
  int limit_;
  std::atomic<std::uint64_t>* total_;
  std::atomic<int> in_a_row_{0};
  std::atomic<bool> disabled_{false};
  std::atomic<std::uint64_t> failures_{0};
  mutable std::mutex mutex_;
  std::string last_error_;
};

// Tells the logger that a guard disabled its instance, from wherever that
// happened; the logger writes the notice in-band.
using DisabledNotify = std::function<void(const std::string& notice)>;

// A sink from the registry, behind a guard: a failing write is a write
// error, and once disabled every record it is given is counted as dropped.
class GuardedSink final : public Sink {
 public:
  GuardedSink(std::shared_ptr<Sink> sink, std::string what, int limit,
              std::atomic<std::uint64_t>* total)
      : sink_(std::move(sink)), guard_(std::move(what), limit, total) {}
  void set_notify(DisabledNotify notify) { notify_ = std::move(notify); }

  void write(const Record& record, std::string_view bytes) override {
    handle(guard_.run([&] { sink_->write(record, bytes); }), bytes.size());
  }
  void flush() override {
    handle(guard_.run([&] { sink_->flush(); }), 0, false);
  }
  void reopen() override {
    handle(guard_.run([&] { sink_->reopen(); }), 0, false);
  }
  bool is_terminal() const override { return sink_->is_terminal(); }
  bool wants_bytes() const override { return sink_->wants_bytes(); }
  std::uint64_t write_errors() const override { return guard_.failures() + sink_->write_errors(); }
  // What it lost itself, and what the guard counted for it.
  std::uint64_t dropped_records() const override {
    return dropped_records_.load(std::memory_order_relaxed) + sink_->dropped_records();
  }
  std::uint64_t dropped_bytes() const override {
    return dropped_bytes_.load(std::memory_order_relaxed) + sink_->dropped_bytes();
  }
  std::optional<DestinationMetrics> destination_metrics() const override {
    return sink_->destination_metrics();
  }
  void finish() override { sink_->finish(); }
  void attach(Logger& logger) override { sink_->attach(logger); }
  void detach(Logger& logger) override { sink_->detach(logger); }
  bool is_audit_trail() const override { return sink_->is_audit_trail(); }
  void set_notice_formatter(const NoticeFormatter& format) override {
    sink_->set_notice_formatter(format);
  }
  void before_fork() override { sink_->before_fork(); }
  void after_fork(bool in_child) override { sink_->after_fork(in_child); }
  void emergency_flush() noexcept override {
    (void)guard_.run([&] { sink_->emergency_flush(); });
  }
  const Guard& guard() const noexcept { return guard_; }
  const Sink& inner() const noexcept { return *sink_; }

 private:
  void handle(Guard::Outcome outcome, std::size_t bytes, bool is_record = true) {
    if (outcome == Guard::Outcome::ok) return;
    if (is_record) {
      dropped_records_.fetch_add(1, std::memory_order_relaxed);
      dropped_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    }
    if (outcome == Guard::Outcome::just_disabled && notify_) notify_(guard_.disabled_notice());
  }
  std::shared_ptr<Sink> sink_;
  Guard guard_;
  DisabledNotify notify_;
  std::atomic<std::uint64_t> dropped_records_{0};
  std::atomic<std::uint64_t> dropped_bytes_{0};
};

// A formatter from the registry, behind a guard. A failing call loses that
// destination's copy of the record (the logger counts it as a format
// error); once the formatter is disabled, its destination gets JSON Lines
// instead, so that nothing more is lost.
class GuardedFormatter final : public Formatter {
 public:
  GuardedFormatter(std::shared_ptr<const Formatter> formatter, std::string what, int limit,
                   std::atomic<std::uint64_t>* total)
      : formatter_(std::move(formatter)),
        fallback_(make_formatter("json", {})),
        guard_(std::move(what), limit, total) {}
  void set_notify(DisabledNotify notify) { notify_ = std::move(notify); }

  void format(const Record& record, Buffer& out) const override {
    const std::size_t before = out.size();
    const auto outcome = guard_.run([&] { formatter_->format(record, out); });
    if (outcome == Guard::Outcome::ok) return;
    out.resize(before);  // no half line
    if (outcome == Guard::Outcome::disabled) {
      fallback_->format(record, out);
      return;
    }
    if (outcome == Guard::Outcome::just_disabled && notify_) notify_(guard_.disabled_notice());
    throw std::runtime_error(guard_.what() + " failed");
  }
  std::string_view header() const override { return formatter_->header(); }

 private:
  std::shared_ptr<const Formatter> formatter_;
  std::unique_ptr<Formatter> fallback_;
  mutable Guard guard_;
  DisabledNotify notify_;
};

}  // namespace hydra::plugin::detail
