// Screenshots for the docs: the dashboard with records of every level on
// several layers, their rate sparklines, a slow_client gap (the page's
// JavaScript is paused through CDP while a burst fills its queue), an
// expanded row, redactions and a highlight; then, after the process restarted,
// the restart marker with a filter applied.
// docs/images/bridge-dashboard.png and docs/images/bridge-dashboard-restart.png.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  App, DASHBOARD, WAIT, freePort, launchBrowser, makeConfig, openDashboard, skipReason, stats, tempDir, until,
  waitForRow, waitReady,
} from "./helpers.mjs";

const skip = skipReason();
const IMAGES = process.env.HYDRA_SCREENSHOT_DIR || join(DASHBOARD, "..", "docs", "images");

async function healthz(app) {
  const res = await fetch(new URL("/healthz", app.url));
  return res.json();
}

describe("screenshots", { skip: skip || false }, () => {
  let dir, app, browser, config;

  before(async () => {
    dir = tempDir();
    const port = await freePort();
    config = makeConfig(join(dir, "app.jsonl"), {
      listen: `127.0.0.1:${port}`,
      service: "shop",
      tenant: "acme",
      client_queue_bytes: 65536,
    }, { level: "trace" });
    app = await App.start(dir, config);
    browser = await launchBrowser();
    mkdirSync(IMAGES, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("levels, rates, a gap, an expanded row, redactions", async (t) => {
    const page = await openDashboard(browser.context, app);
    await page.setViewportSize({ width: 1280, height: 760 });
    await waitReady(page);

    // A few seconds of traffic, so that the sparklines have a shape.
    const shape = [3, 6, 10, 7, 4, 9, 14, 8, 5, 11, 16, 12, 6, 3, 8, 13, 9, 4, 7, 12, 15, 10, 6, 9];
    for (let i = 0; i < shape.length; i++) {
      await app.cmd(`burst ${shape[i]} HTTP info`);
      await app.cmd(`burst ${shape[(i + 4) % shape.length]} DATABASE debug`);
      await app.cmd(`burst ${1 + (i % 3)} AUTH warning`);
      await app.cmd(`burst ${i % 4 === 0 ? 2 : 0} PAYMENTS error`);
      await new Promise((r) => setTimeout(r, 330));  // pacing the traffic, not waiting for a condition
    }

    // A slow client: the page's JavaScript stops (CDP), its queue fills, the
    // bridge drops for it and says so with a gap once the page reads again.
    // The page must not read again before the bridge went through the whole
    // burst (a few ticks): a page that reads fast gets the burst's tail after
    // the gap, which pushes the gap off the screen. And the burst must be far
    // larger than what the sockets between the bridge and the paused page
    // take (kernel buffers that grow to several MB, Chromium's own): while
    // they grow the bridge's queue has room again and reports a gap in the
    // middle of the burst, and a burst they could take whole would end
    // behind that gap, with its tail pushing it out of the page's memory
    // (seen once in CI with 60,000 records, about 15 MB). 200,000 is 50 MB. A second page sees only
    // the record logged after the burst; once it has it, so has the bridge
    // for both pages.
    const watcher = await openDashboard(browser.context, app, { backlog: 0 });
    await waitReady(watcher);
    await watcher.fill("#filter-text", "cache warm-up done");
    await watcher.press("#filter-text", "Enter");
    await watcher.waitForSelector('#filter-status[data-state="applied"][data-filter*="warm-up done"]', { timeout: WAIT });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Debugger.enable");
    await cdp.send("Debugger.pause");
    await app.log("APP", "debug", "cache warm-up started");
    const before = (await healthz(app)).gaps.slow_client;
    await app.cmd("burst 200000 APP debug");
    await app.log("APP", "debug", "cache warm-up done");
    await waitForRow(watcher, "cache warm-up done");
    await watcher.close();
    await until(async () => (await healthz(app)).gaps.slow_client > before, "a slow_client gap in /healthz", WAIT, 100);
    await cdp.send("Debugger.resume");
    await cdp.detach();
    await page.waitForSelector('#rows .row.gap[data-reason="slow_client"]', { timeout: WAIT });

    const lines = [
      ["HTTP", "info", "GET /api/orders/1234 200 in 12 ms"],
      ["DATABASE", "debug", "orders.by_customer: 3 rows in 2.1 ms"],
      ["AUTH", "warning", "login failed for alice@example.com: wrong password (3rd attempt)"],
      ["PAYMENTS", "error", "card 4111 1111 1111 1111 declined: insufficient funds (order 1234)"],
      ["HTTP", "warning", "slow request POST /api/checkout 1840 ms"],
      ["APP", "trace", "cache lookup user:42 -> miss"],
      ["AUTH", "security", "password reset requested for bob@example.org from a new device"],
      ["AUDIT", "audit", "role admin granted to carol@example.net by dave@example.com"],
      ["APP", "critical", "worker pool exhausted: 64 of 64 busy, queue 1200"],
      ["DATABASE", "info", "connection pool resized to 32"],
    ];
    for (const [layer, level, message] of lines) await app.log(layer, level, message);
    await page.evaluate(() => {
      const s = window.hydraDashboard.submitter;
      s.log("error", "checkout failed for jane.doe@example.com: payment timeout", { cart_items: 3, total: 129.9, retry: true }, { trace_id: "5b8efff798038103d269b633813fc60c" });
      return s.flush();
    });
    await app.log("HTTP", "info", "GET /healthz 200 in 1 ms");
    await waitForRow(page, "GET /healthz");
    await waitForRow(page, "checkout failed for");

    await page.click('#rows .row.rec[data-layer="FRONTEND"]');
    await page.waitForSelector('#rows .row.rec.expanded[data-layer="FRONTEND"] .details', { timeout: WAIT });
    await page.fill("#highlight", "checkout");
    await page.waitForSelector("#rows .row.rec.hl", { timeout: WAIT });
    // The sparklines were drawn after the burst (they are drawn once a second).
    await page.waitForFunction(() => Number(document.querySelector('#rates .rate[data-layer="APP"]')?.dataset.peak) > 100, null, { timeout: WAIT });
    // The expanded row paused following: bring it and the gap into view.
    await page.evaluate(() => {
      const s = document.getElementById("scroller");
      s.scrollTop = s.scrollHeight;
    });
    await page.waitForFunction(() => {
      const s = document.getElementById("scroller");
      return s.scrollHeight - s.scrollTop - s.clientHeight < 4 && document.body.dataset.follow === "on";
    }, null, { timeout: WAIT });
    await page.waitForSelector('#rows .row.gap[data-reason="slow_client"]', { state: "visible", timeout: WAIT });

    const levels = await page.$$eval("#rows .row.rec", (rows) => [...new Set(rows.map((r) => r.dataset.level))]);
    for (const l of ["trace", "debug", "info", "warning", "error", "critical", "security", "audit"]) {
      assert.ok(levels.includes(l), `a ${l} row is on screen (${levels})`);
    }
    assert.ok((await page.locator("#rows .row.rec .redacted").count()) >= 4, "redactions are on screen");
    const s = await stats(page);
    t.diagnostic(`received ${s.received}, gaps ${s.gaps} (${s.gapRecords} records), DOM rows ${s.domRows}`);

    const file = join(IMAGES, "bridge-dashboard.png");
    await page.screenshot({ path: file });
    assert.ok(statSync(file).size > 20_000);
    await page.close();
  });

  test("after a restart: the marker, with a filter applied", async () => {
    const page = await openDashboard(browser.context, app, { backlog: 40 });
    await page.setViewportSize({ width: 1280, height: 560 });
    await waitReady(page);
    await app.kill();
    await page.waitForSelector('#state[data-state="reconnecting"]', { timeout: WAIT });
    app = await App.start(dir, config);
    await page.waitForSelector('#rows .row.gap[data-reason="restart"]', { timeout: WAIT });
    await page.waitForSelector('#state[data-state="open"]', { timeout: WAIT });
    await page.selectOption("#filter-level", "info");
    await page.waitForSelector('#filter-status[data-state="applied"][data-filter*="info"]', { timeout: WAIT });
    const lines = [
      ["APP", "info", "shop 2.4.1 starting (pid 4242)"],
      ["DATABASE", "info", "migrations up to date (v57)"],
      ["DATABASE", "debug", "pool warm-up: 8 connections"],
      ["HTTP", "info", "listening on 0.0.0.0:8080"],
      ["AUTH", "warning", "signing key rotates in 2 days"],
      ["HTTP", "info", "GET /api/orders 200 in 9 ms"],
    ];
    for (const [layer, level, message] of lines) await app.log(layer, level, message);
    await waitForRow(page, "GET /api/orders 200 in 9 ms");
    assert.equal(await page.locator("#rows .row.rec", { hasText: "pool warm-up" }).count(), 0);
    assert.equal(await page.locator('#rows .row.gap[data-reason="restart"]').count(), 1);
    const file = join(IMAGES, "bridge-dashboard-restart.png");
    await page.screenshot({ path: file });
    assert.ok(statSync(file).size > 10_000);
    await page.close();
  });
});
