"""What the tests share: running a coroutine, the app under test
(hydra_bridge_app, driven over stdin), its configuration file, reading its
JSON file destination, and collecting what a client receives until a
condition holds (never a fixed sleep)."""
import asyncio
import json
import os
import queue
import re
import subprocess
import threading
import time
from pathlib import Path

from hydra_bridge import Gap, Record

# Waits are generous so that a loaded machine (2 cores, a C++ build beside)
# passes; they only cost time when something is wrong.
WAIT = 10.0


def run(coro, timeout=120):
    """Runs a test's coroutine (pytest-asyncio is not used)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


# -- configuration --------------------------------------------------------

def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def make_config(log_path, bridge=None, top=None):
    """The app's configuration: DEFAULT layer at debug with a bridge
    destination (listen 127.0.0.1:0, batch_window 50ms, plus `bridge`) and a
    JSON file destination at log_path; `top` adds top-level keys."""
    lines = []
    for key, value in (top or {}).items():
        lines.append(f"{key} = {toml_value(value)}")
    options = {"type": "bridge", "listen": "127.0.0.1:0", "batch_window": "50ms"}
    options.update(bridge or {})
    lines += ["", "[layers.DEFAULT]", 'level = "debug"', "",
              "[[layers.DEFAULT.destinations]]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in options.items()]
    lines += ["", "[[layers.DEFAULT.destinations]]", 'type = "file"',
              f"path = {toml_value(str(log_path))}", 'format = "json"', ""]
    return "\n".join(lines)


# -- the app --------------------------------------------------------------

LISTENING = re.compile(r"listening ((https?)://127\.0\.0\.1:(\d+))/?\s*$")


class App:
    """hydra_bridge_app running `config_text`; cmd() sends one command and
    waits for its `ok`."""

    def __init__(self, exe, workdir, config_text, start_timeout=20):
        self.workdir = Path(workdir)
        self.config_path = self.workdir / "bridge.toml"
        self.config_path.write_text(config_text)
        self.config_text = config_text
        self.stderr_path = self.workdir / "app.stderr"
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [exe, str(self.config_path)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, bufsize=1,
            cwd=str(self.workdir))
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self._lock = threading.Lock()
        self.port = None
        skipped = []
        deadline = time.monotonic() + start_timeout
        while self.port is None:
            line = self._next_line(deadline - time.monotonic(),
                                   "the `listening http://127.0.0.1:<port>/` line")
            match = LISTENING.search(line.strip())
            if match:
                self.http_url = match.group(1)
                self.tls = match.group(2) == "https"
                self.port = int(match.group(3))
            else:
                skipped.append(line)
        scheme = "wss" if self.tls else "ws"
        self.ws_url = f"{scheme}://127.0.0.1:{self.port}/ws"
        self.startup_lines = skipped

    def _read_stdout(self):
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def stderr_text(self, limit=4000):
        try:
            if not self._stderr.closed:  # (stop() closes it)
                self._stderr.flush()
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return text[-limit:]

    def fail(self, what):
        status = self.proc.poll()
        state = "running" if status is None else f"exited with status {status}"
        raise AssertionError(f"{what} (hydra_bridge_app {state})\n"
                             f"--- config ---\n{self.config_text}\n"
                             f"--- app stderr (tail) ---\n{self.stderr_text()}")

    def _next_line(self, timeout, waiting_for):
        try:
            line = self._lines.get(timeout=max(timeout, 0.01))
        except queue.Empty:
            self.fail(f"timed out after {timeout:.0f} s waiting for {waiting_for}")
        if line is None:
            self._lines.put(None)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            self.fail(f"the app closed its stdout while we waited for {waiting_for}")
        return line

    def cmd(self, line, timeout=60):
        """Sends one command line and waits for `ok`."""
        with self._lock:
            if self.proc.poll() is not None:
                self.fail(f"the app is not running (command {line!r})")
            try:
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.fail(f"could not write command {line!r}")
            reply = self._next_line(timeout, f"`ok` for command {line!r}")
            if reply.strip() != "ok":
                self.fail(f"command {line!r} answered {reply!r}, not `ok`")

    async def acmd(self, line, timeout=60):
        """cmd() without blocking the event loop (clients keep reading)."""
        await asyncio.to_thread(self.cmd, line, timeout)

    async def log(self, layer, level, message):
        await self.acmd(f"log {layer} {level} {message}")

    async def burst(self, count, layer, level="info"):
        await self.acmd(f"burst {count} {layer} {level}", timeout=120)

    async def flush(self):
        await self.acmd("flush")

    def file_lines(self):
        path = self.workdir / "app.jsonl"
        if not path.exists():
            return []
        return path.read_text(errors="replace").splitlines()

    def file_records(self):
        """The JSON file destination's records, each with `_fields`: its
        `fields` object merged with any keys the format put at top level."""
        out = []
        for line in self.file_lines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"a line of the file destination is not JSON: {line!r}")
            record["_fields"] = file_fields(record)
            out.append(record)
        return out

    def stop(self, timeout=10):
        """quit, then kill after `timeout` s; returns the exit status (None
        when it had to be killed)."""
        killed = False
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                killed = True
        self._stderr.close()
        return None if killed else self.proc.returncode


FILE_RECORD_KEYS = {"timestamp", "time", "level", "layer", "logger", "message",
                    "fields", "source", "thread", "severity"}


def file_fields(record):
    fields = {k: v for k, v in record.items()
              if k not in FILE_RECORD_KEYS and not k.startswith("_")}
    fields.update(record.get("fields") or {})
    return fields


# -- what a client receives -------------------------------------------------

def describe(items, limit=12):
    """A short account of received items, for assertion messages."""
    parts = []
    for item in items[:limit]:
        if isinstance(item, Record):
            parts.append(f"record seq={item.seq} {item.layer}/{item.level} "
                         f"{item.message!r} sub={item.sub}")
        elif isinstance(item, Gap):
            parts.append(f"gap {item.reason} {item.from_seq}..{item.to_seq} "
                         f"count={item.count} stream={item.stream}")
        else:
            parts.append(repr(item))
    more = f" ... and {len(items) - limit} more" if len(items) > limit else ""
    return "[" + "; ".join(parts) + more + "]" if parts else "nothing"


async def collect(client, done, what, timeout=WAIT, items=None):
    """Takes Records and Gaps from `client` until done(items) is true; fails
    naming `what` (the frame expected) after `timeout` s without it."""
    items = [] if items is None else items
    deadline = time.monotonic() + timeout
    while not done(items):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what}; received "
                f"{describe(items)}; client errors {client.errors}")
        try:
            items.append(await client.next_event(left))
        except asyncio.TimeoutError:
            pass
    return items


class Accounted:
    """done() for collect(): true once the records received plus the gaps'
    counts reach `total` (counted incrementally: collect calls it after
    every item)."""

    def __init__(self, total):
        self.total = total
        self.seen = 0
        self.records = 0
        self.gap_counts = 0

    def __call__(self, items):
        for item in items[self.seen:]:
            if isinstance(item, Record):
                self.records += 1
            elif isinstance(item, Gap):
                self.gap_counts += item.count or 0
        self.seen = len(items)
        return self.records + self.gap_counts >= self.total


def records_of(items, layer=None):
    return [i for i in items if isinstance(i, Record)
            and (layer is None or i.layer == layer)]


def gaps_of(items):
    return [i for i in items if isinstance(i, Gap)]


def has_message(message):
    return lambda items: any(isinstance(i, Record) and i.message == message
                             for i in items)


async def wait_file(app, done, what, timeout=WAIT, poll=False):
    """flush, then check the file records with done(records). `flush`
    promises that everything logged before it is in the file, so one flush
    must do; with poll (for what the bridge logs on its own, at a time the
    test cannot know) flush again until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        await app.flush()
        records = app.file_records()
        if done(records):
            return records
        if not poll or time.monotonic() > deadline:
            raise AssertionError(
                f"{what} is not in the file destination after `flush`"
                f"{f' (polled for {timeout:g} s)' if poll else ''}; its last "
                f"lines: {app.file_lines()[-8:]}")
        await asyncio.sleep(0.1)
