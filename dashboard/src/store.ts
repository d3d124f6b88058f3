// What the page holds: the last `historyLimit` records and gap markers
// received (a ring; older ones are dropped and counted), and the view, the
// ordered subset of the history that passes the current filter. Every
// incoming record costs O(1); only a filter change walks the history.
import type { Filter, LogRecord } from "hydra-bridge-client";
import { passesLevel } from "./levels.js";
import { Ring } from "./ring.js";
import type { Span } from "./redaction.js";

export interface RecordItem {
  kind: "record";
  /** Arrival number: strictly increasing, the view's sort key. */
  n: number;
  rec: LogRecord;
  expanded: boolean;
  /** The redactions as string indices, once the row was rendered. */
  spans?: Span[];
  /** The message in lower case, once a highlight rule asked. */
  lower?: string;
}

export interface GapItem {
  kind: "gap";
  n: number;
  stream: string;
  fromSeq: number;
  toSeq?: number;
  count?: number;
  reason: string;
}

export type Item = RecordItem | GapItem;

/** The filter the user set; toWire() is what the bridge is asked for. */
export interface ViewFilter {
  layers: string[];
  minLevel: string;
  text: string;
}

export function toWire(f: ViewFilter): Filter {
  const wire: Filter = {};
  if (f.layers.length > 0) wire.layers = [...f.layers];
  if (f.minLevel) wire.min_level = f.minLevel;
  if (f.text) wire.text = f.text;
  return wire;
}

/** The bridge's text match: ASCII case-insensitive "contains". */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export interface StoreCounters {
  received: number;
  duplicates: number;
  gaps: number;
  gapRecords: number;
  gapRecordsKnown: boolean;
  restartGaps: number;
  dropped: number;
  inMemory: number;
  inView: number;
  layers: string[];
}

export class Store {
  readonly history: Ring<Item>;
  readonly view: Ring<Item>;
  filter: ViewFilter = { layers: [], minLevel: "", text: "" };
  private layerSet: Set<string> = new Set();
  private lowerLayers: Set<string> = new Set();
  private lowerText = "";
  private nextN = 1;
  private lastSeq = new Map<string, number>();
  private restarted = new Set<string>();

  // Counters over the page's life (not bounded by the ring).
  received = 0;
  duplicates = 0;
  gaps = 0;
  gapRecords = 0;
  gapRecordsKnown = true;
  restartGaps = 0;
  /** Records that fell out of memory (the ring's bound). */
  dropped = 0;

  /** Called for each item appended to the view. */
  onViewAppend: (item: Item) => void = () => {};
  /** Called for each item that left the view's front (memory bound). */
  onViewShift: (item: Item) => void = () => {};
  /** Called the first time a layer is seen. */
  onNewLayer: (layer: string) => void = () => {};

  constructor(readonly historyLimit: number) {
    this.history = new Ring<Item>(historyLimit);
    this.view = new Ring<Item>(historyLimit);
  }

  addRecord(rec: LogRecord): void {
    const last = this.lastSeq.get(rec.stream);
    if (last !== undefined && rec.seq <= last) {
      this.duplicates++;
      return;
    }
    this.lastSeq.set(rec.stream, rec.seq);
    this.received++;
    if (!this.layerSet.has(rec.layer)) {
      this.layerSet.add(rec.layer);
      this.onNewLayer(rec.layer);
    }
    this.append({ kind: "record", n: this.nextN++, rec, expanded: false });
  }

  /** False when the marker is a repeat (a restart is shown once per stream). */
  addGap(g: { stream: string; fromSeq: number; toSeq?: number; count?: number; reason: string }): boolean {
    if (g.reason === "restart") {
      if (this.restarted.has(g.stream)) return false;
      this.restarted.add(g.stream);
      this.restartGaps++;
    }
    this.gaps++;
    if (typeof g.count === "number" && Number.isFinite(g.count)) this.gapRecords += g.count;
    else if (g.reason !== "restart") this.gapRecordsKnown = false;
    this.append({ kind: "gap", n: this.nextN++, ...g });
    return true;
  }

  private append(item: Item): void {
    const evicted = this.history.push(item);
    if (evicted !== undefined) {
      if (evicted.kind === "record") this.dropped++;
      if (this.view.first() === evicted) {
        this.view.shift();
        this.onViewShift(evicted);
      }
    }
    if (this.passes(item)) {
      const fell = this.view.push(item);  // never full: the view is a subset of the history
      if (fell !== undefined) this.onViewShift(fell);
      this.onViewAppend(item);
    }
  }

  passes(item: Item): boolean {
    if (item.kind !== "record") return true;  // gaps concern the subscription: always shown
    const r = item.rec;
    if (this.lowerLayers.size > 0 && !this.lowerLayers.has(asciiLower(r.layer))) return false;
    if (!passesLevel(r.level, this.filter.minLevel)) return false;
    if (this.lowerText && !asciiLower(r.message).includes(this.lowerText)) return false;
    return true;
  }

  /** Sets the filter and rebuilds the view from the history: O(history), once. */
  setFilter(f: ViewFilter): void {
    this.filter = { layers: [...f.layers], minLevel: f.minLevel, text: f.text };
    this.lowerLayers = new Set(f.layers.map(asciiLower));
    this.lowerText = asciiLower(f.text);
    this.view.clear();
    for (const item of this.history) {
      if (this.passes(item)) this.view.push(item);
    }
  }

  /** The view index of the item with arrival number n, or -1. */
  indexOf(n: number): number {
    const i = this.view.lowerBound(n, (x) => x.n);
    const x = this.view.at(i);
    return x !== undefined && x.n === n ? i : -1;
  }

  layers(): string[] {
    return [...this.layerSet].sort();
  }

  /** The records in memory that pass the filter, as JSON Lines chunks. */
  exportLines(): string[] {
    const out: string[] = [];
    for (const item of this.history) {
      if (item.kind === "record" && this.passes(item)) out.push(JSON.stringify(item.rec) + "\n");
    }
    return out;
  }

  counters(): StoreCounters {
    return {
      received: this.received,
      duplicates: this.duplicates,
      gaps: this.gaps,
      gapRecords: this.gapRecords,
      gapRecordsKnown: this.gapRecordsKnown,
      restartGaps: this.restartGaps,
      dropped: this.dropped,
      inMemory: this.history.length,
      inView: this.view.length,
      layers: this.layers(),
    };
  }
}
