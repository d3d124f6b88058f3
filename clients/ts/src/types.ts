// The shapes of protocol v1 (docs/bridge-protocol.md) as the SDK hands them out.

/** A subscription's filter: every key optional, all given must match (AND); `layers` is a set (OR). */
export interface Filter {
  layers?: string[];
  min_level?: string;
  logger?: string;
  service?: string;
  tenant?: string;
  text?: string;
  /** RE2 syntax, at most 256 bytes. */
  regex?: string;
  fields?: Record<string, string | number | boolean>;
}

/** One record the bridge served (its `seq` as a number; the wire carries it as a decimal string). */
export interface LogRecord {
  seq: number;
  stream: string;
  time: string;
  level: string;
  layer: string;
  logger: string;
  message: string;
  /** [begin, end, type]: byte ranges of `message` that the protect stage replaced ([] when none). */
  redacted: Array<[number, number, string]>;
  fields: Record<string, unknown>;
  service: string;
  tenant: string;
  /** The ids of the subscriptions the record matched. */
  sub: string[];
}

export type ClientState = "connecting" | "open" | "reconnecting" | "closed";

export type BridgeEvent =
  | { kind: "record"; record: LogRecord }
  | { kind: "gap"; stream: string; fromSeq: number; toSeq?: number; count?: number; reason: string }
  | { kind: "state"; state: ClientState; code?: number; reason?: string };

/** The bridge's `welcome` frame. */
export interface Welcome {
  protocol: number;
  role: string;
  tenant: string;
  stream: string;
  heartbeat_ms: number;
  limits: Record<string, number>;
  [k: string]: unknown;
}

/** A record as an SDK submits it (a `submit` frame or POST /intake). */
export interface SubmittedRecord {
  level?: string;
  message: string;
  time?: string;
  fields?: Record<string, unknown>;
  session?: string;
  page?: string;
  user_agent?: string;
  trace_id?: string;
  span_id?: string;
}

/** The bridge's answer to a submitted batch. */
export interface SubmitResult {
  accepted: number;
  rejected: Array<{ index: number; reason: string; message?: string }>;
}

/** A bridge `error` frame, a close before `welcome`, or an HTTP error, as an exception. */
export class BridgeError extends Error {
  /** The error frame's code (e.g. "forbidden"), or the WebSocket close code (e.g. 4401). */
  code: string | number;
  /** From `retry_after_ms` (error frames) when the bridge gave one. */
  retryAfterMs?: number;

  constructor(code: string | number, message?: string, retryAfterMs?: number) {
    super(message ? `${code}: ${message}` : String(code));
    this.name = "BridgeError";
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}
