"""HydraLogger: the Python API of the Python Hydra-Logger, on the C++ core.

The level check happens here, in Python, against a per-layer table the
native logger computed; only records that will be written cross into C++,
where log() copies the message and fields into the pipeline (the calling
thread's queue in async mode) and returns.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import sys
import threading
import traceback
import weakref
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from . import _native
from ._context import _fields as _context_fields

__all__ = [
    "HydraLogger",
    "AsyncHydraLogger",
    "LayerLogger",
    "ConfigError",
    "LEVELS",
    "level_index",
]

ConfigError = _native.ConfigError

# Level names, their index in the native table, and stdlib-style numbers.
# security has warning's severity, audit and compliance info's (as in C++).
_NAMES = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "SECURITY", "AUDIT",
          "COMPLIANCE")
TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL, SECURITY, AUDIT, COMPLIANCE = range(9)
LEVELS: Dict[str, int] = {name: i for i, name in enumerate(_NAMES)}
LEVELS.update({"WARN": WARNING, "FATAL": CRITICAL})
# stdlib numbers (logging.DEBUG = 10 ...) to level indexes.
_STDLIB = ((50, CRITICAL), (40, ERROR), (30, WARNING), (20, INFO), (10, DEBUG))

# A layer name as the Python Hydra-Logger's `info("LAYER", "message")` passes it.
_LAYER_NAME = re.compile(r"[A-Z][A-Z0-9_.\-]*\Z")


def from_stdlib(levelno: int) -> int:
    """The native index of a stdlib level number (logging.INFO = 20 -> INFO);
    below DEBUG is TRACE."""
    for number, index in _STDLIB:
        if levelno >= number:
            return index
    return TRACE


def level_index(level: Any) -> int:
    """The native index of a level given by name ("info"), index, or stdlib number."""
    if isinstance(level, str):
        try:
            return LEVELS[level.upper()]
        except KeyError:
            raise ValueError(
                f"unknown level {level!r}: valid levels are "
                + ", ".join(n.lower() for n in _NAMES)) from None
    if isinstance(level, int) and not isinstance(level, bool):
        return level if 0 <= level <= 8 else from_stdlib(level)
    raise TypeError(f"a level is a name or a number, not {type(level).__name__}")


def _exception_fields(exc_info: Any) -> Tuple[Tuple[str, Any], ...]:
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or len(exc_info) != 3 or exc_info[0] is None:
        return ()
    etype, value, tb = exc_info
    try:
        message = str(value)
    except Exception as e:  # an exception whose __str__ raises
        message = f"<unprintable {type(value).__name__}: {type(e).__name__}>"
    try:
        stack = "".join(traceback.format_exception(etype, value, tb)).rstrip("\n")
    except Exception as e:
        stack = f"<traceback unavailable: {type(e).__name__}>"
    name = etype.__qualname__
    module = getattr(etype, "__module__", "builtins")
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    return (("error.type", name), ("error.message", message), ("error.stack", stack))


def _percent(message: Any, args: tuple) -> Tuple[str, Tuple[Tuple[str, Any], ...]]:
    """stdlib's `msg % args`, and the arguments as fields.

    One mapping argument gives its keys (``"%(user)s", {"user": u}``);
    positional arguments are ``arg0``, ``arg1``... A template that does not
    fit its arguments is not an error: the message says so and keeps them.
    """
    if len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
        mapping = args[0]
        pairs = tuple((str(k), v) for k, v in mapping.items())
        substitute: Any = mapping
    else:
        pairs = tuple((f"arg{i}", v) for i, v in enumerate(args))
        substitute = args
    text = message if isinstance(message, str) else str(message)
    try:
        return text % substitute, pairs
    except Exception as e:  # wrong count, bad spec, an argument whose __str__ raises
        return f"{text} <format error: {type(e).__name__}: {e}>", pairs


class _LoggerMeta(type):
    """Lets ``HydraLogger.for_NAME()`` build any registered magic config."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("for_") and len(name) > 4:
            preset = name[4:]
            if _native.has_magic(preset):
                return lambda **kwargs: cls.for_custom(preset, **kwargs)
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")


_live: "weakref.WeakSet[HydraLogger]" = weakref.WeakSet()
_live_lock = threading.Lock()


def _close_all() -> None:
    with _live_lock:
        loggers = list(_live)
    for logger in loggers:
        logger.close()


atexit.register(_close_all)


