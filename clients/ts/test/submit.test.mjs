// Submitter against a real bridge's POST /intake: batching, redaction,
// retries on 429 with Retry-After, the queue bound, sendBeacon and its fallback.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Submitter } from "../dist/index.js";
import { App, SKIP, removeDir, sha256hex, tempDir, waitFile } from "../test-support/bridge.mjs";

const TOKEN = "submitter-token-abcdef";
const FILE_KEYS = new Set(["timestamp", "time", "level", "layer", "logger", "message", "fields", "source", "thread", "severity"]);

/** A file record's fields: its `fields` object and any key the format put at top level. */
function fieldsOf(record) {
  const out = {};
  for (const [k, v] of Object.entries(record)) if (!FILE_KEYS.has(k)) out[k] = v;
  return Object.assign(out, record.fields ?? {});
}

/** globalThis.fetch, recording each call: { url, init, status, retryAfter, at, answeredAt }. */
function recordingFetch() {
  const calls = [];
  const f = async (url, init) => {
    const call = { url: String(url), init, at: Date.now() };
    calls.push(call);
    const res = await fetch(url, init);
    call.status = res.status;
    call.retryAfter = res.headers.get("retry-after");
    call.answeredAt = Date.now();
    return res;
  };
  f.calls = calls;
  return f;
}

describe("Submitter with a real bridge", { skip: SKIP }, () => {
  let dir;
  let app; // API keys: a submitter token

  before(async () => {
    dir = tempDir();
    app = await App.start(dir, { api_keys: [`submitter:default:${sha256hex(TOKEN)}`] });
  });

  after(async () => {
    if (app) await app.stop();
    removeDir(dir);
  });

  test("records land on layer FRONTEND with session and page, redacted; batches split at maxBatchRecords", async () => {
    const f = recordingFetch();
    const s = new Submitter({
      baseUrl: app.httpUrl,
      token: TOKEN,
      session: "sess-six",
      page: () => "/cart",
      maxBatchRecords: 2,
      flushIntervalMs: 60_000,
      fetch: f,
    });
    s.log("error", "checkout failed for alice@example.com", { order: 1234, region: "eu" }, { trace_id: "5b8efff798038103d269b633813fc60c" });
    for (let i = 2; i <= 5; i++) s.log("info", `six record ${i}`);
    await s.flush();
    assert.equal(f.calls.length, 3, "5 records in batches of 2");
    const sizes = f.calls.map((c) => JSON.parse(c.init.body).records.length);
    assert.deepEqual(sizes, [2, 2, 1]);
    for (const c of f.calls) {
      assert.equal(c.url, `${app.httpUrl}/intake`);
      assert.equal(c.init.method, "POST");
      assert.equal(c.init.keepalive, true);
      assert.equal(c.init.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(JSON.parse(c.init.body).type, "submit");
      assert.equal(c.status, 202);
    }
    const st = s.stats();
    assert.deepEqual(
      { queued: st.queued, queuedBytes: st.queuedBytes, sent: st.sent, dropped: st.dropped, retries: st.retries },
      { queued: 0, queuedBytes: 0, sent: 5, dropped: 0, retries: 0 },
    );

    const records = await waitFile(
      app,
      (rs) => rs.filter((r) => fieldsOf(r).session === "sess-six").length >= 5,
      "the five submitted records",
    );
    const mine = records.filter((r) => fieldsOf(r).session === "sess-six");
    assert.equal(mine.length, 5);
    for (const r of mine) {
      assert.equal(r.layer, "FRONTEND");
      assert.equal(fieldsOf(r).page, "/cart");
    }
    const first = mine.find((r) => r.level === "error");
    assert.match(first.message, /^checkout failed for \[REDACTED_[A-Z_]+\]$/);
    assert.ok(!JSON.stringify(records).includes("alice@example.com"), "the raw email is nowhere in the file");
    assert.equal(fieldsOf(first).order, 1234);
    assert.equal(fieldsOf(first).trace_id, "5b8efff798038103d269b633813fc60c");
    assert.equal(typeof fieldsOf(first).client_time, "string");
  });

  test("the queue bound: past maxQueueBytes new records are dropped and counted as queue_full", async () => {
    const s = new Submitter({
      baseUrl: app.httpUrl,
      token: TOKEN,
      session: "sess-bound",
      page: () => "/bound",
      maxQueueBytes: 2000,
      maxBatchRecords: 500,
      maxBatchBytes: 100_000,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 40; i++) s.log("info", `bounded record ${i} with some padding to make it longer`);
    const st = s.stats();
    assert.ok(st.queuedBytes <= 2000, `queuedBytes ${st.queuedBytes}`);
    assert.ok(st.dropped > 0 && st.droppedByReason.queue_full === st.dropped, JSON.stringify(st));
    assert.equal(st.queued + st.dropped, 40);
    const kept = st.queued;
    await s.flush();
    assert.equal(s.stats().sent, kept);
    const records = await waitFile(
      app,
      (rs) => rs.filter((r) => fieldsOf(r).session === "sess-bound").length >= kept,
      "the kept records",
    );
    const mine = records.filter((r) => fieldsOf(r).session === "sess-bound");
    assert.deepEqual(
      mine.map((r) => r.message),
      Array.from({ length: kept }, (_, i) => `bounded record ${i} with some padding to make it longer`),
      "the first ones are kept, the later ones dropped",
    );
  });

  test("flushWithBeacon: the token in the URL, a valid submit body, batches of at most 60 KiB", async () => {
    const beacons = [];
    const s = new Submitter({
      baseUrl: app.httpUrl + "/",
      token: TOKEN,
      session: "sess-beacon",
      page: () => "/beacon",
      maxBatchRecords: 500,
      maxBatchBytes: 1 << 20,
      flushIntervalMs: 60_000,
      fetch: () => {
        throw new Error("fetch must not be used while sendBeacon takes the batches");
      },
      sendBeacon: (url, body) => {
        beacons.push({ url, body });
        return true;
      },
    });
    const big = "x".repeat(20_000);
    for (let i = 0; i < 12; i++) s.log("info", `beacon record ${i} ${big}`);
    s.log("warning", "beacon small");
    assert.equal(s.flushWithBeacon(), true);
    assert.equal(s.stats().queued, 0);
    assert.ok(beacons.length >= 4, `${beacons.length} beacons for ~240 KB`);
    let total = 0;
    for (const b of beacons) {
      assert.equal(b.url, `${app.httpUrl}/intake?token=${TOKEN}`);
      assert.ok(Buffer.byteLength(b.body) <= 60 * 1024, `a beacon of ${Buffer.byteLength(b.body)} bytes`);
      const frame = JSON.parse(b.body);
      assert.equal(frame.type, "submit");
      total += frame.records.length;
      // What the browser would do with it: POST the string, no Authorization header.
      const res = await fetch(b.url, { method: "POST", body: b.body, headers: { "content-type": "text/plain;charset=UTF-8" } });
      assert.equal(res.status, 202, await res.clone().text());
      const ack = await res.json();
      assert.equal(ack.type, "ack");
      assert.equal(ack.accepted, frame.records.length);
    }
    assert.equal(total, 13);
    const records = await waitFile(app, (rs) => rs.some((r) => r.message === "beacon small"), "the beacon records");
    assert.equal(records.filter((r) => fieldsOf(r).session === "sess-beacon").length, 13);
  });

  test("flushWithBeacon falls back to fetch keepalive when sendBeacon returns false", async () => {
    const f = recordingFetch();
    const beacons = [];
    const s = new Submitter({
      baseUrl: app.httpUrl,
      token: TOKEN,
      session: "sess-fallback",
      page: () => "/fallback",
      flushIntervalMs: 60_000,
      fetch: (url, init) => {
        const p = f(url, init);
        pending.push(p);
        return p;
      },
      sendBeacon: (url, body) => {
        beacons.push({ url, body });
        return false; // e.g. the browser's beacon quota is used up
      },
    });
    const pending = [];
    s.log("error", "fallback one");
    s.log("error", "fallback two");
    assert.equal(s.flushWithBeacon(), true);
    assert.equal(beacons.length, 1);
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0].init.keepalive, true);
    assert.equal(f.calls[0].init.method, "POST");
    assert.equal(f.calls[0].init.body, beacons[0].body);
    await Promise.all(pending);
    assert.equal(f.calls[0].status, 202);
    const records = await waitFile(
      app,
      (rs) => rs.filter((r) => fieldsOf(r).session === "sess-fallback").length >= 2,
      "the fallback records",
    );
    assert.deepEqual(
      records.filter((r) => fieldsOf(r).session === "sess-fallback").map((r) => r.message),
      ["fallback one", "fallback two"],
    );
  });
});

