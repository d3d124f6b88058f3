"""The Celery signals integration: eager mode in-process, and one real
worker with a real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

celery = pytest.importorskip("celery")

from celery import Celery  # noqa: E402
from celery.signals import before_task_publish  # noqa: E402

import hydra_logger  # noqa: E402
from hydra_logger.integrations.celery import CONTEXT_HEADER, setup_celery  # noqa: E402

HERE = Path(__file__).resolve().parent
REDIS_SERVER = "/usr/bin/redis-server"


# -- eager mode ---------------------------------------------------------------

@pytest.fixture
def eager(default_logfile):
    app = Celery("hydra_eager_test", set_as_current=False)
    app.conf.update(task_always_eager=True, task_eager_propagates=False,
                    broker_url="memory://")

    @app.task(name="eager.add")
    def add(x, y):
        hydra_logger.default_logger().info("adding", x=x, y=y)
        return x + y

    @app.task(name="eager.fail")
    def fail():
        raise ValueError("bad input")

    @app.task(name="eager.flaky", bind=True, max_retries=3)
    def flaky(self):
        if self.request.retries < 2:
            raise self.retry(exc=ConnectionError("try again"), countdown=0)
        hydra_logger.default_logger().info("flaky done")
        return "ok"

    handle = setup_celery(app, logger=default_logfile.logger)
    try:
        yield app, default_logfile, {"add": add, "fail": fail, "flaky": flaky}
    finally:
        handle.disconnect()


def test_eager_success_records_and_context(eager):
    app, lf, tasks = eager
    with hydra_logger.context(request_id="r-eager"):
        result = tasks["add"].delay(2, 3)
    assert result.get() == 5
    tid = result.id

    started = lf.one("task started")
    finished = lf.one("task finished")
    body = lf.one("adding")
    for record in (started, finished, body):
        assert record["fields"]["task_id"] == tid
        assert record["fields"]["task_name"] == "eager.add"
        assert record["fields"]["request_id"] == "r-eager"  # the caller's context
    assert started["level"] == "info" and started["fields"]["retries"] == 0
    assert finished["level"] == "info"
    assert finished["fields"]["task_state"] == "SUCCESS"
    assert isinstance(finished["fields"]["duration_ms"], float)
    assert finished["fields"]["duration_ms"] >= 0
    assert body["fields"]["x"] == 2
    # the task's fields are unbound after it; the caller's were never touched
    assert hydra_logger.current() == {}
    for line in lf.lines():
        assert line.count('"request_id":') <= 1 and line.count('"task_id":') <= 1


def test_eager_failure_is_an_error_with_the_exception(eager):
    app, lf, tasks = eager
    result = tasks["fail"].delay()
    assert result.failed()
    failed = lf.one("task failed")
    f = failed["fields"]
    assert failed["level"] == "error"
    assert f["task_id"] == result.id and f["task_name"] == "eager.fail"
    assert f["error.type"] == "ValueError"
    assert f["error.message"] == "bad input"
    assert "raise ValueError" in f["error.stack"]
    assert isinstance(f["duration_ms"], float)
    assert lf.one("task finished")["fields"]["task_state"] == "FAILURE"


def test_eager_retries(eager):
    app, lf, tasks = eager
    result = tasks["flaky"].delay()
    assert result.get() == "ok"
    retries = lf.find("task retry")
    assert [r["fields"]["retries"] for r in retries] == [0, 1]
    assert all(r["level"] == "warning" for r in retries)
    assert "try again" in retries[0]["fields"]["reason"]
    assert [r["fields"]["retries"] for r in lf.find("task started")] == [0, 1, 2]
    states = [r["fields"]["task_state"] for r in lf.find("task finished")]
    assert states == ["RETRY", "RETRY", "SUCCESS"]
    assert lf.one("flaky done")["fields"]["task_id"] == result.id
    assert hydra_logger.current() == {}


def test_context_header_is_bound_in_the_task(eager):
    """What a worker does with the header: apply() puts custom headers in
    request.headers, a worker's protocol-2 request in its attributes."""
    app, lf, tasks = eager
    result = tasks["add"].apply_async((1, 1), headers={CONTEXT_HEADER: {"request_id": "r-h",
                                                                        "tenant": "acme"}})
    assert result.get() == 2
    body = lf.one("adding")
    assert body["fields"]["request_id"] == "r-h"
    assert body["fields"]["tenant"] == "acme"
    assert body["fields"]["task_id"] == result.id
    assert hydra_logger.current() == {}


def test_other_apps_tasks_are_not_logged(eager):
    app, lf, tasks = eager
    other = Celery("hydra_other_app", set_as_current=False)
    other.conf.update(task_always_eager=True, broker_url="memory://")

    @other.task(name="other.noop")
    def noop():
        return 1

    assert noop.delay().get() == 1
    assert lf.find("task started") == []


