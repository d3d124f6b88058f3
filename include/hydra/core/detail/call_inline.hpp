// HYDRA_INLINE_CALLS: a log call's whole async fast path (level check,
// reserve, timestamp, record, publish) compiled into each call site instead
// of a call to one shared function per argument list. After an idle spell
// the call's code then comes back with the caller's (the same lines and
// page) instead of from a function elsewhere: on the project machine a
// burst's first call after a pause cost half as much, and the p99 came level
// with the least an async call can do (docs/async.md "Inline calls"). The
// price is code: 400-900 bytes more per log statement, and about three times
// the compile time for a file full of them. Calls with key-values bound by
// with() stay calls.
//
// It changes only how calls are compiled in the files that define it; the
// library need not be rebuilt. Define it for the targets that log
// (target_compile_definitions(app PRIVATE HYDRA_INLINE_CALLS)), or configure
// Hydra with -DHYDRA_INLINE_CALLS=ON to put it on the hydra target.
#pragma once

#ifdef HYDRA_INLINE_CALLS
#define HYDRA_CALL_INLINE [[gnu::always_inline]]
#else
#define HYDRA_CALL_INLINE
#endif
