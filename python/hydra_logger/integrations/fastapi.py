"""FastAPI integration: the pure ASGI middleware of hydra_logger.integrations.asgi.

::

    from fastapi import FastAPI
    from hydra_logger.integrations.fastapi import HydraASGIMiddleware, setup_fastapi

    app = FastAPI()
    setup_fastapi(app, logger=log, replace_uvicorn_access=True)
    # same as: app.add_middleware(HydraASGIMiddleware, logger=log, replace_uvicorn_access=True)

See hydra_logger.integrations.asgi for what it binds and logs.
"""

from __future__ import annotations

from typing import Any

from .asgi import HydraASGIMiddleware, disable_uvicorn_access, route_of

__all__ = ["HydraASGIMiddleware", "disable_uvicorn_access", "route_of", "setup_fastapi"]


def setup_fastapi(app: Any, logger: Any = None, **options: Any) -> Any:
    """Adds HydraASGIMiddleware to a FastAPI (or Starlette) app; returns the app."""
    app.add_middleware(HydraASGIMiddleware, logger=logger, **options)
    return app
