"""The bridge over TLS (tls_cert, tls_key): wss and https with a certificate
made for the test by Debian's openssl (tests/support/tls_certs.py), the
Python client on the other end, and the errors of a bad TLS configuration.

Runs hydra_bridge_app (HYDRA_BRIDGE_APP); PYTHONPATH names clients/python,
clients/python/tests and tests/support (ctest sets both)."""
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
