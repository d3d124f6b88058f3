"""Records from the app to subscribed clients: delivery, filters, sampling,
resume, gaps (evicted, restart, slow_client), heartbeats, reconnection.
Needs hydra_bridge_app (HYDRA_BRIDGE_APP)."""
import asyncio
import re
import time

import websockets

from hydra_bridge import BridgeClient, Gap, Record

from bridge_helpers import (WAIT, Accounted, collect, describe, gaps_of,
                            has_message, records_of, run)

STREAM_NAME = re.compile(r".+/[0-9a-f]{16}")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def assert_contiguous(records, first=None, what="records"):
    seqs = [r.seq for r in records]
    if first is not None and seqs:
        assert seqs[0] == first, (
            f"{what}: the first seq is {seqs[0]}, expected {first} (the one after "
            f"the cursor); received {describe(records)}")
    for a, b in zip(seqs, seqs[1:]):
        assert b == a + 1, f"{what}: seq {a} is followed by {b}, not {a + 1}"


def test_a_logged_record_reaches_a_subscriber(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            welcome = c.welcome
            assert welcome.get("protocol") == 1, f"welcome: {welcome}"
            assert c.subprotocol == "hydra.v1", (
                f"the bridge answered subprotocol {c.subprotocol!r}, not hydra.v1")
            assert isinstance(welcome.get("heartbeat_ms"), int) and welcome["heartbeat_ms"] > 0
            assert welcome.get("role") == "admin", (
                f"an open bridge makes every client an admin; welcome: {welcome}")
            await c.subscribe({}, id="s1")
            await app.log("APP", "info", "hello")
            items = await collect(c, has_message("hello"),
                                  "a `records` frame holding the record 'hello'")
            [hello] = [r for r in records_of(items) if r.message == "hello"]
            assert hello.layer == "APP" and hello.level == "info", hello
            assert hello.seq >= 1 and hello.sub == ["s1"], hello
            assert STREAM_NAME.fullmatch(hello.stream), (
                f"stream {hello.stream!r} is not <service>/<16 hex digits>")
            assert RFC3339.fullmatch(hello.time), f"time {hello.time!r}"
            for n in range(1, 4):
                await app.log("APP", "warning", f"hello {n}")
            await collect(c, has_message("hello 3"), "the records 'hello 1'..'hello 3'",
                          items=items)
            mine = [r for r in records_of(items) if r.message.startswith("hello")]
            assert [r.message for r in mine] == ["hello", "hello 1", "hello 2", "hello 3"]
            assert all(r.level == "warning" for r in mine[1:])
            seqs = [r.seq for r in records_of(items) if r.stream == hello.stream]
            assert all(b > a for a, b in zip(seqs, seqs[1:])), f"seqs not increasing: {seqs}"
            assert c.cursor.get(hello.stream, 0) >= mine[-1].seq, c.cursor
            assert not gaps_of(items), describe(items)
    run(main())


def test_filters_pass_only_matching_records_and_name_their_subscriptions(start_app):
    app = start_app()
    subscriptions = {
        "layers": {"layers": ["DB"]},
        "level": {"min_level": "error"},
        "text": {"text": "needle"},
        "regex": {"regex": "^order \\d+ failed$"},
        "fields": {"fields": {"i": 7}},
    }
    # message -> the subscriptions it matches (none: it must not arrive)
    logged = [
        ("APP", "info", "nothing here", set()),
        ("DB", "debug", "db debug", {"layers"}),
        ("APP", "error", "app error", {"level"}),
        ("APP", "info", "has needle inside", {"text"}),
        ("APP", "info", "order 42 failed", {"regex"}),
        ("APP", "warning", "order 1 failed", {"regex"}),
        ("APP", "info", "order 1 failed twice", set()),
        ("APP", "critical", "Needle is not needle-free", {"level", "text"}),
    ]

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            for id, filter in subscriptions.items():
                await c.subscribe(filter, id=id)
            for layer, level, message, _ in logged:
                await app.log(layer, level, message)
            await app.burst(10, "APP", "info")  # burst 7 has i = 7
            await app.log("DB", "critical", "end needle")
            items = await collect(c, has_message("end needle"),
                                  "the record 'end needle' (layers, level and text match it)")
            expected = {m: subs for _, _, m, subs in logged if subs}
            expected["burst 7"] = {"fields"}
            expected["end needle"] = {"layers", "level", "text"}
            got = {}
            for r in records_of(items):
                assert r.message not in got, f"{r.message!r} arrived twice: {describe(items)}"
                got[r.message] = set(r.sub)
            unexpected = {m: s for m, s in got.items() if m not in expected}
            assert not unexpected, (
                f"records that match no subscription arrived: {unexpected}")
            missing = sorted(set(expected) - set(got))
            assert not missing, f"matching records did not arrive: {missing}; got {got}"
            wrong = {m: (got[m], expected[m]) for m in expected if got[m] != expected[m]}
            assert not wrong, f"`sub` lists (got, expected): {wrong}"
            burst7 = next(r for r in records_of(items) if r.message == "burst 7")
            assert burst7.fields.get("i") == 7, burst7.fields
    run(main())


def test_unsubscribe_stops_a_subscription(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            await c.subscribe({"layers": ["U1"]}, id="u1")
            await c.subscribe({"layers": ["U2"]}, id="u2")
            await app.log("U1", "info", "one before")
            items = await collect(c, has_message("one before"), "the record 'one before'")
            await c.unsubscribe("u1")
            await c.ping()  # the unsubscribe has been read
            await app.log("U1", "info", "one after")
            await app.log("U2", "info", "two after")
            await collect(c, has_message("two after"), "the record 'two after'", items=items)
            assert [r.message for r in records_of(items)] == ["one before", "two after"], (
                describe(items))
    run(main())


def test_sample_passes_at_most_its_limit_and_reports_the_rest_as_a_gap(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            await c.subscribe({"layers": ["SMP"]}, id="smp",
                              sample={"limit": 5, "per_ms": 1000})
            await app.burst(40, "SMP", "info")
            accounted = Accounted(40)
            items = await collect(c, accounted,
                                  "`gap` frames (reason sampled) accounting, with the "
                                  "records, for all 40 records of the burst")
            records, gaps = records_of(items), gaps_of(items)
            assert accounted.records + accounted.gap_counts == 40, describe(items)
            assert 5 <= len(records) <= 10, (
                f"{len(records)} records passed a sample of 5 per second (the burst may "
                f"straddle two windows, so at most 10)")
            assert gaps and all(g.reason == "sampled" for g in gaps), describe(items)
            assert all(r.sub == ["smp"] for r in records)
    run(main())


def test_resume_replays_exactly_what_followed_the_cursor(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as a:
            await a.subscribe({})
            await app.burst(5, "RA", "info")
            items = await collect(a, lambda it: len(records_of(it, "RA")) == 5,
                                  "the 5 records of `burst 5 RA`")
            stream = records_of(items, "RA")[0].stream
            cursor = dict(a.cursor)
        assert cursor.get(stream, 0) >= records_of(items, "RA")[-1].seq, cursor
        await app.burst(7, "RB", "info")
        await app.log("RB", "info", "resume marker")
        await app.flush()
        # The subscription rides behind hello, so that it is in place for the
        # replay (see BridgeClient's `subscriptions`).
        async with BridgeClient(app.ws_url, resume=cursor, subscriptions={"all": {}},
                                reconnect=False) as b:
            items = await collect(b, has_message("resume marker"),
                                  "the replayed records up to 'resume marker' "
                                  f"(resume from {cursor})")
            assert not gaps_of(items), f"a resume within the buffer gave a gap: {describe(items)}"
            records = [r for r in records_of(items) if r.stream == stream]
            upto = next(i for i, r in enumerate(records) if r.message == "resume marker")
            assert_contiguous(records[:upto + 1], first=cursor[stream] + 1,
                              what="the replay")
            rb = [r for r in records[:upto + 1] if r.layer == "RB"]
            assert [r.message for r in rb] == [f"burst {i}" for i in range(7)] + [
                "resume marker"], describe(rb)
            assert [r.fields.get("i") for r in rb[:7]] == list(range(7))
            assert not records_of(items, "RA"), "records before the cursor were replayed"
    run(main())


def test_resume_past_the_buffer_gives_one_evicted_gap(start_app):
    app = start_app(bridge={"buffer_records": 100})

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as a:
            await a.subscribe({})
            await app.burst(5, "EA", "info")
            items = await collect(a, lambda it: len(records_of(it, "EA")) == 5,
                                  "the 5 records of `burst 5 EA`")
            stream = records_of(items, "EA")[0].stream
            cursor = dict(a.cursor)
        await app.burst(500, "EB", "info")
        await app.flush()
        async with BridgeClient(app.ws_url, resume=cursor, subscriptions={"all": {}},
                                reconnect=False) as b:
            done = lambda it: any(isinstance(r, Record) and r.layer == "EB"
                                  and r.message == "burst 499" for r in it)
            items = await collect(b, done, "a `gap` (evicted) then the held records up "
                                  "to 'burst 499' of EB")
            gaps = gaps_of(items)
            assert len(gaps) == 1, f"expected exactly one gap frame: {describe(items)}"
            gap = gaps[0]
            assert gap.reason == "evicted" and gap.stream == stream, gap
            assert isinstance(items[0], Gap), f"the gap must come first: {describe(items)}"
            assert gap.from_seq == cursor[stream] + 1, (gap, cursor)
            assert gap.to_seq is not None and gap.count == gap.to_seq - gap.from_seq + 1, (
                f"an evicted gap counts every record of its range: {gap}")
            records = [r for r in records_of(items) if r.stream == stream]
            last = next(i for i, r in enumerate(records)
                        if r.layer == "EB" and r.message == "burst 499")
            held = records[:last + 1]
            assert_contiguous(held, first=gap.to_seq + 1, what="the records after the gap")
            assert len(held) <= 100, f"{len(held)} records replayed from a buffer of 100"
            assert gap.count + len(held) == held[-1].seq - cursor[stream], (
                "the gap's count and the records received do not add up to what "
                "was logged after the cursor")
    run(main())


def test_an_idle_bridge_keeps_nothing_and_a_backlog_starts_at_the_live_end(start_app):
    # Without keep_when_idle an unwatched bridge only counts records: a
    # backlog asked for later has none of them, and nothing is reported
    # missing, since the client asked for no cursor.
    app = start_app()

    async def main():
        await app.burst(10, "IDLE", "info")
        await app.flush()
        async with BridgeClient(app.ws_url, backlog=5, subscriptions={"all": {}},
                                reconnect=False) as c:
            assert c.welcome.get("first_seq") == c.welcome.get("next_seq") == "11", c.welcome
            await app.log("APP", "info", "live")
            items = await collect(c, has_message("live"), "the live record")
            assert [r.seq for r in records_of(items)] == [11], describe(items)
            assert not gaps_of(items), describe(items)
    run(main())


def test_resume_of_an_unknown_stream_gives_a_restart_gap(start_app):
    # keep_when_idle: the record logged before any client connects is kept.
    app = start_app(bridge={"keep_when_idle": True})

    async def main():
        await app.log("APP", "info", "before the restart gap")
        await app.flush()
        old = "old/0000000000000000"
        async with BridgeClient(app.ws_url, resume={old: 5}, subscriptions={"all": {}},
                                reconnect=False) as c:

            def done(items):
                return (any(isinstance(i, Gap) and i.reason == "restart" for i in items)
                        and has_message("before the restart gap")(items))

            items = await collect(c, done, "a `gap` with reason restart for stream "
                                  f"{old}, and the records the bridge holds")
            [gap] = [g for g in gaps_of(items) if g.reason == "restart"]
            assert gap.stream == old, gap
            assert gap.to_seq is None and gap.count is None, (
                f"a restart gap has no to_seq and no count: {gap.raw}")
            assert old not in c.cursor, c.cursor
            own = records_of(items)
            assert own and own[0].seq == 1, (
                "after a restart gap the client starts at the first record the bridge "
                f"holds (seq 1 here): {describe(items)}")
    run(main())


def test_backlog_replays_the_last_n_records(start_app):
    app = start_app(bridge={"keep_when_idle": True})

    async def main():
        await app.burst(10, "BL", "info")
        await app.flush()
        async with BridgeClient(app.ws_url, backlog=3, subscriptions={"all": {}},
                                reconnect=False) as c:
            await app.log("APP", "info", "after the backlog")
            items = await collect(c, has_message("after the backlog"),
                                  "the 3 records of the backlog, then 'after the backlog'")
            before = records_of(items)[:-1]
            assert [r.message for r in before] == ["burst 7", "burst 8", "burst 9"], (
                f"hello with backlog 3 after `burst 10 BL`: {describe(items)}")
            assert_contiguous(records_of(items), what="the backlog and the live record")
    run(main())


def test_heartbeats_carry_a_cursor_that_moves_while_nothing_matches(start_app):
    app = start_app(bridge={"heartbeat": "1s"})

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            assert c.welcome.get("heartbeat_ms") == 1000, c.welcome
            await c.subscribe({"layers": ["NOTHING"]})
            for n in range(3):
                await app.log("APP", "info", f"unwatched {n}")
            await app.flush()
            deadline = time.monotonic() + WAIT
            while not (c.heartbeats >= 2 and c.cursor and max(c.cursor.values()) >= 3):
                assert time.monotonic() < deadline, (
                    f"no `heartbeat` frame with a cursor >= 3 within {WAIT} s "
                    f"(heartbeats {c.heartbeats}, cursor {c.cursor})")
                await asyncio.sleep(0.05)
            assert c.reconnects == 0 and not c.closed
            assert c.pending_events() == 0, "records arrived for a subscription matching nothing"
    run(main())


class Proxy:
    """A TCP proxy to the app that can cut its connections and refuse new
    ones, to drop a client's connection under it."""

    def __init__(self, port):
        self.port = port
        self.refuse = False
        self.transports = []

    async def start(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer):
        if self.refuse:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.transports += [writer.transport, up_writer.transport]

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self):
        for t in self.transports:
            t.abort()
        self.transports = []

    async def stop(self):
        self.cut()
        self.server.close()
        await self.server.wait_closed()


def test_the_client_reconnects_and_resumes_after_a_dropped_connection(start_app):
    app = start_app()

    async def main():
        proxy = Proxy(app.port)
        port = await proxy.start()
        try:
            async with BridgeClient(f"ws://127.0.0.1:{port}/ws", backoff_base=0.05) as c:
                await c.subscribe({"layers": ["RC"]}, id="rc")
                for n in range(3):
                    await app.log("RC", "info", f"before {n}")
                items = await collect(c, has_message("before 2"), "the record 'before 2'")
                proxy.refuse = True
                proxy.cut()
                for n in range(4):
                    await app.log("RC", "info", f"after {n}")
                await app.flush()
                proxy.refuse = False
                await collect(c, has_message("after 3"),
                              "the records logged while the connection was down, "
                              "after reconnecting with `resume`", items=items)
                assert c.reconnects >= 1
                assert [r.message for r in records_of(items)] == [
                    f"before {n}" for n in range(3)] + [f"after {n}" for n in range(4)], (
                    describe(items))
                assert not gaps_of(items), describe(items)
                seqs = [r.seq for r in records_of(items)]
                assert all(b > a for a, b in zip(seqs, seqs[1:])), seqs
        finally:
            await proxy.stop()
    run(main())


def test_many_records_arrive_whole_or_as_counted_gaps(start_app):
    app = start_app()
    total = 20000

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            await c.subscribe({"layers": ["BULK"]}, id="bulk")
            started = time.monotonic()
            await app.burst(total, "BULK", "info")
            accounted = Accounted(total)
            items = await collect(c, accounted,
                                  f"the {total} records of the burst (or `gap` frames "
                                  "counting the missing ones)", timeout=60)
            elapsed = time.monotonic() - started
            records, gaps = records_of(items), gaps_of(items)
            assert accounted.records + accounted.gap_counts == total, (
                f"{len(records)} records + gap counts {[g.count for g in gaps]} != {total}")
            assert all(g.reason == "slow_client" for g in gaps), describe(gaps)
            ids = [r.fields.get("i") for r in records]
            assert all(b > a for a, b in zip(ids, ids[1:])), "records out of order or repeated"
            seqs = [r.seq for r in records]
            assert all(b > a for a, b in zip(seqs, seqs[1:])), "seqs not increasing"
            if not gaps:
                assert ids == list(range(total))
                assert_contiguous(records, what=f"the {total} records")
            print(f"{total} records: {len(records)} received, {len(gaps)} gaps, "
                  f"{elapsed:.2f} s")
    run(main())


def test_a_client_that_stops_reading_gets_a_slow_client_gap(start_app):
    app = start_app(bridge={"client_queue_bytes": 65536})
    total = 40000

    async def main():
        ws = await websockets.connect(app.ws_url, subprotocols=["hydra.v1"],
                                      max_queue=1, read_limit=2 ** 14,
                                      max_size=16 << 20, compression=None)
        try:
            import json
            await ws.send(json.dumps({"type": "hello", "protocol": 1, "client": "slow"}))
            await ws.send(json.dumps({"type": "subscribe", "id": "slow",
                                      "filter": {"layers": ["SLOW"]}}))
            deadline = time.monotonic() + WAIT
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                if frame["type"] == "subscribed":
                    break
            ws.transport.pause_reading()  # a client that stops reading
            await app.burst(total, "SLOW", "info")
            await app.flush()
            ws.transport.resume_reading()
            received, gaps = 0, []
            deadline = time.monotonic() + 60
            while received + sum(int(g["count"]) for g in gaps) < total:
                left = deadline - time.monotonic()
                assert left > 0, (
                    f"timed out: {received} records and gaps {gaps} of {total}")
                frame = json.loads(await asyncio.wait_for(ws.recv(), left))
                if frame["type"] == "records":
                    received += len(frame["records"])
                elif frame["type"] == "gap":
                    gaps.append(frame)
            assert received + sum(int(g["count"]) for g in gaps) == total
            assert gaps, (f"a client that read nothing while {total} records were "
                          "sent got all of them: no `gap` (slow_client) frame")
            assert all(g["reason"] == "slow_client" for g in gaps), gaps
        finally:
            await ws.close()
    run(main())
