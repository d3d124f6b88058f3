// Crash safety: on a fatal signal (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL),
// a termination request (SIGTERM, SIGINT) or std::terminate, write every
// record that is still queued in any logger to its sinks and flush them, then
// let the signal take its default course (the process dies as it would have,
// with the same signal, so exit statuses and core dumps are unchanged).
//
// Async-signal-safety: the handler is best effort, as in every logger that
// does this. Draining a queue runs the normal pipeline, which formats and may
// allocate, and it takes each logger's consumer lock with a bounded wait (two
// seconds; a backend stuck in a sink that long is not raced: that logger's
// queued records are given up, with a note on stderr). A crash inside the
// allocator can therefore still lose the queued records. The handler never
// waits for a lock its own thread holds: a built-in sink that the signal
// interrupted this thread inside is written without its lock, from the
// consistent state it keeps for this; a sink locked by another thread is
// waited for at most a second (docs/sinks.md, "fork() and the crash
// handler"). Other threads keep running meanwhile: what they log after the
// handler flushed a sink may be lost. The handler runs at most once; a second
// fatal signal during it takes the default action at once.
// It runs on an alternate stack (for the thread that installed it), so a
// stack overflow on that thread is handled too.
#pragma once

namespace hydra {

// Installs the handlers (idempotent). Handlers installed before are replaced
// for these signals; the previous std::terminate handler still runs after
// the flush.
void install_crash_handler();

}  // namespace hydra
