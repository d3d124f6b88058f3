"""Magic configs: named presets, shared with the C++ core's registry.

A preset registered here is a preset of the core: ``HydraLogger.for_NAME()``,
``HydraLogger.for_custom("NAME")``, a configuration file's
``preset = "NAME"`` and ``HYDRA_LOG_PRESET=NAME`` all build it.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Callable

from . import _native


def register_magic(name: str, description: str = "") -> Callable:
    """Decorator: ``fn()`` (or ``fn(log_dir)``) returns a configuration dict
    (or an object with ``model_dump()``/``dict()``)."""
    if not isinstance(name, str) or not name:
        raise _native.ConfigError("register_magic: a preset needs a non-empty name")

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        takes_dir = _takes_argument(fn)

        def factory(log_dir: str) -> str:
            from ._logger import _as_dict

            config = fn(log_dir) if takes_dir else fn()
            return json.dumps(_as_dict(config))

        _native.register_magic(name, description or (fn.__doc__ or "").strip().split("\n")[0],
                               factory)
        return fn

    return decorator


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 1


@register_magic("minimal_features", "async; plain text on stdout, nothing else")
def _minimal_features() -> dict:
    return {"mode": "async",
            "layers": {"APP": {"level": "info",
                               "destinations": [{"type": "console", "format": "text",
                                                 "color_mode": "never"}]}}}
