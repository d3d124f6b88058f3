// BridgeClient: a live view of a Hydra bridge over WebSocket (protocol v1,
// docs/bridge-protocol.md). Works with the browser's WebSocket or any
// constructor of the same shape (Node: the `ws` package).
import { EventQueue } from "./events.js";
import {
  BridgeError,
  type BridgeEvent,
  type ClientState,
  type Filter,
  type LogRecord,
  type SubmitResult,
  type SubmittedRecord,
  type Welcome,
} from "./types.js";
import { backoffDelay, base64url, parseSeq } from "./util.js";

export const CLIENT_NAME = "hydra-ts/0.1.0";

/** Close codes after which the client does not reconnect by itself: the same hello, token or
 * filter would be refused again (hello_first, unauthenticated, forbidden, filter_too_costly,
 * subscription_expired). */
export const TERMINAL_CLOSE_CODES: readonly number[] = [4400, 4401, 4403, 4413, 4430];

export interface ClientOptions {
  /** The bridge's WebSocket, e.g. "ws://127.0.0.1:9020/ws". */
  url: string;
  /** Sent as the extra subprotocol `hydra.token.<base64url(token)>` and in `hello`. */
  token?: string;
  /** hello.backlog: the last N records the bridge holds, for a stream without a cursor. */
  backlog?: number;
  /** A cursor to start from (stream -> last seq received), e.g. another client's `cursor`. */
  resume?: Record<string, number | string>;
  /** Reconnect after an unexpected drop (default true). */
  reconnect?: boolean;
  /** A WebSocket constructor; default globalThis.WebSocket. Node 20: `import WebSocket from "ws"`. */
  WebSocket?: any;
  /** Passed as the constructor's third argument (Node `ws`: { origin, headers, ... }). */
  wsOptions?: unknown;
  /** hello.client (default "hydra-ts/0.1.0"). */
  client?: string;
  /** Reconnect backoff: full jitter, random() * min(cap, base * 2^attempt). */
  backoffBaseMs?: number; // default 250
  backoffCapMs?: number; // default 10000
  /** How long an attempt may take from the constructor to `welcome` (default 10000). */
  connectTimeoutMs?: number;
  /** For tests; default Math.random. */
  random?: () => number;
}

export interface SubscribeOptions {
  id?: string;
  sample?: { limit: number; per_ms?: number };
}

interface Subscription {
  id: string;
  filter: Filter;
  sample?: { limit: number; per_ms?: number };
}

interface Pending {
  kind: "subscribe" | "unsubscribe" | "submit";
  resolve: (value: never) => void;
  reject: (error: BridgeError) => void;
}

// The minimal shape used of a WebSocket (browser or `ws`).
interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate?: () => void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: { message?: string; error?: { message?: string } }) => void) | null;
}

const OPEN = 1;
const CONNECTING = 0;

type Timer = ReturnType<typeof setTimeout>;

/**
 * One record of a `records` frame (as the bridge sent it) as a LogRecord;
 * undefined for what is not a record. Exported for pages that take a frame's
 * records themselves (the dashboard decodes them in time slices).
 */
export function decodeRecord(stream: string, raw: unknown): LogRecord | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const seq = parseSeq(r.seq);
  return {
    seq: seq === undefined ? NaN : Number(seq),
    stream,
    time: str(r.time),
    level: str(r.level),
    layer: str(r.layer),
    logger: str(r.logger),
    message: str(r.message),
    redacted: Array.isArray(r.redacted) ? (r.redacted as Array<[number, number, string]>) : [],
    fields: r.fields && typeof r.fields === "object" ? (r.fields as Record<string, unknown>) : {},
    service: str(r.service),
    tenant: str(r.tenant),
    sub: Array.isArray(r.sub) ? r.sub.map(str) : [],
  };
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v == null ? "" : String(v);
}

