"""The Flask extension, through Flask's test client."""

from __future__ import annotations

import asyncio
import logging

import pytest

flask = pytest.importorskip("flask")

import hydra_logger  # noqa: E402
from hydra_logger.integrations.flask import HydraFlask  # noqa: E402


def make_app(logger=None, propagate_exceptions=False, **options):
    app = flask.Flask("hydra_flask_test")
    app.config["PROPAGATE_EXCEPTIONS"] = propagate_exceptions
    ext = HydraFlask(app, logger=logger, **options)

    @app.before_request
    def load_user():
        uid = flask.request.headers.get("X-Test-User")
        if uid:
            flask.g.user_id = uid
        hydra_logger.default_logger().debug("before_request hook")

    @app.get("/items/<int:item_id>")
    def item(item_id):
        hydra_logger.default_logger().info("item view", item=item_id)
        return {"item": item_id, "request_id": flask.g.request_id}

    @app.get("/async")
    async def async_item():
        await asyncio.sleep(0)
        hydra_logger.default_logger().info("async view")
        return "async"

    @app.post("/things")
    def create():
        return "", 201

    @app.get("/boom")
    def boom():
        hydra_logger.default_logger().info("about to fail")
        raise RuntimeError("kaboom")

    return app, ext


def _access(lf):
    return [r for r in lf.records() if "http.response.status_code" in r["fields"]]


def test_view_access_record_and_context(default_logfile):
    app, ext = make_app()
    assert app.extensions["hydra_logger"] is ext
    response = app.test_client().get("/items/3", headers={"X-Test-User": "42"})
    assert response.status_code == 200
    rid = response.headers["X-Request-ID"]
    assert len(rid) == 32
    assert response.get_json() == {"item": 3, "request_id": rid}

    (access,) = _access(default_logfile)
    f = access["fields"]
    assert access["level"] == "info" and access["message"] == "GET /items/3 200"
    assert f["request_id"] == rid
    assert f["http.request.method"] == "GET"
    assert f["url.path"] == "/items/3"
    assert f["http.route"] == "/items/<int:item_id>"
    assert f["http.response.status_code"] == 200
    assert isinstance(f["duration_ms"], float) and f["duration_ms"] >= 0
    assert f["client.address"] == "127.0.0.1"
    assert f["user.id"] == "42"

    assert default_logfile.one("item view")["fields"]["request_id"] == rid
    # a before_request hook registered after the extension runs in context
    assert default_logfile.one("before_request hook")["fields"]["request_id"] == rid
    assert hydra_logger.current() == {}


def test_incoming_request_id(default_logfile):
    app, _ = make_app()
    client = app.test_client()
    assert client.get("/items/1", headers={"X-Request-ID": "req-7"}).headers[
        "X-Request-ID"] == "req-7"
    bad = client.get("/items/2", headers={"X-Request-ID": "y" * 200}).headers["X-Request-ID"]
    assert bad != "y" * 200 and len(bad) == 32
    assert [r["fields"]["request_id"] for r in _access(default_logfile)] == ["req-7", bad]


def test_untrusted_incoming_id_is_ignored(default_logfile):
    app, _ = make_app(trust_request_id=False)
    rid = app.test_client().get("/items/1", headers={"X-Request-ID": "req-7"}).headers[
        "X-Request-ID"]
    assert rid != "req-7"


def test_levels_404_500_and_created(default_logfile):
    app, _ = make_app()
    client = app.test_client()
    assert client.post("/things").status_code == 201
    assert client.get("/nowhere").status_code == 404
    r500 = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert r500.status_code == 500
    assert r500.headers["X-Request-ID"] == "boom-1"

    by_status = {r["fields"]["http.response.status_code"]: r for r in _access(default_logfile)}
    assert by_status[201]["level"] == "info"
    assert by_status[201]["fields"]["http.request.method"] == "POST"
    assert by_status[404]["level"] == "warning"
    assert "http.route" not in by_status[404]["fields"]
    assert by_status[500]["level"] == "error"
    assert by_status[500]["fields"]["http.route"] == "/boom"
    assert by_status[500]["fields"]["error.type"] == "RuntimeError"
    assert by_status[500]["fields"]["error.message"] == "kaboom"
    assert default_logfile.one("about to fail")["fields"]["request_id"] == "boom-1"


def test_propagated_exception_still_logged(default_logfile):
    app, _ = make_app(propagate_exceptions=True)
    with pytest.raises(RuntimeError):
        app.test_client().get("/boom", headers={"X-Request-ID": "prop-1"})
    (access,) = _access(default_logfile)
    assert access["level"] == "error"
    assert access["fields"]["http.response.status_code"] == 500
    assert access["fields"]["request_id"] == "prop-1"
    assert hydra_logger.current() == {}


def test_async_view(default_logfile):
    pytest.importorskip("asgiref")
    app, _ = make_app()
    response = app.test_client().get("/async", headers={"X-Request-ID": "fa-1"})
    assert response.status_code == 200
    assert default_logfile.one("async view")["fields"]["request_id"] == "fa-1"


def test_explicit_logger_and_layer(new_logfile, default_logfile):
    other = new_logfile("other.jsonl")
    app, _ = make_app(logger=other.logger, layer="APP")
    app.test_client().get("/items/9")
    assert len(_access(other)) == 1
    assert _access(default_logfile) == []  # the view's own record went to the default
    assert default_logfile.one("item view")["fields"]["item"] == 9


def test_flask_app_logger_through_install(default_logfile):
    """Flask's app.logger error for a 500, routed by hydra_logger.install,
    carries the request_id."""
    app, _ = make_app()
    app.logger.propagate = True
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = hydra_logger.install(default_logfile.logger, replace=False)
    try:
        app.test_client().get("/boom", headers={"X-Request-ID": "flask-err"})
    finally:
        root.removeHandler(handler)
        root.handlers[:] = saved
    errors = [r for r in default_logfile.records()
              if r["fields"].get("logger.name") == app.logger.name]
    assert errors and errors[0]["fields"]["request_id"] == "flask-err"
    assert "kaboom" in errors[0]["fields"]["error.stack"]
