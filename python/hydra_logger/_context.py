"""Context fields: key-values bound to every record logged in a context.

Bound fields live in a :class:`contextvars.ContextVar`, so they follow the
code that runs, not the thread: each asyncio task has its own (a task copies
its creator's context when it is made), ``asyncio.to_thread`` carries them to
the worker thread, and a thread started with :func:`run_in_context` or a pool
job submitted through :func:`wrap` sees the fields of the code that made it.

    with hydra_logger.context(request_id="r-1", user_id=7):
        log.info("started")          # request_id=r-1 user_id=7

    token = hydra_logger.bind(tenant="acme")   # until unbind(token)
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from typing import Any, Callable, Tuple, TypeVar

# The bound fields, as a tuple of (key, value) pairs, outer scopes first.
# A tuple: immutable, so a copied context can never see a later change, and
# the native call reads it without copying.
_fields: contextvars.ContextVar[Tuple[Tuple[str, Any], ...]] = contextvars.ContextVar(
    "hydra_logger_context", default=()
)

T = TypeVar("T")


def current() -> dict:
    """The fields bound in the running context, as a dict (later wins)."""
    return dict(_fields.get())


def bind(**fields: Any) -> contextvars.Token:
    """Adds fields to the running context; returns a token for :func:`unbind`."""
    return _fields.set(_fields.get() + tuple(fields.items()))


def unbind(token: contextvars.Token) -> None:
    """Restores the context as it was before the :func:`bind` that gave ``token``."""
    _fields.reset(token)


def clear() -> contextvars.Token:
    """Removes every bound field from the running context; returns a token."""
    return _fields.set(())


class context:  # noqa: N801 - used like a function: `with context(k=v):`
    """Binds fields for the duration of a ``with`` block (sync or async)."""

    __slots__ = ("_fields", "_token")

    def __init__(self, **fields: Any) -> None:
        self._fields = tuple(fields.items())
        self._token: contextvars.Token | None = None

    def __enter__(self) -> "context":
        self._token = _fields.set(_fields.get() + self._fields)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _fields.reset(self._token)
            self._token = None

    async def __aenter__(self) -> "context":
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)

    def __call__(self, fn: Callable[..., T]) -> Callable[..., T]:
        """As a decorator: the fields are bound for each call of ``fn``."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with context(**dict(self._fields)):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            with context(**dict(self._fields)):
                return fn(*args, **kwargs)

        return wrapper


def wrap(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` bound to a copy of the caller's context: for executors.

    ``loop.run_in_executor`` and ``ThreadPoolExecutor.submit`` do not carry
    contextvars to the worker thread (``asyncio.to_thread`` does)::

        await loop.run_in_executor(None, hydra_logger.wrap(work), arg)
    """
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return ctx.run(fn, *args, **kwargs)

    return wrapper


def run_in_context(fn: Callable[..., T]) -> Callable[..., T]:
    """Alias of :func:`wrap`, for ``threading.Thread(target=...)``."""
    return wrap(fn)
