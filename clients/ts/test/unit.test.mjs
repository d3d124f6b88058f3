// The pure parts, and the client's and submitter's logic against fakes (no
// bridge needed): base64url, backoff, Retry-After, cursors, reconnects,
// silence, terminal closes, retries, the page lifecycle, error capture.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { BridgeClient, BridgeError, Submitter, backoffDelay, base64url, parseRetryAfter } from "../dist/index.js";

// -- a fake WebSocket and a fake bridge ----------------------------------------

/** A WebSocket constructor whose sockets the test drives (accept, deliver, drop). */
function fakeBridge({ autoAccept = true, welcome = {} } = {}) {
  const sockets = [];
  const bridge = {
    sockets,
    get last() {
      return sockets.at(-1);
    },
    /** Answers hello with welcome and subscribe with subscribed, when true. */
    autoAnswer: true,
    welcome: { type: "welcome", protocol: 1, role: "admin", tenant: "default", stream: "app/0001", heartbeat_ms: 15000, limits: {}, ...welcome },
  };
  class FakeWebSocket {
    constructor(url, protocols, options) {
      this.url = url;
      this.protocols = protocols;
      this.options = options;
      this.readyState = 0;
      this.sent = [];
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      sockets.push(this);
      if (autoAccept) setTimeout(() => this.accept(), 0);
    }
    accept() {
      if (this.readyState !== 0) return;
      this.readyState = 1;
      this.onopen?.({});
    }
    send(data) {
      const frame = JSON.parse(data);
      this.sent.push(frame);
      if (!bridge.autoAnswer) return;
      if (frame.type === "hello") setTimeout(() => this.deliver(bridge.welcome), 0);
      if (frame.type === "subscribe") setTimeout(() => this.deliver({ type: "subscribed", id: frame.id }), 0);
    }
    deliver(frame) {
      if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(frame) });
    }
    /** The bridge closes the connection. */
    drop(code, reason = "") {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
    close(code = 1005, reason = "") {
      if (this.readyState === 3) return;
      this.readyState = 2;
      this.closedWith = { code, reason };
      setTimeout(() => {
        this.readyState = 3;
        this.onclose?.({ code, reason });
      }, 0);
    }
    terminate() {
      this.terminated = true;
      this.drop(1006, "");
    }
  }
  bridge.WebSocket = FakeWebSocket;
  return bridge;
}

/** Resolves when cond() holds (polled every few ms), rejects after `timeout`. */
async function until(cond, what, timeout = 3000) {
  const deadline = Date.now() + timeout;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function collect(client) {
  const events = [];
  client.onEvent((e) => events.push(e));
  return events;
}

// -- pure helpers ---------------------------------------------------------------

describe("base64url", () => {
  test("RFC 4648 vectors, without padding", () => {
    const vectors = { "": "", f: "Zg", fo: "Zm8", foo: "Zm9v", foob: "Zm9vYg", fooba: "Zm9vYmE", foobar: "Zm9vYmFy" };
    for (const [input, out] of Object.entries(vectors)) assert.equal(base64url(input), out, input);
  });

  test("the URL alphabet (- and _) and UTF-8, as Node's Buffer does it", () => {
    assert.equal(base64url(new Uint8Array([0xfb, 0xff, 0xbf])), "-_-_");
    assert.equal(base64url(new Uint8Array([0xfb, 0xff])), "-_8");
    for (const s of ["ü", "日本語のトークン", "a.b.c-_~", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "😀 emoji"]) {
      assert.equal(base64url(s), Buffer.from(s, "utf8").toString("base64url"), s);
    }
    let s = "";
    for (let i = 0; i < 300; i++) {
      s += String.fromCharCode(32 + ((i * 7919) % 2000));
      assert.equal(base64url(s), Buffer.from(s, "utf8").toString("base64url"));
    }
  });
});

describe("backoffDelay (full jitter)", () => {
  test("random() * min(cap, base * 2^attempt)", () => {
    assert.equal(backoffDelay(0, 250, 10_000, () => 0), 0);
    assert.equal(backoffDelay(0, 250, 10_000, () => 0.5), 125);
    assert.equal(backoffDelay(3, 250, 10_000, () => 0.5), 1000);
    assert.equal(backoffDelay(10, 250, 10_000, () => 0.5), 5000, "capped");
    assert.equal(backoffDelay(1000, 250, 10_000, () => 0.999), 9990, "no overflow");
  });

  test("always within [0, min(cap, base * 2^attempt)]", () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999, 1]) {
        const d = backoffDelay(attempt, 250, 10_000, () => r);
        assert.ok(d >= 0 && d <= ceiling, `attempt ${attempt} random ${r}: ${d}`);
      }
      for (let i = 0; i < 20; i++) {
        const d = backoffDelay(attempt, 250, 10_000);
        assert.ok(d >= 0 && d < ceiling, `attempt ${attempt}: ${d}`);
      }
    }
  });
});

