// Submitter: batches records from a page (or any JS program) and posts them
// to the bridge's POST /intake (docs/bridge-protocol.md, `submit`), with
// bounded memory, retries that honour Retry-After, and sendBeacon for the
// moment a page goes away.
import type { SubmittedRecord } from "./types.js";
import { backoffDelay, parseRetryAfter, randomId, utf8Length } from "./util.js";

type TimerHandle = unknown;

export interface SubmitterOptions {
  /** The bridge's HTTP base, e.g. "http://127.0.0.1:9020" (POST {baseUrl}/intake). */
  baseUrl: string;
  /** fetch: `Authorization: Bearer <token>`; sendBeacon: `?token=<token>` in the URL. */
  token?: string;
  /** Records a batch (default 50). */
  maxBatchRecords?: number;
  /** JSON bytes of a batch's body (default 16384). */
  maxBatchBytes?: number;
  /** A flush this long after the first queued record (default 1000). */
  flushIntervalMs?: number;
  /** Bytes queued at most (default 1 MiB); past it new records are dropped ("queue_full"). */
  maxQueueBytes?: number;
  /** Retries of a batch (default 5); then it is dropped ("retries_exhausted"). */
  maxRetries?: number;
  /** Put on every record (default: a random id). */
  session?: string;
  /** The page of each record (default: location.pathname when there is one). */
  page?: () => string;
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Default navigator.sendBeacon, bound, when there is one. */
  sendBeacon?: (url: string, body: string) => boolean;
  /** Retry backoff (full jitter): random() * min(cap, base * 2^attempt); Retry-After is the minimum. */
  backoffBaseMs?: number; // default 500
  backoffCapMs?: number; // default 30000
  random?: () => number;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => TimerHandle;
  clearTimeout?: (handle: TimerHandle) => void;
}

export interface SubmitterStats {
  queued: number;
  queuedBytes: number;
  sent: number;
  dropped: number;
  droppedByReason: Record<string, number>;
  retries: number;
}

interface Queued {
  record: SubmittedRecord;
  json: string;
  bytes: number;
}

// A batch being delivered by flush(): taken off the queue, still counted as queued.
interface Batch {
  items: Queued[];
  bytes: number;
  sending: boolean; // a request is in flight (else: waiting to retry)
  abandoned: boolean; // flushWithBeacon took it while it waited
}

const BEACON_MAX_BYTES = 60 * 1024;
const BRIDGE_MAX_RECORDS = 500; // the bridge's default limits.submit_records
const ENVELOPE = '{"type":"submit","records":[]}';
const ENVELOPE_BYTES = ENVELOPE.length;

function bodyOf(items: Queued[]): string {
  return '{"type":"submit","records":[' + items.map((q) => q.json).join(",") + "]}";
}

function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { "error.type": error.name || "Error", "error.message": error.message, "error.stack": error.stack ?? "" };
  }
  return { "error.type": typeof error, "error.message": describe(error) };
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s;
  } catch {
    return String(value);
  }
}

export class Submitter {
  private readonly baseUrl: string;
  private readonly token?: string;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueueBytes: number;
  private readonly maxRetries: number;
  private readonly session: string;
  private readonly page: () => string | undefined;
  private readonly fetchFn?: typeof fetch;
  private readonly beacon?: (url: string, body: string) => boolean;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;

  private queue: Queued[] = [];
  private queueOnlyBytes = 0; // of `queue` (the batch being delivered is in `current`)
  private current: Batch | null = null;
  private timer: TimerHandle | null = null;
  private draining: Promise<void> | null = null;
  private closed = false;
  private capturing = false;
  private readonly counters = { sent: 0, dropped: 0, retries: 0 };
  private readonly droppedBy: Record<string, number> = {};

