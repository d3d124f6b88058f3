"""Context fields (contextvars) under asyncio and threads: concurrent tasks
each keep their own fields however their steps interleave, asyncio.to_thread
carries them, run_in_executor does only through hydra_logger.wrap, a thread
through run_in_context; nested contexts (inner wins) and the call's own
fields (call wins) give one field per key."""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import threading

import pytest

import hydra_logger
from hydra_logger import context

TIMEOUT = 30  # seconds: the bound of every wait here


def run(coro):
    """asyncio.run with a bound: a task that never wakes fails the test."""
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def fields(record):
    return record.get("fields", {})


@pytest.fixture(autouse=True)
def _empty_context():
    """Each test starts, and must end, with nothing bound."""
    assert hydra_logger.current() == {}
    yield
    assert hydra_logger.current() == {}


# -- asyncio tasks ---------------------------------------------------------------------

def test_fifty_concurrent_tasks_each_keep_their_own_request_id(jlog):
    """50 tasks take turns in a shuffled order at each of 4 steps (one Event
    per task and step; the task whose turn it is sets the next one's), so
    every task logs between other tasks' records. Four ways of binding: a
    with block, async with, bind()/unbind(), the decorator."""
    log = jlog.logger
    tasks, steps = 50, 4
    rng = random.Random(207)
    orders = [rng.sample(range(tasks), tasks) for _ in range(steps)]

    async def main():
        turns = {(s, t): asyncio.Event() for s in range(steps) for t in range(tasks)}

        def next_turn(step, task):
            order = orders[step]
            at = order.index(task)
            if at + 1 < tasks:
                turns[(step, order[at + 1])].set()
            elif step + 1 < steps:
                turns[(step + 1, orders[step + 1][0])].set()

        async def body(task):
            for step in range(steps):
                await turns[(step, task)].wait()
                assert hydra_logger.current()["request_id"] == f"req-{task}"
                log.info("step", task=task, step=step)
                next_turn(step, task)
                await asyncio.sleep(0)  # a yield to the loop, not a wait for time

        async def worker(task):
            kind = task % 4
            if kind == 0:
                with context(request_id=f"req-{task}"):
                    await body(task)
            elif kind == 1:
                async with context(request_id=f"req-{task}"):
                    await body(task)
            elif kind == 2:
                token = hydra_logger.bind(request_id=f"req-{task}")
                try:
                    await body(task)
                finally:
                    hydra_logger.unbind(token)
            else:
                await context(request_id=f"req-{task}")(body)(task)

        turns[(0, orders[0][0])].set()
        await asyncio.gather(*(worker(t) for t in range(tasks)))
        assert hydra_logger.current() == {}

    run(main())
    records = jlog.records()
    assert len(records) == tasks * steps
    for record in records:
        assert fields(record)["request_id"] == f"req-{fields(record)['task']}", record
    # the order of the records is the turns' order: they did interleave
    assert [fields(r)["task"] for r in records] == [t for order in orders for t in order]


def test_a_task_copies_its_creators_context_and_changes_stay_inside(jlog):
    log = jlog.logger

    async def child():
        log.info("child sees the parent's fields")
        hydra_logger.bind(child_only=True)      # not unbound: the task's copy dies with it
        log.info("child bound more")

    async def main():
        with context(request_id="parent"):
            await asyncio.create_task(child())
            log.info("parent after the child")

    run(main())
    records = {r["message"]: fields(r) for r in jlog.records()}
    assert records["child sees the parent's fields"] == {"request_id": "parent"}
    assert records["child bound more"] == {"request_id": "parent", "child_only": True}
    assert records["parent after the child"] == {"request_id": "parent"}


