// The bridge's `records` frames are nearly all the page receives: one per
// window, up to 1 MiB (thousands of records). The SDK decodes a frame's
// records one by one inside the socket's message task and hands each over
// there, so that task grows with the frame. The page decodes them itself,
// later and in slices (see intake.ts): the socket it gives the SDK passes a
// `records` frame on without its records. The SDK still sees every frame
// (it moves its cursor to the frame's `to_seq`, as it does after the
// records, and knows the connection is alive); everything else (hello,
// subscriptions, gaps, heartbeats, reconnecting) stays the SDK's.
import { decodeRecord } from "hydra-bridge-client";

/** A `records` frame's records, as the bridge sent them (JSON objects). */
export type RecordsHandler = (stream: string, records: unknown[]) => void;

/** A record as the SDK hands it over (the SDK's own decoding). */
export { decodeRecord };

/** The frame the SDK gets instead: no records, the same stream and cursor. */
function withoutRecords(frame: Record<string, unknown>, records: unknown[]): string {
  let toSeq = frame.to_seq;
  if (toSeq === undefined && records.length > 0) {
    // The records are in seq order: the last one's is where the SDK's cursor would be.
    toSeq = (records[records.length - 1] as Record<string, unknown> | null)?.seq;
  }
  return JSON.stringify({ type: "records", stream: frame.stream, to_seq: toSeq, records: [] });
}

function recordsFrame(text: string): Record<string, unknown> | undefined {
  try {
    const frame: unknown = JSON.parse(text);
    if (!frame || typeof frame !== "object") return undefined;
    const f = frame as Record<string, unknown>;
    return f.type === "records" && Array.isArray(f.records) ? f : undefined;
  } catch {
    return undefined;  // the SDK's parse says the same and ignores it
  }
}

/**
 * A WebSocket constructor for the SDK's `WebSocket` option: its sockets give
 * the records of each `records` frame to `onRecords` (in the message task:
 * it should only queue them) and then the frame without them to the SDK.
 */
export function recordsTakingSocket(onRecords: RecordsHandler): new (url: string, protocols?: string | string[]) => WebSocket {
  function RecordsTakingSocket(url: string, protocols?: string | string[]): WebSocket {
    const ws = new WebSocket(url, protocols);
    // Added before the SDK sets its onmessage, so it runs first and can stand in for it.
    ws.addEventListener("message", (ev: MessageEvent) => {
      const sdk = ws.onmessage;
      if (!sdk || typeof ev.data !== "string") return;
      const frame = recordsFrame(ev.data);
      if (!frame) return;  // any other frame: the SDK's, as it came
      ev.stopImmediatePropagation();
      const records = frame.records as unknown[];
      onRecords(String(frame.stream ?? ""), records);  // as the SDK reads it
      sdk.call(ws, new MessageEvent("message", { data: withoutRecords(frame, records) }));
    });
    return ws;
  }
  return RecordsTakingSocket as unknown as new (url: string, protocols?: string | string[]) => WebSocket;
}
