"""Records submitted by clients, over the WebSocket and POST /intake:
where they land, redaction, the per-record and per-batch limits, bad
records, the rate limit. Needs hydra_bridge_app (HYDRA_BRIDGE_APP)."""
import os
import re

import pytest

from hydra_bridge import BridgeClient, BridgeError, submit_http

from bridge_helpers import collect, describe, records_of, run, wait_file

REDACTED = re.compile(r"\[REDACTED_[A-Z_]+\]")
EMAIL = "alice.liddell@example.com"
TRACE_ID = "5b8efff798038103d269b633813fc60c"


def by_message(records, message):
    return [r for r in records if r.get("message") == message]


def test_submitted_records_land_on_frontend_redacted(start_app):
    app = start_app(top={"redact": True})
    submitted = [
        {"time": "2026-12-07T10:15:02.123Z", "level": "error",
         "message": f"checkout failed for {EMAIL}",
         "fields": {"order": 1234, "trace_id": TRACE_ID},
         "session": "sess-1", "page": "/cart", "user_agent": "pytest-agent/1.0"},
        {"level": "info", "message": "page view two", "session": "sess-1", "page": "/home"},
        {"level": "warning", "message": "slow three"},
    ]

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            await c.subscribe({"layers": ["FRONTEND"]}, id="fe")
            ack = await c.submit(submitted, id="b1")
            assert ack.id == "b1" and ack.accepted == 3 and ack.rejected == [], ack
            items = await collect(c, lambda it: len(records_of(it, "FRONTEND")) >= 3,
                                  "the 3 submitted records, streamed back on FRONTEND")
            streamed = records_of(items, "FRONTEND")
            first = streamed[0]
            assert EMAIL not in first.message and REDACTED.search(first.message), (
                f"streamed message not redacted: {first.message!r}")
            assert first.redacted, f"`redacted` is empty for a redacted message: {first.raw}"
            assert first.level == "error" and first.sub == ["fe"], first
        records = await wait_file(
            app, lambda rs: len([r for r in rs if r.get("layer") == "FRONTEND"]) >= 3,
            "the 3 submitted records on layer FRONTEND")
        assert EMAIL not in "\n".join(app.file_lines()), "the raw email reached the file"
        frontend = [r for r in records if r.get("layer") == "FRONTEND"]
        assert len(frontend) == 3, frontend
        checkout = next(r for r in frontend if r.get("message", "").startswith("checkout failed"))
        assert REDACTED.search(checkout["message"]), checkout
        assert checkout.get("level") == "error", checkout
        fields = checkout["_fields"]
        for key, value in [("session", "sess-1"), ("page", "/cart"),
                           ("user_agent", "pytest-agent/1.0"), ("trace_id", TRACE_ID),
                           ("order", 1234)]:
            assert fields.get(key) == value, f"field {key}: {fields}"
        [two] = by_message(frontend, "page view two")
        assert two["_fields"].get("page") == "/home" and two.get("level") == "info", two
        [three] = by_message(frontend, "slow three")
        assert three.get("level") == "warning", three
    run(main())


