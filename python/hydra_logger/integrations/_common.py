"""What the framework integrations share: the field names, the request id,
the access record.

Field vocabulary (OpenTelemetry's semantic-convention names where they
exist; these are the keys under ``"fields"`` in a JSON-lines record):

==============================  ==============================================
``request_id``                  the request's id (incoming ``X-Request-ID`` or
                                a new uuid4 hex); bound for the whole request
``http.request.method``         ``GET``, ``POST``... (bound)
``url.path``                    the request's path, without the query (bound)
``http.route``                  the matched route template (``items/<int:pk>/``,
                                ``/items/{item_id}``); absent when none matched
``http.response.status_code``   the response's status
``duration_ms``                 request (or task) wall time, milliseconds
``client.address``              the peer's address
``user.id``                     the authenticated user's id, as a string
``task_id``, ``task_name``      a Celery task's id and name (bound)
``retries``                     the task's retry count
``error.type``, ``error.message``  the exception that ended a request or task
==============================  ==============================================
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict, Optional

from .. import _context

__all__ = [
    "REQUEST_ID", "HTTP_METHOD", "URL_PATH", "HTTP_ROUTE", "HTTP_STATUS", "DURATION_MS",
    "CLIENT_ADDRESS", "USER_ID", "TASK_ID", "TASK_NAME", "RETRIES", "REQUEST_ID_HEADER",
    "MAX_REQUEST_ID_LENGTH", "accept_request_id", "request_id_from", "new_request_id",
    "level_for_status", "resolve_logger", "elapsed_ms", "error_fields", "write_access",
    "bind_new", "unbind_quietly",
]

REQUEST_ID = "request_id"
HTTP_METHOD = "http.request.method"
URL_PATH = "url.path"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"
DURATION_MS = "duration_ms"
CLIENT_ADDRESS = "client.address"
USER_ID = "user.id"
TASK_ID = "task_id"
TASK_NAME = "task_name"
RETRIES = "retries"

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: Any) -> Optional[str]:
    """``value`` (an incoming header, str or bytes) if it is usable as a
    request id: 1 to 128 printable ASCII characters (space to ``~``) once
    surrounding blanks are stripped. Else None."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_REQUEST_ID_LENGTH:
        return None
    for ch in value:
        if not " " <= ch <= "~":
            return None
    return value


def request_id_from(incoming: Any) -> str:
    """The incoming id when it is valid, else a new one."""
    return accept_request_id(incoming) or new_request_id()


def level_for_status(status: Optional[int]) -> str:
    """error for 5xx, warning for 4xx, else info."""
    if status is None:
        return "info"
    if status >= 500:
        return "error"
    if status >= 400:
        return "warning"
    return "info"


def resolve_logger(logger: Any) -> Any:
    """``logger``, else the process's default logger (looked up at each use,
    so a later hydra_logger.set_default_logger() is followed)."""
    if logger is not None:
        return logger
    from .. import default_logger

    return default_logger()


def elapsed_ms(start: float) -> float:
    """Milliseconds since ``start`` (a time.perf_counter() value), to the µs."""
    return round((time.perf_counter() - start) * 1000.0, 3)


def error_fields(exc: Optional[BaseException]) -> Dict[str, Any]:
    """error.type and error.message of ``exc`` (no stack: the framework's own
    error record, routed through HydraHandler, carries it)."""
    if exc is None:
        return {}
    etype = type(exc)
    name = etype.__qualname__
    module = getattr(etype, "__module__", "builtins")
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    try:
        message = str(exc)
    except Exception as e:  # an exception whose __str__ raises
        message = f"<unprintable {etype.__name__}: {type(e).__name__}>"
    return {"error.type": name, "error.message": message}


def write_access(logger: Any, layer: Optional[str], method: Optional[str], path: Optional[str],
                 status: Optional[int], start: float, fields: Dict[str, Any],
                 exc: Optional[BaseException] = None) -> None:
    """The access record: ``"GET /items/3 200"`` at the status's level, with
    duration_ms and ``fields`` (the request's bound context adds request_id,
    http.request.method and url.path)."""
    record: Dict[str, Any] = {}
    if status is not None:
        record[HTTP_STATUS] = status
    record[DURATION_MS] = elapsed_ms(start)
    for key, value in fields.items():
        if value is not None:
            record[key] = value
    if exc is not None:
        record.update(error_fields(exc))
    level = level_for_status(status)
    if status is None and exc is not None:
        level = "error"
    message = f"{method or '-'} {path or '-'} {status if status is not None else '-'}"
    log = resolve_logger(logger)
    log.log(level, message, layer=layer, **record)


def bind_new(fields: Dict[str, Any]) -> Any:
    """Binds the items of ``fields`` that the running context does not
    already hold with the same value (so a key is not written twice);
    returns the token, or None when there was nothing to bind."""
    bound = _context.current()
    fresh = {k: v for k, v in fields.items() if k not in bound or bound[k] != v}
    if not fresh:
        return None
    return _context.bind(**fresh)


def unbind_quietly(token: Any) -> None:
    """unbind() that tolerates None and a token from another context (a
    framework that ran the end hook in a copied context)."""
    if token is None:
        return
    try:
        _context.unbind(token)
    except (ValueError, RuntimeError):
        pass
