"""The drop-in API against the Python Hydra-Logger's documented behaviour:
layers with their own levels and destinations, the fallback to DEFAULT, the
old-style calls, the security family, fields and their types, exceptions,
presets and magic configs, configuration dicts and files, levels at run
time, close(), metrics, sync mode, AsyncHydraLogger, getLogger and views."""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from pathlib import Path

import pytest

import hydra_logger
from hydra_logger import AsyncHydraLogger, ConfigError, HydraLogger

RECORD_KEYS = {"timestamp", "level", "layer", "logger", "message", "thread"}


def dest(path, fmt="json-lines", **options):
    return {"type": "file", "path": str(path), "format": fmt, **options}


def unique(prefix: str) -> str:
    """A preset name no other test (or earlier run in this process) took:
    presets live as long as the process."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def loggers():
    """Closes at the end of the test every logger appended to the list."""
    made = []
    yield made
    for logger in made:
        logger.close()


# -- layers, levels, destinations --------------------------------------------------

def test_two_layers_each_file_gets_only_its_layer_at_its_level(tmp_path, loggers, read_records):
    log = HydraLogger({"layers": {
        "APP": {"level": "INFO", "destinations": [dest(tmp_path / "app.jsonl")]},
        "DATABASE": {"level": "DEBUG", "destinations": [dest(tmp_path / "db.jsonl")]},
    }})
    loggers.append(log)
    for layer in ("APP", "DATABASE"):
        log.debug(f"{layer} debug", layer=layer)
        log.info(f"{layer} info", layer=layer)
        log.warning(f"{layer} warning", layer=layer)
    log.info("default layer info")  # no layer: the default layer, APP
    log.flush()

    app = read_records(tmp_path / "app.jsonl")
    db = read_records(tmp_path / "db.jsonl")
    assert [(r["layer"], r["level"], r["message"]) for r in app] == [
        ("APP", "info", "APP info"), ("APP", "warning", "APP warning"),
        ("APP", "info", "default layer info")]
    assert [(r["layer"], r["level"], r["message"]) for r in db] == [
        ("DATABASE", "debug", "DATABASE debug"), ("DATABASE", "info", "DATABASE info"),
        ("DATABASE", "warning", "DATABASE warning")]
    for record in app + db:
        assert RECORD_KEYS <= set(record), record
        assert record["logger"] == "hydra"
        assert isinstance(record["thread"], int)
        assert record["timestamp"].endswith("Z")


def test_destination_level_filters_within_a_layer(tmp_path, loggers, read_records):
    log = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [
        dest(tmp_path / "all.jsonl"), dest(tmp_path / "errors.jsonl", level="ERROR")]}}})
    loggers.append(log)
    for name in ("debug", "info", "warning", "error", "critical"):
        getattr(log, name)(f"a {name} record")
    log.flush()
    assert [r["level"] for r in read_records(tmp_path / "all.jsonl")] == [
        "debug", "info", "warning", "error", "critical"]
    assert [r["level"] for r in read_records(tmp_path / "errors.jsonl")] == ["error", "critical"]


def test_a_layer_without_route_falls_back_to_default(tmp_path, loggers, read_records):
    log = HydraLogger({"layers": {
        "APP": {"level": "DEBUG", "destinations": [dest(tmp_path / "app.jsonl")]},
        "DEFAULT": {"level": "DEBUG", "destinations": [dest(tmp_path / "default.jsonl")]},
    }})
    loggers.append(log)
    log.info("to payments", layer="PAYMENTS", amount=12)
    log.warning("PAYMENTS", "old style to payments")
    log.info("to app")
    log.flush()
    fallback = read_records(tmp_path / "default.jsonl")
    assert [(r["layer"], r["message"]) for r in fallback] == [
        ("PAYMENTS", "to payments"), ("PAYMENTS", "old style to payments")]
    assert fallback[0]["fields"] == {"amount": 12}
    assert [r["message"] for r in read_records(tmp_path / "app.jsonl")] == ["to app"]


def test_no_default_route_goes_to_stderr_with_one_notice(tmp_path, loggers, capfd, read_records):
    log = HydraLogger({"layers": {"APP": {"destinations": [dest(tmp_path / "app.jsonl")]}}})
    loggers.append(log)
    log.warning("first orphan", layer="ORPHAN")
    log.warning("second orphan", layer="ORPHAN")
    log.flush()
    err = capfd.readouterr().err
    assert err.count("layer 'ORPHAN' has no route") == 1, err
    assert "first orphan" in err and "second orphan" in err
    assert read_records(tmp_path / "app.jsonl") == []
    assert log.get_performance_metrics()["fallback_records"] == 2


# -- the Python project's calls ----------------------------------------------------

def test_old_style_layer_message_calls(tmp_path, loggers, read_records):
    log = HydraLogger({"layers": {
        "APP": {"level": "DEBUG", "destinations": [dest(tmp_path / "app.jsonl")]},
        "DATABASE": {"level": "DEBUG", "destinations": [dest(tmp_path / "db.jsonl")]},
    }})
    loggers.append(log)
    log.info("DATABASE", "connected")
    log.error("DATABASE", "query failed", table="users")
    log.log("DATABASE", "WARNING", "slow query")
    log.log("DATABASE", "debug", "plan %s", "seq scan")
    log.debug("DATABASE", "also a layer")
    log.info("user %s", "bob")               # lower-case first string: %-formatting
    log.log("info", "level first")           # log(level, message)
    log.log(logging.WARNING, "stdlib number")
    # layer= given: not the old style, so "explicit..." is a %-argument of "APP"
    log.info("APP", "explicit layer wins", layer="DATABASE")
    log.flush()

    db = read_records(tmp_path / "db.jsonl")
    assert [(r["level"], r["message"]) for r in db] == [
        ("info", "connected"), ("error", "query failed"), ("warning", "slow query"),
        ("debug", "plan seq scan"), ("debug", "also a layer"),
        ("info", "APP <format error: TypeError: not all arguments converted during string "
                 "formatting>")]
    assert db[1]["fields"] == {"table": "users"}
    assert db[3]["fields"] == {"arg0": "seq scan"}
    assert db[5]["fields"] == {"arg0": "explicit layer wins"}
    app = read_records(tmp_path / "app.jsonl")
    assert [(r["level"], r["message"]) for r in app] == [
        ("info", "user bob"), ("info", "level first"), ("warning", "stdlib number")]


def test_security_audit_compliance_go_to_their_layers(tmp_path, loggers, read_records):
    layers = {name: {"level": "DEBUG", "destinations": [dest(tmp_path / f"{name.lower()}.jsonl")]}
              for name in ("APP", "SECURITY", "AUDIT", "COMPLIANCE")}
    log = HydraLogger({"layers": layers})
    loggers.append(log)
    log.security("failed login", user="mallory")
    log.audit("record changed", id=7)
    log.compliance("retention applied")
    log.log("security", "via log()")
    log.security("told otherwise", layer="APP")
    log.audit("APP", "old style audit")
    log.bind(req="r1").compliance("from a view")
    log.flush()

    security = read_records(tmp_path / "security.jsonl")
    assert [(r["layer"], r["level"], r["message"]) for r in security] == [
        ("SECURITY", "security", "failed login"), ("SECURITY", "security", "via log()")]
    assert security[0]["fields"]["user"] == "mallory"
    assert [(r["layer"], r["level"], r["message"])
            for r in read_records(tmp_path / "audit.jsonl")] == [
        ("AUDIT", "audit", "record changed")]
    compliance = read_records(tmp_path / "compliance.jsonl")
    assert [(r["layer"], r["level"], r["message"]) for r in compliance] == [
        ("COMPLIANCE", "compliance", "retention applied"),
        ("COMPLIANCE", "compliance", "from a view")]
    assert compliance[1]["fields"]["req"] == "r1"
    assert [(r["layer"], r["level"], r["message"])
            for r in read_records(tmp_path / "app.jsonl")] == [
        ("APP", "security", "told otherwise"), ("APP", "audit", "old style audit")]


# -- fields ----------------------------------------------------------------------

def test_keyword_fields_extra_and_percent_args_keep_their_types(jlog):
    log = jlog.logger
    log.info("kw", i=42, f=2.5, t=True, fl=False, n=None, s="text", neg=-7)
    log.info("extra", extra={"i": 1, "f": 0.25, "b": True, "n": None})
    log.info("%d items at %.1f (%s)", 3, 9.5, None)
    log.info("%(user)s logged in from %(ip)s", {"user": "alice", "ip": "10.0.0.7"})
    log.info("both %s", "p", k="kw", extra={"e": 1})
    records = jlog.records()

    kw = records[0]["fields"]
    assert kw == {"i": 42, "f": 2.5, "t": True, "fl": False, "n": None, "s": "text", "neg": -7}
    assert type(kw["i"]) is int and type(kw["f"]) is float and type(kw["t"]) is bool
    extra = records[1]["fields"]
    assert extra == {"i": 1, "f": 0.25, "b": True, "n": None}
    assert type(extra["i"]) is int and type(extra["b"]) is bool
    assert records[2]["message"] == "3 items at 9.5 (None)"
    assert records[2]["fields"] == {"arg0": 3, "arg1": 9.5, "arg2": None}
    assert type(records[2]["fields"]["arg0"]) is int
    assert records[3]["message"] == "alice logged in from 10.0.0.7"
    assert records[3]["fields"] == {"user": "alice", "ip": "10.0.0.7"}
    assert records[4]["message"] == "both p"
    assert records[4]["fields"] == {"k": "kw", "arg0": "p", "e": 1}


def test_a_template_that_does_not_fit_its_arguments_is_not_an_error(jlog):
    jlog.logger.info("%s and %s", "one")
    jlog.logger.info("%d", "not a number")
    jlog.logger.info("100% done")                 # no arguments: no formatting
    records = jlog.records()
    assert records[0]["message"].startswith("%s and %s <format error: TypeError")
    assert records[0]["fields"] == {"arg0": "one"}
    assert "<format error:" in records[1]["message"]
    assert records[1]["fields"] == {"arg0": "not a number"}
    assert records[2]["message"] == "100% done" and "fields" not in records[2]


class PaymentError(Exception):
    pass


def _raise(exc):
    raise exc


def test_exception_and_exc_info_give_error_fields(jlog):
    log = jlog.logger
    try:
        _raise(ZeroDivisionError("division by zero"))
    except ZeroDivisionError:
        log.exception("with exception()")
        log.error("with exc_info=True", exc_info=True)
        log.warning("a tuple", exc_info=sys.exc_info())
    try:
        _raise(PaymentError("card declined"))
    except PaymentError as e:
        caught = e
    log.error("an instance", exc_info=caught)
    log.error("never raised", exc_info=ValueError("bad value"))
    log.exception("outside an except block")
    log.error("exc_info=False", exc_info=False)
    records = {r["message"]: r for r in jlog.records()}

    for message in ("with exception()", "with exc_info=True", "a tuple"):
        fields = records[message]["fields"]
        assert fields["error.type"] == "ZeroDivisionError"
        assert fields["error.message"] == "division by zero"
        assert fields["error.stack"].startswith("Traceback (most recent call last):")
        assert "_raise" in fields["error.stack"]
        assert fields["error.stack"].endswith("ZeroDivisionError: division by zero")
    assert records["with exception()"]["level"] == "error"
    assert records["a tuple"]["level"] == "warning"
    instance = records["an instance"]["fields"]
    assert instance["error.type"] == f"{__name__}.PaymentError"
    assert instance["error.message"] == "card declined"
    assert "raise exc" in instance["error.stack"]
    never = records["never raised"]["fields"]
    assert never == {"error.type": "ValueError", "error.message": "bad value",
                     "error.stack": "ValueError: bad value"}
    assert "fields" not in records["outside an except block"]
    assert "fields" not in records["exc_info=False"]


# -- presets and magic configs -------------------------------------------------------

def test_for_testing_writes_text_to_stdout(capfd):
    log = HydraLogger.for_testing()
    try:
        assert log.is_enabled_for("debug")
        log.debug("from the testing preset", k=1)
        log.flush()
        out, err = capfd.readouterr()
        line = next(line for line in out.splitlines() if "from the testing preset" in line)
        assert "DEBUG" in line and "k=1" in line
        assert "\x1b[" not in out                  # no colour
        assert "from the testing preset" not in err
    finally:
        log.close()


def test_for_production_writes_its_files_under_log_dir(tmp_path, capfd, read_records):
    log_dir = tmp_path / "prod-logs"
    log = HydraLogger.for_production(log_dir=str(log_dir))
    try:
        assert not log.is_enabled_for("debug")
        log.debug("not at info")
        log.info("served", path="/")
        log.error("failed", code=500)
        log.security("blocked", ip="10.0.0.9")
    finally:
        log.close()
    assert {"app.jsonl", "errors.log", "security.jsonl"} <= {p.name for p in log_dir.iterdir()}
    app = read_records(log_dir / "app.jsonl")
    assert [(r["level"], r["message"]) for r in app] == [("info", "served"), ("error", "failed")]
    errors = (log_dir / "errors.log").read_text(encoding="utf-8").splitlines()
    assert len(errors) == 1 and "failed" in errors[0] and "ERROR" in errors[0]
    security = read_records(log_dir / "security.jsonl")
    assert [(r["layer"], r["message"]) for r in security] == [("SECURITY", "blocked")]
    assert security[0]["fields"]["ip"] == "10.0.0.9"
    assert "served" in capfd.readouterr().out  # and its console


@pytest.mark.parametrize("preset", ["development", "microservice", "web_app", "api_service",
                                    "background_worker", "high_performance", "bare_metal",
                                    "minimal_features"])
def test_every_builtin_preset_builds_and_logs(preset, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)  # presets write under "logs" relative to the cwd
    log = getattr(HydraLogger, f"for_{preset}")()
    try:
        log.info("hello from %s", preset)
        log.flush()
    finally:
        log.close()
    out, err = capfd.readouterr()
    files = [p for p in (tmp_path / "logs").rglob("*") if p.is_file()] \
        if (tmp_path / "logs").exists() else []
    written = out + err + "".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    assert f"hello from {preset}" in written


def test_register_magic_as_a_decorator(tmp_path, loggers, read_records):
    name = unique("svc")

    @HydraLogger.register_magic(name, "JSON lines to a file under log_dir")
    def our_service(log_dir):
        return {"layers": {"APP": {"level": "DEBUG", "destinations": [
            dest(Path(log_dir) / "service.jsonl")]}}}

    assert callable(our_service) and our_service.__name__ == "our_service"
    assert HydraLogger.has_magic_config(name)
    assert HydraLogger.list_magic_configs()[name] == "JSON lines to a file under log_dir"
    assert hydra_logger.list_magic_configs()[name] == "JSON lines to a file under log_dir"

    log = getattr(HydraLogger, f"for_{name}")(log_dir=str(tmp_path / "a"))
    loggers.append(log)
    log.debug("via for_name")
    log.flush()
    other = HydraLogger.for_custom(name, log_dir=str(tmp_path / "b"))
    loggers.append(other)
    other.debug("via for_custom")
    other.flush()
    assert [r["message"] for r in read_records(tmp_path / "a" / "service.jsonl")] == [
        "via for_name"]
    assert [r["message"] for r in read_records(tmp_path / "b" / "service.jsonl")] == [
        "via for_custom"]


def test_register_magic_without_log_dir_and_with_the_module_function(tmp_path, loggers,
                                                                     read_records):
    name = unique("nodir")
    path = tmp_path / "fixed.jsonl"

    @hydra_logger.register_magic(name)
    def fixed():
        """First docstring line is the description.

        More text."""
        return {"layers": {"APP": {"destinations": [dest(path)]}}}

    assert HydraLogger.list_magic_configs()[name] == "First docstring line is the description."
    log = HydraLogger.for_custom(name)
    loggers.append(log)
    log.info("no log_dir argument")
    log.flush()
    assert [r["message"] for r in read_records(path)] == ["no log_dir argument"]


def test_hydra_log_preset_names_the_preset_of_a_plain_hydralogger(tmp_path, monkeypatch, loggers,
                                                                  read_records):
    name = unique("envpreset")

    @HydraLogger.register_magic(name, "for HYDRA_LOG_PRESET")
    def from_env(log_dir):
        return {"layers": {"APP": {"level": "DEBUG", "destinations": [
            dest(Path(log_dir) / "env.jsonl")]}}}

    monkeypatch.setenv("HYDRA_LOG_PRESET", name)
    log = HydraLogger(log_dir=str(tmp_path / "given"))
    loggers.append(log)
    log.debug("preset from the environment")
    log.flush()
    assert [r["message"] for r in read_records(tmp_path / "given" / "env.jsonl")] == [
        "preset from the environment"]

    monkeypatch.setenv("HYDRA_LOG_DIR", str(tmp_path / "from-env-dir"))
    second = HydraLogger()
    loggers.append(second)
    second.debug("log_dir from HYDRA_LOG_DIR")
    second.flush()
    assert [r["message"] for r in read_records(tmp_path / "from-env-dir" / "env.jsonl")] == [
        "log_dir from HYDRA_LOG_DIR"]


def test_for_custom_with_an_unknown_name_is_a_config_error_naming_it():
    missing = unique("no_such_preset")
    with pytest.raises(ConfigError) as info:
        HydraLogger.for_custom(missing)
    assert isinstance(info.value, ValueError)
    assert missing in str(info.value)
    assert "production" in str(info.value)  # and lists the valid names
    with pytest.raises(AttributeError):
        getattr(HydraLogger, f"for_{missing}")


def test_a_preset_returning_a_bad_config_fails_naming_the_key():
    name = unique("badpreset")

    @HydraLogger.register_magic(name)
    def bad():
        return {"layers": {"APP": {"level": "LOUD"}}}

    with pytest.raises(ConfigError, match=r"layers\.APP\.level.*LOUD"):
        HydraLogger.for_custom(name)


# -- configuration dicts and files ---------------------------------------------------

def test_python_v04_schema_with_rotation(tmp_path, loggers, read_records):
    text = tmp_path / "app.log"
    lines = tmp_path / "app.jsonl"
    destinations = [
        {"type": "file", "path": str(text), "format": "plain-text", "max_size": 2048,
         "backup_count": 2},
        {"type": "file", "path": str(lines), "format": "json-lines", "max_size": "1KB",
         "backup_count": 3},
    ]
    log = HydraLogger({"default_level": "INFO",
                       "layers": {"APP": {"level": "DEBUG", "destinations": destinations}}})
    loggers.append(log)
    for i in range(300):
        log.info("record number %d", i)
    log.close()

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "app.jsonl", "app.jsonl.1", "app.jsonl.2", "app.jsonl.3",
        "app.log", "app.log.1", "app.log.2"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 2048, p
    newest = text.read_text(encoding="utf-8").splitlines()
    assert newest[-1].endswith("INFO  [APP] record number 299 arg0=299"), newest[-1]
    numbers = []
    for name in ("app.jsonl.3", "app.jsonl.2", "app.jsonl.1", "app.jsonl"):
        numbers += [r["fields"]["arg0"] for r in read_records(tmp_path / name)]
    assert numbers == list(range(numbers[0], 300))  # the newest, in order, none twice


YAML_CONFIG = """\
default_level: INFO
layers:
  APP:
    level: DEBUG
    destinations:
      - type: file
        path: {path}
        format: json-lines
