"""Shared helpers of the framework-integration tests: a Hydra logger writing
JSON lines to a file in tmp_path, and reading its records back."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

import hydra_logger
from hydra_logger import HydraLogger

HERE = Path(__file__).resolve().parent
# The Celery worker app module lives here; the record helpers one level up.
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from jsonl_records import RecordQueries, no_duplicate_keys  # noqa: E402


def file_logger_config(path: os.PathLike, level: str = "DEBUG") -> Dict[str, Any]:
    """A one-layer (APP) configuration writing JSON lines to ``path``."""
    return {"layers": {"APP": {"level": level, "destinations": [
        {"type": "file", "path": str(path), "format": "json-lines"}]}}}


def make_file_logger(path: os.PathLike, level: str = "DEBUG") -> HydraLogger:
    return HydraLogger(file_logger_config(path, level))


def read_records(path: os.PathLike, strict: bool = True) -> List[Dict[str, Any]]:
    """The JSON objects of a JSON-lines file (none if it does not exist).
    Flush the logger first. ``strict``: fail on a key written twice in an
    object (the integrations must never bind a field the context has)."""
    p = Path(path)
    if not p.exists():
        return []
    hook = no_duplicate_keys if strict else None
    with p.open(encoding="utf-8") as f:
        return [json.loads(line, object_pairs_hook=hook) for line in f if line.strip()]


class LogFile(RecordQueries):
    """A file logger and its records: ``records()`` flushes, then reads."""

    def __init__(self, path: Path, level: str = "DEBUG") -> None:
        self.path = path
        self.logger = make_file_logger(path, level)

    def records(self) -> List[Dict[str, Any]]:
        self.logger.flush()
        return read_records(self.path)

    def lines(self) -> List[str]:
        """The raw JSON lines (to see what a parser that keeps duplicate keys would)."""
        self.logger.flush()
        return self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []


def access_records(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The access records (those with a status code)."""
    return [r for r in records if "http.response.status_code" in r["fields"]]


@pytest.fixture
def logfile(tmp_path: Path) -> Iterator[LogFile]:
    lf = LogFile(tmp_path / "app.jsonl")
    try:
        yield lf
    finally:
        lf.close()


@pytest.fixture
def default_logfile(logfile: LogFile) -> Iterator[LogFile]:
    """``logfile`` as the process's default logger for the test."""
    previous = hydra_logger._default
    hydra_logger.set_default_logger(logfile.logger)
    try:
        yield logfile
    finally:
        hydra_logger.set_default_logger(previous)  # type: ignore[arg-type]


@pytest.fixture
def read_jsonl():
    """The read_records function, for files other processes wrote."""
    return read_records


@pytest.fixture
def new_logfile(tmp_path: Path) -> Iterator[Any]:
    """A factory of extra LogFiles in tmp_path (closed at the end)."""
    made: List[LogFile] = []

    def make(name: str, level: str = "DEBUG") -> LogFile:
        lf = LogFile(tmp_path / name, level)
        made.append(lf)
        return lf

    try:
        yield make
    finally:
        for lf in made:
            lf.close()


# -- subprocesses (redis-server, a Celery worker, uvicorn) ---------------------

class Processes:
    """Starts subprocesses and stops every one of them at the test's end."""

    def __init__(self) -> None:
        self._procs: List[subprocess.Popen] = []

    @staticmethod
    def free_port() -> int:
        """A TCP port free on 127.0.0.1 (now; the caller binds it next)."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start(self, argv: List[str], **popen: Any) -> subprocess.Popen:
        proc = subprocess.Popen(argv, **popen)
        self._procs.append(proc)
        return proc

    @staticmethod
    def wait_for_output(proc: subprocess.Popen, needle: str, timeout: float = 30) -> str:
        """Reads proc.stdout (a pipe) until ``needle`` shows; returns what was
        read. Fails if the process exits or ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        buffer = b""
        while needle.encode() not in buffer:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(0.0, left))[0] if left > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"{needle!r} not seen in the output of {proc.args}:\n"
                                     + buffer.decode(errors="replace"))
            buffer += chunk
        return buffer.decode(errors="replace")

    @staticmethod
    def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Sends ``sig`` and waits; kills the process if it outlives ``timeout``."""
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def stop_all(self) -> None:
        for proc in reversed(self._procs):
            try:
                self.stop(proc)
            finally:
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()
