// A bridge with API keys and a JWT secret: a viewer's token (from the page
// URL) sees records but cannot submit; a viewer of another tenant gets no
// records (its subscription is refused, shown as an error).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  App, WAIT, fileRecords, jwt, launchBrowser, makeConfig, openDashboard, readRecords, sha256hex, skipReason,
  stats, tempDir, uid, waitForRow, waitReady,
} from "./helpers.mjs";

const skip = skipReason();
const SECRET = "dashboard-test-secret-0123456789abcdef";
const VIEW_KEY = "view-key-acme-5b8efff798038103";
const SUBMIT_KEY = "submit-key-acme-d269b633813fc60c";
const OTHER_KEY = "view-key-other-9f3c0a51d2e47b86";

describe("authentication", { skip: skip || false }, () => {
  let dir, app, browser, logPath;

  before(async () => {
    dir = tempDir();
    logPath = join(dir, "app.jsonl");
    app = await App.start(dir, makeConfig(logPath, {
      tenant: "acme",
      jwt_secret: SECRET,
      api_keys: [
        `viewer:acme:${sha256hex(VIEW_KEY)}`,
        `submitter:acme:${sha256hex(SUBMIT_KEY)}`,
        `viewer:other:${sha256hex(OTHER_KEY)}`,
      ],
    }));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("without a token the page is refused (4401) and says so", async () => {
    const page = await openDashboard(browser.context, app);
    await page.waitForSelector('#state[data-state="closed"]', { timeout: WAIT });
    assert.match(await page.textContent("#state"), /4401/);
    assert.equal(await page.getAttribute("#error", "data-code"), "4401");
    await page.close();
  });

  test("a viewer key sees records, and its submit is refused", async () => {
    const page = await openDashboard(browser.context, app, { token: VIEW_KEY });
    await waitReady(page);
    assert.equal(await page.getAttribute("#identity", "data-role"), "viewer");
    assert.equal(await page.getAttribute("#identity", "data-tenant"), "acme");
    const id = uid();
    await app.log("APP", "error", `for-viewers ${id}`);
    await waitForRow(page, `for-viewers ${id}`);

    await page.fill("#submit-message", `viewer-submit ${id}`);
    await page.click("#submit-send");
    await page.waitForSelector('#submit-status[data-result="error"]', { timeout: WAIT });
    assert.match(await page.textContent("#submit-status"), /http_403/);
    const s = await stats(page);
    assert.equal(s.submitter.dropped, 1);
    assert.deepEqual(s.submitter.droppedByReason, { http_403: 1 });
    // Nothing landed: a record logged after it is in the file, the submitted one is not.
    await app.log("APP", "info", `marker ${id}`);
    await fileRecords(app, logPath, (r) => r.message === `marker ${id}`);
    assert.equal(readRecords(logPath).filter((r) => String(r.message).includes(`viewer-submit ${id}`)).length, 0);
    await page.close();
  });

  test("a submitter key's records land (the same form)", async () => {
    // A submitter cannot subscribe: the page says so, the form still works.
    const page = await openDashboard(browser.context, app, { token: SUBMIT_KEY });
    await page.waitForSelector('#error[data-code="forbidden"]', { timeout: WAIT });
    const id = uid();
    await page.fill("#submit-message", `submitter-submit ${id}`);
    await page.click("#submit-send");
    await page.waitForSelector('#submit-status[data-result="ok"]', { timeout: WAIT });
    const [rec] = await fileRecords(app, logPath, (r) => r.message === `submitter-submit ${id}`);
    assert.equal(rec.layer, "FRONTEND");
    await page.close();
  });

  for (const [what, token] of [
    ["a JWT", () => jwt(SECRET, { sub: "eve", role: "viewer", tenant: "other" })],
    ["an API key", () => OTHER_KEY],
  ]) {
    test(`a viewer of tenant "other" (${what}) gets no records: subscribe forbidden`, async () => {
      const acme = await openDashboard(browser.context, app, { token: VIEW_KEY, backlog: 0 });
      await waitReady(acme);
      const other = await openDashboard(browser.context, app, { token: token(), backlog: 1000 });
      await other.waitForSelector('#error[data-code="forbidden"]', { timeout: WAIT });
      assert.match(await other.textContent("#error"), /forbidden/);
      assert.equal(await other.getAttribute("#filter-status", "data-state"), "error");
      assert.equal(await other.getAttribute("#identity", "data-tenant"), "other");
      const id = uid();
      await app.log("APP", "critical", `acme-only ${id}`);
      // When the acme page has it, the bridge has served both pages.
      await waitForRow(acme, `acme-only ${id}`);
      const s = await stats(other);
      assert.equal(s.received, 0);
      assert.equal(await other.locator("#rows .row").count(), 0);
      await acme.close();
      await other.close();
    });
  }
});
