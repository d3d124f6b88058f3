"""The pure ASGI middleware, against FastAPI and Starlette apps, through
Starlette's TestClient and httpx's ASGITransport."""

from __future__ import annotations

import asyncio
import logging

import pytest

fastapi = pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from fastapi import FastAPI, Request, WebSocket  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Mount, Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

import hydra_logger  # noqa: E402
from hydra_logger.integrations.asgi import HydraASGIMiddleware  # noqa: E402
from hydra_logger.integrations.fastapi import (  # noqa: E402
    HydraASGIMiddleware as FastAPIMiddleware,
    setup_fastapi,
)


def log():
    return hydra_logger.default_logger()


def make_app(**options) -> FastAPI:
    app = FastAPI()

    @app.get("/sync/{item_id}")
    def sync_endpoint(item_id: int, request: Request):
        log().info("sync endpoint", item=item_id)  # in FastAPI's thread pool
        return {"item": item_id, "request_id": request.state.request_id}

    @app.get("/async")
    async def async_endpoint():
        log().info("async endpoint")
        return {"ok": True}

    @app.get("/thread")
    async def thread_endpoint():
        await asyncio.to_thread(log().info, "from to_thread")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, hydra_logger.wrap(log().info), "from executor")
        return {"ok": True}

    @app.get("/boom")
    async def boom():
        log().info("about to fail")
        raise RuntimeError("kaboom")

    @app.get("/teapot")
    async def teapot():
        return JSONResponse({"short": "stout"}, status_code=418)

    return app


def _access(lf):
    return [r for r in lf.records() if "http.response.status_code" in r["fields"]]


def test_fastapi_endpoints_get_the_context(default_logfile):
    app = make_app()
    setup_fastapi(app)
    with TestClient(app) as client:
        sync = client.get("/sync/5", headers={"X-Request-ID": "s-1"})
        asy = client.get("/async")
        thr = client.get("/thread", headers={"X-Request-ID": "t-1"})
    assert sync.status_code == 200 and sync.headers["x-request-id"] == "s-1"
    assert sync.json() == {"item": 5, "request_id": "s-1"}
    arid = asy.headers["x-request-id"]
    assert len(arid) == 32
    assert thr.headers["x-request-id"] == "t-1"

    assert default_logfile.one("sync endpoint")["fields"]["request_id"] == "s-1"
    assert default_logfile.one("async endpoint")["fields"]["request_id"] == arid
    assert default_logfile.one("from to_thread")["fields"]["request_id"] == "t-1"
    assert default_logfile.one("from executor")["fields"]["request_id"] == "t-1"

    a_sync, a_async, a_thread = _access(default_logfile)
    f = a_sync["fields"]
    assert a_sync["level"] == "info" and a_sync["message"] == "GET /sync/5 200"
    assert f["request_id"] == "s-1"
    assert f["http.request.method"] == "GET"
    assert f["url.path"] == "/sync/5"
    assert f["http.route"] == "/sync/{item_id}"
    assert f["http.response.status_code"] == 200
    assert isinstance(f["duration_ms"], float) and f["duration_ms"] >= 0
    assert f["client.address"] == "testclient"
    assert a_async["fields"]["http.route"] == "/async"
    assert a_thread["fields"]["request_id"] == "t-1"
    assert hydra_logger.current() == {}


def test_levels_and_500_inside_server_error_middleware(default_logfile):
    app = make_app()
    app.add_middleware(FastAPIMiddleware)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/teapot").status_code == 418
        assert client.get("/missing").status_code == 404
        r500 = client.get("/boom", headers={"X-Request-ID": "b-1"})
    assert r500.status_code == 500
    by_status = {r["fields"]["http.response.status_code"]: r for r in _access(default_logfile)}
    assert by_status[418]["level"] == "warning"
    assert by_status[404]["level"] == "warning"
    assert "http.route" not in by_status[404]["fields"]
    err = by_status[500]
    assert err["level"] == "error"
    assert err["fields"]["request_id"] == "b-1"
    assert err["fields"]["http.route"] == "/boom"
    assert err["fields"]["error.type"] == "RuntimeError"
    assert err["fields"]["error.message"] == "kaboom"
    assert default_logfile.one("about to fail")["fields"]["request_id"] == "b-1"


