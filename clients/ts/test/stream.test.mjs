// BridgeClient against a real bridge (hydra_bridge_app): records, filters,
// reconnecting to a restarted process, resuming within one process.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";

import { BridgeClient } from "../dist/index.js";
import { App, Collector, SKIP, WAIT, hasMessage, removeDir, tempDir, waitUntil } from "../test-support/bridge.mjs";

describe("BridgeClient with a real bridge", { skip: SKIP }, () => {
  let dir;
  let app;
  const clients = [];

  const client = (options = {}) => {
    const c = new BridgeClient({ url: app.wsUrl, WebSocket, backoffBaseMs: 50, backoffCapMs: 500, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = tempDir();
    app = await App.start(dir);
  });

  after(async () => {
    for (const c of clients) await c.close();
    if (app) await app.stop();
    removeDir(dir);
  });

  test("subscribe, then a logged record arrives with seq, layer, level and message; the cursor follows", async () => {
    const c = client();
    const events = new Collector(c);
    const welcome = await c.connect();
    assert.equal(welcome.protocol, 1);
    assert.equal(welcome.role, "admin"); // an open bridge
    assert.equal(typeof welcome.stream, "string");
    assert.ok(welcome.heartbeat_ms > 0);
    assert.equal(c.state, "open");
    const id = await c.subscribe({ layers: ["APP"] });
    assert.equal(id, "s1");

    await app.log("APP", "warning", "first record of test one");
    await app.flush();
    await events.until(hasMessage("first record of test one"), "the record");
    const r = events.records.find((x) => x.message === "first record of test one");
    assert.equal(r.stream, welcome.stream);
    assert.equal(r.layer, "APP");
    assert.equal(r.level, "warning");
    assert.ok(Number.isInteger(r.seq) && r.seq >= 1, `seq ${r.seq}`);
    assert.deepEqual(r.sub, ["s1"]);
    assert.deepEqual(r.redacted, []);
    assert.equal(typeof r.time, "string");
    assert.ok(c.cursor[welcome.stream] >= r.seq, JSON.stringify(c.cursor));
    assert.deepEqual(events.states, ["connecting", "open"]);

    // events() sees the same from now on, and ends after close().
    const it = c.events();
    await app.log("APP", "info", "second record of test one");
    await app.flush();
    let seen;
    for await (const e of it) {
      if (e.kind === "record" && e.record.message === "second record of test one") {
        seen = e.record;
        break;
      }
    }
    assert.ok(seen.seq > r.seq);
    assert.equal(c.cursor[welcome.stream], seen.seq);
    const it2 = c.events();
    await c.close();
    const rest = [];
    for await (const e of it2) rest.push(e);
    assert.deepEqual(rest, [{ kind: "state", state: "closed", code: 1000, reason: "bye" }]);
    assert.equal(c.state, "closed");
  });

  test("a filter (layers, min_level, text): only matching records arrive", async () => {
    const c = client();
    const events = new Collector(c);
    await c.connect();
    await c.subscribe({ layers: ["DATABASE", "PAYMENTS"], min_level: "warning", text: "timeout" });
    await app.log("DATABASE", "info", "timeout but only info"); // level too low
    await app.log("APP", "error", "timeout on another layer"); // layer not wanted
    await app.log("DATABASE", "error", "disk full"); // no text match
    await app.log("DATABASE", "error", "query timeout after 5s"); // match
    await app.log("PAYMENTS", "critical", "gateway timeout"); // match
    await app.log("PAYMENTS", "warning", "end marker timeout"); // match, last
    await app.flush();
    await events.until(hasMessage("end marker timeout"), "the last matching record");
    assert.deepEqual(
      events.records.map((r) => `${r.layer}/${r.level} ${r.message}`),
      ["DATABASE/error query timeout after 5s", "PAYMENTS/critical gateway timeout", "PAYMENTS/warning end marker timeout"],
    );
    const seqs = events.records.map((r) => r.seq);
    assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, "in seq order");
    assert.equal(events.gaps.length, 0);

    // unsubscribe: resolves on `unsubscribed`; nothing more for it.
    await c.unsubscribe("s1");
    await c.subscribe({ layers: ["MARKER"] }, { id: "marker" });
    await app.log("DATABASE", "error", "timeout after unsubscribe");
    await app.log("MARKER", "info", "marker after unsubscribe");
    await app.flush();
    await events.until(hasMessage("marker after unsubscribe"), "the marker record");
    assert.ok(!events.records.some((r) => r.message === "timeout after unsubscribe"));
    assert.deepEqual(events.records.at(-1).sub, ["marker"]);
  });

  test("resume within one process: a new client with the old cursor gets exactly the missed records, no gap", async () => {
    const a = client();
    const ea = new Collector(a);
    await a.connect();
    await a.subscribe({ layers: ["RESUME"] }, { id: "r" });
    await app.log("RESUME", "info", "before the break");
    await app.flush();
    await ea.until(hasMessage("before the break"), "the first record");
    const cursor = a.cursor;
    await a.close();

    for (const m of ["missed one", "missed two", "missed three"]) await app.log("RESUME", "info", m);
    await app.log("OTHER", "info", "not subscribed");
    await app.flush();

    // As the dashboard does: connect(), then subscribe().
    const b = client({ resume: cursor });
    const eb = new Collector(b);
    await b.connect();
    await b.subscribe({ layers: ["RESUME"] }, { id: "r" });
    await eb.until(hasMessage("missed three"), "the missed records");
    await app.log("RESUME", "info", "live again");
    await app.flush();
    await eb.until(hasMessage("live again"), "the live record");
    assert.deepEqual(eb.records.map((r) => r.message), ["missed one", "missed two", "missed three", "live again"]);
    assert.equal(eb.gaps.length, 0, "no gap");
    const stream = Object.keys(cursor)[0];
    assert.equal(eb.records[0].seq, cursor[stream] + 1);

    // Subscribing before connect() puts the subscription right behind hello.
    const resumeAt = b.cursor;
    await b.close();
    await app.log("RESUME", "info", "missed four");
    await app.flush();
    const d = client({ resume: resumeAt });
    const ed = new Collector(d);
    const subscribed = d.subscribe({ layers: ["RESUME"] }, { id: "r" });
    await d.connect();
    assert.equal(await subscribed, "r");
    await ed.until(hasMessage("missed four"), "the missed record");
    assert.deepEqual(ed.records.map((r) => r.message), ["missed four"]);
    assert.equal(ed.gaps.length, 0, "no gap");
  });

  test("reconnect: the app is killed and started again on the same port; the client reconnects, gets a restart gap, then the new stream", async () => {
    const c = client();
    const events = new Collector(c);
    const welcome = await c.connect();
    await c.subscribe({ layers: ["RESTART"] }, { id: "live" });
    await app.log("RESTART", "info", "from the first process");
    await app.flush();
    await events.until(hasMessage("from the first process"), "the first process's record");
    const oldStream = welcome.stream;
    const oldSeq = c.cursor[oldStream];

    const port = app.port;
    await app.kill();
    await events.until((es) => es.some((e) => e.kind === "state" && e.state === "reconnecting"), "state reconnecting");
    app = await App.start(dir, { listen: `127.0.0.1:${port}` }, { redact: true }, "bridge2.toml");
    assert.equal(app.port, port);
    await events.until(
      (es) => es.filter((e) => e.kind === "state").at(-1)?.state === "open" && c.reconnects === 1,
      "state open after the reconnect",
      WAIT * 2,
    );
    const states = events.states;
    assert.deepEqual(states.slice(0, 3), ["connecting", "open", "reconnecting"]);
    assert.equal(states.at(-1), "open");
    assert.ok(!states.includes("closed"), `states ${states}`);
    assert.equal(c.reconnects, 1);
    const newStream = c.welcome.stream;
    assert.notEqual(newStream, oldStream);

    await app.log("RESTART", "info", "from the second process");
    await app.flush();
    await events.until(hasMessage("from the second process"), "the second process's record");
    const gap = events.gaps.find((g) => g.stream === oldStream);
    assert.ok(gap, "a gap for the old stream");
    assert.equal(gap.reason, "restart");
    assert.equal(gap.fromSeq, oldSeq + 1);
    assert.equal(gap.toSeq, undefined);
    assert.equal(gap.count, undefined);
    const gapAt = events.events.indexOf(gap);
    const rec = events.events.find((e) => e.kind === "record" && e.record.message === "from the second process");
    assert.ok(events.events.indexOf(rec) > gapAt, "the gap comes before the new stream's records");
    assert.equal(rec.record.stream, newStream);
    assert.deepEqual(rec.record.sub, ["live"]);
    assert.ok(!(oldStream in c.cursor), "the old stream left the cursor");
    assert.equal(c.cursor[newStream], rec.record.seq);
  });
});