def _after_fork_in_child() -> None:
    """A lock another thread held at the fork stays held in the child, where
    that thread does not exist: each logger's lock (and the registry's) is
    made anew, as stdlib logging does for its handlers. The native logger
    re-initialises itself (its own pthread_atfork handlers)."""
    global _live_lock
    _live_lock = threading.Lock()
    for logger in list(_live.data):  # the WeakSet's own iteration may hold its guard
        target = logger()
        if target is not None:
            target._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _level_method(level: int, name: str, doc: str) -> Callable[..., None]:
    """The Python level method for ``level``: the slow path of the native
    one each instance carries (see _install_fast_methods), and what a
    subclass or ``Class.info(obj, ...)`` reaches."""

    def method(self: "_Methods", message: Any, /, *args: Any, layer: Optional[str] = None,
               extra: Any = None, exc_info: Any = None, **fields: Any) -> None:
        if args and layer is None and self._old_style(message, args):
            layer, message, args = message, args[0], ()
        e = self._layers.get(layer if layer is not None else self._default)
        if e is None:
            e = self._layer_entry(layer)
        if e[1 + level]:
            self._emit(level, e, message, args, extra, exc_info, fields)

    method.__name__ = name
    method.__qualname__ = f"_Methods.{name}"
    method.__doc__ = (doc + " ``(message, *args, layer=None, extra=None, exc_info=None, "
                      "**fields)``")
    return method


class _Methods:
    """The level methods, shared by HydraLogger and LayerLogger."""

    _layers: Dict[Optional[str], tuple]
    _bound: tuple
    _default: Optional[str]

    def _layer_entry(self, layer: Optional[str]) -> tuple:  # pragma: no cover - overridden
        raise NotImplementedError

    def _emit(self, level: int, entry: tuple, message: Any, args: tuple, extra: Any,
              exc_info: Any, fields: dict) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _old_style(self, message: Any, args: tuple) -> bool:
        # The Python Hydra-Logger's `info("LAYER", "message")`.
        return (len(args) == 1 and type(message) is str and type(args[0]) is str
                and _LAYER_NAME.match(message) is not None)

    trace = _level_method(TRACE, "trace", "A TRACE record.")
    debug = _level_method(DEBUG, "debug", "A DEBUG record.")
    info = _level_method(INFO, "info", "An INFO record.")
    warning = _level_method(WARNING, "warning", "A WARNING record.")
    warn = warning
    error = _level_method(ERROR, "error", "An ERROR record.")
    critical = _level_method(CRITICAL, "critical", "A CRITICAL record.")
    fatal = critical
    security = _level_method(SECURITY, "security",
                             "A security record (warning severity), on the SECURITY layer unless told.")
    audit = _level_method(AUDIT, "audit",
                          "An audit record (info severity), on the AUDIT layer unless told.")
    compliance = _level_method(
        COMPLIANCE, "compliance",
        "A compliance record (info severity), on the COMPLIANCE layer unless told.")

    def exception(self, message: Any, /, *args: Any, layer: Optional[str] = None,
                  extra: Any = None, exc_info: Any = True, **fields: Any) -> None:
        """An ERROR record with the exception being handled as error.* fields."""
        self.error(message, *args, layer=layer, extra=extra, exc_info=exc_info, **fields)

    def log(self, level: Any, message: Any, /, *args: Any, layer: Optional[str] = None,
            extra: Any = None, exc_info: Any = None, **fields: Any) -> None:
        """``log(level, message, *args)``, or the Python Hydra-Logger's
        ``log(layer, level, message)``."""
        if (isinstance(level, str) and args and isinstance(message, str)
                and message.upper() in LEVELS and layer is None):
            layer, level, message, args = level, message, args[0], args[1:]
        index = level_index(level)
        e = self._layers.get(layer if layer is not None else self._default)
        if e is None:
            e = self._layer_entry(layer)
        if e[1 + index]:
            self._emit(index, e, message, args, extra, exc_info, fields)

    def is_enabled_for(self, level: Any, layer: Optional[str] = None) -> bool:
        e = self._layers.get(layer if layer is not None else self._default)
        if e is None:
            e = self._layer_entry(layer)
        return bool(e[1 + level_index(level)])

    isEnabledFor = is_enabled_for  # noqa: N815 - stdlib's spelling

    def bind(self, **fields: Any) -> "LayerLogger":
        """A view of this logger that adds ``fields`` to each of its records."""
        return LayerLogger(self._root(), self._default, self._bound + tuple(fields.items()))

    def layer(self, name: str) -> "LayerLogger":
        """A view of this logger whose records go to layer ``name``."""
        return LayerLogger(self._root(), name, self._bound)

    def _root(self) -> "HydraLogger":  # pragma: no cover - overridden
        raise NotImplementedError


