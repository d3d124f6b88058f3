"""The stdlib bridge: hydra_logger.logging.HydraHandler and install().

dictConfig and install() change the process's root logger (dictConfig also
closes every handler it finds, pytest's own included), and fast_records()
changes logging's module globals: those run in a child process. The rest use
a named stdlib logger that does not propagate, set up and taken down by a
fixture."""

from __future__ import annotations

import logging
import threading

import pytest

import hydra_logger
from hydra_logger import HydraLogger
from hydra_logger.logging import HydraHandler


def dest(path, fmt="json-lines", **options):
    return {"type": "file", "path": str(path), "format": fmt, **options}


def fields(record):
    return record.get("fields", {})


class Collect(logging.Handler):
    """A plain stdlib handler keeping its records (what stdlib itself makes)."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def stdlib_logger():
    """A factory of stdlib loggers (name, handler) that do not propagate;
    their handlers are removed (and closed) at the end."""
    made = []

    def make(name, handler, level=logging.DEBUG):
        logger = logging.getLogger(name)
        logger.propagate = False
        logger.setLevel(level)
        logger.addHandler(handler)
        made.append((logger, handler))
        return logger

    yield make
    for logger, handler in made:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
        handler.close()


@pytest.fixture
def hydra(tmp_path):
    """A Hydra logger with APP (the default layer), HTTP and DATABASE layers,
    each to its own JSON-lines file."""
    log = HydraLogger({"layers": {
        name: {"level": "TRACE", "destinations": [dest(tmp_path / f"{name.lower()}.jsonl")]}
        for name in ("APP", "HTTP", "DATABASE")}})
    yield log
    log.close()


def layer_records(tmp_path, read_records, layer):
    return read_records(tmp_path / f"{layer.lower()}.jsonl")


# -- dictConfig (in a child) ------------------------------------------------------------

DICTCONFIG = r"""
import json, logging, logging.config, sys
out = sys.argv[1]
kind = sys.argv[2]
layers = {name: {"level": "DEBUG", "destinations": [
    {"type": "file", "path": f"{out}/{name.lower()}.jsonl", "format": "json-lines"}]}
    for name in ("APP", "HTTP", "HTTPX", "DATABASE")}
if kind == "file":
    config = f"{out}/logging.json"
    with open(config, "w") as f:
        json.dump({"layers": layers}, f)
else:
    config = {"layers": layers}
logging.config.dictConfig({
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"hydra": {
        "class": "hydra_logger.logging.HydraHandler",
        "config": config,
        "layers": {"web": "HTTP", "web.inner": "HTTPX", "myapp.db": "DATABASE"},
    }},
    "root": {"handlers": ["hydra"], "level": "DEBUG"},
})
handler = logging.getLogger().handlers[0]
assert type(handler).__name__ == "HydraHandler", handler
logging.getLogger("web.request").info("GET %s", "/items", extra={"status": 200, "ms": 1.5})
logging.getLogger("web.inner.socket").warning("longest prefix")
logging.getLogger("webby").info("not under web")
logging.getLogger("myapp.db").debug("query", extra={"rows": 3})
logging.getLogger("urllib3.connectionpool").debug(
    "Starting new HTTPS connection (%d): %s:%s", 1, "example.com", 443)
try:
    {}["missing"]
except KeyError:
    logging.getLogger("myapp.views").exception("lookup failed")