describe("BridgeClient and the bridge's heartbeats", { skip: SKIP }, () => {
  let dir;
  let app;
  let client;

  before(async () => {
    dir = tempDir();
    app = await App.start(dir, { heartbeat: "1s" });
  });

  after(async () => {
    if (client) await client.close();
    if (app) await app.stop();
    removeDir(dir);
  });

  test("heartbeats keep a quiet connection open (silence is 2 x heartbeat_ms) and move the cursor past unmatched records", async () => {
    const frames = [];
    class SpyWebSocket extends WebSocket {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
      }
    }
    client = new BridgeClient({ url: app.wsUrl, WebSocket: SpyWebSocket });
    const events = new Collector(client);
    const welcome = await client.connect();
    assert.equal(welcome.heartbeat_ms, 1000);
    await client.subscribe({ layers: ["NOTHING_LOGS_HERE"] });
    await app.log("APP", "info", "one");
    await app.log("APP", "info", "two");
    await app.flush();
    const heartbeats = () => frames.filter((f) => f.type === "heartbeat");
    await waitUntil(() => heartbeats().length >= 3, "three heartbeat frames", 3 * WAIT);
    assert.equal(client.state, "open");
    assert.equal(client.reconnects, 0);
    assert.deepEqual(events.states, ["connecting", "open"], "no silence drop");
    const hb = heartbeats().at(-1);
    assert.equal(typeof hb.cursor[welcome.stream], "string", JSON.stringify(hb));
    assert.equal(client.cursor[welcome.stream], Number(hb.cursor[welcome.stream]));
    assert.ok(client.cursor[welcome.stream] >= 2, `the cursor ${JSON.stringify(client.cursor)} is past the two unmatched records`);
    assert.equal(events.records.length, 0);
  });
});