  constructor(options: SubmitterOptions) {
    if (!options || typeof options.baseUrl !== "string") throw new TypeError("Submitter: options.baseUrl is required");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.token = options.token;
    this.maxBatchRecords = Math.max(1, Math.min(options.maxBatchRecords ?? 50, BRIDGE_MAX_RECORDS));
    this.maxBatchBytes = Math.max(256, options.maxBatchBytes ?? 16384);
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxQueueBytes = options.maxQueueBytes ?? 1 << 20;
    this.maxRetries = options.maxRetries ?? 5;
    this.session = options.session ?? randomId();
    const g = globalThis as {
      location?: { pathname?: string };
      navigator?: { sendBeacon?: (url: string, body: string) => boolean };
      fetch?: typeof fetch;
    };
    this.page = options.page ?? (() => (typeof g.location?.pathname === "string" ? g.location.pathname : undefined));
    this.fetchFn = options.fetch ?? (typeof g.fetch === "function" ? g.fetch.bind(globalThis) : undefined);
    if (options.sendBeacon) this.beacon = options.sendBeacon;
    else if (g.navigator && typeof g.navigator.sendBeacon === "function") {
      this.beacon = g.navigator.sendBeacon.bind(g.navigator);
    }
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffCapMs = options.backoffCapMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => Date.now());
    this.setTimer = options.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Queues one record (session and page added); a flush follows by size or by time. */
  log(
    level: string,
    message: string,
    fields?: Record<string, unknown>,
    extra?: { trace_id?: string; span_id?: string },
  ): void {
    if (this.closed) {
      this.drop(1, "closed");
      return;
    }
    const record: SubmittedRecord = { level, message: String(message), time: new Date(this.now()).toISOString() };
    if (fields && Object.keys(fields).length > 0) record.fields = fields;
    record.session = this.session;
    let page: string | undefined;
    try {
      page = this.page();
    } catch {
      page = undefined;
    }
    if (typeof page === "string" && page !== "") record.page = page;
    if (extra?.trace_id) record.trace_id = extra.trace_id;
    if (extra?.span_id) record.span_id = extra.span_id;
    this.enqueue(record);
  }

  /** Sends everything queued (POST {baseUrl}/intake, keepalive), honouring retries. */
  flush(): Promise<void> {
    this.cancelTimer();
    if (this.draining) {
      // The running drain takes what is queued meanwhile too; whatever it
      // missed at its very end, the next round does.
      return this.draining.then(() => (this.queue.length > 0 ? this.flush() : undefined));
    }
    if (this.queue.length === 0) return Promise.resolve();
    const run: Promise<void> = this.drain().finally(() => {
      if (this.draining === run) this.draining = null;
      if (this.queue.length > 0) this.armTimer();
    });
    this.draining = run;
    return run;
  }

  /**
   * Hands the queue to sendBeacon (string bodies, batches of at most 60 KiB,
   * the token in the URL); a batch sendBeacon refuses (or every batch, without
   * sendBeacon) goes by fetch with keepalive. True when every batch was handed
   * over. For pagehide / visibilitychange: it does not wait.
   */
  flushWithBeacon(): boolean {
    this.cancelTimer();
    const items: Queued[] = [];
    if (this.current && !this.current.sending && !this.current.abandoned) {
      // A batch waiting to retry would not outlive the page.
      this.current.abandoned = true;
      items.push(...this.current.items);
    }
    items.push(...this.queue);
    this.queue = [];
    this.queueOnlyBytes = 0;
    if (items.length === 0) return true;
    let ok = true;
    const url = this.baseUrl + "/intake" + (this.token ? "?token=" + encodeURIComponent(this.token) : "");
    for (const batch of this.split(items, BEACON_MAX_BYTES, BRIDGE_MAX_RECORDS)) {
      const body = bodyOf(batch);
      let handed = false;
      if (this.beacon) {
        try {
          handed = this.beacon(url, body) === true;
        } catch {
          handed = false;
        }
      }
      if (handed) {
        this.counters.sent += batch.length;
        continue;
      }
      if (!this.fetchFn) {
        ok = false;
        this.drop(batch.length, "beacon_refused");
        continue;
      }
      const n = batch.length;
      try {
        this.fetchFn(this.baseUrl + "/intake", this.requestInit(body))
          .then((res) => {
            if (res.status >= 200 && res.status < 300) this.counters.sent += n;
            else this.drop(n, `http_${res.status}`);
          })
          .catch(() => this.drop(n, "network"));
      } catch {
        ok = false;
        this.drop(n, "network");
      }
    }
    return ok;
  }