logging.shutdown()      # closes the handler, which closes the logger it made
assert handler.hydra.closed
"""


@pytest.mark.parametrize("kind", ["dict", "file"])
def test_dictconfig_with_config_and_layers(kind, tmp_path, run_python, assert_ok, read_records):
    assert_ok(run_python(DICTCONFIG, str(tmp_path), kind, timeout=60))
    http = layer_records(tmp_path, read_records, "HTTP")
    assert [(r["layer"], r["level"], r["message"]) for r in http] == [
        ("HTTP", "info", "GET /items")]
    assert fields(http[0]) == {"logger.name": "web.request", "status": 200, "ms": 1.5}
    httpx = layer_records(tmp_path, read_records, "HTTPX")
    assert [(r["message"], fields(r)["logger.name"]) for r in httpx] == [
        ("longest prefix", "web.inner.socket")]
    db = layer_records(tmp_path, read_records, "DATABASE")
    assert [(r["level"], r["message"], fields(r)) for r in db] == [
        ("debug", "query", {"logger.name": "myapp.db", "rows": 3})]
    app = layer_records(tmp_path, read_records, "APP")
    assert [(r["level"], r["message"], fields(r)["logger.name"]) for r in app] == [
        ("info", "not under web", "webby"),
        ("debug", "Starting new HTTPS connection (1): example.com:443", "urllib3.connectionpool"),
        ("error", "lookup failed", "myapp.views")]
    error = fields(app[2])
    assert error["error.type"] == "KeyError" and error["error.message"] == "'missing'"
    assert error["error.stack"].startswith("Traceback")
    assert error["error.stack"].endswith("KeyError: 'missing'")


# -- records, fields, exceptions -----------------------------------------------------------

def test_extra_and_attributes_a_library_sets_become_fields(hydra, tmp_path, stdlib_logger,
                                                          read_records):
    std = stdlib_logger("test_handler.extra", HydraHandler(logger=hydra))

    class Adding(logging.Filter):      # what a library's filter or adapter does
        def filter(self, record):
            record.request_id = "r-1"
            return True

    std.addFilter(Adding())
    std.info("with extra %s", "formatted", extra={"user": "alice", "n": 3, "ok": True,
                                                  "none": None})
    std.warning("plain")
    hydra.flush()
    records = layer_records(tmp_path, read_records, "APP")
    assert records[0]["message"] == "with extra formatted"
    assert fields(records[0]) == {"logger.name": "test_handler.extra", "user": "alice", "n": 3,
                                  "ok": True, "none": None, "request_id": "r-1"}
    assert fields(records[1]) == {"logger.name": "test_handler.extra", "request_id": "r-1"}


def test_exceptions_and_stack_info_are_captured(hydra, tmp_path, stdlib_logger, read_records):
    std = stdlib_logger("test_handler.errors", HydraHandler(logger=hydra))
    try:
        int("not a number")
    except ValueError as e:
        std.exception("exception()")
        std.error("exc_info=True", exc_info=True)
        caught = e
    std.warning("exc_info instance", exc_info=caught)
    std.info("stack_info", stack_info=True)
    hydra.flush()
    records = {r["message"]: r for r in layer_records(tmp_path, read_records, "APP")}
    for message in ("exception()", "exc_info=True", "exc_info instance"):
        f = fields(records[message])
        assert f["error.type"] == "ValueError"
        assert f["error.message"] == "invalid literal for int() with base 10: 'not a number'"
        assert 'int("not a number")' in f["error.stack"]
    assert records["exception()"]["level"] == "error"
    assert records["exc_info instance"]["level"] == "warning"
    assert fields(records["stack_info"])["stack"].startswith("Stack (most recent call last):")


def test_levels_and_name_field(hydra, tmp_path, stdlib_logger, read_records):
    std = stdlib_logger("test_handler.levels", HydraHandler(logger=hydra), level=1)
    for number in (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60):
        std.log(number, "level %d", number)
    quiet = stdlib_logger("test_handler.noname", HydraHandler(logger=hydra, name_field=None))
    quiet.info("no name field")
    renamed = stdlib_logger("test_handler.renamed", HydraHandler(logger=hydra, name_field="src"))
    renamed.info("renamed field")
    hydra.flush()
    records = layer_records(tmp_path, read_records, "APP")
    assert [r["level"] for r in records[:11]] == [
        "trace", "debug", "debug", "info", "info", "warning", "warning", "error", "error",
        "critical", "critical"]
    assert "fields" not in records[11]
    assert fields(records[12]) == {"src": "test_handler.renamed"}


def test_layers_by_longest_prefix(hydra, tmp_path, stdlib_logger, read_records):
    handler = HydraHandler(logger=hydra, layers={"": "DATABASE", "svc": "HTTP",
                                                 "svc.api": "APP"})
    names = ["svc", "svc.api", "svc.api.v2", "svc.apix", "svcx", "other"]
    for name in names:
        stdlib_logger(name, handler).info(name)
    hydra.flush()
    got = {}
    for layer in ("APP", "HTTP", "DATABASE"):
        for r in layer_records(tmp_path, read_records, layer):
            got[r["message"]] = r["layer"]
    assert got == {"svc": "HTTP", "svc.api": "APP", "svc.api.v2": "APP", "svc.apix": "HTTP",
                   "svcx": "DATABASE", "other": "DATABASE"}

    fallback = HydraHandler(logger=hydra, layers={"svc": "HTTP"}, default_layer="DATABASE")
    stdlib_logger("unmapped.name", fallback).info("default_layer")
    hydra.flush()
    assert layer_records(tmp_path, read_records, "DATABASE")[-1]["message"] == "default_layer"


def test_a_third_party_logger_is_captured_unchanged(hydra, tmp_path, stdlib_logger,
                                                    read_records):
    name = "urllib3.connectionpool"
    collect = Collect()
    std = stdlib_logger(name, HydraHandler(logger=hydra))
    std.addHandler(collect)
    try:
        std.debug("Starting new HTTPS connection (%d): %s:%s", 1, "example.com", 443)
        std.debug('%s://%s:%s "%s %s %s" %s %s', "https", "example.com", 443, "GET", "/",
                  "HTTP/1.1", 200, None)
        std.warning("Retrying (%r) after connection broken by '%r': %s",
                    "Retry(total=2)", ConnectionResetError(104, "reset"), "/path")
    finally:
        std.removeHandler(collect)
    hydra.flush()
    records = layer_records(tmp_path, read_records, "APP")
    assert [r["message"] for r in records] == [r.getMessage() for r in collect.records]
    assert [r["level"] for r in records] == ["debug", "debug", "warning"]
    assert all(fields(r) == {"logger.name": name} for r in records)


def test_handler_level_and_layer_level_filter(tmp_path, stdlib_logger, read_records):
    log = HydraLogger({"layers": {
        "APP": {"level": "DEBUG", "destinations": [dest(tmp_path / "app.jsonl")]},
        "HTTP": {"level": "ERROR", "destinations": [dest(tmp_path / "http.jsonl")]}}})
    try:
        std = stdlib_logger("test_handler.filtered",
                            HydraHandler(logging.WARNING, logger=log))
        std.info("below the handler's level")
        std.warning("at the handler's level")
        layered = stdlib_logger("web", HydraHandler(logger=log, layers={"web": "HTTP"}))
        layered.warning("below the layer's level")
        layered.error("at the layer's level")
        log.flush()
        assert [r["message"] for r in read_records(tmp_path / "app.jsonl")] == [
            "at the handler's level"]
        assert [r["message"] for r in read_records(tmp_path / "http.jsonl")] == [
            "at the layer's level"]
    finally:
        log.close()


def test_close_flushes_and_closes_only_a_logger_it_made(tmp_path, read_records):
    log = HydraLogger({"layers": {"APP": {"destinations": [dest(tmp_path / "given.jsonl")]}}})
    try:
        given = HydraHandler(logger=log)
        given.handle(logging.makeLogRecord({"name": "x", "levelno": 20, "levelname": "INFO",
                                            "msg": "through a given logger"}))
        given.close()                  # flushes, and leaves the logger open
        assert [r["message"] for r in read_records(tmp_path / "given.jsonl")] == [
            "through a given logger"]
        assert not log.closed
    finally:
        log.close()

    owned = HydraHandler(config={"layers": {"APP": {"destinations": [
        dest(tmp_path / "owned.jsonl")]}}})
    owned.handle(logging.makeLogRecord({"name": "y", "levelno": 30, "levelname": "WARNING",
                                        "msg": "through its own logger"}))
    owned.close()                      # closes the logger it made: everything written
    assert owned.hydra.closed
    assert [r["message"] for r in read_records(tmp_path / "owned.jsonl")] == [
        "through its own logger"]


def test_the_default_logger_when_none_is_given(tmp_path, stdlib_logger, read_records):
    log = HydraLogger({"layers": {"APP": {"destinations": [dest(tmp_path / "default.jsonl")]}}})
    previous = hydra_logger._default
    hydra_logger.set_default_logger(log)
    try:
        handler = HydraHandler()
        assert handler.hydra is log
        stdlib_logger("test_handler.default", handler).info("to the default logger")
        log.flush()
        assert [r["message"] for r in read_records(tmp_path / "default.jsonl")] == [
            "to the default logger"]
    finally:
        hydra_logger.set_default_logger(previous)
        log.close()


def test_threads_logging_through_one_handler(hydra, tmp_path, stdlib_logger, read_records):
    std = stdlib_logger("test_handler.threads", HydraHandler(logger=hydra))
    barrier = threading.Barrier(4, timeout=30)

    def work(t):
        barrier.wait()
        for i in range(500):
            std.info("t%d-%d", t, i, extra={"t": t, "i": i})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    hydra.flush()
    seen = [(fields(r)["t"], fields(r)["i"]) for r in layer_records(tmp_path, read_records, "APP")]
    assert sorted(seen) == [(t, i) for t in range(4) for i in range(500)]


# -- install() (in-process, root restored in the test) and fast_records (in a child) ------

def test_install_routes_the_root_logger_and_replace_removes_other_handlers(tmp_path,
                                                                          read_records):
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    log = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [
        dest(tmp_path / "root.jsonl")]}}})
    other = Collect()
    try:
        root.addHandler(other)
        handler = hydra_logger.install(log, level="INFO")
        assert root.handlers == [handler] and isinstance(handler, HydraHandler)
        assert root.level == logging.INFO
        logging.getLogger("some.library").info("through the root logger", extra={"k": 1})
        logging.getLogger("some.library").debug("below the root's level")
        kept = Collect()
        root.addHandler(kept)
        second = hydra_logger.install(log, replace=False, default_layer="APP")
        assert root.handlers == [handler, kept, second]
        logging.getLogger("another").warning("to both hydra handlers and the kept one")
        hydra_logger.logging.uninstall(second)
        assert second not in root.handlers
        log.flush()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        log.close()
    assert other.records == []
    assert [r.getMessage() for r in kept.records] == ["to both hydra handlers and the kept one"]
    records = read_records(tmp_path / "root.jsonl")
    assert [(r["message"], fields(r)["logger.name"]) for r in records] == [
        ("through the root logger", "some.library"),
        ("to both hydra handlers and the kept one", "another"),
        ("to both hydra handlers and the kept one", "another")]
    assert fields(records[0])["k"] == 1


FAST_RECORDS = r"""
import logging, sys, threading
from hydra_logger import HydraLogger
from hydra_logger.logging import HydraHandler
log = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [
    {"type": "file", "path": sys.argv[1], "format": "json-lines"}]}}})
