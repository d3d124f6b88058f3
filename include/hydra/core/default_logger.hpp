// The process-wide default logger, as spdlog's: free functions that log
// through it from anywhere, without passing a logger around.
//
//   hydra::info("user {user} logged in", "alice");  // a zero-config logger, made on first use
//   hydra::set_default_logger(std::make_shared<hydra::Logger>(config));
//   hydra::warning("disk {pct}% full", 91);          // now through `config`'s layers
//   hydra::default_logger()->layer("DATABASE").debug("pool size {}", 8);
//
// Guarantees:
// - default_logger() is never null. Until set_default_logger() installs one,
//   it is a zero-config Logger made on first use: text on stdout, colour on a
//   terminal, the HYDRA_LOG_* variables honoured (apply_zero_config_environment
//   in hydra/config/detect.hpp).
// - The free functions are the Logger members' twins: templates checked at
//   compile time, the caller's source location, never a throw. Each costs
//   the member call plus one atomic load (acquire) of the default's address.
// - set_default_logger() may run while other threads log: a call that has
//   loaded the old default finishes on it, later calls go to the new one, and
//   no record is lost. So that such a call never outlives its logger, every
//   logger that has been the default is kept alive (and its files open)
//   until the process exits, and a replaced one is flushed at once. Set it at
//   start-up rather than often.
// - Exit: the default logger is never destroyed, so a static destructor or
//   an atexit handler may still log through it. exit() flushes it with every
//   other live logger (see Logger); a record logged after that flush reaches
//   a console at once, but a file only if something flushes it again.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

#include "hydra/core/detail/call_inline.hpp"
#include "hydra/core/format_string.hpp"
#include "hydra/core/level.hpp"
#include "hydra/core/logger.hpp"

namespace hydra {

// The default logger (see above); never null.
std::shared_ptr<Logger> default_logger();

// Makes `logger` the default for every later free-function call. Null: the
// next call makes a fresh zero-config logger. The previous default is
// flushed and kept alive until exit.
void set_default_logger(std::shared_ptr<Logger> logger);

namespace detail {

// The default's address: null until first use or set_default_logger().
// Constant-initialised and never destroyed, so usable at any point of a
// program's life, static initialisation and destruction included.
extern std::atomic<Logger*> g_default_logger;

// Makes the zero-config default if there is none yet and returns the
// default; null only if it could not be made (reported on stderr).
Logger* make_default_logger() noexcept;

inline Logger* default_logger_for_call() noexcept {
  Logger* logger = g_default_logger.load(std::memory_order_acquire);
  return logger != nullptr ? logger : make_default_logger();
}

template <typename... Args>
HYDRA_CALL_INLINE void emit_to_default(Level level, const basic_format_string<Args...>& f,
                                       Args&&... args) {
  if (Logger* logger = default_logger_for_call()) {
    logger->emit(level, f, std::forward<Args>(args)...);
  }
}

}  // namespace detail

template <typename... Args>
HYDRA_CALL_INLINE void trace(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::trace, f, std::forward<Args>(args)...);
}
template <typename... Args>
HYDRA_CALL_INLINE void debug(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::debug, f, std::forward<Args>(args)...);
}
template <typename... Args>
HYDRA_CALL_INLINE void info(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::info, f, std::forward<Args>(args)...);
}
template <typename... Args>
HYDRA_CALL_INLINE void warning(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::warning, f, std::forward<Args>(args)...);
}
template <typename... Args>
HYDRA_CALL_INLINE void error(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::error, f, std::forward<Args>(args)...);
}
template <typename... Args>
HYDRA_CALL_INLINE void critical(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::critical, f, std::forward<Args>(args)...);
}
// To the SECURITY, AUDIT and COMPLIANCE layers, as the members.
template <typename... Args>
HYDRA_CALL_INLINE void security(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::security, f, std::forward<Args>(args)...);
}
template <typename... Args>
HYDRA_CALL_INLINE void audit(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::audit, f, std::forward<Args>(args)...);
}
template <typename... Args>
HYDRA_CALL_INLINE void compliance(format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(Level::compliance, f, std::forward<Args>(args)...);
}
// At a level chosen at run time (a record at `off` is never written).
template <typename... Args>
HYDRA_CALL_INLINE void log(Level level, format_string<Args...> f, Args&&... args) {
  detail::emit_to_default(level, f, std::forward<Args>(args)...);
}

}  // namespace hydra