def test_wrapping_outermost_echoes_the_id_on_500(default_logfile):
    wrapped = HydraASGIMiddleware(make_app())
    with TestClient(wrapped, raise_server_exceptions=False) as client:
        r500 = client.get("/boom", headers={"X-Request-ID": "outer-1"})
    assert r500.status_code == 500
    assert r500.headers["x-request-id"] == "outer-1"
    (err,) = _access(default_logfile)
    assert err["fields"]["http.response.status_code"] == 500
    assert err["fields"]["error.type"] == "RuntimeError"
    assert err["fields"]["http.route"] == "/boom"


def test_starlette_routes_and_mounts(default_logfile):
    async def hello(request):
        log().info("hello")
        return PlainTextResponse("hi")

    async def user(request):
        return PlainTextResponse(request.path_params["name"])

    app = Starlette(routes=[
        Route("/hello", hello),
        Mount("/api", routes=[Route("/users/{name}", user)]),
    ])
    app.add_middleware(HydraASGIMiddleware)
    with TestClient(app) as client:
        assert client.get("/hello").text == "hi"
        assert client.get("/api/users/ann").text == "ann"
    routes = [r["fields"].get("http.route") for r in _access(default_logfile)]
    assert routes == ["/hello", "/api/users/{name}"]


def test_fastapi_mounted_subapp_route(default_logfile):
    sub = FastAPI()

    @sub.get("/things/{tid}")
    async def thing(tid: str):
        return {"tid": tid}

    app = FastAPI()
    app.mount("/v1", sub)
    app.add_middleware(HydraASGIMiddleware)
    with TestClient(app) as client:
        assert client.get("/v1/things/x").json() == {"tid": "x"}
    (access,) = _access(default_logfile)
    assert access["fields"]["http.route"] == "/v1/things/{tid}"
    assert access["fields"]["url.path"] == "/v1/things/x"


def test_authenticated_scope_user(default_logfile):
    from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
    from starlette.middleware.authentication import AuthenticationMiddleware

    class HeaderAuth(AuthenticationBackend):
        async def authenticate(self, conn):
            name = conn.headers.get("x-test-user")
            return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None

    app = make_app()
    app.add_middleware(AuthenticationMiddleware, backend=HeaderAuth())
    app.add_middleware(HydraASGIMiddleware)  # outside the auth middleware
    with TestClient(app) as client:
        client.get("/async", headers={"x-test-user": "ann"})
        client.get("/async")
    first, second = _access(default_logfile)
    assert first["fields"]["user.id"] == "ann"
    assert "user.id" not in second["fields"]


def test_replace_uvicorn_access(default_logfile):
    access = logging.getLogger("uvicorn.access")
    saved = (access.disabled, access.propagate, access.level)
    try:
        access.disabled = False
        mw = HydraASGIMiddleware(make_app(), replace_uvicorn_access=True)
        assert access.disabled and not access.propagate
        assert not access.isEnabledFor(logging.CRITICAL)
        access.disabled = False  # as uvicorn's logging config would leave it
        with TestClient(mw) as client:  # the first call applies it again
            client.get("/async")
        assert access.disabled
    finally:
        access.disabled, access.propagate = saved[0], saved[1]
        access.setLevel(saved[2])