handler = HydraHandler(logger=log, fast_records=True)
assert logging._srcfile is None and not logging.logThreads
assert not logging.logProcesses and not logging.logMultiprocessing
std = logging.getLogger("fast")
std.propagate = False
std.setLevel(logging.DEBUG)
std.addHandler(handler)
def work(t):
    for i in range(2000):
        std.info("fast %d", i, extra={"t": t, "i": i})
threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for th in threads: th.start()
for th in threads:
    th.join(60)
    assert not th.is_alive()
try:
    1 / 0
except ZeroDivisionError:
    std.exception("still captured")
handler.close()
log.close()
"""


def test_fast_records_still_writes_every_record(tmp_path, run_python, assert_ok, read_records):
    path = tmp_path / "fast.jsonl"
    assert_ok(run_python(FAST_RECORDS, str(path), timeout=60))
    records = read_records(path)
    seen = sorted((fields(r)["t"], fields(r)["i"]) for r in records[:-1])
    assert seen == [(t, i) for t in range(4) for i in range(2000)]
    assert all(r["message"] == f"fast {fields(r)['i']}" for r in records[:-1])
    last = records[-1]
    assert last["message"] == "still captured"
    assert fields(last)["error.type"] == "ZeroDivisionError"
    assert "threadName" not in fields(last) and "processName" not in fields(last)