function toNumber(v: bigint | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

function decodeText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  try {
    if (data instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(data));
    if (ArrayBuffer.isView(data)) {
      return new TextDecoder().decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export class BridgeClient {
  private readonly url: string;
  private readonly token?: string;
  private readonly backlog?: number;
  private readonly reconnectEnabled: boolean;
  private readonly WS: any;
  private readonly wsOptions: unknown;
  private readonly clientName: string;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly connectTimeoutMs: number;
  private readonly random: () => number;

  private ws: SocketLike | null = null;
  private generation = 0; // bumped for each socket; handlers of older sockets are ignored
  private welcomed = false; // the current socket got its welcome
  private reconnecting = false; // the current attempt is a reconnect
  private socketError = "";
  private currentState: ClientState = "closed";
  private reconnectCount = 0;
  private attempt = 0;
  private nextId = 0;
  private userClosed = false;
  private readonly cursorMap = new Map<string, bigint>();
  private readonly subs = new Map<string, Subscription>();
  private readonly resubscribing = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<(e: BridgeEvent) => void>();
  private readonly queues = new Set<EventQueue<BridgeEvent>>();
  private connectWaiters: Array<{ resolve: (w: Welcome) => void; reject: (e: BridgeError) => void }> = [];
  private closeWaiter: (() => void) | null = null;
  private silenceTimer: Timer | null = null;
  private connectTimer: Timer | null = null;
  private reconnectTimer: Timer | null = null;
  private lastWelcome?: Welcome;

  /** The last `error` frame that no request was waiting for (e.g. rate_limited without an id). */
  lastError?: BridgeError;

  constructor(options: ClientOptions) {
    if (!options || typeof options.url !== "string") throw new TypeError("BridgeClient: options.url is required");
    this.url = options.url;
    this.token = options.token;
    this.backlog = options.backlog;
    this.reconnectEnabled = options.reconnect ?? true;
    this.WS = options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    this.wsOptions = options.wsOptions;
    this.clientName = options.client ?? CLIENT_NAME;
    this.backoffBaseMs = options.backoffBaseMs ?? 250;
    this.backoffCapMs = options.backoffCapMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    for (const [stream, seq] of Object.entries(options.resume ?? {})) {
      const s = parseSeq(seq);
      if (s !== undefined) this.cursorMap.set(stream, s);
    }
  }

  /** Stream -> the last seq seen (records' seq, frames' to_seq, heartbeat cursors). A copy. */
  get cursor(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [stream, seq] of this.cursorMap) out[stream] = Number(seq);
    return out;
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** Reconnections that reached `welcome`. */
  get reconnects(): number {
    return this.reconnectCount;
  }

  /** The last `welcome` (its `stream` names the stream the bridge serves). */
  get welcome(): Welcome | undefined {
    return this.lastWelcome;
  }

  /**
   * Opens the connection; resolves with `welcome`. Rejects with a BridgeError
   * whose code is the close code (e.g. 4401) when the socket closes first.
   * Subscriptions made before connect() are sent right after `hello`.
   */
  connect(): Promise<Welcome> {
    if (this.currentState === "open" && this.lastWelcome) return Promise.resolve(this.lastWelcome);
    const p = new Promise<Welcome>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this.currentState === "closed") {
      this.userClosed = false;
      this.attempt = 0;
      this.reconnecting = false;
      this.setState("connecting");
      this.openSocket();
    }
    return p;
  }

  /**
   * Subscribes; resolves with the id on `subscribed`, rejects with
   * BridgeError(code = the error frame's code). The subscription is kept and
   * sent again after every reconnect. Before connect() (or while
   * reconnecting) it is sent as soon as the connection is up.
   */
  subscribe(filter: Filter = {}, opts: SubscribeOptions = {}): Promise<string> {
    const id = opts.id ?? `s${++this.nextId}`;
    if (this.pending.has(id)) return Promise.reject(new BridgeError("bad_frame", `a request with id '${id}' is pending`));
    const sub: Subscription = { id, filter };
    if (opts.sample) sub.sample = opts.sample;
    return new Promise<string>((resolve, reject) => {
      this.pending.set(id, { kind: "subscribe", resolve: resolve as (v: never) => void, reject });
      this.subs.set(id, sub);
      if (this.helloSent()) this.sendSubscribe(sub);
    });
  }

  /** Ends a subscription (resolves on `unsubscribed`, or at once when not connected). */
  unsubscribe(id: string): Promise<void> {
    const known = this.subs.delete(id);
    this.resubscribing.delete(id);
    const waiting = this.pending.get(id);
    if (waiting?.kind === "subscribe") {
      this.pending.delete(id);
      waiting.reject(new BridgeError("unsubscribed", `subscription '${id}' was ended before the bridge confirmed it`));
    }
    if (!this.helloSent() || !this.ws) return Promise.resolve();
    if (!known && !waiting) return Promise.reject(new BridgeError("bad_frame", `no subscription with id '${id}'`));
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { kind: "unsubscribe", resolve: resolve as (v: never) => void, reject });
      this.send({ type: "unsubscribe", id });
    });
  }

  /** Submits records over the WebSocket (a `submit` frame); resolves with the `ack`. Needs role submitter or admin. */
  submit(records: SubmittedRecord[]): Promise<SubmitResult> {
    if (this.currentState !== "open" || !this.ws) {
      return Promise.reject(new BridgeError("not_connected", "the client is not connected"));
    }
    const id = `b${++this.nextId}`;
    return new Promise<SubmitResult>((resolve, reject) => {
      this.pending.set(id, { kind: "submit", resolve: resolve as (v: never) => void, reject });
      this.send({ type: "submit", id, records });
    });
  }

  /** Every event from now on, in order; ends after close(). */
  events(): AsyncIterableIterator<BridgeEvent> {
    const q = new EventQueue<BridgeEvent>((done) => this.queues.delete(done));
    this.queues.add(q);
    return q;
  }

  /** Calls `listener` with every event from now on; returns a function that stops it. */
  onEvent(listener: (e: BridgeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Closes the connection (1000 bye) and stops reconnecting; ends events(). */
  async close(): Promise<void> {
    this.userClosed = true;
    this.clearTimers();
    const ws = this.ws;
    if (ws && (ws.readyState === OPEN || ws.readyState === CONNECTING)) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        this.closeWaiter = () => {
          clearTimeout(t);
          resolve();
        };
        try {
          ws.close(1000, "bye");
        } catch {
          clearTimeout(t);
          resolve();
        }
      });
    }
    this.closeWaiter = null;
    this.generation++;
    this.ws = null;
    this.welcomed = false;
    const closed = new BridgeError(1000, "closed by the client");
    for (const w of this.connectWaiters.splice(0)) w.reject(closed);
    this.failPending(closed);
    this.subs.clear();
    this.resubscribing.clear();
    if (this.currentState !== "closed") this.setState("closed", 1000, "bye");
    for (const q of this.queues) q.end();
    this.queues.clear();
  }

  // -- the socket --------------------------------------------------------

  private helloSent(): boolean {
    return this.ws !== null && this.ws.readyState === OPEN;
  }

  private openSocket(): void {
    const gen = ++this.generation;
    this.welcomed = false;
    this.socketError = "";
    if (typeof this.WS !== "function") {
      this.afterClose(gen, 1006, "no WebSocket constructor: pass options.WebSocket (Node: the `ws` package)");
      return;
    }
    const protocols = ["hydra.v1"];
    if (this.token) protocols.push(`hydra.token.${base64url(this.token)}`);
    let ws: SocketLike;
    try {
      ws = this.wsOptions !== undefined ? new this.WS(this.url, protocols, this.wsOptions) : new this.WS(this.url, protocols);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.ws = null;
      // Asynchronously, like a socket that failed to connect.
      setTimeout(() => this.afterClose(gen, 1006, message), 0);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (gen !== this.generation) return;
      this.sendHello();
    };
    ws.onmessage = (ev) => {
      if (gen !== this.generation) return;
      const text = decodeText(ev.data);
      if (text !== undefined) this.onFrame(text);
    };
    ws.onerror = (ev) => {
      if (gen !== this.generation) return;
      this.socketError = str(ev?.message ?? ev?.error?.message);
    };
    ws.onclose = (ev) => {
      if (this.closeWaiter && gen === this.generation) this.closeWaiter();
      if (gen !== this.generation) return;
      this.afterClose(gen, typeof ev?.code === "number" ? ev.code : 1006, str(ev?.reason) || this.socketError);
    };
    this.connectTimer = setTimeout(() => {
      if (gen !== this.generation || this.welcomed) return;
      this.drop(gen, 1006, `no welcome within ${this.connectTimeoutMs} ms`);
    }, this.connectTimeoutMs);
  }

  private sendHello(): void {
    const hello: Record<string, unknown> = { type: "hello", protocol: 1, client: this.clientName };
    if (this.token) hello.token = this.token;
    if (this.cursorMap.size > 0) {
      const resume: Record<string, string> = {};
      for (const [stream, seq] of this.cursorMap) resume[stream] = seq.toString();
      hello.resume = resume;
    }
    if (this.backlog !== undefined) hello.backlog = this.backlog;
    this.send(hello);
    // The subscriptions right behind hello (the bridge takes frames in order),
    // so that nothing between welcome and subscribe moves the cursor.
    this.resubscribing.clear();
    for (const sub of this.subs.values()) {
      if (this.reconnecting && !this.pending.has(sub.id)) this.resubscribing.add(sub.id);
      this.sendSubscribe(sub);
    }
  }

  private sendSubscribe(sub: Subscription): void {
    const frame: Record<string, unknown> = { type: "subscribe", id: sub.id, filter: sub.filter };
    if (sub.sample) frame.sample = sub.sample;
    this.send(frame);
  }

  private send(frame: unknown): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    try {
      ws.send(JSON.stringify(frame));
    } catch (e) {
      this.socketError = e instanceof Error ? e.message : String(e);
    }
  }

  /** Treats the current socket as gone (silence, no welcome): closes it without waiting. */
  private drop(gen: number, code: number, reason: string): void {
    const ws = this.ws;
    this.generation++;
    if (ws) {
      try {
        if (typeof ws.terminate === "function") ws.terminate();
        else ws.close(4000, "dropped");
      } catch {
        // already gone
      }
    }
    this.afterClose(gen, code, reason, true);
  }

  private afterClose(gen: number, code: number, reason: string, dropped = false): void {
    if (!dropped && gen !== this.generation) return;
    this.ws = null;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.connectTimer = this.silenceTimer = null;
    const wasWelcomed = this.welcomed;
    this.welcomed = false;
    if (this.userClosed) return;
    // Requests that only this connection could answer.
    for (const [id, p] of this.pending) {
      if (p.kind === "submit") {
        this.pending.delete(id);
        p.reject(new BridgeError("disconnected", `the connection closed (${code} ${reason}) before the ack`));
      } else if (p.kind === "unsubscribe") {
        this.pending.delete(id);
        (p.resolve as (v: void) => void)(undefined);
      }
    }
    const initial = !this.reconnecting && !wasWelcomed;
    const terminal = TERMINAL_CLOSE_CODES.includes(code) || !this.reconnectEnabled;
    if (initial || terminal) {
      const error = new BridgeError(code, reason || "the connection closed");
      for (const w of this.connectWaiters.splice(0)) w.reject(error);
      this.failPending(error);
      this.resubscribing.clear();
      this.reconnecting = false;
      this.setState("closed", code, reason);
      return;
    }
    // An unexpected drop (or a failed attempt): again, after a backoff.
    this.reconnecting = true;
    if (this.currentState !== "reconnecting") this.setState("reconnecting", code, reason);
    const delay = backoffDelay(this.attempt++, this.backoffBaseMs, this.backoffCapMs, this.random);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.userClosed) return;
      this.openSocket();
    }, delay);
  }

  /** Every waiting request ends: subscribes and submits reject, unsubscribes resolve. */
  private failPending(error: BridgeError): void {
    for (const [id, p] of this.pending) {
      if (p.kind === "subscribe") {
        this.subs.delete(id);
        p.reject(error);
      } else if (p.kind === "submit") {
        p.reject(error);
      } else {
        (p.resolve as (v: void) => void)(undefined);
      }
      this.pending.delete(id);
    }
  }

  private clearTimers(): void {
    for (const t of [this.silenceTimer, this.connectTimer, this.reconnectTimer]) if (t) clearTimeout(t);
    this.silenceTimer = this.connectTimer = this.reconnectTimer = null;
  }

  private armSilence(): void {
    if (!this.lastWelcome) return;
    const hb = Number(this.lastWelcome.heartbeat_ms);
    if (!(hb > 0)) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const gen = this.generation;
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = null;
      if (gen !== this.generation || !this.welcomed) return;
      this.drop(gen, 1006, `no frame for ${2 * hb} ms (2 x heartbeat_ms)`);
    }, 2 * hb);
  }

  private setState(state: ClientState, code?: number, reason?: string): void {
    this.currentState = state;
    const e: BridgeEvent = { kind: "state", state };
    if (code !== undefined) e.code = code;
    if (reason !== undefined && reason !== "") e.reason = reason;
    this.emit(e);
  }

  private emit(e: BridgeEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener's exception is its own
      }
    }
    for (const q of this.queues) q.push(e);
  }

  private advance(stream: string, seq: bigint | undefined): void {
    if (seq === undefined || !stream) return;
    const had = this.cursorMap.get(stream);
    if (had === undefined || seq > had) this.cursorMap.set(stream, seq);
  }

  private maybeOpen(): void {
    if (this.welcomed && this.reconnecting && this.resubscribing.size === 0) {
      this.reconnecting = false;
      this.attempt = 0;
      this.reconnectCount++;
      this.setState("open");
    }
  }

  // -- frames ------------------------------------------------------------

  private onFrame(text: string): void {
    if (this.welcomed) this.armSilence();
    let frame: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return;
      frame = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    const id = typeof frame.id === "string" ? frame.id : frame.id != null ? String(frame.id) : "";
    switch (frame.type) {
      case "welcome": {
        this.lastWelcome = frame as unknown as Welcome;
        this.welcomed = true;
        if (this.connectTimer) clearTimeout(this.connectTimer);
        this.connectTimer = null;
        this.armSilence();
        for (const w of this.connectWaiters.splice(0)) w.resolve(this.lastWelcome);
        if (this.reconnecting) {
          this.maybeOpen();
        } else {
          this.attempt = 0;
          this.setState("open");
        }
        break;
      }
      case "subscribed": {
        const p = this.pending.get(id);
        if (p?.kind === "subscribe") {
          this.pending.delete(id);
          (p.resolve as (v: string) => void)(id);
        }
        if (this.resubscribing.delete(id)) this.maybeOpen();
        break;
      }
      case "unsubscribed": {
        const p = this.pending.get(id);
        if (p?.kind === "unsubscribe") {
          this.pending.delete(id);
          (p.resolve as (v: void) => void)(undefined);
        }
        break;
      }
      case "records": {
        const stream = str(frame.stream);
        const records = Array.isArray(frame.records) ? frame.records : [];
        for (const raw of records) {
          const record = decodeRecord(stream, raw);
          if (!record) continue;
          this.advance(stream, parseSeq((raw as Record<string, unknown>).seq));
          this.emit({ kind: "record", record });
        }
        this.advance(stream, parseSeq(frame.to_seq));
        break;
      }
      case "gap": {
        const stream = str(frame.stream);
        const reason = str(frame.reason);
        const from = parseSeq(frame.from_seq);
        const e: BridgeEvent = { kind: "gap", stream, fromSeq: toNumber(from) ?? NaN, reason };
        const to = toNumber(parseSeq(frame.to_seq));
        const count = toNumber(parseSeq(frame.count));
        if (to !== undefined) e.toSeq = to;
        if (count !== undefined) e.count = count;
        // A restarted process: its stream is gone, so is the cursor for it.
        if (reason === "restart") this.cursorMap.delete(stream);
        this.emit(e);
        break;
      }
      case "heartbeat": {
        const c = frame.cursor;
        if (c && typeof c === "object") {
          for (const [stream, seq] of Object.entries(c as Record<string, unknown>)) this.advance(stream, parseSeq(seq));
        }
        break;
      }
      case "ack": {
        const p = this.pending.get(id);
        if (p?.kind === "submit") {
          this.pending.delete(id);
          const result: SubmitResult = {
            accepted: typeof frame.accepted === "number" ? frame.accepted : 0,
            rejected: Array.isArray(frame.rejected) ? (frame.rejected as SubmitResult["rejected"]) : [],
          };
          (p.resolve as (v: SubmitResult) => void)(result);
        }
        break;
      }
      case "error": {
        const error = new BridgeError(
          str(frame.code) || "error",
          str(frame.message),
          typeof frame.retry_after_ms === "number" ? frame.retry_after_ms : undefined,
        );
        const p = id ? this.pending.get(id) : undefined;
        if (p) {
          this.pending.delete(id);
          if (p.kind === "subscribe") this.subs.delete(id);
          p.reject(error);
        } else {
          this.lastError = error;
        }
        if (id && this.resubscribing.delete(id)) {
          this.subs.delete(id); // refused now (e.g. a token's tenant changed): not kept
          this.maybeOpen();
        }
        break;
      }
      default:
        break; // pong and frames a later minor version adds
    }
  }
}
