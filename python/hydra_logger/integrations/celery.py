"""Celery integration: task records, task context, and the caller's context
carried to the worker.

::

    from celery import Celery
    import hydra_logger
    from hydra_logger.integrations.celery import setup_celery

    app = Celery("proj", broker="redis://127.0.0.1:6379/0")
    # Celery replaces the root logger's handlers in the worker unless told not to:
    app.conf.worker_hijack_root_logger = False
    log = hydra_logger.HydraLogger("logging.toml")
    hydra_logger.install(log)          # Celery's own loggers (celery.*) too
    setup_celery(app, logger=log)      # in the module the worker imports (-A proj)

``worker_hijack_root_logger = False`` matters: by default the worker, at
start, removes the root logger's handlers and puts its own there, so a
HydraHandler installed on the root would be dropped. (Connecting a receiver
to ``celery.signals.setup_logging`` stops Celery configuring logging at all,
which is the other way.)

What setup_celery() connects (``celery.signals``; receivers are strong
references; the returned object's ``disconnect()`` removes them):

* ``before_task_publish``: the publisher's bound Hydra context
  (hydra_logger.current(), values made JSON-safe) goes into the message's
  ``hydra_context`` header, unless the caller set that header.
* ``task_prerun``: binds the ``hydra_context`` header's fields, then
  ``task_id`` and ``task_name``, for the task's run (every record the task
  logs, and Celery's own records routed through HydraHandler, carry them),
  and writes ``task started`` (info) with ``retries``.
* ``task_postrun``: ``task finished`` (info) with ``duration_ms``,
  ``retries`` and ``task_state`` (SUCCESS, FAILURE, RETRY...), then unbinds.
* ``task_failure``: ``task failed`` (error) with the exception as
  ``error.type``, ``error.message`` and ``error.stack``, and ``duration_ms``.
* ``task_retry``: ``task retry`` (warning) with ``reason`` and ``retries``.
* ``worker_process_init``: the documented hook for a prefork child. Nothing
  to do: the Hydra core re-initialises its backend thread and queues in the
  child after fork(), so a logger built in the parent (at import of the app
  module) keeps working in the children. The receiver logs nothing.
* ``worker_process_shutdown`` and ``worker_shutdown``: ``logger.flush()``,
  so a prefork child (which leaves through os._exit, without atexit) writes
  what it queued before it exits.

In eager mode (``task_always_eager``) nothing is published: the task runs in
the caller's thread and context, so the caller's fields are already there.
With ``app`` given, only that app's tasks are logged.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from .. import _context
from . import _common as c

__all__ = ["setup_celery", "HydraCelery", "CONTEXT_HEADER"]

#: the message header that carries the publisher's context
CONTEXT_HEADER = "hydra_context"
_STATE_ATTR = "_hydra_logger_state"
_SAFE = (str, int, float, bool, type(None))


def _json_safe(fields: Dict[str, Any]) -> Dict[str, Any]:
    return {str(k): (v if isinstance(v, _SAFE) else str(v)) for k, v in fields.items()}


def _header_context(task: Any) -> Optional[Dict[str, Any]]:
    """The hydra_context header of the running task's request: an attribute
    of the request for a worker (protocol 2 headers), ``request.headers`` for
    apply()/eager."""
    request = getattr(task, "request", None)
    if request is None:
        return None
    value = getattr(request, CONTEXT_HEADER, None)
    if not isinstance(value, dict):
        headers = getattr(request, "headers", None)
        value = headers.get(CONTEXT_HEADER) if isinstance(headers, dict) else None
    return value if isinstance(value, dict) else None


class _TaskState:
    __slots__ = ("start", "tokens")

    def __init__(self, start: float, tokens: List[Any]) -> None:
        self.start = start
        self.tokens = tokens


class HydraCelery:
    """The receivers setup_celery() connected (see the module docstring)."""

    def __init__(self, app: Any = None, logger: Any = None, *, layer: Optional[str] = None,
                 propagate_context: bool = True) -> None:
        self.app = app
        self.logger = logger
        self.layer = layer
        self.propagate_context = propagate_context
        self._connected: List[Tuple[Any, Any, str]] = []

    # -- wiring --------------------------------------------------------------

    def connect(self) -> "HydraCelery":
        from celery import signals

        pairs = [
            (signals.task_prerun, self._on_prerun),
            (signals.task_postrun, self._on_postrun),
            (signals.task_failure, self._on_failure),
            (signals.task_retry, self._on_retry),
            (signals.worker_process_init, self._on_worker_process_init),
            (signals.worker_process_shutdown, self._on_shutdown),
            (signals.worker_shutdown, self._on_shutdown),
        ]
        if self.propagate_context:
            pairs.append((signals.before_task_publish, self._on_before_publish))
        for signal, receiver in pairs:
            uid = f"hydra_logger.celery.{id(self)}.{receiver.__name__}.{id(signal)}"
            signal.connect(receiver, weak=False, dispatch_uid=uid)
            self._connected.append((signal, receiver, uid))
        return self

    def disconnect(self) -> None:
        for signal, receiver, uid in self._connected:
            signal.disconnect(receiver, dispatch_uid=uid)
        self._connected.clear()

    def _log(self) -> Any:
        return c.resolve_logger(self.logger)

    def _ours(self, task: Any) -> bool:
        if self.app is None:
            return True
        try:
            return task.app is self.app
        except Exception:
            return False

    # -- publisher side ------------------------------------------------------

    def _on_before_publish(self, sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
        if not isinstance(headers, dict) or CONTEXT_HEADER in headers:
            return
        fields = _context.current()
        if fields:
            headers[CONTEXT_HEADER] = _json_safe(fields)

    # -- worker side ---------------------------------------------------------

    def _on_prerun(self, sender: Any = None, task_id: Any = None, task: Any = None,
                   **kwargs: Any) -> None:
        task = task if task is not None else sender
        if task is None or not self._ours(task):
            return
        start = time.perf_counter()
        tokens: List[Any] = []
        try:
            carried = _header_context(task) if self.propagate_context else None
            if carried:
                token = c.bind_new(carried)
                if token is not None:
                    tokens.append(token)
            name = getattr(task, "name", None)
            token = c.bind_new({c.TASK_ID: task_id, c.TASK_NAME: name})
            if token is not None:
                tokens.append(token)
            request = task.request
            setattr(request, _STATE_ATTR, _TaskState(start, tokens))
            self._log().info("task started", layer=self.layer,
                             **{c.RETRIES: getattr(request, "retries", 0) or 0})
        except Exception:
            for token in reversed(tokens):
                c.unbind_quietly(token)

    def _state(self, task: Any) -> Optional[_TaskState]:
        request = getattr(task, "request", None)
        state = getattr(request, _STATE_ATTR, None)
        return state if isinstance(state, _TaskState) else None

    def _on_postrun(self, sender: Any = None, task_id: Any = None, task: Any = None,
                    state: Any = None, **kwargs: Any) -> None:
        task = task if task is not None else sender
        if task is None or not self._ours(task):
            return
        ours = self._state(task)
        if ours is None:
            return
        try:
            request = task.request
            self._log().info("task finished", layer=self.layer, **{
                c.DURATION_MS: c.elapsed_ms(ours.start),
                c.RETRIES: getattr(request, "retries", 0) or 0,
                "task_state": state,
            })
            setattr(request, _STATE_ATTR, None)
        except Exception:
            pass
        finally:
            for token in reversed(ours.tokens):
                c.unbind_quietly(token)

    def _on_failure(self, sender: Any = None, task_id: Any = None, exception: Any = None,
                    traceback: Any = None, **kwargs: Any) -> None:
        task = sender
        if task is None or not self._ours(task):
            return
        try:
            fields: Dict[str, Any] = {c.RETRIES: getattr(task.request, "retries", 0) or 0}
            ours = self._state(task)
            if ours is not None:
                fields[c.DURATION_MS] = c.elapsed_ms(ours.start)
            if ours is None:  # not bound by prerun (another app's filter...): say which task
                fields[c.TASK_ID] = task_id
                fields[c.TASK_NAME] = getattr(task, "name", None)
            exc_info: Any = exception
            if isinstance(exception, BaseException) and traceback is not None:
                exc_info = (type(exception), exception, traceback)
            self._log().error("task failed", layer=self.layer, exc_info=exc_info, **fields)
        except Exception:
            pass

    def _on_retry(self, sender: Any = None, request: Any = None, reason: Any = None,
                  **kwargs: Any) -> None:
        task = sender
        if task is None or not self._ours(task):
            return
        try:
            retries = getattr(request, "retries", None)
            if retries is None:
                retries = getattr(task.request, "retries", 0) or 0
            self._log().warning("task retry", layer=self.layer,
                                **{c.RETRIES: retries, "reason": str(reason)})
        except Exception:
            pass

    def _on_worker_process_init(self, **kwargs: Any) -> None:
        """A prefork child starts: the Hydra core has already re-initialised
        itself after fork(), so there is nothing to do. Kept as the place to
        build a per-child logger if one is wanted."""

    def _on_shutdown(self, **kwargs: Any) -> None:
        try:
            logger = self.logger
            if logger is None:  # the default logger, if one was ever built
                import hydra_logger

                logger = getattr(hydra_logger, "_default", None)
            if logger is not None and not getattr(logger, "closed", False):
                logger.flush()
        except Exception:
            pass


def setup_celery(app: Any = None, logger: Any = None, *, layer: Optional[str] = None,
                 propagate_context: bool = True) -> HydraCelery:
    """Connects the Hydra receivers to Celery's signals (see the module
    docstring). ``app``: only its tasks are logged (None: every app's);
    ``logger``: a HydraLogger (default: hydra_logger.default_logger(), looked
    up at each use); ``layer``: the task records' layer; ``propagate_context``:
    carry the publisher's context in the ``hydra_context`` header. Returns
    the HydraCelery whose ``disconnect()`` undoes it."""
    return HydraCelery(app, logger, layer=layer, propagate_context=propagate_context).connect()
