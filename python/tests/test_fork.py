"""Fork safety: a logger with four threads logging while the main thread
forks. Each child logs one record and flushes within 1 s of the fork (its
own measure, sent back through a pipe), and exits; after the threads stop
the parent's file holds every record the threads logged exactly once, and
every child's record. Then the same with multiprocessing's fork start
method. Every wait is bounded: a child that does not exit in time is killed
and the test fails."""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import struct
import threading
import time
from collections import Counter

import pytest

THREADS = 4
MAX_PER_THREAD = 20_000   # bounds the file: the threads stop here or when the forks end
CHILD_DEADLINE = 5.0      # seconds a child may take to exit before it is killed
CHILD_BUDGET = 1.0        # seconds from fork to the return of the child's flush()
JOIN_TIMEOUT = 60


class Loggers:
    """THREADS threads logging short records until stopped (or MAX_PER_THREAD)."""

    def __init__(self, log):
        self.log = log
        self.stop = threading.Event()
        self.counts = [0] * THREADS
        self.running = threading.Barrier(THREADS + 1, timeout=JOIN_TIMEOUT)
        self.threads = [threading.Thread(target=self._run, args=(t,), name=f"logger-{t}")
                        for t in range(THREADS)]

    def _run(self, t):
        info = self.log.info
        n = 0
        info("t", t=t, n=n)
        n += 1
        self.running.wait()        # every thread has logged: the forks may start
        while n < MAX_PER_THREAD and not self.stop.is_set():
            info("t", t=t, n=n)
            n += 1
        self.counts[t] = n

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        self.running.wait()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(JOIN_TIMEOUT)
        assert not any(t.is_alive() for t in self.threads), "a logging thread hung"


def wait_child(pid, deadline):
    """The child's wait status; kills it (and fails) if it outlives ``deadline``."""
    if hasattr(os, "pidfd_open"):
        fd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([fd], [], [], deadline)
        finally:
            os.close(fd)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"child {pid} did not exit within {deadline} s (hung after fork)")
        return os.waitpid(pid, 0)[1]
    end = time.monotonic() + deadline
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"child {pid} did not exit within {deadline} s (hung after fork)")
        select.select([], [], [], 0.002)  # a poll interval, not a synchronisation


def read_elapsed(fd):
    data = b""
    while len(data) < 8:
        chunk = os.read(fd, 8 - len(data))
        if not chunk:
            break
        data += chunk
    os.close(fd)
    assert len(data) == 8, "the child sent no time: it failed before its flush returned"
    return struct.unpack("d", data)[0]


def check_file(jlog, loggers, child_message, children):
    records = jlog.records()
    assert records[0]["message"] == "warm"
    parent = Counter()
    kids = Counter()
    for r in records[1:]:
        f = r.get("fields", {})
        if r["message"] == "t":
            parent[(f["t"], f["n"])] += 1
        elif r["message"] == child_message:
            kids[f["k"]] += 1
        else:
            pytest.fail(f"an unexpected record: {r}")
    assert set(parent.values()) <= {1}, [k for k, v in parent.items() if v > 1][:10]
    expected = {(t, n) for t in range(THREADS) for n in range(loggers.counts[t])}
    missing = expected - set(parent)
    assert not missing, f"{len(missing)} parent records lost, e.g. {sorted(missing)[:10]}"
    assert set(parent) == expected
    assert kids == Counter({k: 1 for k in range(children)})


def test_os_fork_100_times_while_four_threads_log(jlog):
    log = jlog.logger
    log.info("warm")       # the default layer's entry is cached before the threads start
    with Loggers(log) as loggers:
        for k in range(100):
            read_end, write_end = os.pipe()
            forked_at = time.monotonic()   # CLOCK_MONOTONIC: the same clock in the child
            pid = os.fork()
            if pid == 0:  # the child: never returns into pytest
                code = 1
                try:
                    os.close(read_end)
                    log.info("child", k=k, pid=os.getpid())
                    log.flush()
                    os.write(write_end, struct.pack("d", time.monotonic() - forked_at))
                    code = 0
                finally:
                    os._exit(code)
            os.close(write_end)
            status = wait_child(pid, CHILD_DEADLINE)
            elapsed = read_elapsed(read_end)
            assert os.waitstatus_to_exitcode(status) == 0, f"child {k} exited with {status}"
            assert elapsed < CHILD_BUDGET, f"child {k} took {elapsed:.3f} s to log and flush"
    check_file(jlog, loggers, "child", 100)


def _mp_child(log, k, write_end, started_at):
    log.info("mp child", k=k, pid=os.getpid())
    log.flush()
    os.write(write_end, struct.pack("d", time.monotonic() - started_at))


def test_multiprocessing_fork_start_method_while_threads_log(jlog):
    context = multiprocessing.get_context("fork")
    log = jlog.logger
    log.info("warm")
    with Loggers(log) as loggers:
        for k in range(20):
            read_end, write_end = os.pipe()
            process = context.Process(target=_mp_child,
                                      args=(log, k, write_end, time.monotonic()))
            process.start()
            os.close(write_end)
            process.join(CHILD_DEADLINE)
            if process.is_alive():
                process.kill()
                process.join(CHILD_DEADLINE)
                pytest.fail(f"multiprocessing child {k} did not exit within {CHILD_DEADLINE} s")
            assert process.exitcode == 0, f"child {k} exited with {process.exitcode}"
            elapsed = read_elapsed(read_end)
            assert elapsed < CHILD_BUDGET, f"child {k} took {elapsed:.3f} s"
            process.close()
    check_file(jlog, loggers, "mp child", 20)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs os.pidfd_open")
def test_a_child_forked_while_threads_change_levels_can_log(jlog):
    log = jlog.logger
    log.info("warm")
    stop = threading.Event()

    def churn():
        # set_level() empties the layer cache, so the next call takes the lock
        while not stop.is_set():
            log.set_level("debug")
            log.info("churn")

    threads = [threading.Thread(target=churn) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    hung = 0
    try:
        for k in range(30):
            pid = os.fork()
            if pid == 0:
                try:
                    log.info("child", k=k)
                    log.flush()
                finally:
                    os._exit(0)
            fd = os.pidfd_open(pid)
            try:
                ready, _, _ = select.select([fd], [], [], 2.0)
            finally:
                os.close(fd)
            if not ready:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            if not ready:
                hung += 1
                break   # one is enough: do not spend the deadline again
    finally:
        stop.set()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
    assert hung == 0, "a child hung on its first log call"
