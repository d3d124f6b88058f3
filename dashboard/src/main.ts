// The Hydra live view: connects to the bridge that served this page
// (ws://<host>/ws), subscribes with the filter the user sets (the bridge
// filters), and shows what arrives in a virtual list. URL parameters:
//   token=...     an API key or JWT (an open bridge on loopback needs none)
//   backlog=N     records the bridge replays on connect (default 1000)
//   history=N     records kept in memory (default 50000)
import { BridgeClient, Submitter } from "hydra-bridge-client";
import type { BridgeEvent, Filter, SubmitterStats, Welcome } from "hydra-bridge-client";
import { decodeRecord, recordsTakingSocket } from "./frames.js";
import { Intake } from "./intake.js";
import { Rates } from "./rates.js";
import { Store, toWire } from "./store.js";
import type { ViewFilter } from "./store.js";
import { VirtualList } from "./virtual-list.js";

const VERSION = "hydra-dashboard/0.1.0";

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el;
}

function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const v = Number(raw);
  return Number.isFinite(v) ? Math.min(max, Math.max(min, Math.floor(v))) : fallback;
}

function errorText(e: unknown): { code: string; text: string } {
  const err = e as { code?: unknown; message?: unknown };
  const code = err && err.code !== undefined ? String(err.code) : "error";
  const text = err && typeof err.message === "string" ? err.message : String(e);
  return { code, text };
}

const params = new URLSearchParams(location.search);
const token = params.get("token") || undefined;
const backlog = intParam(params, "backlog", 1000, 0, 100000);
const historyLimit = intParam(params, "history", 50000, 100, 1000000);

const els = {
  state: $("state"),
  identity: $("identity"),
  error: $("error"),
  stats: $("stats"),
  layer: $("filter-layer") as HTMLSelectElement,
  level: $("filter-level") as HTMLSelectElement,
  text: $("filter-text") as HTMLInputElement,
  highlight: $("highlight") as HTMLInputElement,
  pause: $("pause") as HTMLButtonElement,
  download: $("download") as HTMLButtonElement,
  filterStatus: $("filter-status"),
  rates: $("rates"),
  scroller: $("scroller"),
  rows: $("rows"),
  badge: $("new-badge") as HTMLButtonElement,
  form: $("submit-form") as HTMLFormElement,
  submitLevel: $("submit-level") as HTMLSelectElement,
  submitMessage: $("submit-message") as HTMLInputElement,
  submitStatus: $("submit-status"),
};

const store = new Store(historyLimit);
const list = new VirtualList(els.scroller, els.rows, store);
const rates = new Rates(els.rates);

// ---- errors and state ----------------------------------------------------

function showError(code: string, text: string): void {
  els.error.hidden = false;
  els.error.dataset.code = code;
  els.error.textContent = text.startsWith(code) ? text : `${code}: ${text}`;
}

function clearError(): void {
  els.error.hidden = true;
  els.error.textContent = "";
  delete els.error.dataset.code;
}

function showState(state: string, code?: number, reason?: string): void {
  els.state.dataset.state = state;
  els.state.textContent = state + (code !== undefined ? ` (${code}${reason ? " " + reason : ""})` : "");
  els.state.title = `connection: ${els.state.textContent}`;
}

// ---- the list, counters ----------------------------------------------------

// Called from the list's render (already in an animation frame: another
// requestAnimationFrame here would cost a second frame each time).
function updateStats(): void {
  const s = store;
  const text =
    `received ${s.received} · gaps ${s.gaps}${s.gapRecords ? ` (${s.gapRecords} records)` : ""}` +
    ` · in memory ${s.history.length}${s.dropped ? ` (${s.dropped} dropped)` : ""} · shown ${s.view.length}`;
  if (els.stats.textContent !== text) els.stats.textContent = text;
}

list.onRender = () => {
  const n = list.newCount;
  const show = !list.follow && n > 0;
  els.badge.hidden = !show;
  els.badge.dataset.count = String(n);
  if (show) els.badge.textContent = `${n} new ↓`;
  updateStats();
};
list.onFollowChange = (follow) => {
  els.pause.setAttribute("aria-pressed", follow ? "false" : "true");
  els.pause.textContent = follow ? "Pause" : "Follow";
  document.body.dataset.follow = follow ? "on" : "off";
};
document.body.dataset.follow = "on";