  /** flushWithBeacon on `visibilitychange` to hidden and on `pagehide` (never `unload`); returns the uninstaller. */
  installPageLifecycle(): () => void {
    const g = globalThis as {
      document?: EventTarget & { visibilityState?: string };
      window?: EventTarget;
      addEventListener?: EventTarget["addEventListener"];
      removeEventListener?: EventTarget["removeEventListener"];
    };
    const doc = g.document;
    const win: EventTarget | undefined = g.window ?? (typeof g.addEventListener === "function" ? (g as EventTarget) : undefined);
    const onVisibility = () => {
      if (doc?.visibilityState === "hidden") this.flushWithBeacon();
    };
    const onPageHide = () => {
      this.flushWithBeacon();
    };
    doc?.addEventListener("visibilitychange", onVisibility);
    win?.addEventListener("pagehide", onPageHide);
    return () => {
      doc?.removeEventListener("visibilitychange", onVisibility);
      win?.removeEventListener("pagehide", onPageHide);
    };
  }

  /** Opt-in: console.error also logs a record of level "error"; returns the restorer. */
  captureConsoleErrors(): () => void {
    const con = (globalThis as { console?: Console }).console;
    if (!con) return () => {};
    const original = con.error;
    const wrapper = (...args: unknown[]) => {
      original.apply(con, args);
      if (this.capturing) return; // an error while logging one
      this.capturing = true;
      try {
        const error = args.find((a) => a instanceof Error);
        const message = args.map(describe).join(" ");
        this.log("error", message, { "error.source": "console", ...(error ? errorFields(error) : {}) });
      } catch {
        // never throw out of console.error
      } finally {
        this.capturing = false;
      }
    };
    con.error = wrapper;
    return () => {
      if (con.error === wrapper) con.error = original;
    };
  }

  /** Opt-in: window `error` and `unhandledrejection` as records of level "error"; returns the uninstaller. */
  captureGlobalErrors(): () => void {
    const g = globalThis as { window?: EventTarget; addEventListener?: unknown };
    const win: EventTarget | undefined = g.window ?? (typeof g.addEventListener === "function" ? (g as unknown as EventTarget) : undefined);
    if (!win) return () => {};
    const onError = (ev: Event) => {
      const e = ev as ErrorEvent;
      const fields: Record<string, unknown> = { "error.source": "window.error" };
      if (e.error !== undefined && e.error !== null) Object.assign(fields, errorFields(e.error));
      else Object.assign(fields, { "error.type": "Error", "error.message": e.message ?? "" });
      if (e.filename) fields["error.file"] = e.filename;
      if (e.lineno) fields["error.line"] = e.lineno;
      if (e.colno) fields["error.column"] = e.colno;
      this.log("error", e.message || String(fields["error.message"] ?? "error"), fields);
    };
    const onRejection = (ev: Event) => {
      const reason = (ev as PromiseRejectionEvent).reason;
      const fields: Record<string, unknown> = { "error.source": "unhandledrejection", ...errorFields(reason) };
      this.log("error", "unhandled rejection: " + describe(reason), fields);
    };
    win.addEventListener("error", onError);
    win.addEventListener("unhandledrejection", onRejection);
    return () => {
      win.removeEventListener("error", onError);
      win.removeEventListener("unhandledrejection", onRejection);
    };
  }

  stats(): SubmitterStats {
    const inBatch = this.current && !this.current.abandoned ? this.current.items.length : 0;
    return {
      queued: this.queue.length + inBatch,
      queuedBytes: this.queuedBytes(),
      sent: this.counters.sent,
      dropped: this.counters.dropped,
      droppedByReason: { ...this.droppedBy },
      retries: this.counters.retries,
    };
  }

