"""The Celery app of test_celery_integration's real-worker test.

The worker (``python -m celery -A celery_worker_app worker ...``) and the
test process both import it. The broker and backend come from
HYDRA_TEST_BROKER / HYDRA_TEST_BACKEND; Hydra logging to
HYDRA_TEST_WORKER_LOG is set up only where that variable is set (the worker).
"""

from __future__ import annotations

import os

from celery import Celery

import hydra_logger
from hydra_logger import HydraLogger
from hydra_logger.integrations.celery import setup_celery

app = Celery(
    "celery_worker_app",
    broker=os.environ.get("HYDRA_TEST_BROKER", "memory://"),
    backend=os.environ.get("HYDRA_TEST_BACKEND") or None,
)
app.conf.update(
    worker_hijack_root_logger=False,  # keep the HydraHandler on the root logger
    worker_prefetch_multiplier=1,
    task_acks_late=False,
    result_expires=60,
)

_log_path = os.environ.get("HYDRA_TEST_WORKER_LOG")
if _log_path:
    log = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [
        {"type": "file", "path": _log_path, "format": "json-lines"}]}}})
    hydra_logger.set_default_logger(log)
    hydra_logger.install(log, level="INFO")  # Celery's own records too
    setup_celery(app, logger=log)


@app.task(name="celery_worker_app.add")
def add(x: int, y: int) -> int:
    hydra_logger.default_logger().info("adding", x=x, y=y, pid=os.getpid())
    return x + y
