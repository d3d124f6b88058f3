"""Authentication (API keys, HS256 tokens), roles, tenants and the Origin
check. Needs hydra_bridge_app (HYDRA_BRIDGE_APP)."""
import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from hydra_bridge import (BridgeClient, BridgeError, api_key_entry,
                          b64url_encode, make_hs256_token, submit_http)

from bridge_helpers import collect, has_message, run, wait_file

SECRET = "s3cret"


def auth_bridge():
    return {"tenant": "acme", "jwt_secret": SECRET,
            "api_keys": [api_key_entry("viewer", "acme", "view-key"),
                         api_key_entry("submitter", "acme", "sub-key")]}


async def expect_refused(url, token, label, code=4401):
    """Connecting with `token` must end in close `code`."""
    try:
        client = await BridgeClient(url, token=token, reconnect=False).connect()
    except BridgeError as e:
        assert e.code == code, f"{label}: closed with {e.code} {e.reason!r}, expected {code}"
        return e
    except InvalidStatusCode as e:
        raise AssertionError(f"{label}: the bridge refused the upgrade with HTTP "
                             f"{e.status_code}; the protocol says close {code} after it")
    await client.close()
    raise AssertionError(f"{label}: the bridge welcomed the client ({client.welcome}); "
                         f"expected close {code}")


def test_bad_or_missing_credentials_are_closed_4401_and_logged(start_app):
    app = start_app(bridge=auth_bridge())
    wrong_secret = make_hs256_token(b"not-the-secret", "mallory", "admin", "acme")
    expired = make_hs256_token(SECRET, "alice", "viewer", "acme", -120)

    async def main():
        e = await expect_refused(app.ws_url, None, "no token")
        assert e.reason == "unauthenticated", e
        await expect_refused(app.ws_url, "wrong-key", "a wrong API key")
        await expect_refused(app.ws_url, wrong_secret, "an HS256 token signed with another secret")
        await expect_refused(app.ws_url, expired, "an expired HS256 token")
        records = await wait_file(
            app, lambda rs: any(r.get("level") == "security" for r in rs),
            "a `security` record for the failed authentications", poll=True)
        security = [r for r in records if r.get("level") == "security"]
        assert security, records
    run(main())


def test_a_failed_authentication_does_not_log_the_secret(start_app):
    app = start_app(bridge=auth_bridge())

    async def main():
        await expect_refused(app.ws_url, "wrong-key-d41d8cd98f00", "a wrong API key")
        await wait_file(app, lambda rs: any(r.get("level") == "security" for r in rs),
                        "a `security` record for the failed authentication", poll=True)
        text = "\n".join(app.file_lines())
        assert "wrong-key-d41d8cd98f00" not in text, (
            "the presented (wrong) API key was written to the log")
        assert b64url_encode("wrong-key-d41d8cd98f00") not in text, (
            "the token's base64url form (its subprotocol) was written to the log")
    run(main())


def test_a_viewer_subscribes_but_cannot_submit(start_app):
    app = start_app(bridge=auth_bridge())

    async def main():
        async with BridgeClient(app.ws_url, token="view-key", reconnect=False) as c:
            assert c.welcome.get("role") == "viewer", c.welcome
            assert c.welcome.get("tenant") == "acme", c.welcome
            assert c.subprotocol == "hydra.v1"
            await c.subscribe({"layers": ["APP"]})
            await app.log("APP", "info", "seen by the viewer")
            items = await collect(c, has_message("seen by the viewer"),
                                  "the record 'seen by the viewer'")
            assert items[-1].tenant in ("", "acme"), items[-1]
            with pytest.raises(BridgeError) as e:
                await c.submit([{"level": "info", "message": "from a viewer"}])
            assert e.value.code == "forbidden", e.value
            with pytest.raises(BridgeError) as e:
                await c.subscribe({"tenant": "other"})
            assert e.value.code == "forbidden", (
                f"a viewer of acme asking for tenant other: {e.value}")
            await c.ping()  # errors are not fatal
    run(main())


def test_a_submitter_submits_but_cannot_subscribe(start_app):
    app = start_app(bridge=auth_bridge())

    async def main():
        async with BridgeClient(app.ws_url, token="sub-key", reconnect=False) as c:
            assert c.welcome.get("role") == "submitter", c.welcome
            ack = await c.submit([{"level": "info", "message": "from the submitter"}])
            assert ack.accepted == 1 and ack.rejected == [], ack
            with pytest.raises(BridgeError) as e:
                await c.subscribe({})
            assert e.value.code == "forbidden", e.value
        records = await wait_file(
            app, lambda rs: any(r.get("message") == "from the submitter" for r in rs),
            "the submitted record")
        [r] = [r for r in records if r.get("message") == "from the submitter"]
        assert r.get("layer") == "FRONTEND", r
    run(main())


