"""The bridge's transport. TLS (tls_cert, tls_key): wss and https with a
certificate made for the test by Debian's openssl (tests/support/tls_certs.py),
the Python client on the other end, and the errors of a bad TLS
configuration. permessage-deflate (RFC 7692, python3-websockets offers it):
negotiated only when configured, and the 1 MiB frame limit holds for what a
compressed frame inflates to.

Runs hydra_bridge_app (HYDRA_BRIDGE_APP); PYTHONPATH names clients/python,
clients/python/tests and tests/support (ctest sets both)."""
import asyncio
import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest
import websockets

from bridge_helpers import App, collect, has_message, make_config, records_of, run
from hydra_bridge import BridgeClient, submit_http
from tls_certs import make_certs


@pytest.fixture(scope="module")
def app_exe():
    exe = os.environ.get("HYDRA_BRIDGE_APP", "")
    if not exe:
        pytest.skip("HYDRA_BRIDGE_APP is not set (ctest sets it)")
    return exe


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    ca, cert, key = make_certs(tmp_path_factory.mktemp("certs"))
    return {"ca": str(ca), "cert": str(cert), "key": str(key)}


@pytest.fixture
def tls_app(app_exe, certs, tmp_path):
    config = make_config(tmp_path / "app.jsonl",
                         bridge={"tls_cert": certs["cert"], "tls_key": certs["key"]})
    app = App(app_exe, tmp_path, config)
    yield app
    assert app.stop() == 0, f"the app did not quit cleanly:\n{app.stderr_text()}"


def trusting(certs):
    return ssl.create_default_context(cafile=certs["ca"])


def test_records_stream_over_wss_and_submissions_arrive_over_https(tls_app, certs):
    app = tls_app
    assert app.http_url.startswith("https://"), (
        f"with tls_cert and tls_key the bridge says it listens at {app.http_url}")
    assert app.ws_url.startswith("wss://")

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False, ssl=trusting(certs)) as c:
            await c.subscribe({}, id="s1")
            await app.log("APP", "info", "over tls")
            items = await collect(c, has_message("over tls"), "the record 'over tls' over wss")
            [record] = [r for r in records_of(items) if r.message == "over tls"]
            assert record.layer == "APP" and record.seq >= 1, record

    run(main())

    # The intake, and the browser's Origin of an https bridge.
    origin = app.http_url
    status, body, headers = submit_http(
        app.http_url, [{"level": "warning", "message": "submitted over tls"}],
        origin=origin, context=trusting(certs))
    assert status == 202, f"POST /intake over https: {status} {body}"
    assert headers.get("access-control-allow-origin") == origin, headers
    app.cmd("flush")
    messages = [r.get("message") for r in app.file_records()]
    assert "submitted over tls" in messages, messages

    with urllib.request.urlopen(app.http_url + "/healthz", context=trusting(certs)) as r:
        health = json.loads(r.read())
    assert health["status"] == "ok" and health["submitted"]["accepted"] >= 1, health


def test_a_plain_connection_gets_no_answer_and_the_bridge_keeps_serving(tls_app, certs):
    app = tls_app
    plain = app.http_url.replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)) as caught:
        urllib.request.urlopen(plain + "/healthz", timeout=10).read()
    assert not isinstance(caught.value, urllib.error.HTTPError), (
        "a plain-HTTP request to a TLS bridge got an HTTP answer")

    async def plain_ws():
        ws_plain = app.ws_url.replace("wss://", "ws://")
        with pytest.raises((websockets.exceptions.WebSocketException, OSError,
                            EOFError)):
            async with websockets.connect(ws_plain, subprotocols=["hydra.v1"],
                                          open_timeout=10):
                pass

    run(plain_ws())

    # A client that does not trust the bridge's CA refuses it...
    async def untrusted():
        with pytest.raises(ssl.SSLCertVerificationError):
            async with websockets.connect(app.ws_url, subprotocols=["hydra.v1"],
                                          ssl=ssl.create_default_context(), open_timeout=10):
                pass

    run(untrusted())

    # ...and after all of that the bridge still serves one that does.
    async def trusted():
        async with BridgeClient(app.ws_url, reconnect=False, ssl=trusting(certs)) as c:
            await c.subscribe({}, id="s1")
            await app.log("APP", "info", "still serving")
            await collect(c, has_message("still serving"), "the record 'still serving'")

    run(trusted())


