// Records submitted from the page (the form, the Submitter) land in the
// application's file destination, redacted; navigating away in the middle of
// a batch still delivers it (pagehide -> sendBeacon).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  App, WAIT, fileRecords, launchBrowser, makeConfig, openDashboard, readRecords, skipReason, tempDir, uid,
  waitForRow, waitReady,
} from "./helpers.mjs";

const skip = skipReason();

describe("submit", { skip: skip || false }, () => {
  let dir, app, browser, logPath;

  before(async () => {
    dir = tempDir();
    logPath = join(dir, "app.jsonl");
    app = await App.start(dir, makeConfig(logPath));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a record sent with the form lands in the file, redacted, and comes back to the view", async (t) => {
    const page = await openDashboard(browser.context, app);
    await waitReady(page);
    const id = uid();
    await page.selectOption("#submit-level", "error");
    await page.fill("#submit-message", `checkout ${id} failed for jane.doe@example.com`);
    await page.click("#submit-send");
    await page.waitForSelector('#submit-status[data-result="ok"]', { timeout: WAIT });

    const [rec] = await fileRecords(app, logPath, (r) => String(r.message).includes(`checkout ${id}`));
    assert.equal(rec.layer, "FRONTEND");
    assert.equal(rec.level, "error");
    assert.ok(!JSON.stringify(rec).includes("jane.doe@example.com"), `the address is redacted: ${JSON.stringify(rec)}`);
    assert.match(rec.message, /\[REDACTED_[A-Z0-9_]+\]/);
    assert.equal(rec.fields.source, "dashboard");
    t.diagnostic(`in the file: ${rec.message}`);
    assert.ok(rec.fields.session, "the Submitter's session rides along");

    // The bridge serves it back: the redaction is shown as such.
    await waitForRow(page, `checkout ${id}`);
    const span = page.locator(`#rows .row.rec:has-text("checkout ${id}") .redacted`);
    assert.equal(await span.count(), 1);
    assert.match(await span.textContent(), /^\[REDACTED_[A-Z0-9_]+\]$/);
    assert.match(await span.getAttribute("data-type"), /^[A-Z0-9_]+$/);
    await page.close();
  });

  test("redaction byte ranges are converted to string indices (non-ASCII before the token)", async () => {
    const page = await openDashboard(browser.context, app);
    await waitReady(page);
    const id = uid();
    // Two- and four-byte characters ahead of the address shift byte offsets
    // away from UTF-16 indices.
    await page.evaluate((id) => {
      const s = window.hydraDashboard.submitter;
      s.log("warning", `Größe 😀 ${id} mail bob@example.org ende`);
      return s.flush();
    }, id);
    await waitForRow(page, `${id} mail`);
    const row = page.locator(`#rows .row.rec:has-text("${id} mail")`);
    const text = await row.locator(".redacted").textContent();
    assert.match(text, /^\[REDACTED_[A-Z0-9_]+\]$/, `the span covers exactly the token: ${text}`);
    assert.match(await row.locator(".msg").textContent(), new RegExp(`^Größe 😀 ${id} mail \\[REDACTED_[A-Z0-9_]+\\] ende$`));
    await page.close();
  });

  test("records logged just before navigating away land (pagehide -> sendBeacon)", async () => {
    // Only sendBeacon can carry them: this page has no working fetch.
    const page = await openDashboard(browser.context, app, {}, (p) =>
      p.addInitScript(() => {
        window.fetch = () => Promise.reject(new TypeError("fetch is disabled by the test"));
      }));
    await waitReady(page);
    const id = uid();
    const n = 25;
    await page.evaluate(({ id, n }) => {
      const s = window.hydraDashboard.submitter;
      for (let i = 0; i < n; i++) s.log("info", `leaving ${id} ${i}`, { i });
      // Still queued: the Submitter's timer would flush in a second.
      if (s.stats().queued !== n) throw new Error(`expected ${n} queued, ${JSON.stringify(s.stats())}`);
    }, { id, n });
    await page.goto("about:blank");
    const got = await fileRecords(app, logPath, (r) => String(r.message).startsWith(`leaving ${id} `), n);
    assert.equal(got.length, n);
    assert.deepEqual(got.map((r) => Number(r.fields.i)).sort((a, b) => a - b), [...Array(n).keys()]);
    assert.ok(got.every((r) => r.layer === "FRONTEND"));
    await page.close();
    assert.ok(readRecords(logPath).length > 0);
  });
});
