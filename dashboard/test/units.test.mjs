// The page's pure parts, in Node (no browser, no bridge): UTF-8 byte ranges
// to string indices, the ring, the store's bounds, filter and counters, the
// decoding of records (the same as the SDK's) and the sliced intake.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DIST } from "./helpers.mjs";

const built = existsSync(join(DIST, "store.js"));
const load = async (name) => import(join(DIST, name));

describe("units", { skip: built ? false : `${DIST} is not built (npm run build)` }, () => {
  test("byte ranges -> string indices", async () => {
    const { byteRangesToIndices } = await load("redaction.js");
    const enc = new TextEncoder();
    const cases = [
      "login [REDACTED_EMAIL] failed",
      "Größe [REDACTED_EMAIL] ende",
      "😀😀 x [REDACTED_CREDIT_CARD] and é [REDACTED_EMAIL]",
      "日本語 [REDACTED_PHONE]",
      "[REDACTED_TOKEN]",
    ];
    for (const message of cases) {
      // The bridge's ranges: byte offsets of each token in the UTF-8 text.
      const ranges = [];
      const re = /\[REDACTED_([A-Z0-9_]+)\]/g;
      let m;
      while ((m = re.exec(message))) {
        const begin = enc.encode(message.slice(0, m.index)).length;
        ranges.push([begin, begin + enc.encode(m[0]).length, m[1]]);
      }
      const spans = byteRangesToIndices(message, ranges);
      assert.equal(spans.length, ranges.length, message);
      for (const [b, e, type] of spans) {
        assert.equal(message.slice(b, e), `[REDACTED_${type}]`, message);
      }
    }
  });

  test("byte ranges: out of range, inverted, overlapping and missing are tolerated", async () => {
    const { byteRangesToIndices } = await load("redaction.js");
    assert.deepEqual(byteRangesToIndices("abc", undefined), []);
    assert.deepEqual(byteRangesToIndices("abc", [[2, 1, "X"]]), []);
    assert.deepEqual(byteRangesToIndices("abc", [[1, 99, "X"]]), [[1, 3, "X"]]);
    assert.deepEqual(byteRangesToIndices("abcdef", [[0, 4, "A"], [2, 5, "B"]]), [[0, 4, "A"]]);
    // A boundary inside a code point moves to the next one: é is two bytes.
    assert.deepEqual(byteRangesToIndices("éa", [[1, 3, "X"]]), [[1, 2, "X"]]);
  });

  test("ring: bounded, evicts the oldest, indexes from the front", async () => {
    const { Ring } = await load("ring.js");
    const r = new Ring(3);
    assert.equal(r.push(1), undefined);
    r.push(2);
    r.push(3);
    assert.equal(r.push(4), 1);
    assert.deepEqual([...r], [2, 3, 4]);
    assert.equal(r.at(0), 2);
    assert.equal(r.shift(), 2);
    assert.deepEqual([...r], [3, 4]);
    assert.equal(r.lowerBound(4, (x) => x), 1);
    // The buffer grows as items come: shifting before it is full, then wrapping.
    const g = new Ring(5);
    for (const x of [1, 2, 3]) g.push(x);
    assert.equal(g.shift(), 1);
    for (const x of [4, 5, 6]) assert.equal(g.push(x), undefined);
    assert.deepEqual([...g], [2, 3, 4, 5, 6]);
    assert.equal(g.push(7), 2);
    assert.deepEqual([...g], [3, 4, 5, 6, 7]);
    assert.equal(g.at(4), 7);
  });

  const rec = (seq, layer = "APP", level = "info", message = `m${seq}`) => ({
    seq, stream: "s/1", time: "2026-12-07T10:15:02.123456Z", level, layer, logger: "", message, redacted: [],
    fields: {}, service: "x", tenant: "t", sub: ["s1"],
  });

  test("store: history and view are bounded; the view follows the filter; O(1) appends", async () => {
    const { Store } = await load("store.js");
    const s = new Store(100);
    let shifted = 0;
    s.onViewShift = () => shifted++;
    for (let i = 1; i <= 250; i++) s.addRecord(rec(i, i % 2 ? "APP" : "DB", i % 5 === 0 ? "error" : "info"));
    assert.equal(s.history.length, 100);
    assert.equal(s.view.length, 100);
    assert.equal(s.dropped, 150);
    assert.equal(shifted, 150);
    assert.equal(s.received, 250);
    s.setFilter({ layers: ["db"], minLevel: "warning", text: "" });
    assert.ok([...s.view].every((i) => i.rec.layer === "DB" && i.rec.level === "error"));
    assert.equal(s.view.length, 10);  // 151..250: the even multiples of 5
    s.addRecord(rec(251, "DB", "info"));
    s.addRecord(rec(260, "DB", "critical"));
    assert.equal(s.view.last().rec.seq, 260);
    assert.equal(s.exportLines().length, 11);
    // A duplicate (seq not past the stream's last) is counted, not shown.
    s.addRecord(rec(255, "DB", "critical"));
    assert.equal(s.duplicates, 1);
  });

  test("store: gaps are always shown; a restart once per stream; counts add up", async () => {
    const { Store } = await load("store.js");
    const s = new Store(10);
    s.setFilter({ layers: ["NOPE"], minLevel: "", text: "" });
    assert.equal(s.addGap({ stream: "a", fromSeq: 5, toSeq: 9, count: 3, reason: "slow_client" }), true);
    assert.equal(s.addGap({ stream: "a", fromSeq: 10, reason: "restart" }), true);
    assert.equal(s.addGap({ stream: "a", fromSeq: 12, reason: "restart" }), false);
    assert.equal(s.view.length, 2);
    assert.equal(s.gapRecords, 3);
    assert.equal(s.restartGaps, 1);
  });

  test("frames: the page decodes records with the SDK's decodeRecord, as the SDK's events carry them", async () => {
    const { decodeRecord } = await load("frames.js");
    const { BridgeClient } = await import(join(DIST, "sdk", "index.js"));
    let socket;
    class FakeSocket {
      constructor() {
        socket = this;
        this.readyState = 3;  // never opens: close() returns at once
      }
      send() {}
      close() {}
    }
    const client = new BridgeClient({ url: "ws://test/ws", WebSocket: FakeSocket, reconnect: false });
    const fromSdk = [];
    client.onEvent((e) => e.kind === "record" && fromSdk.push(e.record));
    client.connect().catch(() => {});
    const records = [
      { seq: "41", sub: ["s1", "s2"], time: "2026-12-07T10:15:02.123456Z", level: "warning", layer: "APP",
        logger: "checkout", message: "card [REDACTED_CARD] declined", redacted: [[5, 20, "CARD"]],
        fields: { order: 1234, ok: false }, service: "shop", tenant: "acme" },
      { seq: 42, time: "t", level: "info", layer: "DB", message: "no logger, no redactions, no fields" },
      { seq: "not a seq", message: 7, fields: "not an object", sub: [1, null] },
    ];
    socket.onmessage({ data: JSON.stringify({ type: "records", stream: "s/1", to_seq: "43", records }) });
    await client.close();
    assert.equal(fromSdk.length, records.length);
    records.forEach((raw, i) => assert.deepEqual(decodeRecord("s/1", raw), fromSdk[i]));
    assert.equal(decodeRecord("s/1", null), undefined);
  });

  test("intake: items are taken in order, in slices, with onSlice after each", async () => {
    const { Intake } = await load("intake.js");
    let clock = 0;
    const taken = [];
    let slices = 0;
    // Each item "takes" 1 ms on a fake clock: a slice ends after SLICE_MS of them (give or take the check interval).
    const intake = new Intake((x) => { taken.push(x); clock += 1; }, () => slices++, () => clock);
    for (let i = 0; i < 200; i++) intake.push(i);
    assert.equal(intake.length, 200);
    while (intake.length > 0) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(taken, [...Array(200).keys()]);
    assert.ok(slices > 1, `${slices} slices`);
    intake["channel"].port1.close();  // (a browser page never closes it; Node would wait on it)
  });

  test("levels: the library's ranks (security as warning, audit as info)", async () => {
    const { passesLevel } = await load("levels.js");
    assert.ok(passesLevel("security", "warning"));
    assert.ok(!passesLevel("security", "error"));
    assert.ok(passesLevel("audit", "info"));
    assert.ok(!passesLevel("audit", "warning"));
    assert.ok(passesLevel("critical", "error"));
    assert.ok(!passesLevel("debug", "info"));
    assert.ok(passesLevel("trace", ""));
  });
});
