"""The client on its own: its pure parts (base64url, JWT, seq and frame
conversions) and its behaviour against a scripted in-process WebSocket
server standing in for the bridge (hello, welcome, dispatch, reconnection
with resume and re-subscription, the idle limit, fatal closes). These need
no C++ build."""
import asyncio
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest
import websockets

from hydra_bridge import (Ack, BridgeClient, BridgeError, Gap, Record,
                          api_key_entry, b64url_decode, b64url_encode,
                          cursor_to_wire, make_hs256_token, parse_frame,
                          records_from_frame, seq_from_wire, seq_to_wire,
                          submit_http, token_subprotocol)

from bridge_helpers import run

# -- pure parts ------------------------------------------------------------


def test_b64url_has_no_padding_and_round_trips():
    for n in range(0, 40):
        data = bytes(range(256))[:n] + b"\xfb\xff" * (n % 3)
        text = b64url_encode(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64url_decode(text) == data
    assert b64url_encode("view-key") == "dmlldy1rZXk"
    assert token_subprotocol("view-key") == "hydra.token.dmlldy1rZXk"


def test_hs256_token_is_a_valid_jwt():
    token = make_hs256_token(b"s3cret", "alice", "viewer", "acme", 60)
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert json.loads(b64url_decode(header_b64)) == {"alg": "HS256", "typ": "JWT"}
    payload = json.loads(b64url_decode(payload_b64))
    assert payload["sub"] == "alice" and payload["role"] == "viewer"
    assert payload["tenant"] == "acme"
    assert abs(payload["exp"] - (time.time() + 60)) < 5
    expected = hmac.new(b"s3cret", f"{header_b64}.{payload_b64}".encode(),
                        hashlib.sha256).digest()
    assert b64url_decode(signature_b64) == expected
    assert "=" not in token
    expired = make_hs256_token("s3cret", "alice", "viewer", "acme", -60)
    assert json.loads(b64url_decode(expired.split(".")[1]))["exp"] < time.time()


def test_api_key_entry():
    assert api_key_entry("viewer", "acme", "view-key") == (
        "viewer:acme:" + hashlib.sha256(b"view-key").hexdigest())


def test_seq_conversions():
    assert seq_from_wire("10413") == 10413
    assert seq_from_wire(7) == 7
    assert seq_from_wire(None) is None
    assert seq_from_wire("18446744073709551615") == 2 ** 64 - 1
    assert seq_to_wire(2 ** 64 - 1) == "18446744073709551615"
    assert seq_to_wire("0012") == "12"
    for bad in ["-1", "1.5", "", "1e3", True, 1.0, [], "٣"]:
        with pytest.raises(ValueError):
            seq_from_wire(bad)
    assert cursor_to_wire({"a/1": 5, "b/2": "6"}) == {"a/1": "5", "b/2": "6"}


def test_frames_from_the_wire():
    assert parse_frame("{not json") is None
    assert parse_frame("[1,2]") is None
    assert parse_frame('{"no":"type"}') is None
    assert parse_frame(b'{"type":"pong","t":"1"}') == {"type": "pong", "t": "1"}
    frame = parse_frame(json.dumps({
        "type": "records", "stream": "shop/9f3c0a51d2e47b86", "to_seq": "10413",
        "records": [{"seq": "10413", "sub": ["s1"], "time": "2026-12-07T10:15:02.123456Z",
                     "level": "warning", "layer": "APP", "logger": "checkout",
                     "message": "card [REDACTED_CARD] declined",
                     "redacted": [[5, 20, "CARD"]], "fields": {"order": 1234},
                     "service": "shop", "tenant": "acme", "extra": 1}]}))
    [record] = records_from_frame(frame)
    assert isinstance(record, Record)
    assert record.seq == 10413 and record.stream == "shop/9f3c0a51d2e47b86"
    assert (record.level, record.layer, record.logger) == ("warning", "APP", "checkout")
    assert record.fields == {"order": 1234} and record.sub == ["s1"]
    assert record.redacted == [[5, 20, "CARD"]] and record.raw["extra"] == 1
    gap = Gap.from_wire({"type": "gap", "stream": "s/1", "from_seq": "10414",
                         "to_seq": "10980", "count": "567", "reason": "slow_client"})
    assert (gap.from_seq, gap.to_seq, gap.count, gap.reason) == (10414, 10980, 567, "slow_client")
    restart = Gap.from_wire({"type": "gap", "stream": "old/0", "from_seq": "6",
                             "reason": "restart"})
    assert restart.to_seq is None and restart.count is None
    ack = Ack.from_wire({"type": "ack", "id": "b17", "accepted": 1,
                         "rejected": [{"index": 3, "reason": "record_too_large"}]})
    assert ack.id == "b17" and ack.accepted == 1
    assert ack.rejected == [{"index": 3, "reason": "record_too_large"}]
    error = BridgeError.from_frame({"type": "error", "id": "b1", "code": "rate_limited",
                                    "message": "slow down", "retry_after_ms": 1500})
    assert error.code == "rate_limited" and error.retry_after_ms == 1500
    assert not error.is_close and BridgeError(4401, "unauthenticated").is_close


# -- against a scripted server ---------------------------------------------

WELCOME = {"type": "welcome", "protocol": 1, "bridge": "fake/0", "role": "admin",
           "tenant": "acme", "heartbeat_ms": 15000,
           "limits": {"frame_bytes": 1048576, "subscriptions": 64,
                      "submit_records": 500, "record_bytes": 65536}}


class FakeBridge:
    """A WebSocket server on 127.0.0.1; each connection runs
    script(conn, n) with n counting connections from 0. conn.recv_frame()
    returns the next frame as a dict."""

    def __init__(self, script):
        self.script = script
        self.connections = 0
        self.requests = []  # request headers, one per connection
        self.hellos = []

    async def __aenter__(self):
        async def handler(ws, path=None):
            n = self.connections
            self.connections += 1
            self.requests.append(ws.request_headers)
            await self.script(Conn(ws, self), n)
        self.server = await websockets.serve(handler, "127.0.0.1", 0,
                                             subprotocols=["hydra.v1"])
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()


class Conn:
    def __init__(self, ws, bridge):
        self.ws = ws
        self.bridge = bridge

    async def recv_frame(self, timeout=5):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def hello(self, welcome=None):
        hello = await self.recv_frame()
        self.bridge.hellos.append(hello)
        await self.send(welcome or WELCOME)
        return hello

    async def hold(self):
        try:
            await self.ws.wait_closed()
        except Exception:
            pass


def records_frame(stream, seqs, sub=("s1",), to_seq=None):
    return {"type": "records", "stream": stream,
            "to_seq": str(to_seq if to_seq is not None else seqs[-1]),
            "records": [{"seq": str(s), "sub": list(sub), "level": "info",
                         "layer": "APP", "logger": "t", "message": f"m{s}",
                         "fields": {"i": s}} for s in seqs]}


def test_hello_carries_subprotocols_token_and_resume():
    async def script(conn, n):
        await conn.hello()
        await conn.hold()

    async def main():
        async with FakeBridge(script) as fake:
            async with BridgeClient(fake.url, token="view-key",
                                    resume={"shop/00000000000000aa": 41},
                                    backlog=10, client="hydra-py/test") as c:
                assert c.welcome["role"] == "admin"
                assert c.subprotocol == "hydra.v1"
            offered = fake.requests[0]["Sec-WebSocket-Protocol"]
            assert [p.strip() for p in offered.split(",")] == [
                "hydra.v1", "hydra.token.dmlldy1rZXk"]
            assert "Origin" not in fake.requests[0]
            hello = fake.hellos[0]
            assert hello == {"type": "hello", "protocol": 1, "client": "hydra-py/test",
                             "token": "view-key",
                             "resume": {"shop/00000000000000aa": "41"}}
            # Without a cursor: backlog, no resume, no token.
            async with BridgeClient(fake.url, backlog=10, origin="http://good.example") as c:
                pass
            assert fake.hellos[1] == {"type": "hello", "protocol": 1,
                                      "client": "hydra-py/0.1.0", "backlog": 10}
            assert fake.requests[1]["Sec-WebSocket-Protocol"] == "hydra.v1"
            assert fake.requests[1]["Origin"] == "http://good.example"
    run(main())


def test_subscriptions_given_up_front_ride_behind_hello():
    async def script(conn, n):
        hello = await conn.recv_frame()
        first = await conn.recv_frame()  # before any welcome
        second = await conn.recv_frame()
        assert hello["type"] == "hello"
        assert first == {"type": "subscribe", "id": "a", "filter": {"layers": ["APP"]}}
        assert second == {"type": "subscribe", "id": "b", "filter": {},
                          "sample": {"limit": 5, "per_ms": 1000}}
        await conn.send(WELCOME)
        await conn.send({"type": "subscribed", "id": "a"})
        await conn.send({"type": "error", "id": "b", "code": "bad_filter", "message": "no"})
        await conn.hold()

    async def main():
        async with FakeBridge(script) as fake:
            c = BridgeClient(fake.url, reconnect=False, subscriptions={
                "a": {"layers": ["APP"]},
                "b": {"filter": {}, "sample": {"limit": 5, "per_ms": 1000}}})
            with pytest.raises(BridgeError) as e:
                await c.connect()
            assert e.value.code == "bad_filter"
            assert c.closed
    run(main())


def test_a_close_instead_of_welcome_is_a_bridge_error():
    async def script(conn, n):
        await conn.recv_frame()
        await conn.ws.close(4401, "unauthenticated")

    async def main():
        async with FakeBridge(script) as fake:
            with pytest.raises(BridgeError) as e:
                await BridgeClient(fake.url, token="bad").connect()
            assert e.value.code == 4401 and e.value.reason == "unauthenticated"
            assert fake.connections == 1
    run(main())


def test_frames_are_dispatched():
    async def script(conn, n):
        await conn.hello()
        sub = await conn.recv_frame()
        assert sub == {"type": "subscribe", "id": "s1",
                       "filter": {"layers": ["APP"]},
                       "sample": {"limit": 5, "per_ms": 1000}}
        await conn.send({"type": "future_frame", "x": 1})
        await conn.send({"type": "subscribed", "id": "s1"})
        await conn.send(records_frame("st/1", [3, 4], to_seq=6))
        await conn.send({"type": "gap", "stream": "st/1", "from_seq": "7",
                         "to_seq": "9", "count": "2", "reason": "slow_client"})
        await conn.send({"type": "heartbeat", "cursor": {"st/1": "12"}})
        await conn.send({"type": "error", "code": "unknown_type", "message": "?"})
        bad = await conn.recv_frame()
        assert bad["type"] == "subscribe" and bad["id"] == "s2"
        await conn.send({"type": "error", "id": "s2", "code": "bad_filter",
                         "message": "regex: missing )"})
        submit = await conn.recv_frame()
        assert submit["type"] == "submit" and submit["records"] == [{"message": "x"}]
        await conn.send({"type": "ack", "id": submit["id"], "accepted": 1,
                         "rejected": []})
        submit = await conn.recv_frame()
        await conn.send({"type": "error", "id": submit["id"], "code": "rate_limited",
                         "message": "slow down", "retry_after_ms": 250})
        ping = await conn.recv_frame()
        await conn.send({"type": "pong", "t": ping["t"]})
        await conn.hold()

    async def main():
        async with FakeBridge(script) as fake:
            async with BridgeClient(fake.url) as c:
                assert await c.subscribe({"layers": ["APP"]},
                                         sample={"limit": 5, "per_ms": 1000}) == "s1"
                items = [await c.next_event(5) for _ in range(3)]
                assert [type(i) for i in items] == [Record, Record, Gap]
                assert [items[0].seq, items[1].seq] == [3, 4]
                assert items[2].count == 2 and items[2].reason == "slow_client"
                with pytest.raises(BridgeError) as e:
                    await c.subscribe({"regex": "("}, id="s2")
                assert e.value.code == "bad_filter"
                assert set(c.subscriptions) == {"s1"}
                ack = await c.submit([{"message": "x"}])
                assert isinstance(ack, Ack) and ack.accepted == 1
                with pytest.raises(BridgeError) as e:
                    await c.submit([{"message": "y"}])
                assert e.value.code == "rate_limited" and e.value.retry_after_ms == 250
                await c.ping()
                assert c.cursor == {"st/1": 12}
                assert [f["code"] for f in c.errors] == ["unknown_type"]
            # After close, events() ends.
            assert [i async for i in c.events()] == []
    run(main())


def test_reconnect_resumes_and_subscribes_again():
    async def script(conn, n):
        hello = await conn.hello(dict(WELCOME, heartbeat_ms=60000))
        sub = await conn.recv_frame()
        assert sub["type"] == "subscribe"
        await conn.send({"type": "subscribed", "id": sub["id"]})
        if n == 0:
            assert "resume" not in hello
            await conn.send(records_frame("st/1", [1, 2, 3]))
            await asyncio.sleep(0.05)
            await conn.ws.close(1000, "bye")  # the bridge shutting down
        else:
            assert hello["resume"] == {"st/1": "3"}, hello
            assert sub == {"type": "subscribe", "id": "mine",
                           "filter": {"min_level": "info"}}
            await conn.send(records_frame("st/1", [4, 5]))
            await conn.hold()

    async def main():
        async with FakeBridge(script) as fake:
            async with BridgeClient(fake.url) as c:
                await c.subscribe({"min_level": "info"}, id="mine")
                seqs = []
                async for item in c.events():
                    seqs.append(item.seq)
                    if item.seq == 5:
                        break
                assert seqs == [1, 2, 3, 4, 5]
                assert c.reconnects == 1 and fake.connections == 2
                assert c.cursor == {"st/1": 5}
    run(main())


def test_silence_for_twice_the_heartbeat_reconnects():
    async def script(conn, n):
        await conn.hello(dict(WELCOME, heartbeat_ms=100))
        if n == 0:
            await conn.hold()  # says nothing, until the client gives up on it
        else:
            await conn.send({"type": "heartbeat", "cursor": {"st/1": "9"}})
            await conn.hold()

    async def main():
        async with FakeBridge(script) as fake:
            async with BridgeClient(fake.url, backoff_base=0.01) as c:
                start = time.monotonic()
                while c.reconnects == 0 and time.monotonic() - start < 5:
                    await asyncio.sleep(0.02)
                assert c.reconnects == 1
                assert time.monotonic() - start >= 0.15
                # The second connection's heartbeat moves the cursor (polled
                # with a deadline, not a fixed wait).
                while c.cursor != {"st/1": 9} and time.monotonic() - start < 10:
                    await asyncio.sleep(0.02)
                assert c.cursor == {"st/1": 9}
    run(main())


def test_a_restart_gap_drops_that_stream_from_the_cursor():
    async def script(conn, n):
        await conn.hello()
        await conn.send({"type": "gap", "stream": "old/0000000000000000",
                         "from_seq": "6", "reason": "restart"})
        await conn.send(records_frame("new/1", [1]))
        await conn.hold()

    async def main():
        async with FakeBridge(script) as fake:
            async with BridgeClient(fake.url, resume={"old/0000000000000000": 5}) as c:
                gap = await c.next_event(5)
                assert isinstance(gap, Gap) and gap.reason == "restart"
                await c.next_event(5)
                assert c.cursor == {"new/1": 1}
    run(main())


def test_forbidden_and_auth_closes_end_the_client():
    async def script(conn, n):
        await conn.hello()
        await conn.ws.close(4403, "forbidden")

    async def main():
        async with FakeBridge(script) as fake:
            c = await BridgeClient(fake.url, backoff_base=0.01).connect()
            with pytest.raises(BridgeError) as e:
                async for _ in c.events():
                    pass
            assert e.value.code == 4403
            await asyncio.sleep(0.1)
            assert fake.connections == 1 and c.reconnects == 0
            await c.close()
    run(main())


def test_a_submit_fails_when_the_bridge_closes_the_connection():
    async def script(conn, n):
        await conn.hello()
        if n == 0:
            await conn.recv_frame()
            await conn.ws.close(1009, "frame_too_large")
        else:
            await conn.hold()

    async def main():
        async with FakeBridge(script) as fake:
            async with BridgeClient(fake.url, backoff_base=0.01) as c:
                with pytest.raises(BridgeError) as e:
                    await c.submit([{"message": "x" * 1000}])
                assert e.value.code == 1009 and e.value.reason == "frame_too_large"
                start = time.monotonic()
                while c.reconnects == 0 and time.monotonic() - start < 5:
                    await asyncio.sleep(0.02)
                assert c.reconnects == 1  # 1009 is not fatal
            async with BridgeClient(fake.url, reconnect=False) as c:
                pass
    run(main())


def test_submit_http_returns_every_status():
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, dict(self.headers), body))
            if self.headers.get("Authorization") == "Bearer good":
                code, answer, extra = 202, {"type": "ack", "accepted": 1, "rejected": []}, {}
            else:
                code, answer, extra = 429, {"type": "error", "code": "rate_limited"}, {
                    "Retry-After": "2"}
            data = json.dumps(answer).encode()
            self.send_response(code)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        status, body, headers = submit_http(base, [{"message": "m"}], token="good")
        assert status == 202 and body["accepted"] == 1
        assert seen[0][0] == "/intake"
        assert seen[0][2] == {"type": "submit", "records": [{"message": "m"}]}
        status, body, headers = submit_http(base + "/", [{"message": "m"}],
                                            origin="http://good.example")
        assert status == 429 and body["code"] == "rate_limited"
        assert headers["retry-after"] == "2"
        assert seen[1][1]["Origin"] == "http://good.example"
        assert "Authorization" not in seen[1][1]
    finally:
        server.shutdown()
        server.server_close()