def test_logging_from_a_coroutine_needs_no_await(jlog):
    log = jlog.logger
    ticks = []

    async def ticker():
        for i in range(100):
            ticks.append(i)
            await asyncio.sleep(0)

    async def producer():
        with context(source="producer"):
            for i in range(1000):
                log.info("from a coroutine", i=i)     # no await: the call only enqueues
                if i % 10 == 0:
                    await asyncio.sleep(0)

    async def main():
        await asyncio.gather(producer(), ticker())

    run(main())
    assert ticks == list(range(100))
    records = jlog.records()
    assert [fields(r)["i"] for r in records] == list(range(1000))
    assert all(fields(r)["source"] == "producer" for r in records)


# -- threads and executors -------------------------------------------------------------

def test_to_thread_carries_the_context(jlog):
    log = jlog.logger

    def work(what):
        log.info(what)
        return threading.get_native_id()

    async def main():
        with context(request_id="r-thread"):
            return await asyncio.to_thread(work, "in to_thread")

    worker_id = run(main())
    record = jlog.one("in to_thread")
    assert fields(record) == {"request_id": "r-thread"}
    assert record["thread"] == worker_id != threading.get_native_id()


def test_run_in_executor_carries_the_context_only_through_wrap(jlog):
    log = jlog.logger
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def work(what):
        log.info(what)

    async def main():
        loop = asyncio.get_running_loop()
        with context(request_id="r-exec"):
            await loop.run_in_executor(executor, work, "plain run_in_executor")
            await loop.run_in_executor(executor, hydra_logger.wrap(work), "wrapped")
            await loop.run_in_executor(None, hydra_logger.wrap(work), "wrapped, default pool")

    try:
        run(main())
    finally:
        executor.shutdown(wait=True)
    assert "fields" not in jlog.one("plain run_in_executor")
    assert fields(jlog.one("wrapped")) == {"request_id": "r-exec"}
    assert fields(jlog.one("wrapped, default pool")) == {"request_id": "r-exec"}


def test_wrap_takes_the_context_when_it_wraps_not_when_it_runs(jlog):
    log = jlog.logger
    with context(phase="at wrap"):
        wrapped = hydra_logger.wrap(lambda: log.info("wrapped call"))
    with context(phase="at call"):
        wrapped()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        with context(phase="submitted"):
            pool.submit(hydra_logger.wrap(log.info), "submitted").result(TIMEOUT)
            pool.submit(log.info, "submitted plain").result(TIMEOUT)
    assert fields(jlog.one("wrapped call")) == {"phase": "at wrap"}
    assert fields(jlog.one("submitted")) == {"phase": "submitted"}
    assert "fields" not in jlog.one("submitted plain")


def test_a_thread_started_with_run_in_context(jlog):
    log = jlog.logger

    def work(what):
        log.info(what)

    with context(request_id="r-7", user=7):
        carried = threading.Thread(target=hydra_logger.run_in_context(work), args=("carried",))
        plain = threading.Thread(target=work, args=("plain thread",))
        carried.start()
        plain.start()
    for thread in (carried, plain):
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert fields(jlog.one("carried")) == {"request_id": "r-7", "user": 7}
    assert "fields" not in jlog.one("plain thread")


# -- precedence: one field per key ------------------------------------------------------

def test_inner_context_wins_and_the_call_wins(jlog):
    log = jlog.logger
    with context(a="outer", b="outer", c="outer"):
        with context(b="inner", c="inner"):
            assert hydra_logger.current() == {"a": "outer", "b": "inner", "c": "inner"}
            log.info("nested")
            log.info("keyword wins", c="call")
            log.info("extra wins", extra={"a": "extra"})
            log.info("%(b)s mapping argument", {"b": "mapping"})
            log.info("%s positional", "p", arg0="keyword")   # keyword over %-argument
            log.bind(b="bound").info("bound view wins")
            log.bind(b="bound").info("call over bound view", b="call")
            log.info("extra under keyword", c="keyword", extra={"c": "extra"})
        log.info("outer again")
    records = {r["message"]: fields(r) for r in jlog.records()}  # strict: no key twice
    assert records["nested"] == {"a": "outer", "b": "inner", "c": "inner"}
    assert records["keyword wins"] == {"c": "call", "a": "outer", "b": "inner"}
    assert records["extra wins"] == {"a": "extra", "b": "inner", "c": "inner"}
    assert records["mapping mapping argument"] == {"b": "mapping", "a": "outer", "c": "inner"}
    assert records["p positional"] == {"arg0": "keyword", "a": "outer", "b": "inner",
                                       "c": "inner"}
    assert records["bound view wins"] == {"b": "bound", "a": "outer", "c": "inner"}
    assert records["call over bound view"] == {"b": "call", "a": "outer", "c": "inner"}
    assert records["extra under keyword"] == {"c": "keyword", "a": "outer", "b": "inner"}
    assert records["outer again"] == {"a": "outer", "b": "outer", "c": "outer"}


