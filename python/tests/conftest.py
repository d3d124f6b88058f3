"""Shared helpers of the core suites (test_api, test_context, test_deadlock,
test_fork, test_hostile, test_handler): a HydraLogger writing JSON lines to a
file in tmp_path, reading its records back (failing on a key written twice),
and running a Python snippet in a child process with a bound.

Every wait in these suites is bounded; no test synchronises with a sleep:
``log.flush()`` returns once everything logged before it is written, and
the files are read after it.

Run: PYTHONPATH=BUILD/python /usr/bin/python3 -m pytest -q python/tests
--ignore=python/tests/integrations
"""

from __future__ import annotations

import faulthandler
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

import hydra_logger
from hydra_logger import HydraLogger
from jsonl_records import RecordQueries, no_duplicate_keys

TESTS_DIR = Path(__file__).resolve().parent

# The directory holding the hydra_logger package that is imported here (the
# build tree's, where the .py files are symbolic links: not resolved, or the
# extension module next to them would be lost). Child processes get it.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(hydra_logger.__file__)))

# A test that runs past this is stopped with every thread's stack on stderr
# (a deadlock must fail the run, not hang it). Each suite bounds its own waits
# far below it.
WATCHDOG_SECONDS = 120


# -- configurations ------------------------------------------------------------

def file_destination(path: os.PathLike, fmt: str = "json-lines", **options: Any) -> Dict[str, Any]:
    """A file destination in the Python Hydra-Logger's v0.4 schema."""
    return {"type": "file", "path": str(path), "format": fmt, **options}


def json_config(path: os.PathLike, level: str = "DEBUG", layer: str = "APP",
                **top: Any) -> Dict[str, Any]:
    """A one-layer configuration writing JSON lines to ``path``; ``top`` adds
    top-level keys (``mode``, ``async``, more ``layers`` are not merged)."""
    return {"layers": {layer: {"level": level, "destinations": [file_destination(path)]}},
            **top}


# -- reading records -------------------------------------------------------------

def read_records(path: os.PathLike, strict: bool = True) -> List[Dict[str, Any]]:
    """The JSON objects of a JSON-lines file, one per line (none if the file
    does not exist). Flush the logger first. Fails on a line that is not one
    JSON object, on invalid UTF-8, and (``strict``) on a key written twice in
    an object."""
    p = Path(path)
    if not p.exists():
        return []
    hook = no_duplicate_keys if strict else None
    records = []
    with p.open(encoding="utf-8", newline="\n") as f:  # strict UTF-8; only \n ends a line
        for number, line in enumerate(f, 1):
            assert line.endswith("\n"), f"{p}:{number}: the last line is not terminated"
            record = json.loads(line, object_pairs_hook=hook)
            assert isinstance(record, dict), f"{p}:{number}: not an object: {line[:200]!r}"
            records.append(record)
    return records


class JsonLog(RecordQueries):
    """A HydraLogger writing JSON lines to ``path``, and its records."""

    def __init__(self, logger: HydraLogger, path: Path) -> None:
        self.logger = logger
        self.path = path

    def records(self, strict: bool = True) -> List[Dict[str, Any]]:
        """Flushes, then reads every record."""
        self.logger.flush()
        return read_records(self.path, strict)


@pytest.fixture(name="read_records")
def _read_records_fixture():
    """read_records(path, strict=True), for the suites (a test module must not
    import conftest: python/tests/integrations has one of the same name)."""
    return read_records


@pytest.fixture
def make_logger(tmp_path: Path) -> Iterator[Any]:
    """A factory: make_logger(name="app.jsonl", level="DEBUG", layer="APP",
    mode=None, **top) -> JsonLog writing JSON lines to tmp_path/name. Every
    logger it made is closed at the end of the test."""
    made: List[JsonLog] = []

    def make(name: str = "app.jsonl", level: str = "DEBUG", layer: str = "APP",
             mode: Optional[str] = None, **top: Any) -> JsonLog:
        path = tmp_path / name
        logger = HydraLogger(json_config(path, level, layer, **top), mode=mode)
        jl = JsonLog(logger, path)
        made.append(jl)
        return jl

    try:
        yield make
    finally:
        for jl in made:
            jl.close()


@pytest.fixture
def jlog(make_logger: Any) -> JsonLog:
    """An async logger (the default) with one layer, APP at DEBUG, writing
    JSON lines to tmp_path/app.jsonl."""
    return make_logger()


# -- child processes ---------------------------------------------------------------

def child_env(**extra: str) -> Dict[str, str]:
    """The environment for a child Python: this one's, without HYDRA_LOG_*,
    with PYTHONPATH leading to this hydra_logger and to the tests' directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_LOG_")}
    env["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT, str(TESTS_DIR)])
    env.setdefault("PYTHONFAULTHANDLER", "1")
    env.update(extra)
    return env


def run_python(code: str, *args: str, timeout: float = 60,
               cwd: Optional[os.PathLike] = None,
               env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Runs ``code`` in a child Python (this interpreter) with ``args`` as
    sys.argv[1:]; kills it and fails the test if it outlives ``timeout``."""
    argv = [sys.executable, "-c", code, *args]
    try:
        return subprocess.run(argv, cwd=cwd, env=env or child_env(), capture_output=True,
                              text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:  # run() killed it
        pytest.fail(f"the child process did not finish within {timeout} s (a deadlock?)\n"
                    f"stdout:\n{e.stdout}\nstderr:\n{e.stderr}")


def assert_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, (
        f"child exited with {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")


@pytest.fixture(name="run_python")
def _run_python_fixture():
    return run_python


@pytest.fixture(name="assert_ok")
def _assert_ok_fixture():
    return assert_ok


# -- isolation ---------------------------------------------------------------------

def _in_core_suites(request: pytest.FixtureRequest) -> bool:
    # These autouse fixtures are for this directory's suites, not for the
    # integrations' (python/tests/integrations), which are someone else's.
    return Path(str(request.node.fspath)).resolve().parent == TESTS_DIR


@pytest.fixture(autouse=True)
def _no_hydra_environment(request: pytest.FixtureRequest,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """HYDRA_LOG_* variables of the shell running the tests would change the
    loggers built here (levels, formats, presets): none for the test."""
    if _in_core_suites(request):
        for name in list(os.environ):
            if name.startswith("HYDRA_LOG_"):
                monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _watchdog(request: pytest.FixtureRequest) -> Iterator[None]:
    """A hung test ends the run after WATCHDOG_SECONDS with every thread's
    stack, instead of hanging it."""
    if not _in_core_suites(request):
        yield
        return
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
