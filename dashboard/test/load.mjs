// Load run (not part of `npm test`):  node test/load.mjs [seconds] [rate] [pages]
//
// Drives hydra_bridge_app's `burst` to sustain `rate` records/s (default
// 10000) for `seconds` (default 60) with `pages` dashboards open (default 3),
// and measures in Chromium, per page: the JS heap (CDP Performance.getMetrics
// JSHeapUsedSize: the largest sample, and after a forced GC at the end), long
// tasks (PerformanceObserver "longtask"), the DOM rows, and that the page got
// every record or was told exactly what it missed: received + gap counts ==
// logged. Prints a table; exits 1 when an account does not balance.
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  App, launchBrowser, makeConfig, openDashboard, skipReason, tempDir, until, waitReady,
} from "./helpers.mjs";

const seconds = Number(process.argv[2] ?? 60);
const rate = Number(process.argv[3] ?? 10_000);
const pageCount = Number(process.argv[4] ?? 3);
const TICK_MS = 100;
const perTick = Math.round((rate * TICK_MS) / 1000);

const skip = skipReason();
if (skip) {
  console.log(`load: skipped: ${skip}`);
  process.exit(0);
}

const dir = tempDir("hydra-load-");
const app = await App.start(dir, makeConfig(join(dir, "app.jsonl"), { batch_window: "100ms" }));
const browser = await launchBrowser();
const pages = [];
try {
  for (let i = 0; i < pageCount; i++) {
    const page = await openDashboard(browser.context, app, { backlog: 0 }, (p) =>
      p.addInitScript(() => {
        const lt = (window.__longtasks = { count: 0, totalMs: 0, maxMs: 0 });
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            lt.count++;
            lt.totalMs += e.duration;
            lt.maxMs = Math.max(lt.maxMs, e.duration);
          }
        }).observe({ type: "longtask", buffered: true });
      }));
    await waitReady(page);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    pages.push({ page, cdp, heapMax: 0, heapSamples: [] });
  }

  async function heapOf(p) {
    const { metrics } = await p.cdp.send("Performance.getMetrics");
    return metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? NaN;
  }

  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const p of pages) {
        const h = await heapOf(p);
        p.heapMax = Math.max(p.heapMax, h);
        p.heapSamples.push(h);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();

  console.log(`load: ${rate} records/s for ${seconds} s (burst ${perTick} every ${TICK_MS} ms), ${pageCount} pages`);
  let logged = 0;
  let behindMax = 0;
  const t0 = Date.now();
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  for (let k = 0; k < ticks; k++) {
    const due = t0 + k * TICK_MS;
    const now = Date.now();
    if (now < due) await new Promise((r) => setTimeout(r, due - now));
    else behindMax = Math.max(behindMax, now - due);
    await app.cmd(`burst ${perTick} LOAD info`);
    logged += perTick;
    if (k % Math.round(10_000 / TICK_MS) === 0 && k > 0) {
      const s = await pages[0].page.evaluate(() => window.hydraDashboard.stats());
      console.log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: logged ${logged}, page 1 received ${s.received}, gaps ${s.gapRecords}`);
    }
  }
  const elapsed = (Date.now() - t0) / 1000;
  await app.cmd("flush");
  const tDrain = Date.now();
  const accounts = [];
  for (const p of pages) {
    try {
      await until(async () => {
        const s = await p.page.evaluate(() => window.hydraDashboard.stats());
        return s.received + s.gapRecords >= logged;
      }, "every record received or reported", 60_000, 100);
    } catch (e) {
      console.log(`  ${e.message}`);
    }
  }
  const drainMs = Date.now() - tDrain;
  sampling = false;
  await sampler;

  for (const [i, p] of pages.entries()) {
    const s = await p.page.evaluate(() => window.hydraDashboard.stats());
    const lt = await p.page.evaluate(() => window.__longtasks);
    await p.cdp.send("HeapProfiler.enable");
    await p.cdp.send("HeapProfiler.collectGarbage");
    const heapAfterGc = await heapOf(p);
    const sorted = [...p.heapSamples].sort((a, b) => a - b);
    accounts.push({
      page: i + 1,
      logged,
      received: s.received,
      duplicates: s.duplicates,
      gaps: s.gaps,
      gapRecords: s.gapRecords,
      balance: s.received + s.gapRecords - logged,
      inMemory: s.inMemory,
      droppedFromMemory: s.dropped,
      domRows: s.domRows,
      heapMedianMB: +(sorted[Math.floor(sorted.length / 2)] / 2 ** 20).toFixed(1),
      heapMaxMB: +(p.heapMax / 2 ** 20).toFixed(1),
      heapAfterGcMB: +(heapAfterGc / 2 ** 20).toFixed(1),
      longTasks: lt.count,
      longTaskMs: Math.round(lt.totalMs),
      longTaskMaxMs: Math.round(lt.maxMs),
      errors: p.page.consoleErrors.length,
    });
  }
  const health = await (await fetch(new URL("/healthz", app.url))).json();
  console.log(`\nlogged ${logged} records in ${elapsed.toFixed(1)} s (${Math.round(logged / elapsed)}/s; the driver was at most ${behindMax} ms behind); pages settled ${drainMs} ms after the last burst`);
  console.log(`bridge /healthz: records_sent ${health.records_sent}, frames_sent ${health.frames_sent}, gaps ${JSON.stringify(health.gaps)}`);
  console.table(accounts);
  const ok = accounts.every((a) => a.balance === 0 && a.duplicates === 0);
  console.log(ok ? "load: every page received every record or was told of it by a gap (received + gap counts == logged)"
                 : "load: FAILED: an account does not balance");
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
}