def test_precedence_holds_with_many_fields(jlog):
    """Past 16 fields the native side keeps one per key with a hash set."""
    log = jlog.logger
    with context(**{f"k{i}": "outer" for i in range(40)}):
        with context(**{f"k{i}": "inner" for i in range(20)}):
            log.info("many", **{f"k{i}": "call" for i in range(10)},
                     extra={f"k{i}": "extra" for i in range(5, 15)})
    got = fields(jlog.one("many"))   # read strictly: a key twice fails
    expected = {f"k{i}": "call" for i in range(10)}
    expected.update({f"k{i}": "extra" for i in range(10, 15)})
    expected.update({f"k{i}": "inner" for i in range(15, 20)})
    expected.update({f"k{i}": "outer" for i in range(20, 40)})
    assert got == expected


def test_context_as_a_decorator_sync_and_async(jlog):
    log = jlog.logger

    @context(job="sync-job")
    def sync_job(n):
        log.info("sync job", n=n)
        return n * 2

    @context(job="async-job")
    async def async_job(n):
        await asyncio.sleep(0)
        log.info("async job", n=n)
        return n * 3

    assert sync_job(2) == 4
    assert run(async_job(2)) == 6
    with context(job="caller", outer=1):
        sync_job(3)
    assert fields(jlog.find("sync job")[0]) == {"n": 2, "job": "sync-job"}
    assert fields(jlog.one("async job")) == {"n": 2, "job": "async-job"}
    assert fields(jlog.find("sync job")[1]) == {"n": 3, "job": "sync-job", "outer": 1}


def test_bind_unbind_current_and_clear(jlog):
    log = jlog.logger
    first = hydra_logger.bind(a=1)
    second = hydra_logger.bind(b=2, a=3)
    assert hydra_logger.current() == {"a": 3, "b": 2}
    log.info("both bound")
    hydra_logger.unbind(second)
    assert hydra_logger.current() == {"a": 1}
    cleared = hydra_logger.clear()
    assert hydra_logger.current() == {}
    log.info("cleared")
    hydra_logger.unbind(cleared)
    assert hydra_logger.current() == {"a": 1}
    hydra_logger.unbind(first)
    assert fields(jlog.one("both bound")) == {"a": 3, "b": 2}
    assert "fields" not in jlog.one("cleared")


def test_stdlib_records_carry_the_context(jlog):
    import logging

    from hydra_logger.logging import HydraHandler

    std = logging.getLogger("test_context.stdlib")
    std.propagate = False
    std.setLevel(logging.DEBUG)
    handler = HydraHandler(logger=jlog.logger)
    std.addHandler(handler)
    try:
        async def main():
            with context(request_id="r-std"):
                std.info("stdlib in a task")
                await asyncio.to_thread(std.warning, "stdlib in to_thread")

        run(main())
    finally:
        std.removeHandler(handler)
    assert fields(jlog.one("stdlib in a task")) == {"logger.name": "test_context.stdlib",
                                                   "request_id": "r-std"}
    assert fields(jlog.one("stdlib in to_thread"))["request_id"] == "r-std"