els.pause.addEventListener("click", () => list.setFollow(!list.follow, true));
els.badge.addEventListener("click", () => list.setFollow(true));

store.onNewLayer = (layer) => {
  const opt = document.createElement("option");
  opt.value = layer;
  opt.textContent = layer;
  const after = [...els.layer.options].find((o) => o.value > layer);
  els.layer.insertBefore(opt, after ?? null);
};

// ---- the connection --------------------------------------------------------

// Records and gaps, in the order they came, wait in the intake; the store
// takes them in slices (see intake.ts), and each slice is rendered once.
// Records come as the bridge sent them (see frames.ts), decoded when taken.
type Arrival =
  | { kind: "wire"; stream: string; raw: unknown }
  | Extract<BridgeEvent, { kind: "record" | "gap" }>;
const sliceCounts = new Map<string, number>();  // records per layer in this slice

function take(e: Arrival): void {
  if (e.kind === "gap") {
    store.addGap({ stream: e.stream, fromSeq: e.fromSeq, toSeq: e.toSeq, count: e.count, reason: e.reason });
    return;
  }
  const rec = e.kind === "wire" ? decodeRecord(e.stream, e.raw) : e.record;
  if (!rec) return;
  store.addRecord(rec);
  sliceCounts.set(rec.layer, (sliceCounts.get(rec.layer) ?? 0) + 1);
}

function afterSlice(): void {
  for (const [layer, n] of sliceCounts) rates.note(layer, n);
  sliceCounts.clear();
  list.scheduleData();
}

const intake = new Intake<Arrival>(take, afterSlice);

function queueRecords(stream: string, records: unknown[]): void {
  for (const raw of records) intake.push({ kind: "wire", stream, raw });
}

const client = new BridgeClient({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
  token,
  backlog,
  reconnect: true,
  client: VERSION,
  WebSocket: recordsTakingSocket(queueRecords),
});

function onEvent(e: BridgeEvent): void {
  switch (e.kind) {
    case "record":  // (records frames are taken before the SDK: see frames.ts)
    case "gap":
      intake.push(e);
      return;  // afterSlice() schedules the render
    case "state":
      showState(e.state, e.code, e.reason);
      if (e.state === "open") {
        showIdentity(client.welcome);  // a reconnect may reach a new stream (a restart)
        if (els.error.dataset.code && /^\d+$/.test(els.error.dataset.code)) clearError();
      } else if (e.state === "closed" && e.code !== undefined && e.code !== 1000) {
        showError(String(e.code), `the bridge closed the connection: ${e.code} ${e.reason ?? ""}`.trim());
      }
      break;
  }
  list.schedule();
}
client.onEvent(onEvent);

// The one subscription; a filter change subscribes anew and then drops the
// old one (a record matching both arrives once, listing both ids).
let subscription: string | null = null;
let filterSerial = 0;
let applied = "";

function currentFilter(): ViewFilter {
  return {
    layers: [...els.layer.selectedOptions].map((o) => o.value),
    minLevel: els.level.value,
    text: els.text.value.trim(),
  };
}

async function applyFilter(force = false): Promise<void> {
  const f = currentFilter();
  const wire: Filter = toWire(f);
  const key = JSON.stringify(wire);
  if (!force && key === applied) return;
  applied = key;
  const serial = ++filterSerial;
  store.setFilter(f);
  list.reset();
  els.filterStatus.textContent = "subscribing…";
  els.filterStatus.dataset.state = "pending";
  try {
    const id = await client.subscribe(wire);
    const old = subscription;
    subscription = id;
    if (old !== null && old !== id) await client.unsubscribe(old).catch(() => {});
    if (serial === filterSerial) {
      els.filterStatus.textContent = Object.keys(wire).length ? `filter: ${key}` : "no filter";
      els.filterStatus.dataset.state = "applied";
      els.filterStatus.dataset.filter = key;
      if (els.error.dataset.code === "forbidden" || els.error.dataset.code === "bad_filter") clearError();
    }
  } catch (e) {
    const { code, text } = errorText(e);
    if (serial === filterSerial) {
      els.filterStatus.textContent = `subscribe refused: ${code}`;
      els.filterStatus.dataset.state = "error";
      applied = "";
    }
    // A connection that failed says so itself (start()); this is a refused subscription.
    if (client.state !== "closed") showError(code, `subscribe refused: ${text}`);
  }
}

