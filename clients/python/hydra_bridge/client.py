"""BridgeClient: an asyncio client of the bridge protocol, version 1
(docs/bridge-protocol.md), over websockets (10.4's API).

    async with BridgeClient("ws://127.0.0.1:9020/ws", token="...") as c:
        await c.subscribe({"layers": ["APP"], "min_level": "warning"})
        async for item in c.events():      # Record or Gap
            ...

The client keeps a cursor (stream -> last seq) and, with reconnect=True,
reconnects when the connection drops or goes quiet, resuming from the cursor
and subscribing again, so that events() goes on as if nothing happened (what
was lost is reported by the bridge as a Gap).
"""
from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import (Any, AsyncIterator, Dict, Iterable, List, Mapping,
                    Optional, Tuple, Union)

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from .frames import (Ack, BridgeError, Gap, Record, cursor_from_wire,
                     cursor_to_wire, dumps, parse_frame, records_from_frame,
                     seq_from_wire)
from .tokens import PROTOCOL_SUBPROTOCOL, token_subprotocol

PROTOCOL_VERSION = 1

# Closes after which reconnecting cannot help: the same hello, token or
# subscription would be refused again (hello_first / bad protocol,
# unauthenticated, forbidden, filter_too_costly, subscription_expired).
FATAL_CLOSE_CODES = frozenset({4400, 4401, 4403, 4413, 4430})

# HTTP answers to the upgrade after which reconnecting cannot help.
FATAL_HTTP_STATUSES = frozenset({400, 401, 403, 426})

_END = object()  # the end of events(), in the queue