def test_hs256_tokens_give_their_role_and_tenant(start_app):
    app = start_app(bridge=auth_bridge())
    viewer = make_hs256_token(SECRET, "alice", "viewer", "acme", 600)
    admin = make_hs256_token(SECRET, "root", "admin", "acme", 600)
    other = make_hs256_token(SECRET, "eve", "viewer", "other", 600)

    async def main():
        async with BridgeClient(app.ws_url, token=viewer, reconnect=False) as c:
            assert c.welcome.get("role") == "viewer", c.welcome
            await c.subscribe({})
        async with BridgeClient(app.ws_url, token=admin, reconnect=False) as c:
            assert c.welcome.get("role") == "admin", c.welcome
            await c.subscribe({"layers": ["FRONTEND"]})
            ack = await c.submit([{"level": "info", "message": "from the admin"}])
            assert ack.accepted == 1, ack
            await collect(c, has_message("from the admin"),
                          "the admin's own submitted record, streamed back")
        try:
            c = await BridgeClient(app.ws_url, token=other, reconnect=False).connect()
        except BridgeError as e:
            raise AssertionError(
                f"a viewer token of tenant other was closed at connect ({e}); expected "
                "a welcome, then `error` forbidden on subscribe")
        try:
            with pytest.raises(BridgeError) as e:
                await c.subscribe({})
            assert e.value.code == "forbidden", (
                f"a viewer of tenant other subscribing on acme's bridge: {e.value}")
        finally:
            await c.close()
    run(main())


def test_the_token_may_ride_in_hello_only(start_app):
    app = start_app(bridge=auth_bridge())

    async def main():
        async with websockets.connect(app.ws_url, subprotocols=["hydra.v1"]) as ws:
            await ws.send(json.dumps({"type": "hello", "protocol": 1, "client": "t",
                                      "token": "view-key"}))
            try:
                frame = json.loads(await ws.recv())
            except ConnectionClosed as e:
                raise AssertionError(f"a token in hello only: closed {e.code} {e.reason!r}")
            assert frame["type"] == "welcome" and frame.get("role") == "viewer", frame
    run(main())


def test_intake_needs_a_submitter_token(start_app):
    app = start_app(bridge=auth_bridge())
    status, body, _ = submit_http(app.http_url, [{"level": "info", "message": "anonymous"}])
    assert status == 401, (status, body)
    status, body, _ = submit_http(app.http_url, [{"level": "info", "message": "bad"}],
                                  token="wrong-key")
    assert status == 401, (status, body)
    status, body, _ = submit_http(app.http_url, [{"level": "info", "message": "by header"}],
                                  token="sub-key")
    assert status == 202 and body.get("accepted") == 1, (status, body)
    status, body, _ = submit_http(app.http_url, [{"level": "info", "message": "by query"}],
                                  token="sub-key", token_in_query=True)
    assert status == 202 and body.get("accepted") == 1, (status, body)

    async def main():
        records = await wait_file(
            app, lambda rs: {"by header", "by query"} <= {r.get("message") for r in rs},
            "the records submitted over HTTP")
        messages = {r.get("message") for r in records}
        assert "anonymous" not in messages and "bad" not in messages
    run(main())


def test_an_origin_not_allowed_is_refused_403(start_app):
    app = start_app()
    good = start_app(bridge={"allowed_origins": ["http://good.example"]})

    async def main():
        for url, label in [(app.ws_url, "no allowed_origins"),
                           (good.ws_url, "allowed_origins = [http://good.example]")]:
            with pytest.raises(InvalidStatusCode) as e:
                await BridgeClient(url, origin="http://evil.example", reconnect=False).connect()
            assert e.value.status_code == 403, f"{label}: HTTP {e.value.status_code}"
        async with BridgeClient(good.ws_url, origin="http://good.example",
                                reconnect=False) as c:
            await c.subscribe({})
    run(main())


def test_the_bridges_own_origin_is_allowed(start_app):
    # Not in docs/bridge-protocol.md but in BridgeOptions::allowed_origins:
    # the bridge's own http://127.0.0.1:<port> (the dashboard it serves at /)
    # is allowed besides the list.
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, origin=app.http_url, reconnect=False) as c:
            await c.subscribe({})
    run(main())
