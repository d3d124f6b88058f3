"""The stdlib bridge: records of Python's ``logging`` into Hydra-Logger.

    LOGGING = {
        "version": 1,
        "handlers": {"hydra": {
            "class": "hydra_logger.logging.HydraHandler",
            "config": "logging.toml",                  # or a dict; or "logger": a HydraLogger
            "layers": {"django.request": "HTTP", "myapp.db": "DATABASE"},
        }},
        "root": {"handlers": ["hydra"], "level": "INFO"},
    }

or ``hydra_logger.install()`` for the root logger. A stdlib logger's name
picks the layer (the longest matching prefix in ``layers``; else
``default_layer``; else the Hydra logger's default layer), ``extra`` and any
attribute a library set on the record become fields, and ``exc_info``
becomes the error.type, error.message and error.stack fields. Third-party
libraries that log through ``logging`` (Django, uvicorn, Celery, AutoGen)
are captured unchanged.
"""

from __future__ import annotations

import logging
from itertools import islice
from typing import Any, Dict, Mapping, Optional

from ._context import _fields as _context_fields
from ._logger import HydraLogger, _exception_fields, from_stdlib

__all__ = ["HydraHandler", "install", "uninstall", "fast_records"]

# What a LogRecord holds of its own; anything else on it came from `extra`
# (or a library) and is a field.
_PLAIN = logging.LogRecord("", 0, "", 0, "", (), None).__dict__
_PLAIN_COUNT = len(_PLAIN)  # a record with more attributes than this has extras
_STANDARD = frozenset(_PLAIN) | {"message", "asctime", "taskName"}


def fast_records() -> None:
    """Stops stdlib from filling the LogRecord fields nobody reads here: the
    caller's file, line and function (findCaller walks the stack), the
    thread name, the process name and the multiprocessing name. Process-wide:
    every handler then sees them unset."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    if hasattr(logging, "logAsyncioTasks"):
        logging.logAsyncioTasks = False  # type: ignore[attr-defined]


class HydraHandler(logging.Handler):
    """A ``logging.Handler`` that hands records to a HydraLogger.

    ``logger``: the HydraLogger to write to; else ``config`` (a dict or a file
    path) builds one; else the process's default logger
    (hydra_logger.default_logger()). ``layers`` maps stdlib logger names to
    layers by prefix (``"django"`` covers ``"django.request"``);
    ``default_layer`` takes the rest. ``fast_records=True`` calls
    fast_records(). ``name_field`` (default ``"logger.name"``) names the field
    that keeps the stdlib logger's name; None leaves it out.
    """

    def __init__(self, level: Any = logging.NOTSET, *, logger: Optional[HydraLogger] = None,
                 config: Any = None, layers: Optional[Mapping[str, str]] = None,
                 default_layer: Optional[str] = None, fast_records: bool = False,
                 name_field: Optional[str] = "logger.name") -> None:
        super().__init__(level)
        self._owns = False  # whether close() closes the Hydra logger
        if logger is None:
            if config is not None:
                logger = HydraLogger(config)
                self._owns = True
            else:
                from . import default_logger

                logger = default_logger()
        self.hydra = logger
        self._layers_map: Dict[str, str] = dict(layers or {})
        self._default_layer = default_layer
        self._name_field = name_field
        self._by_name: Dict[str, Optional[str]] = {}
        if fast_records:
            globals()["fast_records"]()

    def _layer_for(self, name: str) -> Optional[str]:
        layer = self._by_name.get(name, "")
        if layer != "":
            return layer
        best = None
        best_len = -1
        for prefix, candidate in self._layers_map.items():
            if (name == prefix or name.startswith(prefix + ".") or prefix == "") and \
                    len(prefix) > best_len:
                best, best_len = candidate, len(prefix)
        layer = best if best is not None else self._default_layer
        self._by_name[name] = layer
        return layer

    def handle(self, record: logging.LogRecord) -> Any:
        # No handler lock: the Hydra logger takes records from any thread
        # without one, and a lock held here while a filter or a formatter
        # runs Python code is the picologging #207 deadlock's other half.
        rv = self.filter(record)
        if rv:
            self.emit(record)
        return rv

    def emit(self, record: logging.LogRecord) -> None:
        try:
            hydra = self.hydra
            layer = self._layer_for(record.name)
            entry = hydra._layers.get(layer)
            if entry is None:
                entry = hydra._layer_entry(layer)
            level = from_stdlib(record.levelno)
            if not entry[1 + level]:
                return
            message = record.getMessage()
            pairs: tuple = ()
            if self._name_field is not None:
                pairs = ((self._name_field, record.name),)
            attributes = record.__dict__
            if len(attributes) > _PLAIN_COUNT:
                items: Any = attributes.items()
                if logging.getLogRecordFactory() is logging.LogRecord:
                    # LogRecord.__init__ sets its own attributes first: the
                    # extras are the ones after them.
                    items = islice(items, _PLAIN_COUNT, None)
                pairs += tuple((k, v) for k, v in items if k not in _STANDARD)
            if record.exc_info:
                pairs += _exception_fields(record.exc_info)
            elif record.exc_text:
                pairs += (("error.stack", record.exc_text),)
            if record.stack_info:
                pairs += (("stack", record.stack_info),)
            hydra._log(level, entry[0], message, None, _context_fields.get() or None, pairs)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self.hydra.flush()

    def close(self) -> None:
        try:
            if self._owns:
                self.hydra.close()
            else:
                self.hydra.flush()
        finally:
            super().close()


def install(logger: Optional[HydraLogger] = None, *, level: Any = None, replace: bool = True,
            **options: Any) -> HydraHandler:
    """Routes the root logger to Hydra-Logger: adds a HydraHandler (with
    ``options``) and, with ``replace``, removes the root's other handlers.
    ``level`` sets the root logger's level. Returns the handler."""
    root = logging.getLogger()
    handler = HydraHandler(logger=logger, **options)
    if replace:
        for old in list(root.handlers):
            root.removeHandler(old)
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    return handler


def uninstall(handler: HydraHandler) -> None:
    """Takes a handler install() added off the root logger and flushes it."""
    logging.getLogger().removeHandler(handler)
    handler.flush()
