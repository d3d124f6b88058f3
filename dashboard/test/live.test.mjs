// A record logged by the C++ process shows within a second; filters
// re-subscribe (the bridge filters); follow / pause / "N new".
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  App, WAIT, launchBrowser, makeConfig, messagesInMemory, openDashboard, skipReason, stats, tempDir, uid,
  waitForRow, waitReady,
} from "./helpers.mjs";

const skip = skipReason();

describe("live view", { skip: skip || false }, () => {
  let dir, app, browser, page;
  const frames = [];

  before(async () => {
    dir = tempDir();
    app = await App.start(dir, makeConfig(join(dir, "app.jsonl")));
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.consoleErrors = [];
    page.on("pageerror", (e) => page.consoleErrors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && page.consoleErrors.push(m.text()));
    page.on("websocket", (ws) => ws.on("framesent", (f) => frames.push(String(f.payload))));
    await page.goto(app.url);
    await waitReady(page);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the bridge serves the dashboard, not its placeholder", async () => {
    assert.equal(await page.title(), "Hydra live view");
    assert.ok(await page.$("#rows"), "#rows is there");
  });

  test("a record logged by the process is visible in under 1 s", async (t) => {
    const id = uid();
    const t0 = Date.now();
    const logged = app.log("APP", "error", `boom ${id}`);
    await waitForRow(page, `boom ${id}`, WAIT);
    const ms = Date.now() - t0;
    await logged;
    const row = page.locator("#rows .row.rec", { hasText: `boom ${id}` });
    assert.equal(await row.getAttribute("data-level"), "error");
    assert.equal(await row.getAttribute("data-layer"), "APP");
    assert.match(await row.getAttribute("data-seq"), /^\d+$/);
    t.diagnostic(`log -> row visible: ${ms} ms`);
    assert.ok(ms < 1000, `the row took ${ms} ms`);
  });

  test("the level filter re-subscribes: info is no longer sent", async () => {
    const id = uid();
    await app.log("APP", "info", `before-info ${id}`);
    await app.log("APP", "error", `before-error ${id}`);
    await waitForRow(page, `before-error ${id}`);
    await waitForRow(page, `before-info ${id}`);

    const sentBefore = frames.length;
    await page.selectOption("#filter-level", "warning");
    await page.waitForSelector('#filter-status[data-state="applied"][data-filter*="warning"]', { timeout: WAIT });
    // What is in memory is filtered at once ...
    await page.waitForFunction(
      (t) => ![...document.querySelectorAll("#rows .row.rec .msg")].some((m) => m.textContent.includes(t)),
      `before-info ${id}`, { timeout: WAIT });
    // ... and the bridge was asked to filter.
    const subscribe = frames.slice(sentBefore).map((f) => JSON.parse(f)).find((f) => f.type === "subscribe");
    assert.ok(subscribe, "a subscribe frame was sent");
    assert.equal(subscribe.filter.min_level, "warning");

    await app.log("APP", "info", `after-info ${id}`);
    await app.log("APP", "warning", `after-warning ${id}`);
    await app.cmd("flush");
    await waitForRow(page, `after-warning ${id}`);
    const memory = await messagesInMemory(page);
    assert.ok(memory.includes(`after-warning ${id}`));
    assert.ok(!memory.includes(`after-info ${id}`), "the info record was not even sent to the page");
    assert.equal(await page.locator("#rows .row.rec", { hasText: `after-info ${id}` }).count(), 0);

    await page.selectOption("#filter-level", "");
    await page.waitForSelector('#filter-status[data-state="applied"]:not([data-filter*="warning"])', { timeout: WAIT });
  });

  test("the layer filter (built from the layers seen) re-subscribes", async () => {
    const id = uid();
    await app.log("DATABASE", "warning", `db-seen ${id}`);
    await waitForRow(page, `db-seen ${id}`);
    await page.waitForSelector('#filter-layer option[value="DATABASE"]', { state: "attached", timeout: WAIT });
    assert.ok(await page.$('#filter-layer option[value="APP"]'), "APP is offered too");

    await page.selectOption("#filter-layer", ["DATABASE"]);
    await page.waitForSelector('#filter-status[data-state="applied"][data-filter*="DATABASE"]', { timeout: WAIT });
    await app.log("APP", "error", `app-hidden ${id}`);
    await app.log("DATABASE", "error", `db-shown ${id}`);
    await app.cmd("flush");
    await waitForRow(page, `db-shown ${id}`);
    const memory = await messagesInMemory(page);
    assert.ok(!memory.includes(`app-hidden ${id}`), "the APP record was not sent");
    const layers = await page.$$eval("#rows .row.rec", (rows) => [...new Set(rows.map((r) => r.dataset.layer))]);
    assert.deepEqual(layers, ["DATABASE"]);

    await page.selectOption("#filter-layer", []);
    await page.waitForSelector('#filter-status[data-state="applied"][data-filter="{}"]', { timeout: WAIT });
  });

  test("the text filter re-subscribes; highlight marks rows", async () => {
    const id = uid();
    await page.fill("#filter-text", `needle-${id}`);
    await page.press("#filter-text", "Enter");
    await page.waitForSelector(`#filter-status[data-state="applied"][data-filter*="needle-${id}"]`, { timeout: WAIT });
    await app.log("APP", "info", `hay ${id}`);
    await app.log("APP", "info", `with NEEDLE-${id} inside`);
    await app.cmd("flush");
    await waitForRow(page, `NEEDLE-${id}`);
    assert.ok(!(await messagesInMemory(page)).includes(`hay ${id}`));
    await page.fill("#filter-text", "");
    await page.press("#filter-text", "Enter");
    await page.waitForSelector('#filter-status[data-state="applied"][data-filter="{}"]', { timeout: WAIT });

    await app.log("APP", "info", `plain ${id}`);
    await app.log("APP", "info", `marked ${id}`);
    await waitForRow(page, `marked ${id}`);
    await page.fill("#highlight", `marked ${id}`);
    await page.waitForSelector(`#rows .row.rec.hl:has-text("marked ${id}")`, { timeout: WAIT });
    assert.equal(await page.locator(`#rows .row.rec.hl`, { hasText: `plain ${id}` }).count(), 0);
    await page.fill("#highlight", "");
  });

  test("follow sticks to the bottom; scrolling up pauses and counts new records; the badge resumes", async () => {
    await app.cmd("burst 400 APP debug");
    await waitForRow(page, "burst 399");
    const s0 = await stats(page);
    assert.equal(s0.follow, true);
    assert.ok(s0.domRows < 200, `only the visible rows are in the DOM (${s0.domRows} for ${s0.inView} in view)`);
    // At the bottom: the last row is in view.
    const atBottom = await page.$eval("#scroller", (s) => s.scrollHeight - s.scrollTop - s.clientHeight < 4);
    assert.ok(atBottom);

    await page.hover("#scroller");
    await page.mouse.wheel(0, -2000);
    await page.waitForSelector('body[data-follow="off"]', { timeout: WAIT });
    assert.equal(await page.isHidden("#new-badge"), true, "no badge before anything new");
    const top = await page.$eval("#scroller", (s) => s.scrollTop);

    await app.cmd("burst 37 APP info");
    await page.waitForSelector('#new-badge[data-count="37"]', { state: "visible", timeout: WAIT });
    assert.match(await page.textContent("#new-badge"), /37 new/);
    // Paused: the position did not move.
    assert.equal(await page.$eval("#scroller", (s) => s.scrollTop), top);

    await page.click("#new-badge");
    await page.waitForSelector('body[data-follow="on"]', { timeout: WAIT });
    await page.waitForSelector("#new-badge", { state: "hidden", timeout: WAIT });
    await page.waitForFunction(() => {
      const s = document.getElementById("scroller");
      return s.scrollHeight - s.scrollTop - s.clientHeight < 4;
    }, null, { timeout: WAIT });
    await waitForRow(page, "burst 36");

    // The button pauses too, and resumes.
    await page.click("#pause");
    await page.waitForSelector('body[data-follow="off"]', { timeout: WAIT });
    assert.equal(await page.getAttribute("#pause", "aria-pressed"), "true");
    await page.click("#pause");
    await page.waitForSelector('body[data-follow="on"]', { timeout: WAIT });
  });

  test("rows expand to show their fields; the rate sparkline counts per layer", async () => {
    await app.cmd("burst 3 FIELDS info");
    await waitForRow(page, "burst 2");
    const row = page.locator('#rows .row.rec[data-layer="FIELDS"]', { hasText: "burst 2" });
    await row.click();
    await page.waitForSelector('#rows .row.rec.expanded[data-layer="FIELDS"] .details [data-key="i"]', { timeout: WAIT });
    assert.match(await page.textContent('#rows .row.rec.expanded[data-layer="FIELDS"] .details [data-key="i"]'), /i = 2/);
    await page.waitForSelector('#rates .rate[data-layer="FIELDS"] canvas', { timeout: WAIT });
    // Opening a row paused following; the button resumes it.
    if ((await page.getAttribute("body", "data-follow")) === "off") await page.click("#pause");
    await page.waitForSelector('body[data-follow="on"]', { timeout: WAIT });
  });

  test("memory is bounded: the oldest records leave, with a marker; the DOM holds only what is on screen", async () => {
    const small = await openDashboard(browser.context, app, { history: 300 });
    await waitReady(small);
    await app.cmd("burst 1000 BOUND info");
    await app.cmd("flush");
    await waitForRow(small, "burst 999");
    const s = await stats(small);
    assert.equal(s.inMemory, 300);
    assert.ok(s.dropped >= 700, `dropped ${s.dropped}`);
    assert.ok(s.domRows <= 80, `DOM rows ${s.domRows}`);
    await small.evaluate(() => { document.getElementById("scroller").scrollTop = 0; });
    await small.waitForSelector("#rows .row.dropped", { timeout: WAIT });
    assert.match(await small.textContent("#rows .row.dropped"), /older records dropped from memory/);
    assert.equal(Number(await small.getAttribute("#rows .row.dropped", "data-count")), s.dropped);
    await small.close();
  });

  test("download: JSON Lines of the records in memory that pass the filter", async () => {
    await page.selectOption("#filter-level", "error");
    await page.waitForSelector('#filter-status[data-state="applied"][data-filter*="error"]', { timeout: WAIT });
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: WAIT }), page.click("#download")]);
    const path = await download.path();
    const { readFileSync } = await import("node:fs");
    const lines = readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.length > 0);
    for (const r of lines) assert.ok(["error", "critical"].includes(r.level), `level ${r.level} passes the filter`);
    assert.ok(lines.every((r) => typeof r.seq === "number" && r.stream));
    await page.selectOption("#filter-level", "");
    await page.waitForSelector('#filter-status[data-state="applied"][data-filter="{}"]', { timeout: WAIT });
    assert.deepEqual(page.consoleErrors ?? [], []);
  });
});
