"""The Django middleware and LOGGING snippet, through Django's test clients
(WSGI-style Client and ASGI AsyncClient)."""

from __future__ import annotations

import asyncio
import logging
import logging.config

import pytest

django = pytest.importorskip("django")

from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="hydra-logger-tests",
        ALLOWED_HOSTS=["testserver", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            "hydra_logger.integrations.django.HydraRequestMiddleware",
            f"{__name__}.FakeAuthMiddleware",
        ],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
        LOGGING_CONFIG=None,  # the tests configure logging themselves
    )
    django.setup()

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.deprecation import MiddlewareMixin  # noqa: E402
from django.utils.functional import SimpleLazyObject  # noqa: E402

import hydra_logger  # noqa: E402
from hydra_logger.integrations.django import HydraRequestMiddleware, logging_config  # noqa: E402

pytestmark = pytest.mark.skipif(settings.ROOT_URLCONF != __name__,
                                reason="Django was configured by another module")


# -- a tiny project ---------------------------------------------------------

class FakeUser:
    is_authenticated = True

    def __init__(self, pk: str) -> None:
        self.pk = pk


class Anonymous:
    is_authenticated = False
    pk = None


class FakeAuthMiddleware(MiddlewareMixin):
    """request.user as a lazy object, as AuthenticationMiddleware makes it."""

    def process_request(self, request):
        name = request.META.get("HTTP_X_TEST_USER")
        request.user = SimpleLazyObject(lambda: FakeUser(name) if name else Anonymous())


def sync_view(request, pk):
    hydra_logger.default_logger().info("sync view", item=pk)
    return JsonResponse({"pk": pk, "request_id": request.request_id})


async def async_view(request):
    hydra_logger.default_logger().info("async view")
    await asyncio.sleep(0)
    return HttpResponse("async")


def boom_view(request):
    hydra_logger.default_logger().info("about to fail")
    raise RuntimeError("kaboom")


def created_view(request):
    return HttpResponse("made", status=201)


urlpatterns = [
    path("items/<int:pk>/", sync_view),
    path("async/", async_view),
    path("boom/", boom_view),
    path("created/", created_view),
]


def _access(lf):
    return [r for r in lf.records() if "http.response.status_code" in r["fields"]]


# -- tests --------------------------------------------------------------------

def test_sync_view_access_record_and_context(default_logfile):
    response = Client().get("/items/7/", HTTP_X_TEST_USER="u-9")
    assert response.status_code == 200
    rid = response["X-Request-ID"]
    assert len(rid) == 32 and int(rid, 16) >= 0  # a new uuid4 hex
    assert response.json()["request_id"] == rid

    (access,) = _access(default_logfile)
    f = access["fields"]
    assert access["level"] == "info"
    assert access["message"] == "GET /items/7/ 200"
    assert f["request_id"] == rid
    assert f["http.request.method"] == "GET"
    assert f["url.path"] == "/items/7/"
    assert f["http.route"] == "items/<int:pk>/"
    assert f["http.response.status_code"] == 200
    assert isinstance(f["duration_ms"], float) and f["duration_ms"] >= 0
    assert f["client.address"] == "127.0.0.1"
    assert f["user.id"] == "u-9"  # read when the request ended

    view = default_logfile.one("sync view")
    assert view["fields"]["request_id"] == rid
    assert view["fields"]["item"] == 7
    assert view["fields"]["url.path"] == "/items/7/"


def test_incoming_request_id_is_accepted_and_bad_ones_replaced(default_logfile):
    client = Client()
    good = client.get("/items/1/", HTTP_X_REQUEST_ID="abc-123.XYZ")
    assert good["X-Request-ID"] == "abc-123.XYZ"
    too_long = client.get("/items/2/", HTTP_X_REQUEST_ID="x" * 129)
    assert too_long["X-Request-ID"] != "x" * 129 and len(too_long["X-Request-ID"]) == 32
    control = client.get("/items/3/", HTTP_X_REQUEST_ID="evil\x07id")
    assert control["X-Request-ID"] != "evil\x07id"

    ids = [r["fields"]["request_id"] for r in _access(default_logfile)]
    assert ids == ["abc-123.XYZ", too_long["X-Request-ID"], control["X-Request-ID"]]
    assert default_logfile.one("sync view", item=1)["fields"]["request_id"] == "abc-123.XYZ"


def test_level_by_status_class(default_logfile):
    client = Client(raise_request_exception=False)
    assert client.get("/created/").status_code == 201
    assert client.get("/missing/").status_code == 404
    assert client.get("/boom/").status_code == 500

    by_status = {r["fields"]["http.response.status_code"]: r for r in _access(default_logfile)}
    assert by_status[201]["level"] == "info"
    assert by_status[404]["level"] == "warning"
    assert "http.route" not in by_status[404]["fields"]  # nothing matched
    assert by_status[404]["fields"]["url.path"] == "/missing/"
    assert by_status[500]["level"] == "error"
    assert by_status[500]["fields"]["http.route"] == "boom/"
    assert by_status[500]["fields"]["error.type"] == "RuntimeError"
    assert by_status[500]["fields"]["error.message"] == "kaboom"
    assert "user.id" not in by_status[500]["fields"]  # anonymous

    failing = default_logfile.one("about to fail")
    assert failing["fields"]["request_id"] == by_status[500]["fields"]["request_id"]