def start_error(app_exe, tmp_path, bridge):
    """Starts the app with `bridge` options that must not start; returns its
    stderr."""
    (tmp_path / "bad.toml").write_text(make_config(tmp_path / "app.jsonl", bridge=bridge))
    done = subprocess.run([app_exe, str(tmp_path / "bad.toml")], input="quit\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0, (
        f"the app started with bridge options {bridge}:\n{done.stdout}\n{done.stderr}")
    assert "listening" not in done.stdout, done.stdout
    return done.stderr


def test_a_bad_tls_configuration_is_refused_naming_what_is_wrong(app_exe, certs, tmp_path):
    err = start_error(app_exe, tmp_path, {"tls_cert": certs["cert"]})
    assert "tls_cert is set without tls_key" in err, err

    missing = str(tmp_path / "no-such.pem")
    err = start_error(app_exe, tmp_path, {"tls_cert": missing, "tls_key": certs["key"]})
    assert f"tls_cert '{missing}'" in err, err

    err = start_error(app_exe, tmp_path, {"tls_cert": certs["cert"], "tls_key": certs["ca"]})
    assert f"tls_key '{certs['ca']}'" in err, err

    other = tmp_path / "other"
    _, _, other_key = make_certs(other)
    err = start_error(app_exe, tmp_path, {"tls_cert": certs["cert"], "tls_key": str(other_key)})
    assert f"tls_key '{other_key}'" in err and "mismatch" in err, err


async def open_ws(app):
    ws = await websockets.connect(app.ws_url, subprotocols=["hydra.v1"], open_timeout=10,
                                  max_size=16 << 20)
    await ws.send(json.dumps({"type": "hello", "protocol": 1}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert welcome["type"] == "welcome", welcome
    return ws


async def next_frame(ws, kind):
    """The next frame of type `kind` (heartbeats and the like in between)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame.get("type") == kind:
            return frame
        assert frame.get("type") != "error", frame


def test_permessage_deflate_is_negotiated_only_when_configured(app_exe, tmp_path):
    plain = App(app_exe, tmp_path, make_config(tmp_path / "app.jsonl"))
    try:
        async def offered_but_off():
            ws = await open_ws(plain)
            assert "permessage-deflate" not in ws.response_headers.get(
                "Sec-WebSocket-Extensions", ""), ws.response_headers
            await ws.close()

        run(offered_but_off())
    finally:
        assert plain.stop() == 0


def test_deflated_frames_carry_records_and_the_limit_is_on_the_inflated_size(
        app_exe, tmp_path):
    app = App(app_exe, tmp_path,
              make_config(tmp_path / "app.jsonl", bridge={"permessage_deflate": True}))
    try:
        async def main():
            ws = await open_ws(app)
            assert "permessage-deflate" in ws.response_headers.get(
                "Sec-WebSocket-Extensions", ""), ws.response_headers
            await ws.send(json.dumps({"type": "subscribe", "id": "s1"}))
            await next_frame(ws, "subscribed")
            await app.log("APP", "info", "compressed " + "abc" * 2000)
            frame = await next_frame(ws, "records")
            assert frame["records"][0]["message"] == "compressed " + "abc" * 2000

            # 720 KB that deflate to a few KB: accepted whole.
            small = [{"level": "info", "message": f"fits {n} " + "z" * 60000} for n in range(12)]
            await ws.send(json.dumps({"type": "submit", "id": "b1", "records": small}))
            ack = await next_frame(ws, "ack")
            assert ack["accepted"] == 12, ack

            # 1.4 MB that deflate to a few KB: over the 1 MiB limit once inflated.
            big = [{"level": "info", "message": f"bomb {n} " + "z" * 60000} for n in range(24)]
            await ws.send(json.dumps({"type": "submit", "id": "b2", "records": big}))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    assert frame.get("type") not in ("ack",), f"the bridge took it: {frame}"
            assert closed.value.rcvd is not None, "closed without a close frame"
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                1009, "frame_too_large"), closed.value

        run(main())
        app.cmd("flush")
        messages = [r.get("message", "") for r in app.file_records()]
        assert sum(m.startswith("fits ") for m in messages) == 12, "the accepted batch"
        assert not any(m.startswith("bomb ") for m in messages), "records of the refused batch"
    finally:
        assert app.stop() == 0