def test_publish_puts_the_context_in_the_headers(default_logfile):
    app = Celery("hydra_publish_test", set_as_current=False, broker="memory://")

    @app.task(name="publish.noop")
    def noop():  # pragma: no cover - never run: no worker
        return None

    seen = []

    def spy(sender=None, headers=None, **kwargs):
        seen.append(dict(headers or {}))

    handle = setup_celery(app, logger=default_logfile.logger)
    before_task_publish.connect(spy, weak=False, dispatch_uid="hydra-test-spy")
    try:
        with hydra_logger.context(request_id="r-pub", obj=object()):
            noop.delay()
        noop.delay()  # no context: no header
    finally:
        before_task_publish.disconnect(spy, dispatch_uid="hydra-test-spy")
        handle.disconnect()
    assert seen[0][CONTEXT_HEADER]["request_id"] == "r-pub"
    assert isinstance(seen[0][CONTEXT_HEADER]["obj"], str)  # made JSON-safe
    assert CONTEXT_HEADER not in seen[1]


def test_disconnect_removes_the_receivers(default_logfile):
    app = Celery("hydra_disconnect_test", set_as_current=False)
    app.conf.update(task_always_eager=True, broker_url="memory://")

    @app.task(name="disc.noop")
    def noop():
        return 1

    setup_celery(app, logger=default_logfile.logger).disconnect()
    noop.delay().get()
    assert default_logfile.records() == []


# -- a real worker and a real Redis ------------------------------------------

@pytest.fixture
def redis_url(tmp_path, processes):
    """A redis-server of this test's own on an ephemeral 127.0.0.1 port."""
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server is not installed")
    port = processes.free_port()
    proc = processes.start(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path), "--daemonize", "no"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    processes.wait_for_output(proc, "Ready to accept connections", 30)
    return f"redis://127.0.0.1:{port}"


def test_real_worker_with_redis(redis_url, tmp_path, monkeypatch, default_logfile, read_jsonl,
                                processes):
    worker_log = tmp_path / "worker.jsonl"
    broker, backend = f"{redis_url}/0", f"{redis_url}/1"
    env = dict(os.environ)
    env.update({
        "HYDRA_TEST_BROKER": broker,
        "HYDRA_TEST_BACKEND": backend,
        "HYDRA_TEST_WORKER_LOG": str(worker_log),
        "PYTHONPATH": os.pathsep.join(
            p for p in [str(HERE), env.get("PYTHONPATH", "")] if p),
    })
    # this process publishes: the same app module, with no Hydra logging of its own
    monkeypatch.setenv("HYDRA_TEST_BROKER", broker)
    monkeypatch.setenv("HYDRA_TEST_BACKEND", backend)
    monkeypatch.delenv("HYDRA_TEST_WORKER_LOG", raising=False)
    sys.modules.pop("celery_worker_app", None)
    import celery_worker_app

    publisher = setup_celery(celery_worker_app.app, logger=default_logfile.logger)
    worker_out = tmp_path / "worker.out"
    with worker_out.open("wb") as out:
        worker = processes.start(
            [sys.executable, "-m", "celery", "-A", "celery_worker_app", "worker",
             "--pool=prefork", "-c", "1", "--without-heartbeat", "--without-gossip",
             "--without-mingle", "--loglevel=INFO", "-n", f"hydra-test-{os.getpid()}@%h"],
            cwd=str(HERE), env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            with hydra_logger.context(request_id="r-42"):
                result = celery_worker_app.add.delay(20, 22)
            assert result.get(timeout=60) == 42
        finally:
            publisher.disconnect()
            processes.stop(worker)
            celery_worker_app.app.close()
    output = worker_out.read_text(errors="replace")
    assert worker.returncode == 0, output

    records = read_jsonl(worker_log)
    mine = [r for r in records if r["fields"].get("task_id") == result.id]
    by_message = {r["message"]: r for r in mine}
    assert {"task started", "adding", "task finished"} <= set(by_message), (records, output)
    for record in (by_message["task started"], by_message["adding"],
                   by_message["task finished"]):
        assert record["fields"]["task_name"] == "celery_worker_app.add"
        assert record["fields"]["request_id"] == "r-42"  # carried by the message header
    assert by_message["task finished"]["fields"]["task_state"] == "SUCCESS"
    assert isinstance(by_message["task finished"]["fields"]["duration_ms"], float)
    assert by_message["task started"]["fields"]["retries"] == 0
    # the task ran in the prefork child, not in the worker's main process
    worker_pid_records = [r for r in records if r["message"] == "adding"]
    assert worker_pid_records[0]["fields"]["pid"] != worker.pid
    # Celery's own "succeeded" record, through HydraHandler, has the task context
    succeeded = [r for r in mine if "succeeded" in r["message"]]
    assert succeeded and succeeded[0]["fields"]["request_id"] == "r-42"