def test_async_view_under_wsgi_client(default_logfile):
    response = Client().get("/async/", HTTP_X_REQUEST_ID="wsgi-async")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "wsgi-async"
    assert default_logfile.one("async view")["fields"]["request_id"] == "wsgi-async"
    (access,) = _access(default_logfile)
    assert access["fields"]["http.route"] == "async/"


def test_async_middleware_path_with_asgi_client(default_logfile):
    async def run():
        client = AsyncClient()
        first = await client.get("/async/", **{"x-request-id": "asgi-1", "x-test-user": "u-1"})
        second = await client.get("/items/5/")
        return first, second

    first, second = asyncio.run(run())
    assert first.status_code == 200 and first["X-Request-ID"] == "asgi-1"
    assert second.status_code == 200 and len(second["X-Request-ID"]) == 32

    assert default_logfile.one("async view")["fields"]["request_id"] == "asgi-1"
    # the sync view ran in Django's thread, in the request's context
    assert default_logfile.one("sync view")["fields"]["request_id"] == second["X-Request-ID"]
    a1, a2 = _access(default_logfile)
    assert a1["fields"]["request_id"] == "asgi-1"
    assert a1["fields"]["user.id"] == "u-1"  # a lazy user, resolved off the event loop
    assert a1["fields"]["http.route"] == "async/"
    assert a2["fields"]["http.route"] == "items/<int:pk>/"
    assert a2["fields"]["http.response.status_code"] == 200


def test_middleware_is_async_capable():
    async def get_response(request):  # pragma: no cover - not called
        return HttpResponse()

    mw = HydraRequestMiddleware(get_response)
    assert asyncio.iscoroutinefunction(mw)
    assert not asyncio.iscoroutinefunction(HydraRequestMiddleware(lambda r: HttpResponse()))


def test_context_is_unbound_after_the_request(default_logfile):
    Client().get("/items/4/")
    assert hydra_logger.current() == {}


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    dj = logging.getLogger("django")
    saved = (root.handlers[:], root.level, dj.handlers[:], dj.level, dj.propagate)
    try:
        yield
    finally:
        for lg in (root, dj):
            for h in lg.handlers[:]:
                if h not in saved[0] and h not in saved[2]:
                    lg.removeHandler(h)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        dj.handlers[:] = saved[2]
        dj.setLevel(saved[3])
        dj.propagate = saved[4]


def test_logging_config_routes_django_records_with_request_id(default_logfile, restore_logging):
    config = logging_config(logger=default_logfile.logger, level="INFO", root=False)
    assert config["handlers"]["hydra"]["class"] == "hydra_logger.logging.HydraHandler"
    logging.config.dictConfig(config)

    client = Client(raise_request_exception=False)
    missing = client.get("/missing/", HTTP_X_REQUEST_ID="nf-1")
    boom = client.get("/boom/", HTTP_X_REQUEST_ID="boom-1")
    assert missing.status_code == 404 and boom.status_code == 500

    not_found = [r for r in default_logfile.records()
                 if r["fields"].get("logger.name") == "django.request"
                 and r["message"].startswith("Not Found")]
    assert len(not_found) == 1 and not_found[0]["level"] == "warning"
    # logged by Django after the middleware returned: RequestIdFilter adds the id
    assert not_found[0]["fields"]["request_id"] == "nf-1"
    (raw,) = [line for line in default_logfile.lines() if "Not Found" in line]
    assert raw.count('"request_id":') == 1

    errors = [r for r in default_logfile.records()
              if r["fields"].get("logger.name") == "django.request"
              and r["message"].startswith("Internal Server Error")]
    assert len(errors) == 1 and errors[0]["level"] == "error"
    assert errors[0]["fields"]["request_id"] == "boom-1"
    assert errors[0]["fields"]["error.type"] == "RuntimeError"
    assert "kaboom" in errors[0]["fields"]["error.stack"]


def test_logging_config_shapes():
    cfg = logging_config(config={"layers": {}}, layers={"django.request": "HTTP"},
                         default_layer="APP")
    handler = cfg["handlers"]["hydra"]
    assert handler["config"] == {"layers": {}}
    assert handler["layers"] == {"django.request": "HTTP"}
    assert handler["default_layer"] == "APP"
    assert handler["filters"] == ["hydra_request_id"]
    assert cfg["filters"]["hydra_request_id"]["()"].endswith("django.RequestIdFilter")
    assert cfg["loggers"]["django"] == {"handlers": ["hydra"], "level": "INFO",
                                        "propagate": False}
    assert cfg["root"] == {"handlers": ["hydra"], "level": "INFO"}
    assert cfg["disable_existing_loggers"] is False