let textTimer: number | undefined;
els.level.addEventListener("change", () => void applyFilter());
els.layer.addEventListener("change", () => void applyFilter());
els.text.addEventListener("input", () => {
  clearTimeout(textTimer);
  textTimer = window.setTimeout(() => void applyFilter(), 350);
});
els.text.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    clearTimeout(textTimer);
    void applyFilter();
  }
});
els.highlight.addEventListener("input", () => list.setHighlight(els.highlight.value));

const TERMINAL = [4400, 4401, 4403];

function showIdentity(welcome: Welcome | undefined): void {
  if (!welcome) return;
  els.identity.textContent = `${welcome.role} · tenant ${welcome.tenant} · ${welcome.stream ?? ""}`;
  els.identity.dataset.role = String(welcome.role);
  els.identity.dataset.tenant = String(welcome.tenant);
  els.identity.dataset.stream = String(welcome.stream ?? "");
}

async function start(attempt = 0): Promise<void> {
  showState("connecting");
  // Subscribe before connecting: the SDK sends the subscription right behind
  // hello, so that the backlog is not skipped (the bridge moves the cursor of
  // a client without subscriptions to the live end at its next tick).
  const subscribed = applyFilter(true);
  try {
    showIdentity(await client.connect());
  } catch (e) {
    const { code, text } = errorText(e);
    showError(code, `cannot connect: ${text}`);
    await subscribed;
    // A refused token stays refused; anything else (the bridge restarting) is tried again.
    if (!TERMINAL.includes(Number(code))) {
      const delay = Math.min(10000, 500 * 2 ** attempt);
      setTimeout(() => void start(attempt + 1), delay);
    }
    return;
  }
  await subscribed;
}

// ---- download ----------------------------------------------------------------

els.download.addEventListener("click", () => {
  const lines = store.exportLines();
  const blob = new Blob(lines, { type: "application/x-ndjson" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `hydra-view-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
});

// ---- send a test record --------------------------------------------------------

const submitter = new Submitter({ baseUrl: location.origin, token });
submitter.installPageLifecycle();

els.form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const message = els.submitMessage.value;
  if (!message) return;
  const before = submitter.stats();
  submitter.log(els.submitLevel.value, message, { source: "dashboard" });
  els.submitStatus.textContent = "sending…";
  els.submitStatus.dataset.result = "pending";
  await submitter.flush();  // never rejects: failures are counted as drops
  const after = submitter.stats();
  const result = describeSubmit(before, after);
  els.submitStatus.textContent = result.text;
  els.submitStatus.dataset.result = result.ok ? "ok" : "error";
  if (result.ok) els.submitMessage.value = "";
});

function describeSubmit(before: SubmitterStats, after: SubmitterStats): { ok: boolean; text: string } {
  const sent = after.sent - before.sent;
  const dropped = after.dropped - before.dropped;
  if (dropped > 0) {
    const reasons = Object.entries(after.droppedByReason)
      .map(([k, v]) => [k, v - (before.droppedByReason[k] ?? 0)] as const)
      .filter(([, d]) => d > 0)
      .map(([k, d]) => `${k} ×${d}`);
    return { ok: false, text: `refused: ${dropped} dropped (${reasons.join(", ")})` };
  }
  if (sent > 0) return { ok: true, text: `sent (${after.sent} sent, ${after.dropped} dropped so far)` };
  return { ok: false, text: `not sent yet (${after.queued} queued, ${after.retries} retries)` };
}

// ---- rates, test hooks, start ----------------------------------------------------

setInterval(() => requestAnimationFrame(() => rates.draw()), 1000);

declare global {
  interface Window {
    hydraDashboard: unknown;
  }
}
window.hydraDashboard = {
  client,
  submitter,
  store,
  list,
  stats: () => ({
    ...store.counters(),
    queued: intake.length,
    domRows: list.domRowCount(),
    follow: list.follow,
    newCount: list.newCount,
    state: client.state,
    cursor: { ...client.cursor },
    subscription,
    submitter: submitter.stats(),
  }),
};

void start();