  /** Flushes what is queued; later log() calls are dropped ("closed"). */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer();
    await this.flush();
  }

  // -- internals -----------------------------------------------------------

  private enqueue(record: SubmittedRecord): void {
    let json: string;
    try {
      json = JSON.stringify(record);
    } catch {
      record.fields = { unserializable: describe(record.fields) };
      json = JSON.stringify(record);
    }
    const bytes = utf8Length(json);
    if (this.queuedBytes() + bytes > this.maxQueueBytes) {
      this.drop(1, "queue_full");
      return;
    }
    this.queue.push({ record, json, bytes });
    this.queueOnlyBytes += bytes;
    const batchBytes = ENVELOPE_BYTES + this.queueOnlyBytes + this.queue.length - 1;
    if (this.queue.length >= this.maxBatchRecords || batchBytes >= this.maxBatchBytes) {
      void this.flush().catch(() => {});
    } else if (!this.draining) {
      this.armTimer();
    }
  }

  private armTimer(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.flush().catch(() => {});
    }, this.flushIntervalMs);
  }

  private queuedBytes(): number {
    return this.queueOnlyBytes + (this.current && !this.current.abandoned ? this.current.bytes : 0);
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      this.clearTimer(this.timer);
      this.timer = null;
    }
  }

  private drop(n: number, reason: string): void {
    this.counters.dropped += n;
    this.droppedBy[reason] = (this.droppedBy[reason] ?? 0) + n;
  }

  /** Splits into batches of at most maxBytes of body and maxRecords (a single larger record goes alone). */
  private split(items: Queued[], maxBytes: number, maxRecords: number): Queued[][] {
    const out: Queued[][] = [];
    let batch: Queued[] = [];
    let bytes = ENVELOPE_BYTES;
    for (const q of items) {
      const add = q.bytes + (batch.length > 0 ? 1 : 0);
      if (batch.length > 0 && (batch.length >= maxRecords || bytes + add > maxBytes)) {
        out.push(batch);
        batch = [];
        bytes = ENVELOPE_BYTES;
      }
      bytes += q.bytes + (batch.length > 0 ? 1 : 0);
      batch.push(q);
    }
    if (batch.length > 0) out.push(batch);
    return out;
  }

  private takeBatch(): Batch | null {
    if (this.queue.length === 0) return null;
    const [first] = this.split(this.queue, this.maxBatchBytes, this.maxBatchRecords);
    this.queue.splice(0, first.length);
    let bytes = 0;
    for (const q of first) bytes += q.bytes;
    this.queueOnlyBytes -= bytes;
    return { items: first, bytes, sending: false, abandoned: false };
  }

  private requestInit(body: string): RequestInit {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.token) headers.authorization = "Bearer " + this.token;
    return { method: "POST", headers, body, keepalive: true };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(resolve, Math.max(0, ms)));
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = this.takeBatch();
      if (!batch) return;
      this.current = batch;
      try {
        await this.deliver(batch);
      } finally {
        this.current = null;
      }
    }
  }

  private async deliver(batch: Batch): Promise<void> {
    if (!this.fetchFn) {
      this.drop(batch.items.length, "no_fetch");
      return;
    }
    const body = bodyOf(batch.items);
    for (let attempt = 0; ; attempt++) {
      if (batch.abandoned) return; // flushWithBeacon sent it
      let retryAfterMs: number | undefined;
      batch.sending = true;
      try {
        const res = await this.fetchFn(this.baseUrl + "/intake", this.requestInit(body));
        batch.sending = false;
        if (res.status >= 200 && res.status < 300) {
          await this.countAck(res, batch.items.length);
          return;
        }
        const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        if (!retryable) {
          this.drop(batch.items.length, `http_${res.status}`);
          return;
        }
        retryAfterMs = parseRetryAfter(res.headers?.get?.("retry-after"), this.now());
        try {
          await res.text(); // let the connection be reused
        } catch {
          // ignore
        }
      } catch {
        batch.sending = false; // a network error: retried
      }
      if (batch.abandoned) return;
      if (attempt >= this.maxRetries) {
        this.drop(batch.items.length, "retries_exhausted");
        return;
      }
      this.counters.retries++;
      const wait = Math.max(backoffDelay(attempt, this.backoffBaseMs, this.backoffCapMs, this.random), retryAfterMs ?? 0);
      await this.sleep(wait);
    }
  }

  private async countAck(res: Response, n: number): Promise<void> {
    let ack: { accepted?: unknown; rejected?: unknown } | undefined;
    try {
      ack = JSON.parse(await res.text());
    } catch {
      ack = undefined;
    }
    if (!ack || typeof ack.accepted !== "number") {
      this.counters.sent += n;
      return;
    }
    this.counters.sent += ack.accepted;
    if (Array.isArray(ack.rejected)) {
      for (const r of ack.rejected as Array<{ reason?: unknown }>) {
        this.drop(1, typeof r?.reason === "string" ? `rejected_${r.reason}` : "rejected");
      }
    }
  }
}
