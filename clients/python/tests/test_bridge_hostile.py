"""Clients that break the rules, over raw WebSocket connections: bad JSON,
unknown types, binary frames, frames before hello, another protocol
version, no subprotocol, bad filters, too many subscriptions. Needs
hydra_bridge_app (HYDRA_BRIDGE_APP)."""
import asyncio
import json
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from hydra_bridge import BridgeClient, BridgeError

from bridge_helpers import WAIT, run


def connect(url, **kwargs):
    """websockets.connect offering hydra.v1 (await it, or `async with` it)."""
    return websockets.connect(url, subprotocols=["hydra.v1"], **kwargs)


async def next_frame(ws, types, what, timeout=WAIT):
    """The next frame whose type is in `types` (heartbeats and the like are
    skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        except asyncio.TimeoutError:
            continue
        except ConnectionClosed as e:
            raise AssertionError(f"the connection closed ({e.code} {e.reason!r}) "
                                 f"while waiting for {what}")
        if frame.get("type") in types:
            return frame


async def hello(ws, protocol=1):
    await ws.send(json.dumps({"type": "hello", "protocol": protocol, "client": "hostile"}))
    return await next_frame(ws, {"welcome"}, "the `welcome` frame")


async def expect_close(ws, code, reason, what):
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
    except ConnectionClosed as e:
        assert e.code == code, f"{what}: closed {e.code} {e.reason!r}, expected {code} {reason}"
        assert e.reason.startswith(reason), f"{what}: close reason {e.reason!r}, expected {reason}"
        return e
    except asyncio.TimeoutError:
        pass
    raise AssertionError(f"{what}: the connection stayed open; expected close {code} {reason}")


def test_bad_frames_get_errors_and_the_connection_stays(start_app):
    app = start_app()

    async def main():
        async with connect(app.ws_url) as ws:
            await hello(ws)
            await ws.send("{not json")
            error = await next_frame(ws, {"error", "pong"}, "`error` bad_frame for invalid JSON")
            assert error.get("type") == "error" and error.get("code") == "bad_frame", error
            await ws.send("[1, 2]")
            error = await next_frame(ws, {"error", "pong"}, "`error` bad_frame for a JSON array")
            assert error.get("code") == "bad_frame", error
            await ws.send(json.dumps({"no": "type"}))
            error = await next_frame(ws, {"error", "pong"}, "`error` for a frame without type")
            assert error.get("code") in ("bad_frame", "unknown_type"), error
            await ws.send(json.dumps({"type": "frobnicate", "x": 1}))
            error = await next_frame(ws, {"error", "pong"}, "`error` unknown_type")
            assert error.get("code") == "unknown_type", error
            await ws.send(json.dumps({"type": "ping", "t": "1733566502123", "extra": [1]}))
            pong = await next_frame(ws, {"pong", "error"}, "`pong` after the bad frames")
            assert pong == {"type": "pong", "t": "1733566502123"} or (
                pong.get("type") == "pong" and pong.get("t") == "1733566502123"), pong
    run(main())


def test_a_binary_frame_is_closed_1003(start_app):
    app = start_app()

    async def main():
        ws = await connect(app.ws_url)
        await hello(ws)
        await ws.send(b'{"type":"ping","t":"1"}')
        await expect_close(ws, 1003, "binary_frame", "a binary frame")
    run(main())


def test_a_frame_before_hello_is_closed_4400(start_app):
    app = start_app()

    async def main():
        ws = await connect(app.ws_url)
        await ws.send(json.dumps({"type": "subscribe", "id": "s1", "filter": {}}))
        await expect_close(ws, 4400, "hello_first", "a subscribe before hello")
        ws = await connect(app.ws_url)
        await ws.send("{not json")
        await expect_close(ws, 4400, "hello_first", "invalid JSON before hello")
    run(main())


def test_an_unknown_protocol_version_is_closed_4400(start_app):
    app = start_app()

    async def main():
        ws = await connect(app.ws_url)
        await ws.send(json.dumps({"type": "hello", "protocol": 2, "client": "future"}))
        e = await expect_close(ws, 4400, "", "hello with protocol 2")
        assert "1" in e.reason, f"the close reason names no version it speaks: {e.reason!r}"
    run(main())


def test_an_upgrade_without_the_subprotocol_is_refused_426(start_app):
    app = start_app()

    async def main():
        with pytest.raises(InvalidStatusCode) as e:
            ws = await websockets.connect(app.ws_url)
            await ws.close()
        assert e.value.status_code == 426, e.value.status_code
        with pytest.raises(InvalidStatusCode) as e:
            ws = await websockets.connect(app.ws_url, subprotocols=["hydra.v9"])
            await ws.close()
        assert e.value.status_code == 426, e.value.status_code
    run(main())


def test_bad_filters_are_refused_at_subscribe(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            with pytest.raises(BridgeError) as e:
                await c.subscribe({"regex": "order (\\d+ failed"}, id="broken")
            assert e.value.code == "bad_filter", e.value
            with pytest.raises(BridgeError) as e:
                await c.subscribe({"regex": "a" * 300}, id="long")
            assert e.value.code in ("bad_filter", "filter_too_costly"), (
                f"a 300-byte regex (the limit is 256): {e.value}")
            with pytest.raises(BridgeError) as e:
                await c.subscribe({"min_level": "loud"}, id="level")
            assert e.value.code == "bad_filter", e.value
            await c.subscribe({"layers": ["APP"]}, id="fine")
            assert set(c.subscriptions) == {"fine"}
    run(main())


def test_at_most_64_subscriptions(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            limit = c.welcome.get("limits", {}).get("subscriptions", 64)
            assert limit == 64, c.welcome
            for n in range(64):
                try:
                    await c.subscribe({"layers": [f"L{n}"]}, id=f"s{n}")
                except BridgeError as e:
                    limited = [f for f in c.errors if f.get("code") == "rate_limited"]
                    assert not limited, (
                        f"subscription {n}: the bridge rate-limited an admin's frames "
                        f"({limited[0]}); docs/bridge-protocol.md limits only \"a viewer "
                        f"that is not submitting\" (4 frames a second)")
                    raise AssertionError(f"subscription {n} of 64: {e}")
            with pytest.raises(BridgeError) as e:
                await c.subscribe({}, id="one-too-many")
            assert e.value.code == "too_many_subscriptions", e.value
            await c.ping()
    run(main())