class HydraLogger(_Methods, metaclass=_LoggerMeta):
    """A logger with named layers, each with its level and destinations.

    ``config`` is a dict in the Python Hydra-Logger's schema (or this
    library's: docs/configuration.md), a path to a TOML, YAML or JSON file,
    an object with ``model_dump()``/``dict()`` (the Python project's
    ``LoggingConfig``), or None: the ``HYDRA_LOG_PRESET``/``HYDRA_LOG_CONFIG``
    environment, else zero-config (text on stdout). ``HYDRA_LOG_*``
    variables apply on top, as in C++.

    ``mode``: "async" (the default for dicts, presets and zero-config: the
    calling thread enqueues, the C++ backend thread formats and writes) or
    "sync" (the calling thread writes). A file's own ``mode`` wins over the
    default.
    """

    _default_mode = "async"

    def __init__(self, config: Any = None, *, mode: Optional[str] = None,
                 name: Optional[str] = None, preset: Optional[str] = None,
                 log_dir: Optional[str] = None) -> None:
        self._closed = False
        self._lock = threading.Lock()
        self._native = self._make_native(config, mode, name, preset, log_dir)
        self._log = self._native.log
        self._layers = {}
        self._default = None
        self._bound = ()
        _install_fast_methods(self, self._native, None, ())
        with _live_lock:
            _live.add(self)

    # -- construction --------------------------------------------------------

    def _make_native(self, config: Any, mode: Optional[str], name: Optional[str],
                     preset: Optional[str], log_dir: Optional[str]) -> Any:
        if config is None:
            # A preset (named, or HYDRA_LOG_PRESET) or a file (HYDRA_LOG_CONFIG)
            # keeps its own mode unless one is given; zero-config gets the
            # class's.
            if mode is None and not (preset or os.environ.get("HYDRA_LOG_PRESET")
                                     or os.environ.get("HYDRA_LOG_CONFIG")):
                mode = self._default_mode
            return _native.NativeLogger.from_sources(preset, log_dir, mode, name)
        if isinstance(config, (str, os.PathLike)):
            return _native.NativeLogger.from_file(os.fspath(config), name, mode)
        data = _as_dict(config)
        if "mode" not in data:
            data["mode"] = mode or self._default_mode
        elif mode is not None:
            data["mode"] = mode
        if name is not None:
            data["name"] = name
        try:
            text = json.dumps(data, default=str)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"the configuration is not JSON-serialisable: {e}") from None
        return _native.NativeLogger.from_json(text, "<dict>")

    @classmethod
    def from_config(cls, path: Any, **kwargs: Any) -> "HydraLogger":
        """A logger configured by a TOML, YAML or JSON file."""
        return cls(os.fspath(path), **kwargs)

    # -- presets ("magic configs") ------------------------------------------

    @staticmethod
    def register_magic(name: str, description: str = "") -> Callable:
        """Decorator: registers a function returning a configuration dict as
        preset ``name``; then ``HydraLogger.for_NAME()`` (and a file's
        ``preset = "NAME"``, and ``HYDRA_LOG_PRESET=NAME``) builds it."""
        from ._magic import register_magic

        return register_magic(name, description)

    @staticmethod
    def list_magic_configs() -> Dict[str, str]:
        return dict(_native.list_magic())

    @staticmethod
    def has_magic_config(name: str) -> bool:
        return _native.has_magic(name)

    @classmethod
    def for_custom(cls, preset: str, /, **kwargs: Any) -> "HydraLogger":
        """A logger built from the preset named ``preset`` (a built-in or a
        registered one), in the preset's own mode unless ``mode=`` is given;
        ``name=`` and ``log_dir=`` as for HydraLogger()."""
        if not _native.has_magic(preset):
            raise ConfigError(f"no magic config named {preset!r}: the presets are "
                              + ", ".join(sorted(dict(_native.list_magic()))))
        return cls(None, preset=preset, **kwargs)

    @classmethod
    def for_production(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("production", **kwargs)

    @classmethod
    def for_development(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("development", **kwargs)

    @classmethod
    def for_testing(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("testing", **kwargs)

    @classmethod
    def for_microservice(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("microservice", **kwargs)

    @classmethod
    def for_web_app(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("web_app", **kwargs)

    @classmethod
    def for_api_service(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("api_service", **kwargs)

    @classmethod
    def for_background_worker(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("background_worker", **kwargs)

    @classmethod
    def for_high_performance(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("high_performance", **kwargs)

    @classmethod
    def for_bare_metal(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("bare_metal", **kwargs)

    @classmethod
    def for_minimal_features(cls, **kwargs: Any) -> "HydraLogger":
        return cls.for_custom("minimal_features", **kwargs)

    # -- the fast path -------------------------------------------------------

    def _root(self) -> "HydraLogger":
        return self

    def _layer_entry(self, layer: Optional[str]) -> tuple:
        """(native id, enabled at level 0..8), cached per layer name."""
        key = layer if layer is not None else self._default
        with self._lock:
            entry = self._layers.get(key)
            if entry is None:
                native_id = self._native.layer_id(key or "")
                entry = (native_id, *self._native.levels(native_id))
                if self._closed:
                    entry = (native_id,) + (False,) * 9
                self._layers[key] = entry
        return entry

    def _emit(self, level: int, entry: tuple, message: Any, args: tuple, extra: Any,
              exc_info: Any, fields: dict) -> None:
        _write(self._log, self._bound, level, entry, message, args, extra, exc_info, fields)

    # -- levels, flushing, health -------------------------------------------

    def set_level(self, level: Any, layer: Optional[str] = None) -> None:
        """Sets a layer's level (the default layer when none is named)."""
        self._native.set_level(layer or "", level_index(level))
        with self._lock:
            self._layers.clear()

    setLevel = set_level  # noqa: N815

    def flush(self) -> None:
        """Waits until every record logged before the call is written."""
        self._native.flush()

    def preallocate(self) -> None:
        """Async mode: makes the calling thread's queue now. A thread's first
        record otherwise pays for it (about 1 ms here): call this at the start
        of a long-lived thread that must not wait on its first log call."""
        self._native.preallocate()

    def close(self) -> None:
        """Writes what is queued, stops the backend, closes the files. Later
        calls are ignored."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._native.shutdown()  # later calls are ignored natively
            self._layers.clear()  # and found off here

    shutdown = close

    def __enter__(self) -> "HydraLogger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def closed(self) -> bool:
        return self._closed

    def get_performance_metrics(self) -> Dict[str, Any]:
        """The core's counters: records, drops, write errors, queues."""
        return self._native.metrics()

    def get_health_status(self) -> Dict[str, Any]:
        """Whether nothing was lost or failed, with the counters behind it."""
        m = self._native.metrics()
        lost = (m["sink_dropped_records"] + m["async"]["dropped"] + m["write_errors"])
        return {"healthy": lost == 0 and not self._closed, "closed": self._closed,
                "records": m["records"], "lost": lost, "metrics": m}

    health = get_health_status

    def insights(self) -> str:
        return self._native.insights()


_FAST = (("trace", TRACE), ("debug", DEBUG), ("info", INFO), ("warning", WARNING),
         ("warn", WARNING), ("error", ERROR), ("critical", CRITICAL), ("fatal", CRITICAL),
         ("security", SECURITY), ("audit", AUDIT), ("compliance", COMPLIANCE))


def _install_fast_methods(obj: Any, native: Any, layer: Optional[str], bound: tuple) -> None:
    """Puts a native level method (hydra_logger._native.level_method) on the
    instance for each level: a usual call then runs no Python code. The
    class's methods stay as the slow path."""
    layers = obj._layers if isinstance(obj, HydraLogger) else obj._logger._layers
    for name, level in _FAST:
        slow = getattr(type(obj), name).__get__(obj)
        setattr(obj, name, _native.level_method(native, level, layers, layer, bound or None,
                                                slow, _context_fields))


class LayerLogger(_Methods):
    """A view of a HydraLogger: a layer of its own and bound fields."""

    def __init__(self, logger: HydraLogger, layer: Optional[str], bound: tuple = ()) -> None:
        self._logger = logger
        self._default = layer
        self._bound = bound
        _install_fast_methods(self, logger._native, layer, bound)

    @property
    def _layers(self) -> Dict[Optional[str], tuple]:  # type: ignore[override]
        return self._logger._layers

    def _root(self) -> HydraLogger:
        return self._logger

    def _layer_entry(self, layer: Optional[str]) -> tuple:
        return self._logger._layer_entry(layer if layer is not None else self._default)

    def _emit(self, level: int, entry: tuple, message: Any, args: tuple, extra: Any,
              exc_info: Any, fields: dict) -> None:
        _write(self._logger._log, self._bound, level, entry, message, args, extra, exc_info,
               fields)

    @property
    def name(self) -> Optional[str]:
        return self._default

    def flush(self) -> None:
        self._logger.flush()


def _write(log: Callable, bound: tuple, level: int, entry: tuple, message: Any, args: tuple,
           extra: Any, exc_info: Any, fields: dict) -> None:
    """Turns %-arguments, extra and exc_info into fields, then hands the record
    to the native logger with the context's fields."""
    more: Any = bound or None
    if fields and ("stack_info" in fields or "stacklevel" in fields):
        fields = {k: v for k, v in fields.items() if k not in ("stack_info", "stacklevel")}
    if args or extra or exc_info:
        pairs: tuple = ()
        if args:
            message, pairs = _percent(message, args)
        if extra:
            pairs += tuple(extra.items()) if isinstance(extra, Mapping) else (("extra", extra),)
        if exc_info:
            pairs += _exception_fields(exc_info)
        more = pairs + bound if pairs else more
    log(level, entry[0], message, fields or None, _context_fields.get() or None, more)


class AsyncHydraLogger(HydraLogger):
    """The Python Hydra-Logger's async logger: the same logger, with the
    ``a``-prefixed coroutine methods. Logging never blocks the event loop
    (the call only enqueues), so the plain methods work inside coroutines
    too; the coroutines exist for code written against the Python API."""

    _default_mode = "async"

    async def ainfo(self, *args: Any, **kwargs: Any) -> None:
        self.info(*args, **kwargs)

    async def adebug(self, *args: Any, **kwargs: Any) -> None:
        self.debug(*args, **kwargs)

    async def awarning(self, *args: Any, **kwargs: Any) -> None:
        self.warning(*args, **kwargs)

    async def aerror(self, *args: Any, **kwargs: Any) -> None:
        self.error(*args, **kwargs)

    async def acritical(self, *args: Any, **kwargs: Any) -> None:
        self.critical(*args, **kwargs)

    async def asecurity(self, *args: Any, **kwargs: Any) -> None:
        self.security(*args, **kwargs)

    async def aaudit(self, *args: Any, **kwargs: Any) -> None:
        self.audit(*args, **kwargs)

    async def acompliance(self, *args: Any, **kwargs: Any) -> None:
        self.compliance(*args, **kwargs)

    async def alog(self, *args: Any, **kwargs: Any) -> None:
        self.log(*args, **kwargs)

    async def aflush(self) -> None:
        import asyncio

        await asyncio.to_thread(self.flush)

    async def graceful_shutdown(self, timeout: Optional[float] = None) -> bool:
        """Writes everything queued and closes, off the event loop. Returns
        False if ``timeout`` seconds passed first (the close goes on)."""
        import asyncio

        task = asyncio.ensure_future(asyncio.to_thread(self.close))
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def aclose(self) -> None:
        await self.graceful_shutdown()

    async def __aenter__(self) -> "AsyncHydraLogger":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.graceful_shutdown()


def _dumped(value: Any) -> Any:
    """What a model object (the Python project's LoggingConfig and its
    parts) turns itself into, by model_dump(), dict() or to_dict(); None
    for anything else."""
    for method in ("model_dump", "dict", "to_dict"):
        fn = getattr(value, method, None)
        if callable(fn):
            return fn()
    return None


def _as_dict(config: Any) -> dict:
    if isinstance(config, Mapping):
        def jsonable(value: Any) -> Any:
            dumped = _dumped(value)
            return str(value) if dumped is None else dumped

        return _without_none(json.loads(json.dumps(config, default=jsonable)))
    dumped = _dumped(config)
    if dumped is not None:
        return _as_dict(dumped)
    raise ConfigError(
        f"config must be a dict, a path or None, not {type(config).__name__}")


def _without_none(value: Any) -> Any:
    """Drops keys whose value is None (the Python project's models write
    every optional setting out as null, meaning "the default")."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
