"""hydra-bridge over a real NATS JetStream: a process (tests/bridge/app)
publishes with its `nats` destination, hydra-bridge serves the stream, and
the Python client (clients/python) reads it. A restarted hydra-bridge
resumes its clients from JetStream with no missing seq; two bridges give the
same numbers; a viewer sees only its tenant's records.

Run by ctest (bridge.hydra_bridge_jetstream) with HYDRA_BRIDGE_APP,
HYDRA_BRIDGE_BIN and PYTHONPATH set."""
import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from bridge_helpers import App, run, WAIT
from hydra_bridge import BridgeClient, Gap, Record

APP = os.environ.get("HYDRA_BRIDGE_APP", "")
BIN = os.environ.get("HYDRA_BRIDGE_BIN", "")
NATS = shutil.which("nats-server")

pytestmark = pytest.mark.skipif(
    not (APP and BIN and NATS and os.path.exists(APP) and os.path.exists(BIN)),
    reason="needs HYDRA_BRIDGE_APP, HYDRA_BRIDGE_BIN and nats-server")


class Nats:
    def __init__(self, workdir):
        self.log = Path(workdir) / "nats.log"
        self.proc = subprocess.Popen(
            [NATS, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", str(Path(workdir) / "js"),
             "-l", str(self.log)])
        deadline = time.monotonic() + 20
        self.url = None
        while self.url is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("nats-server did not start: " + self._log())
            m = re.search(r"Listening for client connections on (127\.0\.0\.1:\d+)", self._log())
            if m and "Server is ready" in self._log():
                self.url = "nats://" + m.group(1)
            else:
                time.sleep(0.05)  # polling a log file for readiness, not waiting on a result

    def _log(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class HydraBridge:
    """hydra-bridge reading `stream` at `nats_url`."""

    def __init__(self, nats_url, stream, listen="127.0.0.1:0", extra=()):
        self.proc = subprocess.Popen(
            [BIN, "--nats", nats_url, "--stream", stream, "--listen", listen,
             "--set", "batch_window=50ms", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"hydra-bridge did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()


def app_config(workdir, nats_url, tenant="acme"):
    return f"""
[layers.DEFAULT]
level = "debug"
[[layers.DEFAULT.destinations]]
type = "bridge"
listen = "127.0.0.1:0"
[[layers.DEFAULT.destinations]]
type = "nats"
url = "{nats_url}"
stream = "HYDRA_LOGS"
tenant = "{tenant}"
service = "shop"
linger = "10ms"
[[layers.DEFAULT.destinations]]
type = "file"
path = "{workdir}/app.jsonl"
format = "json"
"""


async def collect(client, want, timeout=WAIT):
    """Records (and gaps) until `want(records, gaps)` holds."""
    records, gaps = [], []
    deadline = time.monotonic() + timeout
    while not want(records, gaps):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out with {len(records)} records and gaps {gaps}")
        try:
            item = await client.next_event(timeout=left)
        except asyncio.TimeoutError:
            continue
        (gaps if isinstance(item, Gap) else records).append(item)
    return records, gaps


@pytest.fixture
def env():
    workdir = tempfile.mkdtemp(prefix="hydra-bridge-test-")
    nats = Nats(workdir)
    app = App(APP, workdir, app_config(workdir, nats.url))
    yield workdir, nats, app
    app.stop()
    nats.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def test_records_carry_the_jetstream_seq_and_a_restarted_bridge_resumes(env):
    workdir, nats, app = env

    async def body():
        await app.burst(100, "APP")
        await app.flush()
        first = HydraBridge(nats.url, "HYDRA_LOGS")
        port = first.port
        try:
            client = BridgeClient(first.ws_url, backlog=1000, backoff_base=0.05, backoff_cap=0.5)
            await client.connect()
            await client.subscribe({}, id="all")
            records, gaps = await collect(client, lambda r, g: len(r) >= 100)
            assert gaps == []
            assert [r.seq for r in records] == list(range(1, 101)), "JetStream's sequence"
            r = records[42]
            assert (r.stream, r.tenant, r.service, r.layer) == ("HYDRA_LOGS", "acme", "shop", "APP")
            assert r.message == "burst 42" and r.fields["i"] == 42
        finally:
            first.stop()
        # Logged while no bridge runs; the new one, on the same port, reads
        # them from JetStream, and the client resumes at 101.
        await app.burst(50, "APP")
        await app.flush()
        second = HydraBridge(nats.url, "HYDRA_LOGS", listen=f"127.0.0.1:{port}")
        try:
            records, gaps = await collect(client, lambda r, g: len(r) >= 50)
            assert gaps == [], "a restarted hydra-bridge resumes from JetStream"
            assert [r.seq for r in records] == list(range(101, 151))
            assert client.reconnects >= 1
            await client.close()
        finally:
            second.stop()

    run(body())


def test_two_bridges_give_the_same_numbers(env):
    workdir, nats, app = env

    async def body():
        a = HydraBridge(nats.url, "HYDRA_LOGS")
        b = HydraBridge(nats.url, "HYDRA_LOGS")
        try:
            ca = BridgeClient(a.ws_url)
            cb = BridgeClient(b.ws_url)
            await ca.connect()
            await cb.connect()
            await ca.subscribe({"fields": {"i": 7}}, id="s")
            await cb.subscribe({"fields": {"i": 7}}, id="s")
            await app.burst(20, "APP", "warning")
            await app.flush()
            ra, _ = await collect(ca, lambda r, g: len(r) >= 1)
            rb, _ = await collect(cb, lambda r, g: len(r) >= 1)
            assert ra[0].seq == rb[0].seq and ra[0].message == "burst 7"
            await ca.close()
            await cb.close()
        finally:
            a.stop()
            b.stop()

    run(body())


def test_a_viewer_sees_only_its_tenants_records(env):
    workdir, nats, app = env
    keys = {"acme": "acme-key", "globex": "globex-key"}
    api = ",".join(f"viewer:{t}:{hashlib.sha256(k.encode()).hexdigest()}" for t, k in keys.items())

    async def body():
        bridge = HydraBridge(nats.url, "HYDRA_LOGS", extra=["--set", f"api_keys={api}"])
        try:
            acme = BridgeClient(bridge.ws_url, token="acme-key")
            globex = BridgeClient(bridge.ws_url, token="globex-key")
            await acme.connect()
            await globex.connect()
            await acme.subscribe({}, id="s")
            await globex.subscribe({}, id="s")
            await app.log("APP", "error", "acme only")
            await app.flush()
            got, _ = await collect(acme, lambda r, g: len(r) >= 1)
            assert got[0].message == "acme only"
            # globex heard the same heartbeats and batches, and no record:
            # a ping round trip after acme got it shows none was queued.
            await globex.ping()
            assert globex.pending_events() == 0
            await acme.close()
            await globex.close()
        finally:
            bridge.stop()

    run(body())
