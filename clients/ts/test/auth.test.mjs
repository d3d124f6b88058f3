// Authentication and roles against a real bridge with API keys.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";

import { BridgeClient, BridgeError } from "../dist/index.js";
import { App, Collector, SKIP, hasMessage, removeDir, sha256hex, tempDir, waitFile } from "../test-support/bridge.mjs";

const VIEWER = "viewer-key-0123456789";
const SUBMITTER = "submitter-key-0123456789";

describe("BridgeClient authentication", { skip: SKIP }, () => {
  let dir;
  let app;
  const clients = [];
  const client = (options = {}) => {
    const c = new BridgeClient({ url: app.wsUrl, WebSocket, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = tempDir();
    app = await App.start(dir, {
      tenant: "acme",
      api_keys: [`viewer:acme:${sha256hex(VIEWER)}`, `submitter:acme:${sha256hex(SUBMITTER)}`],
      allowed_origins: ["http://good.example"],
    });
  });

  after(async () => {
    for (const c of clients) await c.close();
    if (app) await app.stop();
    removeDir(dir);
  });

  test("no token: connect() rejects with code 4401 and the client does not reconnect", async () => {
    const c = client();
    const events = new Collector(c);
    await assert.rejects(c.connect(), (e) => e instanceof BridgeError && e.code === 4401);
    assert.equal(c.state, "closed");
    assert.deepEqual(events.events.at(-1), { kind: "state", state: "closed", code: 4401, reason: "unauthenticated" });
    assert.equal(c.reconnects, 0);
  });

  test("a wrong token: 4401", async () => {
    const c = client({ token: "not-a-key" });
    await assert.rejects(c.connect(), (e) => e instanceof BridgeError && e.code === 4401);
  });

  test("a viewer subscribes and sees records; its submit is refused with code forbidden", async () => {
    const c = client({ token: VIEWER });
    const events = new Collector(c);
    const welcome = await c.connect();
    assert.equal(welcome.role, "viewer");
    assert.equal(welcome.tenant, "acme");
    assert.equal(await c.subscribe({ layers: ["APP"] }), "s1");
    await app.log("APP", "info", "seen by the viewer");
    await app.flush();
    await events.until(hasMessage("seen by the viewer"), "the record");
    assert.equal(events.records[0].tenant, "acme");
    await assert.rejects(c.submit([{ message: "from a viewer" }]), (e) => e instanceof BridgeError && e.code === "forbidden");
    await assert.rejects(
      c.subscribe({ tenant: "other" }),
      (e) => e instanceof BridgeError && e.code === "forbidden",
    );
    assert.equal(c.state, "open", "errors are not fatal");
  });

  test("a submitter submits over the WebSocket (ack) and cannot subscribe", async () => {
    const c = client({ token: SUBMITTER });
    const welcome = await c.connect();
    assert.equal(welcome.role, "submitter");
    await assert.rejects(c.subscribe({}), (e) => e instanceof BridgeError && e.code === "forbidden");
    const ack = await c.submit([
      { level: "error", message: "over the socket", session: "ws-session", page: "/ws" },
      { level: "nonsense", message: "a bad level" },
    ]);
    assert.equal(ack.accepted, 1);
    assert.deepEqual(ack.rejected.map((r) => [r.index, r.reason]), [[1, "bad_level"]]);
    const records = await waitFile(app, (rs) => rs.some((r) => r.message === "over the socket"), "the submitted record");
    const r = records.find((x) => x.message === "over the socket");
    assert.equal(r.layer, "FRONTEND");
    assert.equal(r.level, "error");
  });

  test("the token rides as the subprotocol alone too; wsOptions.origin is checked against allowed_origins", async () => {
    // hello.token is optional when the subprotocol carried it: a raw socket proves the subprotocol.
    const { base64url } = await import("../dist/index.js");
    const raw = new WebSocket(app.wsUrl, ["hydra.v1", `hydra.token.${base64url(VIEWER)}`]);
    const welcome = await new Promise((resolve, reject) => {
      raw.on("open", () => raw.send(JSON.stringify({ type: "hello", protocol: 1 })));
      raw.on("message", (d) => resolve(JSON.parse(String(d))));
      raw.on("close", (code) => reject(new Error(`closed ${code}`)));
      raw.on("error", reject);
    });
    assert.equal(raw.protocol, "hydra.v1", "the bridge answers hydra.v1, never the token");
    raw.close();
    assert.equal(welcome.type, "welcome");
    assert.equal(welcome.role, "viewer");

    const good = client({ token: VIEWER, wsOptions: { origin: "http://good.example" } });
    assert.equal((await good.connect()).role, "viewer");
    const bad = client({ token: VIEWER, wsOptions: { origin: "http://evil.example" } });
    await assert.rejects(bad.connect(), (e) => e instanceof BridgeError && e.code === 1006 && /403/.test(e.message));
  });
});
