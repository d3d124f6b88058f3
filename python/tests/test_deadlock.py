"""The picologging #207 deadlock, adapted, and blocking on full queues.

picologging #207: two threads log through one handler; the handler holds its
C++ lock while it runs Python code (a formatter, a filter, a str()), that
code lets the GIL go, the other thread takes the GIL and waits for the
handler's lock, and the first waits for the GIL: neither moves. Here:

- two threads log through HydraHandler and through the native API, each
  holding its own threading.Lock while it logs, with field values and
  %-arguments whose __str__ takes the other thread's lock, and a
  logging.Filter that takes a lock a third thread holds while it logs;
- 4 threads flood a logger whose queues hold 4KB (overflow "block"), so the
  callers wait for room, while another thread calls flush() again and again;
- close() while callers are blocked on full queues.

Each scenario runs in a child process: a deadlock then fails the test (the
threads' joins are bounded, then the child's watchdog dumps every stack and
exits, then the parent's timeout kills it) instead of hanging the run. Every
record must be in the file exactly once.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import sys
import threading
from collections import Counter

import pytest

JOIN_TIMEOUT = 60     # seconds each thread of a scenario may take
CHILD_LIMIT = 90      # the child's own watchdog
PARENT_LIMIT = 120    # the parent kills the child after this


# -- the scenarios (run in the child) ---------------------------------------------------

def _config(path, **top):
    return {"layers": {"APP": {"level": "DEBUG", "destinations": [
        {"type": "file", "path": path, "format": "json-lines"}]}}, **top}


def _join_all(threads):
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        print(f"DEADLOCK: threads {stuck} did not finish within {JOIN_TIMEOUT} s",
              file=sys.stderr, flush=True)
        faulthandler.dump_traceback(all_threads=True)
        os._exit(3)


def _start(threads):
    for thread in threads:
        thread.start()


class TakesLock:
    """A value whose str() takes ``lock`` (held by another thread while it logs)."""

    def __init__(self, lock, text):
        self.lock = lock
        self.text = text

    def __str__(self):
        with self.lock:
            return self.text


def scenario_locks(path, mode, n):
    from hydra_logger import HydraLogger
    from hydra_logger.logging import HydraHandler

    log = HydraLogger(_config(path), mode=mode)
    handler = HydraHandler(logger=log)
    filter_lock = threading.Lock()

    class LockingFilter(logging.Filter):
        def filter(self, record):
            with filter_lock:       # held by thread c while it logs
                return True

    handler.addFilter(LockingFilter())
    std = logging.getLogger("deadlock.repro")
    std.propagate = False
    std.setLevel(logging.DEBUG)
    std.addHandler(handler)
    locks = {"a": threading.Lock(), "b": threading.Lock()}
    barrier = threading.Barrier(3, timeout=JOIN_TIMEOUT)

    def worker(me, other):
        barrier.wait()
        for i in range(n):
            with locks[me]:                   # the other thread's str() waits for this
                log.info("held", who=me, i=i)
                std.info("held-std %s %d", me, i)
            # str() of these takes the other thread's lock, which it holds while it logs
            log.info("obj", who=me, i=i, obj=TakesLock(locks[other], other))
            std.info("obj-std %s %d %s", me, i, TakesLock(locks[other], other))
            std.info("extra-std", extra={"who": me, "i": i, "obj": TakesLock(locks[other], other)})

    def filter_holder():
        barrier.wait()
        for i in range(n):
            with filter_lock:                 # the handler's filter waits for this
                log.info("filter-held", who="c", i=i)

    threads = [threading.Thread(target=worker, args=("a", "b"), name="a"),
               threading.Thread(target=worker, args=("b", "a"), name="b"),
               threading.Thread(target=filter_holder, name="c")]
    _start(threads)
    _join_all(threads)
    log.flush()
    log.close()


def scenario_flood(path, threads_count, n):
    from hydra_logger import HydraLogger

    log = HydraLogger(_config(path, mode="async",
                              **{"async": {"queue_capacity": "4KB", "overflow": "block"}}))
    pad = "p" * 200   # a few records fill a 4KB queue
    done = threading.Event()
    flushes = [0]
    barrier = threading.Barrier(threads_count + 1, timeout=JOIN_TIMEOUT)

    def flood(t):
        barrier.wait()
        for i in range(n):
            log.info("flood", t=t, i=i, pad=pad)

    def flusher():
        barrier.wait()
        while not done.is_set():
            log.flush()
            flushes[0] += 1

    flooders = [threading.Thread(target=flood, args=(t,), name=f"flood-{t}")
                for t in range(threads_count)]
    flushing = threading.Thread(target=flusher, name="flusher")
    _start(flooders + [flushing])
    _join_all(flooders)
    done.set()
    _join_all([flushing])
    log.flush()
    metrics = log.get_performance_metrics()
    log.close()
    print(json.dumps({"flushes": flushes[0], "metrics": metrics}))


def scenario_close_under_flood(path, threads_count):
    from hydra_logger import HydraLogger

    log = HydraLogger(_config(path, mode="async",
                              **{"async": {"queue_capacity": "4KB", "overflow": "block"}}))
    pad = "p" * 200
    calls = [0] * threads_count
    flooding = threading.Barrier(threads_count + 1, timeout=JOIN_TIMEOUT)

    def flood(t):
        i = 0
        while not log.closed and i < 200_000:
            log.info("flood", t=t, i=i, pad=pad)
            i += 1
            if i == 500:
                flooding.wait()   # every thread is flooding: now close
        calls[t] = i

    threads = [threading.Thread(target=flood, args=(t,), name=f"flood-{t}")
               for t in range(threads_count)]
    _start(threads)
    flooding.wait()
    log.close()
    _join_all(threads)
    # A call under way when close() began may leave its record queued; the
    # next flush() writes it (docs/async.md, Lifecycle).
    log.flush()
    print(json.dumps({"calls": calls, "metrics": log.get_performance_metrics()}))


def _child_main():
    faulthandler.dump_traceback_later(CHILD_LIMIT, exit=True)
    name, *args = sys.argv[1:]
    if name == "locks":
        scenario_locks(args[0], args[1], int(args[2]))
    elif name == "flood":
        scenario_flood(args[0], int(args[1]), int(args[2]))
    elif name == "close":
        scenario_close_under_flood(args[0], int(args[1]))
    else:
        raise SystemExit(f"unknown scenario {name}")


CHILD = "import test_deadlock; test_deadlock._child_main()"


# -- the tests -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["async", "sync"])
def test_picologging_207_two_threads_with_locks_in_str_and_filter(mode, tmp_path, run_python,
                                                                  assert_ok, read_records):
    n = 400
    path = tmp_path / "locks.jsonl"
    proc = run_python(CHILD, "locks", str(path), mode, str(n), timeout=PARENT_LIMIT)
    assert_ok(proc)
    records = read_records(path)
    keys = Counter()
    for r in records:
        f = r.get("fields", {})
        if r["message"] in ("held", "obj", "filter-held", "extra-std"):
            keys[(r["message"], f["who"], f["i"])] += 1
        else:
            keys[(r["message"],)] += 1
        if r["message"] == "obj" or r["message"] == "extra-std":
            assert f["obj"] == ("b" if f["who"] == "a" else "a"), r
        if r["message"].startswith(("held-std", "obj-std", "extra-std")):
            assert f["logger.name"] == "deadlock.repro"
    expected = Counter()
    for me, other in (("a", "b"), ("b", "a")):
        for i in range(n):
            expected[("held", me, i)] = 1
            expected[(f"held-std {me} {i}",)] = 1
            expected[("obj", me, i)] = 1
            expected[(f"obj-std {me} {i} {other}",)] = 1
            expected[("extra-std", me, i)] = 1
    for i in range(n):
        expected[("filter-held", "c", i)] = 1
    assert keys == expected


def test_tiny_queues_flooded_while_another_thread_flushes(tmp_path, run_python, assert_ok,
                                                         read_records):
    threads_count, n = 4, 5000
    path = tmp_path / "flood.jsonl"
    proc = run_python(CHILD, "flood", str(path), str(threads_count), str(n),
                      timeout=PARENT_LIMIT)
    assert_ok(proc)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    counts = Counter((r["fields"]["t"], r["fields"]["i"]) for r in read_records(path))
    assert len(counts) == threads_count * n
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1][:10]
    assert set(counts) == {(t, i) for t in range(threads_count) for i in range(n)}
    metrics = summary["metrics"]
    assert metrics["async"]["blocked_waits"] > 0, "the callers never waited for a full queue"
    assert metrics["async"]["dropped"] == 0
    assert metrics["async"]["records_in"] == metrics["async"]["records_out"] == threads_count * n
    assert summary["flushes"] >= 1


def test_close_while_callers_are_blocked_on_full_queues(tmp_path, run_python, assert_ok,
                                                        read_records):
    threads_count = 4
    path = tmp_path / "close.jsonl"
    proc = run_python(CHILD, "close", str(path), str(threads_count), timeout=PARENT_LIMIT)
    assert_ok(proc)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    by_thread = {t: [] for t in range(threads_count)}
    for r in read_records(path):
        by_thread[r["fields"]["t"]].append(r["fields"]["i"])
    for t, written in by_thread.items():
        calls = summary["calls"][t]
        assert calls >= 500
        # nothing twice, nothing lost in the middle; the last call may have
        # started after close() and been ignored
        assert sorted(written) == list(range(len(written))), t
        assert len(written) in (calls, calls - 1), (t, len(written), calls)
    metrics = summary["metrics"]["async"]
    assert metrics["records_in"] == metrics["records_out"] + metrics["dropped"]
    assert metrics["dropped"] == 0