def test_a_record_over_64_kib_is_rejected_and_the_rest_accepted(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            ack = await c.submit([
                {"level": "info", "message": "limit ok 1"},
                {"level": "info", "message": "too large " + "x" * (70 << 10)},
                {"level": "info", "message": "limit ok 2"},
            ])
            assert ack.accepted == 2, ack
            assert [(r["index"], r.get("reason")) for r in ack.rejected] == [
                (1, "record_too_large")], ack.rejected
        records = await wait_file(app, lambda rs: by_message(rs, "limit ok 2"),
                                  "the accepted records")
        assert by_message(records, "limit ok 1")
        assert not [r for r in records if r.get("message", "").startswith("too large")]
    run(main())


def test_bad_records_are_rejected_one_by_one(start_app):
    app = start_app()

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            ack = await c.submit([
                {"level": "audit", "message": "an audit record from a browser"},
                {"level": "info"},
                {"level": "info", "message": "the good one"},
                {"level": "bogus", "message": "a level that does not exist"},
            ])
            assert ack.accepted == 1, ack
            reasons = {r["index"]: r.get("reason") for r in ack.rejected}
            assert set(reasons) == {0, 1, 3}, ack.rejected
            assert all(r in ("bad_record", "bad_level") for r in reasons.values()), ack.rejected
        records = await wait_file(app, lambda rs: by_message(rs, "the good one"),
                                  "the accepted record")
        assert not by_message(records, "an audit record from a browser")
        assert not by_message(records, "a level that does not exist")
    run(main())


def test_a_batch_over_1_mib_is_refused(start_app):
    app = start_app()
    # 20 records of 60 KB of random hex (each under 64 KiB, all together
    # 1.2 MB; random, so that compression does not matter).
    records = [{"level": "info", "message": f"big {n} " + os.urandom(30000).hex()}
               for n in range(20)]

    async def main():
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            with pytest.raises(BridgeError) as e:
                await c.submit(records)
            # docs/bridge-protocol.md: "a frame at most 1 MiB after
            # decompression", past it close 1009 frame_too_large. An `error`
            # frame for the batch is accepted too (it keeps the connection).
            if e.value.is_close:
                assert e.value.code == 1009, f"closed {e.value.code} {e.value.reason!r}"
                assert e.value.reason == "frame_too_large", (
                    f"closed 1009 with reason {e.value.reason!r}, not 'frame_too_large' "
                    "(every close the bridge makes carries its reason)")
            else:
                assert e.value.code in ("bad_frame", "frame_too_large", "batch_too_large"), (
                    e.value)
                await c.ping()
        found = await wait_file(app, lambda rs: True, "the file")
        assert not [r for r in found if r.get("message", "").startswith("big ")], (
            "records of a refused batch were logged")
    run(main())


def test_intake_over_http_and_its_rate_limit(start_app):
    app = start_app(bridge={"submit_rate": 5, "submit_burst": 5})

    async def main():
        status, body, headers = submit_http(app.http_url, [
            {"level": "info", "message": "http one", "session": "s-http"},
            {"level": "warning", "message": "http two"}])
        assert status == 202, (status, body)
        assert body.get("type") == "ack" and body.get("accepted") == 2, body
        status, body, headers = submit_http(app.http_url, [
            {"level": "info", "message": f"over {n}"} for n in range(6)])
        assert status == 413 and body.get("code") == "batch_too_large", (
            "a batch larger than submit_burst could never pass: 413, not 429 forever",
            status, body)
        status, body, headers = submit_http(app.http_url, [
            {"level": "info", "message": f"over {n}"} for n in range(4)])
        assert status == 429, (status, body)
        assert re.fullmatch(r"\d+", headers.get("retry-after", "")), (
            f"429 without an integer Retry-After: {headers}")
        assert int(headers["retry-after"]) >= 1, headers
        assert body.get("type") == "error" and body.get("code") == "rate_limited", body
        status, body, headers = submit_http(app.http_url, [], body=b"{not json")
        assert status == 400, (status, body)
        records = await wait_file(app, lambda rs: by_message(rs, "http two"),
                                  "the records submitted over HTTP")
        [one] = by_message(records, "http one")
        assert one.get("layer") == "FRONTEND" and one["_fields"].get("session") == "s-http", one
        assert not [r for r in records if r.get("message", "").startswith("over ")], (
            "records of a batch answered 429 were logged")
        async with BridgeClient(app.ws_url, reconnect=False) as c:
            with pytest.raises(BridgeError) as e:
                await c.submit([{"level": "info", "message": f"ws over {n}"} for n in range(5)])
            assert e.value.code == "rate_limited", e.value
            assert e.value.retry_after_ms is not None and e.value.retry_after_ms > 0, (
                f"rate_limited without retry_after_ms: {e.value.frame}")
    run(main())
