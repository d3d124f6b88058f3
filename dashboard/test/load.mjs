// Load run (not part of `npm test`):  node test/load.mjs [seconds] [rate] [pages]
//
// Drives hydra_bridge_app's `burst` to sustain `rate` records/s (default
// 10000) for `seconds` (default 60) with `pages` dashboards open (default 3),
// and measures in Chromium, per page: the JS heap (CDP Performance.getMetrics
// JSHeapUsedSize: the largest sample, and after a forced GC at the end), long
// tasks (PerformanceObserver "longtask", from the page's first task on: its
// start-up counts too), the DOM rows, and that the page got every record or
// was told exactly what it missed: received + gap counts == logged. Prints a
// table and the targets (heap < 100 MB, no long task over 200 ms); exits 1
// when an account does not balance or a target is missed.
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import {
  App, launchBrowser, makeConfig, openDashboard, skipReason, tempDir, until, waitReady,
} from "./helpers.mjs";

const seconds = Number(process.argv[2] ?? 60);
const rate = Number(process.argv[3] ?? 10_000);
const pageCount = Number(process.argv[4] ?? 3);
const TICK_MS = 100;
const perTick = Math.round((rate * TICK_MS) / 1000);
const HEAP_LIMIT_MB = 100;
const LONG_TASK_LIMIT_MS = 200;

const skip = skipReason();
if (skip) {
  console.log(`load: skipped: ${skip}`);
  process.exit(0);
}

// In the page, before its own scripts: every long task (start, duration),
// and the long animation frames that blocked, with the scripts they ran
// (what a long task was: the socket's message handler, a frame callback...).
function observeLongTasks() {
  const lt = (window.__longtasks = { tasks: [], frames: [] });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) lt.tasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  if (!PerformanceObserver.supportedEntryTypes.includes("long-animation-frame")) return;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.blockingDuration <= 0 || lt.frames.length >= 500) continue;
      const scripts = e.scripts.map((s) => ({ at: s.startTime, ms: s.duration, what: s.invoker || s.invokerType }));
      const render = e.renderStart > 0 ? e.startTime + e.duration - e.renderStart : 0;
      lt.frames.push({ at: e.startTime, ms: e.duration, render, scripts });
    }
  }).observe({ type: "long-animation-frame", buffered: true });
}

/** What the longest task ran: the scripts of the frame around it (and the rendering). */
function describeTask(task, frames) {
  const [at, ms] = task;
  const frame = frames.find((f) => f.at <= at + 1 && at <= f.at + f.ms);
  if (!frame) return "";
  const inTask = frame.scripts.filter((s) => s.at >= at - 1 && s.at <= at + ms);
  const parts = inTask.map((s) => `${s.what} ${Math.round(s.ms)} ms`);
  if (frame.render > 1 && at + ms >= frame.at + frame.ms - frame.render) parts.push(`rendering ${Math.round(frame.render)} ms`);
  return parts.join(", ");
}

const dir = tempDir("hydra-load-");
const app = await App.start(dir, makeConfig(join(dir, "app.jsonl"), { batch_window: "100ms" }));
const browser = await launchBrowser();
const pages = [];
try {
  for (let i = 0; i < pageCount; i++) {
    const page = await openDashboard(browser.context, app, { backlog: 0 }, (p) => p.addInitScript(observeLongTasks));
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

  // Long tasks are wall-clock time: other work on the machine stretches them. Say how busy it was.
  const loadBefore = loadavg()[0].toFixed(2);
  console.log(`load: ${rate} records/s for ${seconds} s (burst ${perTick} every ${TICK_MS} ms), ${pageCount} pages; machine load average ${loadBefore}`);
  // Each page's clock at the start of the load: its long tasks before it are its start-up.
  for (const p of pages) p.loadStart = await p.page.evaluate(() => performance.now());
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

  // Every page's counters and long tasks first, then the forced GCs (a GC is
  // itself a long task: it must not land in what is measured).
  for (const p of pages) {
    p.stats = await p.page.evaluate(() => window.hydraDashboard.stats());
    p.longTasks = await p.page.evaluate(() => window.__longtasks);
  }
  for (const p of pages) {
    await p.cdp.send("HeapProfiler.enable");
    await p.cdp.send("HeapProfiler.collectGarbage");
    p.heapAfterGc = await heapOf(p);
  }

  const accounts = [];
  const worst = [];
  for (const [i, p] of pages.entries()) {
    const s = p.stats;
    const { tasks, frames } = p.longTasks;
    const longest = tasks.reduce((a, t) => (t[1] > a[1] ? t : a), [0, 0]);
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
      heapAfterGcMB: +(p.heapAfterGc / 2 ** 20).toFixed(1),
      longTasks: tasks.length,
      longTaskMs: Math.round(tasks.reduce((a, t) => a + t[1], 0)),
      longTaskMaxMs: Math.round(longest[1]),
      startUpMaxMs: Math.round(Math.max(0, ...tasks.filter((t) => t[0] < p.loadStart).map((t) => t[1]))),
      errors: p.page.consoleErrors.length,
    });
    if (longest[1] > 0) {
      const when = longest[0] < p.loadStart ? "at start-up" : `${((longest[0] - p.loadStart) / 1000).toFixed(1)} s into the load`;
      const what = describeTask(longest, frames);
      worst.push(`  page ${i + 1}: ${Math.round(longest[1])} ms, ${when}${what ? `: ${what}` : ""}`);
    }
  }
  const health = await (await fetch(new URL("/healthz", app.url))).json();
  console.log(`\nlogged ${logged} records in ${elapsed.toFixed(1)} s (${Math.round(logged / elapsed)}/s; the driver was at most ${behindMax} ms behind); pages settled ${drainMs} ms after the last burst`);
  console.log(`machine load average (1 min): ${loadBefore} before the load, ${loadavg()[0].toFixed(2)} after it`);
  console.log(`bridge /healthz: records_sent ${health.records_sent}, frames_sent ${health.frames_sent}, gaps ${JSON.stringify(health.gaps)}`);
  console.table(accounts);
  if (worst.length > 0) console.log(`the longest task of each page:\n${worst.join("\n")}`);
  const balanced = accounts.every((a) => a.balance === 0 && a.duplicates === 0);
  const heapOk = accounts.every((a) => a.heapMaxMB < HEAP_LIMIT_MB && a.heapAfterGcMB < HEAP_LIMIT_MB);
  const tasksOk = accounts.every((a) => a.longTaskMaxMs <= LONG_TASK_LIMIT_MS);
  console.log(balanced ? "load: every page received every record or was told of it by a gap (received + gap counts == logged)"
                       : "load: FAILED: an account does not balance");
  console.log(`load: heap under ${HEAP_LIMIT_MB} MB: ${heapOk ? "yes" : "NO"} (largest ${Math.max(...accounts.map((a) => a.heapMaxMB))} MB)`);
  console.log(`load: no long task over ${LONG_TASK_LIMIT_MS} ms: ${tasksOk ? "yes" : "NO"} (longest ${Math.max(...accounts.map((a) => a.longTaskMaxMs))} ms)`);
  process.exitCode = balanced && heapOk && tasksOk ? 0 : 1;
} finally {
  await browser.close();
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
}