"""

TOML_CONFIG = """\
default_level = "INFO"
[layers.APP]
level = "DEBUG"
[[layers.APP.destinations]]
type = "file"
path = "{path}"
format = "json-lines"
"""

JSON_CONFIG = """\
{{"layers": {{"APP": {{"level": "DEBUG", "destinations": [
  {{"type": "file", "path": "{path}", "format": "json-lines"}}]}}}}}}
"""


@pytest.mark.parametrize("suffix,template", [(".yaml", YAML_CONFIG), (".toml", TOML_CONFIG),
                                             (".json", JSON_CONFIG)])
def test_a_configuration_file_path(tmp_path, suffix, template, loggers, read_records):
    out = tmp_path / "from-file.jsonl"
    config = tmp_path / f"logging{suffix}"
    config.write_text(template.format(path=out), encoding="utf-8")
    log = HydraLogger(str(config))
    loggers.append(log)
    log.debug("configured by %s", suffix)
    log.flush()
    again = HydraLogger.from_config(config)  # a Path
    loggers.append(again)
    again.info("from_config")
    again.flush()
    assert [r["message"] for r in read_records(out)] == [f"configured by {suffix}", "from_config"]


@pytest.mark.parametrize("config,names", [
    ({"layers": {"APP": {"level": "LOUD"}}}, ["layers.APP.level", "LOUD"]),
    ({"layers": {"APP": {"destinations": [{"type": "file", "path": "x.log", "max_sizee": 1}]}}},
     ["layers.APP.destinations[0].max_sizee", "unknown key"]),
    ({"layers": {"APP": {"destinations": [{"type": "file", "path": "x.log", "max_size": "5XB"}]}}},
     ["layers.APP.destinations[0].max_size", "5XB"]),
    ({"layers": {"APP": {"destinations": [{"type": "async_http", "url": "http://x"}]}}},
     ["layers.APP.destinations[0].type", "async_http"]),
    ({"layers": {"APP": {"destinations": [{"type": "console", "format": "yaml"}]}}},
     ["layers.APP.destinations[0].format", "yaml"]),
    ({"use_colors": True}, ["use_colors", "unknown key"]),
    ({"async": {"queue_capacity": "2GB"}}, ["async.queue_capacity", "out of range"]),
    ({"layers": {"APP": {"destinations": [{"type": "file"}]}}},
     ["layers.APP.destinations[0]", "path"]),
])
def test_a_bad_configuration_is_a_config_error_naming_the_key(config, names):
    with pytest.raises(ConfigError) as info:
        HydraLogger(config)
    assert isinstance(info.value, ValueError)
    for name in names:
        assert name in str(info.value)


def test_bad_configuration_files_and_arguments(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("layers:\n  APP:\n    level: debug\n    colour: red\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml:4: layers\.APP\.colour: unknown key"):
        HydraLogger(str(bad))
    with pytest.raises(ConfigError, match=r"\.ini"):
        HydraLogger(str(tmp_path / "logging.ini"))
    with pytest.raises(ConfigError, match="mode"):
        HydraLogger({"layers": {}}, mode="fast")
    with pytest.raises(ConfigError, match="config must be a dict"):
        HydraLogger(42)


# -- levels at run time ----------------------------------------------------------

def test_set_level_at_runtime(tmp_path, loggers, read_records):
    log = HydraLogger({"layers": {
        "APP": {"level": "INFO", "destinations": [dest(tmp_path / "app.jsonl")]},
        "DATABASE": {"level": "DEBUG", "destinations": [dest(tmp_path / "db.jsonl")]},
    }})
    loggers.append(log)
    view = log.layer("DATABASE")
    log.debug("dropped")
    view.info("db info 1")
    log.set_level("DEBUG")                      # the default layer
    log.setLevel("ERROR", layer="DATABASE")
    log.debug("now written")
    view.info("db info dropped")
    view.error("db error")
    log.set_level(logging.WARNING)              # a stdlib number
    log.info("dropped again")
    log.warning("warning written")
    log.flush()
    assert [r["message"] for r in read_records(tmp_path / "app.jsonl")] == [
        "now written", "warning written"]
    assert [r["message"] for r in read_records(tmp_path / "db.jsonl")] == ["db info 1", "db error"]


def test_is_enabled_for(tmp_path, loggers):
    log = HydraLogger({"layers": {
        "APP": {"level": "WARNING", "destinations": [dest(tmp_path / "app.jsonl")]},
        "DATABASE": {"level": "DEBUG", "destinations": [dest(tmp_path / "db.jsonl")]},
    }})
    loggers.append(log)
    assert not log.is_enabled_for("info")
    assert log.is_enabled_for("WARNING") and log.isEnabledFor("error")
    assert log.is_enabled_for(logging.ERROR) and not log.is_enabled_for(logging.INFO)
    assert log.is_enabled_for("debug", layer="DATABASE")
    assert log.layer("DATABASE").is_enabled_for("debug")
    assert not log.layer("APP").is_enabled_for("info")
    log.set_level("info")
    assert log.is_enabled_for("info")
    with pytest.raises(ValueError, match="chatty"):
        log.is_enabled_for("chatty")


# -- close, metrics, sync mode ------------------------------------------------------

def test_calls_after_close_are_ignored(tmp_path, read_records):
    path = tmp_path / "app.jsonl"
    log = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [dest(path)]}}})
    view = log.bind(k=1)
    layer_view = log.layer("OTHER")
    log.info("before close")
    log.close()
    assert log.closed
    before = path.read_bytes()
    assert [r["message"] for r in read_records(path)] == ["before close"]

    log.info("after close")
    log.info("after close %s", "with args", extra={"e": 1})
    log.warning("DATABASE", "old style after close")
    log.log("error", "log() after close")
    log.security("security after close")
    try:
        raise RuntimeError("x")
    except RuntimeError:
        log.exception("exception after close")
    view.info("view after close")
    layer_view.error("layer view after close")
    assert not log.is_enabled_for("critical")
    log.set_level("debug")
    log.debug("debug after set_level after close")
    log.flush()
    log.close()                                 # twice: nothing
    log.shutdown()
    assert log.get_performance_metrics()["records"] == 1
    health = log.get_health_status()
    assert health["closed"] and not health["healthy"]
    assert path.read_bytes() == before

    with HydraLogger({"layers": {"APP": {"destinations": [dest(tmp_path / "w.jsonl")]}}}) as ctx:
        ctx.info("in a with block")
    assert ctx.closed
    assert [r["message"] for r in read_records(tmp_path / "w.jsonl")] == ["in a with block"]


def test_performance_metrics_count_records(make_logger):
    jl = make_logger(level="INFO")
    log = jl.logger
    for i in range(5):
        log.info("info %d", i)
    for i in range(3):
        log.debug("disabled %d", i)
    log.warning("w1")
    log.error("e1", layer="APP")
    log.flush()
    metrics = log.get_performance_metrics()
    assert metrics["records"] == 7
    assert metrics["write_errors"] == 0 and metrics["sink_dropped_records"] == 0
    assert metrics["async"]["enabled"] is True
    assert metrics["async"]["records_in"] == metrics["async"]["records_out"] == 7
    assert metrics["async"]["dropped"] == 0
    health = log.get_health_status()
    assert health["healthy"] is True and health["records"] == 7 and health["lost"] == 0
    assert log.health()["healthy"]
    assert isinstance(log.insights(), str)
    assert len(jl.records()) == 7


def test_sync_mode_writes_before_the_call_returns(tmp_path, capfd, loggers, read_records):
    log = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [
        {"type": "console", "format": "json-lines"}]}}}, mode="sync")
    loggers.append(log)
    assert log.get_performance_metrics()["async"]["enabled"] is False
    capfd.readouterr()
    log.info("written by the caller", n=1)
    out = capfd.readouterr().out          # no flush(): the call wrote it
    assert '"message":"written by the caller"' in out and '"n":1' in out

    # A file is buffered, but in sync mode an error record (its flush_level)
    # reaches the file before the call returns, with what was buffered before it.
    path = tmp_path / "sync.jsonl"
    filed = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [dest(path)]}}},
                        mode="sync")
    loggers.append(filed)
    filed.info("buffered")
    filed.error("flushes the file")
    assert [r["message"] for r in read_records(path)] == ["buffered", "flushes the file"]


def test_async_hydra_logger_coroutines_and_graceful_shutdown(tmp_path, read_records):
    path = tmp_path / "async.jsonl"
    layers = {"APP": {"level": "DEBUG", "destinations": [dest(path)]},
              "SECURITY": {"destinations": [dest(path)]},
              "AUDIT": {"destinations": [dest(path)]},
              "COMPLIANCE": {"destinations": [dest(path)]}}

    async def main():
        log = AsyncHydraLogger({"layers": layers})
        await log.adebug("adebug")
        await log.ainfo("ainfo %s", "x", k=1)
        await log.awarning("awarning")
        await log.aerror("aerror")
        await log.acritical("acritical")
        await log.asecurity("asecurity")
        await log.aaudit("aaudit")
        await log.acompliance("acompliance")
        await log.alog("info", "alog")
        log.info("a plain call in a coroutine")
        await log.aflush()
        flushed = [r["message"] for r in read_records(path)]
        assert await log.graceful_shutdown(timeout=30) is True
        assert log.closed
        await log.ainfo("after shutdown")
        return flushed

    flushed = asyncio.run(asyncio.wait_for(main(), 60))
    records = read_records(path)
    assert [r["message"] for r in records] == flushed == [
        "adebug", "ainfo x", "awarning", "aerror", "acritical", "asecurity", "aaudit",
        "acompliance", "alog", "a plain call in a coroutine"]
    assert [r["level"] for r in records][:5] == ["debug", "info", "warning", "error", "critical"]
    assert records[1]["fields"] == {"k": 1, "arg0": "x"}

    async def with_block():
        async with AsyncHydraLogger({"layers": {"APP": {"destinations": [
                dest(tmp_path / "ctx.jsonl")]}}}) as log:
            await log.ainfo("in async with")
        return log

    log = asyncio.run(asyncio.wait_for(with_block(), 60))
    assert log.closed
    assert [r["message"] for r in read_records(tmp_path / "ctx.jsonl")] == ["in async with"]


# -- getLogger and views -------------------------------------------------------------

@pytest.fixture
def default_logger(tmp_path):
    """A logger with APP and DATABASE layers as the process's default logger."""
    log = HydraLogger({"layers": {
        "APP": {"level": "DEBUG", "destinations": [dest(tmp_path / "app.jsonl")]},
        "DATABASE": {"level": "DEBUG", "destinations": [dest(tmp_path / "db.jsonl")]},
    }})
    previous = hydra_logger._default
    hydra_logger.set_default_logger(log)
    try:
        yield log
    finally:
        hydra_logger.set_default_logger(previous)
        log.close()


