// Macros for the zero-cost path. Two things a function call cannot do:
//   - arguments are not evaluated when the level is off at run time;
//   - levels below HYDRA_ACTIVE_LEVEL (define it before including Hydra, or
//     with -DHYDRA_ACTIVE_LEVEL=HYDRA_LEVEL_INFO) compile to nothing, while
//     their templates are still checked.
// Works with a Logger (default layer) and a LayerLogger:
//   HYDRA_INFO(log, "user {user} logged in", name);
//   HYDRA_DEBUG(db, "query {sql}", sql);
#pragma once

#define HYDRA_LEVEL_TRACE 0
#define HYDRA_LEVEL_DEBUG 1
#define HYDRA_LEVEL_INFO 2
#define HYDRA_LEVEL_WARNING 3
#define HYDRA_LEVEL_ERROR 4
#define HYDRA_LEVEL_CRITICAL 5
#define HYDRA_LEVEL_OFF 6

#ifndef HYDRA_ACTIVE_LEVEL
#define HYDRA_ACTIVE_LEVEL HYDRA_LEVEL_TRACE
#endif

#define HYDRA_LOG_AT_(logger, rank, method, level, ...) \
  do {                                                  \
    if constexpr ((rank) >= HYDRA_ACTIVE_LEVEL) {       \
      if ((logger).should_log(::hydra::Level::level)) { \
        (logger).method(__VA_ARGS__);                   \
      }                                                 \
    }                                                   \
  } while (false)

#define HYDRA_TRACE(logger, ...) HYDRA_LOG_AT_(logger, HYDRA_LEVEL_TRACE, trace, trace, __VA_ARGS__)
#define HYDRA_DEBUG(logger, ...) HYDRA_LOG_AT_(logger, HYDRA_LEVEL_DEBUG, debug, debug, __VA_ARGS__)
#define HYDRA_INFO(logger, ...) HYDRA_LOG_AT_(logger, HYDRA_LEVEL_INFO, info, info, __VA_ARGS__)
#define HYDRA_WARNING(logger, ...) \
  HYDRA_LOG_AT_(logger, HYDRA_LEVEL_WARNING, warning, warning, __VA_ARGS__)
#define HYDRA_ERROR(logger, ...) HYDRA_LOG_AT_(logger, HYDRA_LEVEL_ERROR, error, error, __VA_ARGS__)
#define HYDRA_CRITICAL(logger, ...) \
  HYDRA_LOG_AT_(logger, HYDRA_LEVEL_CRITICAL, critical, critical, __VA_ARGS__)
#define HYDRA_SECURITY(logger, ...) \
  HYDRA_LOG_AT_(logger, HYDRA_LEVEL_WARNING, security, security, __VA_ARGS__)
#define HYDRA_AUDIT(logger, ...) HYDRA_LOG_AT_(logger, HYDRA_LEVEL_INFO, audit, audit, __VA_ARGS__)
#define HYDRA_COMPLIANCE(logger, ...) \
  HYDRA_LOG_AT_(logger, HYDRA_LEVEL_INFO, compliance, compliance, __VA_ARGS__)