describe("Submitter retries against a rate-limited bridge", { skip: SKIP }, () => {
  let dir;
  let app; // open, submit_rate = 5, submit_burst = 5

  before(async () => {
    dir = tempDir();
    app = await App.start(dir, { submit_rate: 5, submit_burst: 5 });
  });

  after(async () => {
    if (app) await app.stop();
    removeDir(dir);
  });

  test("429 with Retry-After: the Submitter waits at least that long, retries, and every record lands", async () => {
    // Five records a second after a burst of five: the first batch of 5 takes
    // the burst, the next finds (almost) no tokens and gets 429 with Retry-After.
    const f = recordingFetch();
    const s = new Submitter({
      baseUrl: app.httpUrl,
      session: "sess-retry",
      page: () => "/retry",
      maxBatchRecords: 5,
      flushIntervalMs: 60_000,
      random: () => 0, // no jitter: Retry-After alone sets the wait
      fetch: f,
    });
    for (let i = 1; i <= 10; i++) s.log("info", `retry record ${i}`);
    await s.flush();
    const statuses = f.calls.map((c) => c.status);
    assert.deepEqual(statuses.slice(0, 2), [202, 429], JSON.stringify(statuses));
    assert.equal(statuses.at(-1), 202);
    const limited = f.calls[1];
    assert.ok(Number(limited.retryAfter) >= 1, `Retry-After ${limited.retryAfter}`);
    const retry = f.calls[2];
    assert.equal(retry.init.body, limited.init.body, "the same batch again");
    assert.ok(
      retry.at - limited.answeredAt >= Number(limited.retryAfter) * 1000 - 20,
      `waited ${retry.at - limited.answeredAt} ms, Retry-After ${limited.retryAfter} s`,
    );
    const st = s.stats();
    assert.ok(st.retries >= 1, JSON.stringify(st));
    assert.equal(st.sent, 10);
    assert.equal(st.dropped, 0);
    const records = await waitFile(
      app,
      (rs) => rs.filter((r) => fieldsOf(r).session === "sess-retry").length >= 10,
      "the ten records",
    );
    assert.deepEqual(
      records.filter((r) => fieldsOf(r).session === "sess-retry").map((r) => r.message),
      Array.from({ length: 10 }, (_, i) => `retry record ${i + 1}`),
    );
  });
});