def test_getlogger_routes_to_the_layer_named(default_logger, tmp_path, read_records):
    assert hydra_logger.default_logger() is default_logger
    db = hydra_logger.getLogger("DATABASE")
    assert db.name == "DATABASE"
    db.info("through getLogger", rows=3)
    hydra_logger.get_logger("DATABASE").debug("through get_logger")
    hydra_logger.getLogger().info("no name: the default layer")
    db.flush()
    db_records = read_records(tmp_path / "db.jsonl")
    assert [(r["layer"], r["message"]) for r in db_records] == [
        ("DATABASE", "through getLogger"), ("DATABASE", "through get_logger")]
    assert db_records[0]["fields"] == {"rows": 3}
    assert [(r["layer"], r["message"]) for r in read_records(tmp_path / "app.jsonl")] == [
        ("APP", "no name: the default layer")]


def test_bind_views_add_fields_and_keep_the_parent_unchanged(jlog):
    log = jlog.logger
    request = log.bind(request_id="r-1", user="alice")
    request.info("bound")
    request.info("call wins", user="bob")
    request.bind(step=2).warning("nested view")
    request.info("%s args", "with", extra={"e": 1})
    log.info("parent unchanged")
    log.layer("APP").bind(v=1).debug("layer view bound")
    records = jlog.records()
    assert records[0]["fields"] == {"request_id": "r-1", "user": "alice"}
    assert records[1]["fields"] == {"user": "bob", "request_id": "r-1"}
    assert records[2]["fields"] == {"request_id": "r-1", "user": "alice", "step": 2}
    assert records[3]["message"] == "with args"
    assert records[3]["fields"] == {"arg0": "with", "e": 1, "request_id": "r-1", "user": "alice"}
    assert "fields" not in records[4]
    assert records[5]["fields"] == {"v": 1} and records[5]["level"] == "debug"


