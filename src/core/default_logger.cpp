#include "hydra/core/default_logger.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace hydra {
namespace detail {

std::atomic<Logger*> g_default_logger{nullptr};

}  // namespace detail

namespace {

// Every logger that has been the default, kept alive because a call on
// another thread may still be using it; the last is the default. Never
// destroyed, so the free functions work during static destruction too.
struct DefaultLoggers {
  std::mutex mutex;  // a leaf lock: nothing else is taken while it is held
  std::vector<std::shared_ptr<Logger>> kept;
  std::shared_ptr<Logger> current;

  static DefaultLoggers& get() {
    static auto* instance = [] {
      auto* d = new DefaultLoggers;  // NOLINT: intentionally leaked
      // A child forked while another thread held the lock could never take it.
      ::pthread_atfork([] { get().mutex.lock(); }, [] { get().mutex.unlock(); },
                       [] { get().mutex.unlock(); });
      return d;
    }();
    return *instance;
  }

  // Makes `logger` the default (under the lock); returns the one it replaces.
  std::shared_ptr<Logger> install(std::shared_ptr<Logger> logger) {
    if (logger && std::find(kept.begin(), kept.end(), logger) == kept.end()) kept.push_back(logger);
    std::shared_ptr<Logger> previous = std::exchange(current, logger);
    detail::g_default_logger.store(logger.get(), std::memory_order_release);
    return previous;
  }
};

}  // namespace

Logger* detail::make_default_logger() noexcept {
  DefaultLoggers& loggers = DefaultLoggers::get();
  try {
    {
      std::lock_guard lock(loggers.mutex);
      if (loggers.current) return loggers.current.get();
    }
    // Made outside the lock (a Logger registers itself with the live
    // loggers, whose lock the fork handlers take first); if another thread
    // made one meanwhile, that one stays the default and this one goes.
    auto made = std::make_shared<Logger>();
    std::lock_guard lock(loggers.mutex);
    if (!loggers.current) loggers.install(std::move(made));
    return loggers.current.get();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hydra: the default logger could not be made: %s; record lost\n",
                 e.what());
    return nullptr;
  }
}

std::shared_ptr<Logger> default_logger() {
  detail::make_default_logger();
  DefaultLoggers& loggers = DefaultLoggers::get();
  std::lock_guard lock(loggers.mutex);
  if (!loggers.current) throw std::runtime_error("hydra: the default logger could not be made");
  return loggers.current;
}

void set_default_logger(std::shared_ptr<Logger> logger) {
  DefaultLoggers& loggers = DefaultLoggers::get();
  std::shared_ptr<Logger> previous;
  {
    std::lock_guard lock(loggers.mutex);
    previous = loggers.install(std::move(logger));
  }
  // What it holds goes out now: it is kept, but nothing will flush it
  // again before exit unless its owner does.
  if (previous) previous->flush();
}

}  // namespace hydra
