// The process behind the bridge is killed (SIGKILL) and started again at the
// same port: the page reconnects by itself, shows one restart marker, and
// the new process's records appear.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  App, WAIT, freePort, launchBrowser, makeConfig, openDashboard, skipReason, stats, tempDir, uid, waitForRow,
  waitReady,
} from "./helpers.mjs";

const skip = skipReason();

describe("restart", { skip: skip || false }, () => {
  let dir, app, browser;

  before(async () => {
    dir = tempDir();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("after a SIGKILL and a restart at the same port the page reconnects, with one restart gap", async (t) => {
    const port = await freePort();
    const config = makeConfig(join(dir, "app.jsonl"), { listen: `127.0.0.1:${port}` });
    app = await App.start(dir, config);
    assert.equal(app.port, port);
    const page = await openDashboard(browser.context, app);
    await waitReady(page);
    const id = uid();
    await app.log("APP", "info", `before-restart ${id}`);
    await waitForRow(page, `before-restart ${id}`);
    const streamBefore = await page.getAttribute(`#rows .row.rec:has-text("before-restart ${id}")`, "data-stream");

    await app.kill();
    await page.waitForSelector('#state[data-state="reconnecting"]', { timeout: WAIT });
    const t0 = Date.now();
    app = await App.start(dir, config);
    assert.equal(app.port, port);
    await page.waitForSelector('#state[data-state="open"]', { timeout: WAIT });
    t.diagnostic(`reconnected ${Date.now() - t0} ms after the restart`);
    await page.waitForSelector('#rows .row.gap[data-reason="restart"]', { timeout: WAIT });

    await app.log("APP", "warning", `after-restart ${id}`);
    await waitForRow(page, `after-restart ${id}`);
    const streamAfter = await page.getAttribute(`#rows .row.rec:has-text("after-restart ${id}")`, "data-stream");
    assert.notEqual(streamAfter, streamBefore, "a new stream began");
    assert.equal(await page.getAttribute('#rows .row.gap[data-reason="restart"]', "data-stream"), streamBefore);

    // Exactly one marker: in the DOM, and in the page's memory.
    assert.equal(await page.locator("#rows .row.gap").count(), 1);
    const s = await stats(page);
    assert.equal(s.restartGaps, 1);
    assert.equal(s.gaps, 1);
    assert.deepEqual(Object.keys(s.cursor), [streamAfter], "the cursor names the new stream only");
    // The old rows are still there, above the marker.
    assert.equal(await page.locator(`#rows .row.rec`, { hasText: `before-restart ${id}` }).count(), 1);
    assert.deepEqual(page.consoleErrors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(e)), []);
  });
});