class BridgeClient:
    """One logical connection to a bridge, across reconnections.

    Attributes:
        cursor: dict stream -> last seq (int) received (records, the records
            frames' `to_seq`, heartbeats' `cursor`, gaps' `to_seq`).
        welcome: the last `welcome` frame (a dict).
        errors: `error` frames that answered no pending request (dicts).
        reconnects: how many times the client reconnected.
        heartbeats: how many `heartbeat` frames arrived.
        subscriptions: dict id -> the subscribe frame, of the active ones.
        subprotocol: the subprotocol the bridge chose ("hydra.v1").
        last_close: (code, reason) of the last connection that ended.
        last_error: why the last reconnection attempt failed.
    """

    def __init__(self, url: str, token: Optional[str] = None,
                 origin: Optional[str] = None, backlog: int = 0,
                 reconnect: bool = True, client: str = "hydra-py/0.1.0",
                 resume: Optional[Mapping[str, Union[int, str]]] = None,
                 subscriptions: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 open_timeout: float = 10.0, request_timeout: float = 10.0,
                 idle_timeout: Optional[float] = None,
                 backoff_base: float = 0.1, backoff_cap: float = 5.0,
                 extra_headers: Optional[Mapping[str, str]] = None,
                 **connect_kwargs: Any):
        """`resume`: a cursor to start from (stream -> seq). `backlog`: for a
        stream without a cursor, the last N records the bridge holds.
        `subscriptions`: id -> filter (or -> {"filter": ..., "sample": ...}),
        sent right behind hello so that they are in place when the bridge
        replays `resume` or `backlog` (a bridge moves the cursor of a client
        without subscriptions on to the live end at its next batch window;
        subscribe() after connect() can come too late for the replay).
        connect() waits for their `subscribed`.
        `idle_timeout`: seconds of silence before reconnecting (default: twice
        the welcome's heartbeat_ms). `connect_kwargs` go to
        websockets.connect (compression, max_size, ping_interval, ...)."""
        self.url = url
        self.token = token
        self.origin = origin
        self.backlog = int(backlog or 0)
        self.reconnect = reconnect
        self.client = client
        self.open_timeout = open_timeout
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.extra_headers = dict(extra_headers or {})
        self.connect_kwargs = {"max_size": 16 << 20, "close_timeout": 2}
        self.connect_kwargs.update(connect_kwargs)

        self.cursor: Dict[str, int] = cursor_from_wire(resume or {})
        self.welcome: Optional[dict] = None
        self.errors: List[dict] = []
        self.reconnects = 0
        self.heartbeats = 0
        self.subscriptions: Dict[str, dict] = {}
        for id, spec in (subscriptions or {}).items():
            spec = dict(spec)
            if "filter" in spec:
                frame = {"type": "subscribe", "id": id, "filter": dict(spec["filter"] or {})}
                if spec.get("sample"):
                    frame["sample"] = dict(spec["sample"])
            else:
                frame = {"type": "subscribe", "id": id, "filter": spec}
            self.subscriptions[id] = frame
        self.subprotocol: Optional[str] = None
        self.last_close: Optional[Tuple[Optional[int], str]] = None
        self.last_error: Optional[BaseException] = None

        self._ws = None
        self._task: Optional[asyncio.Task] = None
        self._events: Optional[asyncio.Queue] = None
        self._pending: Dict[str, Tuple[str, asyncio.Future]] = {}
        self._pings: Dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._finished: Any = None  # None while running; then _END or the fatal error

    # -- connecting -------------------------------------------------------

    async def __aenter__(self) -> "BridgeClient":
        return await self.connect()

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def connect(self) -> "BridgeClient":
        """Connects, sends hello and waits for welcome. Raises BridgeError
        (close code and reason) when the bridge closes instead, and
        websockets' InvalidStatusCode when it refuses the upgrade (403 for an
        origin it does not allow)."""
        if self._events is None:
            self._events = asyncio.Queue()
        waiting = {id: self._expect(id, "subscribe") for id in self.subscriptions}
        try:
            self._ws = await self._open()
        except BaseException:
            for id in waiting:
                self._pending.pop(id, None)
            raise
        self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            for id, future in waiting.items():
                await self._wait(id, future, self.request_timeout,
                                 "`subscribed` frame (nor `error`)")
        except BaseException:
            await self.close()
            raise
        return self

    def _subprotocols(self) -> List[str]:
        protocols = [PROTOCOL_SUBPROTOCOL]
        if self.token:
            protocols.append(token_subprotocol(self.token))
        return protocols

    def hello_frame(self) -> dict:
        """The hello this client sends now (cursor as strings)."""
        hello: Dict[str, Any] = {"type": "hello", "protocol": PROTOCOL_VERSION,
                                 "client": self.client}
        if self.token:
            hello["token"] = self.token
        if self.cursor:
            hello["resume"] = cursor_to_wire(self.cursor)
        if self.backlog > 0 and not self.cursor:
            hello["backlog"] = self.backlog
        return hello

    async def _open(self):
        kwargs = dict(self.connect_kwargs)
        kwargs.setdefault("open_timeout", self.open_timeout)
        ws = await websockets.connect(
            self.url, subprotocols=self._subprotocols(),
            origin=self.origin, extra_headers=self.extra_headers or None,
            **kwargs)
        try:
            await ws.send(dumps(self.hello_frame()))
            # The subscriptions (after a reconnection) go right behind hello,
            # without waiting for welcome: the replay from `resume` then
            # finds them in place.
            for frame in list(self.subscriptions.values()):
                await ws.send(dumps(frame))
            deadline = time.monotonic() + self.open_timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise asyncio.TimeoutError()
                message = await asyncio.wait_for(ws.recv(), left)
                frame = parse_frame(message)
                if frame is None:
                    continue
                if frame["type"] == "welcome":
                    self.welcome = frame
                    break
                self._dispatch(frame)
        except ConnectionClosed as e:
            self.last_close = (e.code, e.reason)
            raise BridgeError(e.code, e.reason) from None
        except asyncio.TimeoutError:
            await _abort(ws)
            raise BridgeError("timeout", f"no `welcome` frame within "
                              f"{self.open_timeout:g} s of hello") from None
        except BaseException:
            await _abort(ws)
            raise
        self.subprotocol = ws.subprotocol
        return ws

    # -- the connection's life ------------------------------------------

    def _idle_limit(self) -> Optional[float]:
        if self.idle_timeout is not None:
            return self.idle_timeout
        try:
            heartbeat_ms = float((self.welcome or {}).get("heartbeat_ms") or 0)
        except (TypeError, ValueError):
            heartbeat_ms = 0
        return 2 * heartbeat_ms / 1000 if heartbeat_ms > 0 else None

    async def _read(self, ws) -> Tuple[Union[int, str, None], str]:
        """Reads frames until the connection ends; returns (code, reason)."""
        while True:
            limit = self._idle_limit()
            try:
                if limit:
                    message = await asyncio.wait_for(ws.recv(), limit)
                else:
                    message = await ws.recv()
            except asyncio.TimeoutError:
                await _abort(ws)
                return "idle", f"nothing heard for {limit:g} s"
            except ConnectionClosed as e:
                return e.code, e.reason
            frame = parse_frame(message)
            if frame is not None:
                self._dispatch(frame)

    async def _run(self) -> None:
        try:
            while True:
                code, reason = await self._read(self._ws)
                self.last_close = (code, reason)
                if self._closing:
                    return
                dropped = BridgeError(code, reason)
                # A submit is not re-sent (it could be logged twice); a
                # subscribe is, on the next connection.
                self._fail_pending(dropped, kinds=("submit", "ping"))
                if not self.reconnect or code in FATAL_CLOSE_CODES:
                    self._finish(dropped)
                    return
                if not await self._reconnect():
                    return
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug here must not hang events()
            self._finish(e)

    async def _reconnect(self) -> bool:
        attempt = 0
        while not self._closing:
            delay = random.uniform(
                0, min(self.backoff_cap, self.backoff_base * 2 ** attempt))
            attempt += 1
            await asyncio.sleep(delay)
            if self._closing:
                return False
            try:
                ws = await self._open()
            except BridgeError as e:
                if e.code in FATAL_CLOSE_CODES:
                    self._finish(e)
                    return False
                self.last_error = e
                continue
            except InvalidStatusCode as e:
                self.last_error = e
                if e.status_code in FATAL_HTTP_STATUSES:
                    self._finish(BridgeError(
                        e.status_code, f"the bridge refused the upgrade "
                        f"(HTTP {e.status_code})"))
                    return False
                continue
            except Exception as e:  # refused, reset, timed out, bad answer
                self.last_error = e
                continue
            if self._closing:
                await _abort(ws)
                return False
            self._ws = ws  # the subscriptions were sent again behind hello
            self.reconnects += 1
            return True
        return False

    def _finish(self, error: Optional[BaseException]) -> None:
        if self._finished is not None:
            return
        self._finished = error if error is not None else _END
        self._fail_pending(error or BridgeError("closed", "the client closed"))
        if self._events is not None:
            self._events.put_nowait(_END)

    def _fail_pending(self, error: BaseException,
                      kinds: Optional[Iterable[str]] = None) -> None:
        for key, (kind, future) in list(self._pending.items()):
            if kinds is None or kind in kinds:
                del self._pending[key]
                if not future.done():
                    future.set_exception(_copy_error(error))
        if kinds is None or "ping" in kinds:
            for t, future in list(self._pings.items()):
                del self._pings[t]
                if not future.done():
                    future.set_exception(_copy_error(error))

    async def close(self) -> None:
        """Closes the connection (1000) and ends events(); no reconnection."""
        if self._closing:
            return
        self._closing = True
        ws = self._ws
        if ws is not None:
            try:
                await ws.close(1000, "bye")
            except Exception:
                await _abort(ws)
        if self._task is not None:
            if not self._task.done():
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._finish(None)

    @property
    def closed(self) -> bool:
        return self._finished is not None

    # -- frames from the bridge -----------------------------------------

    def _advance(self, stream: str, seq: Optional[int]) -> None:
        if seq is not None and seq > self.cursor.get(stream, -1):
            self.cursor[stream] = seq

    def _dispatch(self, frame: dict) -> None:
        kind = frame["type"]
        try:
            if kind == "records":
                stream = str(frame.get("stream", ""))
                for record in records_from_frame(frame):
                    self._advance(record.stream, record.seq)
                    self._put(record)
                self._advance(stream, seq_from_wire(frame.get("to_seq")))
            elif kind == "gap":
                gap = Gap.from_wire(frame)
                if gap.reason == "restart":
                    # That stream is gone; resuming it again would only be
                    # answered with the same gap.
                    self.cursor.pop(gap.stream, None)
                else:
                    self._advance(gap.stream, gap.to_seq)
                self._put(gap)
            elif kind == "heartbeat":
                self.heartbeats += 1
                for stream, seq in cursor_from_wire(
                        frame.get("cursor") or {}).items():
                    self._advance(stream, seq)
            elif kind == "subscribed":
                self._resolve(frame.get("id"), "subscribe", frame)
            elif kind == "ack":
                self._resolve(frame.get("id"), "submit", Ack.from_wire(frame))
            elif kind == "error":
                self._on_error(frame)
            elif kind == "pong":
                future = self._pings.pop(str(frame.get("t")), None)
                if future is not None and not future.done():
                    future.set_result(frame)
            elif kind == "welcome":
                self.welcome = frame
            # Any other type: ignored (a minor version may add frames).
        except (ValueError, TypeError, AttributeError) as e:
            self.errors.append({"type": "error", "code": "bad_frame_from_bridge",
                                "message": f"{kind}: {e}", "frame": frame})

    def _put(self, item: Union[Record, Gap]) -> None:
        if self._events is None:
            self._events = asyncio.Queue()
        self._events.put_nowait(item)

    def _resolve(self, id: Any, kind: str, value: Any) -> None:
        entry = self._pending.get(id) if id is not None else None
        if entry is None or entry[0] != kind:
            return  # a re-subscription's answer, or one nobody waits for
        del self._pending[id]
        if not entry[1].done():
            entry[1].set_result(value)

    def _on_error(self, frame: dict) -> None:
        id = frame.get("id")
        entry = self._pending.pop(id, None) if id is not None else None
        if id is not None and id in self.subscriptions and (
                entry is None or entry[0] == "subscribe"):
            del self.subscriptions[id]  # refused (again, after a reconnect)
        if entry is None:
            self.errors.append(frame)
            return
        if not entry[1].done():
            entry[1].set_exception(BridgeError.from_frame(frame))

    # -- requests --------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        while True:
            id = f"{prefix}{next(self._ids)}"
            if id not in self._pending and id not in self.subscriptions:
                return id

    def _expect(self, id: str, kind: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._pending[id] = (kind, future)
        return future

    def _check_open(self) -> None:
        if self._finished is not None or self._ws is None:
            if isinstance(self._finished, BaseException):
                raise _copy_error(self._finished)
            raise BridgeError("closed", "the client is not connected")

    async def _wait(self, id: str, future: asyncio.Future, timeout: float,
                    what: str):
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self._pending.pop(id, None)
            raise BridgeError("timeout", f"no {what} for id {id!r} within "
                              f"{timeout:g} s") from None

    async def send_frame(self, frame: Mapping[str, Any]) -> None:
        """Sends any frame as it is (for frames this client has no method for)."""
        self._check_open()
        await self._ws.send(dumps(frame))

    async def subscribe(self, filter: Optional[Mapping[str, Any]] = None,
                        id: Optional[str] = None,
                        sample: Optional[Mapping[str, Any]] = None,
                        timeout: Optional[float] = None) -> str:
        """Subscribes and waits for `subscribed`; returns the id. Raises
        BridgeError(code, message) when the bridge answers `error`. The
        subscription is made again after every reconnection."""
        self._check_open()
        id = id if id is not None else self._new_id("s")
        frame: Dict[str, Any] = {"type": "subscribe", "id": id,
                                 "filter": dict(filter or {})}
        if sample:
            frame["sample"] = dict(sample)
        self.subscriptions[id] = frame
        future = self._expect(id, "subscribe")
        try:
            await self._ws.send(dumps(frame))
        except ConnectionClosed as e:
            if not self.reconnect or self._closing:
                self._pending.pop(id, None)
                self.subscriptions.pop(id, None)
                raise BridgeError(e.code, e.reason) from None
            # Sent again once reconnected; the answer comes then.
        try:
            await self._wait(id, future, timeout or self.request_timeout,
                             "`subscribed` frame (nor `error`)")
        except BridgeError:
            self.subscriptions.pop(id, None)
            raise
        return id

    async def unsubscribe(self, id: str) -> None:
        """Ends a subscription (the bridge does not answer)."""
        self.subscriptions.pop(id, None)
        self._check_open()
        try:
            await self._ws.send(dumps({"type": "unsubscribe", "id": id}))
        except ConnectionClosed:
            if not self.reconnect:
                raise

    async def submit(self, records: Iterable[Mapping[str, Any]],
                     id: Optional[str] = None,
                     timeout: Optional[float] = None) -> Ack:
        """Submits a batch and waits for its `ack`. Raises BridgeError on the
        `error` frame for it (forbidden, rate_limited with retry_after_ms,
        ...) or when the connection closes first (code = the close code)."""
        self._check_open()
        id = id if id is not None else self._new_id("b")
        future = self._expect(id, "submit")
        frame = {"type": "submit", "id": id, "records": list(records)}
        try:
            await self._ws.send(dumps(frame))
        except ConnectionClosed as e:
            self._pending.pop(id, None)
            raise BridgeError(e.code, e.reason) from None
        return await self._wait(id, future, timeout or self.request_timeout,
                                "`ack` frame (nor `error`)")

    async def ping(self, timeout: Optional[float] = None) -> float:
        """Sends `ping` and waits for its `pong`; returns the round trip (s)."""
        self._check_open()
        t = str(int(time.time() * 1000))
        while t in self._pings:
            t = str(int(t) + 1)
        future = asyncio.get_running_loop().create_future()
        self._pings[t] = future
        start = time.monotonic()
        await self._ws.send(dumps({"type": "ping", "t": t}))
        try:
            await asyncio.wait_for(future, timeout or self.request_timeout)
        except asyncio.TimeoutError:
            self._pings.pop(t, None)
            raise BridgeError("timeout", f"no `pong` for t {t}") from None
        return time.monotonic() - start

    # -- what arrives ----------------------------------------------------

    async def events(self) -> AsyncIterator[Union[Record, Gap]]:
        """Records and Gaps as they arrive, across reconnections. Ends after
        close(); raises the BridgeError that ended the client otherwise."""
        while True:
            item = await self.next_event(end_ok=True)
            if item is None:
                return
            yield item

    async def next_event(self, timeout: Optional[float] = None,
                         end_ok: bool = False) -> Optional[Union[Record, Gap]]:
        """The next Record or Gap; asyncio.TimeoutError after `timeout`
        seconds. At the end: None with end_ok, else BridgeError("closed") or
        the error that ended the client. (Safe to cancel, unlike an
        async generator's __anext__.)"""
        if self._events is None:
            self._events = asyncio.Queue()
        if timeout is None:
            item = await self._events.get()
        else:
            item = await asyncio.wait_for(self._events.get(), timeout)
        if item is _END:
            self._events.put_nowait(_END)
            if isinstance(self._finished, BaseException):
                raise _copy_error(self._finished)
            if end_ok:
                return None
            raise BridgeError("closed", "the client closed")
        return item

    def pending_events(self) -> int:
        """How many Records and Gaps are waiting to be taken."""
        return 0 if self._events is None else self._events.qsize()


def _copy_error(error: BaseException) -> BaseException:
    if isinstance(error, BridgeError):
        return BridgeError(error.code, error.message, error.retry_after_ms,
                           error.frame)
    return error


async def _abort(ws) -> None:
    """Drops a connection without waiting for the other side."""
    try:
        transport = getattr(ws, "transport", None)
        if transport is not None:
            transport.abort()
        await asyncio.wait_for(asyncio.shield(ws.wait_closed()), 1)
    except Exception:
        pass
