"""ASGI integration (FastAPI, Starlette, any ASGI app): a pure ASGI middleware.

::

    from fastapi import FastAPI
    from hydra_logger.integrations.asgi import HydraASGIMiddleware

    app = FastAPI()
    app.add_middleware(HydraASGIMiddleware, logger=log, replace_uvicorn_access=True)

    # or around everything, Starlette's error middleware included (then the
    # 500 that ServerErrorMiddleware sends carries X-Request-ID too):
    asgi_app = HydraASGIMiddleware(app, logger=log)     # uvicorn module:asgi_app

It is a plain ASGI callable, not Starlette's BaseHTTPMiddleware (which runs
the endpoint in another task, so context set around it is lost). For each
HTTP request it takes the incoming ``X-Request-ID`` (1-128 printable ASCII
characters) or makes a uuid4 hex (``scope["state"]["request_id"]``, i.e.
``request.state.request_id``, has it), binds ``request_id``,
``http.request.method`` and ``url.path`` in the Hydra context around the
downstream app (so every record the endpoint logs carries them: async
endpoints, ``def`` endpoints FastAPI runs in its thread pool, code run by
``asyncio.to_thread``; ``loop.run_in_executor`` does not copy contextvars:
wrap the function with ``hydra_logger.wrap``), adds ``X-Request-ID`` to the
``http.response.start`` message and writes one access record when the app
returns: ``http.route`` (FastAPI's ``scope["route"].path``, else the
Starlette route whose endpoint ran), ``http.response.status_code``,
``duration_ms``, ``client.address`` and ``user.id`` (an authenticated
``scope["user"]``, as Starlette's AuthenticationMiddleware sets it), at
error level for 5xx, warning for 4xx, else info. An exception that escaped
the app adds ``error.type`` and ``error.message`` (status 500 if no response
had started). WebSocket connections get the request id bound (no access
record); lifespan passes through.

``replace_uvicorn_access=True`` silences the ``uvicorn.access`` logger (its
lines would duplicate the access record); it is applied again at the first
call, since uvicorn configures logging after the app may have been built.
``uvicorn --no-access-log`` does the same from the command line.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, Optional

from .. import _context
from . import _common as c

__all__ = ["HydraASGIMiddleware", "disable_uvicorn_access", "route_of"]


def disable_uvicorn_access() -> None:
    """Silences the ``uvicorn.access`` logger: disabled, not propagating, and
    its level above CRITICAL."""
    access = logging.getLogger("uvicorn.access")
    access.disabled = True
    access.propagate = False
    access.setLevel(logging.CRITICAL + 1)


def _find_route(routes: Any, endpoint: Any, prefix: str, depth: int = 0) -> Optional[str]:
    if depth > 8 or not routes:
        return None
    for route in routes:
        if getattr(route, "endpoint", None) is endpoint:
            path = getattr(route, "path", None)
            if isinstance(path, str):
                return prefix + path
    for route in routes:  # Mounts: their routes, under their path
        sub = getattr(route, "routes", None)
        path = getattr(route, "path", None)
        if sub and isinstance(path, str):
            found = _find_route(sub, endpoint, prefix + path, depth + 1)
            if found is not None:
                return found
    return None


def route_of(scope: Dict[str, Any], root_path: str = "") -> Optional[str]:
    """The route template that served ``scope`` (after the app ran), or None.

    FastAPI sets ``scope["route"]`` (an APIRoute; its path is prefixed with
    the path of the Mounts it went through); Starlette 0.26 does not, so the
    router's routes are searched for the endpoint it recorded in
    ``scope["endpoint"]``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        mounted = scope.get("root_path", "") or ""
        if mounted.startswith(root_path):
            mounted = mounted[len(root_path):]
        return mounted + path
    endpoint = scope.get("endpoint")
    router = scope.get("router")
    if endpoint is None or router is None:
        return None
    return _find_route(getattr(router, "routes", None), endpoint, "")


def _scope_user_id(scope: Dict[str, Any]) -> Optional[str]:
    user = scope.get("user")
    if user is None:
        return None
    try:
        if not getattr(user, "is_authenticated", False):
            return None
        for attr in ("identity", "id", "username", "display_name"):
            try:
                value = getattr(user, attr, None)
            except NotImplementedError:
                continue
            if value is not None and value != "":
                return str(value)
    except Exception:
        return None
    return None


class HydraASGIMiddleware:
    """``HydraASGIMiddleware(app, logger=None, replace_uvicorn_access=False)``.

    ``logger``: a HydraLogger (default: hydra_logger.default_logger(), looked
    up per request); ``layer``: the access record's layer;
    ``trust_request_id=False`` ignores incoming ids; ``user_id``: a callable
    taking the scope and returning the user's id (or None).
    """

    def __init__(self, app: Any, logger: Any = None, replace_uvicorn_access: bool = False, *,
                 layer: Optional[str] = None, request_id_header: str = c.REQUEST_ID_HEADER,
                 trust_request_id: bool = True,
                 user_id: Optional[Callable[[Dict[str, Any]], Any]] = None) -> None:
        self.app = app
        self.logger = logger
        self.layer = layer
        self.trust_request_id = trust_request_id
        self._header = request_id_header.lower().encode("latin-1")
        self._user_id = user_id or _scope_user_id
        self._replace_uvicorn_access = replace_uvicorn_access
        if replace_uvicorn_access:
            disable_uvicorn_access()

    def _incoming(self, scope: Dict[str, Any]) -> Any:
        if not self.trust_request_id:
            return None
        name = self._header
        for key, value in scope.get("headers") or ():
            if key.lower() == name:
                return value
        return None

    async def __call__(self, scope: Dict[str, Any], receive: Any, send: Any) -> None:
        if self._replace_uvicorn_access:  # once: uvicorn configured logging by now
            self._replace_uvicorn_access = False
            disable_uvicorn_access()
        kind = scope.get("type")
        if kind != "http":
            if kind == "websocket":
                rid = c.request_id_from(self._incoming(scope))
                scope.setdefault("state", {})["request_id"] = rid
                async with _context.context(**{c.REQUEST_ID: rid, c.URL_PATH: scope.get("path")}):
                    await self.app(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        rid = c.request_id_from(self._incoming(scope))
        rid_bytes = rid.encode("latin-1")
        header = self._header
        method = scope.get("method")
        path = scope.get("path")
        root_path = scope.get("root_path", "") or ""
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        try:
            state["request_id"] = rid
        except TypeError:  # pragma: no cover - a read-only state
            pass
        status: Optional[int] = None

        async def send_with_id(message: Dict[str, Any]) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = message.get("status")
                headers = list(message.get("headers") or ())
                if not any(k.lower() == header for k, _ in headers):
                    headers.append((header, rid_bytes))
                message = dict(message)
                message["headers"] = headers
            await send(message)

        token = _context.bind(**{c.REQUEST_ID: rid, c.HTTP_METHOD: method, c.URL_PATH: path})
        error: Optional[BaseException] = None
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            error = exc
            raise
        finally:
            try:
                final = status
                if final is None and error is not None:
                    final = 500
                client = scope.get("client")
                fields: Dict[str, Any] = {
                    c.HTTP_ROUTE: route_of(scope, root_path),
                    c.CLIENT_ADDRESS: client[0] if client else None,
                    c.USER_ID: self._user_id(scope),
                }
                if fields[c.USER_ID] is not None:
                    fields[c.USER_ID] = str(fields[c.USER_ID])
                c.write_access(self.logger, self.layer, method, path, final, start, fields, error)
            except Exception:
                pass  # the access record never breaks the request
            finally:
                c.unbind_quietly(token)
