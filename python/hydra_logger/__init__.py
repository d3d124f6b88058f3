"""hydra_logger: the Python Hydra-Logger's API on Hydra-Logger's C++ core.

    from hydra_logger import HydraLogger
    log = HydraLogger({"layers": {"APP": {"level": "INFO", "destinations": [
        {"type": "file", "path": "logs/app.jsonl", "format": "json-lines"}]}}})
    log.info("user logged in", user="alice")      # user=alice is a field
    log.info("APP", "the Python project's call")   # (layer, message) works too
    log.security("failed login", user="mallory")   # the SECURITY layer

See docs/python.md.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Optional

from . import _native
from ._context import bind, clear, context, current, run_in_context, unbind, wrap
from ._logger import (
    AUDIT,
    COMPLIANCE,
    CRITICAL,
    DEBUG,
    ERROR,
    INFO,
    LEVELS,
    SECURITY,
    TRACE,
    WARNING,
    AsyncHydraLogger,
    ConfigError,
    HydraLogger,
    LayerLogger,
    level_index,
)
from ._magic import register_magic

__version__ = "0.5.0"

__all__ = [
    "HydraLogger", "AsyncHydraLogger", "LayerLogger", "ConfigError", "getLogger", "get_logger",
    "default_logger", "set_default_logger", "register_magic", "list_magic_configs", "context",
    "bind", "unbind", "clear", "current", "wrap", "run_in_context", "install", "level_index",
    "LEVELS", "TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "SECURITY", "AUDIT",
    "COMPLIANCE",
]

_default: Optional[HydraLogger] = None
_default_lock = threading.Lock()


def _reset_default_lock() -> None:
    global _default_lock
    _default_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_default_lock)  # see _logger._after_fork_in_child


def default_logger() -> HydraLogger:
    """The process's shared logger: built on first use from the
    environment (HYDRA_LOG_PRESET, HYDRA_LOG_CONFIG, HYDRA_LOG_*), else
    zero-config."""
    global _default
    logger = _default
    if logger is None or logger.closed:
        with _default_lock:
            if _default is None or _default.closed:
                _default = HydraLogger()
            logger = _default
    return logger


def set_default_logger(logger: HydraLogger) -> None:
    """Makes ``logger`` the one getLogger() and HydraHandler use by default."""
    global _default
    with _default_lock:
        _default = logger


def getLogger(name: Optional[str] = None) -> LayerLogger:  # noqa: N802 - stdlib's spelling
    """A view of the default logger whose records go to layer ``name``
    (the default layer for None)."""
    return default_logger().layer(name) if name else LayerLogger(default_logger(), None)


get_logger = getLogger


def list_magic_configs() -> dict:
    return dict(_native.list_magic())


def install(logger: Optional[HydraLogger] = None, **handler_options: Any) -> Any:
    """Routes the stdlib root logger to Hydra-Logger (see
    hydra_logger.logging.install)."""
    from .logging import install as _install

    return _install(logger, **handler_options)