describe("parseRetryAfter", () => {
  test("seconds, an HTTP date, or nothing", () => {
    assert.equal(parseRetryAfter("3", 0), 3000);
    assert.equal(parseRetryAfter(" 0 ", 0), 0);
    const now = Date.parse("2026-12-07T10:00:00Z");
    assert.equal(parseRetryAfter("Mon, 07 Dec 2026 10:00:05 GMT", now), 5000);
    assert.equal(parseRetryAfter("Mon, 07 Dec 2026 09:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter("soon", now), undefined);
  });
});

// -- BridgeClient against a fake --------------------------------------------------

describe("BridgeClient (fake WebSocket)", () => {
  test("hello: subprotocols hydra.v1 and hydra.token.<base64url>, token, client, backlog, resume as decimal strings", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({
      url: "ws://bridge/ws",
      token: "secret token/ü",
      backlog: 200,
      resume: { "app/0001": 41, "big/stream": "9007199254740993" },
      WebSocket: bridge.WebSocket,
      wsOptions: { origin: "http://x" },
    });
    const welcome = await c.connect();
    assert.equal(welcome.stream, "app/0001");
    const ws = bridge.last;
    assert.equal(ws.url, "ws://bridge/ws");
    assert.deepEqual(ws.protocols, ["hydra.v1", `hydra.token.${Buffer.from("secret token/ü").toString("base64url")}`]);
    assert.ok(!ws.protocols[1].includes("="));
    assert.deepEqual(ws.options, { origin: "http://x" });
    assert.deepEqual(ws.sent[0], {
      type: "hello",
      protocol: 1,
      client: "hydra-ts/0.1.0",
      token: "secret token/ü",
      resume: { "app/0001": "41", "big/stream": "9007199254740993" },
      backlog: 200,
    });
    await c.close();
    assert.deepEqual(ws.closedWith, { code: 1000, reason: "bye" });
  });

  test("the cursor follows records' seq, frames' to_seq and heartbeat cursors, never backwards", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket });
    const events = collect(c);
    await c.connect();
    assert.deepEqual(c.cursor, {});
    const ws = bridge.last;
    ws.deliver({
      type: "records",
      stream: "app/0001",
      to_seq: "12",
      records: [
        { seq: "10", sub: ["s1"], time: "t", level: "info", layer: "APP", logger: "l", message: "m10", fields: { a: 1 }, service: "svc", tenant: "default" },
        { seq: "11", sub: ["s1"], time: "t", level: "error", layer: "APP", logger: "l", message: "card [REDACTED_CARD]", redacted: [[5, 20, "CARD"]], fields: {}, service: "svc", tenant: "default" },
      ],
    });
    assert.deepEqual(c.cursor, { "app/0001": 12 });
    const records = events.filter((e) => e.kind === "record").map((e) => e.record);
    assert.deepEqual(records[0], {
      seq: 10, stream: "app/0001", time: "t", level: "info", layer: "APP", logger: "l", message: "m10",
      redacted: [], fields: { a: 1 }, service: "svc", tenant: "default", sub: ["s1"],
    });
    assert.deepEqual(records[1].redacted, [[5, 20, "CARD"]]);
    ws.deliver({ type: "heartbeat", cursor: { "app/0001": "30" } });
    assert.deepEqual(c.cursor, { "app/0001": 30 });
    ws.deliver({ type: "heartbeat", cursor: { "app/0001": "25" } });
    assert.deepEqual(c.cursor, { "app/0001": 30 }, "never backwards");
    ws.deliver({ type: "heartbeat", cursor: { "other/0002": "9007199254740993" } });
    assert.equal(c.cursor["other/0002"], 9007199254740992); // as a number; exact in resume (below)
    ws.deliver({ type: "gap", stream: "app/0001", from_seq: "31", to_seq: "40", count: "3", reason: "slow_client" });
    assert.deepEqual(events.at(-1), { kind: "gap", stream: "app/0001", fromSeq: 31, toSeq: 40, count: 3, reason: "slow_client" });
    ws.deliver({ type: "pong", t: "1" });
    ws.deliver({ type: "from_the_future", x: 1 });
    ws.drop(1001, "going away");
    await until(() => bridge.sockets.length === 2 && bridge.last.sent.length > 0, "the reconnect's hello");
    assert.deepEqual(bridge.last.sent[0].resume, { "app/0001": "30", "other/0002": "9007199254740993" });
    await c.close();
  });

  test("a restart gap removes the dead stream from the cursor", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket, resume: { "old/1": 5 } });
    const events = collect(c);
    await c.connect();
    bridge.last.deliver({ type: "gap", stream: "old/1", from_seq: "6", reason: "restart" });
    assert.deepEqual(events.at(-1), { kind: "gap", stream: "old/1", fromSeq: 6, reason: "restart" });
    assert.deepEqual(c.cursor, {});
    await c.close();
  });

  test("an unexpected drop: reconnecting, backoff, hello with resume, the same subscriptions again, then open", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket, random: () => 0 });
    const events = collect(c);
    await c.connect();
    await c.subscribe({ layers: ["APP"], min_level: "warning" }, { id: "mine", sample: { limit: 10, per_ms: 500 } });
    await c.subscribe({ text: "x" });
    bridge.last.deliver({ type: "records", stream: "app/0001", to_seq: "7", records: [] });
    bridge.last.drop(1006, "");
    assert.equal(c.state, "reconnecting");
    await until(() => c.state === "open", "open again");
    assert.equal(c.reconnects, 1);
    const sent = bridge.last.sent;
    assert.equal(sent[0].type, "hello");
    assert.deepEqual(sent[0].resume, { "app/0001": "7" });
    assert.deepEqual(sent.slice(1), [
      { type: "subscribe", id: "mine", filter: { layers: ["APP"], min_level: "warning" }, sample: { limit: 10, per_ms: 500 } },
      { type: "subscribe", id: "s1", filter: { text: "x" } },
    ]);
    assert.deepEqual(
      events.filter((e) => e.kind === "state").map((e) => [e.state, e.code]),
      [["connecting", undefined], ["open", undefined], ["reconnecting", 1006], ["open", undefined]],
    );
    await c.close();
  });

  test("state open after a reconnect waits for every subscription's answer; one refused is dropped", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket, random: () => 0 });
    await c.connect();
    await c.subscribe({}, { id: "a" });
    await c.subscribe({}, { id: "b" });
    bridge.autoAnswer = false;
    bridge.last.drop(1000, "bye"); // the bridge shutting down: clients reconnect
    await until(() => bridge.sockets.length === 2 && bridge.last.sent.length === 3, "hello and two subscribes");
    const ws = bridge.last;
    ws.deliver(bridge.welcome);
    assert.equal(c.state, "reconnecting");
    ws.deliver({ type: "subscribed", id: "a" });
    assert.equal(c.state, "reconnecting");
    ws.deliver({ type: "error", id: "b", code: "forbidden", message: "no" });
    assert.equal(c.state, "open");
    ws.drop(1006);
    await until(() => bridge.sockets.length === 3 && bridge.last.sent.length === 2, "hello and one subscribe");
    assert.deepEqual(bridge.last.sent.map((f) => f.id ?? f.type), ["hello", "a"]);
    await c.close();
  });

  test("failed attempts back off (full jitter, growing to the cap) until the bridge is back", async () => {
    const bridge = fakeBridge();
    const randoms = [];
    const c = new BridgeClient({
      url: "ws://b/ws", WebSocket: bridge.WebSocket, backoffBaseMs: 4, backoffCapMs: 16,
      random: () => {
        randoms.push(1);
        return 0.999;
      },
    });
    await c.connect();
    bridge.autoAnswer = false;
    const started = bridge.sockets.length;
    bridge.last.drop(1006);
    // Refuse four attempts (closed before welcome), then answer.
    for (let i = 0; i < 4; i++) {
      await until(() => bridge.sockets.length === started + 1 + i && bridge.last.readyState === 1, `attempt ${i + 1}`);
      bridge.last.drop(i === 2 ? 4429 : 1006, i === 2 ? "too_many_clients" : "");
    }
    bridge.autoAnswer = true;
    await until(() => c.state === "open", "open");
    assert.equal(c.reconnects, 1);
    assert.equal(randoms.length, 5, "one backoff per attempt");
    await c.close();
  });

  for (const [code, reason] of [
    [4401, "unauthenticated"], [4403, "forbidden"], [4400, "hello_first"],
    [4413, "filter_too_costly"], [4430, "subscription_expired"],
  ]) {
    test(`close ${code} is final: state closed, no reconnect`, async () => {
      const bridge = fakeBridge();
      const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket, random: () => 0 });
      const events = collect(c);
      await c.connect();
      bridge.last.drop(code, reason);
      assert.equal(c.state, "closed");
      assert.deepEqual(events.at(-1), { kind: "state", state: "closed", code, reason });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(bridge.sockets.length, 1);
      await c.close();
    });
  }

  test("reconnect: false: a drop closes", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket, reconnect: false });
    await c.connect();
    bridge.last.drop(1006);
    assert.equal(c.state, "closed");
    await c.close();
  });

  test("silence for 2 x heartbeat_ms is a drop", async () => {
    // Frames every 40 ms against a 400 ms limit: a loaded machine's late
    // timers stay far inside it.
    const bridge = fakeBridge({ welcome: { heartbeat_ms: 200 } });
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket, random: () => 0 });
    const events = collect(c);
    await c.connect();
    const first = bridge.last;
    // Frames keep it alive...
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 40));
      first.deliver({ type: "heartbeat", cursor: {} });
    }
    assert.equal(bridge.sockets.length, 1);
    // ...silence does not.
    await until(() => events.some((e) => e.kind === "state" && e.state === "reconnecting"), "reconnecting");
    assert.ok(first.terminated, "the silent socket was terminated");
    const drop = events.find((e) => e.kind === "state" && e.state === "reconnecting");
    assert.match(drop.reason, /no frame for 400 ms/);
    await until(() => c.state === "open" && c.reconnects === 1, "open again");
    await c.close();
  });

  test("connect() rejects with the close code when the socket closes before welcome", async () => {
    const bridge = fakeBridge();
    bridge.autoAnswer = false;
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket });
    const p = c.connect();
    await until(() => bridge.last?.sent.length === 1, "hello");
    bridge.last.drop(4429, "too_many_clients");
    await assert.rejects(p, (e) => e instanceof BridgeError && e.code === 4429);
    assert.equal(c.state, "closed");
    assert.equal(bridge.sockets.length, 1);
  });

  test("subscribe before connect(): sent right behind hello; rejected on error", async () => {
    const bridge = fakeBridge();
    bridge.autoAnswer = false;
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket });
    const ok = c.subscribe({ layers: ["A"] }, { id: "early" });
    const bad = c.subscribe({ regex: "(" });
    const p = c.connect();
    await until(() => bridge.last?.sent.length === 3, "hello and two subscribes");
    assert.deepEqual(bridge.last.sent.map((f) => f.type), ["hello", "subscribe", "subscribe"]);
    const ws = bridge.last;
    ws.deliver(bridge.welcome);
    ws.deliver({ type: "subscribed", id: "early" });
    ws.deliver({ type: "error", id: "s1", code: "bad_filter", message: "regex: missing )" });
    await p;
    assert.equal(await ok, "early");
    await assert.rejects(bad, (e) => e instanceof BridgeError && e.code === "bad_filter" && /missing/.test(e.message));
    // unsubscribe answers with `unsubscribed`
    const un = c.unsubscribe("early");
    assert.deepEqual(ws.sent.at(-1), { type: "unsubscribe", id: "early" });
    ws.deliver({ type: "unsubscribed", id: "early" });
    await un;
    ws.drop(1006);
    await until(() => bridge.sockets.length === 2 && bridge.last.sent.length === 1, "hello only");
    await c.close();
  });

  test("submit: resolves with the ack; an error frame rejects with its code and retry_after_ms; a drop rejects", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket, random: () => 0 });
    await assert.rejects(c.submit([{ message: "x" }]), (e) => e.code === "not_connected");
    await c.connect();
    const ws = bridge.last;
    const p1 = c.submit([{ message: "a" }, { message: "b", level: "loud" }]);
    const f1 = ws.sent.at(-1);
    assert.equal(f1.type, "submit");
    assert.deepEqual(f1.records, [{ message: "a" }, { message: "b", level: "loud" }]);
    ws.deliver({ type: "ack", id: f1.id, accepted: 1, rejected: [{ index: 1, reason: "bad_level", message: "level" }] });
    assert.deepEqual(await p1, { accepted: 1, rejected: [{ index: 1, reason: "bad_level", message: "level" }] });
    const p2 = c.submit([{ message: "c" }]);
    ws.deliver({ type: "error", id: ws.sent.at(-1).id, code: "rate_limited", message: "slow down", retry_after_ms: 1500 });
    await assert.rejects(p2, (e) => e instanceof BridgeError && e.code === "rate_limited" && e.retryAfterMs === 1500);
    const p3 = c.submit([{ message: "d" }]);
    ws.drop(1006);
    await assert.rejects(p3, (e) => e.code === "disconnected");
    ws.deliver({ type: "error", code: "rate_limited", message: "too many frames" }); // a dead socket: ignored
    await c.close();
  });

  test("events(): every event from now on, in order; ends after close(); onEvent's unsubscribe", async () => {
    const bridge = fakeBridge();
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: bridge.WebSocket });
    const it = c.events();
    const seen = [];
    const off = c.onEvent((e) => seen.push(e.kind));
    await c.connect();
    const rec = (seq) => ({ seq: String(seq), sub: ["s"], message: `m${seq}` });
    bridge.last.deliver({ type: "records", stream: "app/0001", to_seq: "3", records: [rec(1), rec(2), rec(3)] });
    off();
    bridge.last.deliver({ type: "gap", stream: "app/0001", from_seq: "4", to_seq: "5", count: "2", reason: "sampled" });
    await c.close();
    const all = [];
    for await (const e of it) all.push(e.kind === "record" ? `r${e.record.seq}` : e.kind === "gap" ? `gap:${e.reason}` : e.state);
    assert.deepEqual(all, ["connecting", "open", "r1", "r2", "r3", "gap:sampled", "closed"]);
    assert.deepEqual(seen, ["state", "state", "record", "record", "record"]);
  });

  test("no WebSocket constructor: connect() rejects instead of throwing", async () => {
    const c = new BridgeClient({ url: "ws://b/ws", WebSocket: null });
    if (typeof globalThis.WebSocket === "function") return; // Node 22+: there is one
    await assert.rejects(c.connect(), (e) => e instanceof BridgeError && e.code === 1006 && /WebSocket/.test(e.message));
  });
});