def test_concurrent_requests_never_mix_request_ids(default_logfile):
    n = 8
    app = FastAPI()
    events: dict = {}
    done: dict = {}
    waiting: dict = {"count": 0}
    all_waiting = asyncio.Event()

    @app.get("/wait/{i}")
    async def wait(i: int):
        log().info("before wait", i=i)
        waiting["count"] += 1
        if waiting["count"] == n:
            all_waiting.set()
        await events[i].wait()
        log().info("after wait", i=i)
        await asyncio.to_thread(log().info, "after wait, thread", i=i)
        done[i].set()
        return {"i": i}

    setup_fastapi(app)

    async def main():
        for i in range(n):
            events[i] = asyncio.Event()
            done[i] = asyncio.Event()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            requests = [asyncio.ensure_future(
                client.get(f"/wait/{i}", headers={"X-Request-ID": f"req-{i}"}))
                for i in range(n)]
            await all_waiting.wait()
            order = [5, 0, 7, 2, 6, 1, 4, 3]  # released in an order unlike the start's
            for i in order:
                events[i].set()
                await done[i].wait()
            return await asyncio.gather(*requests)

    responses = asyncio.run(main())
    for i, response in enumerate(responses):
        assert response.json() == {"i": i}
        assert response.headers["x-request-id"] == f"req-{i}"

    records = default_logfile.records()
    by_message = {}
    for r in records:
        by_message.setdefault(r["message"], []).append(r)
    for message in ("before wait", "after wait", "after wait, thread"):
        assert len(by_message[message]) == n
        for r in by_message[message]:
            assert r["fields"]["request_id"] == f"req-{r['fields']['i']}"
            assert r["fields"]["url.path"] == f"/wait/{r['fields']['i']}"
    after = [r["fields"]["i"] for r in by_message["after wait"]]
    assert after == [5, 0, 7, 2, 6, 1, 4, 3]
    for r in _access(default_logfile):
        i = int(r["fields"]["url.path"].rsplit("/", 1)[1])
        assert r["fields"]["request_id"] == f"req-{i}"
        assert r["fields"]["http.route"] == "/wait/{i}"


def test_lifespan_and_websocket_pass_through(default_logfile):
    app = make_app()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        log().info("ws message")
        await websocket.send_text(websocket.state.request_id)
        await websocket.close()

    app.add_middleware(HydraASGIMiddleware)
    with TestClient(app) as client:
        with client.websocket_connect("/ws", headers={"X-Request-ID": "ws-1"}) as conn:
            assert conn.receive_text() == "ws-1"
    assert default_logfile.one("ws message")["fields"]["request_id"] == "ws-1"
    assert _access(default_logfile) == []


@pytest.mark.parametrize("replace", [True, False], ids=["replaced", "uvicorn-access-kept"])
def test_real_uvicorn_server(replace, tmp_path, processes, read_jsonl):
    """A real uvicorn serving the middleware: the access record, the echoed
    header, and replace_uvicorn_access against uvicorn's own logging setup."""
    pytest.importorskip("uvicorn")
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    log_path = tmp_path / "uvicorn.jsonl"
    port = processes.free_port()
    env = dict(os.environ, HYDRA_TEST_UVICORN_LOG=str(log_path), PYTHONUNBUFFERED="1",
               HYDRA_TEST_REPLACE_ACCESS="1" if replace else "0",
               PYTHONPATH=os.pathsep.join(p for p in [str(here), os.environ.get(
                   "PYTHONPATH", "")] if p))
    server = processes.start(
        [sys.executable, "-m", "uvicorn", "uvicorn_app:app", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=str(here), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = processes.wait_for_output(server, "Uvicorn running on", 30)
    response = httpx.get(f"http://127.0.0.1:{port}/items/3", headers={"X-Request-ID": "uv-1"},
                         timeout=30)
    processes.stop(server)
    output += server.stdout.read().decode(errors="replace")
    assert server.returncode == 0, output

    assert response.status_code == 200 and response.json() == {"item": 3}
    assert response.headers["x-request-id"] == "uv-1"
    records = read_jsonl(log_path)
    (access,) = [r for r in records if "http.response.status_code" in r["fields"]]
    assert access["fields"]["request_id"] == "uv-1"
    assert access["fields"]["http.route"] == "/items/{item_id}"
    assert access["fields"]["client.address"] == "127.0.0.1"
    (endpoint,) = [r for r in records if r["message"] == "item endpoint"]
    assert endpoint["fields"]["request_id"] == "uv-1"
    uvicorn_access_line = '"GET /items/3 HTTP/1.1" 200' in output
    assert uvicorn_access_line is (not replace), output
