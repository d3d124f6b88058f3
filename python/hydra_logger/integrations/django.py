"""Django integration: a request middleware and a LOGGING snippet.

settings.py::

    from hydra_logger.integrations.django import logging_config

    MIDDLEWARE = [
        "hydra_logger.integrations.django.HydraRequestMiddleware",   # first
        # ... SessionMiddleware, AuthenticationMiddleware, ...
    ]
    LOGGING = logging_config(config="logging.toml", layers={"django.request": "HTTP"})
    # optional: HYDRA_LOGGER = a HydraLogger for the middleware (else
    # hydra_logger.default_logger())

The middleware works under WSGI and ASGI (it is sync- and async-capable).
For each request it takes the incoming ``X-Request-ID`` (1-128 printable
ASCII characters) or makes a uuid4 hex, sets it as ``request.request_id``,
binds ``request_id``, ``http.request.method`` and ``url.path`` in the Hydra
context (every record logged while the request runs carries them: yours,
Django's through HydraHandler), echoes ``X-Request-ID`` on the response and
writes one access record at the end: ``http.route``
(``request.resolver_match.route``), ``http.response.status_code``,
``duration_ms``, ``client.address`` (REMOTE_ADDR) and ``user.id`` (the
authenticated ``request.user``'s pk, as a string, read when the request
ends), at error level for 5xx, warning for 4xx, else info. An uncaught
exception adds ``error.type`` and ``error.message``; django.request logs the
stack.

logging_config() puts a RequestIdFilter on its handler: Django writes its
"Not Found" warnings after the middleware returned, outside the request's
context; the filter gives them the request's id from ``record.request``.

Subclass to change ``layer`` (the access record's layer), ``request_id_header``
or ``trust_request_id`` (False: always make a new id).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any, Dict, Iterable, Mapping, Optional

from .. import _context
from . import _common as c

__all__ = ["HydraRequestMiddleware", "RequestIdFilter", "logging_config"]

_EXCEPTION_ATTR = "_hydra_logger_exception"
_signal_connected = False


def _remember_exception(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """got_request_exception receiver: keeps the exception for the access record."""
    if request is not None:
        try:
            setattr(request, _EXCEPTION_ATTR, sys.exc_info()[1])
        except Exception:  # pragma: no cover - a request that refuses attributes
            pass


def _connect_exception_signal() -> None:
    global _signal_connected
    if _signal_connected:
        return
    from django.core.signals import got_request_exception

    got_request_exception.connect(_remember_exception, dispatch_uid="hydra_logger.django")
    _signal_connected = True


def _mark_coroutine(obj: Any) -> None:
    """Makes asyncio.iscoroutinefunction(obj) true, as Django 3.2's
    MiddlewareMixin does (asgiref's markcoroutinefunction on newer Pythons)."""
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    if marker is not None:
        obj._is_coroutine = marker
        return
    try:  # pragma: no cover - Python 3.12+
        from asgiref.sync import markcoroutinefunction

        markcoroutinefunction(obj)
    except ImportError:  # pragma: no cover
        pass


def _user_loaded(request: Any) -> bool:
    """Whether reading request.user's attributes runs no query: no user, or
    a lazy user already evaluated, or a plain object."""
    user = getattr(request, "user", None)
    if user is None:
        return True
    try:
        from django.utils.functional import LazyObject, empty
    except ImportError:  # pragma: no cover
        return True
    return not (isinstance(user, LazyObject) and user._wrapped is empty)


def _user_id(request: Any) -> Optional[str]:
    """The authenticated request.user's pk (or id) as a string, else None."""
    try:
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        pk = getattr(user, "pk", None)
        if pk is None:
            pk = getattr(user, "id", None)
        return None if pk is None else str(pk)
    except Exception:
        return None


class HydraRequestMiddleware:
    """Request id, Hydra context and an access record for each request."""

    sync_capable = True
    async_capable = True

    #: the access record's layer (None: the logger's default layer)
    layer: Optional[str] = None
    request_id_header: str = c.REQUEST_ID_HEADER
    #: accept a valid incoming X-Request-ID; False always makes a new one
    trust_request_id: bool = True

    def __init__(self, get_response: Any, logger: Any = None) -> None:
        if get_response is None:
            raise ValueError("get_response must be provided")
        self.get_response = get_response
        if logger is None:
            try:
                from django.conf import settings

                logger = getattr(settings, "HYDRA_LOGGER", None)
            except Exception:  # pragma: no cover - settings not configured
                logger = None
        self._logger = logger
        self._meta_key = "HTTP_" + self.request_id_header.upper().replace("-", "_")
        self._async = asyncio.iscoroutinefunction(get_response)
        if self._async:
            _mark_coroutine(self)
        _connect_exception_signal()

    # -- the request's start and end ----------------------------------------

    def _begin(self, request: Any) -> tuple:
        start = time.perf_counter()
        incoming = request.META.get(self._meta_key) if self.trust_request_id else None
        rid = c.request_id_from(incoming)
        try:
            request.request_id = rid
        except Exception:  # pragma: no cover
            pass
        token = _context.bind(**{c.REQUEST_ID: rid, c.HTTP_METHOD: request.method,
                                 c.URL_PATH: request.path})
        return start, rid, token

    def _finish(self, request: Any, response: Any, start: float, rid: str,
                error: Optional[BaseException], user_id: Optional[str]) -> None:
        status = getattr(response, "status_code", None) if response is not None else None
        if response is not None:
            try:
                response[self.request_id_header] = rid
            except Exception:  # pragma: no cover - not an HttpResponse
                pass
        elif error is not None:
            status = 500
        exc = getattr(request, _EXCEPTION_ATTR, None) or error
        match = getattr(request, "resolver_match", None)
        fields: Dict[str, Any] = {
            c.HTTP_ROUTE: getattr(match, "route", None) or None,
            c.CLIENT_ADDRESS: request.META.get("REMOTE_ADDR") or None,
            c.USER_ID: user_id,
        }
        c.write_access(self._logger, self.layer, request.method, request.path, status, start,
                       fields, exc)

    # -- sync and async entry points -----------------------------------------

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self.__acall__(request)
        start, rid, token = self._begin(request)
        response = None
        error: Optional[BaseException] = None
        try:
            response = self.get_response(request)
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            try:
                self._finish(request, response, start, rid, error, _user_id(request))
            except Exception:
                pass  # the access record never breaks the request
            finally:
                c.unbind_quietly(token)

    async def __acall__(self, request: Any) -> Any:
        start, rid, token = self._begin(request)
        response = None
        error: Optional[BaseException] = None
        try:
            response = await self.get_response(request)
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            try:
                if _user_loaded(request):
                    user_id = _user_id(request)
                else:  # evaluating a lazy user may query: not on the event loop
                    from asgiref.sync import sync_to_async

                    user_id = await sync_to_async(_user_id)(request)
                self._finish(request, response, start, rid, error, user_id)
            except Exception:
                pass
            finally:
                c.unbind_quietly(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to a record that carries a request (Django's
    ``extra={"request": ...}``, as django.request and django.security set it)
    when the Hydra context has none. Django logs 4xx responses such as
    "Not Found" after the middleware chain returned, outside the request's
    context; this filter gives those records the request's id too.
    logging_config() puts it on the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if c.REQUEST_ID not in record.__dict__:
            rid = getattr(getattr(record, "request", None), "request_id", None)
            if isinstance(rid, str) and c.REQUEST_ID not in _context.current():
                setattr(record, c.REQUEST_ID, rid)
        return True


def logging_config(config: Any = None, layers: Optional[Mapping[str, str]] = None, *,
                   logger: Any = None, level: str = "INFO", default_layer: Optional[str] = None,
                   loggers: Iterable[str] = ("django",), root: bool = True) -> Dict[str, Any]:
    """A ``LOGGING`` dict (logging.config.dictConfig) routing Django's loggers
    (and, with ``root``, everything else) to one HydraHandler.

    ``config``: the Hydra configuration (a dict or a TOML/YAML/JSON path) the
    handler builds its logger from; or ``logger``: a HydraLogger; neither:
    hydra_logger.default_logger(). ``layers`` maps stdlib logger names
    (prefixes) to layers, e.g. ``{"django.request": "HTTP", "django.db": "DATABASE"}``;
    map only to layers the configuration has (others go to stderr). The
    handler has the RequestIdFilter, so that the "Not Found" warnings
    Django writes after the middleware returned carry the request_id.
    """
    handler: Dict[str, Any] = {"class": "hydra_logger.logging.HydraHandler",
                               "filters": ["hydra_request_id"]}
    if logger is not None:
        handler["logger"] = logger
    elif config is not None:
        handler["config"] = config
    if layers:
        handler["layers"] = dict(layers)
    if default_layer is not None:
        handler["default_layer"] = default_layer
    result: Dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"hydra_request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "handlers": {"hydra": handler},
        "loggers": {name: {"handlers": ["hydra"], "level": level, "propagate": False}
                    for name in loggers},
    }
    if root:
        result["root"] = {"handlers": ["hydra"], "level": level}
    return result