// -- Submitter against fakes ---------------------------------------------------------

/** A fetch answering from a list of statuses (or "network" to reject), recording the calls. */
function scriptedFetch(script) {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url, init });
    const step = script.length > 1 ? script.shift() : script[0];
    if (step === "network") throw new TypeError("fetch failed");
    const { status, retryAfter } = typeof step === "number" ? { status: step } : step;
    const records = JSON.parse(init.body).records;
    const body = status === 202 ? JSON.stringify({ type: "ack", accepted: records.length, rejected: [] }) : JSON.stringify({ type: "error", code: "x" });
    const headers = new Headers();
    if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
    return new Response(body, { status, headers });
  };
  f.calls = calls;
  return f;
}

/** setTimeout that records the delays asked for and runs at once. */
function fastTimers() {
  const delays = [];
  return {
    delays,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return setTimeout(fn, 0);
    },
    clearTimeout: (h) => clearTimeout(h),
  };
}

describe("Submitter (fake fetch)", () => {
  const base = { baseUrl: "http://bridge:9020", session: "s", page: () => "/p", flushIntervalMs: 60_000 };

  test("records carry level, message, time, session, page, fields, trace and span ids", async () => {
    const f = scriptedFetch([202]);
    const s = new Submitter({ ...base, fetch: f, now: () => Date.parse("2026-12-07T10:15:02.123Z") });
    s.log("warning", "hello", { n: 1 }, { trace_id: "t1", span_id: "p1" });
    s.log("info", "bare");
    await s.flush();
    assert.equal(f.calls[0].url, "http://bridge:9020/intake");
    assert.deepEqual(JSON.parse(f.calls[0].init.body), {
      type: "submit",
      records: [
        { level: "warning", message: "hello", time: "2026-12-07T10:15:02.123Z", fields: { n: 1 }, session: "s", page: "/p", trace_id: "t1", span_id: "p1" },
        { level: "info", message: "bare", time: "2026-12-07T10:15:02.123Z", session: "s", page: "/p" },
      ],
    });
    assert.equal(f.calls[0].init.headers.authorization, undefined, "no token, no header");
    assert.equal(new Submitter({ baseUrl: "http://b" }).stats().queued, 0);
  });

  test("a default session is a random id, the same on every record", async () => {
    const f = scriptedFetch([202]);
    const s = new Submitter({ baseUrl: "http://b", fetch: f, flushIntervalMs: 60_000 });
    s.log("info", "a");
    s.log("info", "b");
    await s.flush();
    const [a, b] = JSON.parse(f.calls[0].init.body).records;
    assert.match(a.session, /^[0-9a-f]{16,}$/);
    assert.equal(a.session, b.session);
    assert.equal(a.page, undefined, "no location in Node");
  });

  test("408, 429 and 5xx and network errors are retried; Retry-After is the minimum wait", async () => {
    const t = fastTimers();
    const f = scriptedFetch([{ status: 429, retryAfter: 7 }, 503, "network", 408, 202]);
    const s = new Submitter({ ...base, fetch: f, random: () => 0, ...t });
    s.log("info", "x");
    await s.flush();
    assert.equal(f.calls.length, 5);
    assert.deepEqual(t.delays.filter((d) => d !== 60_000), [7000, 0, 0, 0], "Retry-After 7 s, then the (zero) jittered backoff");
    assert.deepEqual(s.stats(), { queued: 0, queuedBytes: 0, sent: 1, dropped: 0, droppedByReason: {}, retries: 4 });
  });

  test("the backoff grows with the attempt (full jitter) when there is no Retry-After", async () => {
    const t = fastTimers();
    const f = scriptedFetch([500, 500, 500, 202]);
    const s = new Submitter({ ...base, fetch: f, random: () => 0.5, backoffBaseMs: 100, backoffCapMs: 300, ...t });
    s.log("info", "x");
    await s.flush();
    assert.deepEqual(t.delays.filter((d) => d !== 60_000), [50, 100, 150]);
  });

  test("other 4xx: the batch is dropped and counted as http_<status>", async () => {
    const f = scriptedFetch([400, 413, 202]);
    const s = new Submitter({ ...base, fetch: f, maxBatchRecords: 1, ...fastTimers() });
    s.log("info", "a");
    s.log("info", "b");
    s.log("info", "c");
    await s.flush();
    const st = s.stats();
    assert.equal(st.sent, 1);
    assert.equal(st.dropped, 2);
    assert.deepEqual(st.droppedByReason, { http_400: 1, http_413: 1 });
    assert.equal(st.retries, 0);
  });

  test("maxRetries: then the batch is dropped as retries_exhausted", async () => {
    const f = scriptedFetch([503]);
    const s = new Submitter({ ...base, fetch: f, maxRetries: 2, ...fastTimers() });
    s.log("info", "a");
    s.log("info", "b");
    await s.flush();
    assert.equal(f.calls.length, 3);
    assert.deepEqual(s.stats(), { queued: 0, queuedBytes: 0, sent: 0, dropped: 2, droppedByReason: { retries_exhausted: 2 }, retries: 2 });
  });

  test("an automatic flush at maxBatchRecords, at maxBatchBytes, and flushIntervalMs after the first record", async () => {
    const f = scriptedFetch([202]);
    const delays = [];
    const timers = [];
    const s = new Submitter({
      ...base,
      flushIntervalMs: 1234,
      maxBatchRecords: 3,
      maxBatchBytes: 400,
      fetch: f,
      setTimeout: (fn, ms) => {
        delays.push(ms);
        timers.push(fn);
        return timers.length;
      },
      clearTimeout: () => {},
    });
    s.log("info", "one");
    assert.deepEqual(delays, [1234], "a flush is due after flushIntervalMs");
    s.log("info", "two");
    assert.deepEqual(delays, [1234], "one timer, from the first record");
    assert.equal(f.calls.length, 0);
    s.log("info", "three");
    await until(() => f.calls.length === 1, "the flush at 3 records");
    assert.equal(JSON.parse(f.calls[0].init.body).records.length, 3);
    await s.flush();
    s.log("info", "x".repeat(500));
    await until(() => f.calls.length === 2, "the flush at maxBatchBytes");
    await s.flush();
    s.log("info", "by time");
    timers.at(-1)();
    await until(() => f.calls.length === 3, "the flush by time");
    assert.equal(JSON.parse(f.calls[2].init.body).records[0].message, "by time");
  });

  test("batches are at most maxBatchBytes of JSON", async () => {
    const f = scriptedFetch([202]);
    const s = new Submitter({ ...base, fetch: f, maxBatchRecords: 500, maxBatchBytes: 1000 });
    for (let i = 0; i < 30; i++) s.log("info", `record number ${i}`);
    await s.flush();
    let n = 0;
    for (const c of f.calls) {
      assert.ok(Buffer.byteLength(c.init.body) <= 1000, `${Buffer.byteLength(c.init.body)} bytes`);
      n += JSON.parse(c.init.body).records.length;
    }
    assert.equal(n, 30);
    assert.ok(f.calls.length >= 3);
  });

  test("the queue bound drops new records as queue_full", async () => {
    const s = new Submitter({ ...base, fetch: scriptedFetch([202]), maxQueueBytes: 500, maxBatchRecords: 500, maxBatchBytes: 100_000 });
    for (let i = 0; i < 20; i++) s.log("info", `a record of some length ${i}`);
    const st = s.stats();
    assert.ok(st.queuedBytes <= 500);
    assert.equal(st.queued + st.dropped, 20);
    assert.equal(st.droppedByReason.queue_full, st.dropped);
    assert.ok(st.dropped > 0);
    return s.close();
  });

  test("flushWithBeacon takes a batch that waits to retry, and falls back to fetch without sendBeacon", async () => {
    const beacons = [];
    let release;
    const s = new Submitter({
      ...base,
      token: "tok en",
      fetch: scriptedFetch([503, 202]),
      sendBeacon: (url, body) => beacons.push({ url, body }) > 0,
      setTimeout: (fn) => {
        release = fn; // the retry waits until the test says so
        return 1;
      },
      clearTimeout: () => {},
    });
    s.log("info", "waiting");
    const flushing = s.flush();
    await until(() => release !== undefined, "the retry's wait");
    s.log("info", "queued");
    assert.equal(s.flushWithBeacon(), true);
    assert.equal(beacons.length, 1);
    assert.equal(beacons[0].url, "http://bridge:9020/intake?token=tok%20en");
    assert.deepEqual(JSON.parse(beacons[0].body).records.map((r) => r.message), ["waiting", "queued"]);
    release();
    await flushing;
    assert.equal(s.stats().queued, 0);
    assert.equal(s.stats().sent, 2);

    const f = scriptedFetch([202]);
    const noBeacon = new Submitter({ ...base, token: "t", fetch: f });
    noBeacon.log("info", "x");
    assert.equal(noBeacon.flushWithBeacon(), true);
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0].init.keepalive, true);
    assert.equal(f.calls[0].init.headers.authorization, "Bearer t");
  });

  test("installPageLifecycle: visibilitychange to hidden and pagehide flush with the beacon; never unload", async () => {
    const beacons = [];
    const added = [];
    const doc = new EventTarget();
    doc.visibilityState = "visible";
    const win = new EventTarget();
    for (const target of [doc, win]) {
      const add = target.addEventListener.bind(target);
      target.addEventListener = (type, fn, o) => {
        added.push(type);
        add(type, fn, o);
      };
    }
    globalThis.document = doc;
    globalThis.window = win;
    try {
      const s = new Submitter({ ...base, fetch: scriptedFetch([202]), sendBeacon: (u, b) => beacons.push(b) > 0 });
      const uninstall = s.installPageLifecycle();
      assert.deepEqual(added.sort(), ["pagehide", "visibilitychange"]);
      s.log("info", "one");
      doc.dispatchEvent(new Event("visibilitychange"));
      assert.equal(beacons.length, 0, "still visible");
      doc.visibilityState = "hidden";
      doc.dispatchEvent(new Event("visibilitychange"));
      assert.equal(beacons.length, 1);
      s.log("info", "two");
      win.dispatchEvent(new Event("pagehide"));
      assert.equal(beacons.length, 2);
      uninstall();
      s.log("info", "three");
      win.dispatchEvent(new Event("pagehide"));
      assert.equal(beacons.length, 2);
      assert.ok(!added.includes("unload") && !added.includes("beforeunload"));
      await s.close();
    } finally {
      delete globalThis.document;
      delete globalThis.window;
    }
  });

  test("captureConsoleErrors and captureGlobalErrors log level error with error.type/message/stack", async () => {
    const f = scriptedFetch([202]);
    const win = new EventTarget();
    globalThis.window = win;
    const original = console.error;
    const printed = [];
    console.error = (...a) => printed.push(a);
    try {
      const s = new Submitter({ ...base, fetch: f });
      const restoreConsole = s.captureConsoleErrors();
      console.error("failed to load", new RangeError("bad range"));
      restoreConsole();
      console.error("not captured");
      assert.equal(printed.length, 2, "the original console.error still prints");

      const uninstall = s.captureGlobalErrors();
      const err = new TypeError("x is not a function");
      win.dispatchEvent(Object.assign(new Event("error"), { message: "Uncaught TypeError: x is not a function", error: err, filename: "app.js", lineno: 3, colno: 7 }));
      win.dispatchEvent(Object.assign(new Event("unhandledrejection"), { reason: new Error("nope") }));
      uninstall();
      win.dispatchEvent(Object.assign(new Event("error"), { message: "after uninstall" }));
      await s.flush();
      const records = JSON.parse(f.calls[0].init.body).records;
      assert.equal(records.length, 3);
      assert.ok(records.every((r) => r.level === "error"));
      assert.match(records[0].message, /^failed to load bad range$/);
      assert.equal(records[0].fields["error.type"], "RangeError");
      assert.equal(records[0].fields["error.message"], "bad range");
      assert.match(records[0].fields["error.stack"], /RangeError: bad range/);
      assert.equal(records[1].message, "Uncaught TypeError: x is not a function");
      assert.equal(records[1].fields["error.type"], "TypeError");
      assert.equal(records[1].fields["error.file"], "app.js");
      assert.equal(records[1].fields["error.line"], 3);
      assert.match(records[1].fields["error.stack"], /x is not a function/);
      assert.equal(records[2].fields["error.type"], "Error");
      assert.equal(records[2].fields["error.message"], "nope");
      assert.match(records[2].message, /^unhandled rejection: nope$/);
    } finally {
      console.error = original;
      delete globalThis.window;
    }
  });

  test("close() flushes; later records are dropped as closed", async () => {
    const f = scriptedFetch([202]);
    const s = new Submitter({ ...base, fetch: f });
    s.log("info", "last words");
    await s.close();
    assert.equal(f.calls.length, 1);
    s.log("info", "too late");
    assert.deepEqual(s.stats().droppedByReason, { closed: 1 });
  });
});
