"""Flask integration: request id, Hydra context and an access record.

::

    from flask import Flask
    from hydra_logger.integrations.flask import HydraFlask

    app = Flask(__name__)
    HydraFlask(app, logger=log)        # or: ext = HydraFlask(); ext.init_app(app)

    # Flask's own logger and everything else that uses `logging`:
    hydra_logger.install(log)

For each request the extension takes the incoming ``X-Request-ID`` (1-128
printable ASCII characters) or makes a uuid4 hex (``g.request_id`` has it),
binds ``request_id``, ``http.request.method`` and ``url.path`` in the Hydra
context from the first ``before_request`` hook to the ``teardown_request``
hook (records logged by the view and by other hooks carry them), echoes
``X-Request-ID`` on the response and writes one access record at teardown:
``http.route`` (``request.url_rule.rule``), ``http.response.status_code``,
``duration_ms``, ``client.address`` (``request.remote_addr``) and ``user.id``
(see ``user_id``), at error level for 5xx, warning for 4xx, else info. An
exception that escaped the view (a 500) adds ``error.type`` and
``error.message``; Flask's app.logger logs its stack.

``user_id``: a callable returning the current user's id (or None); by
default ``g.user_id``, else ``g.user``'s ``id``/``get_id()``, else
flask_login's ``current_user`` when flask_login is in use.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Dict, Optional

from .. import _context
from . import _common as c

__all__ = ["HydraFlask"]

_STATE = "hydra_logger.state"


class _State:
    __slots__ = ("request_id", "start", "token", "status")

    def __init__(self, request_id: str, start: float, token: Any) -> None:
        self.request_id = request_id
        self.start = start
        self.token = token
        self.status: Optional[int] = None


def _default_user_id() -> Optional[str]:
    from flask import g

    try:
        uid = g.get("user_id")
        if uid is None:
            user = g.get("user")
            if user is not None:
                uid = getattr(user, "id", None)
                if uid is None and callable(getattr(user, "get_id", None)):
                    uid = user.get_id()
        if uid is None and "flask_login" in sys.modules:
            from flask_login import current_user  # type: ignore[import]

            if getattr(current_user, "is_authenticated", False):
                uid = current_user.get_id()
        return None if uid is None else str(uid)
    except Exception:
        return None


class HydraFlask:
    """The Flask extension. ``logger``: a HydraLogger (default:
    hydra_logger.default_logger(), looked up per request); ``layer``: the
    access record's layer; ``trust_request_id=False`` ignores incoming ids."""

    def __init__(self, app: Any = None, logger: Any = None, *, layer: Optional[str] = None,
                 request_id_header: str = c.REQUEST_ID_HEADER, trust_request_id: bool = True,
                 user_id: Optional[Callable[[], Any]] = None) -> None:
        self.logger = logger
        self.layer = layer
        self.request_id_header = request_id_header
        self.trust_request_id = trust_request_id
        self._user_id = user_id or _default_user_id
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        app.extensions["hydra_logger"] = self
        # First among the before_request hooks, so that the others log in context.
        app.before_request_funcs.setdefault(None, []).insert(0, self._before_request)
        app.after_request(self._after_request)
        app.teardown_request(self._teardown_request)

    # -- hooks ---------------------------------------------------------------

    def _before_request(self) -> None:
        from flask import g, request

        environ = request.environ
        if _STATE in environ:  # the extension registered twice
            return None
        start = time.perf_counter()
        incoming = request.headers.get(self.request_id_header) if self.trust_request_id else None
        rid = c.request_id_from(incoming)
        g.request_id = rid
        token = _context.bind(**{c.REQUEST_ID: rid, c.HTTP_METHOD: request.method,
                                 c.URL_PATH: request.path})
        environ[_STATE] = _State(rid, start, token)
        return None

    def _after_request(self, response: Any) -> Any:
        from flask import request

        state = request.environ.get(_STATE)
        if state is not None:
            response.headers[self.request_id_header] = state.request_id
            state.status = response.status_code
        return response

    def _teardown_request(self, exc: Optional[BaseException] = None) -> None:
        from flask import request

        state = request.environ.pop(_STATE, None)
        if state is None:
            return
        try:
            status = state.status
            if status is None and exc is not None:
                status = 500  # the exception propagated (PROPAGATE_EXCEPTIONS)
            rule = request.url_rule
            uid = self._user_id()
            fields: Dict[str, Any] = {
                c.HTTP_ROUTE: rule.rule if rule is not None else None,
                c.CLIENT_ADDRESS: request.remote_addr,
                c.USER_ID: None if uid is None else str(uid),
            }
            c.write_access(self.logger, self.layer, request.method, request.path, status,
                           state.start, fields, exc)
        except Exception:
            pass  # the access record never breaks the request
        finally:
            c.unbind_quietly(state.token)