# -- keyword names, presets and files with name= and mode= -----------------------------

def test_a_field_named_message_works_on_every_path(jlog):
    log = jlog.logger
    log.info("first call of the layer", message="a field")        # the Python path
    log.info("%s", "with an argument", message="a field")        # the Python path
    records = jlog.records()
    assert [r["fields"]["message"] for r in records] == ["a field"] * 2


def test_a_field_named_message_works_on_the_fast_path(jlog):
    # The same call once the layer is cached (the native path) agrees.
    log = jlog.logger
    log.info("warm the layer cache")
    log.info("fast path", message="a field")
    assert jlog.records()[1]["fields"] == {"message": "a field"}


def test_a_preset_with_a_logger_name(tmp_path, loggers):
    log = HydraLogger.for_production(name="shop", log_dir=str(tmp_path))
    loggers.append(log)
    assert log.name == "shop"


def test_preset_and_name_together(loggers):
    log = HydraLogger(preset="testing", name="shop")
    loggers.append(log)
    assert log.name == "shop"
    assert log.is_enabled_for("debug"), "the testing preset logs at debug"


def test_name_and_mode_with_a_configuration_file(tmp_path, loggers):
    config = tmp_path / "logging.toml"
    config.write_text(TOML_CONFIG.format(path=tmp_path / "x.jsonl"), encoding="utf-8")
    log = HydraLogger(str(config), name="shop", mode="async")
    loggers.append(log)
    assert log.name == "shop"
    assert log.get_performance_metrics()["async"]["enabled"] is True

